-- 0006: expiry webhooks, their signing keys and the outbox of their events.

-- One signing key per account, made at its first webhook and kept when the
-- webhook is deleted, so receivers keep one public key.
CREATE TABLE webhook_signing_keys (
    account_id  INTEGER PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    private_key BLOB    NOT NULL, -- PKCS #8 DER
    public_key  BLOB    NOT NULL  -- PKIX DER
) STRICT;

CREATE TABLE expiry_webhooks (
    account_id INTEGER PRIMARY KEY REFERENCES webhook_signing_keys (account_id) ON DELETE CASCADE,
    url        TEXT    NOT NULL,
    enabled    INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

-- epoch counts an integration's renewals; each starts a new warning window.
CREATE TABLE expiry_states (
    integration_id TEXT    PRIMARY KEY REFERENCES integrations (id) ON DELETE CASCADE,
    epoch          INTEGER NOT NULL
) STRICT;

-- The outbox. The unique key is what makes each event happen once however
-- many instances find it; lease_until and lease_token let one sender at a
-- time hold a delivery.
CREATE TABLE expiry_events (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id          INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    integration_id      TEXT    NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    epoch               INTEGER NOT NULL,
    event               TEXT    NOT NULL,
    days_left           INTEGER NOT NULL,
    signing_valid_until INTEGER, -- NULL when broken
    timestamp           INTEGER NOT NULL,
    event_id            TEXT    NOT NULL,
    status              TEXT    NOT NULL,
    attempts            INTEGER NOT NULL,
    next_attempt        INTEGER NOT NULL,
    last_error          TEXT    NOT NULL,
    lease_until         INTEGER NOT NULL,
    lease_token         TEXT    NOT NULL,
    UNIQUE (integration_id, epoch, event, days_left)
) STRICT;

CREATE INDEX expiry_events_due ON expiry_events (status, next_attempt);
CREATE INDEX expiry_events_account ON expiry_events (account_id, id);
