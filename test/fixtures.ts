/** Table definitions shared by the Workers-runtime tests and the smoke test. */
export const eventsDefinition = {
  columns: [
    { name: "id", type: "BIGINT", nullable: false },
    { name: "user", type: "STRING" },
    { name: "amount", type: "DECIMAL(10,2)", nullable: false },
    { name: "ts", type: "TIMESTAMP_LTZ(3)", nullable: false },
    { name: "tags", type: "STRING", nullable: true },
  ],
  bucket: { num: 4, key: ["user"] },
};
