-- Replays and the relay to the user's own app.
-- A request sent again by `hookscope replay` names the delivery it repeats.
ALTER TABLE requests ADD COLUMN replay_of TEXT;

-- What the user's app answered when a delivery (or Graph's handshake) was handed on to it.
CREATE TABLE relays (
    id TEXT PRIMARY KEY,              -- UUIDv7
    request_id TEXT NOT NULL,         -- the delivery Hookscope received and acknowledged first
    target TEXT NOT NULL,
    at INTEGER NOT NULL,              -- microseconds since the Unix epoch
    handshake INTEGER NOT NULL,       -- a validation request passed through, answered by the app
    filtered INTEGER NOT NULL,        -- rejected items were left out of the body handed on
    status INTEGER,                   -- null when the app did not answer
    headers TEXT NOT NULL,            -- JSON object
    body BLOB NOT NULL,               -- the first 64 KiB of the answer
    body_truncated INTEGER NOT NULL,
    latency_us INTEGER NOT NULL,
    error TEXT
);
CREATE INDEX relays_by_request ON relays (request_id);
