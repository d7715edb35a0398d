/**
 * Floe's typed client, `import { Floe } from "floe/client"`: the package's
 * public entry (docs/client.md). Everything here runs in Node 20+,
 * browsers and Workers.
 */
export { Floe, Tokens } from "./floe.ts";
export { Table } from "./table.ts";
export type { ArrowLogPage, LogOptions } from "./table.ts";
export { Writer } from "./writer.ts";
export type { Rows, WriteOptions } from "./writer.ts";
export { Scan } from "./scan.ts";
export type { ScanOptions } from "./scan.ts";
export { FloeError } from "./errors.ts";
export type { ClientOptions } from "./http.ts";
export { subscribe, UpgradeRefused } from "./subscribe.ts";
export type { PartitionDropped, ReceivedBatch, RetryNotice, SubscribeOptions, Subscription, SubscriptionError } from "./subscribe.ts";
export type { From, Offsets, StartPosition } from "../protocol/subscription.ts";
export type * from "./types.ts";
