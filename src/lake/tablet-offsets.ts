/**
 * The tiered offsets of a table's Tablets, as the catalog's lake row and
 * each snapshot's summary (`floe.bucket-offsets`) hold them: one entry per
 * Tablet, keyed by its bucket (`"3"`), or for a partitioned table by its
 * partition's id and bucket (`"17:3"`). Ids, not specs: a partition
 * dropped and created again is a new Tablet whose log starts at 0.
 *
 * Invariant: the map stays bounded whatever the table's history. A round
 * keeps only the Tablets it found in the catalog, so a dropped partition's
 * entries leave with the next commit. Tablets per table are capped at
 * 4,096, and an entry costs about 30 bytes of JSON (`"10000023:7":`, an
 * offset below 2^53 in 16 digits, a comma), so the map of a table at the
 * cap stays under 128 KiB, well inside D1's 2 MB row.
 */

/** The key of a Tablet's entry. */
export function tabletOffsetKey(bucket: number, partitionId?: number): string {
  return partitionId === undefined ? String(bucket) : `${partitionId}:${bucket}`;
}

/** A key's Tablet. */
export function parseTabletOffsetKey(key: string): { bucket: number; partitionId?: number } {
  const at = key.indexOf(":");
  return at < 0 ? { bucket: Number(key) } : { partitionId: Number(key.slice(0, at)), bucket: Number(key.slice(at + 1)) };
}
