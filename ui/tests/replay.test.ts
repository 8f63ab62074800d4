// Header edits for "Replay with edits": the lines shown, and what the edited lines send.
import { describe, expect, it } from 'vitest';
import { headerEdits, headerLines } from '../src/lib/inspector/replay';

describe('header edits for a replay', () => {
  const carried = { 'content-type': 'application/json', 'user-agent': 'Graph' };

  it('lists the headers a replay carries as lines', () => {
    expect(headerLines(carried)).toBe('content-type: application/json\nuser-agent: Graph');
  });

  it('sends only what changed: set, added, or dropped (an empty value)', () => {
    expect(headerEdits(carried, headerLines(carried))).toEqual({ ok: true, headers: {} });
    expect(headerEdits(carried, 'Content-Type: text/plain\nX-New: 1\n\nuser-agent:')).toEqual({
      ok: true,
      headers: { 'Content-Type': 'text/plain', 'X-New': '1', 'user-agent': '' },
    });
    expect(headerEdits(carried, '')).toEqual({ ok: true, headers: { 'content-type': '', 'user-agent': '' } });
  });

  it('refuses a line that is not a header, naming it', () => {
    expect(headerEdits(carried, 'content-type: a\nbad line')).toEqual({ ok: false, error: 'Header line 2 is not "Name: value": bad line' });
    expect(headerEdits(carried, 'sp ace: x')).toMatchObject({ ok: false });
  });
});
