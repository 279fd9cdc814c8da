-- 0001: the initial schema. Every table is STRICT so a wrongly typed value is
-- an error at write time instead of a surprise at read time.

CREATE TABLE accounts (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL UNIQUE,
    parent_id  INTEGER REFERENCES accounts (id),
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE api_keys (
    id          TEXT    PRIMARY KEY,
    account_id  INTEGER NOT NULL REFERENCES accounts (id),
    name        TEXT    NOT NULL,
    scopes      TEXT    NOT NULL, -- comma separated, in the order given
    secret_hash BLOB    NOT NULL,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER NOT NULL DEFAULT 0 -- 0 while the key is active
) STRICT;

CREATE INDEX api_keys_account ON api_keys (account_id, created_at);

-- seq records insertion order, which "oldest first" needs: last_updated
-- changes and several integrations can share a second.
CREATE TABLE integrations (
    seq                   INTEGER PRIMARY KEY AUTOINCREMENT,
    id                    TEXT    NOT NULL UNIQUE,
    account_id            INTEGER NOT NULL REFERENCES accounts (id),
    name                  TEXT    NOT NULL,
    enabled               INTEGER NOT NULL,
    signin_url            TEXT    NOT NULL,
    signout_url           TEXT    NOT NULL,
    entity_id             TEXT    NOT NULL,
    completed_integration INTEGER NOT NULL,
    last_updated          INTEGER NOT NULL,
    -- The target of the certificates' composite foreign key below.
    UNIQUE (id, account_id)
) STRICT;

CREATE INDEX integrations_account_seq ON integrations (account_id, seq);

-- AUTOINCREMENT so a deleted certificate's id is never handed out again.
-- The foreign key names the account too, so the database itself refuses a
-- certificate whose integration belongs to another account, and deleting an
-- integration deletes its certificates in the same statement.
CREATE TABLE certificates (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id         INTEGER NOT NULL,
    integration_id     TEXT    NOT NULL,
    public_certificate TEXT    NOT NULL,
    not_before         INTEGER NOT NULL,
    not_after          INTEGER NOT NULL,
    enabled            INTEGER NOT NULL,
    FOREIGN KEY (integration_id, account_id)
        REFERENCES integrations (id, account_id) ON DELETE CASCADE
) STRICT;

CREATE INDEX certificates_integration ON certificates (integration_id, id);
