/**
 * The DDL owner's reorganisation work on table data: the ADD INDEX backfill, deleting the
 * keys of dropped tables and indexes (delete-range), and the ADMIN CHECK comparison of an
 * index with the rows.
 *
 * Backfill (TiDB's `backfill` workers): the handles to fill are read from one snapshot
 * taken after every node runs with the index in write-reorg, so every row committed
 * without the index being maintained is in that snapshot, and every later writer
 * maintains the entry itself. Handles go in batches of `batchRows` to at most `workers`
 * concurrent batch transactions. A batch transaction reads each row *again* at its own
 * start ts and writes the entry of the row as it is then (nothing for a row deleted
 * since), and locks the row keys (lock-only mutations): a writer that changes one of
 * those rows concurrently makes one of the two fail at commit, so a backfilled entry never
 * outlives the row value it was computed from. A conflicting batch retries (bounded, with
 * backoff). For a unique index, an entry already present for another handle is the
 * duplicate MySQL reports (1062), and fails the whole backfill.
 */
import { indexId, tableId } from "../../base/mod.ts";
import type { TxnClient, Transaction } from "../../client/mod.ts";
import { decodeRowKey, indexPrefix, prefixNext, tablePrefix } from "../../codec/mod.ts";
import type { Env } from "../../env/mod.ts";
import type { IndexInfo, TableInfo } from "../catalog/schema.ts";
import { isRetryableConflict } from "../catalog/catalog.ts";
import { ER, MySqlError, mysqlError } from "../mysql_errors.ts";
import { indexMutations } from "../table/index_writes.ts";
import { type DeleteRangeRecord, deleteDeleteRange, putDeleteRange, rollbackQuietly }
  from "./meta.ts";
import {
  decodeRowValue,
  duplicateText,
  handleOfIndexValue,
  indexEntry,
  rowKey,
  rowRange,
} from "../table/table.ts";

/** Attempts of one batch transaction before the backfill fails. */
const batchAttemptsMax = 30;
/** Keys deleted per transaction when a dropped table's or index's keys are removed. */
const deleteBatchKeys = 1_000;
/** Rows an ADMIN CHECK compares at most (it holds one entry per row in memory). */
export const adminCheckRowsMax = 2_000_000;

export interface BackfillOptions {
  readonly env: Env;
  readonly batchRows: number;
  readonly workers: number;
  /** Called with the total rows done after each batch. */
  onProgress(rowsDone: number): void;
  /** True when the owner stopped (closed or lost its lease): no new batches start. */
  stopped(): boolean;
}

/** The smallest key after `key`. */
function keyAfter(key: Uint8Array): Uint8Array {
  const out = new Uint8Array(key.length + 1);
  out.set(key);
  return out;
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}

/** The error a backfill stopped by its owner throws (the job stays where it was). */
export class BackfillStopped extends Error {
  override readonly name = "BackfillStopped";
}

/** Backfills `index` of `table`; returns the rows done. See the file comment. */
export async function backfillIndex(client: TxnClient, table: TableInfo, index: IndexInfo,
  options: BackfillOptions): Promise<number> {
  const snapshot = await client.begin();
  const inFlight = new Set<Promise<void>>();
  let done = 0;
  let failure: unknown = null;
  try {
    const range = rowRange(table);
    let start = range.start;
    for (;;) {
      if (failure !== null) break;
      if (options.stopped()) throw new BackfillStopped("the DDL owner stopped");
      const page = await snapshot.scan(start, range.end, { limit: options.batchRows });
      if (page.length === 0) break;
      const handles = page.map((pair) => decodeRowKey(pair.key).handle);
      const task: Promise<void> = backfillBatch(client, table, index, handles, options)
        .then((rows) => {
          done += rows;
          options.onProgress(done);
        }, (error: unknown) => {
          failure ??= error;
        })
        .finally(() => inFlight.delete(task));
      inFlight.add(task);
      if (inFlight.size >= options.workers) await Promise.race(inFlight);
      if (page.length < options.batchRows) break;
      start = keyAfter(page[page.length - 1]!.key);
    }
    await Promise.all(inFlight);
  } finally {
    await Promise.all(inFlight);
    await rollbackQuietly(snapshot);
  }
  if (failure !== null) throw failure;
  return done;
}

async function backfillBatch(client: TxnClient, table: TableInfo, index: IndexInfo,
  handles: readonly bigint[], options: BackfillOptions): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const txn = await client.begin();
    try {
      const rowKeys = handles.map((h) => rowKey(table, h));
      const values = await txn.batchGet(rowKeys);
      const rows = handles.flatMap((handle, i) => {
        const bytes = values[i];
        return bytes === null || bytes === undefined ? []
          : [{ handle, key: rowKeys[i]!, values: decodeRowValue(table, bytes) }];
      });
      // The same index writes an INSERT of the row makes (`indexMutations`), this index only.
      const entries = rows.flatMap((row) => indexMutations(table, { before: null, after: row,
        indexes: [index] }).flatMap((m) => (m.kind === "put" ? [{ row, entry: m }] : [])));
      const distinct = entries.filter((e) => e.entry.distinct);
      const present = await txn.batchGet(distinct.map((e) => e.entry.key));
      const owners = new Map<string, bigint>();
      distinct.forEach((e, i) => {
        const value = present[i];
        const key = hex(e.entry.key);
        const owner = value === null || value === undefined ? owners.get(key)
          : handleOfIndexValue(value);
        if (owner !== undefined && owner !== e.row.handle) {
          throw mysqlError(ER.DUP_ENTRY, [duplicateText(e.row.values, index.columns),
            `${table.name}.${index.name}`]);
        }
        owners.set(key, e.row.handle);
      });
      for (const { entry } of entries) txn.set(entry.key, entry.value);
      await txn.lockKeys(rows.map((r) => r.key));
      await txn.commit();
      return rows.length;
    } catch (error: unknown) {
      await rollbackQuietly(txn);
      if (error instanceof MySqlError || !isRetryableConflict(error) ||
        attempt + 1 >= batchAttemptsMax || options.stopped()) throw error;
      await options.env.timers.sleep(Math.min(2 ** attempt, 200));
    }
  }
}

/** The keys of a dropped table (`indexId` null) or of one dropped index. */
export function droppedRange(table: number, index: number | null):
  { start: Uint8Array; end: Uint8Array } {
  const start = index === null ? tablePrefix(tableId(table))
    : indexPrefix(tableId(table), indexId(index));
  return { start, end: prefixNext(start) };
}

/**
 * Deletes the next keys of a delete-range record (at most `deleteBatchKeys`, as MVCC
 * deletes, so snapshots older than the drop still read them until GC) in one transaction
 * that also moves the record's start past them, or removes the record when the range is
 * empty. Returns the record as it is now, null when the range is done. A conflict (a
 * concurrent owner) is retried.
 */
export async function deleteRangeBatch(client: TxnClient, record: DeleteRangeRecord):
  Promise<DeleteRangeRecord | null> {
  for (let attempt = 0; ; attempt++) {
    const txn = await client.begin();
    try {
      const page = await txn.scan(fromHex(record.start), fromHex(record.end),
        { limit: deleteBatchKeys });
      for (const pair of page) txn.delete(pair.key);
      let after: DeleteRangeRecord | null = null;
      if (page.length < deleteBatchKeys) deleteDeleteRange(txn, record);
      else {
        const last = page[page.length - 1]!.key;
        const next = new Uint8Array(last.length + 1);
        next.set(last);
        after = { ...record, start: hex(next) };
        putDeleteRange(txn, after);
      }
      await txn.commit();
      return after;
    } catch (error: unknown) {
      await rollbackQuietly(txn);
      if (!isRetryableConflict(error) || attempt + 1 >= batchAttemptsMax) throw error;
    }
  }
}

function fromHex(text: string): Uint8Array {
  return Uint8Array.from(Buffer.from(text, "hex"));
}

/**
 * ADMIN CHECK INDEX: at `txn`'s snapshot, the entries of `index` are exactly the entries
 * its rows make. Throws 8003 on any difference.
 */
export async function checkIndex(txn: Transaction, table: TableInfo, index: IndexInfo):
  Promise<void> {
  const expected = new Map<string, string>();
  const range = rowRange(table);
  for (let start = range.start; ;) {
    const page = await txn.scan(start, range.end, { limit: 10_000 });
    for (const pair of page) {
      const handle = decodeRowKey(pair.key).handle;
      const entry = indexEntry(table, index, { handle, values: decodeRowValue(table,
        pair.value) });
      // Two rows with one distinct unique key can only be an inconsistency.
      if (expected.has(hex(entry.key))) throw mysqlError(ER.ADMIN_CHECK_TABLE);
      expected.set(hex(entry.key), hex(entry.value));
      if (expected.size > adminCheckRowsMax) {
        throw mysqlError(ER.NOT_SUPPORTED_YET,
          [`ADMIN CHECK of more than ${adminCheckRowsMax} rows`]);
      }
    }
    if (page.length < 10_000) break;
    start = keyAfter(page[page.length - 1]!.key);
  }
  const prefix = indexPrefix(tableId(table.id), indexId(index.id));
  let seen = 0;
  for (let start = prefix; ;) {
    const page = await txn.scan(start, prefixNext(prefix), { limit: 10_000 });
    for (const pair of page) {
      if (expected.get(hex(pair.key)) !== hex(pair.value)) {
        throw mysqlError(ER.ADMIN_CHECK_TABLE);
      }
      seen++;
    }
    if (page.length < 10_000) break;
    start = keyAfter(page[page.length - 1]!.key);
  }
  if (seen !== expected.size) throw mysqlError(ER.ADMIN_CHECK_TABLE);
}
