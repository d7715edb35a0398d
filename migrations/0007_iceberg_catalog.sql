-- The Iceberg REST catalog (src/rest/, docs/iceberg-rest.md).
--
-- Rows here belong to one incarnation of a database: its name and its
-- created_at_ms. A database dropped through Floe's own API (which knows
-- nothing of these rows) takes them out of sight, and one created again
-- under the same name starts with none. (No foreign keys: their cascades
-- would change what Floe's own drop counts.)

-- Namespaces are Floe's databases; their Iceberg properties are kept here.
CREATE TABLE iceberg_namespace_properties (
  database_name TEXT NOT NULL,
  database_created_at_ms INTEGER NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (database_name, database_created_at_ms, key)
);

-- Plain Iceberg tables that engines create or register next to Floe's own
-- tables: where the current metadata JSON is, and a version bumped by every
-- commit (the compare-and-swap token). A name is never both a Floe table and
-- one of these (checked when one is created here).
CREATE TABLE iceberg_tables (
  database_name TEXT NOT NULL,
  database_created_at_ms INTEGER NOT NULL,
  table_name TEXT NOT NULL,
  metadata_location TEXT NOT NULL,
  version INTEGER NOT NULL CHECK (version > 0),
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL,
  PRIMARY KEY (database_name, database_created_at_ms, table_name)
);

-- A commit of several tables is one D1 batch (one transaction): each swap,
-- then a write here of whether it changed its row. The CHECK fails the
-- batch, and so rolls back every swap, unless all of them did.
CREATE TABLE iceberg_commit_guard (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  all_swapped INTEGER NOT NULL CHECK (all_swapped = 1)
);
