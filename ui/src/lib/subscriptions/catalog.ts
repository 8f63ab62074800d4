// The form's knowledge of Graph's resources: which catalog entry a typed resource is, and the lifetime
// arithmetic the engine does too, so the form can say what is wrong before anything is sent.
import type { ChangeType, ResourceKind } from '../bindings';

export const CHANGE_TYPES: ChangeType[] = ['created', 'updated', 'deleted'];

/** Path segments as the engine reads them: `mailFolders('inbox')` is two (`mailfolders`, `inbox`), the
 * query is dropped, case does not matter. */
function segments(resource: string): string[] {
  const path = resource.trim().split('?')[0].toLowerCase();
  const out: string[] = [];
  for (const raw of path.split('/').filter((s) => s.length > 0)) {
    const open = raw.indexOf('(');
    if (open < 0) {
      out.push(raw);
      continue;
    }
    out.push(raw.slice(0, open));
    out.push(raw.slice(open + 1).replace(/\)$/, '').replace(/^['"]|['"]$/g, ''));
  }
  return out;
}

/** The catalog entry whose path pattern (`*` = one id segment) matches the resource, if any. */
export function kindFor(resource: string, catalog: readonly ResourceKind[]): ResourceKind | null {
  const wanted = segments(resource);
  if (wanted.length === 0) return null;
  for (const kind of catalog) {
    for (const pattern of kind.paths) {
      const parts = segments(pattern);
      if (parts.length === wanted.length && parts.every((p, i) => p === '*' || p === wanted[i])) return kind;
    }
  }
  return null;
}

/** `7 days`, `1 day 6 hours`, `1 hour`, `45 minutes`. */
export function minutesText(minutes: number): string {
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const mins = minutes % 60;
  const part = (n: number, unit: string) => (n === 0 ? null : `${n} ${unit}${n === 1 ? '' : 's'}`);
  return [part(days, 'day'), part(hours, 'hour'), part(mins, 'minute')].filter(Boolean).join(' ') || '0 minutes';
}

/** Time left until `iso` at `now`: `6d 23h 59m`, `4h 05m`, `4m 05s`, `12s`, or `expired`. */
export function countdown(iso: string, now: number): string {
  const left = Math.floor((new Date(iso).getTime() - now) / 1000);
  if (Number.isNaN(left)) return '—';
  if (left <= 0) return 'expired';
  const d = Math.floor(left / 86400);
  const h = Math.floor((left % 86400) / 3600);
  const m = Math.floor((left % 3600) / 60);
  const s = left % 60;
  const two = (n: number) => String(n).padStart(2, '0');
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

/** Seconds in `max` (null) or `90s`, `45m`, `2h`, `3d`, `45`; an Error with the engine's sentence otherwise. */
export function lifetimeSeconds(text: string): number | null {
  const t = text.trim().toLowerCase();
  if (t === '' || t === 'max') return null;
  const m = /^(\d+)\s*(s|sec|secs|seconds?|m|min|mins|minutes?|h|hours?|d|days?)?$/.exec(t);
  if (!m) throw new Error(`'${t}' is not a lifetime; use max or a number with s, m, h or d, like 45m or 3d.`);
  const n = Number(m[1]);
  const unit = (m[2] ?? 'm')[0];
  const seconds = n * ({ s: 1, m: 60, h: 3600, d: 86400 } as Record<string, number>)[unit];
  if (seconds === 0) throw new Error('A lifetime of zero would expire at once; use max or a positive duration.');
  return seconds;
}
