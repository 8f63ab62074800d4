-- Subscriptions being created right now. Graph may deliver the first notifications of a new subscription
-- before Hookscope has recorded its id; a receiver (of this process or another on the same data
-- directory) that finds the item's clientState here waits for the record instead of calling it unknown.
-- Only a SHA-256 digest of the clientState is kept. A row is removed when its subscription is recorded
-- (in the same transaction) or the create fails, and ignored after expires_at (a process that died
-- while creating).
CREATE TABLE pending_creations (
    client_state_digest BLOB PRIMARY KEY,
    started_at INTEGER NOT NULL,      -- microseconds since the Unix epoch
    expires_at INTEGER NOT NULL
);
