// The JSON tree's shape: which values fold, what a folded node says, and how many children are drawn,
// so a tree of a huge array stays quick to draw. Pure, so it is tested without a DOM.

/** Children drawn per object or array; the Text view shows the rest. */
export const SHOWN_CHILDREN = 500;

/** Nodes open at first down to this depth; deeper ones start folded. */
export const OPEN_DEPTH = 3;

export type Parsed = { ok: true; value: unknown } | { ok: false };

export function parseJson(text: string): Parsed {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

export function isBranch(value: unknown): value is Record<string, unknown> | unknown[] {
  return typeof value === 'object' && value !== null;
}

/** `[key, value]` pairs in order; array keys are indexes. */
export function entries(value: Record<string, unknown> | unknown[]): [string, unknown][] {
  return Array.isArray(value) ? value.map((v, i) => [String(i), v]) : Object.entries(value);
}

/** What a folded node shows after its bracket: `3 items`, `1 key`. */
export function summary(value: Record<string, unknown> | unknown[]): string {
  const n = Array.isArray(value) ? value.length : Object.keys(value).length;
  const noun = Array.isArray(value) ? 'item' : 'key';
  return `${n.toLocaleString('en')} ${noun}${n === 1 ? '' : 's'}`;
}

/** The class a leaf's colour comes from. */
export function leafType(value: unknown): 'string' | 'number' | 'boolean' | 'null' {
  if (value === null) return 'null';
  if (typeof value === 'number') return 'number';
  if (typeof value === 'boolean') return 'boolean';
  return 'string';
}
