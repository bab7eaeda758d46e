/**
 * DDL statements as online DDL jobs (`src/sql/ddl`): each statement is checked and turned
 * into a job's arguments here (what can be checked without the catalog — column types,
 * defaults, key definitions — fails before anything is queued), then queued; the DDL
 * owner runs it (CREATE INDEX through the F1 states with a backfill, one step for the
 * simple ones) and the session waits for the outcome. Dropped and truncated tables' rows
 * stay in KV, unreachable (their table id is never reused); deleting their range is the
 * GC worker's job in a later step (TiDB's delete-range). A dropped index's entries are
 * deleted by the job.
 *
 * Also here: ADMIN CHECK TABLE / INDEX and ADMIN SHOW DDL JOBS.
 */
import type { Transaction } from "../../client/mod.ts";
import { type EvalContext, type Value, evaluate } from "../../expr/mod.ts";
import type { AlterSpec, ColumnDefinition, IndexPart, TableConstraint, TableName }
  from "../parser/ast.ts";
import { parseExpression } from "../parser/parse.ts";
import { ER, type MySqlError, mysqlError } from "../mysql_errors.ts";
import { type ColumnInfo, type TableInfo, defaultTextOf, tableInfoOf }
  from "../catalog/schema.ts";
import type { InfoSchema } from "../catalog/catalog.ts";
import { type TranslateScope, translate } from "../session/to_expr.ts";
import { encodeOriginDefault, storeValue } from "../table/table.ts";
import { checkIndex } from "../ddl/backfill.ts";
import { type DdlJob, type DdlJobArgs, mysqlErrorOf } from "../ddl/job.ts";
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
    readonly constraints: readonly TableConstraint[] },
): Promise<DdlOutcome> {
  // Ids are the owner's to allocate; the definition is checked here.
  const table = tableInfoOf(target.name, statement, { tableId: 0, dbId: 0 });
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
}

/** The `ColumnInfo` of a column definition (ids and offsets are the owner's). */
function columnInfoOf(def: ColumnDefinition): ColumnInfo {
  if (def.options.some((o) => o.kind === "primaryKey" || o.kind === "unique" ||
    o.kind === "references" || o.kind === "check" || o.kind === "generated")) {
    throw mysqlError(ER.NOT_SUPPORTED_YET,
      ["keys, references, checks or generated columns in ALTER TABLE column definitions"]);
  }
  const withoutAuto = def.options.filter((o) => o.kind !== "autoIncrement");
  const info = tableInfoOf("t", { columns: [{ ...def, options: withoutAuto }],
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
  const parsed = parseExpression(column.defaultText);
  if (parsed.kind === "error") throw parsed.error;
  const value = evaluate(translate(parsed.expr, ctx.scope("field list")), ctx.evalContext());
  return storeValue(value, { column, row: 1 }, ctx.evalContext());
}

/** ALTER TABLE with one change (several in one statement answer 1235). */
export async function alterTable(storage: SqlStorage, target: Target,
  specs: readonly AlterSpec[], ctx: DefaultContext): Promise<DdlOutcome> {
  const real = specs.filter((s) => s.kind !== "options" && s.kind !== "keys");
  if (real.length === 0) {
    // ENGINE=, CHARSET=, DISABLE/ENABLE KEYS: nothing to change, but the table must exist.
    const txn = await storage.client.begin();
    try {
      adminTable(await storage.catalog.schemaAt(txn), target);
    } finally {
      await txn.rollback();
    }
    return { notes: [] };
  }
  if (real.length > 1) {
    throw mysqlError(ER.NOT_SUPPORTED_YET, ["several changes in one ALTER TABLE"]);
  }
  const spec = real[0]!;
  const where = { db: target.db, table: target.name };
  switch (spec.kind) {
    case "addColumns": {
      if (spec.columns.length !== 1) {
        throw mysqlError(ER.NOT_SUPPORTED_YET, ["ADD COLUMN with several columns"]);
      }
      const column = columnInfoOf(spec.columns[0]!);
      if (column.autoIncrement) {
        throw mysqlError(ER.NOT_SUPPORTED_YET, ["adding an AUTO_INCREMENT column"]);
      }
      const origin = encodeOriginDefault(originDefault(column, ctx));
      const position = spec.position === null ? {} : { position: {
        first: spec.position.kind === "first",
        after: spec.position.kind === "after" ? spec.position.column : null } };
      return runJob(storage, { kind: "addColumn", column: { ...column,
        originDefault: origin }, ifNotExists: false, ...position }, where);
    }
    case "dropColumn":
      return runJob(storage, { kind: "dropColumn", name: spec.name, ifExists: spec.ifExists },
        where);
    case "modifyColumn":
    case "changeColumn": {
      if (spec.position !== null) {
        throw mysqlError(ER.NOT_SUPPORTED_YET, ["MODIFY/CHANGE COLUMN with FIRST/AFTER"]);
      }
      const column = columnInfoOf(spec.column);
      if (column.defaultText !== null) originDefault(column, ctx);
      const oldName = spec.kind === "changeColumn" ? spec.oldName : spec.column.name;
      return runJob(storage, { kind: "modifyColumn", oldName, column }, where);
    }
    case "addConstraint": {
      const c = spec.constraint;
      if (c.kind !== "primaryKey" && c.kind !== "unique" && c.kind !== "index") {
        throw mysqlError(ER.NOT_SUPPORTED_YET, [`ALTER TABLE ADD ${c.kind}`]);
      }
      const columns = keyColumns(c.parts);
      const name = c.kind === "primaryKey" ? "PRIMARY" : c.name ?? c.constraintName ??
        columns[0]!;
      return runJob(storage, { kind: "addIndex", name, unique: c.kind !== "index",
        primary: c.kind === "primaryKey", columns, ifNotExists: false }, where);
    }
    case "dropIndex":
      return runJob(storage, { kind: "dropIndex", name: spec.name, ifExists: spec.ifExists },
        where);
    case "renameTable":
      return renameTables(storage, [{ from: target,
        to: { db: spec.to.db ?? target.db, name: spec.to.name } }]);
    case "alterColumnDefault":
    case "renameColumn": {
      // Metadata-only changes of one column: a MODIFY COLUMN to the column as it is, with
      // the new DEFAULT or name.
      const oldName = spec.kind === "renameColumn" ? spec.oldName : spec.name;
      const current = await currentColumn(storage, target, oldName);
      const column: ColumnInfo = spec.kind === "renameColumn"
        ? { ...current, name: spec.newName }
        : { ...current, defaultText: spec.value === null ? null : defaultTextOf(spec.value) };
      if (column.defaultText !== null) originDefault(column, ctx);
      return runJob(storage, { kind: "modifyColumn", oldName, column }, where);
    }
    default:
      throw mysqlError(ER.NOT_SUPPORTED_YET, [`ALTER TABLE ${spec.kind}`]);
  }
}

/** The public column `name` of the table `target` in the latest schema (1146, 1054). */
async function currentColumn(storage: SqlStorage, target: Target, name: string):
  Promise<ColumnInfo> {
  const txn = await storage.client.begin();
  try {
    const table = adminTable(await storage.catalog.schemaAt(txn), target);
    const column = table.columns.find((c) => c.name.toLowerCase() === name.toLowerCase() &&
      (c.state ?? "public") === "public");
    if (column === undefined) throw mysqlError(ER.BAD_FIELD_ERROR, [name, table.name]);
    return column;
  } finally {
    await txn.rollback();
  }
}

/** ADMIN CHECK TABLE / ADMIN CHECK INDEX at `txn`'s snapshot: 8003 on a mismatch. */
export async function adminCheck(txn: Transaction, table: TableInfo, indexName: string | null):
  Promise<void> {
  const indexes = table.indexes.filter((i) => (i.state ?? "public") === "public" &&
    (indexName === null || i.name.toLowerCase() === indexName.toLowerCase()));
  if (indexName !== null && indexes.length === 0) {
    throw mysqlError(ER.KEY_DOES_NOT_EXITS, [indexName, table.name]);
  }
  for (const index of indexes) await checkIndex(txn, table, index);
}

const jobTypeNames: Readonly<Record<DdlJobArgs["kind"], string>> = {
  createDatabase: "create schema", dropDatabase: "drop schema", createTable: "create table",
  dropTable: "drop table", truncateTable: "truncate table", renameTable: "rename table",
  addIndex: "add index", dropIndex: "drop index", addColumn: "add column",
  dropColumn: "drop column", modifyColumn: "modify column",
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
