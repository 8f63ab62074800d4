// An in-memory backend: the screen works in a plain browser (`npm run dev`) and tests drive it directly.
import type { FeedBatch, Notification, Page, ReceiverStatus, SandboxSend, SandboxStatus, TriggerReport } from '../bindings';
import type { Backend, Unwatch } from './types';

let lastMs = 0;
let seq = 0;

/** A time-ordered id shaped like the engine's UUIDv7 ids, so string order is arrival order. */
export function fakeId(now: number = Date.now()): string {
  if (now <= lastMs) {
    seq += 1;
  } else {
    lastMs = now;
    seq = 0;
  }
  const ms = lastMs.toString(16).padStart(12, '0');
  const tail = seq.toString(16).padStart(15, '0');
  return `${ms.slice(0, 8)}-${ms.slice(8)}-7${tail.slice(0, 3)}-8${tail.slice(3, 6)}-${tail.slice(6).padStart(12, '0')}`;
}

/** A plausible accepted change notification; override any field. */
export function makeNotification(fields: Partial<Notification> = {}): Notification {
  return {
    id: fakeId(),
    notificationId: null,
    receivedAt: new Date().toISOString(),
    subscriptionId: '7f105c7d-2dc5-4530-97cd-4e7ae6534c07',
    subscriptionExpirationDateTime: null,
    changeType: 'created',
    lifecycleEvent: null,
    resource: "Users/ab12/Messages('AAMkAGUz')",
    resourceData: null,
    tenantId: null,
    verdict: 'accepted',
    reason: null,
    duplicate: false,
    decrypted: null,
    tokensValid: null,
    requestId: fakeId(),
    position: 0,
    ...fields,
  };
}

export const DEMO_STATUS: ReceiverStatus = {
  urls: {
    localUrl: 'http://127.0.0.1:7878',
    publicUrl: null,
    notificationUrl: 'http://127.0.0.1:7878/notifications',
    lifecycleUrl: 'http://127.0.0.1:7878/lifecycle',
  },
  error: null,
  dataDir: '(in memory)',
};

export class MemoryBackend implements Backend {
  status: ReceiverStatus;
  /** Everything "stored", newest first. */
  stored: Notification[];
  /** What copyText was asked to copy, in order. */
  readonly copied: string[] = [];
  private readonly watchers = new Set<(batch: FeedBatch) => void>();

  constructor(options: { status?: ReceiverStatus; notifications?: Notification[] } = {}) {
    this.status = options.status ?? DEMO_STATUS;
    this.stored = [...(options.notifications ?? [])].sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
  }

  async receiverStatus(): Promise<ReceiverStatus> {
    return structuredClone(this.status);
  }

  async notificationsPage(limit: number, before: string | null): Promise<Page<Notification>> {
    const older = before === null ? this.stored : this.stored.filter((n) => n.id < before);
    const items = older.slice(0, limit);
    const next = older.length > limit && items.length > 0 ? items[items.length - 1].id : null;
    return { items: structuredClone(items), next };
  }

  async watchFeed(onBatch: (batch: FeedBatch) => void): Promise<Unwatch> {
    this.watchers.add(onBatch);
    return () => this.watchers.delete(onBatch);
  }

  async copyText(text: string): Promise<void> {
    this.copied.push(text);
    await globalThis.navigator?.clipboard?.writeText(text).catch(() => undefined);
  }

  /** The fake sandbox: sends become stored notifications, shaped like the simulator's. */
  sandbox: SandboxStatus | null = null;

  async tryWithoutTenant(): Promise<SandboxStatus> {
    this.sandbox ??= {
      graphUrl: 'http://127.0.0.1:47001',
      subscriptionId: '3b9d2f6e-8a41-4c7e-9f0d-5e2a1b4c6d80',
      resource: "/me/mailFolders('inbox')/messages",
      expirationDateTime: new Date(Date.now() + 3_600_000).toISOString(),
    };
    return structuredClone(this.sandbox);
  }

  async sandboxSend(what: SandboxSend): Promise<TriggerReport> {
    if (!this.sandbox) throw new Error('Start "Try without a tenant" first.');
    const subscriptionId = this.sandbox.subscriptionId;
    const base: Partial<Notification> = { subscriptionId, resource: `Users/8b7c/Messages/AAMkAG${fakeId().slice(-8)}` };
    const sent: Partial<Notification>[] =
      what === 'lifecycle'
        ? [{ subscriptionId, changeType: null, lifecycleEvent: 'reauthorizationRequired', resource: null }]
        : what === 'forged'
          ? [{ ...base, verdict: 'rejected', reason: 'The clientState does not match the subscription\u2019s: the item may be forged.' }]
          : what === 'duplicate'
            ? [base, { ...base, duplicate: true }]
            : [base];
    const deliveries = sent.map((fields, i) => ({
      id: i + 1,
      at: new Date().toISOString(),
      url: DEMO_STATUS.urls!.notificationUrl,
      kind: what === 'lifecycle' ? 'lifecycle' : 'notifications',
      attempt: 1,
      items: 1,
      subscriptionIds: [subscriptionId],
      status: 202,
      latencyMs: 1.2,
      outcome: 'delivered' as const,
      error: null,
    }));
    for (const fields of sent) this.emit({ notifications: [makeNotification(fields)] });
    return { notifications: sent.length, subscriptionIds: [subscriptionId], deliveries };
  }

  get watching(): number {
    return this.watchers.size;
  }

  /** Stores the batch's notifications (oldest first, like the engine) and delivers it to every watcher. */
  emit(batch: Partial<FeedBatch>): void {
    const full: FeedBatch = { notifications: [], keeper: [], missed: 0, ...batch };
    for (const n of full.notifications) this.stored.unshift(n);
    for (const watcher of this.watchers) watcher(structuredClone(full));
  }
}

const DEMO_ROWS: Partial<Notification>[] = [
  { changeType: 'created', resource: "Users/0f3a/Messages('AAMkADk2')" },
  { changeType: 'updated', resource: "Users/0f3a/Events('AAMkAGI1')" },
  { changeType: 'deleted', resource: "Users/0f3a/Messages('AAMkADk2')" },
  { changeType: null, lifecycleEvent: 'reauthorizationRequired', resource: null },
  {
    changeType: 'created',
    verdict: 'rejected',
    reason: 'The clientState does not match the subscription\u2019s: the item may be forged.',
  },
  { changeType: 'updated', resource: 'Teams/19:meeting/channels/general/messages', duplicate: true },
];

/** Makes the in-browser fake look alive: a notification every couple of seconds. Returns a stop function. */
export function startDemo(backend: MemoryBackend, everyMs = 2500): () => void {
  let i = 0;
  const timer = setInterval(() => {
    backend.emit({ notifications: [makeNotification(DEMO_ROWS[i++ % DEMO_ROWS.length])] });
  }, everyMs);
  return () => clearInterval(timer);
}
