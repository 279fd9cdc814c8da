-- 0004: what SAML sign-in remembers between requests, as in the SQLite
-- store (see signin.go): the AuthnRequests ssod sent, the assertions it
-- accepted, and a trace of every attempt. Each row names its integration
-- through a foreign key with ON DELETE CASCADE. A foreign key check locks
-- the integration row FOR KEY SHARE, which sign-ins of one integration
-- share and which never touches another integration's row.

-- The request ID is ssod's own random one: unique across integrations.
CREATE TABLE authn_requests (
    request_id     TEXT   PRIMARY KEY,
    integration_id TEXT   NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    expires_at     BIGINT NOT NULL
);

CREATE INDEX authn_requests_integration ON authn_requests (integration_id);
CREATE INDEX authn_requests_expiry ON authn_requests (expires_at);

-- The primary key is what makes one-time use one atomic INSERT ... ON
-- CONFLICT, across instances; it also serves the cascade.
CREATE TABLE accepted_assertions (
    integration_id TEXT   NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    assertion_id   TEXT   NOT NULL,
    expires_at     BIGINT NOT NULL,
    PRIMARY KEY (integration_id, assertion_id)
);

CREATE INDEX accepted_assertions_expiry ON accepted_assertions (expires_at);

-- The number of the newest trace of each integration. Taking the next one
-- locks this integration's row only, for one statement, so that traces of
-- one integration get distinct, ordered numbers.
CREATE TABLE login_trace_counters (
    integration_id TEXT   PRIMARY KEY REFERENCES integrations (id) ON DELETE CASCADE,
    n              BIGINT NOT NULL
);

-- n numbers an integration's traces 1, 2, 3 ... in the order they were
-- written: the newest MaxLoginTraces are those with n above the newest's n
-- minus that bound, so retention is one range delete on the
-- (integration_id, n) index, which also serves the list (newest first) and
-- the cascade. NULL is an unknown value; the certificate id is no foreign
-- key, since a trace outlives the certificate it names.
CREATE TABLE login_traces (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    integration_id TEXT   NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    n              BIGINT NOT NULL,
    time           BIGINT NOT NULL,
    result         TEXT   NOT NULL,
    message        TEXT   NOT NULL,
    name_id        TEXT,
    assertion_id   TEXT,
    certificate_id BIGINT,
    in_response_to TEXT,
    request_id     TEXT,
    UNIQUE (integration_id, n)
);
