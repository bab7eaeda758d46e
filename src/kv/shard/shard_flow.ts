/**
 * `ShardFlow`: the read and write load of one peer, as PD's shard heartbeats report it
 * (bytes and keys per second each way, and requests per second).
 *
 * The peer counts writes when it applies them (every peer applies every write, so any
 * peer's count is the shard's; the leader's is the one reported) and reads when its
 * snapshots are read (`countingSnapshot`). `take(nowMs)` turns the counts since the last
 * take into per-second rates and starts a new interval: rates are per heartbeat interval,
 * and time comes from the caller, so the counter stays pure.
 */
import type { EngineSnapshot, KeyValue, ScanOptions, WriteOp } from "../engine/engine.ts";

/** The load of one interval, per second. */
export interface FlowRates {
  readonly readBytesPerSec: number;
  readonly readKeysPerSec: number;
  readonly writeBytesPerSec: number;
  readonly writeKeysPerSec: number;
  readonly queriesPerSec: number;
}

/** Read and write counters of one peer; see the file comment. */
export class ShardFlow {
  private readBytes = 0;
  private readKeys = 0;
  private writeBytes = 0;
  private writeKeys = 0;
  private queries = 0;
  private sinceMs: number | undefined;

  /** Counts the ops of one applied write. */
  wrote(ops: readonly WriteOp[]): void {
    for (const op of ops) {
      this.writeKeys++;
      this.writeBytes += op.kind === "put"
        ? op.key.length + op.value.length
        : op.kind === "delete" ? op.key.length : op.start.length + op.end.length;
    }
  }

  /** Counts pairs a reader got. */
  read(keys: number, bytes: number): void {
    this.readKeys += keys;
    this.readBytes += bytes;
  }

  /** Counts one request (a read or a write proposal). */
  query(): void {
    this.queries++;
  }

  /**
   * The rates since the previous take (or since the first count, for the first take,
   * which reports zero rates: the interval has no known start) and resets the counts.
   */
  take(nowMs: number): FlowRates {
    const since = this.sinceMs;
    this.sinceMs = nowMs;
    const seconds = since === undefined ? 0 : Math.max(nowMs - since, 1) / 1000;
    const rate = (n: number): number => (seconds === 0 ? 0 : n / seconds);
    const out: FlowRates = {
      readBytesPerSec: rate(this.readBytes),
      readKeysPerSec: rate(this.readKeys),
      writeBytesPerSec: rate(this.writeBytes),
      writeKeysPerSec: rate(this.writeKeys),
      queriesPerSec: rate(this.queries),
    };
    this.readBytes = 0;
    this.readKeys = 0;
    this.writeBytes = 0;
    this.writeKeys = 0;
    this.queries = 0;
    return out;
  }
}

/** `snapshot`, counting every pair read through it into `flow`. */
export function countingSnapshot(snapshot: EngineSnapshot, flow: ShardFlow): EngineSnapshot {
  return {
    get(key: Uint8Array): Uint8Array | undefined {
      const value = snapshot.get(key);
      if (value !== undefined) flow.read(1, key.length + value.length);
      return value;
    },
    *scan(options: ScanOptions): IterableIterator<KeyValue> {
      for (const pair of snapshot.scan(options)) {
        flow.read(1, pair.key.length + pair.value.length);
        yield pair;
      }
    },
    release(): void {
      snapshot.release();
    },
  };
}
