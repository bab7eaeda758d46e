/**
 * DDL statements as online DDL jobs (`src/sql/ddl`): each statement is checked and turned
 * into a job's arguments here (what can be checked without the catalog — column types,
 * defaults, key definitions — fails before anything is queued), then queued; the DDL
 * owner runs it (CREATE INDEX through the F1 states with a backfill, one step for the
 * simple ones) and the session waits for the outcome. The keys of dropped and truncated
 * tables and dropped indexes are deleted afterwards by the DDL owner (delete-range, see
 * src/sql/ddl/worker.ts); until then they are unreachable (ids are never reused).
 *
 * Also here: ADMIN CHECK TABLE / INDEX and ADMIN SHOW DDL JOBS.
 */
import type { Transaction } from "../../client/mod.ts";
import { type EvalContext, type TimeZone, type Value, evaluate, utcTimeZone }
  from "../../expr/mod.ts";
import { defaultToUtc, utcDefaultValue, withoutUtcDefault }
  from "../table/timestamp_default.ts";
import type { AlterSpec, ColumnDefinition, IndexPart, PartitionOptions, TableConstraint,
  TableName } from "../parser/ast.ts";
import { resolvePartitionBounds } from "../table/partition_route.ts";
import { parseExpression } from "../parser/parse.ts";
import { ER, type MySqlError, mysqlError } from "../mysql_errors.ts";
import { type ColumnInfo, type TableInfo, columnNamesIn, defaultTextOf, fkAction, tableInfoOf }
  from "../catalog/schema.ts";
import { formatExpr } from "../parser/format.ts";
import { type PlannedJob, simulateJobs } from "../ddl/multi.ts";
import { foreignKeyCreateError } from "./write_fk_ddl.ts";
import type { InfoSchema } from "../catalog/catalog.ts";
import { checkAutoRandomAlter, hasShardOption, shardRowIdAlterOf }
  from "../catalog/auto_random.ts";
import { type TranslateScope, translate } from "../session/to_expr.ts";
import { encodeOriginDefault, storeValue } from "../table/table.ts";
import { checkIndex } from "../ddl/backfill.ts";
import { checkPartitionedAlter, partitionJobOf, physicalTables } from "../ddl/partition_ddl.ts";
import { type DdlJob, type DdlJobArgs, dropColumnError, mysqlErrorOf } from "../ddl/job.ts";
import type { SqlStorage } from "./storage.ts";

/** What a DDL outcome reports: notes for IF [NOT] EXISTS that found nothing to do. */
export interface DdlOutcome {
  readonly notes: readonly MySqlError[];
}

type Target = { readonly db: string; readonly name: string };

async function runJob(storage: SqlStorage, args: DdlJobArgs, target: { db: string;
  table: string }): Promise<DdlOutcome> {
  const job = await storage.ddl.run(args, target);
  return { notes: job.notes.map(mysqlErrorOf) };
}

export function createDatabase(storage: SqlStorage, name: string,
  options: { readonly ifNotExists: boolean }): Promise<DdlOutcome> {
  return runJob(storage, { kind: "createDatabase", name, ifNotExists: options.ifNotExists },
    { db: name, table: "" });
}

export function dropDatabase(storage: SqlStorage, name: string,
  options: { readonly ifExists: boolean }): Promise<DdlOutcome> {
  return runJob(storage, { kind: "dropDatabase", name, ifExists: options.ifExists },
    { db: name, table: "" });
}

export function createTable(
  storage: SqlStorage,
  target: Target,
  statement: { readonly ifNotExists: boolean; readonly columns: readonly ColumnDefinition[];
    readonly constraints: readonly TableConstraint[]; readonly partition?: PartitionOptions },
  options: { readonly timeZone?: TimeZone } = {},
): Promise<DdlOutcome> {
  // Ids are the owner's to allocate; the definition is checked here. TIMESTAMP defaults
  // and partition bounds are read in the session's zone.
  const defined = resolvePartitionBounds(tableInfoOf(target.name, statement,
    { tableId: 0, dbId: 0 }), options.timeZone ?? utcTimeZone);
  const table = { ...defined, columns: defined.columns.map((c) =>
    defaultToUtc(c, options.timeZone ?? utcTimeZone)) };
  return runJob(storage, { kind: "createTable", table, ifNotExists: statement.ifNotExists },
    { db: target.db, table: target.name });
}

export function dropTables(
  storage: SqlStorage,
  tables: readonly Target[],
  options: { readonly ifExists: boolean },
): Promise<DdlOutcome> {
  return runJob(storage, { kind: "dropTable", tables: tables.map((t) => ({ db: t.db,
    name: t.name })), ifExists: options.ifExists },
  { db: tables[0]?.db ?? "", table: tables.map((t) => t.name).join(",") });
}

/** TRUNCATE: the table gets a new id (an empty key range) under the same name. */
export async function truncateTable(storage: SqlStorage, target: TableName & { db: string }):
  Promise<DdlOutcome> {
  const job = await storage.ddl.run({ kind: "truncateTable" },
    { db: target.db, table: target.name });
  return { notes: job.notes.map(mysqlErrorOf) };
}

export function renameTables(storage: SqlStorage,
  pairs: readonly { readonly from: Target; readonly to: Target }[]): Promise<DdlOutcome> {
  return runJob(storage, { kind: "renameTable", pairs: pairs.map((p) => ({
    from: { db: p.from.db, name: p.from.name }, to: { db: p.to.db, name: p.to.name } })) },
  { db: pairs[0]?.from.db ?? "", table: pairs[0]?.from.name ?? "" });
}

function keyColumns(parts: readonly IndexPart[]): string[] {
  return parts.map((p) => {
    if (p.column === null) throw mysqlError(ER.NOT_SUPPORTED_YET, ["functional key parts"]);
    if (p.length !== null) throw mysqlError(ER.NOT_SUPPORTED_YET, ["prefix key parts"]);
    return p.column;
  });
}

/** CREATE [UNIQUE] INDEX name ON t (columns). */
export function createIndex(storage: SqlStorage, target: Target, statement: {
  readonly type: "UNIQUE" | "FULLTEXT" | "SPATIAL" | null; readonly ifNotExists: boolean;
  readonly name: string; readonly parts: readonly IndexPart[] }): Promise<DdlOutcome> {
  if (statement.type === "FULLTEXT" || statement.type === "SPATIAL") {
    throw mysqlError(ER.NOT_SUPPORTED_YET, [`${statement.type} indexes`]);
  }
  return runJob(storage, { kind: "addIndex", name: statement.name,
    unique: statement.type === "UNIQUE", primary: false, columns: keyColumns(statement.parts),
    ifNotExists: statement.ifNotExists }, { db: target.db, table: target.name });
}

export function dropIndex(storage: SqlStorage, target: Target,
  statement: { readonly name: string; readonly ifExists: boolean }): Promise<DdlOutcome> {
  return runJob(storage, { kind: "dropIndex", name: statement.name,
    ifExists: statement.ifExists }, { db: target.db, table: target.name });
}

/** What ALTER TABLE … ADD/MODIFY COLUMN needs to evaluate a DEFAULT. */
export interface DefaultContext {
  scope(clause: string): TranslateScope;
  evalContext(): EvalContext;
  /** The session's foreign_key_checks (ADD FOREIGN KEY); absent: on. */
  readonly foreignKeyChecks?: boolean;
}

/** The session's time zone, which TIMESTAMP defaults are read in. */
function zoneOf(ctx: DefaultContext): TimeZone {
  return ctx.evalContext().timeZone ?? utcTimeZone;
}

/** The `ColumnInfo` of a column definition (ids and offsets are the owner's). */
function columnInfoOf(def: ColumnDefinition): ColumnInfo {
  if (def.options.some((o) => o.kind === "primaryKey" || o.kind === "unique" ||
    o.kind === "references" || o.kind === "check" || o.kind === "generated")) {
    throw mysqlError(ER.NOT_SUPPORTED_YET, ["keys, references, checks or generated columns " +
      "in ALTER TABLE MODIFY/CHANGE COLUMN definitions"]);
  }
  const withoutAuto = def.options.filter((o) => o.kind !== "autoIncrement");
  // AUTO_RANDOM is checked against the column as it is (checkAutoRandomAlter) and kept.
  const info = tableInfoOf("t", { columns: [{ ...def,
    options: withoutAuto.filter((o) => o.kind !== "autoRandom") }],
    constraints: [] }, { tableId: 0, dbId: 0 }).columns[0]!;
  return { ...info, autoIncrement: withoutAuto.length !== def.options.length };
}

/** The value existing rows read for a new column: its DEFAULT, or the implicit one. */
function originDefault(column: ColumnInfo, ctx: DefaultContext): Value {
  if (column.defaultText === null) {
    if (column.nullable) return null;
    switch (column.type.kind) {
      case "int":
        return column.type.unsigned ? { kind: "uint", value: 0n } : { kind: "int", value: 0n };
      case "decimal":
        return { kind: "decimal", unscaled: 0n, scale: column.type.scale };
      case "double":
        return { kind: "double", value: 0 };
      case "string":
      case "bytes":
        return { kind: "string", value: "" };
      default:
        throw mysqlError(ER.NOT_SUPPORTED_YET,
          ["adding a NOT NULL date column without a DEFAULT"]);
    }
  }
  const utc = utcDefaultValue(column);
  if (utc !== undefined) return storeValue(utc, { column, row: 1 }, ctx.evalContext());
  const parsed = parseExpression(column.defaultText);
  if (parsed.kind === "error") throw parsed.error;
  const value = evaluate(translate(parsed.expr, ctx.scope("field list")), ctx.evalContext());
  return storeValue(value, { column, row: 1 }, ctx.evalContext());
}

/**
 * ALTER TABLE: each change becomes a job (ADD FOREIGN KEY over columns no index leads
 * gets an ADD INDEX job before it, as InnoDB adds that index); several changes run as a
 * sequence of jobs validated together first (src/sql/ddl/multi.ts).
 */
export async function alterTable(storage: SqlStorage, target: Target,
  specs: readonly AlterSpec[], ctx: DefaultContext): Promise<DdlOutcome> {
  const real = specs.filter((s) => (s.kind === "options" ? hasShardOption(s.options)
    : s.kind !== "keys"));
  const schema = await latestSchema(storage);
  if (real.length === 0) {
    // ENGINE=, CHARSET=, DISABLE/ENABLE KEYS: nothing to change, but the table must exist.
    adminTable(schema, target);
    return { notes: [] };
  }
  if (real.length > 1 && real.some((s) => s.kind === "repartition")) {
    throw mysqlError(ER.NOT_SUPPORTED_YET, ["PARTITION BY with other changes in one ALTER"]);
  }
  const planned: PlannedJob[] = [];
  let current: Target = target;
  for (const spec of real) {
    const where = { db: current.db, table: current.name };
    checkPartitionedAlter(schema.table(current.db, current.name), spec);
    for (const args of jobsOfSpec(schema, current, spec, ctx, planned.map((p) => p.args))) {
      planned.push({ args, target: where });
    }
    if (spec.kind === "renameTable") current = { db: spec.to.db ?? current.db, name: spec.to.name };
  }
  if (planned.length > 1) await simulateJobs(schema, planned);
  const notes: MySqlError[] = [];
  for (const job of planned) notes.push(...(await runJob(storage, job.args, job.target)).notes);
  return { notes };
}

/** The latest schema (a fresh snapshot's). */
async function latestSchema(storage: SqlStorage): Promise<InfoSchema> {
  const txn = await storage.client.begin();
  try {
    return await storage.catalog.schemaAt(txn);
  } finally {
    await txn.rollback();
  }
}

/** The jobs of one ALTER TABLE change, checked as far as the statement alone allows. */
function jobsOfSpec(schema: InfoSchema, target: Target, spec: AlterSpec, ctx: DefaultContext,
  earlier: readonly DdlJobArgs[]): DdlJobArgs[] {
  switch (spec.kind) {
    case "addColumns":
      return spec.columns.flatMap((def): DdlJobArgs[] => {
        checkAutoRandomAlter({ db: target.db, table: target.name }, null, def);
        // A key or CHECK in the definition is its own job after the column's; an inline
        // REFERENCES is parsed and ignored, as MySQL does.
        const options = def.options.filter((o) => o.kind !== "primaryKey" &&
          o.kind !== "unique" && o.kind !== "check" && o.kind !== "references");
        const column = defaultToUtc(columnInfoOf({ ...def, options }), zoneOf(ctx));
        if (column.autoIncrement) {
          throw mysqlError(ER.NOT_SUPPORTED_YET, ["adding an AUTO_INCREMENT column"]);
        }
        const origin = encodeOriginDefault(originDefault(column, ctx));
        const position = spec.position === null ? {} : { position: {
          first: spec.position.kind === "first",
          after: spec.position.kind === "after" ? spec.position.column : null } };
        const jobs: DdlJobArgs[] = [{ kind: "addColumn", column: { ...column,
          originDefault: origin }, ifNotExists: false, ...position }];
        for (const o of def.options) {
          if (o.kind === "primaryKey" || o.kind === "unique") {
            jobs.push({ kind: "addIndex", name: o.kind === "primaryKey" ? "PRIMARY" : def.name,
              unique: true, primary: o.kind === "primaryKey", columns: [def.name],
              ifNotExists: false });
          } else if (o.kind === "check") {
            jobs.push({ kind: "addCheck", name: o.name, exprText: formatExpr(o.expr),
              columns: [...new Set(columnNamesIn(o.expr, []))], enforced: true });
          }
        }
        return jobs;
      });
    case "dropColumn":
      return dropColumnJobs(schema, target, spec);
    case "addPartition":
    case "dropPartition":
    case "truncatePartition":
    case "repartition":
      return [partitionJobOf(schema.table(target.db, target.name), spec, zoneOf(ctx))];
    case "renameIndex":
      return [{ kind: "renameIndex", oldName: spec.oldName, newName: spec.newName }];
    case "modifyColumn":
    case "changeColumn": {
      if (spec.position !== null) {
        throw mysqlError(ER.NOT_SUPPORTED_YET, ["MODIFY/CHANGE COLUMN with FIRST/AFTER"]);
      }
      const column = defaultToUtc(columnInfoOf(spec.column), zoneOf(ctx));
      if (column.defaultText !== null) originDefault(column, ctx);
      const oldName = spec.kind === "changeColumn" ? spec.oldName : spec.column.name;
      const before = schema.table(target.db, target.name)?.columns.find((c) =>
        c.name.toLowerCase() === oldName.toLowerCase() && (c.state ?? "public") === "public");
      if (before !== undefined) {
        checkAutoRandomAlter({ db: target.db, table: target.name }, before, spec.column);
      }
      return [{ kind: "modifyColumn", oldName, column }];
    }
    case "addConstraint": {
      const c = spec.constraint;
      if (c.kind === "foreignKey") return foreignKeyJobs(schema, target, c, ctx, earlier);
      if (c.kind === "check") {
        return [{ kind: "addCheck", name: c.constraintName, exprText: formatExpr(c.expr),
          columns: [...new Set(columnNamesIn(c.expr, []))], enforced: c.enforced ?? true }];
      }
      if (c.kind !== "primaryKey" && c.kind !== "unique" && c.kind !== "index") {
        throw mysqlError(ER.NOT_SUPPORTED_YET, [`ALTER TABLE ADD ${c.kind}`]);
      }
      const columns = keyColumns(c.parts);
      const name = c.kind === "primaryKey" ? "PRIMARY" : c.name ?? c.constraintName ??
        columns[0]!;
      return [{ kind: "addIndex", name, unique: c.kind !== "index",
        primary: c.kind === "primaryKey", columns, ifNotExists: false }];
    }
    case "dropIndex":
      return [{ kind: "dropIndex", name: spec.name, ifExists: spec.ifExists }];
    case "dropPrimaryKey": {
      // A non-clustered primary key is the unique index PRIMARY; the clustered one is the
      // row handle, which TiDB cannot drop either.
      if (schema.table(target.db, target.name)?.pkHandle != null) {
        throw mysqlError(ER.UNSUPPORTED_DDL_OPERATION,
          ["drop primary key when the table's pkIsHandle is true"]);
      }
      return [{ kind: "dropIndex", name: "PRIMARY", ifExists: false }];
    }
    case "dropForeignKey":
      return [{ kind: "dropForeignKey", name: spec.name }];
    case "dropCheck":
      return [{ kind: "dropCheck", name: spec.name }];
    case "renameTable":
      return [{ kind: "renameTable", pairs: [{ from: { db: target.db, name: target.name },
        to: { db: spec.to.db ?? target.db, name: spec.to.name } }] }];
    case "alterColumnDefault":
    case "renameColumn": {
      // Metadata-only changes of one column: a MODIFY COLUMN to the column as it is, with
      // the new DEFAULT or name.
      const oldName = spec.kind === "renameColumn" ? spec.oldName : spec.name;
      const current = currentColumn(schema, target, oldName);
      const column: ColumnInfo = spec.kind === "renameColumn"
        ? { ...current, name: spec.newName }
        : defaultToUtc({ ...withoutUtcDefault(current), defaultText: spec.value === null ? null
          : defaultTextOf(spec.value) }, zoneOf(ctx));
      if (column.defaultText !== null) originDefault(column, ctx);
      return [{ kind: "modifyColumn", oldName, column }];
    }
    case "options": {
      const bits = shardRowIdAlterOf(spec.options, adminTable(schema, target));
      return bits === undefined ? [] : [{ kind: "shardRowId", shardRowIdBits: bits }];
    }
    default:
      throw mysqlError(ER.NOT_SUPPORTED_YET, [`ALTER TABLE ${spec.kind}`]);
  }
}

/** Prefix of the name an index shortened by DROP COLUMN has while it is rebuilt. */
const shortenedIndexPrefix = "_tessera_shortened_";

/**
 * DROP COLUMN. As MySQL, the column leaves every index over several columns that has it:
 * each such index is rebuilt without it first — added under a temporary name (a unique
 * one fails with 1062 if the remaining columns have duplicates, before anything changed),
 * the old one dropped, the new one renamed to the old name — and then the column is
 * dropped (with the indexes of it alone, see job.ts). A composite PRIMARY KEY keeps
 * TiDB's refusal (8200).
 */
function dropColumnJobs(schema: InfoSchema, target: Target,
  spec: Extract<AlterSpec, { kind: "dropColumn" }>): DdlJobArgs[] {
  const drop: DdlJobArgs = { kind: "dropColumn", name: spec.name, ifExists: spec.ifExists };
  const table = schema.table(target.db, target.name);
  const column = table?.columns.find((c) => c.name.toLowerCase() === spec.name.toLowerCase() &&
    (c.state ?? "public") === "public");
  if (table === undefined || column === undefined) return [drop];
  const shortened = table.indexes.filter((i) => !i.primary && i.columns.length > 1 &&
    i.columns.includes(column.offset) && (i.state ?? "public") === "public");
  if (shortened.length === 0) return [drop];
  // MySQL's reasons to refuse come first (a foreign key or CHECK that needs the column).
  const error = dropColumnError(schema, { ...table,
    indexes: table.indexes.filter((i) => !shortened.includes(i)) }, column);
  if (error !== null) throw error;
  const jobs: DdlJobArgs[] = [];
  for (const index of shortened) {
    const temporary = `${shortenedIndexPrefix}${index.id}`;
    const columns = index.columns.filter((o) => o !== column.offset)
      .map((o) => table.columns[o]!.name);
    jobs.push({ kind: "addIndex", name: temporary, unique: index.unique, primary: false,
      columns, ifNotExists: false },
    { kind: "dropIndex", name: index.name, ifExists: false },
    { kind: "renameIndex", oldName: temporary, newName: index.name });
  }
  jobs.push(drop);
  return jobs;
}

/**
 * ADD FOREIGN KEY: with foreign_key_checks on, the parent must exist with an index on the
 * referenced columns (1824, 1822, 3780, checked here) and existing rows are checked by
 * the job; an index is added first when none leads with the child's columns.
 */
function foreignKeyJobs(schema: InfoSchema, target: Target,
  c: Extract<TableConstraint, { kind: "foreignKey" }>, ctx: DefaultContext,
  earlier: readonly DdlJobArgs[]): DdlJobArgs[] {
  const checks = ctx.foreignKeyChecks ?? true;
  const table = adminTable(schema, target);
  const spec = { name: c.constraintName, columns: c.columns, refDb: c.references.table.db,
    refTable: c.references.table.name, refColumns: c.references.columns,
    onDelete: fkAction(c.references.onDelete), onUpdate: fkAction(c.references.onUpdate) };
  const offsets = c.columns.map((name) => table.columns.find((col) =>
    col.name.toLowerCase() === name.toLowerCase() && (col.state ?? "public") === "public")
    ?.offset ?? -1);
  const jobs: DdlJobArgs[] = [];
  if (!offsets.includes(-1)) {
    if (checks) {
      const probe: TableInfo = { ...table, foreignKeys: [{ ...spec, columns: offsets,
        name: spec.name ?? `${table.name}_ibfk` }] };
      const error = foreignKeyCreateError(schema, target.db, probe);
      if (error !== null) throw error;
    }
    // An index added earlier in the same statement serves too.
    const covered = (table.pkHandle !== null && offsets.length === 1 &&
      offsets[0] === table.pkHandle) || table.indexes.some((i) => (i.state ?? "public") ===
      "public" && offsets.every((o, k) => i.columns[k] === o)) || earlier.some((j) =>
      j.kind === "addIndex" && c.columns.every((name, k) =>
        j.columns[k]?.toLowerCase() === name.toLowerCase()));
    if (!covered) {
      let name = c.name ?? c.constraintName ?? c.columns[0]!;
      const taken = (n: string): boolean => table.indexes.some((i) =>
        i.name.toLowerCase() === n.toLowerCase());
      for (let n = 2; taken(name); n++) name = `${c.columns[0]!}_${n}`;
      jobs.push({ kind: "addIndex", name, unique: false, primary: false, columns: c.columns,
        ifNotExists: false });
    }
  }
  jobs.push({ kind: "addForeignKey", fk: spec, validate: checks });
  return jobs;
}

/** The public column `name` of the table `target` in `schema` (1146, 1054). */
function currentColumn(schema: InfoSchema, target: Target, name: string): ColumnInfo {
  const table = adminTable(schema, target);
  const column = table.columns.find((c) => c.name.toLowerCase() === name.toLowerCase() &&
    (c.state ?? "public") === "public");
  if (column === undefined) throw mysqlError(ER.BAD_FIELD_ERROR, [name, table.name]);
  return column;
}

/** ADMIN CHECK TABLE / ADMIN CHECK INDEX at `txn`'s snapshot: 8003 on a mismatch. */
export async function adminCheck(txn: Transaction, table: TableInfo, indexName: string | null):
  Promise<void> {
  const indexes = table.indexes.filter((i) => (i.state ?? "public") === "public" &&
    (indexName === null || i.name.toLowerCase() === indexName.toLowerCase()));
  if (indexName !== null && indexes.length === 0) {
    throw mysqlError(ER.KEY_DOES_NOT_EXITS, [indexName, table.name]);
  }
  for (const index of indexes) {
    for (const physical of physicalTables(table)) await checkIndex(txn, physical, index);
  }
}

const jobTypeNames: Readonly<Record<DdlJobArgs["kind"], string>> = {
  createDatabase: "create schema", dropDatabase: "drop schema", createTable: "create table",
  dropTable: "drop table", truncateTable: "truncate table", renameTable: "rename table",
  addIndex: "add index", dropIndex: "drop index", addColumn: "add column",
  dropColumn: "drop column", modifyColumn: "modify column", addForeignKey: "add foreign key",
  dropForeignKey: "drop foreign key", addCheck: "add check constraint",
  renameIndex: "rename index",
  dropCheck: "drop check constraint",
  shardRowId: "shard row ID",
  partitions: "alter table partition",
};

const schemaStateNames: Readonly<Record<DdlJob["schemaState"], string>> = {
  none: "none", deleteOnly: "delete only", writeOnly: "write only",
  writeReorg: "write reorganization", public: "public",
};

const jobStateNames: Readonly<Record<DdlJob["state"], string>> = {
  queueing: "queueing", running: "running", rollingBack: "rollingback", done: "synced",
  rolledBack: "rollback done", cancelled: "cancelled",
};

function timeText(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString().replace("T", " ").slice(0, 19);
}

/** ADMIN SHOW DDL JOBS, in TiDB's columns. */
export const adminShowDdlJobsColumns = ["JOB_ID", "DB_NAME", "TABLE_NAME", "JOB_TYPE",
  "SCHEMA_STATE", "SCHEMA_ID", "TABLE_ID", "ROW_COUNT", "CREATE_TIME", "START_TIME",
  "END_TIME", "STATE"];

export async function adminShowDdlJobs(storage: SqlStorage): Promise<(string | null)[][]> {
  const jobs = await storage.ddl.jobs();
  return jobs.map((j) => [String(j.id), j.dbName, j.tableName, jobTypeNames[j.args.kind],
    schemaStateNames[j.schemaState], String(j.dbId), String(j.tableId), String(j.rowCount),
    timeText(j.createMs), timeText(j.startMs), timeText(j.finishMs), jobStateNames[j.state]]);
}

/** The table ADMIN CHECK names, resolved in `schema`. */
export function adminTable(schema: InfoSchema, target: Target): TableInfo {
  const table = schema.table(target.db, target.name);
  if (table === undefined) throw mysqlError(ER.NO_SUCH_TABLE, [target.db, target.name]);
  return table;
}
