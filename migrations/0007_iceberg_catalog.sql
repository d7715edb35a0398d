-- The Iceberg REST catalog (src/rest/, docs/iceberg-rest.md).
--
-- Namespaces are Floe's databases; their Iceberg properties are kept here,
-- and go with the database when it is dropped.
CREATE TABLE iceberg_namespace_properties (
  database_name TEXT NOT NULL REFERENCES databases (name) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (database_name, key)
);

-- Plain Iceberg tables that engines create or register next to Floe's own
-- tables: where the current metadata JSON is, and a version bumped by every
-- commit (the compare-and-swap token). A name is never both a Floe table and
-- one of these (checked when one is created here). Dropping the database
-- forgets its tables; their files stay in R2.
CREATE TABLE iceberg_tables (
  database_name TEXT NOT NULL REFERENCES databases (name) ON DELETE CASCADE,
  table_name TEXT NOT NULL,
  metadata_location TEXT NOT NULL,
  version INTEGER NOT NULL CHECK (version > 0),
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL,
  PRIMARY KEY (database_name, table_name)
);

-- A commit of several tables is one D1 batch (one transaction): its swaps,
-- then a write here of whether every swap took. The CHECK fails the batch,
-- and so rolls back every swap, unless all of them did.
CREATE TABLE iceberg_commit_guard (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  all_swapped INTEGER NOT NULL CHECK (all_swapped = 1)
);
