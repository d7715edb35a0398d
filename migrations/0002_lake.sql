-- The lake state of each tiered table: where its current Iceberg metadata is,
-- a version bumped by every commit (the compare-and-swap token), the manifests
-- of the current snapshot (so a commit never re-reads Avro) and the exclusive
-- end offset tiered per bucket.
CREATE TABLE lake_tables (
  table_id TEXT PRIMARY KEY,
  metadata_location TEXT NOT NULL,
  version INTEGER NOT NULL,
  manifests TEXT NOT NULL,
  bucket_offsets TEXT NOT NULL,
  updated_at_ms INTEGER NOT NULL
);
