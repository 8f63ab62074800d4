// An in-memory backend: the screen works in a plain browser (`npm run dev`) and tests drive it directly.
import type {
  FeedBatch,
  GraphStatus,
  KeeperEvent,
  Notification,
  Page,
  ReceiverStatus,
  ResourceKind,
  SandboxSend,
  SandboxStatus,
  SubscribeInput,
  Subscription,
  SubscriptionView,
  TriggerReport,
} from '../bindings';
import { CHANGE_TYPES, kindFor, lifetimeSeconds, minutesText } from '../subscriptions/catalog';
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

function kind(fields: Partial<ResourceKind> & Pick<ResourceKind, 'name' | 'paths' | 'changeTypes'>): ResourceKind {
  return {
    workload: 'outlook',
    odataType: `#Microsoft.Graph.${fields.name}`,
    example: fields.paths[0],
    maxLifetimeMinutes: 4230,
    richMaxLifetimeMinutes: null,
    delegatedPermission: null,
    applicationPermission: null,
    rich: false,
    richNeedsSelect: false,
    lifecycleUrlRequiredOverAnHour: false,
    removedAndMissedEvents: false,
    ...fields,
  };
}

/** A slice of the engine's catalog, with the same rules. */
export const DEMO_CATALOG: ResourceKind[] = [
  kind({
    name: 'message',
    paths: ['me/messages', 'users/*/messages', 'me/mailfolders/*/messages', 'users/*/mailfolders/*/messages'],
    example: "/me/mailFolders('inbox')/messages",
    changeTypes: ['created', 'updated', 'deleted'],
    maxLifetimeMinutes: 10080,
    richMaxLifetimeMinutes: 1440,
    delegatedPermission: 'Mail.ReadBasic',
    applicationPermission: 'Mail.Read',
    rich: true,
    richNeedsSelect: true,
    removedAndMissedEvents: true,
  }),
  kind({
    name: 'user',
    workload: 'directory',
    paths: ['users', 'users/*'],
    changeTypes: ['updated', 'deleted'],
    maxLifetimeMinutes: 41760,
    delegatedPermission: 'User.Read.All',
    applicationPermission: 'User.Read.All',
  }),
  kind({
    name: 'presence',
    workload: 'presence',
    paths: ['communications/presences/*'],
    example: '/communications/presences/{id}',
    changeTypes: ['updated'],
    maxLifetimeMinutes: 60,
    delegatedPermission: 'Presence.Read.All',
    rich: true,
  }),
];

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

  /** The fake Graph: disconnected until "Try without a tenant", like the app without credentials. */
  graph: GraphStatus = {
    connected: false,
    graphUrl: null,
    tenantId: null,
    clientId: null,
    simulated: false,
    message: 'No Graph credentials: run `hookscope login`, or press "Try without a tenant".',
  };
  kept: SubscriptionView[] = [];
  history: KeeperEvent[] = [];

  async graphStatus(): Promise<GraphStatus> {
    if (this.sandbox) {
      this.graph = { connected: true, graphUrl: this.sandbox.graphUrl, tenantId: '5e1c7d2a', clientId: '3f2a9b1c', simulated: true, message: null };
    }
    return structuredClone(this.graph);
  }

  async catalog(): Promise<ResourceKind[]> {
    return structuredClone(DEMO_CATALOG);
  }

  async subscriptions(): Promise<SubscriptionView[]> {
    return structuredClone(this.kept);
  }

  async subscribe(input: SubscribeInput): Promise<Subscription> {
    if (!this.graph.connected && !this.sandbox) throw new Error(this.graph.message ?? 'Not connected to Graph.');
    if (!input.resource.trim()) throw new Error('Name a resource to watch, such as users/{id}/messages.');
    const types = input.changeTypes.split(',').map((t) => t.trim().toLowerCase()).filter(Boolean);
    if (types.length === 0) throw new Error('Choose at least one change type: created, updated or deleted.');
    const unknown = types.find((t) => !CHANGE_TYPES.includes(t as never));
    if (unknown) throw new Error(`'${unknown}' is not a change type; use created, updated or deleted.`);
    const found = kindFor(input.resource, DEMO_CATALOG);
    const refused = found && types.find((t) => !found.changeTypes.includes(t as never));
    if (found && refused) throw new Error(`${input.resource} does not send '${refused}' notifications; use ${found.changeTypes.join(',')}.`);
    const max = (found?.maxLifetimeMinutes ?? 4230) * 60;
    const asked = lifetimeSeconds(input.expiresIn);
    if (asked !== null && asked > max) {
      throw new Error(`${found?.name ?? 'These'} subscriptions live at most ${minutesText(max / 60)} (${max / 60} minutes); ask for less or use max.`);
    }
    const now = Date.now();
    const seconds = asked ?? max - Math.max(60, max / 100);
    const created: Subscription = {
      id: crypto.randomUUID(),
      resource: input.resource.trim(),
      changeType: types.join(','),
      notificationUrl: DEMO_STATUS.urls!.notificationUrl,
      lifecycleNotificationUrl: input.lifecycle ? DEMO_STATUS.urls!.lifecycleUrl : null,
      expirationDateTime: new Date(now + seconds * 1000).toISOString(),
      includeResourceData: input.rich,
      tenantId: '5e1c7d2a',
      autoRenew: input.autoRenew,
      status: 'active',
      lastError: null,
    };
    this.kept.unshift(this.view(created, now));
    return structuredClone(created);
  }

  private view(s: Subscription, granted: number): SubscriptionView {
    const expiry = new Date(s.expirationDateTime).getTime();
    const renews = s.autoRenew && s.status === 'active' ? new Date(expiry - (expiry - granted) / 3).toISOString() : null;
    return { ...s, grantedAt: new Date(granted).toISOString(), renewsAt: renews };
  }

  async renew(id: string, expiresIn: string): Promise<Subscription> {
    const index = this.kept.findIndex((s) => s.id === id);
    if (index < 0) throw new Error(`No subscription ${id} here; \`hookscope subscriptions list\` shows the ids.`);
    const now = Date.now();
    const seconds = lifetimeSeconds(expiresIn) ?? 10080 * 60 - 6048;
    const { grantedAt: _g, renewsAt: _r, ...current } = this.kept[index];
    const renewed: Subscription = { ...current, expirationDateTime: new Date(now + seconds * 1000).toISOString(), status: 'active', lastError: null };
    this.kept[index] = this.view(renewed, now);
    return structuredClone(renewed);
  }

  async deleteSubscription(id: string): Promise<void> {
    const found = this.kept.find((s) => s.id === id);
    if (!found) throw new Error(`No subscription ${id} here or at Graph.`);
    found.status = 'removed';
    found.autoRenew = false;
    found.renewsAt = null;
  }

  async keeperHistory(subscriptionId: string | null): Promise<KeeperEvent[]> {
    return structuredClone(this.history.filter((e) => subscriptionId === null || e.subscriptionId === subscriptionId));
  }

  /** What the keeper would publish: recorded, and delivered to watchers in a feed batch. */
  keep(event: KeeperEvent): void {
    this.history.unshift(event);
    this.emit({ keeper: [event] });
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
