import type { Notification } from '../src/lib/bindings';
import { makeNotification } from '../src/lib/backend/memory';

/** A notification whose id sorts by `n` (bigger is newer), like the engine's UUIDv7 ids. */
export function note(n: number, fields: Partial<Notification> = {}): Notification {
  const id = `0190${String(n).padStart(8, '0')}-0000-7000-8000-000000000000`;
  return makeNotification({ id, receivedAt: new Date(Date.UTC(2026, 0, 1, 12, 0, 0, n % 1000)).toISOString(), ...fields });
}

export const ids = (rows: readonly Notification[]) => rows.map((r) => r.id);
