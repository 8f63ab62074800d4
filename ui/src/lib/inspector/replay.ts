// Header edits for "Replay with edits": the headers a replay sends as they were (the engine's
// `replayHeaders`) shown as `Name: value` lines, and the lines the user left turned back into what
// changed: set, added, or dropped with an empty value, as the engine's ReplayEdits reads them.
// Pure, so it is tested without a DOM.

export function headerLines(headers: Record<string, string>): string {
  return Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}`)
    .join('\n');
}

export type HeaderEdits = { ok: true; headers: Record<string, string> } | { ok: false; error: string };

/** What differs between the headers a replay would send and the edited lines. */
export function headerEdits(original: Record<string, string>, text: string): HeaderEdits {
  const edited = new Map<string, [string, string]>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '') continue;
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon).trim() : '';
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
      return { ok: false, error: `Header line ${i + 1} is not "Name: value": ${line.slice(0, 60)}` };
    }
    edited.set(name.toLowerCase(), [name, line.slice(colon + 1).trim()]);
  }
  const headers: Record<string, string> = {};
  const before = new Map(Object.entries(original).map(([name, value]) => [name.toLowerCase(), value]));
  for (const [key, [name, value]] of edited) {
    if (before.get(key) !== value) headers[name] = value;
  }
  for (const [key] of before) {
    if (!edited.has(key)) headers[key] = '';
  }
  return { ok: true, headers };
}
