/**
 * `npm run subscribe -- <ws url> [earliest|latest]`: follows a table from
 * the command line and prints every row as one JSON line, with its bucket
 * (snapshot rows of a primary-key table carry `"snapshot": true`). The token,
 * if the server wants one, comes from `FLOE_TOKEN`. Runs under Node.
 *
 * A refusal (an unknown table, a bad or missing token, a bad request) ends
 * it with the server's message on stderr and exit code 1; while the server
 * cannot be reached it says so on stderr before each retry.
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
    console.error(`subscription refused: ${error.status} ${error.code}: ${error.message}`);
    process.exitCode = 1;
  },
  onRetry(retry) {
    console.error(`${retry.reason}; retrying in ${(retry.delayMs / 1000).toFixed(1)} s (attempt ${retry.attempt})`);
  },
});
process.on("SIGINT", () => subscription.close());
await subscription.closed;
