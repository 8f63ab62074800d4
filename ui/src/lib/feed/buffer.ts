// Pure list logic for the live feed: rows kept newest first (by the engine's time-ordered id),
// bounded, without duplicate ids. Every function returns a new array; inputs are never mutated.
import type { Notification } from '../bindings';

export const MAX_ROWS = 5000;

const newestFirst = (a: Notification, b: Notification) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

/**
 * Adds incoming notifications (any order; the feed sends them oldest first) to rows kept newest
 * first, skipping ids already present, and keeps only the newest `cap` rows.
 * Returns the new rows and how many notifications were new.
 */
export function mergeNewestFirst(
  rows: readonly Notification[],
  incoming: readonly Notification[],
  cap: number = MAX_ROWS,
): { rows: Notification[]; added: number } {
  const seen = new Set<string>();
  for (const row of rows) seen.add(row.id);
  const fresh: Notification[] = [];
  for (const n of incoming) {
    if (!seen.has(n.id)) {
      seen.add(n.id);
      fresh.push(n);
    }
  }
  if (fresh.length === 0) return { rows: rows.length > cap ? rows.slice(0, cap) : (rows as Notification[]), added: 0 };
  fresh.sort(newestFirst);

  let merged: Notification[];
  if (rows.length === 0 || fresh[fresh.length - 1].id > rows[0].id) {
    // The usual case: everything new is newer than everything shown.
    merged = fresh.concat(rows.slice(0, Math.max(0, cap - fresh.length)));
  } else {
    merged = [];
    let i = 0;
    let j = 0;
    while (merged.length < cap && (i < fresh.length || j < rows.length)) {
      if (j >= rows.length || (i < fresh.length && fresh[i].id > rows[j].id)) merged.push(fresh[i++]);
      else merged.push(rows[j++]);
    }
  }
  return { rows: merged.length > cap ? merged.slice(0, cap) : merged, added: fresh.length };
}

/**
 * Replaces the rows with a freshly loaded first page (newest first). Rows newer than the page's
 * newest item are kept: they came through the feed after the page was read.
 */
export function replaceWithPage(
  rows: readonly Notification[],
  page: readonly Notification[],
  cap: number = MAX_ROWS,
): Notification[] {
  const newest = page.reduce<string | null>((max, n) => (max === null || n.id > max ? n.id : max), null);
  const newer = newest === null ? [] : rows.filter((n) => n.id > newest);
  return mergeNewestFirst(newer, page, cap).rows;
}
