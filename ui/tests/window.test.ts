// Scrolling through 100k stored notifications: the feed holds a window of at most `cap` rows, lets the
// newest go while scrolling back (counting them as `offset`), reads them again when scrolled up, and
// draws the rows it does not hold as placeholders that ask to be loaded.
import { cleanup, render } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import Feed from '../src/lib/components/Feed.svelte';
import { MemoryBackend } from '../src/lib/backend/memory';
import { FeedStore } from '../src/lib/feed/store';
import { ids, note } from './fixtures';

afterEach(() => cleanup());

describe('the sliding window', () => {
  it('scrolls 100k rows to the oldest and back up to the newest, never holding more than the cap', async () => {
    const all = Array.from({ length: 100_000 }, (_, i) => note(i + 1));
    const backend = new MemoryBackend({ notifications: all });
    const store = new FeedStore(backend, { schedule: (run) => run(), onChange: () => {}, pageSize: 1000, cap: 5000 });
    await store.start();
    let most = 0;
    let pages = 1;
    while (store.current.more) {
      await store.loadOlder();
      pages += 1;
      most = Math.max(most, store.current.rows.length);
      // Every row keeps its place in the list: what went is counted above what is held.
      expect(store.current.offset + store.current.rows.length).toBe(Math.min(100_000, pages * 1000));
    }
    expect(most).toBe(5000);
    expect(store.current.offset).toBe(95_000);
    expect(store.current.rows.at(-1)!.id).toBe(note(1).id);
    expect(ids(store.current.rows)).toEqual(ids(all.slice(0, 5000).reverse()));

    // One arrives while scrolled back: it is counted above the window, not drawn in it.
    backend.emit({ notifications: [note(100_001)] });
    expect(store.current.offset).toBe(95_001);
    expect(store.current.rows[0].id).toBe(note(5000).id);

    while (store.current.offset > 0) await store.loadNewer(store.current.offset - 1);
    expect(store.current.rows[0].id).toBe(note(100_001).id);
    expect(store.current.rows).toHaveLength(5000);
    expect(store.current.more, 'the oldest can be read again').toBe(true);
    await store.loadOlder();
    expect(store.current.rows.at(-1)!.id).toBe(note(100_001 - 5000 - 1000 + 1).id);
    expect(store.current.offset).toBe(1000);

    // Dragged far up: the list starts again from the newest instead of reading every page between.
    while (store.current.more) await store.loadOlder();
    const page = vi.spyOn(backend, 'notificationsPage');
    await store.loadNewer(10);
    expect(page).toHaveBeenCalledTimes(1);
    expect(page.mock.calls[0][1], 'the first page, not the rows after the window').toBeNull();
    expect(store.current.offset).toBe(0);
    expect(store.current.rows[0].id).toBe(note(100_001).id);
    // The in-memory fake filters all 100k rows for every page: seconds, not the store's milliseconds.
  }, 60_000);

  it('lets the oldest rows go when live rows fill the window, and reads them again when scrolled to', async () => {
    const backend = new MemoryBackend({ notifications: Array.from({ length: 300 }, (_, i) => note(i + 1)) });
    const store = new FeedStore(backend, { schedule: (run) => run(), onChange: () => {}, pageSize: 100, cap: 250 });
    await store.start();
    await store.loadOlder();
    expect(store.current.rows).toHaveLength(200);
    backend.emit({ notifications: Array.from({ length: 60 }, (_, i) => note(301 + i)) });
    expect(store.current.rows).toHaveLength(250);
    expect(store.current.rows[0].id).toBe(note(360).id);
    expect(store.current.rows.at(-1)!.id).toBe(note(111).id);
    expect(store.current.more).toBe(true);
    await store.loadOlder();
    expect(store.current.offset).toBe(100);
    const expected = Array.from({ length: 250 }, (_, i) => note(260 - i));
    expect(ids(store.current.rows), 'nothing skipped between').toEqual(ids(expected));
  });
});

describe('the list over the window', () => {
  it('draws placeholders for the rows above the window and asks for them', () => {
    const onnearstart = vi.fn();
    const rows = Array.from({ length: 50 }, (_, i) => note(1000 - i));
    const { container } = render(Feed, { props: { rows, offset: 10, onnearstart } });
    const slots = [...container.querySelectorAll<HTMLElement>('[role="listitem"]')];
    expect(slots.slice(0, 10).every((s) => s.querySelector('.placeholder'))).toBe(true);
    expect(slots[10].querySelector('.notification-row')?.getAttribute('data-id')).toBe(rows[0].id);
    expect(slots[10].style.transform).toBe('translateY(340px)');
    expect((container.querySelector('[role="list"]') as HTMLElement).style.height).toBe(`${60 * 34}px`);
    expect(onnearstart).toHaveBeenCalledWith(0);
  });
});
