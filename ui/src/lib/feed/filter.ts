// The feed's filter on the client: the same meaning as the engine's `NotificationFilter` in SQL, applied
// to rows arriving live so a filtered view never shows what a reload would hide. Free text is matched
// against what a row carries (resource, its data, the change, the reason, the decrypted content).
import type { Notification, NotificationFilter } from '../bindings';

export const EMPTY_FILTER: NotificationFilter = {};

/** The filter with blank fields dropped, as the engine reads it. */
export function tidy(filter: NotificationFilter): NotificationFilter {
  const out: NotificationFilter = {};
  if (filter.subscriptionId) out.subscriptionId = filter.subscriptionId;
  if (filter.changeType) out.changeType = filter.changeType;
  if (filter.verdict) out.verdict = filter.verdict;
  if (filter.text?.trim()) out.text = filter.text.trim();
  if (filter.since) out.since = filter.since;
  if (filter.until) out.until = filter.until;
  return out;
}

export function isEmpty(filter: NotificationFilter): boolean {
  return Object.keys(tidy(filter)).length === 0;
}

function searchable(n: Notification): string {
  return [n.resource, n.changeType, n.lifecycleEvent, n.reason, n.subscriptionId, n.tenantId, n.notificationId]
    .concat(n.resourceData ? JSON.stringify(n.resourceData) : null, n.decrypted ? JSON.stringify(n.decrypted) : null)
    .filter((part): part is string => typeof part === 'string')
    .join('\n');
}

/** ASCII letters only, as SQLite's lower() folds them: a search matches the same rows live and stored. */
function fold(text: string): string {
  return text.replace(/[A-Z]/g, (c) => c.toLowerCase());
}

export function matches(n: Notification, filter: NotificationFilter): boolean {
  const f = tidy(filter);
  if (f.subscriptionId && n.subscriptionId !== f.subscriptionId) return false;
  if (f.changeType && n.changeType !== f.changeType) return false;
  switch (f.verdict) {
    case 'accepted':
      if (n.verdict !== 'accepted') return false;
      break;
    case 'rejected':
      if (n.verdict !== 'rejected') return false;
      break;
    case 'duplicate':
      if (!n.duplicate) return false;
      break;
    case 'decrypted':
      if (n.decrypted === null) return false;
      break;
    case 'tokensInvalid':
      if (n.tokensValid !== false) return false;
      break;
    case 'lifecycle':
      if (n.lifecycleEvent === null) return false;
      break;
    case 'replayed':
      if (n.replayOf === null) return false;
      break;
  }
  const at = Date.parse(n.receivedAt);
  if (f.since && at < Date.parse(f.since)) return false;
  if (f.until && at >= Date.parse(f.until)) return false;
  if (f.text && !fold(searchable(n)).includes(fold(f.text))) return false;
  return true;
}

/** The time-range choices of the filter bar, as a `since` relative to now. */
export const RANGES = [
  { value: '', label: 'Any time', minutes: 0 },
  { value: '5m', label: 'Last 5 minutes', minutes: 5 },
  { value: '1h', label: 'Last hour', minutes: 60 },
  { value: '24h', label: 'Last 24 hours', minutes: 1440 },
] as const;

export function sinceFor(range: string, now: number = Date.now()): string | undefined {
  const found = RANGES.find((r) => r.value === range);
  return found && found.minutes > 0 ? new Date(now - found.minutes * 60_000).toISOString() : undefined;
}
