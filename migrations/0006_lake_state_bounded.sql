-- A table's lake state keeps only what a commit compares and swaps: the
-- metadata location, version, current snapshot id and per-bucket offsets.
-- The manifests of the current snapshot are read from its manifest list in
-- R2 instead, so the row no longer grows with every tiering round.
ALTER TABLE lake_tables DROP COLUMN manifests;
