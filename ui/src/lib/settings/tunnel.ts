// What the status bar and the settings screen say about the tunnel: one short line and its tone.
import type { ReceiverStatus } from '../bindings';

export type Tone = 'ok' | 'busy' | 'bad' | 'off';

export interface TunnelLine {
  text: string;
  tone: Tone;
  /** The longer sentence (why it is offline), for a tooltip and screen readers. */
  detail: string | null;
}

export function tunnelLine(status: ReceiverStatus | null): TunnelLine {
  const tunnel = status?.tunnel ?? null;
  if (!status?.urls) return { text: 'Receiver stopped', tone: 'bad', detail: status?.error ?? null };
  if (tunnel === null) {
    return { text: 'Local only', tone: 'off', detail: 'Graph cannot reach this receiver (the simulator can); choose a tunnel in Settings.' };
  }
  switch (tunnel.state) {
    case 'connecting':
      return { text: 'Tunnel connecting…', tone: 'busy', detail: null };
    case 'online':
      return { text: 'Tunnel online', tone: 'ok', detail: tunnel.url };
    case 'reconnecting':
      return { text: 'Tunnel reconnecting…', tone: 'busy', detail: tunnel.reason };
    case 'offline':
      return { text: tunnel.retrying ? 'Tunnel offline, retrying' : 'Tunnel offline', tone: 'bad', detail: tunnel.reason };
  }
}
