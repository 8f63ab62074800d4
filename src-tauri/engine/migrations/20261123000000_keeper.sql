-- The keeper's bookkeeping.
-- When Graph granted a subscription's current expiry (microseconds): the keeper renews when a third of
-- the lifetime Graph granted is left, so it needs the start of that lifetime, not just its end.
ALTER TABLE subscriptions ADD COLUMN granted_at INTEGER;
UPDATE subscriptions SET granted_at = updated_at;

-- What the keeper did (renewed, re-created, re-pointed, a gap) and how it went: the subscription's history.
CREATE TABLE keeper_events (
    id TEXT PRIMARY KEY,
    at INTEGER NOT NULL,
    subscription_id TEXT NOT NULL,
    action TEXT NOT NULL,
    ok INTEGER NOT NULL,
    message TEXT NOT NULL,
    expiration_date_time TEXT,
    new_subscription_id TEXT
);
CREATE INDEX keeper_events_by_subscription ON keeper_events (subscription_id, at);
