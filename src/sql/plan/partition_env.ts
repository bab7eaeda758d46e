/**
 * Reads of partitioned tables: `partitionedEnv` wraps a `PlanEnv` so that every read the
 * planner asks of a partitioned table (a full scan, handle or index key ranges, point and
 * batch gets, pushed-down coprocessor reads, locks) runs on each partition the statement
 * reads (`PartitionInfo.selected`: pruned by `partition_prune.ts`, or named by
 * `PARTITION (…)`) as a table of its own, and the results come back as one table's:
 * rows in handle order (handles are unique across partitions — the clustered key
 * includes the partitioning columns, `_tidb_rowid` is allocated per logical table). Key
 * ranges the planner encoded with the logical table's id are re-keyed to each
 * partition's. Unpartitioned tables pass straight through.
 *
 * A handle places a row only when the clustered key is the partitioning column; other
 * point gets try each read partition, and locks go to the partition a read found the
 * row in (remembered for this statement's env).
 */
import { tableId } from "../../base/mod.ts";
import { compareBytes, prefixNext, tablePrefix } from "../../codec/mod.ts";
import type { Value } from "../../expr/mod.ts";
import { physicalTable, selectedPartitions } from "../catalog/partition.ts";
import type { TableInfo } from "../catalog/schema.ts";
import { partitionOfHandle } from "../table/partition_route.ts";
import type { KeyRange } from "./index_access.ts";
import type { PlanEnv, TableRows } from "./planner.ts";
import type { CopSummary, PushedRows } from "./pushdown.ts";

/** `key` (of the logical table `from`'s key space) moved into table `to`'s. */
export function rekey(key: Uint8Array, from: number, to: number): Uint8Array {
  const prefix = tablePrefix(tableId(from));
  const target = tablePrefix(tableId(to));
  if (key.length >= prefix.length && compareBytes(key.subarray(0, prefix.length), prefix) === 0) {
    const out = new Uint8Array(target.length + key.length - prefix.length);
    out.set(target);
    out.set(key.subarray(prefix.length), target.length);
    return out;
  }
  return compareBytes(key, prefix) > 0 ? prefixNext(target) : target;
}

function rekeyRange(range: KeyRange, from: number, to: number): KeyRange {
  return { start: rekey(range.start, from, to), end: rekey(range.end, from, to) };
}

/** Merges per-partition results (each in handle order) into handle order. */
function merged(parts: readonly TableRows[]): TableRows {
  if (parts.length === 1) return parts[0]!;
  return sortedByHandle(parts);
}

function sortedByHandle(parts: readonly TableRows[]): TableRows {
  const entries: { h: bigint; r: readonly Value[] }[] = [];
  for (const p of parts) p.handles.forEach((h, i) => entries.push({ h, r: p.rows[i]! }));
  entries.sort((a, b) => (a.h < b.h ? -1 : a.h > b.h ? 1 : 0));
  return { handles: entries.map((e) => e.h), rows: entries.map((e) => e.r) };
}

/** The coprocessor work of two partitions' reads as one read's (EXPLAIN ANALYZE). */
function mergedCop(a: CopSummary | undefined, b: CopSummary): CopSummary {
  if (a === undefined) return b;
  const taskMs = new Map(a.taskMs);
  // Fresh keys below every one used so far (shard ids are not negative).
  for (const ms of b.taskMs.values()) taskMs.set(-(taskMs.size + 1), ms);
  return { taskMs, rpcs: a.rpcs + b.rpcs, rpcMs: a.rpcMs + b.rpcMs,
    scannedKeys: a.scannedKeys + b.scannedKeys, rows: a.rows + b.rows };
}

/** `env` reading partitioned tables partition by partition (see the file comment). */
export function partitionedEnv(env: PlanEnv): PlanEnv {
  // Where reads found rows of tables whose handle does not place them: id → handle → table.
  const located = new Map<number, Map<bigint, TableInfo>>();
  const physicals = (table: TableInfo): TableInfo[] =>
    selectedPartitions(table.partition!).map((k) => physicalTable(table, k));
  const remember = (table: TableInfo, physical: TableInfo, got: TableRows): TableRows => {
    if (partitionOfHandle(table, 0n) === undefined) {
      let map = located.get(table.id);
      if (map === undefined) located.set(table.id, map = new Map());
      for (const h of got.handles) map.set(h, physical);
    }
    return got;
  };
  const eachPartition = async (table: TableInfo,
    read: (physical: TableInfo) => Promise<TableRows>): Promise<TableRows> => {
    const parts: TableRows[] = [];
    for (const physical of physicals(table)) {
      parts.push(remember(table, physical, await read(physical)));
    }
    return parts.length === 0 ? { handles: [], rows: [] } : merged(parts);
  };
  /** The partitions a handle may be in: the one it places, or every one read. */
  const candidates = (table: TableInfo, handle: bigint): TableInfo[] => {
    const k = partitionOfHandle(table, handle);
    if (k === undefined) {
      const known = located.get(table.id)?.get(handle);
      return known !== undefined ? [known] : physicals(table);
    }
    if (k === null || !selectedPartitions(table.partition!).includes(k)) return [];
    return [physicalTable(table, k)];
  };
  const out: PlanEnv = {
    ...env,
    scanTable: (table) => (table.partition === undefined ? env.scanTable(table)
      : eachPartition(table, (p) => env.scanTable(p))),
    getRow: async (table, handle) => {
      if (table.partition === undefined) return env.getRow(table, handle);
      for (const physical of candidates(table, handle)) {
        const row = await env.getRow(physical, handle);
        if (row !== null) return row;
      }
      return null;
    },
    lockRows: async (table, handles) => {
      if (table.partition === undefined) return env.lockRows(table, handles);
      const groups = new Map<TableInfo, bigint[]>();
      for (const h of handles) {
        for (const physical of candidates(table, h)) {
          const list = groups.get(physical) ?? [];
          list.push(h);
          groups.set(physical, list);
        }
      }
      for (const [physical, list] of groups) await env.lockRows(physical, list);
    },
  };
  if (env.getRows !== undefined) {
    const getRows = env.getRows;
    out.getRows = async (table, handles) => {
      if (table.partition === undefined) return getRows(table, handles);
      const groups = new Map<TableInfo, bigint[]>();
      for (const h of handles) {
        for (const physical of candidates(table, h)) {
          const list = groups.get(physical) ?? [];
          list.push(h);
          groups.set(physical, list);
        }
      }
      const parts: TableRows[] = [];
      for (const [physical, list] of groups) {
        parts.push(remember(table, physical, await getRows(physical, list)));
      }
      return parts.length === 0 ? { handles: [], rows: [] } : merged(parts);
    };
  }
  if (env.scanRows !== undefined) {
    const scanRows = env.scanRows;
    out.scanRows = (table, range) => (table.partition === undefined ? scanRows(table, range)
      : eachPartition(table, (p) => scanRows(p, rekeyRange(range, table.id, p.id))));
  }
  if (env.readIndex !== undefined) {
    const readIndex = env.readIndex;
    out.readIndex = (table, index, range) => (table.partition === undefined
      ? readIndex(table, index, range)
      : eachPartition(table, (p) => readIndex(p, index, rekeyRange(range, table.id, p.id))));
  }
  if (env.canPush !== undefined) {
    const canPush = env.canPush;
    out.canPush = (table) => (table.partition === undefined ? canPush(table)
      : physicals(table).every((p) => canPush(p)));
  }
  if (env.pushedRead !== undefined) {
    const pushedRead = env.pushedRead;
    out.pushedRead = async (table, ranges, scan, ctx): Promise<PushedRows> => {
      if (table.partition === undefined) return pushedRead(table, ranges, scan, ctx);
      const rows: Value[][] = [];
      const handles: bigint[] = [];
      let ordered = true;
      let cop: CopSummary | undefined;
      let fetchCop: CopSummary | undefined;
      for (const physical of physicals(table)) {
        const got = await pushedRead(physical, ranges === null ? null
          : ranges.map((r) => rekeyRange(r, table.id, physical.id)), scan, ctx);
        rows.push(...got.rows);
        handles.push(...got.handles);
        if (got.cop !== undefined) cop = mergedCop(cop, got.cop);
        if (got.fetchCop !== undefined) fetchCop = mergedCop(fetchCop, got.fetchCop);
        ordered &&= got.handles.length === got.rows.length;
        if (got.handles.length === got.rows.length) {
          remember(table, physical, { handles: got.handles, rows: got.rows });
        }
      }
      const summaries = { ...(cop === undefined ? {} : { cop }),
        ...(fetchCop === undefined ? {} : { fetchCop }) };
      // Rows with their handles come back in handle order, as one table's would.
      if (!ordered || handles.length === 0) return { rows, handles, ...summaries };
      const sorted = sortedByHandle([{ handles, rows }]);
      return { rows: sorted.rows as Value[][], handles: [...sorted.handles], ...summaries };
    };
  }
  return out;
}
