-- 0007: expiry webhooks, their signing keys and the outbox of their events.

-- One signing key per account, made at its first webhook and kept when the
-- webhook is deleted, so receivers keep one public key.
CREATE TABLE webhook_signing_keys (
    account_id  BIGINT  PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    private_key BYTEA   NOT NULL, -- PKCS #8 DER
    public_key  BYTEA   NOT NULL  -- PKIX DER
);

CREATE TABLE expiry_webhooks (
    account_id BIGINT  PRIMARY KEY REFERENCES webhook_signing_keys (account_id) ON DELETE CASCADE,
    url        TEXT    NOT NULL,
    enabled    BOOLEAN NOT NULL,
    updated_at BIGINT  NOT NULL
);

-- epoch counts an integration's renewals; each starts a new warning window.
CREATE TABLE expiry_states (
    integration_id TEXT    PRIMARY KEY REFERENCES integrations (id) ON DELETE CASCADE,
    epoch          BIGINT  NOT NULL
);

-- The outbox. The unique key is what makes each event happen once however
-- many instances find it; lease_until and lease_token let one sender at a
-- time hold a delivery.
CREATE TABLE expiry_events (
    id                  BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id          BIGINT  NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    integration_id      TEXT    NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    epoch               BIGINT  NOT NULL,
    event               TEXT    NOT NULL,
    days_left           BIGINT  NOT NULL,
    signing_valid_until BIGINT, -- NULL when broken
    timestamp           BIGINT  NOT NULL,
    event_id            TEXT    NOT NULL,
    status              TEXT    NOT NULL,
    attempts            BIGINT  NOT NULL,
    next_attempt        BIGINT  NOT NULL,
    last_error          TEXT    NOT NULL,
    lease_until         BIGINT  NOT NULL,
    lease_token         TEXT    NOT NULL,
    UNIQUE (integration_id, epoch, event, days_left)
);

CREATE INDEX expiry_events_due ON expiry_events (status, next_attempt);
CREATE INDEX expiry_events_account ON expiry_events (account_id, id);
