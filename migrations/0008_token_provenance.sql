-- Token provenance: which token minted each token ('root' for the root
-- token; NULL for tokens minted before this migration), so an admin can
-- revoke a token with everything it minted. Revoking now marks the row
-- rather than deleting it, so the chain of who minted what survives a token
-- revoked on its own; a revoked row is never found by its secret or listed.
ALTER TABLE tokens ADD COLUMN created_by TEXT;
ALTER TABLE tokens ADD COLUMN revoked_at_ms INTEGER;
CREATE INDEX tokens_by_creator ON tokens (created_by);
