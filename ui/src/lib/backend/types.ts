import type {
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
  SettingsChange,
  SettingsView,
  SubscribeInput,
  Subscription,
  SubscriptionView,
  TriggerReport,
} from '../bindings';

/** Stops delivering feed batches to the callback it was returned for. */
export type Unwatch = () => void;

/** Everything the screen needs from the app shell. Tauri in the app, a fake in a browser and in tests. */
export interface Backend {
  /** `receiver_status`: the receiver's URLs, or the sentence saying why it is not listening. */
  receiverStatus(): Promise<ReceiverStatus>;
  /** `notifications_page`: newest first; pass the previous page's `next` as `before` for older rows,
   * or a row's id as `after` for the `limit` rows just newer than it (a list scrolled back reading its way up). */
  notificationsPage(limit: number, before: string | null, filter?: NotificationFilter, after?: string | null): Promise<Page<Notification>>;
  /** `inspect_notification`: one notification with its item as delivered and the request it came in. */
  inspect(id: string): Promise<Inspection>;
  /** `fetch_current_resource`: the resource a notification named, as Graph holds it now (`select`: `subject,from`, or empty for all). */
  fetchCurrentResource(id: string, select: string): Promise<CurrentResource>;
  /** `replay_delivery`: a stored delivery sent again, to the receiver (marked as a replay) or a URL. */
  replay(id: string, target: ReplayTarget, edits: ReplayEdits): Promise<ReplayOutcome>;
  /** `watch_feed`: batches of what the engine stored, at most one every ~30 ms. */
  watchFeed(onBatch: (batch: FeedBatch) => void): Promise<Unwatch>;
  /** Puts text on the system clipboard. */
  copyText(text: string): Promise<void>;
  /** `try_without_tenant`: starts the in-process Graph simulator and subscribes this receiver to it. */
  tryWithoutTenant(): Promise<SandboxStatus>;
  /** `sandbox_send`: makes the simulated Graph send to that subscription; what each POST got back. */
  sandboxSend(what: SandboxSend): Promise<TriggerReport>;
  /** `graph_status`: whether Hookscope can call Graph, where and as whom, or why not. */
  graphStatus(): Promise<GraphStatus>;
  /** `catalog`: the resources Graph notifies about, with their change types, lifetimes and permissions. */
  catalog(): Promise<ResourceKind[]>;
  /** `subscriptions_list`: every subscription Hookscope keeps, newest first, with the keeper's schedule. */
  subscriptions(): Promise<SubscriptionView[]>;
  /** `subscribe`: checked, self-tested and created at Graph; rejects with one sentence. */
  subscribe(input: SubscribeInput): Promise<Subscription>;
  /** `renew_subscription`: a new expiry now (`max`, `2h`, `3d`). */
  renew(id: string, expiresIn: string): Promise<Subscription>;
  /** `delete_subscription`: deleted at Graph and marked removed here; also deletes an orphan at Graph. */
  deleteSubscription(id: string): Promise<void>;
  /** `remote_subscriptions`: what Graph holds for this app, with `orphan` set for those unknown here. */
  remoteSubscriptions(): Promise<RemoteSubscription[]>;
  /** `doctor`: every link from Graph to this receiver checked, each with what to fix. */
  doctor(): Promise<Check[]>;
  /** `keeper_history`: what the keeper did, newest first. */
  keeperHistory(subscriptionId: string | null): Promise<KeeperEvent[]>;
  /** `watch_status`: the receiver's status now and each time it changes (port, tunnel, forward target). */
  watchStatus(onStatus: (status: ReceiverStatus) => void): Promise<Unwatch>;
  /** `settings_get`: the saved settings, and whether an ngrok authtoken is kept (never the token). */
  settings(): Promise<SettingsView>;
  /** `settings_save`: checked and saved; the receiver and tunnel restart when the change needs it. */
  saveSettings(change: SettingsChange): Promise<SettingsView>;
  /** `sign_in_app`: proves the app's secret with a token, keeps it in the keyring and reconnects.
   * `cloud` (usgov, dod, china) picks a national cloud; null: global, or the simulator when one runs. */
  signInApp(tenant: string, clientId: string, secret: string, cloud?: string | null): Promise<GraphStatus>;
  /** `start_device_sign_in`: a code the user enters at Microsoft's sign-in page. */
  startDeviceSignIn(tenant: string, clientId: string, scopes: string | null, cloud?: string | null): Promise<DeviceCode>;
  /** `open_sign_in_page`: the pending sign-in's page in the user's browser. */
  openSignInPage(): Promise<void>;
  /** `finish_device_sign_in`: waits for the user to finish in the browser, then reconnects as them. */
  finishDeviceSignIn(): Promise<GraphStatus>;
  /** `sign_out`: forgets the stored identity and its secrets. */
  signOut(): Promise<GraphStatus>;
  /** `export_notifications`: what the filter selects, as JSON Lines or HAR, into the Downloads folder. */
  exportNotifications(format: ExportFormat, filter: NotificationFilter): Promise<ExportSummary>;
  /** The `open-notification` event: a toast was clicked; the id of the notification it was about. */
  onOpenNotification(open: (id: string) => void): Promise<Unwatch>;
}
