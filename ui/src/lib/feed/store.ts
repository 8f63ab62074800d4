// The live feed's state machine, free of the DOM and of Svelte: feed batches are queued and applied
// at most once per frame; `missed > 0` (or the first load) reloads the first page from the store.
// The rows held are a window of at most `cap` over everything stored: scrolling back reads older pages
// and lets the newest rows go (counted in `offset`), scrolling up again reads them back, so 100k stored
// rows scroll end to end while a few thousand are in memory.
import type { Backend, Unwatch } from '../backend/types';
import type { FeedBatch, KeeperEvent, Notification, NotificationFilter } from '../bindings';
import { MAX_ROWS, mergeNewestFirst, replaceWithPage } from './buffer';
import { EMPTY_FILTER, matches, tidy } from './filter';

export const FIRST_PAGE = 200;

export type Schedule = (flush: () => void) => void;

const nextFrame: Schedule = (flush) => {
  if (typeof requestAnimationFrame === 'function') requestAnimationFrame(() => flush());
  else setTimeout(flush, 16);
};

export interface FeedState {
  rows: Notification[];
  /** Notifications that arrived through the feed since the screen started. */
  received: number;
  /** The first page has been read (until then, an empty list is not "no notifications"). */
  loaded: boolean;
  /** Why the last page load failed, if it did. */
  error: string | null;
  /** Live rows are held back (the list stands still to be read); `held` of them wait. */
  paused: boolean;
  held: number;
  /** Older pages exist in the store beyond the last row shown. */
  more: boolean;
  /** Rows newer than `rows[0]` that are not held (the window slid back); `rows[0]` is row `offset`. */
  offset: number;
}

export interface FeedOptions {
  onChange: (state: FeedState) => void;
  /** What the keeper did, delivered with the frame that carries it. */
  onKeeper?: (events: KeeperEvent[]) => void;
  schedule?: Schedule;
  cap?: number;
  pageSize?: number;
}

export class FeedStore {
  private state: FeedState = { rows: [], received: 0, loaded: false, error: null, paused: false, held: 0, more: false, offset: 0 };
  private filter: NotificationFilter = EMPTY_FILTER;
  private next: string | null = null;
  private loadingOlder: Promise<void> | null = null;
  private loadingNewer: Promise<void> | null = null;
  private readonly counted = new Set<string>();
  private queue: FeedBatch[] = [];
  /** While paused: how many queued batches are already counted, and whether resuming must read the
   * first page again (more waited than the list holds, so they were let go, or the feed missed some). */
  private countedBatches = 0;
  private resumeReads = false;
  private scheduled = false;
  private reloading: Promise<void> | null = null;
  private reloadAgain = false;
  private unwatch: Unwatch | null = null;
  private stopped = false;
  private readonly schedule: Schedule;
  private readonly cap: number;
  private readonly pageSize: number;

  constructor(
    private readonly backend: Backend,
    private readonly options: FeedOptions,
  ) {
    this.schedule = options.schedule ?? nextFrame;
    this.cap = options.cap ?? MAX_ROWS;
    this.pageSize = options.pageSize ?? FIRST_PAGE;
  }

  /** Narrows the list: the first page is read again with the filter, live rows are matched against it. */
  setFilter(filter: NotificationFilter): Promise<void> {
    this.filter = tidy(filter);
    // An older page still being read belongs to the old filter: its answer is dropped (see loadOlder).
    this.next = null;
    // Rows held back while paused are in the new first page already.
    this.queue = [];
    this.countedBatches = 0;
    this.resumeReads = false;
    this.set({ rows: [], loaded: false, held: 0, offset: 0 });
    return this.reload();
  }

  /** Holds live rows back so the list stands still; they are counted meanwhile. */
  pause(): void {
    this.set({ paused: true });
  }

  /** Applies everything held back in one update. */
  resume(): void {
    // What came since the last frame is counted, and its keeper events handed over, like the rest.
    this.holdBack();
    this.set({ paused: false, held: 0 });
    if (this.resumeReads) {
      this.resumeReads = false;
      this.queue = [];
      this.countedBatches = 0;
      void this.reload();
      return;
    }
    this.flush();
  }

  /** Reads the next older page (scrolling back); one at a time. */
  loadOlder(): Promise<void> {
    if (this.loadingOlder || !this.next || this.stopped) return this.loadingOlder ?? Promise.resolve();
    const before = this.next;
    const filter = this.filter;
    this.loadingOlder = (async () => {
      try {
        const page = await this.backend.notificationsPage(this.pageSize, before, filter);
        if (this.stopped || before !== this.next || filter !== this.filter) return;
        this.next = page.next;
        let rows = this.state.rows.concat(page.items.filter((n) => n.id < before));
        let offset = this.state.offset;
        if (rows.length > this.cap) {
          // The window slides back: the newest rows go, and are read again when scrolled to.
          const drop = rows.length - this.cap;
          rows = rows.slice(drop);
          offset += drop;
        }
        this.set({ rows, offset });
      } catch (error) {
        if (!this.stopped) this.set({ error: `Could not read older notifications: ${describe(error)}` });
      } finally {
        this.loadingOlder = null;
      }
    })();
    return this.loadingOlder;
  }

  /** Reads the rows just newer than the window (scrolling back up after it slid); one at a time.
   * `near` is the first row in view: far above the window (the scrollbar dragged up), the list starts
   * again from the newest instead of reading every page in between. */
  loadNewer(near?: number): Promise<void> {
    if (near !== undefined && this.state.offset - near > this.pageSize * 2) {
      // Every scroll frame asks while placeholders show: join a reload already under way.
      return this.reloading ?? this.reload();
    }
    const first = this.state.rows[0];
    if (this.loadingNewer || this.state.offset === 0 || !first || this.stopped) return this.loadingNewer ?? Promise.resolve();
    const after = first.id;
    const filter = this.filter;
    const offsetBefore = this.state.offset;
    this.loadingNewer = (async () => {
      try {
        const page = await this.backend.notificationsPage(this.pageSize, null, filter, after);
        if (this.stopped || filter !== this.filter || this.state.rows[0]?.id !== after) return;
        // Live rows counted while the page was read may or may not be in it: a later read settles it.
        const grown = this.state.offset - offsetBefore;
        const offset = page.next === null ? grown : Math.max(grown, this.state.offset - page.items.length);
        let rows = page.items.filter((n) => n.id > after).concat(this.state.rows);
        if (rows.length > this.cap) {
          rows = rows.slice(0, this.cap);
          this.next = rows[rows.length - 1].id;
        }
        this.set({ rows, offset });
      } catch (error) {
        if (!this.stopped) this.set({ error: `Could not read newer notifications: ${describe(error)}` });
      } finally {
        this.loadingNewer = null;
      }
    })();
    return this.loadingNewer;
  }

  get current(): FeedState {
    return this.state;
  }

  /** Subscribes first (queuing batches), then reads the first page, so nothing falls in between. */
  async start(): Promise<void> {
    const unwatch = await this.backend.watchFeed((batch) => this.push(batch));
    if (this.stopped) {
      unwatch();
      return;
    }
    this.unwatch = unwatch;
    await this.reload();
  }

  stop(): void {
    this.stopped = true;
    this.unwatch?.();
    this.unwatch = null;
    this.queue = [];
  }

  /** Queues a feed batch; the queue is applied on the next frame. */
  push(batch: FeedBatch): void {
    if (this.stopped) return;
    this.queue.push(batch);
    if (!this.scheduled) {
      this.scheduled = true;
      this.schedule(() => this.flush());
    }
  }

  /** Applies every queued batch in one update. */
  flush(): void {
    this.scheduled = false;
    if (this.stopped || this.queue.length === 0) return;
    if (this.state.paused) {
      this.holdBack();
      return;
    }
    const batches = this.queue;
    this.queue = [];
    const incoming: Notification[] = [];
    let missed = 0;
    const keeper: KeeperEvent[] = [];
    for (const batch of batches) {
      for (const n of batch.notifications) if (matches(n, this.filter)) incoming.push(n);
      for (const e of batch.keeper ?? []) keeper.push(e);
      missed += batch.missed;
    }
    if (keeper.length > 0) this.options.onKeeper?.(keeper);
    // Scrolled back past the window: new rows are above it, counted until scrolled to.
    const behind = this.state.offset > 0;
    const { rows, added } = behind
      ? { rows: this.state.rows, added: 0 }
      : mergeNewestFirst(this.state.rows, incoming, this.cap);
    if (added > 0 && rows.length < this.state.rows.length + added) {
      // The oldest rows went to make room: they are read again when scrolled to.
      this.next = rows[rows.length - 1].id;
    }
    // Batches held back while paused were counted then.
    const arrived = this.countArrivals(batches.slice(this.countedBatches));
    this.countedBatches = 0;
    if (behind && incoming.length > 0) this.set({ offset: this.state.offset + incoming.length, received: this.state.received + arrived });
    else if (added > 0) this.set({ rows, received: this.state.received + arrived });
    else if (arrived > 0) this.set({ received: this.state.received + arrived });
    if (missed > 0) void this.reload();
  }

  /** While paused, each frame counts only the batches that came since the last one: the counter keeps
   * counting, the list stands still. What waits is only what the list will show (counted, and without
   * the keeper events already handed over). Past what the list can hold, the waiting rows are let go
   * (they are in the store) and resuming reads the first page instead, so a long pause holds no more
   * than a full list in memory, whatever the filter. */
  private holdBack(): void {
    const fresh = this.queue.slice(this.countedBatches);
    if (fresh.length === 0) return;
    const arrived = this.countArrivals(fresh);
    let held = this.state.held;
    const keeper: KeeperEvent[] = [];
    const waiting = fresh.map((batch) => {
      for (const e of batch.keeper ?? []) keeper.push(e);
      if (batch.missed > 0) this.resumeReads = true;
      const shown = batch.notifications.filter((n) => matches(n, this.filter));
      held += shown.length;
      return { ...batch, notifications: shown, keeper: [] };
    });
    if (keeper.length > 0) this.options.onKeeper?.(keeper);
    this.queue = this.queue.slice(0, this.countedBatches).concat(waiting);
    this.countedBatches = this.queue.length;
    if (held > this.cap) {
      this.queue = [];
      this.countedBatches = 0;
      this.resumeReads = true;
    }
    if (held !== this.state.held || arrived > 0) this.set({ held, received: this.state.received + arrived });
  }

  /** Counted once each, filtered out or not: the counter is what arrived, the list what matches. */
  private countArrivals(batches: FeedBatch[]): number {
    let arrived = 0;
    for (const batch of batches) {
      for (const n of batch.notifications) {
        if (this.counted.has(n.id)) continue;
        if (this.counted.size >= 100_000) this.counted.clear();
        this.counted.add(n.id);
        arrived += 1;
      }
    }
    return arrived;
  }

  /** Reads the first page and replaces the rows with it; overlapping calls coalesce. */
  reload(): Promise<void> {
    if (this.reloading) {
      this.reloadAgain = true;
      return this.reloading;
    }
    this.reloading = (async () => {
      do {
        this.reloadAgain = false;
        try {
          const filter = this.filter;
          const page = await this.backend.notificationsPage(this.pageSize, null, filter);
          if (this.stopped) return;
          if (filter !== this.filter) {
            this.reloadAgain = true;
            continue;
          }
          this.next = page.next;
          for (const n of page.items) this.counted.add(n.id);
          const rows = this.state.offset > 0 ? page.items : replaceWithPage(this.state.rows, page.items, this.cap);
          this.set({ rows, offset: 0, loaded: true, error: null });
        } catch (error) {
          if (this.stopped) return;
          this.set({ loaded: true, error: `Could not read notifications: ${describe(error)}` });
        }
      } while (this.reloadAgain && !this.stopped);
    })().finally(() => {
      this.reloading = null;
    });
    return this.reloading;
  }

  private set(patch: Partial<FeedState>): void {
    // `more` is whether a cursor to older rows exists, never set on its own.
    this.state = { ...this.state, ...patch, more: this.next !== null };
    this.options.onChange(this.state);
  }
}

export function describe(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'string') return error;
  try {
    return JSON.stringify(error);
  } catch {
    return String(error);
  }
}
