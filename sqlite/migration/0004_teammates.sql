-- 0004: SSO teammates, and just-in-time provisioning on integrations.

ALTER TABLE integrations ADD COLUMN jit_provisioning INTEGER NOT NULL DEFAULT 0;
ALTER TABLE integrations ADD COLUMN jit_persona TEXT NOT NULL DEFAULT 'observer';

-- A teammate is identified within its account by username_key, the username
-- with its domain lower-cased (README, "SSO teammates"); username keeps the
-- address as given. seq records insertion order for "oldest first". Scope
-- lists are JSON arrays of strings.
CREATE TABLE teammates (
    seq                           INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id                    INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    username_key                  TEXT    NOT NULL,
    username                      TEXT    NOT NULL,
    first_name                    TEXT    NOT NULL,
    last_name                     TEXT    NOT NULL,
    is_admin                      INTEGER NOT NULL,
    persona                       TEXT    NOT NULL, -- '' for none
    scopes                        TEXT    NOT NULL,
    has_restricted_subuser_access INTEGER NOT NULL,
    created_at                    INTEGER NOT NULL,
    updated_at                    INTEGER NOT NULL,
    UNIQUE (account_id, username_key)
) STRICT;

CREATE INDEX teammates_account_seq ON teammates (account_id, seq);

-- One row per subuser a teammate may act for, in the order given. The
-- subuser is an account; removing it removes the access.
CREATE TABLE teammate_subusers (
    account_id      INTEGER NOT NULL,
    username_key    TEXT    NOT NULL,
    position        INTEGER NOT NULL,
    subuser_id      INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    permission_type TEXT    NOT NULL,
    scopes          TEXT    NOT NULL,
    PRIMARY KEY (account_id, username_key, position),
    FOREIGN KEY (account_id, username_key)
        REFERENCES teammates (account_id, username_key) ON DELETE CASCADE
) STRICT;

CREATE INDEX teammate_subusers_subuser ON teammate_subusers (subuser_id);
