-- The last tiering error of each table, for GET /v1/metrics: written when a
-- table fails in a tiering pass, deleted when a later round commits or finds
-- nothing to tier. At most one row per table.
CREATE TABLE tiering_errors (
  table_id TEXT PRIMARY KEY,
  message TEXT NOT NULL,
  failed_at_ms INTEGER NOT NULL
);
