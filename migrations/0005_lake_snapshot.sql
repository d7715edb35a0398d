-- The current snapshot id of each tiered table, kept with its lake state, so
-- a read knows it without opening the metadata JSON. (A commit need not add
-- a manifest, so the manifests alone do not name it.) Rows committed before
-- this migration hold NULL until their next commit.
ALTER TABLE lake_tables ADD COLUMN snapshot_id INTEGER;
