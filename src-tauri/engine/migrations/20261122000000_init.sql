-- Every HTTP request the receiver got, valid or not, with what it answered.
CREATE TABLE requests (
    id TEXT PRIMARY KEY,              -- UUIDv7: time-ordered, so keyset pages follow arrival
    received_at INTEGER NOT NULL,     -- microseconds since the Unix epoch
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    query TEXT,
    headers TEXT NOT NULL,            -- JSON object, credentials redacted
    body BLOB NOT NULL,
    body_size INTEGER NOT NULL,
    body_truncated INTEGER NOT NULL,
    kind TEXT NOT NULL,
    status INTEGER NOT NULL,
    response TEXT NOT NULL,
    latency_us INTEGER                -- known at once for requests answered without a commit
);

-- Latencies of requests that waited for their commit, known only after it; kept apart so recording one
-- does not rewrite the request row and its body.
CREATE TABLE request_latencies (
    request_id TEXT PRIMARY KEY,
    latency_us INTEGER NOT NULL
) WITHOUT ROWID;

-- Every item of every notification batch, accepted or rejected.
CREATE TABLE notifications (
    id TEXT PRIMARY KEY,
    request_id TEXT NOT NULL REFERENCES requests(id) DEFERRABLE INITIALLY DEFERRED, -- checked at commit
    position INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    -- What lists filter on; the rest of the item (Graph's id, resource, resourceData, tenantId, expiry) is
    -- read from the item itself: storing it again doubled the bytes written per notification.
    subscription_id TEXT,
    change_type TEXT,
    lifecycle_event TEXT,
    verdict TEXT NOT NULL,
    reason TEXT,
    duplicate INTEGER NOT NULL,
    dedupe_key BLOB NOT NULL,         -- digest of the item as delivered; equal digests = the same change again
                                      -- (not indexed: the writer remembers recent digests in memory)
    decrypted TEXT,
    tokens_valid INTEGER,
    item_offset INTEGER NOT NULL,     -- the item's JSON is substr(body, item_offset + 1, item_length)
    item_length INTEGER NOT NULL      -- of its request: stored once, byte for byte
);
CREATE INDEX notifications_by_subscription ON notifications (subscription_id, id);
CREATE INDEX notifications_by_request ON notifications (request_id);

CREATE TABLE subscriptions (
    id TEXT PRIMARY KEY,
    resource TEXT NOT NULL,
    change_type TEXT NOT NULL,
    notification_url TEXT NOT NULL,
    lifecycle_notification_url TEXT,
    expiration_date_time TEXT NOT NULL,
    include_resource_data INTEGER NOT NULL DEFAULT 0,
    client_state TEXT,
    tenant_id TEXT,
    auto_renew INTEGER NOT NULL DEFAULT 1,
    status TEXT NOT NULL DEFAULT 'active',
    last_error TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
