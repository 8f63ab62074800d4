-- Every desktop toast Hookscope meant to show, and whether the desktop took it: a toast that could not
-- be shown (no notification service) is recorded here, never fatal.
CREATE TABLE toasts (
    id TEXT PRIMARY KEY,              -- UUIDv7
    at INTEGER NOT NULL,              -- microseconds since the Unix epoch
    kind TEXT NOT NULL,               -- notifications, lifecycle, keeperFailed, expiring, tunnelDown
    subscription_id TEXT,
    notification_id TEXT,             -- the notification a click opens
    summary TEXT NOT NULL,
    body TEXT NOT NULL,
    shown INTEGER NOT NULL,
    error TEXT
);
