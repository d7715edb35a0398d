/**
 * The LakeWriter Durable Object: one per Tablet of a lake table (a bucket,
 * or a bucket of one partition), next to it. It turns the bucket's log into lake files for the table's
 * coordinator, so buckets are encoded in parallel in their own invocations,
 * and keeps the bucket's key → lake-position index (`writer-store.ts`).
 * A thin shell over `bucket-round.ts`; the two-phase protocol is in
 * `writer-contract.ts`.
 *
 * Invariants: the index holds only positions of committed files; a round
 * that is abandoned leaves no file behind and the index untouched.
 */
import { DurableObject } from "cloudflare:workers";
import { keyId } from "../table/keys.ts";
import { live, tabletStub } from "../tablet/stub.ts";
import { tabletName } from "../vocabulary.ts";
import * as store from "./writer-store.ts";
import type { AdoptRequest, CompactRequest, WriteRoundRequest, WriteRoundResult } from "./writer-contract.ts";
import { readRoundRows, writeBucketFiles } from "./bucket-round.ts";
import { compactBucket } from "./bucket-compaction.ts";
import { lakeUri } from "./objects.ts";
import type { DataFile } from "../iceberg/manifest.ts";

/** A prepared round no coordinator settled within this long is abandoned (its coordinator is gone). */
const preparedRoundAgeMaxMs = 24 * 3_600_000;

export class LakeWriter extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.transactionSync(() => store.migrate(ctx.storage.sql));
  }

  async writeRound(request: WriteRoundRequest): Promise<WriteRoundResult> {
    const sql = this.ctx.storage.sql;
    await this.settleStale(request);
    // A writer that first meets its bucket after offset 0 took over a lake tiered without an index.
    if (store.indexComplete(sql) === undefined) store.setIndexComplete(sql, request.from === 0);
    const answer = await tabletStub(this.env, request.table, request.bucket).status();
    // A partition dropped since the coordinator listed it has nothing more to tier; its lake rows stay.
    if (answer.kind === "dropped" && request.table.partition) return { kind: "nothing", highWatermark: 0 };
    const status = live(answer);
    if (status.highWatermark <= request.from) return { kind: "nothing", highWatermark: status.highWatermark };
    const { pages, reached } = await readRoundRows(this.env, request.table, request.bucket, request.from, status.highWatermark);
    const lookup = (keys: Uint8Array[]) => ({ positions: store.positionsOf(sql, keys, keyId), indexComplete: store.indexComplete(sql)! });
    const written: string[] = [];
    const journal = (key: string) => {
      written.push(key);
      store.prepareRound(sql, request.roundId, written, Date.now());
    };
    const { files, positions } = await writeBucketFiles(this.env, request.table, request.bucket, request.sequenceNumber, pages, lookup, journal);
    this.ctx.storage.transactionSync(() => {
      const ids = files.map((f) => store.fileId(sql, f.path));
      store.preparePositions(sql, request.roundId, positions.map((p) => ({ key: p.key, fileId: p.file === null ? null : ids[p.file]!, pos: p.pos })));
    });
    return { kind: "written", files, reached };
  }

  /** Rewrites the bucket's chosen files into new ones, preparing the index's new positions under the round. */
  async compact(request: CompactRequest): Promise<DataFile[]> {
    const sql = this.ctx.storage.sql;
    await this.settleStale(request);
    const written: string[] = [];
    const ids: number[] = [];
    store.prepareRound(sql, request.roundId, written, Date.now(), request.completesIndex);
    const journal = (key: string) => {
      written.push(key);
      store.prepareRound(sql, request.roundId, written, Date.now(), request.completesIndex);
      ids.push(store.fileId(sql, lakeUri(this.env, key)));
    };
    return compactBucket(this.env, request.table, request.bucket, request.sequenceNumber, request, journal, (positions) => {
      store.preparePositions(sql, request.roundId, positions.map((p) => ({ key: p.key, fileId: ids[p.file]!, pos: p.pos })));
    });
  }

  /**
   * The round committed: its positions join the index, and the Tablet
   * learns how far the lake holds it (unless its partition was dropped
   * meanwhile: the lake keeps the partition's rows, and no log is left).
   */
  async adopt(request: AdoptRequest): Promise<void> {
    const sql = this.ctx.storage.sql;
    if (store.preparedRounds(sql).some((r) => r.roundId === request.roundId)) {
      this.ctx.storage.transactionSync(() => store.adoptRound(sql, request.roundId));
    }
    const marked = await tabletStub(this.env, request.table, request.bucket).markTiered(request.tieredOffset);
    if (!(marked.kind === "dropped" && request.table.partition)) live(marked);
  }

  /** The round did not commit: its files go, and the index stays as it was. */
  async abandon(roundId: number): Promise<void> {
    const round = store.preparedRounds(this.ctx.storage.sql).find((r) => r.roundId === roundId);
    if (round) await this.discard(round);
  }

  /**
   * Rounds the coordinator never settled: the current snapshot's is adopted
   * (its coordinator committed it and stopped before saying so), and one
   * older than a day is abandoned.
   */
  private async settleStale(request: { committedRoundId: number | null }): Promise<void> {
    const sql = this.ctx.storage.sql;
    for (const round of store.preparedRounds(sql)) {
      if (round.roundId === request.committedRoundId) this.ctx.storage.transactionSync(() => store.adoptRound(sql, round.roundId));
      else if (round.preparedAtMs < Date.now() - preparedRoundAgeMaxMs) await this.discard(round);
    }
  }

  private async discard(round: store.PreparedRound): Promise<void> {
    if (round.paths.length > 0) await this.env.LAKE.delete(round.paths);
    store.forgetRound(this.ctx.storage.sql, round.roundId);
  }
}

/** The lake writer of one bucket of a table, or of one partition of a partitioned table (one per Tablet). */
export function lakeWriterStub(env: Env, tableId: string, bucket: number, partitionId?: number): DurableObjectStub<LakeWriter> {
  return env.LAKE_WRITER.get(env.LAKE_WRITER.idFromName(tabletName(tableId, bucket, partitionId)));
}
