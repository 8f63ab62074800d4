-- Rich notifications: which app, sign-in authority and certificate a subscription was created with, so
-- the receiver knows whose validation tokens to expect and which private key opens its items.
ALTER TABLE subscriptions ADD COLUMN application_id TEXT;
ALTER TABLE subscriptions ADD COLUMN login_url TEXT;
ALTER TABLE subscriptions ADD COLUMN encryption_certificate_id TEXT;

-- The certificates Graph encrypts resource data with. Only the public half is here; each private key
-- lives in the OS keyring (or an owner-only file where no keyring runs), never in the database.
CREATE TABLE certificates (
    id TEXT PRIMARY KEY,              -- Graph's encryptionCertificateId
    thumbprint TEXT NOT NULL,         -- uppercase hex SHA-1 of the DER, as Graph sends it back
    certificate BLOB NOT NULL,        -- X.509 DER
    bits INTEGER NOT NULL,
    origin TEXT NOT NULL,             -- generated | imported
    created_at INTEGER NOT NULL,
    retired_at INTEGER                -- set by a rotation: kept to decrypt, never offered for new subscriptions
);
