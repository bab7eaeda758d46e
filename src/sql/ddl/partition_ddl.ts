/**
 * What online DDL does for partitioned tables (src/sql/catalog/partition.ts): CREATE and
 * TRUNCATE TABLE give every partition a fresh physical id (so a truncated partition's old
 * keys are unreachable, as the table's are); a step that changes a table changes its
 * partitions too, for the schema-lease check (`syncer.ts`: transactions record the
 * physical ids their keys carry); a dropped table's or index's keys are dropped under
 * every partition's id; backfills and validations read every partition; ALTER TABLE
 * changes partitioning cannot follow are refused. ALTER TABLE … ADD / DROP / TRUNCATE
 * PARTITION (RANGE and LIST; TRUNCATE any) run as one-step jobs: a dropped or truncated
 * partition's keys go to delete-range, a truncated one gets a new id. ALTER TABLE …
 * PARTITION BY / REMOVE PARTITIONING move the rows in two steps (`repartitionStep`).
 */
import { type TimeZone, type Value, utcTimeZone } from "../../expr/mod.ts";
import type { DdlTxn, InfoSchema } from "../catalog/catalog.ts";
import { type PartitionDef, type PartitionInfo, checkUniqueIndexOnPartitioned, partitionDefsOf,
  partitionInfoOf, physicalTable } from "../catalog/partition.ts";
import { decodeRowValue, handleOfRowKey, rowKey, rowRange } from "../table/table.ts";
import { encodeRowForWrite, indexMutations } from "../table/index_writes.ts";
import { routeRow } from "../table/partition_route.ts";
import type { TableInfo } from "../catalog/schema.ts";
import { resolvePartitionBounds } from "../table/partition_route.ts";
import { type DdlJob, type DroppedRange, type StepResult, finish, jobErrorOf, jobTable }
  from "./job.ts";
import type { AlterSpec } from "../parser/ast.ts";
import { ER, MySqlError, mysqlError } from "../mysql_errors.ts";

/** The `partition` of a table with new physical ids (nothing for an unpartitioned one). */
export async function withPartitionIds(table: TableInfo, allocId: () => Promise<number>):
  Promise<{ partition?: PartitionInfo }> {
  const info = table.partition;
  if (info === undefined) return {};
  const definitions = [];
  for (const d of info.definitions) definitions.push({ ...d, id: await allocId() });
  return { partition: { ...info, definitions } };
}

/** The tables a scan of `table`'s rows reads: its partitions, or itself. */
export function physicalTables(table: TableInfo): TableInfo[] {
  const info = table.partition;
  if (info === undefined) return [table];
  return info.definitions.map((_, k) => physicalTable(table, k));
}

function partitionIdsOf(schema: InfoSchema, tableId: number): number[] {
  for (const db of schema.databaseNames()) {
    for (const table of schema.database(db)?.tables.values() ?? []) {
      if (table.id === tableId) return (table.partition?.definitions ?? []).map((d) => d.id);
    }
  }
  return [];
}

/** `tableIds` with the partition ids of the partitioned ones among them (in `schema`). */
export function withPartitionTableIds(schema: InfoSchema, tableIds: readonly number[]):
  number[] {
  const out = [...tableIds];
  for (const id of tableIds) {
    for (const p of partitionIdsOf(schema, id)) if (!out.includes(p)) out.push(p);
  }
  return out;
}

/** `dropped` with the same range under every partition of a partitioned table. */
export function withPartitionRanges(schema: InfoSchema, dropped: readonly DroppedRange[]):
  DroppedRange[] {
  return dropped.flatMap((d) => [d, ...partitionIdsOf(schema, d.tableId).map((tableId) =>
    ({ tableId, indexId: d.indexId }))]);
}

/**
 * Refuses an ALTER TABLE change a partitioned table cannot take here: a foreign key
 * (1506), dropping a partitioning column (1054, as MySQL says it: the partition function
 * would read a missing column), or renaming or retyping one (not supported: the stored
 * partitioning names it and places rows by its values).
 */
export function checkPartitionedAlter(table: TableInfo | undefined, spec: AlterSpec): void {
  const info = table?.partition;
  if (info === undefined) return;
  const isPartitionColumn = (name: string): boolean =>
    info.columns.some((c) => c.toLowerCase() === name.toLowerCase());
  switch (spec.kind) {
    case "addConstraint":
      if (spec.constraint.kind === "foreignKey") {
        throw mysqlError(ER.FOREIGN_KEY_ON_PARTITIONED);
      }
      return;
    case "dropColumn":
      if (isPartitionColumn(spec.name)) {
        throw mysqlError(ER.BAD_FIELD_ERROR, [spec.name, "partition function"]);
      }
      return;
    case "modifyColumn":
    case "changeColumn":
    case "renameColumn": {
      const name = spec.kind === "modifyColumn" ? spec.column.name : spec.oldName;
      if (isPartitionColumn(name)) {
        throw mysqlError(ER.NOT_SUPPORTED_YET, ["changing a partitioning column"]);
      }
      return;
    }
    default:
      return;
  }
}

/** ALTER TABLE … ADD / DROP / TRUNCATE PARTITION, as a job's arguments. */
export interface PartitionJobArgs {
  readonly kind: "partitions";
  readonly op: "add" | "drop" | "truncate" | "repartition";
  /** PARTITION BY: the new partitioning (bounds canonical, ids 0); absent: REMOVE. */
  readonly partition?: PartitionInfo;
  /** ADD: the new partitions (bounds already canonical, ids 0). */
  readonly definitions?: readonly PartitionDef[];
  /** DROP / TRUNCATE: the partitions' names; TRUNCATE … ALL: absent. */
  readonly names?: readonly string[];
}

/** 1505 / 1512: partition management needs a RANGE or LIST partitioned table. */
export function managedPartitions(table: TableInfo, op: "ADD" | "DROP" | "TRUNCATE"):
  PartitionInfo {
  const info = table.partition;
  if (info === undefined) throw mysqlError(ER.PARTITION_MGMT_ON_NONPARTITIONED);
  if (op !== "TRUNCATE" && !info.method.startsWith("RANGE") && !info.method.startsWith("LIST")) {
    throw mysqlError(ER.ONLY_ON_RANGE_LIST_PARTITION, [op]);
  }
  return info;
}

/**
 * `table` with the partitions of `definitions` added after its own (checked as CREATE
 * TABLE checks them: 1517, 1493, 1495, 1481); ids are left 0.
 */
export function withAddedPartitions(table: TableInfo, definitions: readonly PartitionDef[],
  timeZone: TimeZone): TableInfo {
  const info = managedPartitions(table, "ADD");
  const names = new Set(info.definitions.map((d) => d.name.toLowerCase()));
  for (const d of definitions) {
    if (names.has(d.name.toLowerCase())) throw mysqlError(ER.SAME_NAME_PARTITION, [d.name]);
    names.add(d.name.toLowerCase());
    const range = info.method.startsWith("RANGE");
    if (range && d.lessThan === undefined) {
      throw mysqlError(ER.PARTITION_REQUIRES_VALUES_ERROR, ["RANGE", "LESS THAN"]);
    }
    if (!range && d.inValues === undefined) {
      throw mysqlError(ER.PARTITION_REQUIRES_VALUES_ERROR, ["LIST", "IN"]);
    }
  }
  const all = [...info.definitions, ...definitions];
  all.forEach((d, k) => {
    if (k < all.length - 1 && (d.lessThan ?? []).length === 1 && d.lessThan![0] === "MAXVALUE") {
      throw mysqlError(ER.PARTITION_MAXVALUE_ERROR);
    }
  });
  const stored: PartitionInfo = { method: info.method, columns: info.columns,
    ...(info.linear === undefined ? {} : { linear: info.linear }),
    ...(info.expr === undefined ? {} : { expr: info.expr }), definitions: all };
  return resolvePartitionBounds({ ...table, partition: stored }, timeZone);
}

/** Runs a partition job's one step (see `PartitionJobArgs`). */
export async function partitionStep(job: DdlJob, args: PartitionJobArgs, ddl: DdlTxn):
  Promise<StepResult> {
  if (args.op === "repartition") return repartitionStep(job, args, ddl);
  const table = jobTable(job, ddl.schema);
  const ids = { tableId: table.id, dbId: table.dbId };
  const info = managedPartitions(table, args.op === "add" ? "ADD"
    : args.op === "drop" ? "DROP" : "TRUNCATE");
  const positions = args.names === undefined ? info.definitions.map((_, k) => k)
    : args.names.map((name) => {
      const k = info.definitions.findIndex((d) => d.name.toLowerCase() === name.toLowerCase());
      if (k < 0) throw mysqlError(ER.DROP_PARTITION_NON_EXISTENT, [args.op.toUpperCase()]);
      return k;
    });
  let definitions: PartitionDef[];
  let dropped: DroppedRange[] = [];
  switch (args.op) {
    case "add": {
      const added = withAddedPartitions(table, args.definitions ?? [], utcTimeZone)
        .partition!.definitions.slice(info.definitions.length);
      definitions = [...info.definitions];
      for (const d of added) definitions.push({ ...d, id: await ddl.allocId() });
      break;
    }
    case "drop":
      if (positions.length >= info.definitions.length) {
        throw mysqlError(ER.DROP_LAST_PARTITION);
      }
      definitions = info.definitions.filter((_, k) => !positions.includes(k));
      dropped = positions.map((k) => ({ tableId: info.definitions[k]!.id, indexId: null }));
      break;
    case "truncate":
      definitions = [];
      for (const [k, d] of info.definitions.entries()) {
        definitions.push(positions.includes(k) ? { ...d, id: await ddl.allocId() } : d);
      }
      dropped = positions.map((k) => ({ tableId: info.definitions[k]!.id, indexId: null }));
      break;
  }
  ddl.putTable({ ...table, partition: { ...info, definitions } });
  return { job: finish(job, { ...ids, schemaState: "public" }),
    change: { tableIds: [table.id], compatible: false }, reorg: null, dropped };
}

/** The job of an ALTER TABLE partition change, checked against `table` first. */
export function partitionJobOf(table: TableInfo | undefined, spec: Extract<AlterSpec,
  { kind: "addPartition" | "dropPartition" | "truncatePartition" | "repartition" }>,
  timeZone: TimeZone):
  PartitionJobArgs {
  switch (spec.kind) {
    case "addPartition": {
      const definitions = partitionDefsOf(spec.definitions);
      if (table === undefined) return { kind: "partitions", op: "add", definitions };
      const resolved = withAddedPartitions(table, definitions, timeZone).partition!;
      return { kind: "partitions", op: "add",
        definitions: resolved.definitions.slice(resolved.definitions.length - definitions.length) };
    }
    case "dropPartition":
      return { kind: "partitions", op: "drop", names: spec.names };
    case "truncatePartition":
      return { kind: "partitions", op: "truncate",
        ...(spec.names === "ALL" ? {} : { names: spec.names }) };
    case "repartition": {
      if (spec.partition === null) {
        if (table !== undefined && table.partition === undefined) {
          throw mysqlError(ER.PARTITION_MGMT_ON_NONPARTITIONED);
        }
        return { kind: "partitions", op: "repartition" };
      }
      if (table === undefined) return { kind: "partitions", op: "repartition" };
      const info = partitionInfoOf(spec.partition, { columns: table.columns,
        indexes: table.indexes, pkHandle: table.pkHandle,
        hasForeignKeys: (table.foreignKeys ?? []).length > 0 });
      const resolved = resolvePartitionBounds(stripped(table, info), timeZone);
      return { kind: "partitions", op: "repartition", partition: resolved.partition! };
    }
  }
}

/** Rows ALTER TABLE … PARTITION BY / REMOVE PARTITIONING moves, at most. */
export const repartitionRowsMax = 10_000;

/** `table` without the reorganization flag, partitioned by `info` (absent: not at all). */
function stripped(table: TableInfo, info?: PartitionInfo): TableInfo {
  const rest = Object.fromEntries(Object.entries(table).filter(([k]) =>
    k !== "partition" && k !== "partitionReorg")) as unknown as TableInfo;
  return info === undefined ? rest : { ...rest, partition: info };
}

/**
 * ALTER TABLE … PARTITION BY / REMOVE PARTITIONING in two steps. First the table is
 * flagged (`partitionReorg`): once every node runs that version no statement writes it
 * (8028), and a transaction of the version before cannot commit a write to it (the step
 * is not compatible). Then, in one step transaction, every row (at most
 * `repartitionRowsMax`) is placed anew — checked first, so a row no new partition takes
 * (1526) rolls the job back having written nothing — and written with its index entries
 * under the new partitions' ids (or the table's own); the old partitions' keys go to
 * delete-range, an unpartitioned table's old keys are deleted in the step itself (the
 * table's own id stays in use).
 */
async function repartitionStep(job: DdlJob, args: PartitionJobArgs, ddl: DdlTxn):
  Promise<StepResult> {
  const table = jobTable(job, ddl.schema);
  const ids = { tableId: table.id, dbId: table.dbId };
  const change = { tableIds: [table.id], compatible: false };
  if (job.schemaState === "none") {
    if (args.partition === undefined && table.partition === undefined) {
      throw mysqlError(ER.PARTITION_MGMT_ON_NONPARTITIONED);
    }
    ddl.putTable({ ...table, partitionReorg: true });
    return { job: { ...job, ...ids, schemaState: "writeOnly" }, change, reorg: null };
  }
  const original = stripped(table, table.partition);
  let target = stripped(table);
  try {
    if (args.partition !== undefined) {
      const check = stripped(table, args.partition);
      for (const index of check.indexes) {
        if (index.unique) checkUniqueIndexOnPartitioned(check, index.columns, index.primary);
      }
      if (check.pkHandle !== null) {
        checkUniqueIndexOnPartitioned(check, [check.pkHandle], true);
      }
      const definitions: PartitionDef[] = [];
      for (const d of args.partition.definitions) {
        definitions.push({ ...d, id: await ddl.allocId() });
      }
      target = stripped(table, { ...args.partition, definitions });
    }
    // Every row read and placed before anything is written.
    const rows: { handle: bigint; values: Value[]; to: TableInfo }[] = [];
    for (const physical of physicalTables(original)) {
      const range = rowRange(physical);
      for (let start = range.start; ;) {
        const page = await ddl.txn.scan(start, range.end, { limit: 1_000 });
        for (const pair of page) {
          const values = decodeRowValue(physical, pair.value);
          if (rows.length >= repartitionRowsMax) {
            throw mysqlError(ER.NOT_SUPPORTED_YET,
              [`repartitioning a table of more than ${repartitionRowsMax} rows`]);
          }
          rows.push({ handle: handleOfRowKey(pair.key), values, to: routeRow(target, values) });
        }
        if (page.length < 1_000) break;
        start = Uint8Array.of(...page[page.length - 1]!.key, 0);
      }
    }
    for (const row of rows) {
      if (original.partition === undefined) {
        ddl.txn.delete(rowKey(original, row.handle));
        for (const m of indexMutations(original, { before: row, after: null })) {
          ddl.txn.delete(m.key);
        }
      }
      ddl.txn.set(rowKey(row.to, row.handle), encodeRowForWrite(row.to, row.values));
      for (const m of indexMutations(row.to, { before: null, after: row })) {
        if (m.kind === "put") ddl.txn.set(m.key, m.value);
      }
    }
  } catch (error: unknown) {
    if (!(error instanceof MySqlError)) throw error;
    ddl.putTable(original);
    return { job: { ...job, ...ids, state: "rolledBack", schemaState: "none",
      error: jobErrorOf(error) }, change, reorg: null };
  }
  ddl.putTable(target);
  return { job: finish(job, { ...ids, schemaState: "public" }), change, reorg: null,
    dropped: (original.partition?.definitions ?? []).map((d) => ({ tableId: d.id,
      indexId: null })) };
}
