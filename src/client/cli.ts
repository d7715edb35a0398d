/**
 * `npm run subscribe -- <ws url> [earliest|latest]`: follows a table from
 * the command line and prints every row as one JSON line, with its bucket
 * (snapshot rows of a primary-key table carry `"snapshot": true`). The token,
 * if the server wants one, comes from `FLOE_TOKEN`. Runs under Node.
 */
import { subscribe } from "./subscribe.ts";

const [url, from = "earliest"] = process.argv.slice(2);
if (!url || (from !== "earliest" && from !== "latest")) {
  console.error("usage: npm run subscribe -- ws://localhost:8787/v1/databases/<db>/tables/<table>/subscribe [earliest|latest]");
  process.exit(2);
}

const subscription = subscribe({
  url,
  from,
  token: process.env.FLOE_TOKEN,
  onBatch(batch) {
    const rows = batch.rows ?? batch.table!.toArray().map((row) => row.toJSON());
    for (const row of rows) {
      const line = batch.snapshot ? { bucket: batch.bucket, snapshot: true, ...row } : { bucket: batch.bucket, ...row };
      console.log(JSON.stringify(line, (_, value) => (typeof value === "bigint" ? value.toString() : value)));
    }
  },
  onError(error) {
    console.error(`subscription refused: ${error.code}: ${error.message}`);
    process.exitCode = 1;
  },
});
process.on("SIGINT", () => subscription.close());
await subscription.closed;
