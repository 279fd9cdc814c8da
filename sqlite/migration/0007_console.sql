-- 0007: the web console's server-side sessions and its unfinished SSO
-- sign-ins (see console.go). Tokens are stored only as SHA-256 hashes.
-- Expired rows are pruned a few at a time by the inserts that add new ones.
CREATE TABLE console_sessions (
    token_hash TEXT    PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    username   TEXT    NOT NULL,
    key_id     TEXT    NOT NULL,
    csrf_token TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    last_seen  INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;

CREATE INDEX console_sessions_account ON console_sessions (account_id);
CREATE INDEX console_sessions_expiry ON console_sessions (expires_at);

CREATE TABLE console_signins (
    state_hash     TEXT    PRIMARY KEY,
    binding_hash   TEXT    NOT NULL,
    integration_id TEXT    NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    username       TEXT    NOT NULL,
    expires_at     INTEGER NOT NULL
) STRICT;

CREATE INDEX console_signins_integration ON console_signins (integration_id);
CREATE INDEX console_signins_expiry ON console_signins (expires_at);
