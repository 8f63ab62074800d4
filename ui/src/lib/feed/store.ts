// The live feed's state machine, free of the DOM and of Svelte: feed batches are queued and applied
// at most once per frame; `missed > 0` (or the first load) reloads the first page from the store.
import type { Backend, Unwatch } from '../backend/types';
import type { FeedBatch, KeeperEvent, Notification } from '../bindings';
import { MAX_ROWS, mergeNewestFirst, replaceWithPage } from './buffer';

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
  private state: FeedState = { rows: [], received: 0, loaded: false, error: null };
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
    const batches = this.queue;
    this.queue = [];
    const incoming: Notification[] = [];
    let missed = 0;
    const keeper: KeeperEvent[] = [];
    for (const batch of batches) {
      for (const n of batch.notifications) incoming.push(n);
      for (const e of batch.keeper ?? []) keeper.push(e);
      missed += batch.missed;
    }
    if (keeper.length > 0) this.options.onKeeper?.(keeper);
    const { rows, added } = mergeNewestFirst(this.state.rows, incoming, this.cap);
    if (added > 0) this.set({ rows, received: this.state.received + added });
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
          const page = await this.backend.notificationsPage(this.pageSize, null);
          if (this.stopped) return;
          this.set({ rows: replaceWithPage(this.state.rows, page.items, this.cap), loaded: true, error: null });
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
