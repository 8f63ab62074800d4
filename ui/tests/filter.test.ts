// Filtering, pausing, scrolling back and moving with the keyboard through the live feed: the filter
// means the same for rows read from the store and rows arriving live; a paused list stands still and
// counts what waits; older pages load as the list is scrolled back; j/k walk the rows in the inspector.
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { afterEach, describe, expect, it } from 'vitest';
import App from '../src/App.svelte';
import { MemoryBackend } from '../src/lib/backend/memory';
import { matches, sinceFor } from '../src/lib/feed/filter';
import { FeedStore } from '../src/lib/feed/store';
import { ids, note } from './fixtures';

afterEach(() => cleanup());

const shown = () => Array.from(document.querySelectorAll<HTMLElement>('#feed .notification-row')).map((r) => r.dataset.id);
const inspector = () => document.getElementById('inspector');

const forged = note(3, { verdict: 'rejected', reason: 'The clientState does not match the subscription’s.', resource: 'Users/9/Messages/forged' });
const lifecycle = note(4, { changeType: null, lifecycleEvent: 'missed', resource: null });
const updated = note(2, { changeType: 'updated', resource: "Users/1/Events('party')", subscriptionId: 'sub-b' });
const plain = note(1, { resource: 'Users/1/Messages/hello' });

describe('matches', () => {
  it('means what the engine means by each field', () => {
    expect(matches(forged, { verdict: 'rejected' })).toBe(true);
    expect(matches(plain, { verdict: 'rejected' })).toBe(false);
    expect(matches(lifecycle, { verdict: 'lifecycle' })).toBe(true);
    expect(matches(note(5, { duplicate: true }), { verdict: 'duplicate' })).toBe(true);
    expect(matches(note(6, { replayOf: 'r1' }), { verdict: 'replayed' })).toBe(true);
    expect(matches(note(7, { tokensValid: false }), { verdict: 'tokensInvalid' })).toBe(true);
    expect(matches(note(8, { tokensValid: null }), { verdict: 'tokensInvalid' })).toBe(false);
    expect(matches(updated, { changeType: 'updated', subscriptionId: 'sub-b' })).toBe(true);
    expect(matches(updated, { subscriptionId: 'sub-a' })).toBe(false);
    expect(matches(forged, { text: 'DOES NOT MATCH' })).toBe(true);
    expect(matches(updated, { text: 'party' })).toBe(true);
    const accented = note(9, { resource: 'Users/1/Messages/Été' });
    expect(matches(accented, { text: 'ÉTé' }), 'as SQLite: ASCII letters fold, others must match exactly').toBe(true);
    expect(matches(accented, { text: 'été' })).toBe(false);
    expect(matches(accented, { text: 'MESSAGES/É' })).toBe(true);
    expect(matches(plain, { text: '   ' }), 'blank text is no filter').toBe(true);
    const now = Date.parse(plain.receivedAt);
    expect(matches(plain, { since: new Date(now + 1).toISOString() })).toBe(false);
    expect(matches(plain, { until: new Date(now + 1).toISOString() })).toBe(true);
    expect(sinceFor('1h', now)).toBe(new Date(now - 3_600_000).toISOString());
    expect(sinceFor('')).toBeUndefined();
  });
});

describe('the filter bar', () => {
  it('narrows the list, keeps live rows to the filter while counting them all, and clears', async () => {
    const backend = new MemoryBackend({ notifications: [plain, updated, forged, lifecycle] });
    render(App, { props: { backend, schedule: (run: () => void) => run(), searchDebounceMs: 0 } });
    await waitFor(() => expect(shown()).toHaveLength(4));

    const verdict = screen.getByLabelText('Verdict') as HTMLSelectElement;
    verdict.value = 'rejected';
    await fireEvent.change(verdict);
    await waitFor(() => expect(shown()).toEqual([forged.id]));

    backend.emit({ notifications: [note(9, { resource: 'Users/1/Messages/new' })] });
    // Once the counter shows it, the arrival has been drawn: it stays out of a rejected-only view.
    await waitFor(() => expect(screen.getByTestId('received-count').textContent).toBe('1'));
    expect(shown()).toEqual([forged.id]);
    backend.emit({ notifications: [note(10, { verdict: 'rejected', reason: 'bad' })] });
    await waitFor(() => expect(shown()).toEqual([note(10).id, forged.id]));

    await fireEvent.input(screen.getByLabelText('Search notifications'), { target: { value: 'no such text' } });
    await waitFor(() => expect(screen.getByTestId('no-match')).toBeTruthy());
    expect(shown()).toEqual([]);

    await fireEvent.click(screen.getByRole('button', { name: 'Clear' }));
    await waitFor(() => expect(shown()).toHaveLength(6));
    await fireEvent.input(screen.getByLabelText('Search notifications'), { target: { value: 'PARTY' } });
    await waitFor(() => expect(shown()).toEqual([updated.id]));
  });

  it('pauses: the list stands still, counts what waits, and takes it all on resume', async () => {
    const backend = new MemoryBackend({ notifications: [plain] });
    render(App, { props: { backend, schedule: (run: () => void) => run() } });
    await waitFor(() => expect(shown()).toEqual([plain.id]));
    await fireEvent.click(screen.getByRole('button', { name: 'Pause' }));
    backend.emit({ notifications: [note(11), note(12)] });
    const resume = await screen.findByRole('button', { name: /Resume · 2 new/ });
    // The batch has been taken and drawn (the count shows it), and the list stood still.
    expect(shown()).toEqual([plain.id]);
    await fireEvent.click(resume);
    await waitFor(() => expect(shown()).toEqual([note(12).id, note(11).id, plain.id]));
  });

  it('walks the rows with j and k, opening each; / searches and p pauses', async () => {
    const backend = new MemoryBackend({ notifications: [plain, updated, forged] });
    render(App, { props: { backend, schedule: (run: () => void) => run() } });
    await waitFor(() => expect(shown()).toHaveLength(3));
    await fireEvent.keyDown(window, { key: 'j' });
    await waitFor(() => expect(inspector()?.dataset.id).toBe(forged.id));
    await fireEvent.keyDown(window, { key: 'j' });
    await waitFor(() => expect(inspector()?.dataset.id).toBe(updated.id));
    await fireEvent.keyDown(window, { key: 'ArrowUp' });
    await waitFor(() => expect(inspector()?.dataset.id).toBe(forged.id));
    await fireEvent.keyDown(window, { key: 'Escape' });
    await waitFor(() => expect(inspector()).toBeNull());

    await fireEvent.keyDown(window, { key: '/' });
    expect(document.activeElement?.id).toBe('feed-search');
    await fireEvent.keyDown(document.activeElement!, { key: 'p' });
    expect(screen.queryByRole('button', { name: /Resume/ }), 'typing p in the search does not pause').toBeNull();
    (document.activeElement as HTMLElement).blur();
    await fireEvent.keyDown(window, { key: 'p' });
    expect(await screen.findByRole('button', { name: /Resume/ })).toBeTruthy();
  });
});

describe('the selected row', () => {
  it('stays where the user scrolled when rows arrive above it, and comes into view when the selection moves', async () => {
    const backend = new MemoryBackend({ notifications: Array.from({ length: 100 }, (_, i) => note(i + 1)) });
    render(App, { props: { backend, schedule: (run: () => void) => run() } });
    await waitFor(() => expect(shown().length).toBeGreaterThan(10));
    await fireEvent.keyDown(window, { key: 'j' });
    await waitFor(() => expect(inspector()?.dataset.id).toBe(note(100).id));
    const feed = document.getElementById('feed')!;
    // The user scrolls away from the selected (newest) row to read older ones.
    feed.scrollTop = 1500;
    await fireEvent.scroll(feed);
    backend.emit({ notifications: [note(101), note(102), note(103)] });
    await waitFor(() => expect(screen.getByTestId('received-count').textContent).toBe('3'));
    expect(inspector()?.dataset.id, 'the selection is the same row').toBe(note(100).id);
    expect(feed.scrollTop, 'arrivals above the selected row do not pull the list back to it').toBe(1500);
    await fireEvent.keyDown(window, { key: 'j' });
    await waitFor(() => expect(inspector()?.dataset.id).toBe(note(99).id));
    expect(feed.scrollTop, 'a new selection is scrolled into view').toBeLessThan(1500);
  });
});

describe('export', () => {
  it('exports what the filter shows and says where the file went', async () => {
    const backend = new MemoryBackend({ notifications: [plain, updated, forged] });
    render(App, { props: { backend, schedule: (run: () => void) => run(), searchDebounceMs: 0 } });
    await waitFor(() => expect(shown()).toHaveLength(3));
    const verdict = screen.getByLabelText('Verdict') as HTMLSelectElement;
    verdict.value = 'rejected';
    await fireEvent.change(verdict);
    await fireEvent.click(screen.getByRole('button', { name: 'Export HAR' }));
    await waitFor(() => expect(screen.getByTestId('export-result').textContent).toBe('Exported 1 notification to /home/you/Downloads/hookscope-export.har'));
    expect(backend.exports).toEqual([{ format: 'har', filter: { verdict: 'rejected' } }]);
  });
});

describe('scrolling back', () => {
  it('reads older pages from the store, with the filter, until there are none', async () => {
    const all = Array.from({ length: 450 }, (_, i) => note(i + 1, i % 3 === 0 ? { verdict: 'rejected' } : {}));
    const backend = new MemoryBackend({ notifications: all });
    const store = new FeedStore(backend, { schedule: (run) => run(), onChange: () => {}, pageSize: 100 });
    await store.start();
    expect(store.current.rows).toHaveLength(100);
    expect(store.current.more).toBe(true);
    await store.loadOlder();
    await store.loadOlder();
    expect(store.current.rows).toHaveLength(300);
    expect(ids(store.current.rows)).toEqual(ids(all.slice(150).reverse()));

    await store.setFilter({ verdict: 'rejected' });
    expect(store.current.rows).toHaveLength(100);
    await store.loadOlder();
    expect(store.current.rows).toHaveLength(150);
    expect(store.current.more).toBe(false);
    expect(store.current.rows.every((n) => n.verdict === 'rejected')).toBe(true);
  });
});
