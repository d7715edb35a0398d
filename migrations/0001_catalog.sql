-- Floe catalog: databases and tables. A table's definition (columns with
-- stable ids, keys, bucket layout, properties) is stored as JSON; table_id is
-- unique forever so a dropped and re-created table never sees old Tablets.
CREATE TABLE databases (
  name TEXT PRIMARY KEY,
  created_at_ms INTEGER NOT NULL
);

CREATE TABLE tables (
  database_name TEXT NOT NULL REFERENCES databases (name),
  table_name TEXT NOT NULL,
  table_id TEXT NOT NULL UNIQUE,
  definition TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  PRIMARY KEY (database_name, table_name)
);
