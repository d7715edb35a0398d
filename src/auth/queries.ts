/**
 * Every SQL statement against the catalog's `tokens` table (schema in
 * `migrations/0003_tokens.sql`). A row holds a secret's SHA-256, never the
 * secret, and no statement here reads the hash back out.
 */
export interface TokenRow {
  tokenId: string;
  name: string;
  /** JSON array of scope strings. */
  scopes: string;
  createdAtMs: number;
}

const rowColumns = "token_id AS tokenId, name, scopes, created_at_ms AS createdAtMs";

export async function insertToken(db: D1Database, row: TokenRow, secretSha256: string): Promise<void> {
  await db
    .prepare("INSERT INTO tokens (token_id, secret_sha256, name, scopes, created_at_ms) VALUES (?, ?, ?, ?, ?)")
    .bind(row.tokenId, secretSha256, row.name, row.scopes, row.createdAtMs)
    .run();
}

export async function selectTokenBySecret(db: D1Database, secretSha256: string): Promise<TokenRow | null> {
  return db.prepare(`SELECT ${rowColumns} FROM tokens WHERE secret_sha256 = ?`).bind(secretSha256).first<TokenRow>();
}

export async function selectTokens(db: D1Database): Promise<TokenRow[]> {
  const result = await db.prepare(`SELECT ${rowColumns} FROM tokens ORDER BY created_at_ms, token_id`).all<TokenRow>();
  return result.results;
}

/** Deletes a token; false when there was none with that id. */
export async function deleteToken(db: D1Database, tokenId: string): Promise<boolean> {
  const result = await db.prepare("DELETE FROM tokens WHERE token_id = ?").bind(tokenId).run();
  return result.meta.changes === 1;
}
