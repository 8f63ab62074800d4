// The only module allowed to import `@tauri-apps/*` (tests/imports.test.ts enforces it).
import { Channel, invoke } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';
import type {
  Check,
  CurrentResource,
  DeviceCode,
  ExportSummary,
  FeedBatch,
  GraphStatus,
  Inspection,
  KeeperEvent,
  Notification,
  Page,
  ReceiverStatus,
  ReplayEdits,
  ReplayOutcome,
  ReplayTarget,
  RemoteSubscription,
  ResourceKind,
  SandboxStatus,
  SettingsView,
  Subscription,
  SubscriptionView,
  TriggerReport,
} from '../bindings';
import type { Backend, Unwatch } from './types';

export function isTauri(): boolean {
  return typeof window !== 'undefined' && '__TAURI_INTERNALS__' in window;
}

/** Hands a `Channel` to a streaming command; messages reach `on` until unwatched. There is no unwatch
 * command: the Rust side stops when the channel's webview goes away. */
async function watchChannel<T>(command: string, on: (message: T) => void): Promise<Unwatch> {
  let active = true;
  const channel = new Channel<T>();
  channel.onmessage = (message) => {
    if (active) on(message);
  };
  await invoke<void>(command, { channel });
  return () => {
    active = false;
  };
}

export function createTauriBackend(): Backend {
  return {
    receiverStatus: () => invoke<ReceiverStatus>('receiver_status'),

    notificationsPage: (limit, before, filter, after) =>
      invoke<Page<Notification>>('notifications_page', { limit, before, filter: filter ?? null, after: after ?? null }),

    inspect: (id) => invoke<Inspection>('inspect_notification', { id }),

    fetchCurrentResource: (id, select) => invoke<CurrentResource>('fetch_current_resource', { id, select }),

    replay: (id, target, edits) => invoke<ReplayOutcome>('replay_delivery', { id, target, edits }),

    watchFeed: (onBatch) => watchChannel<FeedBatch>('watch_feed', onBatch),

    copyText: (text) => navigator.clipboard.writeText(text),

    tryWithoutTenant: () => invoke<SandboxStatus>('try_without_tenant'),

    sandboxSend: (what) => invoke<TriggerReport>('sandbox_send', { what }),

    graphStatus: () => invoke<GraphStatus>('graph_status'),

    catalog: () => invoke<ResourceKind[]>('catalog'),

    subscriptions: () => invoke<SubscriptionView[]>('subscriptions_list'),

    subscribe: (input) => invoke<Subscription>('subscribe', { input }),

    renew: (id, expiresIn) => invoke<Subscription>('renew_subscription', { id, expiresIn }),

    deleteSubscription: (id) => invoke<void>('delete_subscription', { id }),

    remoteSubscriptions: () => invoke<RemoteSubscription[]>('remote_subscriptions'),

    keeperHistory: (subscriptionId) => invoke<KeeperEvent[]>('keeper_history', { subscriptionId }),

    doctor: () => invoke<Check[]>('doctor'),

    watchStatus: (onStatus) => watchChannel<ReceiverStatus>('watch_status', onStatus),

    settings: () => invoke<SettingsView>('settings_get'),

    saveSettings: (change) => invoke<SettingsView>('settings_save', { change }),

    signInApp: (tenant, clientId, secret, cloud) => invoke<GraphStatus>('sign_in_app', { tenant, clientId, secret, cloud: cloud ?? null }),

    startDeviceSignIn: (tenant, clientId, scopes, cloud) =>
      invoke<DeviceCode>('start_device_sign_in', { tenant, clientId, scopes, cloud: cloud ?? null }),

    openSignInPage: () => invoke<void>('open_sign_in_page'),

    finishDeviceSignIn: () => invoke<GraphStatus>('finish_device_sign_in'),

    signOut: () => invoke<GraphStatus>('sign_out'),

    exportNotifications: (format, filter) => invoke<ExportSummary>('export_notifications', { format, filter }),

    onOpenNotification: (open) => listen<string>('open-notification', (event) => open(event.payload)),
  };
}
