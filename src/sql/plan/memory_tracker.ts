/**
 * Per-query memory accounting, as TiDB's memory tracker: the operators of one statement
 * that materialize rows (full-scan results, join outputs and hash tables, hash
 * aggregation groups and their GROUP_CONCAT / DISTINCT buffers, window partitions, sort
 * buffers, DISTINCT and set-operation key sets, derived tables and CTE results) report
 * the bytes they hold with `consume` and give them back with `release`. When the bytes
 * held would pass the quota (`tidb_mem_quota_query`, 1 GiB by default; 0 or less: no
 * limit), the statement fails with TiDB's error 8175 `ER_MEM_EXCEED_FOR_QUERY`. With
 * `tidb_enable_tmp_storage_on_oom` ON (the default, as TiDB), a SELECT over one table or
 * an inner equi-join of two that fails so is run again spilling to disk
 * (`spill_select.ts`): its input read in pages, the join, the sort and the groups written
 * to temp files whenever the bytes held would pass a part of the quota (`wouldPass`,
 * `spillFraction` by default); so are its DISTINCT, a LEFT / RIGHT outer equi-join of
 * two sources and windows sharing one PARTITION BY, and UNION / INTERSECT / EXCEPT
 * (`spill_setop.ts`). Other operators (joins of three tables, windows over the whole
 * input, UNION ALL, derived tables) still end with 8175. The tracker also carries the
 * query's kill signal: a `KILL QUERY` makes the next `consume` throw 1317.
 *
 * Sizes are estimates of the JavaScript objects (`valueBytes`, `rowBytes`): a fixed
 * overhead per value and per row plus the payload (string length, bigint digits). A
 * `MemoryScope` groups what one operator run consumed so it can all be released at once,
 * also when the run fails. Pure: no I/O, no clock.
 */
import type { Value } from "../../expr/mod.ts";
import { ER, type MySqlError, mysqlError } from "../mysql_errors.ts";

/** TiDB's default `tidb_mem_quota_query`: 1 GiB. */
export const defaultMemQuotaBytes = 1 << 30;

/** The part of the quota spilling operators fill before they write to disk. */
export const spillFraction = 0.8;

/** Whether `error` is 8175 (a query past its memory quota). */
export function isMemQuotaError(error: unknown): boolean {
  return error instanceof Error && (error as { errno?: unknown }).errno ===
    ER.MEM_EXCEED_FOR_QUERY.errno;
}

/** Bytes a row array costs besides its values (header and one slot per value). */
export const rowOverheadBytes = 32;
/** Bytes a hash-table or set entry costs besides its key and value. */
export const entryOverheadBytes = 48;

/** The estimated bytes one value holds. */
export function valueBytes(v: Value): number {
  if (v === null) return 8;
  switch (v.kind) {
    case "int":
    case "uint":
      return 40;
    case "decimal":
      return 56;
    case "double":
      return 24;
    case "string":
      return 32 + v.value.length * 2;
    case "datetime":
      return 64;
  }
}

/** The estimated bytes one row holds: its values and the array around them. */
export function rowBytes(row: readonly Value[]): number {
  let bytes = rowOverheadBytes + row.length * 8;
  for (const v of row) bytes += valueBytes(v);
  return bytes;
}

/** The estimated bytes of `rows` and the array holding them. */
export function rowsBytes(rows: readonly (readonly Value[])[]): number {
  let bytes = rowOverheadBytes + rows.length * 8;
  for (const row of rows) bytes += rowBytes(row);
  return bytes;
}

/** The estimated bytes of a string key kept in a set or map. */
export function keyBytes(key: string): number {
  return entryOverheadBytes + key.length * 2;
}

/** Error 8175 for the query of connection `connectionId`. */
export function memQuotaExceeded(connectionId: number): MySqlError {
  return mysqlError(ER.MEM_EXCEED_FOR_QUERY, [connectionId]);
}

/** Something operators report their memory to (a tracker or one of its scopes). */
export interface MemoryAccount {
  consume(bytes: number): void;
  release(bytes: number): void;
}

/** An account that records nothing (callers without a tracker). */
export const noMemoryAccount: MemoryAccount = { consume: () => {}, release: () => {} };

/** The memory of one query: bytes held now, the peak, and the quota. */
export class MemoryTracker implements MemoryAccount {
  /** Bytes the query may hold; 0 or less: no limit. */
  readonly quota: number;
  private readonly connectionId: number;
  private held = 0;
  private highest = 0;

  /** Aborted when the query is killed: the next `consume` throws its reason (1317). */
  private readonly signal: AbortSignal | undefined;

  constructor(options: { readonly quota: number; readonly connectionId: number;
    readonly signal?: AbortSignal }) {
    this.quota = options.quota;
    this.connectionId = options.connectionId;
    this.signal = options.signal;
  }

  /** Bytes held now. */
  get consumed(): number {
    return this.held;
  }

  /** The most bytes held at once so far. */
  get peak(): number {
    return this.highest;
  }

  /**
   * Records `bytes` more held; past the quota the bytes are not kept and the query fails
   * with 8175.
   */
  consume(bytes: number): void {
    // Operators that hold rows report here as they grow: where a killed query stops.
    this.signal?.throwIfAborted();
    if (bytes <= 0) return;
    const next = this.held + bytes;
    if (this.quota > 0 && next > this.quota) throw memQuotaExceeded(this.connectionId);
    this.held = next;
    if (next > this.highest) this.highest = next;
  }

  /** Records `bytes` given back (never below zero). */
  release(bytes: number): void {
    if (bytes <= 0) return;
    this.held = Math.max(0, this.held - bytes);
  }

  /**
   * Whether holding `bytes` more would pass `fraction` of the quota (never without a
   * quota): where a spilling operator writes to disk instead (TiDB spills at 80%).
   */
  wouldPass(bytes: number, fraction = spillFraction): boolean {
    return this.quota > 0 && this.held + bytes > this.quota * fraction;
  }

  /** Bytes that may still be held before `fraction` of the quota (Infinity: no quota). */
  headroom(fraction = spillFraction): number {
    return this.quota > 0 ? Math.max(0, this.quota * fraction - this.held) : Infinity;
  }

  /** Stops the query with its kill reason (1317) if it was killed. */
  checkKilled(): void {
    this.signal?.throwIfAborted();
  }

  /** Gives everything back (the query ended). */
  releaseAll(): void {
    this.held = 0;
  }

  /** A scope whose consumption `close()` gives back in one step. */
  scope(): MemoryScope {
    return new MemoryScope(this);
  }
}

/** What one operator run consumed from a tracker, released together by `close()`. */
export class MemoryScope implements MemoryAccount {
  private readonly tracker: MemoryAccount;
  private bytes = 0;

  constructor(tracker: MemoryAccount) {
    this.tracker = tracker;
  }

  /** Bytes this scope holds now. */
  get held(): number {
    return this.bytes;
  }

  consume(bytes: number): void {
    if (bytes <= 0) return;
    this.tracker.consume(bytes);
    this.bytes += bytes;
  }

  release(bytes: number): void {
    const n = Math.min(Math.max(bytes, 0), this.bytes);
    this.tracker.release(n);
    this.bytes -= n;
  }

  /**
   * Takes over `bytes` already consumed on the tracker by another scope (an operator's
   * output its consumer now holds), so this scope's `close()` releases them.
   */
  adopt(bytes: number): void {
    if (bytes > 0) this.bytes += bytes;
  }

  /** Hands the bytes held over to a consumer (`adopt`): this scope no longer holds them. */
  handOver(): number {
    const n = this.bytes;
    this.bytes = 0;
    return n;
  }

  /** Releases everything this scope holds. */
  close(): void {
    this.tracker.release(this.bytes);
    this.bytes = 0;
  }
}
