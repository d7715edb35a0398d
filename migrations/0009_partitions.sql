-- Partitions of partitioned tables (docs/partitions.md). A partition is
-- named by its values, as `key=value` pairs joined with `/` in the table's
-- partition-key order (spec); partition_id is unique forever
-- (AUTOINCREMENT never reuses one), so a partition dropped and created
-- again never sees the Tablets of the one before: a Tablet is named by
-- (table_id, partition_id, bucket). A table's partitions go with it when it
-- is dropped, in the same transaction.
CREATE TABLE partitions (
  partition_id INTEGER PRIMARY KEY AUTOINCREMENT,
  table_id TEXT NOT NULL,
  spec TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  UNIQUE (table_id, spec)
);
