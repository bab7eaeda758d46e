/**
 * DDL jobs and the steps the DDL owner runs them through (TiDB's `ddl` job model, the F1
 * online schema change).
 *
 * A job is a JSON record in the job queue (see `meta.ts`): what to change (`args`), where
 * it is (`state`, `schemaState`), the backfill's progress (`rowCount`) and the outcome
 * (`error`, `notes`). `runStep` runs one step of a job inside the owner's step
 * transaction: it edits the catalog through a `DdlTxn` and returns the job as it is after
 * the step, whether the step changed the schema (each change bumps the schema version, and
 * the owner waits until every SQL node has loaded it before the next step) and which
 * reorganisation, if any, the owner must run before the next step.
 *
 * ADD INDEX:  none → deleteOnly → writeOnly → writeReorg (backfill) → public.
 * DROP INDEX: public → writeOnly → deleteOnly → removed (entries deleted afterwards).
 * ADD COLUMN: none → deleteOnly → writeOnly → writeReorg → public (rows written before
 *             read as the column's origin default, so nothing is backfilled).
 * DROP COLUMN: public → writeOnly → deleteOnly → removed.
 * A failed backfill (a duplicate for a unique index) rolls back: writeReorg → deleteOnly →
 * removed, and the job ends `rolledBack` with the error. Every other DDL is one step
 * straight to its end state. Each F1 step is "compatible": a transaction that ran under
 * the version before it may still commit (two adjacent states never break each other);
 * one-step changes are not (see `syncer.ts`, `checkCommit`).
 *
 * The step logic is deterministic given the catalog it reads: no clocks, no I/O beyond
 * the `DdlTxn` edits (tests drive it with an in-memory `DdlTxn`).
 */
import { type DdlTxn, type InfoSchema, deleteView } from "../catalog/catalog.ts";
import type { ColumnInfo, ForeignKeyAction, ForeignKeyInfo, IndexInfo, SchemaState, TableInfo }
  from "../catalog/schema.ts";
import { ER, MySqlError, mysqlError } from "../mysql_errors.ts";
import { addConstraintStep, dropConstraintStep } from "./job_constraints.ts";
import { withoutUtcDefault } from "../table/timestamp_default.ts";
import { type PartitionJobArgs, partitionStep, withPartitionIds } from "./partition_ddl.ts";
import { checkUniqueIndexOnPartitioned } from "../catalog/partition.ts";

/** A table named by database and table name. */
export interface QualifiedName {
  readonly db: string;
  readonly name: string;
}

/** What a job changes; `kind` is the job's type. */
export type DdlJobArgs =
  | { readonly kind: "createDatabase"; readonly name: string; readonly ifNotExists: boolean }
  | { readonly kind: "dropDatabase"; readonly name: string; readonly ifExists: boolean }
  | { readonly kind: "createTable"; readonly table: TableInfo; readonly ifNotExists: boolean }
  | { readonly kind: "dropTable"; readonly tables: readonly QualifiedName[];
    readonly ifExists: boolean }
  | { readonly kind: "truncateTable" }
  | { readonly kind: "renameTable";
    readonly pairs: readonly { readonly from: QualifiedName; readonly to: QualifiedName }[] }
  | { readonly kind: "addIndex"; readonly name: string; readonly unique: boolean;
    readonly primary: boolean; readonly columns: readonly string[];
    readonly ifNotExists: boolean; readonly indexId?: number }
  | { readonly kind: "dropIndex"; readonly name: string; readonly ifExists: boolean;
    readonly indexId?: number }
  | { readonly kind: "addColumn"; readonly column: ColumnInfo; readonly ifNotExists: boolean;
    /** FIRST (`first`), AFTER a column, or at the end (absent). */
    readonly position?: { readonly first: boolean; readonly after: string | null };
    readonly columnId?: number }
  | { readonly kind: "dropColumn"; readonly name: string; readonly ifExists: boolean;
    readonly columnId?: number;
    /** Indexes of the column alone, dropped with it (resolved by the first step). */
    readonly indexIds?: readonly number[] }
  | { readonly kind: "modifyColumn"; readonly oldName: string; readonly column: ColumnInfo }
  | { readonly kind: "addForeignKey"; readonly fk: ForeignKeySpec;
    /** Whether existing rows are checked (foreign_key_checks was on). */
    readonly validate: boolean;
    /** The constraint's name, given by the first step. */
    readonly fkName?: string }
  | { readonly kind: "dropForeignKey"; readonly name: string }
  | { readonly kind: "renameIndex"; readonly oldName: string; readonly newName: string }
  | { readonly kind: "addCheck"; readonly name: string | null; readonly exprText: string;
    /** The columns the expression names (each must exist: 3820). */
    readonly columns: readonly string[]; readonly enforced: boolean;
    readonly checkName?: string }
  | { readonly kind: "dropCheck"; readonly name: string }
  | { readonly kind: "shardRowId"; readonly shardRowIdBits: number }
  | PartitionJobArgs;

/** A foreign key as ALTER TABLE ADD FOREIGN KEY gives it (names, not offsets). */
export interface ForeignKeySpec {
  readonly name: string | null;
  readonly columns: readonly string[];
  readonly refDb: string | null;
  readonly refTable: string;
  readonly refColumns: readonly string[];
  readonly onDelete: ForeignKeyAction | null;
  readonly onUpdate: ForeignKeyAction | null;
}

export type DdlJobType = DdlJobArgs["kind"];

/**
 * Where a job is: `queueing` (not started), `running`, `rollingBack` (undoing after a
 * failed backfill); finished: `done`, `rolledBack` (undone, `error` says why) or
 * `cancelled` (failed before changing anything, `error` says why).
 */
export type DdlJobState = "queueing" | "running" | "rollingBack" | "done" | "rolledBack" |
  "cancelled";

/** A MySQL error kept in a job: the catalogue key (`DUP_ENTRY`) and the message. */
export interface DdlJobError {
  readonly name: string;
  readonly message: string;
}

export interface DdlJob {
  readonly id: number;
  readonly args: DdlJobArgs;
  /** The statement's text, for ADMIN SHOW DDL JOBS. */
  readonly query: string;
  /** Names as given; ids once the first step resolved them (0 before). */
  readonly dbName: string;
  readonly tableName: string;
  readonly dbId: number;
  readonly tableId: number;
  readonly state: DdlJobState;
  /** The changed object's schema state; `none` before the first step and once removed. */
  readonly schemaState: SchemaState | "none";
  /** Rows backfilled so far. */
  readonly rowCount: number;
  /** Whether the backfill of a job in writeReorg finished. */
  readonly reorgDone: boolean;
  readonly error: DdlJobError | null;
  /** Notes for the client (IF [NOT] EXISTS that found nothing to do). */
  readonly notes: readonly DdlJobError[];
  /** TSO physical milliseconds. */
  readonly createMs: number;
  readonly startMs: number | null;
  readonly finishMs: number | null;
}

/** Whether a job has finished (it then lives in the history, not the queue). */
export function isFinished(job: DdlJob): boolean {
  return job.state === "done" || job.state === "rolledBack" || job.state === "cancelled";
}

/** A schema change a step made: the tables it touched, and whether it was an F1 step. */
export interface SchemaChange {
  readonly tableIds: readonly number[];
  /** True for an F1 state step: transactions of the version before may still commit. */
  readonly compatible: boolean;
}

/** Work the owner runs between steps. */
export type Reorg =
  | { readonly kind: "backfill"; readonly tableId: number; readonly indexId: number }
  /** Every existing row must satisfy a new CHECK or foreign key (write-only meanwhile). */
  | { readonly kind: "validate"; readonly tableId: number;
    readonly constraint: "check" | "foreignKey"; readonly name: string };

/**
 * Data a step made unreachable: a whole table's keys (`indexId` null) or one index's
 * entries. The owner records them with the step and deletes them later (delete-range,
 * see `worker.ts`).
 */
export interface DroppedRange {
  readonly tableId: number;
  readonly indexId: number | null;
}

export interface StepResult {
  readonly job: DdlJob;
  /** Null when the step did not change the schema (no version bump). */
  readonly change: SchemaChange | null;
  readonly reorg: Reorg | null;
  /** Ranges to delete once no node can write them any more (absent: none). */
  readonly dropped?: readonly DroppedRange[];
}

/** A job error from a thrown MySqlError. */
export function jobErrorOf(error: MySqlError): DdlJobError {
  const name = Object.entries(ER).find(([, spec]) => spec === error.spec)?.[0] ?? "UNKNOWN_ERROR";
  return { name, message: error.message };
}

/** The MySqlError a job error stands for. */
export function mysqlErrorOf(error: DdlJobError): MySqlError {
  const spec = (ER as Record<string, (typeof ER)[keyof typeof ER]>)[error.name] ??
    ER.UNKNOWN_ERROR;
  return new MySqlError(spec, error.message);
}

/** The table with id `tableId`, or undefined. */
export function tableById(schema: InfoSchema, tableId: number): TableInfo | undefined {
  for (const db of schema.databaseNames()) {
    for (const table of schema.database(db)?.tables.values() ?? []) {
      if (table.id === tableId) return table;
    }
  }
  return undefined;
}

export const lower = (s: string): string => s.toLowerCase();

function maxIndexId(table: TableInfo): number {
  return Math.max(table.maxIndexId ?? 0, 0, ...table.indexes.map((i) => i.id));
}

function maxColumnId(table: TableInfo): number {
  return Math.max(table.maxColumnId ?? 0, 0, ...table.columns.map((c) => c.id));
}

/** `table` with `index` replaced by `next` (or removed when `next` is null). */
function withIndex(table: TableInfo, indexId: number, next: IndexInfo | null): TableInfo {
  const indexes = table.indexes.flatMap((i) => (i.id !== indexId ? [i] : next === null ? []
    : [next]));
  return { ...table, indexes };
}

/** `table` with every stored column offset mapped through `shift`. */
function shiftOffsets(table: TableInfo, columns: readonly ColumnInfo[],
  shift: (offset: number) => number): TableInfo {
  return {
    ...table,
    columns: columns.map((c, offset) => ({ ...c, offset })),
    indexes: table.indexes.map((i) => ({ ...i, columns: i.columns.map(shift) })),
    pkHandle: table.pkHandle === null ? null : shift(table.pkHandle),
    ...(table.foreignKeys === undefined ? {} : { foreignKeys: table.foreignKeys.map((fk) =>
      ({ ...fk, columns: fk.columns.map(shift) })) }),
  };
}

/** `table` with the column of id `columnId` replaced (or removed, offsets renumbered). */
function withColumn(table: TableInfo, columnId: number, next: ColumnInfo | null): TableInfo {
  if (next !== null) {
    return { ...table, columns: table.columns.map((c) => (c.id === columnId ? next : c)) };
  }
  const removed = table.columns.find((c) => c.id === columnId);
  if (removed === undefined) return table;
  const shift = (offset: number): number => (offset > removed.offset ? offset - 1 : offset);
  return { ...shiftOffsets(table, table.columns.filter((c) => c.id !== columnId), shift),
    maxColumnId: maxColumnId(table) };
}

/** `table` with `column` inserted at `position` (offsets after it renumbered). */
function insertColumn(table: TableInfo, column: ColumnInfo, at: number): TableInfo {
  const shift = (offset: number): number => (offset >= at ? offset + 1 : offset);
  const columns = [...table.columns.slice(0, at), column, ...table.columns.slice(at)];
  return shiftOffsets(table, columns, shift);
}

/** `item` in `state` (the field removed for public). */
export function withState<T extends { readonly state?: SchemaState }>(item: T,
  state: SchemaState): T {
  if (state === "public") {
    const copy: { state?: SchemaState } = { ...item };
    delete copy.state;
    return copy as T;
  }
  return { ...item, state };
}

/** The next F1 state when adding, and when removing. */
export const addNext: Readonly<Record<SchemaState, SchemaState>> = {
  deleteOnly: "writeOnly", writeOnly: "writeReorg", writeReorg: "public", public: "public",
};
const dropNext: Readonly<Record<SchemaState, SchemaState | "none">> = {
  public: "writeOnly", writeOnly: "deleteOnly", writeReorg: "deleteOnly", deleteOnly: "none",
};

/** The job's table at this step: resolved by name on the first step, by id after. */
export function jobTable(job: DdlJob, schema: InfoSchema): TableInfo {
  const table = job.tableId !== 0 ? tableById(schema, job.tableId)
    : schema.table(job.dbName, job.tableName);
  if (table === undefined) {
    if (schema.database(job.dbName) === undefined) {
      throw mysqlError(ER.BAD_DB_ERROR, [job.dbName]);
    }
    throw mysqlError(ER.NO_SUCH_TABLE, [job.dbName, job.tableName]);
  }
  return table;
}

/** `job` done, with `extra` fields. */
export function finish(job: DdlJob, extra: Partial<DdlJob> = {}): DdlJob {
  return { ...job, state: "done", ...extra };
}

/** Runs one step of `job`; see the file comment. Throws the MySqlError that cancels it. */
export async function runStep(job: DdlJob, ddl: DdlTxn): Promise<StepResult> {
  const schema = ddl.schema;
  const args = job.args;
  const started: DdlJob = job.state === "queueing" ? { ...job, state: "running" } : job;
  switch (args.kind) {
    case "createDatabase": {
      if (schema.database(args.name) !== undefined) {
        const error = mysqlError(ER.DB_CREATE_EXISTS, [args.name]);
        if (!args.ifNotExists) throw error;
        return { job: finish(started, { notes: [jobErrorOf(error)] }), change: null, reorg: null };
      }
      const id = await ddl.allocId();
      ddl.putDatabase({ id, name: args.name });
      return { job: finish(started, { dbId: id, schemaState: "public" }),
        change: { tableIds: [], compatible: false }, reorg: null };
    }
    case "dropDatabase": {
      const db = schema.database(args.name);
      if (db === undefined) {
        const error = mysqlError(ER.DB_DROP_EXISTS, [args.name]);
        if (!args.ifExists) throw error;
        return { job: finish(started, { notes: [jobErrorOf(error)] }), change: null, reorg: null };
      }
      const tableIds = [...db.tables.values()].map((t) => t.id);
      for (const table of db.tables.values()) ddl.deleteTable(table);
      for (const view of db.views?.values() ?? []) deleteView(ddl, view);
      ddl.deleteDatabase(db.info);
      return { job: finish(started, { dbId: db.info.id, schemaState: "none" }),
        change: { tableIds, compatible: false }, reorg: null,
        dropped: tableIds.map((tableId) => ({ tableId, indexId: null })) };
    }
    case "createTable": {
      const db = schema.database(job.dbName);
      if (db === undefined) throw mysqlError(ER.BAD_DB_ERROR, [job.dbName]);
      if (db.tables.has(lower(args.table.name)) || db.views?.has(lower(args.table.name))) {
        const error = mysqlError(ER.TABLE_EXISTS_ERROR, [args.table.name]);
        if (!args.ifNotExists) throw error;
        return { job: finish(started, { notes: [jobErrorOf(error)] }), change: null, reorg: null };
      }
      const id = await ddl.allocId();
      ddl.putTable({ ...args.table, id, dbId: db.info.id,
        ...await withPartitionIds(args.table, () => ddl.allocId()) });
      return { job: finish(started, { dbId: db.info.id, tableId: id, schemaState: "public" }),
        change: { tableIds: [id], compatible: false }, reorg: null };
    }
    case "dropTable": {
      const missing: string[] = [];
      const tableIds: number[] = [];
      for (const t of args.tables) {
        const info = schema.table(t.db, t.name);
        if (info === undefined) missing.push(`${t.db}.${t.name}`);
        else {
          ddl.deleteTable(info);
          tableIds.push(info.id);
        }
      }
      if (missing.length > 0 && !args.ifExists) {
        throw mysqlError(ER.BAD_TABLE_ERROR, [missing.join(",")]);
      }
      const notes = missing.map((m) => jobErrorOf(mysqlError(ER.BAD_TABLE_ERROR, [m])));
      return { job: finish(started, { notes, schemaState: "none" }),
        change: tableIds.length === 0 ? null : { tableIds, compatible: false }, reorg: null,
        dropped: tableIds.map((tableId) => ({ tableId, indexId: null })) };
    }
    case "truncateTable": {
      const table = jobTable(job, schema);
      ddl.deleteTable(table);
      const id = await ddl.allocId();
      ddl.putTable({ ...table, id, ...await withPartitionIds(table, () => ddl.allocId()) });
      return { job: finish(started, { tableId: id, dbId: table.dbId, schemaState: "public" }),
        change: { tableIds: [table.id, id], compatible: false }, reorg: null,
        dropped: [{ tableId: table.id, indexId: null }] };
    }
    case "renameTable": {
      const tableIds: number[] = [];
      // Later pairs see the earlier renames (RENAME TABLE a TO tmp, b TO a, tmp TO b).
      const moved = new Map<string, TableInfo | null>();
      const key = (n: QualifiedName): string => `${lower(n.db)}.${lower(n.name)}`;
      const lookup = (n: QualifiedName): TableInfo | undefined => {
        const m = moved.get(key(n));
        return m === null ? undefined : m ?? schema.table(n.db, n.name);
      };
      for (const { from, to } of args.pairs) {
        const info = lookup(from);
        if (info === undefined) throw mysqlError(ER.NO_SUCH_TABLE, [from.db, from.name]);
        const target = schema.database(to.db);
        if (target === undefined) throw mysqlError(ER.BAD_DB_ERROR, [to.db]);
        if (lookup(to) !== undefined || target.views?.has(lower(to.name))) {
          throw mysqlError(ER.TABLE_EXISTS_ERROR, [to.name]);
        }
        if (isParent(schema, from)) {
          throw mysqlError(ER.NOT_SUPPORTED_YET, ["renaming a table a foreign key refers to"]);
        }
        moved.set(key(from), null);
        moved.set(key(to), { ...info, name: to.name, dbId: target.info.id });
        tableIds.push(info.id);
      }
      const originals = new Map<number, TableInfo>();
      for (const id of tableIds) originals.set(id, tableById(schema, id)!);
      for (const info of originals.values()) ddl.deleteTable(info);
      for (const info of moved.values()) if (info !== null) ddl.putTable(info);
      return { job: finish(started, { schemaState: "public" }),
        change: { tableIds, compatible: false }, reorg: null };
    }
    case "addIndex":
      return addIndexStep(started, args, ddl);
    case "dropIndex":
      return dropIndexStep(started, args, ddl);
    case "addColumn":
      return addColumnStep(started, args, ddl);
    case "dropColumn":
      return dropColumnStep(started, args, ddl);
    case "modifyColumn":
      return modifyColumnStep(started, args, ddl);
    case "addForeignKey":
    case "addCheck":
      return addConstraintStep(started, args, ddl);
    case "dropForeignKey":
    case "dropCheck":
      return dropConstraintStep(started, args, ddl);
    case "renameIndex":
      return renameIndexStep(started, args, ddl);
    case "shardRowId":
      return shardRowIdStep(started, args, ddl);
    case "partitions":
      return partitionStep(started, args, ddl);
  }
}

export type ArgsOf<K extends DdlJobType> = Extract<DdlJobArgs, { kind: K }>;

function addIndexStep(job: DdlJob, args: ArgsOf<"addIndex">, ddl: DdlTxn): StepResult {
  const table = jobTable(job, ddl.schema);
  const ids = { tableId: table.id, dbId: table.dbId };
  if (job.schemaState === "none" && job.state === "running") {
    const existing = table.indexes.find((i) => lower(i.name) === lower(args.name));
    if (existing !== undefined) {
      const error = args.primary ? mysqlError(ER.MULTIPLE_PRI_KEY)
        : mysqlError(ER.DUP_KEYNAME, [args.name]);
      if (!args.ifNotExists || args.primary) throw error;
      return { job: finish(job, { ...ids, notes: [jobErrorOf(error)] }), change: null,
        reorg: null };
    }
    if (args.primary && table.pkHandle !== null) throw mysqlError(ER.MULTIPLE_PRI_KEY);
    if (args.primary && args.columns.some((name) => table.columns.find((c) =>
      lower(c.name) === lower(name))?.nullable === true)) {
      throw mysqlError(ER.NOT_SUPPORTED_YET, ["ADD PRIMARY KEY over nullable columns"]);
    }
    const offsets = args.columns.map((name) => {
      const column = table.columns.find((c) => lower(c.name) === lower(name) &&
        (c.state ?? "public") === "public");
      if (column === undefined) throw mysqlError(ER.KEY_COLUMN_DOES_NOT_EXITS, [name]);
      return column.offset;
    });
    if (args.unique) checkUniqueIndexOnPartitioned(table, offsets, args.primary);
    const indexId = maxIndexId(table) + 1;
    const index: IndexInfo = { id: indexId, name: args.name, unique: args.unique,
      primary: args.primary, columns: offsets, state: "deleteOnly" };
    ddl.putTable({ ...table, maxIndexId: indexId, indexes: [...table.indexes, index] });
    return { job: { ...job, ...ids, args: { ...args, indexId }, schemaState: "deleteOnly" },
      change: { tableIds: [table.id], compatible: true }, reorg: null };
  }
  const indexId = args.indexId!;
  const index = table.indexes.find((i) => i.id === indexId);
  if (index === undefined) throw new Error(`add index job ${job.id}: index ${indexId} is gone`);
  const state = index.state ?? "public";
  if (job.state === "rollingBack") {
    const next = dropNext[state];
    if (next === "none") {
      ddl.putTable(withIndex(table, indexId, null));
      return { job: { ...job, state: "rolledBack", schemaState: "none" },
        change: { tableIds: [table.id], compatible: true }, reorg: null,
        dropped: [{ tableId: table.id, indexId }] };
    }
    ddl.putTable(withIndex(table, indexId, withState(index, next)));
    return { job: { ...job, schemaState: next }, change: { tableIds: [table.id], compatible: true },
      reorg: null };
  }
  if (state === "writeReorg" && !job.reorgDone) {
    return { job, change: null, reorg: { kind: "backfill", tableId: table.id, indexId } };
  }
  const next = addNext[state];
  ddl.putTable(withIndex(table, indexId, withState(index, next)));
  const after: DdlJob = next === "public" ? finish(job, { schemaState: "public" })
    : { ...job, schemaState: next };
  return { job: after, change: { tableIds: [table.id], compatible: true }, reorg: null };
}

/**
 * Whether a foreign key needs `index`: it is the only key of `table` that the columns of
 * one of its foreign keys (child side) or the referenced columns of a foreign key to it
 * (parent side) lead (MySQL's 1553).
 */
function neededByForeignKey(schema: InfoSchema, table: TableInfo, index: IndexInfo): boolean {
  const others = table.indexes.filter((i) => i.id !== index.id &&
    (i.state ?? "public") === "public");
  const needs = (offsets: readonly number[]): boolean => {
    const leads = (i: IndexInfo): boolean => offsets.every((o, k) => i.columns[k] === o);
    if (!leads(index)) return false;
    const clustered = table.pkHandle !== null && offsets.length === 1 &&
      offsets[0] === table.pkHandle;
    return !clustered && !others.some(leads);
  };
  if ((table.foreignKeys ?? []).some((fk) => needs(fk.columns))) return true;
  return foreignKeysTo(schema, table).some(({ fk }) => {
    const offsets = fk.refColumns.map((name) => table.columns.find((c) =>
      lower(c.name) === lower(name))?.offset ?? -1);
    return !offsets.includes(-1) && needs(offsets);
  });
}

/**
 * RENAME INDEX (1176 when there is none, 1061 when the new name is taken): one step, a
 * name only — readers and writers find indexes by id, so it is compatible.
 */
function renameIndexStep(job: DdlJob, args: ArgsOf<"renameIndex">, ddl: DdlTxn): StepResult {
  const table = jobTable(job, ddl.schema);
  const index = table.indexes.find((i) => lower(i.name) === lower(args.oldName) &&
    (i.state ?? "public") === "public");
  if (index === undefined) throw mysqlError(ER.KEY_DOES_NOT_EXITS, [args.oldName, table.name]);
  if (index.primary || lower(args.newName) === "primary") {
    throw mysqlError(ER.NOT_SUPPORTED_YET, ["renaming the PRIMARY key"]);
  }
  if (lower(args.oldName) !== lower(args.newName) &&
    table.indexes.some((i) => lower(i.name) === lower(args.newName))) {
    throw mysqlError(ER.DUP_KEYNAME, [args.newName]);
  }
  ddl.putTable(withIndex(table, index.id, { ...index, name: args.newName }));
  return { job: finish(job, { tableId: table.id, dbId: table.dbId, schemaState: "public" }),
    change: { tableIds: [table.id], compatible: true }, reorg: null };
}

/**
 * ALTER TABLE … SHARD_ROW_ID_BITS (checked by auto_random.ts): one compatible step, since
 * only row ids allocated afterwards take the new bits.
 */
function shardRowIdStep(job: DdlJob, args: ArgsOf<"shardRowId">, ddl: DdlTxn): StepResult {
  const table = jobTable(job, ddl.schema);
  if (args.shardRowIdBits > 0 && table.pkHandle !== null) {
    throw mysqlError(ER.UNSUPPORTED_DDL_OPERATION,
      ["shard_row_id_bits for table with primary key as row id"]);
  }
  const next: { shardRowIdBits?: number } = { ...table };
  if (args.shardRowIdBits > 0) next.shardRowIdBits = args.shardRowIdBits;
  else delete next.shardRowIdBits;
  ddl.putTable(next as TableInfo);
  return { job: finish(job, { tableId: table.id, dbId: table.dbId, schemaState: "public" }),
    change: { tableIds: [table.id], compatible: true }, reorg: null };
}

function dropIndexStep(job: DdlJob, args: ArgsOf<"dropIndex">, ddl: DdlTxn): StepResult {
  const table = jobTable(job, ddl.schema);
  const ids = { tableId: table.id, dbId: table.dbId };
  let indexId = args.indexId;
  if (indexId === undefined) {
    const index = table.indexes.find((i) => lower(i.name) === lower(args.name) &&
      (i.state ?? "public") === "public");
    if (index === undefined) {
      const error = mysqlError(ER.CANT_DROP_FIELD_OR_KEY, [args.name]);
      if (!args.ifExists) throw error;
      return { job: finish(job, { ...ids, notes: [jobErrorOf(error)] }), change: null,
        reorg: null };
    }
    if (neededByForeignKey(ddl.schema, table, index)) {
      throw mysqlError(ER.DROP_INDEX_FK, [index.name]);
    }
    indexId = index.id;
  }
  const index = table.indexes.find((i) => i.id === indexId);
  if (index === undefined) throw new Error(`drop index job ${job.id}: index ${indexId} is gone`);
  const next = dropNext[index.state ?? "public"];
  const running: DdlJob = { ...job, ...ids, args: { ...args, indexId } };
  if (next === "none") {
    ddl.putTable(withIndex(table, indexId, null));
    return { job: finish(running, { schemaState: "none" }),
      change: { tableIds: [table.id], compatible: true }, reorg: null,
      dropped: [{ tableId: table.id, indexId }] };
  }
  ddl.putTable(withIndex(table, indexId, withState(index, next)));
  return { job: { ...running, schemaState: next },
    change: { tableIds: [table.id], compatible: true }, reorg: null };
}

function addColumnStep(job: DdlJob, args: ArgsOf<"addColumn">, ddl: DdlTxn): StepResult {
  const table = jobTable(job, ddl.schema);
  const ids = { tableId: table.id, dbId: table.dbId };
  if (args.columnId === undefined) {
    if (table.columns.some((c) => lower(c.name) === lower(args.column.name))) {
      const error = mysqlError(ER.DUP_FIELDNAME, [args.column.name]);
      if (!args.ifNotExists) throw error;
      return { job: finish(job, { ...ids, notes: [jobErrorOf(error)] }), change: null,
        reorg: null };
    }
    let at = table.columns.length;
    if (args.position?.first === true) at = 0;
    else if (args.position?.after != null) {
      const after = args.position.after;
      const found = table.columns.find((c) => lower(c.name) === lower(after));
      if (found === undefined) throw mysqlError(ER.BAD_FIELD_ERROR, [after, table.name]);
      at = found.offset + 1;
    }
    const columnId = maxColumnId(table) + 1;
    const column: ColumnInfo = { ...args.column, id: columnId, offset: at,
      state: "deleteOnly" };
    ddl.putTable({ ...insertColumn(table, column, at), maxColumnId: columnId });
    return { job: { ...job, ...ids, args: { ...args, columnId }, schemaState: "deleteOnly" },
      change: { tableIds: [table.id], compatible: true }, reorg: null };
  }
  const column = table.columns.find((c) => c.id === args.columnId);
  if (column === undefined) {
    throw new Error(`add column job ${job.id}: column ${args.columnId} is gone`);
  }
  const next = addNext[column.state ?? "public"];
  ddl.putTable(withColumn(table, column.id, withState(column, next)));
  const after: DdlJob = next === "public" ? finish(job, { schemaState: "public" })
    : { ...job, schemaState: next };
  return { job: after, change: { tableIds: [table.id], compatible: true }, reorg: null };
}

/**
 * Why column `column` of `table` cannot be dropped, as MySQL says it (a foreign key of
 * the table or of another one uses it: 1828 / 1829; a CHECK does: 3959), or as TiDB does
 * what MySQL would do by rebuilding the table (the integer primary key that is the row
 * handle; a column of an index over several columns, which MySQL shortens).
 */
export function dropColumnError(schema: InfoSchema, table: TableInfo, column: ColumnInfo):
  MySqlError | null {
  if (table.pkHandle === column.offset) {
    return mysqlError(ER.UNSUPPORTED_DDL_OPERATION, ["drop integer primary key"]);
  }
  for (const fk of table.foreignKeys ?? []) {
    if (fk.columns.includes(column.offset)) {
      return mysqlError(ER.FK_COLUMN_CANNOT_DROP, [column.name, fk.name]);
    }
  }
  const referencing = foreignKeysTo(schema, table).find(({ fk }) =>
    fk.refColumns.some((c) => lower(c) === lower(column.name)));
  if (referencing !== undefined) {
    return mysqlError(ER.FK_COLUMN_CANNOT_DROP_CHILD, [column.name, referencing.fk.name,
      referencing.child.name]);
  }
  const check = (table.checks ?? []).find((c) => mentions(c.exprText, column.name));
  if (check !== undefined) {
    return mysqlError(ER.DEPENDENT_BY_CHECK_CONSTRAINT, [check.name, column.name]);
  }
  const composite = table.indexes.find((i) => i.columns.length > 1 &&
    i.columns.includes(column.offset));
  if (composite !== undefined) {
    return mysqlError(ER.UNSUPPORTED_DDL_OPERATION, [`drop column ${column.name} with ` +
      `composite index covered (index ${composite.name})`]);
  }
  return null;
}

/**
 * DROP COLUMN: the column and every index of it alone go through the states together
 * (public → write-only → delete-only → removed); the indexes' entries are deleted after.
 */
function dropColumnStep(job: DdlJob, args: ArgsOf<"dropColumn">, ddl: DdlTxn): StepResult {
  const table = jobTable(job, ddl.schema);
  const ids = { tableId: table.id, dbId: table.dbId };
  let columnId = args.columnId;
  let indexIds = args.indexIds ?? [];
  if (columnId === undefined) {
    const column = table.columns.find((c) => lower(c.name) === lower(args.name) &&
      (c.state ?? "public") === "public");
    if (column === undefined) {
      const error = mysqlError(ER.CANT_DROP_FIELD_OR_KEY, [args.name]);
      if (!args.ifExists) throw error;
      return { job: finish(job, { ...ids, notes: [jobErrorOf(error)] }), change: null,
        reorg: null };
    }
    if (table.columns.filter((c) => (c.state ?? "public") === "public").length === 1) {
      throw mysqlError(ER.CANT_REMOVE_ALL_FIELDS);
    }
    const error = dropColumnError(ddl.schema, table, column);
    if (error !== null) throw error;
    columnId = column.id;
    indexIds = table.indexes.filter((i) => i.columns.includes(column.offset)).map((i) => i.id);
  }
  const column = table.columns.find((c) => c.id === columnId);
  if (column === undefined) throw new Error(`drop column job ${job.id}: column ${columnId} gone`);
  const next = dropNext[column.state ?? "public"];
  const running: DdlJob = { ...job, ...ids, args: { ...args, columnId, indexIds } };
  const change = { tableIds: [table.id], compatible: true };
  let edited = table;
  for (const indexId of indexIds) {
    const index = edited.indexes.find((i) => i.id === indexId);
    if (index === undefined) continue;
    edited = withIndex(edited, indexId, next === "none" ? null : withState(index, next));
  }
  if (next === "none") {
    ddl.putTable(withColumn(edited, column.id, null));
    return { job: finish(running, { schemaState: "none" }), change, reorg: null,
      dropped: indexIds.map((indexId) => ({ tableId: table.id, indexId })) };
  }
  ddl.putTable(withColumn(edited, column.id, withState(column, next)));
  return { job: { ...running, schemaState: next }, change, reorg: null };
}

/**
 * Why changing `from` into `to` may lose data (a value of `from` that `to` cannot hold),
 * or null when every value survives unchanged.
 */
export function lossyChange(from: ColumnInfo, to: ColumnInfo): string | null {
  const a = from.type;
  const t = to.type;
  if (a.kind !== t.kind) return `changing a column from ${a.name} to ${t.name}`;
  // NOT NULL → NULL loses nothing; the other way would need every row checked.
  if (from.nullable && !to.nullable) return "changing a nullable column to NOT NULL";
  if (a.binaryCollation !== t.binaryCollation) return "changing a column's collation";
  switch (a.kind) {
    case "int": {
      const bits: Record<string, number> = { TINYINT: 8, BOOL: 8, SMALLINT: 16, MEDIUMINT: 24,
        INT: 32, BIGINT: 64 };
      const fromBits = bits[a.name] ?? 64;
      const toBits = bits[t.name] ?? 64;
      if (a.unsigned === t.unsigned) {
        return toBits >= fromBits ? null : `narrowing ${a.name} to ${t.name}`;
      }
      if (a.unsigned && !t.unsigned) {
        return toBits > fromBits ? null : `changing ${a.name} UNSIGNED to ${t.name}`;
      }
      return "changing a signed integer column to UNSIGNED";
    }
    case "decimal": {
      const ok = t.scale === a.scale && (t.length ?? 10) >= (a.length ?? 10) &&
        a.unsigned === t.unsigned;
      return ok ? null : "changing a DECIMAL column's precision or scale";
    }
    case "string":
    case "bytes": {
      if (a.name.startsWith("CHAR") !== t.name.startsWith("CHAR") ||
        a.name.includes("BINARY") !== t.name.includes("BINARY") && a.kind === "bytes") {
        return `changing ${a.name} to ${t.name}`;
      }
      if (t.length === null) return null;
      return a.length !== null && t.length >= a.length ? null
        : `shortening ${a.name} to ${t.name}(${t.length})`;
    }
    case "double":
      return a.name === t.name || t.name === "DOUBLE" ? null : `changing ${a.name} to ${t.name}`;
    case "datetime":
    case "date":
    case "timestamp":
    case "time":
      return a.name === t.name && t.scale >= a.scale ? null : `changing ${a.name} to ${t.name}`;
    case "enum":
    case "set":
      // Members may only be appended: stored values are member texts.
      return (a.members ?? []).every((m, i) => t.members?.[i] === m) ? null
        : `changing the members of ${a.name}`;
    case "year":
    case "json":
      return null;
    case "bit":
      return (t.length ?? 1) >= (a.length ?? 1) ? null : `narrowing ${a.name}`;
  }
}

/** Whether a foreign key of some table refers to table `name`. */
function isParent(schema: InfoSchema, name: QualifiedName): boolean {
  return schema.databaseNames().some((dbName) => [...schema.database(dbName)?.tables.values() ??
    []].some((t) => (t.foreignKeys ?? []).some((fk) => lower(fk.refDb ?? dbName) ===
    lower(name.db) && lower(fk.refTable) === lower(name.name))));
}

/** Whether SQL text `exprText` names the identifier `name` (case-insensitively). */
export function mentions(exprText: string, name: string): boolean {
  const word = new RegExp(`(^|[^\\w$])\`?${name.replace(/[^\w$]/g, "\\$&")}\`?($|[^\\w$])`,
    "i");
  return word.test(exprText);
}

/** The foreign keys of every table (`table` too) that reference `table`. */
export function foreignKeysTo(schema: InfoSchema, table: TableInfo):
  { readonly child: TableInfo; readonly fk: ForeignKeyInfo }[] {
  const db = schema.databaseNames().find((d) => schema.database(d)?.info.id === table.dbId);
  const out: { child: TableInfo; fk: ForeignKeyInfo }[] = [];
  for (const dbName of schema.databaseNames()) {
    for (const other of schema.database(dbName)?.tables.values() ?? []) {
      for (const fk of other.foreignKeys ?? []) {
        if (lower(fk.refDb ?? dbName) === lower(db ?? "") &&
          lower(fk.refTable) === lower(table.name)) out.push({ child: other, fk });
      }
    }
  }
  return out;
}

/** Whether a CHECK of `table` or a foreign key of any table names column `name` of it. */
function isReferenced(schema: InfoSchema, table: TableInfo, name: string): boolean {
  if ((table.checks ?? []).some((c) => mentions(c.exprText, name))) return true;
  return foreignKeysTo(schema, table).some(({ fk }) =>
    fk.refColumns.some((c) => lower(c) === lower(name)));
}

function modifyColumnStep(job: DdlJob, args: ArgsOf<"modifyColumn">, ddl: DdlTxn): StepResult {
  const table = jobTable(job, ddl.schema);
  const column = table.columns.find((c) => lower(c.name) === lower(args.oldName) &&
    (c.state ?? "public") === "public");
  if (column === undefined) {
    throw mysqlError(ER.BAD_FIELD_ERROR, [args.oldName, table.name]);
  }
  if (lower(args.column.name) !== lower(column.name) &&
    table.columns.some((c) => lower(c.name) === lower(args.column.name))) {
    throw mysqlError(ER.DUP_FIELDNAME, [args.column.name]);
  }
  if (lower(args.column.name) !== lower(column.name) && isReferenced(ddl.schema, table,
    column.name)) {
    throw mysqlError(ER.NOT_SUPPORTED_YET,
      ["renaming a column a CHECK constraint or a foreign key refers to"]);
  }
  const why = lossyChange(column, args.column);
  if (why !== null) throw mysqlError(ER.NOT_SUPPORTED_YET, [`${why} (a lossy MODIFY COLUMN)`]);
  if (args.column.autoIncrement !== column.autoIncrement) {
    throw mysqlError(ER.NOT_SUPPORTED_YET, ["adding or removing AUTO_INCREMENT"]);
  }
  const next: ColumnInfo = { ...withoutUtcDefault(column), name: args.column.name,
    type: args.column.type, nullable: args.column.nullable, defaultText: args.column.defaultText,
    ...(args.column.defaultUtc === true ? { defaultUtc: true } : {}) };
  ddl.putTable(withColumn(table, column.id, next));
  return { job: finish(job, { tableId: table.id, dbId: table.dbId, schemaState: "public" }),
    change: { tableIds: [table.id], compatible: false }, reorg: null };
}
