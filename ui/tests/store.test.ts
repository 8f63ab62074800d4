import { describe, expect, it, vi } from 'vitest';
import { MemoryBackend } from '../src/lib/backend/memory';
import { FIRST_PAGE, FeedStore, type FeedState } from '../src/lib/feed/store';
import { ids, note } from './fixtures';

/** A FeedStore whose "frames" run only when the test says so. */
function setup(backend: MemoryBackend, cap?: number) {
  const frames: Array<() => void> = [];
  const changes: FeedState[] = [];
  const store = new FeedStore(backend, {
    schedule: (flush) => frames.push(flush),
    onChange: (state) => changes.push(state),
    cap,
  });
  const runFrame = () => frames.splice(0).forEach((flush) => flush());
  return { store, frames, changes, runFrame };
}

describe('FeedStore', () => {
  it('loads the first page (newest first, limit 200) on start', async () => {
    const backend = new MemoryBackend({ notifications: Array.from({ length: 250 }, (_, i) => note(i + 1)) });
    const page = vi.spyOn(backend, 'notificationsPage');
    const { store } = setup(backend);
    await store.start();
    expect(page).toHaveBeenCalledWith(FIRST_PAGE, null, {});
    expect(store.current.loaded).toBe(true);
    expect(store.current.rows).toHaveLength(200);
    expect(store.current.rows[0].id).toBe(note(250).id);
    expect(store.current.received).toBe(0);
  });

  it('subscribes to the feed before reading the page, so nothing falls in between', async () => {
    const backend = new MemoryBackend();
    const order: string[] = [];
    const watch = backend.watchFeed.bind(backend);
    const page = backend.notificationsPage.bind(backend);
    backend.watchFeed = (cb) => (order.push('watch'), watch(cb));
    backend.notificationsPage = (l, b) => (order.push('page'), page(l, b));
    await setup(backend).store.start();
    expect(order).toEqual(['watch', 'page']);
  });

  it('applies queued batches once per frame, in one update', async () => {
    const backend = new MemoryBackend();
    const { store, frames, changes, runFrame } = setup(backend);
    await store.start();
    const before = changes.length;

    backend.emit({ notifications: [note(1), note(2)] });
    backend.emit({ notifications: [note(3)] });
    expect(frames).toHaveLength(1); // one frame requested for both batches
    expect(changes).toHaveLength(before); // nothing applied until the frame
    expect(store.current.rows).toEqual([]);

    runFrame();
    expect(changes).toHaveLength(before + 1);
    expect(ids(store.current.rows)).toEqual(ids([note(3), note(2), note(1)]));
    expect(store.current.received).toBe(3);

    backend.emit({ notifications: [note(4)] });
    expect(frames).toHaveLength(1); // the next batch asks for a new frame
    runFrame();
    expect(store.current.rows[0].id).toBe(note(4).id);
    expect(store.current.received).toBe(4);
  });

  it('does not count or show a notification twice', async () => {
    const backend = new MemoryBackend({ notifications: [note(1)] });
    const { store, runFrame } = setup(backend);
    await store.start();
    backend.emit({ notifications: [note(1), note(2)] });
    backend.emit({ notifications: [note(2)] });
    runFrame();
    expect(ids(store.current.rows)).toEqual(ids([note(2), note(1)]));
    expect(store.current.received).toBe(1);
  });

  it('reloads the first page when the feed reports missed events', async () => {
    const backend = new MemoryBackend({ notifications: [note(1)] });
    const { store, runFrame } = setup(backend);
    await store.start();
    // Stored while the feed fell behind: never delivered as a batch.
    backend.stored.unshift(note(3), note(2));
    const page = vi.spyOn(backend, 'notificationsPage');

    backend.emit({ missed: 0, notifications: [] });
    runFrame();
    expect(page).not.toHaveBeenCalled();

    backend.emit({ missed: 2 });
    runFrame();
    expect(page).toHaveBeenCalledWith(FIRST_PAGE, null, {});
    await vi.waitFor(() => expect(ids(store.current.rows)).toEqual(ids([note(3), note(2), note(1)])));
  });

  it('hands the keeper events of a frame over together, oldest first, without touching the rows', async () => {
    const backend = new MemoryBackend();
    const frames: Array<() => void> = [];
    const keeper: string[][] = [];
    const changes: FeedState[] = [];
    const store = new FeedStore(backend, {
      schedule: (flush) => frames.push(flush),
      onChange: (state) => changes.push(state),
      onKeeper: (events) => keeper.push(events.map((e) => e.id)),
    });
    await store.start();
    const before = changes.length;
    const event = (id: string) => ({
      id,
      at: new Date().toISOString(),
      subscriptionId: 's',
      action: 'renewed' as const,
      ok: true,
      message: 'Renewed.',
      expirationDateTime: null,
      newSubscriptionId: null,
    });
    backend.emit({ keeper: [event('k1')] });
    backend.emit({ keeper: [event('k2'), event('k3')] });
    expect(keeper).toEqual([]);
    frames.splice(0).forEach((flush) => flush());
    expect(keeper).toEqual([['k1', 'k2', 'k3']]);
    expect(changes).toHaveLength(before);

    backend.emit({ notifications: [note(1)] });
    frames.splice(0).forEach((flush) => flush());
    expect(keeper).toHaveLength(1); // no call for a batch without keeper events
  });

  it('stops delivering after stop()', async () => {
    const backend = new MemoryBackend();
    const { store, frames } = setup(backend);
    await store.start();
    expect(backend.watching).toBe(1);
    store.stop();
    expect(backend.watching).toBe(0);
    store.push({ notifications: [note(1)], keeper: [], missed: 0 });
    expect(frames).toHaveLength(0);
  });

  it('reports a failed page load instead of throwing', async () => {
    const backend = new MemoryBackend();
    backend.notificationsPage = () => Promise.reject('database is locked');
    const { store } = setup(backend);
    await store.start();
    expect(store.current.loaded).toBe(true);
    expect(store.current.error).toContain('database is locked');
  });
  it('keeps counting while paused, counting each batch once however many frames pass', async () => {
    const backend = new MemoryBackend({ notifications: [note(1)] });
    const { store, runFrame } = setup(backend);
    await store.start();
    store.pause();
    backend.emit({ notifications: [note(2), note(3)] });
    runFrame();
    backend.emit({ notifications: [note(4)] });
    runFrame();
    runFrame();
    expect(store.current.held).toBe(3);
    expect(store.current.received, 'the counter counts what arrived, paused or not').toBe(3);
    expect(ids(store.current.rows), 'the list stood still').toEqual(ids([note(1)]));
    store.resume();
    expect(ids(store.current.rows)).toEqual(ids([note(4), note(3), note(2), note(1)]));
    expect(store.current.received, 'resuming counts nothing twice').toBe(3);
    expect(store.current.held).toBe(0);
  });

  it('lets rows go past a full list while paused, and reads the first page on resume', async () => {
    const backend = new MemoryBackend({ notifications: [note(1)] });
    const page = vi.spyOn(backend, 'notificationsPage');
    const { store, runFrame } = setup(backend, 10);
    await store.start();
    store.pause();
    for (let n = 2; n <= 31; n += 3) {
      backend.emit({ notifications: [note(n), note(n + 1), note(n + 2)] });
      runFrame();
    }
    expect(store.current.held).toBe(30);
    expect(store.current.received).toBe(30);
    expect((store as unknown as { queue: unknown[] }).queue.length, 'no more than a list waits in memory').toBeLessThanOrEqual(10);
    page.mockClear();
    store.resume();
    await vi.waitFor(() => expect(page).toHaveBeenCalledTimes(1));
    await vi.waitFor(() => expect(store.current.rows[0]?.id).toBe(note(31).id));
    expect(store.current.rows).toHaveLength(10);
    expect(store.current.received, 'rows read again are not counted again').toBe(30);
  });
  it('counts and hands over what came after the last frame when resuming past a full list', async () => {
    const backend = new MemoryBackend({ notifications: [note(1)] });
    const keeper: string[] = [];
    const store = new FeedStore(backend, {
      schedule: () => {}, // frames never run on their own: only pause, resume and the test move things
      onChange: () => {},
      onKeeper: (events) => keeper.push(...events.map((e) => e.subscriptionId)),
      cap: 5,
    });
    await store.start();
    store.pause();
    backend.emit({ notifications: [2, 3, 4, 5, 6, 7].map((n) => note(n)) });
    store.flush();
    expect(store.current.held).toBe(6);
    const lifecycle = { id: 'k1', at: '2026-01-01T12:00:00Z', subscriptionId: 'sub-late', action: 'renewed', ok: true, message: null, expirationDateTime: null, newSubscriptionId: null } as const;
    backend.emit({ notifications: [note(8)], keeper: [lifecycle as never] });
    store.resume();
    expect(store.current.received, 'the batch after the last frame is counted').toBe(7);
    expect(keeper, 'its keeper events are handed over').toEqual(['sub-late']);
    await vi.waitFor(() => expect(store.current.rows[0]?.id).toBe(note(8).id));
    expect(store.current.received).toBe(7);
  });

  it('holds only what the filter shows while paused, however much else arrives', async () => {
    const backend = new MemoryBackend({ notifications: [] });
    const { store, runFrame } = setup(backend, 10);
    await store.start();
    await store.setFilter({ verdict: 'rejected' });
    store.pause();
    for (let n = 1; n <= 500; n += 50) {
      backend.emit({ notifications: Array.from({ length: 50 }, (_, i) => note(n + i, i === 0 ? { verdict: 'rejected', reason: 'bad' } : {})) });
      runFrame();
    }
    expect(store.current.held).toBe(10);
    expect(store.current.received).toBe(500);
    const waiting = (store as unknown as { queue: { notifications: unknown[] }[] }).queue.reduce((sum, b) => sum + b.notifications.length, 0);
    expect(waiting, 'the 490 filtered out are counted, not kept').toBe(10);
    store.resume();
    expect(store.current.rows.map((r) => r.verdict)).toEqual(Array(10).fill('rejected'));
  });
});
