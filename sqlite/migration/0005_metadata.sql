-- 0005: IdP metadata. metadata_url is where an integration's IdP publishes its
-- metadata ('' for none); metadata_refreshed_at when metadata last configured
-- it (0 never); metadata_error why the last read of the URL failed ('' after
-- a success); metadata_claimed_at when an instance last took its scheduled
-- refresh, which the claim's conditional UPDATE compares.

ALTER TABLE integrations ADD COLUMN metadata_url TEXT NOT NULL DEFAULT '';
ALTER TABLE integrations ADD COLUMN metadata_refreshed_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE integrations ADD COLUMN metadata_error TEXT NOT NULL DEFAULT '';
ALTER TABLE integrations ADD COLUMN metadata_claimed_at INTEGER NOT NULL DEFAULT 0;

CREATE INDEX integrations_metadata_due ON integrations (metadata_claimed_at) WHERE metadata_url <> '';
