/**
 * The OpenAPI 3.1 description of `/v1`, served open at `/v1/openapi.json`.
 * It is data, written by hand next to the routes it describes; a test
 * (test/workers/openapi.test.ts) checks that every route the app registers
 * is described and every described route exists. The prose reference is
 * docs/http-api.md.
 */
import { describePartitionsMax } from "./tables.ts";
import { describeBucketsMax } from "./tablets.ts";

type Json = Record<string, unknown>;

const ref = (name: string): Json => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: Json, description = "OK"): Json => ({ description, content: { "application/json": { schema } } });
const path = (name: string, description: string): Json => ({ name, in: "path", required: true, description, schema: { type: "string", pattern: "^[A-Za-z_][A-Za-z0-9_]*$", maxLength: 128 } });
const query = (name: string, description: string, schema: Json = { type: "string" }, required = false): Json => ({ name, in: "query", required, description, schema });
const db = path("db", "database name");
const partitionPath: Json = { name: "partition", in: "path", required: true, description: "a partition's spec, `key=value` pairs joined with `/` (which may be sent as %2F)", schema: { type: "string", examples: ["dt=20261130", "region=eu/dt=20261130"] } };
const partitionQuery = (what: string): Json => query("partition", `the partition ${what} (partitioned tables), e.g. dt=20261130`);
const table = path("table", "table name (`{table}$lake` reads the lake alone, for scans)");
const errors = (...statuses: number[]): Json =>
  Object.fromEntries(statuses.map((status) => [String(status), { $ref: `#/components/responses/Error${status}` }]));
const common = errors(400, 401, 403, 404);

const rowsBody: Json = {
  required: true,
  content: {
    "application/json": { schema: { type: "array", items: ref("Row") } },
    "application/x-ndjson": { schema: { type: "string", description: "one row object per line" } },
    "application/vnd.apache.arrow.stream": { schema: { type: "string", format: "binary", description: "an Arrow IPC stream whose fields are table columns (narrower types widen losslessly; see docs/types.md)" } },
  },
};
const streamed = (description: string): Json => ({
  description,
  content: {
    "application/json": { schema: { type: "object" } },
    "application/x-ndjson": { schema: { type: "string" } },
    "application/vnd.apache.arrow.stream": { schema: { type: "string", format: "binary" } },
  },
});

const operations: Record<string, Record<string, Json>> = {
  "/v1/health": {
    get: { summary: "Liveness, version and access mode", security: [], responses: { "200": json(ref("Health")) } },
  },
  "/v1/openapi.json": {
    get: { summary: "This description", security: [], responses: { "200": json({ type: "object" }) } },
  },
  "/v1/databases": {
    get: { summary: "List databases (admin)", responses: { "200": json({ type: "object", properties: { databases: { type: "array", items: { type: "object", properties: { name: { type: "string" }, createdAt: { type: "string", format: "date-time" } } } } } }), ...common } },
  },
  "/v1/databases/{db}": {
    put: { summary: "Create a database (admin): 201 created, 200 when it exists", parameters: [db], responses: { "200": json(ref("DatabaseCreated")), "201": json(ref("DatabaseCreated"), "Created"), ...common } },
    delete: { summary: "Drop an empty database (admin); 409 while it has tables", parameters: [db], responses: { "200": json({ type: "object" }), ...common, ...errors(409) } },
  },
  "/v1/databases/{db}/tables": {
    get: { summary: "List a database's tables", parameters: [db], responses: { "200": json({ type: "object", properties: { tables: { type: "array", items: ref("Table") } } }), ...common } },
  },
  "/v1/databases/{db}/tables/{table}": {
    put: {
      summary: "Create a table: 201 created, 200 when an identical one exists, 409 when a different one does",
      parameters: [db, table],
      requestBody: { required: true, content: { "application/json": { schema: ref("TableDefinition") } } },
      responses: { "200": json(ref("Table")), "201": json(ref("Table"), "Created"), ...common, ...errors(409, 413) },
    },
    get: { summary: "Describe a table: definition, each bucket's offsets, the lake snapshot", parameters: [db, table], responses: { "200": json(ref("TableDescription")), ...common } },
    delete: { summary: "Drop a table and all its data (write on the database)", parameters: [db, table], responses: { "200": json({ type: "object" }), ...common } },
  },
  "/v1/databases/{db}/tables/{table}/partitions": {
    get: {
      summary: `A partitioned table's partitions with each bucket's offsets (${describeBucketsMax} buckets per answer; \`next\` continues)`,
      parameters: [db, table, query("cursor", "where to continue: the `next` of the previous answer")],
      responses: { "200": json({ type: "object", properties: { partitions: { type: "array", items: ref("PartitionOffsets") }, next: { type: ["string", "null"] } } }), ...common },
    },
  },
  "/v1/databases/{db}/tables/{table}/partitions/{partition}": {
    put: { summary: "Create a partition (write on the table): 201 created, 200 when it exists, 409 past the table's partition cap", parameters: [db, table, partitionPath], responses: { "200": json(ref("Partition")), "201": json(ref("Partition"), "Created"), ...common, ...errors(409) } },
    delete: {
      summary: "Drop a partition and all its data from the hot tier (write on the table); with `lake=`, its lake rows too, in one `delete` snapshot",
      parameters: [
        db, table, partitionPath,
        query("lake", "`false`: the hot partition only; `true`: it and the lake rows of every incarnation of the spec; `only`: the lake rows of the incarnations the hot tier dropped, leaving a live partition whole (tables with the lake)", { type: "string", enum: ["false", "true", "only"] }),
      ],
      responses: { "200": json(ref("PartitionDrop")), ...common, ...errors(503) },
    },
  },
  "/v1/databases/{db}/tables/{table}/rows": {
    post: {
      summary: "Append (log tables) or upsert, partially update or delete (primary-key tables) rows",
      parameters: [
        db, table,
        query("op", "`delete` deletes the keys the rows carry (primary-key tables)", { type: "string", enum: ["delete"] }),
        query("columns", "a partial update of these columns, comma-separated (primary-key tables)"),
        query("ignoreSystemColumns", "skip `_offset`, `_timestamp` and `_change` in an Arrow body read from a log or scan", { type: "string", enum: ["true", "false"] }),
        query("dynamicPartitions", "create the partitions the rows name that do not exist (partitioned tables)", { type: "string", enum: ["true", "false"] }),
        { name: "Floe-Writer-Id", in: "header", description: "an idempotent writer's id (1-128 characters)", schema: { type: "string", maxLength: 128 } },
        { name: "Floe-Writer-Seq", in: "header", description: "the writer's request sequence: a retry with the same one is written once", schema: { type: "integer" } },
      ],
      requestBody: rowsBody,
      responses: { "200": json(ref("WriteResult")), ...common, ...errors(409, 413, 415) },
    },
  },
  "/v1/databases/{db}/tables/{table}/lookup": {
    post: {
      summary: "Look up primary keys, or the rows under a bucket-key prefix",
      parameters: [db, table],
      requestBody: { required: true, content: { "application/json": { schema: ref("LookupRequest") } } },
      responses: { "200": json({ type: "object", properties: { rows: { type: "array", items: { oneOf: [ref("Row"), { type: "null" }] } }, truncated: { type: "boolean" } } }), ...common, ...errors(413) },
    },
  },
  "/v1/databases/{db}/tables/{table}/log": {
    get: {
      summary: "Read one bucket's log (a primary-key table's changelog) from an offset",
      parameters: [
        db, table,
        query("bucket", "the bucket", { type: "integer", minimum: 0 }, true),
        partitionQuery("whose bucket to read (required for partitioned tables)"),
        query("offset", "where to start (default: the log start)", { type: "integer", minimum: 0 }),
        query("limit", "rows, 1..10000 (default 1000)", { type: "integer", minimum: 1, maximum: 10000 }),
        query("columns", "projected columns, comma-separated"),
        query("format", "answer format", { type: "string", enum: ["json", "ndjson", "arrow"] }),
      ],
      responses: { "200": { ...streamed("the page; headers Floe-Next-Offset, Floe-High-Watermark, Floe-Log-Start-Offset"), content: { ...(streamed("").content as Json), "application/json": { schema: ref("LogPage") } } }, ...common },
    },
  },
  "/v1/databases/{db}/tables/{table}/scan": {
    get: {
      summary: "Every row of a log table, or every key's current row, across the lake and the Tablets (streamed)",
      parameters: [
        db, table,
        query("source", "union (default), lake or hot", { type: "string", enum: ["union", "lake", "hot"] }),
        query("columns", "projected columns, comma-separated"),
        query("filter", "predicates joined with AND, e.g. `user = 'ann' AND id >= 2` (at most 4096 characters)"),
        query("limit", "stop after this many rows", { type: "integer", minimum: 1 }),
        query("snapshot", "a lake snapshot id (time travel)", { type: "integer" }),
        partitionQuery("to read alone (default: every partition the filter does not rule out)"),
        query("format", "answer format", { type: "string", enum: ["json", "ndjson", "arrow"] }),
      ],
      responses: { "200": streamed("the rows; headers Floe-Scan-Offsets and Floe-Lake-Snapshot give the read point"), ...common, ...errors(410) },
    },
  },
  "/v1/databases/{db}/tables/{table}/subscribe": {
    get: {
      summary: "A WebSocket that pushes every committed batch from a start position (a plain GET answers 426 where it would upgrade)",
      description: "Send one JSON message `{ from, partition?, buckets?, columns?, format? }` (or pass it as `?subscribe=`); a partitioned table's subscription without `partition` follows every partition; see docs/subscriptions.md.",
      parameters: [db, table, query("subscribe", "the subscribe message as JSON, sent with the upgrade")],
      responses: { "101": { description: "Switching Protocols" }, ...common, ...errors(426) },
    },
  },
  "/v1/databases/{db}/tables/{table}/snapshots": {
    get: { summary: "The table's lake snapshots with each bucket's end offset and file and record counts", parameters: [db, table], responses: { "200": json({ type: "object", properties: { lake: { type: ["object", "null"] }, snapshots: { type: "array", items: ref("Snapshot") } } }), ...common } },
  },
  "/v1/tiering/run": {
    post: { summary: "Run one tiering pass now over every lake-enabled table (admin)", responses: { "200": json({ type: "object", properties: { tables: { type: "array", items: { type: "object" } } } }), ...common } },
  },
  "/v1/metrics": {
    get: { summary: "Per-table counters, subscribers, tiering lag and last tiering error (admin)", parameters: [query("database", "only this database's tables")], responses: { "200": json({ type: "object", properties: { tables: { type: "array", items: { type: "object" } } } }), ...common } },
  },
  "/v1/tokens": {
    get: { summary: "List tokens (admin; never their secrets)", responses: { "200": json({ type: "object", properties: { tokens: { type: "array", items: ref("Token") } } }), ...common } },
    post: {
      summary: "Create a scoped token (admin); its secret is answered only here",
      requestBody: { required: true, content: { "application/json": { schema: { type: "object", required: ["name", "scopes"], properties: { name: { type: "string", maxLength: 128 }, scopes: { type: "array", items: { type: "string" }, maxItems: 100 } } } } } },
      responses: { "201": json({ allOf: [ref("Token"), { type: "object", properties: { token: { type: "string" } } }] }, "Created"), ...common },
    },
  },
  "/v1/tokens/{id}": {
    delete: { summary: "Revoke a token (admin)", parameters: [{ name: "id", in: "path", required: true, schema: { type: "string" } }], responses: { "200": json({ type: "object", properties: { id: { type: "string" }, revoked: { type: "boolean" } } }), ...common } },
  },
};

const schemas: Record<string, Json> = {
  Error: { type: "object", required: ["error"], properties: { error: { type: "object", required: ["code", "message"], properties: { code: { type: "string", enum: ["bad_request", "unauthorized", "forbidden", "not_found", "conflict", "gone", "payload_too_large", "unsupported_media_type", "upgrade_required", "too_many_requests", "unavailable", "internal"] }, message: { type: "string" } } } } },
  Health: { type: "object", properties: { status: { type: "string" }, version: { type: "string" }, access: { type: "string", enum: ["open", "tokens", "unconfigured"] } } },
  DatabaseCreated: { type: "object", properties: { name: { type: "string" }, created: { type: "boolean" } } },
  Row: { type: "object", description: "column name → value in the column type's JSON spelling (docs/types.md)", additionalProperties: true },
  Column: { type: "object", required: ["name", "type"], properties: { name: { type: "string" }, type: { type: "string", examples: ["BIGINT", "DECIMAL(10,2)", "TIMESTAMP_LTZ(3)"] }, nullable: { type: "boolean", default: true } } },
  TableDefinition: {
    type: "object",
    required: ["columns"],
    properties: {
      columns: { type: "array", items: ref("Column"), maxItems: 256 },
      primaryKey: { type: "array", items: { type: "string" } },
      partitionKeys: { type: "array", items: { type: "string" }, description: "STRING columns that name a partition (docs/partitions.md)" },
      bucket: { type: "object", properties: { num: { type: "integer", minimum: 1, maximum: 1024 }, key: { type: "array", items: { type: "string" } } } },
      properties: { type: "object", additionalProperties: { type: "string" }, description: "table properties (docs/http-api.md#creating-a-table)" },
    },
  },
  Table: { allOf: [ref("TableDefinition"), { type: "object", properties: { database: { type: "string" }, name: { type: "string" }, tableId: { type: "string" }, createdAt: { type: "string", format: "date-time" }, created: { type: "boolean" } } }] },
  TableDescription: {
    allOf: [ref("Table"), {
      type: "object",
      properties: {
        buckets: { type: "array", items: { type: "object", properties: { bucket: { type: "integer" }, logStartOffset: { type: "integer" }, tieredOffset: { type: "integer" }, highWatermark: { type: "integer" } } } },
        lakeSnapshot: { type: ["object", "null"] },
        partitionCount: { type: "integer", description: "a partitioned table's partitions (its `buckets` are then empty)" },
        partitions: { type: "array", items: ref("Partition"), description: `a partitioned table's first ${describePartitionsMax} partitions (all through .../partitions)` },
      },
    }],
  },
  PartitionDrop: {
    type: "object",
    properties: {
      partition: { type: "string" },
      partitionId: { type: ["integer", "null"], description: "the hot partition dropped, or null (lake=only, or none in the hot tier)" },
      dropped: { type: "boolean", description: "whether a hot partition was dropped" },
      lake: {
        type: "object",
        description: "with lake=: what left the lake (snapshotId null when nothing did)",
        properties: {
          snapshotId: { type: ["integer", "null"] }, partitionIds: { type: "array", items: { type: "integer" } },
          dataFiles: { type: "integer" }, deleteFiles: { type: "integer" }, records: { type: "integer" },
        },
      },
    },
  },
  Partition: { type: "object", properties: { partition: { type: "string" }, partitionId: { type: "integer" }, values: { type: "object", additionalProperties: { type: "string" } }, createdAt: { type: "string", format: "date-time" }, created: { type: "boolean" } } },
  PartitionOffsets: {
    allOf: [ref("Partition"), {
      type: "object",
      properties: { buckets: { type: "array", items: { type: "object", properties: { bucket: { type: "integer" }, logStartOffset: { type: "integer" }, tieredOffset: { type: "integer" }, highWatermark: { type: "integer" } } } } },
    }],
  },
  WriteResult: { type: "object", properties: { buckets: { type: "array", items: { type: "object", properties: { partition: { type: "string" }, bucket: { type: "integer" }, baseOffset: { type: "integer" }, count: { type: "integer" }, duplicate: { type: "boolean" } } } } } },
  LookupRequest: {
    oneOf: [
      { type: "object", required: ["keys"], properties: { keys: { type: "array", items: ref("Row"), maxItems: 1000 } } },
      { type: "object", required: ["prefix"], properties: { prefix: ref("Row"), limit: { type: "integer", minimum: 1, maximum: 10000 } } },
    ],
  },
  LogPage: { type: "object", properties: { partition: { type: "string", description: "a partitioned table's partition" }, bucket: { type: "integer" }, logStartOffset: { type: "integer" }, highWatermark: { type: "integer" }, nextOffset: { type: "integer" }, rows: { type: "array", items: ref("Row") } } },
  Snapshot: { type: "object", properties: { snapshotId: { type: "integer" }, sequenceNumber: { type: "integer" }, timestamp: { type: "string" }, operation: { type: "string" }, bucketOffsets: { type: "object", additionalProperties: { type: "integer" } }, totalRecords: { type: "integer" } } },
  Token: { type: "object", properties: { id: { type: "string" }, name: { type: "string" }, scopes: { type: "array", items: { type: "string" } }, createdAt: { type: "string" } } },
};

const errorStatuses: Record<number, string> = {
  400: "bad request: malformed body, wrong type, bad parameter",
  401: "no valid bearer token",
  403: "the token's scopes do not grant this",
  404: "no such database, table, partition, snapshot or route",
  409: "conflict: a different definition, a non-empty database, a writer sequence out of order, a table's partition cap",
  410: "gone: the log a scan needs was dropped by retention",
  413: "payload too large",
  415: "unsupported Content-Type",
  426: "upgrade required: a plain GET of a subscribe URL",
  503: "unavailable: try again (a lake commit that lost the catalog's swap each time it was tried)",
};

/** The document, for a server of this version. */
export function openApiDocument(version: string): Json {
  return {
    openapi: "3.1.0",
    info: {
      title: "Floe",
      version,
      summary: "A streamhouse on Cloudflare Workers: hot Tablets in Durable Objects, tiered into Apache Iceberg on R2",
      description: "Every route except /v1/health and /v1/openapi.json needs `Authorization: Bearer <token>` (docs/access-control.md). Errors are `{ error: { code, message } }` and every answer carries `Floe-Request-Id`.",
    },
    servers: [{ url: "/" }],
    security: [{ bearer: [] }],
    paths: operations,
    components: {
      securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
      schemas,
      responses: Object.fromEntries(Object.entries(errorStatuses).map(([status, description]) => [`Error${status}`, json(ref("Error"), description)])),
    },
  };
}

/** Every documented operation as `METHOD /path/{param}`, for the test that keeps the document true. */
export function documentedRoutes(): string[] {
  return Object.entries(operations).flatMap(([route, methods]) => Object.keys(methods).map((method) => `${method.toUpperCase()} ${route}`));
}
