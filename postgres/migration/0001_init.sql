-- 0001: the initial schema, the same tables as the SQLite store's.
--
-- Names are unqualified on purpose: they resolve through the connection's
-- search_path, so a DSN with ?search_path=x keeps every table in schema x.
-- Identity columns are GENERATED ALWAYS so no INSERT can pick an id by hand,
-- and their sequences never hand a value out twice, even after a delete or a
-- rolled-back insert. Times are Unix seconds in BIGINT, as the domain has them.

CREATE TABLE accounts (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       TEXT   NOT NULL UNIQUE,
    parent_id  BIGINT REFERENCES accounts (id),
    created_at BIGINT NOT NULL
);

CREATE TABLE api_keys (
    id          TEXT   PRIMARY KEY,
    account_id  BIGINT NOT NULL REFERENCES accounts (id),
    name        TEXT   NOT NULL,
    scopes      TEXT   NOT NULL, -- comma separated, in the order given, as in SQLite
    secret_hash BYTEA  NOT NULL,
    created_at  BIGINT NOT NULL,
    revoked_at  BIGINT NOT NULL DEFAULT 0 -- 0 while the key is active
);

CREATE INDEX api_keys_account ON api_keys (account_id, created_at);

-- seq records insertion order, which "oldest first" needs: last_updated
-- changes and several integrations can share a second.
CREATE TABLE integrations (
    seq                   BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id                    TEXT    NOT NULL UNIQUE,
    account_id            BIGINT  NOT NULL REFERENCES accounts (id),
    name                  TEXT    NOT NULL,
    enabled               BOOLEAN NOT NULL,
    signin_url            TEXT    NOT NULL,
    signout_url           TEXT    NOT NULL,
    entity_id             TEXT    NOT NULL,
    completed_integration BOOLEAN NOT NULL,
    last_updated          BIGINT  NOT NULL,
    -- The target of the certificates' composite foreign key below.
    UNIQUE (id, account_id)
);

CREATE INDEX integrations_account_seq ON integrations (account_id, seq);

-- The foreign key names the account too, so the database itself refuses a
-- certificate whose integration belongs to another account, and deleting an
-- integration deletes its certificates in the same statement. Its check locks
-- the integration row, so an insert racing a delete either commits first and
-- is cascaded away or fails with foreign_key_violation.
CREATE TABLE certificates (
    id                 BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id         BIGINT  NOT NULL,
    integration_id     TEXT    NOT NULL,
    public_certificate TEXT    NOT NULL,
    not_before         BIGINT  NOT NULL,
    not_after          BIGINT  NOT NULL,
    enabled            BOOLEAN NOT NULL,
    FOREIGN KEY (integration_id, account_id)
        REFERENCES integrations (id, account_id) ON DELETE CASCADE
);

-- Also serves the cascade, which finds certificates by integration_id.
CREATE INDEX certificates_integration ON certificates (integration_id, id);
