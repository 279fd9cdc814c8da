-- 0003: the instances that keep certificates in memory, each holding a
-- lease it renews every second or so. A write that changes a certificate
-- waits until every instance with a live lease has dropped its copy (or its
-- lease has run out) before it answers; see coherence.go.

CREATE TABLE cache_members (
    id         TEXT        PRIMARY KEY,
    expires_at TIMESTAMPTZ NOT NULL
);
