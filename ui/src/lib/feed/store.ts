// The live feed's state machine, free of the DOM and of Svelte: feed batches are queued and applied
// at most once per frame; `missed > 0` (or the first load) reloads the first page from the store.
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
}

/** How many rows scrolling back may load; past this, a filter narrows the list instead. */
export const MAX_LOADED = 20_000;

export interface FeedOptions {
  onChange: (state: FeedState) => void;
  /** What the keeper did, delivered with the frame that carries it. */
  onKeeper?: (events: KeeperEvent[]) => void;
  schedule?: Schedule;
  cap?: number;
  pageSize?: number;
}

export class FeedStore {
  private state: FeedState = { rows: [], received: 0, loaded: false, error: null, paused: false, held: 0, more: false };
  private filter: NotificationFilter = EMPTY_FILTER;
  /** Rows the list may hold: the cap, raised as the user scrolls back through older pages. */
  private limit: number;
  private next: string | null = null;
  private loadingOlder: Promise<void> | null = null;
  private readonly counted = new Set<string>();
  private queue: FeedBatch[] = [];
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
    this.limit = this.cap;
  }

  /** Narrows the list: the first page is read again with the filter, live rows are matched against it. */
  setFilter(filter: NotificationFilter): Promise<void> {
    this.filter = tidy(filter);
    this.limit = this.cap;
    // An older page still being read belongs to the old filter: its answer is dropped (see loadOlder).
    this.next = null;
    // Rows held back while paused are in the new first page already.
    this.queue = [];
    this.set({ rows: [], loaded: false, held: 0 });
    return this.reload();
  }

  /** Holds live rows back so the list stands still; they are counted meanwhile. */
  pause(): void {
    this.set({ paused: true });
  }

  /** Applies everything held back in one update. */
  resume(): void {
    this.set({ paused: false, held: 0 });
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
        this.limit = Math.min(MAX_LOADED, this.state.rows.length + page.items.length);
        this.next = this.limit >= MAX_LOADED ? null : page.next;
        const { rows } = mergeNewestFirst(this.state.rows, page.items, this.limit);
        this.set({ rows, more: this.next !== null });
      } catch (error) {
        if (!this.stopped) this.set({ error: `Could not read older notifications: ${describe(error)}` });
      } finally {
        this.loadingOlder = null;
      }
    })();
    return this.loadingOlder;
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
      const held = this.queue.reduce((sum, b) => sum + b.notifications.filter((n) => matches(n, this.filter)).length, 0);
      const keeper = this.queue.flatMap((b) => b.keeper ?? []);
      if (keeper.length > 0) this.options.onKeeper?.(keeper);
      // Keep the notifications, drop the keeper events already delivered.
      this.queue = this.queue.map((b) => ({ ...b, keeper: [] }));
      if (held !== this.state.held) this.set({ held });
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
    const { rows, added } = mergeNewestFirst(this.state.rows, incoming, this.limit);
    // Counted once each, filtered out or not: the counter is what arrived, the list what matches.
    let arrived = 0;
    for (const batch of batches) {
      for (const n of batch.notifications) {
        if (this.counted.has(n.id)) continue;
        if (this.counted.size >= 100_000) this.counted.clear();
        this.counted.add(n.id);
        arrived += 1;
      }
    }
    if (added > 0) this.set({ rows, received: this.state.received + arrived });
    else if (arrived > 0) this.set({ received: this.state.received + arrived });
    if (missed > 0) void this.reload();
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
          this.set({ rows: replaceWithPage(this.state.rows, page.items, this.limit), loaded: true, error: null, more: page.next !== null });
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
    this.state = { ...this.state, ...patch };
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
