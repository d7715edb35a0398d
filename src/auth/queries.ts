/**
 * Every SQL statement against the catalog's `tokens` table (schema in
 * `migrations/0003_tokens.sql` and `0008_token_provenance.sql`). A row holds
 * a secret's SHA-256, never the secret, and no statement here reads the hash
 * back out. A revoked row stays, marked, so provenance outlives revocation;
 * no statement finds or lists it as a token.
 */
export interface TokenRow {
  tokenId: string;
  name: string;
  /** JSON array of scope strings. */
  scopes: string;
  createdAtMs: number;
  /** The id of the token that minted this one, `root`, or null (minted before provenance was kept). */
  createdBy: string | null;
}

const rowColumns = "token_id AS tokenId, name, scopes, created_at_ms AS createdAtMs, created_by AS createdBy";

export async function insertToken(db: D1Database, row: TokenRow, secretSha256: string): Promise<void> {
  await db
    .prepare("INSERT INTO tokens (token_id, secret_sha256, name, scopes, created_at_ms, created_by) VALUES (?, ?, ?, ?, ?, ?)")
    .bind(row.tokenId, secretSha256, row.name, row.scopes, row.createdAtMs, row.createdBy)
    .run();
}

export async function selectTokenBySecret(db: D1Database, secretSha256: string): Promise<TokenRow | null> {
  return db.prepare(`SELECT ${rowColumns} FROM tokens WHERE secret_sha256 = ? AND revoked_at_ms IS NULL`).bind(secretSha256).first<TokenRow>();
}

export async function selectTokens(db: D1Database): Promise<TokenRow[]> {
  const result = await db
    .prepare(`SELECT ${rowColumns} FROM tokens WHERE revoked_at_ms IS NULL ORDER BY created_at_ms, token_id`)
    .all<TokenRow>();
  return result.results;
}

/** Revokes a token; false when no unrevoked token has that id. */
export async function revokeToken(db: D1Database, tokenId: string, nowMs: number): Promise<boolean> {
  const result = await db
    .prepare("UPDATE tokens SET revoked_at_ms = ? WHERE token_id = ? AND revoked_at_ms IS NULL")
    .bind(nowMs, tokenId)
    .run();
  return result.meta.changes === 1;
}

/**
 * Revokes a token and every token it minted, directly or through others
 * (revoked ones included, so a chain holds across a link revoked before);
 * answers the ids it revoked, or null when no token ever had `tokenId`.
 */
export async function revokeTokenTree(db: D1Database, tokenId: string, nowMs: number): Promise<string[] | null> {
  const [revoked, exists] = await db.batch<{ tokenId: string }>([
    db
      .prepare(
        `WITH RECURSIVE minted (id) AS (
           SELECT token_id FROM tokens WHERE token_id = ?1
           UNION SELECT t.token_id FROM tokens t JOIN minted m ON t.created_by = m.id
         )
         UPDATE tokens SET revoked_at_ms = ?2
         WHERE revoked_at_ms IS NULL AND token_id IN (SELECT id FROM minted)
         RETURNING token_id AS tokenId`,
      )
      .bind(tokenId, nowMs),
    db.prepare("SELECT token_id AS tokenId FROM tokens WHERE token_id = ?").bind(tokenId),
  ]);
  return exists!.results.length === 0 ? null : revoked!.results.map((row) => row.tokenId);
}

/** What a drop ends the grants on: a database (and so every table in it), or one table. */
export interface GrantTarget {
  database: string;
  table: string | null;
}

/**
 * Removes from every unrevoked token the scopes that name `target` (for a
 * database: its own and those of its tables), where `condition` holds
 * (SQL whose plain `?` parameters take `conditionValues`): the statement
 * to run in the same batch as the drop, so the two take effect together.
 */
export function endGrantsStatement(db: D1Database, target: GrantTarget, condition = "1", ...conditionValues: unknown[]): D1PreparedStatement {
  const names =
    target.table === null
      ? `value IN ('read:' || ?1, 'write:' || ?1)
         OR substr(value, 1, length(?1) + 6) = 'read:' || ?1 || '.'
         OR substr(value, 1, length(?1) + 7) = 'write:' || ?1 || '.'`
      : `value IN ('read:' || ?1 || '.' || ?2, 'write:' || ?1 || '.' || ?2)`;
  return db
    .prepare(
      `UPDATE tokens SET scopes = (SELECT json_group_array(value) FROM json_each(tokens.scopes) WHERE NOT (${names}))
       WHERE revoked_at_ms IS NULL AND EXISTS (SELECT 1 FROM json_each(tokens.scopes) WHERE ${names}) AND (${condition})`,
    )
    .bind(...(target.table === null ? [target.database] : [target.database, target.table]), ...conditionValues);
}
