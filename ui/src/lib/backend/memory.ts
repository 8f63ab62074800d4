// An in-memory backend: the screen works in a plain browser (`npm run dev`) and tests drive it directly.
import type {
  ChangeType,
  Check,
  CurrentResource,
  DeviceCode,
  ExportFormat,
  ExportSummary,
  FeedBatch,
  GraphStatus,
  Inspection,
  KeeperEvent,
  Notification,
  NotificationFilter,
  Page,
  ReceiverStatus,
  ReplayEdits,
  ReplayOutcome,
  ReplayTarget,
  RemoteSubscription,
  ResourceKind,
  SandboxSend,
  SandboxStatus,
  Settings,
  SettingsChange,
  SettingsView,
  SubscribeInput,
  Subscription,
  SubscriptionView,
  TriggerReport,
} from '../bindings';
import { CHANGE_TYPES, kindFor, lifetimeSeconds } from '../subscriptions/catalog';
import { matches } from '../feed/filter';
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
    replayOf: null,
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
  tunnel: null,
  forwardTo: null,
};

export const DEFAULT_SETTINGS: Settings = {
  port: 7878,
  tunnel: 'none',
  publicUrl: null,
  ngrokDomain: null,
  forwardTo: null,
  forwardHandshake: false,
  toasts: { enabled: true, muted: [] },
  theme: 'system',
  retentionDays: null,
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
    example: '/users',
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

/** `created,updated` as the engine reads it: trimmed, any case, repeats dropped, in a fixed order. */
function changeTypes(text: string): ChangeType[] {
  const types = new Set<ChangeType>();
  for (const part of text.split(',')) {
    const t = part.trim().toLowerCase();
    if (t === '') continue;
    if (!CHANGE_TYPES.includes(t as ChangeType)) throw new Error(`'${t}' is not a change type; use created, updated or deleted.`);
    types.add(t as ChangeType);
  }
  if (types.size === 0) throw new Error('changeType is empty; use created, updated or deleted.');
  return CHANGE_TYPES.filter((t) => types.has(t));
}

/** `3d 22h 30m`, the way the engine's errors show a span. */
function span(seconds: number): string {
  const parts = [
    [Math.floor(seconds / 86400), 'd'],
    [Math.floor(seconds / 3600) % 24, 'h'],
    [Math.floor(seconds / 60) % 60, 'm'],
  ].filter(([n]) => n !== 0);
  return parts.length ? parts.map(([n, unit]) => `${n}${unit}`).join(' ') : `${seconds}s`;
}

/** The expiry the engine would ask Graph for; `null` asks for the maximum less a margin for clock skew. */
function expiryFor(asked: number | null, resource: string, rich: boolean, now: number): string {
  const found = kindFor(resource, DEMO_CATALOG);
  const maxMinutes = found ? ((rich ? found.richMaxLifetimeMinutes : null) ?? found.maxLifetimeMinutes) : 4230;
  const max = maxMinutes * 60;
  if (asked !== null && asked > max) {
    throw new Error(`${found?.name ?? 'These'} subscriptions live at most ${span(max)} (${maxMinutes} minutes); ask for less or use max.`);
  }
  const seconds = asked ?? max - Math.min(Math.max(Math.floor(max / 100), 60), Math.floor(max / 2));
  return new Date(now + seconds * 1000).toISOString();
}

/** The keeper's schedule for a subscription granted at `granted`: renewed with a third of its lifetime left. */
function withSchedule(s: Subscription, granted: number): SubscriptionView {
  const expiry = new Date(s.expirationDateTime).getTime();
  const kept = s.autoRenew && s.status === 'active';
  return { ...s, grantedAt: new Date(granted).toISOString(), renewsAt: kept ? new Date(expiry - (expiry - granted) / 3).toISOString() : null };
}

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

  async notificationsPage(limit: number, before: string | null, filter?: NotificationFilter, after?: string | null): Promise<Page<Notification>> {
    const chosen = this.stored.filter(
      (n) => (before === null || n.id < before) && (after == null || n.id > after) && (!filter || matches(n, filter)),
    );
    if (after != null) {
      // The `limit` rows just newer than `after`: the oldest of the newer ones, still newest first.
      const items = limit === 0 ? chosen : chosen.slice(Math.max(0, chosen.length - limit));
      // As the engine: a full page names its newest row as the cursor, whether more follow or not.
      return { items: structuredClone(items), next: limit > 0 && items.length === limit ? items[0].id : null };
    }
    const items = chosen.slice(0, limit);
    const next = chosen.length > limit && items.length > 0 ? items[items.length - 1].id : null;
    return { items: structuredClone(items), next };
  }

  /** What the inspector shows for a stored notification; tests put rich items and odd requests here. */
  readonly inspections = new Map<string, Inspection>();

  async inspect(id: string): Promise<Inspection> {
    const known = this.inspections.get(id);
    if (known) return structuredClone(known);
    const n = this.stored.find((s) => s.id === id);
    if (!n) throw new Error(`Notification ${id} is not stored here; it may belong to another data directory.`);
    const item = JSON.stringify({
      id: n.notificationId,
      subscriptionId: n.subscriptionId,
      changeType: n.changeType ?? undefined,
      lifecycleEvent: n.lifecycleEvent ?? undefined,
      resource: n.resource,
      tenantId: n.tenantId,
      resourceData: n.resourceData ?? undefined,
    });
    const body = `{"value":[${item}]}`;
    return {
      notification: structuredClone(n),
      item,
      request: {
        id: n.requestId,
        receivedAt: n.receivedAt,
        method: 'POST',
        path: n.lifecycleEvent ? '/lifecycle' : '/notifications',
        query: null,
        headers: { 'content-type': 'application/json; charset=utf-8', 'user-agent': 'Microsoft-Graph-Change-Notifications' },
        body,
        bodySize: body.length,
        bodyTruncated: false,
        kind: n.lifecycleEvent ? 'lifecycle' : 'notifications',
        status: 202,
        response: '',
        latencyMs: 1.4,
        replayOf: n.replayOf,
      },
      relays: [],
      replayHeaders: { 'content-type': 'application/json; charset=utf-8', 'user-agent': 'Microsoft-Graph-Change-Notifications' },
    };
  }

  /** Resources asked for, in order; a resource listed in `goneAtGraph` answers as a deleted one does. */
  readonly fetches: { id: string; select: string }[] = [];
  readonly goneAtGraph = new Set<string>();

  async fetchCurrentResource(id: string, select: string): Promise<CurrentResource> {
    this.fetches.push({ id, select });
    if (!this.graph.connected) throw new Error(this.graph.message ?? 'Hookscope is not connected to Graph.');
    const n = this.stored.find((s) => s.id === id);
    if (!n) throw new Error(`No stored notification has the id ${id}.`);
    if (n.verdict !== 'accepted') {
      const why = n.reason ? ` (${n.reason.trim().replace(/\.$/, '')})` : '';
      throw new Error(`Notification ${n.id} was rejected${why}; Hookscope fetches resources only for accepted notifications.`);
    }
    if (n.lifecycleEvent) throw new Error(`A ${n.lifecycleEvent} lifecycle event names no resource to fetch; open a change notification instead.`);
    const path = (n.resource ?? '').replace(/^\//, '');
    if (this.goneAtGraph.has(path)) {
      throw new Error(
        `Fetching the resource failed (ResourceNotFound): Resource '${path}' does not exist or one of its queried reference-property objects are not present; it was deleted or moved after the notification, or this app cannot see it.`,
      );
    }
    const names = select.split(',').map((s) => s.trim()).filter(Boolean);
    const whole: Record<string, unknown> = { '@odata.context': `https://graph.microsoft.com/v1.0/$metadata#${path}/$entity`, id: path.split('/').pop(), subject: 'Simulated message', isRead: false, importance: 'normal' };
    const body = Object.fromEntries(Object.entries(whole).filter(([k]) => k.startsWith('@') || k === 'id' || names.length === 0 || names.includes(k)));
    const query = names.length ? `?$select=${names.join(',')}` : '';
    return { url: `https://graph.microsoft.com/v1.0/${path}${query}`, body: JSON.stringify(body, null, 2), fetchedAt: new Date().toISOString(), elapsedMs: 84.2 };
  }

  /** Replays asked for, in order (what a test checks was sent). */
  readonly replays: { id: string; target: ReplayTarget; edits: ReplayEdits }[] = [];

  async replay(id: string, target: ReplayTarget, edits: ReplayEdits): Promise<ReplayOutcome> {
    const original = this.stored.find((n) => n.id === id || n.requestId === id);
    if (!original) throw new Error(`No delivery ${id} here; \`hookscope requests\` and \`hookscope notifications\` show the ids.`);
    this.replays.push({ id, target, edits: structuredClone(edits) });
    const requestId = fakeId();
    if (target.kind === 'receiver') {
      const copy = makeNotification({ ...original, id: fakeId(), requestId, duplicate: edits.body === null, replayOf: original.requestId });
      this.emit({ notifications: [copy] });
    }
    return {
      originalRequestId: original.requestId,
      url: target.kind === 'receiver' ? DEMO_STATUS.urls!.notificationUrl : target.url,
      status: 202,
      body: '',
      latencyMs: 1.1,
      requestId: target.kind === 'receiver' ? requestId : null,
      edited: edits.body !== null || Object.keys(edits.headers).length > 0,
    };
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

  /** Starts the fake simulator: Graph becomes connected, and its first subscription is kept, as in the app. */
  async tryWithoutTenant(): Promise<SandboxStatus> {
    if (!this.sandbox) {
      const now = Date.now();
      const graphUrl = 'http://127.0.0.1:47001';
      this.sandbox = {
        graphUrl,
        subscriptionId: '3b9d2f6e-8a41-4c7e-9f0d-5e2a1b4c6d80',
        resource: "/me/mailFolders('inbox')/messages",
        expirationDateTime: new Date(now + 3_600_000).toISOString(),
        richSubscriptionId: '7c1e4a2b-5d6f-4e80-9a1b-2c3d4e5f6a70',
        richResource: '/chats/getAllMessages',
      };
      if (!this.graph.connected) {
        this.graph = { connected: true, graphUrl, tenantId: '5e1c7d2a-0b7f-4c61-9a3e-2f8d6b4a1c90', clientId: '3f2a9b1c-6d4e-4f80-a2b7-9c1e5d3f7a64', simulated: true, message: null };
      }
      const subscription: Subscription = {
        id: this.sandbox.subscriptionId,
        resource: this.sandbox.resource,
        changeType: 'created,updated,deleted',
        notificationUrl: DEMO_STATUS.urls!.notificationUrl,
        lifecycleNotificationUrl: DEMO_STATUS.urls!.lifecycleUrl,
        expirationDateTime: this.sandbox.expirationDateTime,
        includeResourceData: false,
        tenantId: this.graph.tenantId,
        autoRenew: true,
        status: 'active',
        lastError: null,
        applicationId: this.graph.clientId,
        loginUrl: graphUrl,
        encryptionCertificateId: null,
      };
      this.kept.unshift(withSchedule(subscription, now));
    }
    return structuredClone(this.sandbox);
  }

  async sandboxSend(what: SandboxSend): Promise<TriggerReport> {
    if (!this.sandbox) throw new Error('Start "Try without a tenant" first.');
    const rich = what === 'rich' || what === 'richForged';
    const subscriptionId = rich ? this.sandbox.richSubscriptionId : this.sandbox.subscriptionId;
    const base: Partial<Notification> = { subscriptionId, resource: `Users/8b7c/Messages/AAMkAG${fakeId().slice(-8)}` };
    const chat: Partial<Notification> = {
      subscriptionId,
      resource: `chats('19:demo@thread.v2')/messages('${Date.now()}')`,
      tokensValid: true,
      decrypted: { '@odata.context': "https://graph.microsoft.com/$metadata#chats('19:demo@thread.v2')/messages/$entity", body: { contentType: 'text', content: 'Hello World' } },
    };
    const sent: Partial<Notification>[] =
      what === 'lifecycle'
        ? [{ subscriptionId, changeType: null, lifecycleEvent: 'reauthorizationRequired', resource: null }]
        : what === 'forged'
          ? [{ ...base, verdict: 'rejected', reason: 'The clientState does not match the subscription\u2019s: the item may be forged.' }]
          : what === 'duplicate'
            ? [base, { ...base, duplicate: true }]
            : what === 'rich'
              ? [chat]
              : what === 'richForged'
                ? [{ ...chat, decrypted: null, tokensValid: false, verdict: 'rejected', reason: 'Validation token 1 of 1: its signature does not verify. Nothing in this batch is trusted or decrypted.' }]
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

  async doctor(): Promise<Check[]> {
    const receiver: Check = this.status.urls
      ? { name: 'receiver', health: 'ok', detail: `The receiver answers the handshake at ${this.status.urls.notificationUrl}.`, fix: null }
      : { name: 'receiver', health: 'fail', detail: this.status.error ?? 'The receiver is not listening.', fix: 'Free the port or pick another one.' };
    if (!this.graph.connected) {
      return [
        { name: 'credentials', health: 'fail', detail: 'No credentials were found.', fix: 'Run `hookscope login`, or `hookscope simulate` to try without a tenant.' },
        receiver,
      ];
    }
    return [
      { name: 'credentials', health: 'ok', detail: `App ${this.graph.clientId} in tenant ${this.graph.tenantId}.`, fix: null },
      { name: 'token', health: 'ok', detail: 'A token was issued.', fix: null },
      { name: 'graph', health: 'ok', detail: `${this.graph.graphUrl} answers.`, fix: null },
      receiver,
      {
        name: 'publicUrl',
        health: 'warn',
        detail: 'No public URL: only the simulator on this machine can reach the receiver.',
        fix: 'Start a tunnel (hookscope listen --public-url https://…) before subscribing at a real tenant.',
      },
      ...this.kept.map<Check>((s) => ({ name: 'subscription', health: 'ok', detail: `${s.id} on ${s.resource} is active at Graph.`, fix: null })),
    ];
  }

  /** Where the fake Graph is: disconnected until "Try without a tenant", like the app without credentials. */
  graph: GraphStatus = {
    connected: false,
    graphUrl: null,
    tenantId: null,
    clientId: null,
    simulated: false,
    message: 'Hookscope is not connected to Graph: no credentials were found; run `hookscope login`. Or press "Try without a tenant".',
  };
  /** The subscriptions Hookscope keeps, newest first, as `subscriptions_list` returns them. */
  kept: SubscriptionView[] = [];
  /** Subscriptions Graph holds that are unknown here (made elsewhere, or forgotten). */
  orphans: Subscription[] = [];
  /** The keeper's record, newest first. */
  history: KeeperEvent[] = [];

  async graphStatus(): Promise<GraphStatus> {
    return structuredClone(this.graph);
  }

  async catalog(): Promise<ResourceKind[]> {
    return structuredClone(DEMO_CATALOG);
  }

  async subscriptions(): Promise<SubscriptionView[]> {
    return structuredClone(this.kept);
  }

  private connected(): void {
    if (!this.graph.connected) throw new Error(this.graph.message ?? 'Hookscope is not connected to Graph.');
  }

  /** The engine's checks, in its order and with its sentences: the form, the catalog, the connection, the lifetime. */
  async subscribe(input: SubscribeInput): Promise<Subscription> {
    const resource = input.resource.trim();
    if (!resource) throw new Error('Name a resource to watch, such as users/{id}/messages.');
    const asked = lifetimeSeconds(input.expiresIn);
    const types = changeTypes(input.changeTypes);
    const found = kindFor(resource, DEMO_CATALOG);
    const refused = found && types.find((t) => !found.changeTypes.includes(t));
    if (found && refused) throw new Error(`${resource} does not send '${refused}' notifications; use ${found.changeTypes.join(',')}.`);
    if (found && input.rich && !found.rich) {
      throw new Error(`${found.name} notifications cannot include resource data; subscribe without --rich and fetch the resource.`);
    }
    this.connected();
    const now = Date.now();
    const created: Subscription = {
      id: crypto.randomUUID(),
      resource,
      changeType: types.join(','),
      notificationUrl: DEMO_STATUS.urls!.notificationUrl,
      lifecycleNotificationUrl: input.lifecycle ? DEMO_STATUS.urls!.lifecycleUrl : null,
      expirationDateTime: expiryFor(asked, resource, input.rich, now),
      includeResourceData: input.rich,
      tenantId: this.graph.tenantId,
      autoRenew: input.autoRenew,
      status: 'active',
      lastError: null,
      applicationId: this.graph.clientId,
      loginUrl: this.graph.graphUrl,
      // The engine makes (or reuses) a certificate for rich subscriptions; its id is echoed here.
      encryptionCertificateId: input.rich ? 'hookscope-demo-certificate' : null,
    };
    this.kept.unshift(withSchedule(created, now));
    return structuredClone(created);
  }

  async renew(id: string, expiresIn: string): Promise<Subscription> {
    const asked = lifetimeSeconds(expiresIn);
    this.connected();
    const index = this.kept.findIndex((s) => s.id === id);
    if (index < 0) throw new Error(`No subscription ${id} here; \`hookscope subscriptions list\` shows the ids.`);
    const { grantedAt: _granted, renewsAt: _renews, ...current } = this.kept[index];
    const now = Date.now();
    const expirationDateTime = expiryFor(asked, current.resource, current.includeResourceData, now);
    if (current.status === 'removed' || current.status === 'expired') {
      this.kept[index] = { ...this.kept[index], status: 'expired', lastError: 'Graph no longer has this subscription.' };
      throw new Error(`Graph no longer has subscription ${id} (it expired or was deleted); create it again with \`hookscope subscribe\`.`);
    }
    const renewed: Subscription = { ...current, expirationDateTime, status: 'active', lastError: null };
    this.kept[index] = withSchedule(renewed, now);
    return structuredClone(renewed);
  }

  async deleteSubscription(id: string): Promise<void> {
    this.connected();
    const orphan = this.orphans.findIndex((s) => s.id === id);
    if (orphan >= 0) {
      this.orphans.splice(orphan, 1);
      return;
    }
    const index = this.kept.findIndex((s) => s.id === id);
    if (index < 0) throw new Error(`No subscription ${id} here or at Graph; \`hookscope subscriptions list --remote\` shows both.`);
    this.kept[index] = { ...this.kept[index], status: 'removed', autoRenew: false, renewsAt: null };
  }

  /** What Graph holds: the kept subscriptions it still has, and the orphans. */
  async remoteSubscriptions(): Promise<RemoteSubscription[]> {
    this.connected();
    const live = this.kept
      .filter((s) => s.status === 'active' || s.status === 'failed')
      .map(({ grantedAt: _granted, renewsAt: _renews, ...s }) => ({ ...s, orphan: false }));
    return structuredClone([...live, ...this.orphans.map((s) => ({ ...s, orphan: true }))]);
  }

  async keeperHistory(subscriptionId: string | null): Promise<KeeperEvent[]> {
    return structuredClone(this.history.filter((e) => subscriptionId === null || e.subscriptionId === subscriptionId));
  }

  /** What the keeper would publish: recorded, and delivered to watchers in a feed batch. */
  keep(event: KeeperEvent): void {
    this.history.unshift(event);
    this.emit({ keeper: [event] });
  }

  private readonly statusWatchers = new Set<(status: ReceiverStatus) => void>();

  async watchStatus(onStatus: (status: ReceiverStatus) => void): Promise<Unwatch> {
    this.statusWatchers.add(onStatus);
    onStatus(structuredClone(this.status));
    return () => this.statusWatchers.delete(onStatus);
  }

  /** The receiver's status changed (a tunnel came up): every watcher hears it. */
  setStatus(status: ReceiverStatus): void {
    this.status = status;
    for (const watcher of this.statusWatchers) watcher(structuredClone(status));
  }

  saved: Settings = structuredClone(DEFAULT_SETTINGS);
  /** The ngrok authtoken "in the keyring"; the screen only ever learns whether it is set. */
  ngrokAuthtoken: string | null = null;

  async settings(): Promise<SettingsView> {
    return { settings: structuredClone(this.saved), ngrokAuthtokenSet: this.ngrokAuthtoken !== null, ngrokFromEnvironment: false };
  }

  /** The engine's checks, the same sentences; a saved port or tunnel change moves the status. */
  async saveSettings(change: SettingsChange): Promise<SettingsView> {
    const s = structuredClone(change.settings);
    const tidy = (v: string | null) => (v === null || v.trim() === '' ? null : v.trim());
    s.publicUrl = tidy(s.publicUrl)?.replace(/\/+$/, '') ?? null;
    s.ngrokDomain = tidy(s.ngrokDomain);
    s.forwardTo = tidy(s.forwardTo);
    if (s.tunnel === 'publicUrl' && s.publicUrl === null) {
      throw new Error('Give the public URL your tunnel or proxy serves (https://…), or choose another tunnel mode.');
    }
    if (s.publicUrl !== null && !/^https?:\/\/[^/\s]+/.test(s.publicUrl)) {
      throw new Error(`The public URL "${s.publicUrl}" must start with https:// (Graph only calls HTTPS URLs).`);
    }
    if (s.forwardTo !== null && !/^https?:\/\/[^/\s]+/.test(s.forwardTo)) {
      throw new Error(`The forward target "${s.forwardTo}" must be an http:// or https:// URL, like http://localhost:3000/api/notifications.`);
    }
    if (s.forwardHandshake && s.forwardTo === null) {
      throw new Error("Passing Graph's handshake through needs a forward target; give the URL of your app.");
    }
    if (s.retentionDays !== null && !(s.retentionDays >= 1 && s.retentionDays <= 3650)) {
      throw new Error('Keep deliveries for 1 to 3650 days, or leave the retention empty to keep everything.');
    }
    if (s.retentionDays !== null) {
      const cutoff = Date.now() - s.retentionDays * 86_400_000;
      this.stored = this.stored.filter((n) => Date.parse(n.receivedAt) >= cutoff);
    }
    if (change.forgetNgrokAuthtoken) this.ngrokAuthtoken = null;
    if (change.ngrokAuthtoken?.trim()) this.ngrokAuthtoken = change.ngrokAuthtoken.trim();
    this.saved = s;
    const local = `http://127.0.0.1:${s.port}`;
    const publicUrl = s.tunnel === 'publicUrl' ? s.publicUrl : null;
    const root = publicUrl ?? local;
    this.setStatus({
      ...this.status,
      urls: { localUrl: local, publicUrl, notificationUrl: `${root}/notifications`, lifecycleUrl: `${root}/lifecycle` },
      tunnel: s.tunnel === 'none' ? null : s.tunnel === 'publicUrl' ? { state: 'online', url: root } : { state: 'connecting' },
      forwardTo: s.forwardTo,
    });
    return this.settings();
  }

  /** Sign-in calls in order, for tests. */
  readonly signIns: string[] = [];

  async signInApp(tenant: string, clientId: string, secret: string, cloud?: string | null): Promise<GraphStatus> {
    this.signIns.push(`app ${tenant} ${clientId}${cloud ? ` ${cloud}` : ''}`);
    if (!tenant.trim() || !clientId.trim()) throw new Error("Fill in the tenant id and the client id from the app registration's overview page.");
    if (!secret.trim()) throw new Error('Paste the client secret (its value, not its id) from Certificates & secrets.');
    const hosts: Record<string, string> = { usgov: 'https://graph.microsoft.us', dod: 'https://dod-graph.microsoft.us', china: 'https://microsoftgraph.chinacloudapi.cn' };
    const graphUrl = hosts[cloud ?? ''] ?? 'https://graph.microsoft.com';
    this.graph = { connected: true, graphUrl, tenantId: tenant, clientId, simulated: false, message: null };
    return structuredClone(this.graph);
  }

  async startDeviceSignIn(tenant: string, clientId: string, scopes: string | null, cloud?: string | null): Promise<DeviceCode> {
    this.signIns.push(`device ${tenant} ${clientId} ${scopes ?? ''}${cloud ? ` ${cloud}` : ''}`.trim());
    if (!tenant.trim() || !clientId.trim()) throw new Error("Fill in the tenant id and the client id from the app registration's overview page.");
    return {
      userCode: 'HKSCP123',
      verificationUri: 'https://microsoft.com/devicelogin',
      message: 'To sign in, use a web browser to open the page https://microsoft.com/devicelogin and enter the code HKSCP123 to authenticate.',
      expiresIn: 900,
      interval: 5,
    };
  }

  async openSignInPage(): Promise<void> {
    this.signIns.push('open page');
  }

  async finishDeviceSignIn(): Promise<GraphStatus> {
    this.signIns.push('finish');
    this.graph = { connected: true, graphUrl: 'https://graph.microsoft.com', tenantId: 'contoso', clientId: 'app', simulated: false, message: null };
    return structuredClone(this.graph);
  }

  async signOut(): Promise<GraphStatus> {
    this.signIns.push('sign out');
    this.graph = { connected: false, graphUrl: null, tenantId: null, clientId: null, simulated: false, message: 'Hookscope is not connected to Graph: no credentials were found.' };
    return structuredClone(this.graph);
  }

  /** Exports asked for, in order. */
  readonly exports: { format: ExportFormat; filter: NotificationFilter }[] = [];

  async exportNotifications(format: ExportFormat, filter: NotificationFilter): Promise<ExportSummary> {
    this.exports.push({ format, filter: structuredClone(filter) });
    const chosen = this.stored.filter((n) => matches(n, filter));
    return {
      notifications: chosen.length,
      requests: new Set(chosen.map((n) => n.requestId)).size,
      path: `/home/you/Downloads/hookscope-export.${format}`,
    };
  }

  private readonly openers = new Set<(id: string) => void>();

  async onOpenNotification(open: (id: string) => void): Promise<Unwatch> {
    this.openers.add(open);
    return () => this.openers.delete(open);
  }

  /** Plays a click on a toast about notification `id`. */
  clickToast(id: string): void {
    for (const open of this.openers) open(id);
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
