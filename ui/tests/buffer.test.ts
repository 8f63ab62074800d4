import { describe, expect, it } from 'vitest';
import { MAX_ROWS, mergeNewestFirst, replaceWithPage } from '../src/lib/feed/buffer';
import { ids, note } from './fixtures';

describe('mergeNewestFirst', () => {
  it('puts a batch (sent oldest first) on top, newest first', () => {
    const rows = [note(2), note(1)];
    const { rows: merged, added } = mergeNewestFirst(rows, [note(3), note(4), note(5)]);
    expect(ids(merged)).toEqual(ids([note(5), note(4), note(3), note(2), note(1)]));
    expect(added).toBe(3);
  });

  it('merges successive batches newest first', () => {
    let rows = mergeNewestFirst([], [note(1), note(2)]).rows;
    rows = mergeNewestFirst(rows, [note(3)]).rows;
    rows = mergeNewestFirst(rows, [note(4), note(5)]).rows;
    expect(ids(rows)).toEqual(ids([note(5), note(4), note(3), note(2), note(1)]));
  });

  it('slots late arrivals into place by id', () => {
    const { rows } = mergeNewestFirst([note(9), note(5), note(1)], [note(7), note(3), note(10)]);
    expect(ids(rows)).toEqual(ids([note(10), note(9), note(7), note(5), note(3), note(1)]));
  });

  it(`keeps at most ${MAX_ROWS} rows, dropping the oldest`, () => {
    const start = Array.from({ length: MAX_ROWS }, (_, i) => note(MAX_ROWS - i)); // MAX_ROWS .. 1
    const { rows } = mergeNewestFirst(start, [note(MAX_ROWS + 1), note(MAX_ROWS + 2)]);
    expect(rows).toHaveLength(MAX_ROWS);
    expect(rows[0].id).toBe(note(MAX_ROWS + 2).id);
    expect(rows[1].id).toBe(note(MAX_ROWS + 1).id);
    expect(rows[rows.length - 1].id).toBe(note(3).id);
    expect(ids(rows)).not.toContain(note(1).id);
    expect(ids(rows)).not.toContain(note(2).id);
  });

  it('caps a single oversized batch to its newest rows', () => {
    const batch = Array.from({ length: MAX_ROWS + 500 }, (_, i) => note(i + 1));
    const { rows } = mergeNewestFirst([note(0)], batch);
    expect(rows).toHaveLength(MAX_ROWS);
    expect(rows[0].id).toBe(note(MAX_ROWS + 500).id);
    expect(rows[MAX_ROWS - 1].id).toBe(note(501).id);
  });

  it('never holds the same id twice', () => {
    const { rows, added } = mergeNewestFirst([note(2), note(1)], [note(2), note(3), note(3), note(1)]);
    expect(ids(rows)).toEqual(ids([note(3), note(2), note(1)]));
    expect(added).toBe(1);
  });

  it('does not mutate its inputs', () => {
    const rows = [note(2), note(1)];
    const incoming = [note(3)];
    mergeNewestFirst(rows, incoming);
    expect(ids(rows)).toEqual(ids([note(2), note(1)]));
    expect(ids(incoming)).toEqual(ids([note(3)]));
  });
});

describe('replaceWithPage', () => {
  it('replaces the rows with the page', () => {
    const rows = [note(4), note(3), note(1)];
    const page = [note(4), note(2)];
    expect(ids(replaceWithPage(rows, page))).toEqual(ids([note(4), note(2)]));
  });

  it('keeps rows newer than the page (they came through the feed after it was read)', () => {
    const rows = [note(6), note(5), note(1)];
    const page = [note(4), note(3)];
    expect(ids(replaceWithPage(rows, page))).toEqual(ids([note(6), note(5), note(4), note(3)]));
  });

  it('drops duplicate ids within the page', () => {
    expect(ids(replaceWithPage([], [note(3), note(3), note(2)]))).toEqual(ids([note(3), note(2)]));
  });

  it('an empty page empties the list', () => {
    expect(replaceWithPage([note(2), note(1)], [])).toEqual([]);
  });
});
