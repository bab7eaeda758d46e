/**
 * What the GC worker must not collect under: the start timestamps of running transactions
 * (`TxnRegistry`, one per SQL node, filled by `TxnClient.begin` and emptied when a
 * transaction ends) and service safe points (`ServiceSafePoints`: a dump or an import
 * holding a snapshot by name, with a TTL so a crashed tool does not block GC forever).
 *
 * Both are bounded maps owned by their process; the GC worker reads their minimum. Other
 * SQL nodes' registries reach the GC owner through PD: each `TxnClient` publishes its
 * registry's minimum as a service safe point (`pd.UpdateServiceSafePoint`), which the GC
 * worker reads with `pd.GetMinServiceSafePoint`. Pure: time comes in as arguments.
 */
import { ErrorCode, TesseraError, type Timestamp, limits } from "../base/mod.ts";

/** A source of "do not collect at or above this ts"; null when it holds nothing back. */
export type MinStartTsSource = () => Promise<Timestamp | null>;

/** Running transactions' start timestamps, counted (two transactions may share one). */
export class TxnRegistry {
  private readonly capacity: number;
  private readonly counts = new Map<bigint, number>();
  private size = 0;

  constructor(options: { readonly capacity?: number } = {}) {
    this.capacity = options.capacity ?? limits.clientTxnRegistryMax;
  }

  /** Transactions registered now. */
  get running(): number {
    return this.size;
  }

  /** Registers a running transaction; `CLIENT:Txn:BufferFull` past the capacity. */
  register(startTs: Timestamp): void {
    if (this.size >= this.capacity) {
      throw new TesseraError(
        ErrorCode.ClientTxnBufferFull,
        `too many running transactions (limit ${this.capacity})`,
        { details: { limit: this.capacity } },
      );
    }
    this.counts.set(startTs, (this.counts.get(startTs) ?? 0) + 1);
    this.size++;
  }

  /** Forgets one registration of `startTs` (a no-op if there is none). */
  unregister(startTs: Timestamp): void {
    const n = this.counts.get(startTs);
    if (n === undefined) return;
    if (n <= 1) this.counts.delete(startTs);
    else this.counts.set(startTs, n - 1);
    this.size--;
  }

  /** The oldest running transaction's start ts, or null. */
  minStartTs(): Timestamp | null {
    let min: bigint | null = null;
    for (const ts of this.counts.keys()) if (min === null || ts < min) min = ts;
    return min as Timestamp | null;
  }
}

/** Named safe points held by tools, each until `expiresAtMs` (monotonic). */
export class ServiceSafePoints {
  private readonly capacity: number;
  private readonly byName = new Map<string, { ts: Timestamp; expiresAtMs: number }>();

  constructor(options: { readonly capacity?: number } = {}) {
    this.capacity = options.capacity ?? 1_024;
  }

  /** Holds GC below `ts` for `service` until `nowMs + ttlMs`. */
  set(service: string, ts: Timestamp, options: { nowMs: number; ttlMs: number }): void {
    if (!this.byName.has(service) && this.byName.size >= this.capacity) {
      throw new TesseraError(ErrorCode.ClientTxnBufferFull, "too many service safe points", {
        details: { limit: this.capacity },
      });
    }
    this.byName.set(service, { ts, expiresAtMs: options.nowMs + options.ttlMs });
  }

  remove(service: string): void {
    this.byName.delete(service);
  }

  /** The lowest unexpired service safe point at `nowMs` (expired ones are dropped). */
  min(nowMs: number): Timestamp | null {
    let min: Timestamp | null = null;
    for (const [name, entry] of this.byName) {
      if (entry.expiresAtMs <= nowMs) {
        this.byName.delete(name);
        continue;
      }
      if (min === null || entry.ts < min) min = entry.ts;
    }
    return min;
  }
}
