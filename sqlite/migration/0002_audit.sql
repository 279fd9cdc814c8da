-- 0002: the audit trail. One row per change of an integration or certificate,
-- written in the change's own transaction. Summaries never hold certificate
-- bodies. No foreign keys: the trail outlives the objects it describes.

CREATE TABLE audit_events (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    at               INTEGER NOT NULL,
    account_id       INTEGER NOT NULL,
    actor_account_id INTEGER NOT NULL,
    key_id           TEXT    NOT NULL,
    operation        TEXT    NOT NULL,
    object_id        TEXT    NOT NULL,
    before           TEXT    NOT NULL,
    after            TEXT    NOT NULL
) STRICT;

CREATE INDEX audit_events_account ON audit_events (account_id, id);
