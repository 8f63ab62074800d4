// The engine's reading of what the form sends, mirrored: which catalog entry a typed resource is (so the
// form offers only what Graph allows) and the lifetime syntax (so the in-memory backend refuses as it does).
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
