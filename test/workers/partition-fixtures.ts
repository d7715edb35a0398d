/** Partitioned table definitions the partition tests share: a log table by day, a primary-key table by region and day. */

export const eventsByDay = {
  columns: [
    { name: "dt", type: "STRING" },
    { name: "id", type: "BIGINT" },
    { name: "user", type: "STRING" },
  ],
  partitionKeys: ["dt"],
  bucket: { num: 2, key: ["user"] },
};

export const usersByRegionAndDay = {
  columns: [
    { name: "region", type: "STRING" },
    { name: "dt", type: "STRING" },
    { name: "id", type: "BIGINT" },
    { name: "name", type: "STRING" },
  ],
  primaryKey: ["region", "dt", "id"],
  partitionKeys: ["region", "dt"],
  bucket: { num: 2 },
};
