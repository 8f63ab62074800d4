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

const two = (n: number) => pad(n, 2);

/** Time left until `iso` at `now`: `6d 23h 59m`, `4h 05m`, `4m 05s`, `12s`, or `expired`. */
export function countdown(iso: string, now: number): string {
  const left = Math.floor((new Date(iso).getTime() - now) / 1000);
  if (Number.isNaN(left)) return '—';
  if (left <= 0) return 'expired';
  const d = Math.floor(left / 86400);
  const h = Math.floor((left % 86400) / 3600);
  const m = Math.floor((left % 3600) / 60);
  const s = left % 60;
  if (d > 0) return `${d}d ${h}h ${two(m)}m`;
  if (h > 0) return `${h}h ${two(m)}m`;
  if (m > 0) return `${m}m ${two(s)}s`;
  return `${s}s`;
}

/** How long ago `iso` was at `now`: `just now`, `3 min ago`, `2 h ago`, `4 d ago`. */
export function ago(iso: string | null, now: number): string {
  if (!iso) return '—';
  const seconds = Math.floor((now - new Date(iso).getTime()) / 1000);
  if (Number.isNaN(seconds)) return '—';
  if (seconds < 60) return 'just now';
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
  return `${Math.floor(seconds / 86400)} d ago`;
}
