-- 0003: what SAML sign-in remembers between requests (see signin.go): the
-- AuthnRequests ssod sent, the assertions it accepted, and a trace of every
-- attempt. Each row names its integration through a foreign key with
-- ON DELETE CASCADE, so deleting an integration deletes them in the same
-- statement. Expired requests and assertions are pruned a few at a time by
-- the inserts that add new ones, through the expires_at indexes.

-- The request ID is ssod's own random one: unique across integrations.
CREATE TABLE authn_requests (
    request_id     TEXT    PRIMARY KEY,
    integration_id TEXT    NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    expires_at     INTEGER NOT NULL
) STRICT;

CREATE INDEX authn_requests_integration ON authn_requests (integration_id);
CREATE INDEX authn_requests_expiry ON authn_requests (expires_at);

-- The primary key is what makes one-time use one atomic INSERT ... ON
-- CONFLICT; it also serves the cascade.
CREATE TABLE accepted_assertions (
    integration_id TEXT    NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    assertion_id   TEXT    NOT NULL,
    expires_at     INTEGER NOT NULL,
    PRIMARY KEY (integration_id, assertion_id)
) STRICT;

CREATE INDEX accepted_assertions_expiry ON accepted_assertions (expires_at);

-- AUTOINCREMENT so a trace id is never handed out twice. n numbers an
-- integration's traces 1, 2, 3 ... in the order they were written: the
-- newest MaxLoginTraces are those with n above the newest's n minus that
-- bound, so retention is one range delete on the (integration_id, n) index,
-- which also serves the list (newest first) and the cascade. NULL is an
-- unknown value; the certificate id is no foreign key, since a trace
-- outlives the certificate it names.
CREATE TABLE login_traces (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    integration_id TEXT    NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    n              INTEGER NOT NULL,
    time           INTEGER NOT NULL,
    result         TEXT    NOT NULL,
    message        TEXT    NOT NULL,
    name_id        TEXT,
    assertion_id   TEXT,
    certificate_id INTEGER,
    in_response_to TEXT,
    request_id     TEXT,
    UNIQUE (integration_id, n)
) STRICT;
