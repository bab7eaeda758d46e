/**
 * Statistics in KV: `analyzeTable` reads a table's rows at a transaction's snapshot and
 * writes its statistics (`codec.ts` has the layout); the readers load them back and add
 * to a table's modify counter.
 */
import type { Transaction } from "../../client/mod.ts";
import type { TableInfo } from "../catalog/schema.ts";
import { decodeRowValue, handleOfRowKey, rowRange } from "../table/table.ts";
import { StatsBuilder } from "./builder.ts";
import { physicalTables } from "../ddl/partition_ddl.ts";
import { type StatsMeta, decodeJson, decodeStats, encodeJson, encodeStats, statsDataKey,
  statsMetaKey, statsMetaRange, statsModifyKey, statsModifyRange, tableIdOfKey }
  from "./codec.ts";
import type { TableStats } from "./histogram.ts";

/** Rows read per scan request while analyzing. */
const scanPageRows = 5_000;

/**
 * Analyzes `table` in `txn` (which the caller commits): reads every row, builds the
 * statistics and writes them with the modify counter seen as the new base.
 */
export async function analyzeTable(txn: Transaction, table: TableInfo): Promise<TableStats> {
  const builder = new StatsBuilder(table);
  // A partitioned table's statistics are over all its partitions (TiDB's global stats).
  for (const physical of physicalTables(table)) {
    const range = rowRange(physical);
    let start = range.start;
    for (;;) {
      const page = await txn.scan(start, range.end, { limit: scanPageRows });
      for (const pair of page) {
        builder.add(decodeRowValue(physical, pair.value), handleOfRowKey(pair.key));
      }
      if (page.length < scanPageRows) break;
      start = Uint8Array.of(...page[page.length - 1]!.key, 0);
    }
  }
  const stats = builder.finish(String(txn.startTs));
  const modifyBase = await readModifyCount(txn, table.id);
  const meta: StatsMeta = { version: stats.version, count: stats.count, modifyBase };
  txn.set(statsDataKey(table.id), encodeStats(stats));
  txn.set(statsMetaKey(table.id), encodeJson(meta));
  return stats;
}

/** A table's statistics, or null when it was never analyzed. */
export async function readStats(txn: Transaction, tableId: number): Promise<TableStats | null> {
  const bytes = await txn.get(statsDataKey(tableId));
  return bytes === null ? null : decodeStats(bytes);
}

/** Every analyzed table's summary, by table id. */
export async function readAllMeta(txn: Transaction): Promise<Map<number, StatsMeta>> {
  const out = new Map<number, StatsMeta>();
  const pairs = await txn.scan(statsMetaRange.start, statsMetaRange.end);
  for (const pair of pairs) out.set(tableIdOfKey(pair.key), decodeJson<StatsMeta>(pair.value));
  return out;
}

/** Every table's modify counter, by table id. */
export async function readAllModifyCounts(txn: Transaction): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  const pairs = await txn.scan(statsModifyRange.start, statsModifyRange.end);
  for (const pair of pairs) {
    out.set(tableIdOfKey(pair.key), decodeJson<{ modifyCount: number }>(pair.value).modifyCount);
  }
  return out;
}

async function readModifyCount(txn: Transaction, tableId: number): Promise<number> {
  const bytes = await txn.get(statsModifyKey(tableId));
  return bytes === null ? 0 : decodeJson<{ modifyCount: number }>(bytes).modifyCount;
}

/** Adds `delta` to the modify counters of tables, in `txn`. */
export async function addModifyCounts(txn: Transaction, deltas: ReadonlyMap<number, number>):
  Promise<void> {
  for (const [tableId, delta] of deltas) {
    const modifyCount = (await readModifyCount(txn, tableId)) + delta;
    txn.set(statsModifyKey(tableId), encodeJson({ modifyCount }));
  }
}

/** Deletes a table's statistics (the table was dropped). */
export function deleteStats(txn: Transaction, tableId: number): void {
  txn.delete(statsDataKey(tableId));
  txn.delete(statsMetaKey(tableId));
  txn.delete(statsModifyKey(tableId));
}
