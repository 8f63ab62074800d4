import type { Notification } from './bindings';

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** Local wall-clock time with milliseconds, e.g. `14:03:27.041`; the raw text when it is not a date. */
export function clockTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

/** What happened: the change type, or `lifecycle: <event>` for lifecycle notifications. */
export function eventLabel(n: Notification): string {
  if (n.lifecycleEvent) return `lifecycle: ${n.lifecycleEvent}`;
  return n.changeType ?? '(no change type)';
}

export function shortId(id: string | null): string {
  return id ? id.slice(0, 8) : '—';
}

/** The curl command that performs the validation handshake against `url`. */
export function handshakeCurl(url: string): string {
  const separator = url.includes('?') ? '&' : '?';
  return `curl -X POST '${url}${separator}validationToken=hello'`;
}
