/**
 * Flow control of one bucket's lake replay, kept by the relay, which sees
 * the client's acks: the same window as the Tablet keeps for live delivery
 * (`protocol/subscription.ts`), at most `windowRows` rows, the bucket's
 * `windowBytes` and `messagesInFlightMax` messages sent beyond what the
 * client acknowledged, counted in offsets for a log table's rows and in
 * parts for a primary-key state's.
 *
 * Invariant: a message is sent only while the window has room, so a client
 * that stops acknowledging holds the relay at its window plus one message;
 * the replay waits (reading nothing more from the lake) until acks make room
 * or the subscription ends. What a log table's replay leaves in flight is
 * handed to the bucket's Tablet (`carry`), so one window spans both.
 */
import { messagesInFlightMax, windowRows } from "../protocol/subscription.ts";

/** What a replay's acks count: offsets (a log table's rows) or parts (a primary-key table's state). */
export type ReplayUnit = "offsets" | "parts";

/** Where a sent message ends, in the replay's unit (exclusive), the rows it carries and its bytes on the socket. */
export interface Sent {
  end: number;
  rows: number;
  bytes: number;
}

export class ReplayWindow {
  /** Per message sent and not yet acknowledged: where it ends, its rows and bytes. */
  private readonly inFlight: Sent[] = [];
  private readonly waiting: (() => void)[] = [];
  private ended = false;
  /** Everything below this is acknowledged (offsets or parts). */
  acked: number;

  /** `start`: where the replay begins (its first offset, or part 0). */
  constructor(
    readonly unit: ReplayUnit,
    private readonly windowBytes: number,
    start: number,
  ) {
    this.acked = start;
  }

  /** What the bucket's Tablet takes over (a log table's replay): the acked offset and what is in flight (`TabletSubscription.carried`). */
  carry(): { acked: number; inFlight: number[] } {
    return { acked: this.acked, inFlight: this.inFlight.flatMap((m) => [m.end, m.bytes]) };
  }

  /** Waits until the window has room for a message; throws once the subscription ended. */
  async room(): Promise<void> {
    while (!this.hasRoom()) await this.change();
  }

  /** Records a message just sent. */
  sent(message: Sent): void {
    this.inFlight.push(message);
  }

  /** The client acknowledged everything below `position` (offsets or parts, as the unit says; another unit's ack is ignored). */
  ack(unit: ReplayUnit, position: number): void {
    if (unit !== this.unit) return;
    this.acked = Math.max(this.acked, position);
    let acked = 0;
    while (acked < this.inFlight.length && this.inFlight[acked]!.end <= position) acked++;
    if (acked === 0) return;
    this.inFlight.splice(0, acked);
    this.notify();
  }

  /** Waits until every message sent is acknowledged: then the bucket's Tablet may start its own window. */
  async drained(): Promise<void> {
    while (this.inFlight.length > 0) await this.change();
  }

  /** Ends the replay: whatever waits throws. */
  end(): void {
    this.ended = true;
    this.notify();
  }

  private hasRoom(): boolean {
    let rows = 0;
    let bytes = 0;
    for (const message of this.inFlight) {
      rows += message.rows;
      bytes += message.bytes;
    }
    return rows < windowRows && bytes < this.windowBytes && this.inFlight.length < messagesInFlightMax;
  }

  private async change(): Promise<void> {
    if (this.ended) throw new Error("the client left during the lake replay");
    await new Promise<void>((resolve) => this.waiting.push(resolve));
    if (this.ended) throw new Error("the client left during the lake replay");
  }

  private notify(): void {
    for (const wake of this.waiting.splice(0)) wake();
  }
}
