/** Table definitions and helpers shared by the Workers-runtime tests and the smoke test. */
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

/** A seeded pseudo-random source in [0, 1), so a randomised test replays the same sequence. */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}
