// Generated from the Rust types by `UPDATE_BINDINGS=1 cargo test -p hookscope-engine --test bindings`.
// Do not edit by hand.

export type Verdict = "accepted" | "rejected";

export type Notification = { 
/**
 * Hookscope's own id (time-ordered).
 */
id: string, 
/**
 * Graph's `id` of the notification, when it sent one.
 */
notificationId: string | null, receivedAt: string, subscriptionId: string | null, subscriptionExpirationDateTime: string | null, changeType: string | null, lifecycleEvent: string | null, resource: string | null, resourceData: unknown, tenantId: string | null, verdict: Verdict, 
/**
 * Why it was rejected; null when accepted.
 */
reason: string | null, 
/**
 * The same change was delivered before (every delivery is still stored and shown).
 */
duplicate: boolean, decrypted: unknown, 
/**
 * true or false when the batch carried validation tokens; null when it carried none.
 */
tokensValid: boolean | null, 
/**
 * The HTTP request this item came in.
 */
requestId: string, 
/**
 * Position of the item in its batch.
 */
position: number, 
/**
 * The request this one replayed (`hookscope replay`), when it is a replay.
 */
replayOf: string | null, };

export type RequestKind = "handshake" | "notifications" | "lifecycle" | "invalid";

export type RequestRecord = { id: string, receivedAt: string, method: string, path: string, query: string | null, 
/**
 * Header names in lower case; values of credential-bearing headers are redacted.
 */
headers: Record<string, string>, 
/**
 * The body as text when it is UTF-8.
 */
body?: string, 
/**
 * The body in base64 when it is not UTF-8.
 */
bodyBase64?: string, 
/**
 * Bytes the client announced or sent, even when only a part was kept.
 */
bodySize: number, bodyTruncated: boolean, kind: RequestKind, status: number, 
/**
 * What the receiver answered in its body (a plain sentence, the handshake token, or empty).
 */
response: string, 
/**
 * From the first byte read to the answer; null while a commit is still being timed.
 */
latencyMs: number | null, 
/**
 * The delivery this request replayed (`hookscope replay`), when it is a replay.
 */
replayOf: string | null, };

export type RelayRecord = { id: string, 
/**
 * The delivery Hookscope received, stored and acknowledged before handing it on.
 */
requestId: string, target: string, at: string, 
/**
 * Graph's validation request passed through: the app's answer went back to Graph.
 */
handshake: boolean, 
/**
 * Rejected items (forged, unknown) were left out of the body handed on.
 */
filtered: boolean, 
/**
 * The app's status; null when it did not answer (refused, timed out).
 */
status: number | null, headers: Record<string, string>, 
/**
 * The first 64 KiB of the app's answer, as text.
 */
body: string, bodyTruncated: boolean, latencyMs: number, 
/**
 * Why there is no answer: refused, timed out, …
 */
error: string | null, 
/**
 * When the app's answer would have broken Graph's rules (3 s to acknowledge, a 2xx).
 */
warning: string | null, };

export type Inspection = { notification: Notification, 
/**
 * The item's JSON byte for byte as delivered (for rich items, with `encryptedContent`).
 */
item: string, 
/**
 * The request it came in: method, path, headers, body, status answered and latency.
 */
request: RequestRecord | null, 
/**
 * What the user's app answered each time the delivery was handed on to it.
 */
relays: Array<RelayRecord>, 
/**
 * The request's headers a replay sends as they were (not credentials, redacted values or those
 * the HTTP client sets): what "Replay with edits" offers to change.
 */
replayHeaders: { [key in string]: string }, };

export type CurrentResource = { 
/**
 * The URL read, `$select` included.
 */
url: string, 
/**
 * Graph's answer, indented.
 */
body: string, fetchedAt: string, elapsedMs: number, };

export type ReplayTarget = { "kind": "receiver" } | { "kind": "url", "url": string };

export type ReplayEdits = { body: string | null, headers: { [key in string]: string }, };

export type ReplayOutcome = { 
/**
 * The delivery that was sent again.
 */
originalRequestId: string, url: string, status: number, 
/**
 * The first 64 KiB of the answer, as text.
 */
body: string, latencyMs: number, 
/**
 * The new request the receiver stored (a replay to the receiver).
 */
requestId: string | null, edited: boolean, };

export type SubscriptionStatus = "active" | "expired" | "removed" | "failed";

export type Subscription = { id: string, resource: string, changeType: string, notificationUrl: string, lifecycleNotificationUrl: string | null, expirationDateTime: string, includeResourceData: boolean, tenantId: string | null, autoRenew: boolean, status: SubscriptionStatus, lastError: string | null, 
/**
 * The app (client id) that created it: the audience of its notifications' validation tokens.
 */
applicationId: string | null, 
/**
 * The sign-in authority it was created under, whose published keys sign its validation tokens.
 */
loginUrl: string | null, 
/**
 * Graph's `encryptionCertificateId` of a rich subscription: which private key opens its items.
 */
encryptionCertificateId: string | null, };

export type KeeperAction = "renewed" | "recreated" | "repointed" | "gap";

export type KeeperEvent = { id: string, at: string, subscriptionId: string, action: KeeperAction, 
/**
 * False when the attempt failed; `message` then says why and what happens next.
 */
ok: boolean, 
/**
 * One sentence for people.
 */
message: string, 
/**
 * The expiry Graph granted, after a renewal or re-creation.
 */
expirationDateTime: string | null, 
/**
 * The subscription that replaced this one, after a re-creation.
 */
newSubscriptionId: string | null, };

export type ToastKind = "notifications" | "lifecycle" | "keeperFailed" | "expiring" | "tunnelDown";

export type ToastRecord = { id: string, at: string, kind: ToastKind, subscriptionId: string | null, 
/**
 * The notification a click on the toast opens in the inspector.
 */
notificationId: string | null, summary: string, body: string, shown: boolean, 
/**
 * Why the desktop did not show it.
 */
error: string | null, };

export type ChangeType = "created" | "updated" | "deleted";

export type Workload = "outlook" | "directory" | "oneDrive" | "teams" | "presence" | "callRecords" | "todo" | "security";

export type ResourceKind = { 
/**
 * Graph's entity name: `message`, `driveItem`, `chatMessage`, …
 */
name: string, workload: Workload, 
/**
 * The `@odata.type` Graph puts in `resourceData`.
 */
odataType: string, 
/**
 * Resource paths this kind is subscribed with (`*` = any one segment: an id).
 */
paths: string[], 
/**
 * A path to show in forms and help, with `{id}` placeholders.
 */
example: string, changeTypes: ChangeType[], maxLifetimeMinutes: number, 
/**
 * A shorter maximum when `includeResourceData` is set (Outlook: one day).
 */
richMaxLifetimeMinutes: number | null, delegatedPermission: string | null, applicationPermission: string | null, 
/**
 * Whether Graph can include the (encrypted) resource in notifications.
 */
rich: boolean, 
/**
 * Outlook sends only the properties a `$select` in the resource names.
 */
richNeedsSelect: boolean, 
/**
 * Teams: a lifecycle URL is required when the subscription lives more than an hour.
 */
lifecycleUrlRequiredOverAnHour: boolean, 
/**
 * Which lifecycle events Graph sends for it besides `reauthorizationRequired`.
 */
removedAndMissedEvents: boolean, };

export type SubscribeInput = { resource: string, 
/**
 * `created,updated`.
 */
changeTypes: string, 
/**
 * `max`, `90m`, `2h`, `3d`.
 */
expiresIn: string, rich: boolean, lifecycle: boolean, autoRenew: boolean, };

export type SubscriptionView = { 
/**
 * When Graph granted the current expiry: the creation or the last renewal.
 */
grantedAt: string | null, 
/**
 * When the keeper will renew it (auto-renew on and active), else null.
 */
renewsAt: string | null, id: string, resource: string, changeType: string, notificationUrl: string, lifecycleNotificationUrl: string | null, expirationDateTime: string, includeResourceData: boolean, tenantId: string | null, autoRenew: boolean, status: SubscriptionStatus, lastError: string | null, 
/**
 * The app (client id) that created it: the audience of its notifications' validation tokens.
 */
applicationId: string | null, 
/**
 * The sign-in authority it was created under, whose published keys sign its validation tokens.
 */
loginUrl: string | null, 
/**
 * Graph's `encryptionCertificateId` of a rich subscription: which private key opens its items.
 */
encryptionCertificateId: string | null, };

export type RemoteSubscription = { 
/**
 * In Graph but unknown here: nobody renews it, and its notifications are judged unknown.
 */
orphan: boolean, id: string, resource: string, changeType: string, notificationUrl: string, lifecycleNotificationUrl: string | null, expirationDateTime: string, includeResourceData: boolean, tenantId: string | null, autoRenew: boolean, status: SubscriptionStatus, lastError: string | null, 
/**
 * The app (client id) that created it: the audience of its notifications' validation tokens.
 */
applicationId: string | null, 
/**
 * The sign-in authority it was created under, whose published keys sign its validation tokens.
 */
loginUrl: string | null, 
/**
 * Graph's `encryptionCertificateId` of a rich subscription: which private key opens its items.
 */
encryptionCertificateId: string | null, };

export type CertificateInfo = { 
/**
 * Graph's `encryptionCertificateId`.
 */
id: string, 
/**
 * Uppercase hex SHA-1 of the certificate, as Graph echoes it in each item.
 */
thumbprint: string, bits: number, 
/**
 * `generated` or `imported`.
 */
origin: string, createdAt: string, 
/**
 * Set once a rotation replaced it; still used to decrypt, never offered for new subscriptions.
 */
retiredAt: string | null, 
/**
 * The one new rich subscriptions get.
 */
active: boolean, };

export type GraphStatus = { connected: boolean, graphUrl: string | null, tenantId: string | null, clientId: string | null, 
/**
 * Graph is the simulator on this machine ("without a tenant").
 */
simulated: boolean, 
/**
 * Why there is no connection, in one sentence.
 */
message: string | null, };

export type Health = "ok" | "warn" | "fail";

export type Check = { 
/**
 * `credentials`, `token`, `graph`, `clock`, `receiver`, `publicUrl`, `subscription`.
 */
name: string, health: Health, 
/**
 * What was found, in one sentence.
 */
detail: string, 
/**
 * What to do about it, when something is wrong.
 */
fix: string | null, };

export type SignInMode = "appOnly" | "delegated";

export type SignInProfile = { mode: SignInMode, graphUrl: string, loginUrl: string, tenantId: string, clientId: string, 
/**
 * Delegated only: the scopes consented.
 */
scopes: string | null, };

export type DeviceCode = { userCode: string, verificationUri: string, 
/**
 * Entra's own sentence, e.g. "To sign in, use a web browser to open the page … and enter the code …".
 */
message: string, expiresIn: number, interval: number, };

export type ReceiverUrls = { localUrl: string, publicUrl: string | null, 
/**
 * The URL to give Graph as `notificationUrl` (public when published, else local).
 */
notificationUrl: string, lifecycleUrl: string, };

export type ReceiverStatus = { urls: ReceiverUrls | null, error: string | null, dataDir: string, 
/**
 * The tunnel's state; None when the receiver is local only.
 */
tunnel: TunnelState | null, 
/**
 * Where accepted deliveries are handed on to, if anywhere.
 */
forwardTo: string | null, };

export type Page<T> = { 
/**
 * Newest first.
 */
items: Array<T>, next: string | null, };

export type VerdictFilter = "accepted" | "rejected" | "duplicate" | "decrypted" | "tokensInvalid" | "lifecycle" | "replayed";

export type NotificationFilter = { subscriptionId?: string, 
/**
 * `created`, `updated` or `deleted`.
 */
changeType?: string, verdict?: VerdictFilter, 
/**
 * Case-insensitive, anywhere in the item, its decrypted content or the refusal's reason.
 */
text?: string, 
/**
 * RFC 3339; received at or after.
 */
since?: string, 
/**
 * RFC 3339; received before.
 */
until?: string, };

export type ExportFormat = "jsonl" | "har";

export type ExportSummary = { notifications: number, 
/**
 * HAR entries (requests); for JSON Lines, the requests the notifications came in.
 */
requests: number, 
/**
 * Where the file is, when the export went to a file.
 */
path: string | null, };

export type FeedBatch = { 
/**
 * Newly stored notifications, oldest first.
 */
notifications: Array<Notification>, 
/**
 * What the keeper did meanwhile (renewals, re-creations, gaps), oldest first.
 */
keeper: Array<KeeperEvent>, 
/**
 * Events the feed could not keep up with; the UI should reload its page from the store.
 */
missed: number, };

export type TunnelState = { "state": "connecting" } | { "state": "online", url: string, } | { "state": "reconnecting", reason: string, } | { "state": "offline", reason: string, retrying: boolean, };

export type TunnelMode = "none" | "ngrok" | "publicUrl";

export type Theme = "system" | "light" | "dark";

export type ToastSettings = { enabled: boolean, 
/**
 * Subscriptions whose notifications never toast (lifecycle events and failures still do).
 */
muted: Array<string>, };

export type Settings = { 
/**
 * The receiver's local port; a taken port falls back to any free one.
 */
port: number, tunnel: TunnelMode, 
/**
 * With `TunnelMode::PublicUrl`: where the receiver's root is reachable from outside.
 */
publicUrl: string | null, 
/**
 * With ngrok: the account's static domain, which keeps the URL across restarts.
 */
ngrokDomain: string | null, 
/**
 * Every accepted delivery is handed on to this URL (the user's own app).
 */
forwardTo: string | null, 
/**
 * Graph's validation request goes to the forward target too, and its answer is returned.
 */
forwardHandshake: boolean, toasts: ToastSettings, theme: Theme, 
/**
 * Deliveries older than this many days are deleted (hourly); None keeps everything.
 */
retentionDays: number | null, };

export type SettingsView = { settings: Settings, 
/**
 * An ngrok authtoken is kept in the keyring or set in `NGROK_AUTHTOKEN`.
 */
ngrokAuthtokenSet: boolean, 
/**
 * `NGROK_AUTHTOKEN` (or `HOOKSCOPE_NGROK_DOMAIN`) is set and wins over what is saved here.
 */
ngrokFromEnvironment: boolean, };

export type SettingsChange = { settings: Settings, 
/**
 * A new ngrok authtoken to keep in the keyring; None leaves the kept one as it is.
 */
ngrokAuthtoken?: string, 
/**
 * Forget the kept authtoken.
 */
forgetNgrokAuthtoken: boolean, };

export type Event = { "type": "notificationsStored", notifications: Array<Notification>, } | { "type": "requestsRecorded", requests: Array<RequestRecord>, } | { "type": "handshake", requestId: string, path: string, at: string, } | { "type": "keeper", event: KeeperEvent, } | { "type": "tunnel", state: TunnelState, } | { "type": "relayed", relay: RelayRecord, } | { "type": "storeFailed", message: string, };

export type SandboxStatus = { graphUrl: string, subscriptionId: string, resource: string, expirationDateTime: string, 
/**
 * The rich subscription: chat messages with encrypted resource data and validation tokens.
 */
richSubscriptionId: string, richResource: string, };

export type SandboxSend = "change" | "duplicate" | "lifecycle" | "forged" | "rich" | "richForged";

export type Outcome = "delivered" | "failed" | "timedOut" | "unreachable" | "delayed" | "dropped" | "held" | "validated" | "validationFailed";

export type DeliveryRecord = { id: number, at: string, url: string, 
/**
 * `notifications`, `lifecycle` or `handshake`.
 */
kind: string, attempt: number, items: number, subscriptionIds: Array<string>, status: number | null, latencyMs: number, outcome: Outcome, error: string | null, };

export type TriggerReport = { notifications: number, subscriptionIds: Array<string>, 
/**
 * The first attempt of each POST (retries continue in the background and appear in the log).
 */
deliveries: Array<DeliveryRecord>, };
