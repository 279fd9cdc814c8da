-- 0002: the audit trail, as in the SQLite store. One row per change of an
-- integration or certificate, written in the change's own transaction.
-- Summaries never hold certificate bodies. No foreign keys: the trail
-- outlives the objects it describes.

CREATE TABLE audit_events (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at               BIGINT NOT NULL,
    account_id       BIGINT NOT NULL,
    actor_account_id BIGINT NOT NULL, -- 0 for changes made outside the API
    key_id           TEXT   NOT NULL,
    operation        TEXT   NOT NULL,
    object_id        TEXT   NOT NULL,
    before           TEXT   NOT NULL, -- "" on create
    after            TEXT   NOT NULL  -- "" on delete
);

CREATE INDEX audit_events_account ON audit_events (account_id, id);
