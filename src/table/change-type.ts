/**
 * Change types of a changelog row, with Fluss's byte values. Log tables only
 * ever hold inserts; a primary-key table's log is its changelog, stored with
 * a `__change` TINYINT column holding these codes.
 */
export const changeTypes = ["+I", "-U", "+U", "-D"] as const;
export type ChangeType = (typeof changeTypes)[number];

export const changeCode: Record<ChangeType, number> = { "+I": 0, "-U": 1, "+U": 2, "-D": 3 };

/** The column name changelog batches store change codes under (never a user column: `__` is reserved). */
export const changeColumnName = "__change";
