-- Scoped access tokens for the HTTP API. Only the SHA-256 of each secret is
-- stored, so the catalog never holds a usable token; the secret is shown
-- once, when the token is created. Revoking a token deletes its row.
-- scopes is a JSON array of scope strings ("admin", "read:shop", "write:shop.events").
CREATE TABLE tokens (
  token_id TEXT PRIMARY KEY,
  secret_sha256 TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  scopes TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL
);
