/**
 * The definitions of the `information_schema` tables: each table's columns with MySQL 8's
 * names and types, and the function that makes its rows from an `InfoSchemaContext`.
 *
 * Rows come from the catalog (SCHEMATA, TABLES, COLUMNS, STATISTICS, KEY_COLUMN_USAGE and
 * TABLE_CONSTRAINTS with primary, unique, foreign-key and CHECK constraints,
 * REFERENTIAL_CONSTRAINTS, CHECK_CONSTRAINTS, VIEWS, PARTITIONS), from this node
 * (PROCESSLIST, STATEMENTS_SUMMARY) or are constant (ENGINES, CHARACTER_SETS, COLLATIONS).
 * Tables of things Tessera does not have yet — triggers, routines, tablespace files —
 * exist with their columns and no rows, which is what clients like mariadb-dump and ORMs'
 * reflection need.
 * Columns and indexes still being added by online DDL (not `public`) are not shown.
 * Pure: no I/O.
 */
import { partitionDescription, partitionExpressionText } from "../catalog/partition.ts";
import type { Value } from "../../expr/mod.ts";
import { type ColumnInfo, type ColumnType, type IndexInfo, type TableInfo, type ViewInfo,
  columnKeyText, isPublic, typeText } from "../catalog/schema.ts";
import type { InfoSchemaContext } from "./mod.ts";
import { civilTime } from "../session/time_zone.ts";
import { columnInZone } from "../table/timestamp_default.ts";

/** A virtual table's definition. */
export interface MemTableDef {
  readonly name: string;
  readonly columns: readonly ColumnInfo[];
  rows(ctx: InfoSchemaContext): Value[][];
}

const catalogName = "def";
const infoSchemaDb = "information_schema";
const defaultCollation = "utf8mb4_general_ci";

// ---- column types ------------------------------------------------------------------------

function ty(name: string, kind: ColumnType["kind"], length: number | null,
  unsigned = false): ColumnType {
  return { name, kind, unsigned, length, scale: 0, binaryCollation: false };
}

const varchar = (n: number): ColumnType => ty("VARCHAR", "string", n);
const longtext = ty("LONGTEXT", "string", null);
const bigint = ty("BIGINT", "int", null);
const ubigint = ty("BIGINT", "int", null, true);
const int = ty("INT", "int", null);
const uint = ty("INT", "int", null, true);
const datetime = ty("DATETIME", "datetime", null);
const double = ty("DOUBLE", "double", null);

type ColSpec = readonly [name: string, type: ColumnType, nullable?: boolean];

function columns(specs: readonly ColSpec[]): ColumnInfo[] {
  return specs.map(([name, type, nullable], offset) => ({ id: offset + 1, name, offset, type,
    nullable: nullable ?? true, defaultText: null, autoIncrement: false }));
}

// ---- values ------------------------------------------------------------------------------

function s(value: string | null): Value {
  return value === null ? null : { kind: "string", value };
}

function i(value: number | bigint | null): Value {
  return value === null ? null : { kind: "int", value: BigInt(value) };
}

function u(value: number | bigint | null): Value {
  return value === null ? null : { kind: "uint", value: BigInt(value) };
}

// ---- catalog walks -----------------------------------------------------------------------

interface TableRef {
  readonly db: string;
  readonly table: TableInfo;
}

/** Every user table, by database creation order then table name. */
function userTables(ctx: InfoSchemaContext): TableRef[] {
  const out: TableRef[] = [];
  for (const db of ctx.schema.databaseNames()) {
    const found = ctx.schema.database(db);
    if (found === undefined) continue;
    const tables = [...found.tables.values()].sort((x, y) => x.name.localeCompare(y.name));
    for (const table of tables) out.push({ db: found.info.name, table });
  }
  return out;
}

/** Every view, by database creation order then view name. */
function userViews(ctx: InfoSchemaContext): { readonly db: string; readonly view: ViewInfo }[] {
  const out: { db: string; view: ViewInfo }[] = [];
  for (const db of ctx.schema.databaseNames()) {
    const found = ctx.schema.database(db);
    if (found?.views === undefined) continue;
    const views = [...found.views.values()].sort((x, y) => x.name.localeCompare(y.name));
    for (const view of views) out.push({ db: found.info.name, view });
  }
  return out;
}

/** A foreign key as the views list it: columns by name, the parent resolved. */
interface ForeignKeyView {
  readonly db: string;
  readonly table: TableInfo;
  readonly name: string;
  readonly columns: readonly string[];
  readonly refDb: string;
  readonly refTable: string;
  readonly refColumns: readonly string[];
  /** The parent's unique index the key references (PRIMARY …), or null if none matches. */
  readonly refIndex: string | null;
  readonly onDelete: string;
  readonly onUpdate: string;
}

function foreignKeys(ctx: InfoSchemaContext): ForeignKeyView[] {
  const out: ForeignKeyView[] = [];
  for (const { db, table } of userTables(ctx)) {
    for (const fk of table.foreignKeys ?? []) {
      const refDb = fk.refDb ?? db;
      const parent = ctx.schema.table(refDb, fk.refTable);
      const wanted = fk.refColumns.map((c) => c.toLowerCase()).join(",");
      const refIndex = parent === undefined ? null : publicIndexes(parent).find((index) =>
        index.unique && index.columns.map((c) => c.name.toLowerCase()).join(",") === wanted)
        ?.name ?? null;
      out.push({ db, table, name: fk.name, columns: fk.columns.map((o) =>
        table.columns[o]!.name), refDb, refTable: parent?.name ?? fk.refTable,
      refColumns: fk.refColumns, refIndex, onDelete: fk.onDelete ?? "NO ACTION",
      onUpdate: fk.onUpdate ?? "NO ACTION" });
    }
  }
  return out;
}

/** The visible columns of `table`. */
function publicColumns(table: TableInfo): ColumnInfo[] {
  return table.columns.filter(isPublic);
}

/** An index as the views list it: the clustered integer primary key included. */
interface IndexView {
  readonly name: string;
  readonly unique: boolean;
  readonly primary: boolean;
  readonly columns: readonly ColumnInfo[];
}

/** The visible indexes of `table`, PRIMARY first (as MySQL lists them). */
function publicIndexes(table: TableInfo): IndexView[] {
  const out: IndexView[] = [];
  if (table.pkHandle !== null) {
    out.push({ name: "PRIMARY", unique: true, primary: true,
      columns: [table.columns[table.pkHandle]!] });
  }
  const indexes = table.indexes.filter(isPublic);
  const ordered = [...indexes.filter((x) => x.primary), ...indexes.filter((x) => !x.primary)];
  for (const index of ordered as IndexInfo[]) {
    out.push({ name: index.name, unique: index.unique, primary: index.primary,
      columns: index.columns.map((o) => table.columns[o]!) });
  }
  return out;
}

/** The indexes of `table` for SHOW INDEX and STATISTICS. */
export function tableIndexes(table: TableInfo): readonly IndexView[] {
  return publicIndexes(table);
}

// ---- column facts ------------------------------------------------------------------------

const textLengths: Readonly<Record<string, number>> = {
  TINYTEXT: 255, TEXT: 65535, MEDIUMTEXT: 16777215, LONGTEXT: 4294967295,
  TINYBLOB: 255, BLOB: 65535, MEDIUMBLOB: 16777215, LONGBLOB: 4294967295,
};

const intPrecision: Readonly<Record<string, number>> = {
  TINYINT: 3, BOOL: 3, SMALLINT: 5, MEDIUMINT: 7, INT: 10, BIGINT: 19,
};

/** DATA_TYPE: the type's bare name. */
export function dataTypeName(type: ColumnType): string {
  return type.name === "BOOL" ? "tinyint" : type.name.toLowerCase();
}

/** The column's character set, or null for non-character columns. */
export function charsetOf(type: ColumnType): string | null {
  return isCharacterKind(type) ? "utf8mb4" : null;
}

/** Strings, ENUM and SET have a character set. */
function isCharacterKind(type: ColumnType): boolean {
  return type.kind === "string" || type.kind === "enum" || type.kind === "set";
}

/** The column's collation, or null for non-character columns. */
export function collationOf(type: ColumnType): string | null {
  if (!isCharacterKind(type)) return null;
  return type.binaryCollation ? "utf8mb4_bin" : defaultCollation;
}

/** COLUMN_DEFAULT / SHOW COLUMNS' Default: the value as text, or null. */
export function defaultValueText(column: ColumnInfo): string | null {
  const text = column.defaultText;
  if (text === null || text.toUpperCase() === "NULL") return null;
  const quoted = /^'(.*)'$/s.exec(text);
  return quoted === null ? text : quoted[1]!.replace(/''/g, "'").replace(/\\\\/g, "\\");
}

function columnRow(db: string, table: string, column: ColumnInfo, position: number,
  key: string): Value[] {
  const t = column.type;
  const chars = t.kind === "string" || t.kind === "bytes"
    ? t.length ?? textLengths[t.name] ?? 65535 : null;
  const octets = chars === null ? null : t.kind === "string" && t.length !== null
    ? chars * 4 : chars;
  let precision: number | null = null;
  let scale: number | null = null;
  if (t.kind === "int") {
    precision = t.name === "BIGINT" && t.unsigned ? 20 : intPrecision[t.name] ?? 19;
    scale = 0;
  } else if (t.kind === "decimal") {
    precision = t.length ?? 10;
    scale = t.scale;
  } else if (t.kind === "double") {
    precision = t.name === "FLOAT" ? 12 : 22;
  }
  return [
    s(catalogName), s(db), s(table), s(column.name), u(position),
    s(defaultValueText(column)), s(column.nullable ? "YES" : "NO"), s(dataTypeName(t)),
    i(chars), i(octets), u(precision), u(scale),
    u(t.kind === "datetime" ? t.scale : null), s(charsetOf(t)), s(collationOf(t)),
    s(typeText(t)), s(key), s(column.autoIncrement ? "auto_increment" : ""),
    s("select,insert,update,references"), s(""), s(""), u(null),
  ];
}

// ---- constant data -----------------------------------------------------------------------

/** Character sets: name, default collation, description, max bytes per character. */
export const characterSets: readonly (readonly [string, string, string, number])[] = [
  ["binary", "binary", "Binary pseudo charset", 1],
  ["utf8mb3", "utf8mb3_general_ci", "UTF-8 Unicode", 3],
  ["utf8mb4", "utf8mb4_general_ci", "UTF-8 Unicode", 4],
];

/** Collations: name, charset, id, is default, pad attribute. */
export const collations: readonly (readonly [string, string, number, boolean, string])[] = [
  ["binary", "binary", 63, true, "NO PAD"],
  ["utf8mb3_bin", "utf8mb3", 83, false, "PAD SPACE"],
  ["utf8mb3_general_ci", "utf8mb3", 33, true, "PAD SPACE"],
  ["utf8mb4_0900_ai_ci", "utf8mb4", 255, false, "NO PAD"],
  ["utf8mb4_bin", "utf8mb4", 46, false, "PAD SPACE"],
  ["utf8mb4_general_ci", "utf8mb4", 45, true, "PAD SPACE"],
];

/** The storage engines: InnoDB only, the default (as TiDB answers). */
export const engines: readonly (readonly [string, string, string, string, string, string])[] = [
  ["InnoDB", "DEFAULT", "Supports transactions, row-level locking, and foreign keys",
    "YES", "YES", "YES"],
];

// ---- the tables --------------------------------------------------------------------------

const schemaCols = (prefix: string): ColSpec[] => [
  [`${prefix}_CATALOG`, varchar(64), false], [`${prefix}_SCHEMA`, varchar(64), false],
];

function def(name: string, specs: readonly ColSpec[],
  rows: (ctx: InfoSchemaContext) => Value[][] = () => []): MemTableDef {
  return { name, columns: columns(specs), rows };
}

const tableDefs: MemTableDef[] = [];

tableDefs.push(def("SCHEMATA", [
  ["CATALOG_NAME", varchar(64), false], ["SCHEMA_NAME", varchar(64), false],
  ["DEFAULT_CHARACTER_SET_NAME", varchar(64), false],
  ["DEFAULT_COLLATION_NAME", varchar(64), false], ["SQL_PATH", varchar(512)],
  ["DEFAULT_ENCRYPTION", varchar(3), false],
], (ctx) => [infoSchemaDb, ...ctx.schema.databaseNames()].map((db) => [
  s(catalogName), s(db), s(db === infoSchemaDb ? "utf8mb3" : "utf8mb4"),
  s(db === infoSchemaDb ? "utf8mb3_general_ci" : defaultCollation), null, s("NO")])));

tableDefs.push(def("TABLES", [
  ...schemaCols("TABLE"), ["TABLE_NAME", varchar(64), false], ["TABLE_TYPE", varchar(11), false],
  ["ENGINE", varchar(64)], ["VERSION", int], ["ROW_FORMAT", varchar(10)],
  ["TABLE_ROWS", ubigint], ["AVG_ROW_LENGTH", ubigint], ["DATA_LENGTH", ubigint],
  ["MAX_DATA_LENGTH", ubigint], ["INDEX_LENGTH", ubigint], ["DATA_FREE", ubigint],
  ["AUTO_INCREMENT", ubigint], ["CREATE_TIME", datetime, false], ["UPDATE_TIME", datetime],
  ["CHECK_TIME", datetime], ["TABLE_COLLATION", varchar(64)], ["CHECKSUM", bigint],
  ["CREATE_OPTIONS", varchar(256)], ["TABLE_COMMENT", longtext],
], (ctx) => [
  ...infoSchemaTableNames().map((name) => [s(catalogName), s(infoSchemaDb), s(name),
    s("SYSTEM VIEW"), null, i(10), null, null, null, null, null, null, null, null, null, null,
    null, s("utf8mb3_general_ci"), null, s(""), s("")]),
  ...userTables(ctx).map(({ db, table }) => [s(catalogName), s(db), s(table.name),
    s("BASE TABLE"), s("InnoDB"), i(10), s("Dynamic"), u(0), u(0), u(0), u(0), u(0), u(0),
    null, null, null, null, s(defaultCollation), null,
    s(table.partition === undefined ? "" : "partitioned"), s("")]),
  ...userViews(ctx).map(({ db, view }) => [s(catalogName), s(db), s(view.name), s("VIEW"),
    null, null, null, null, null, null, null, null, null, null, null, null, null, null, null,
    null, s("VIEW")]),
]));

tableDefs.push(def("COLUMNS", [
  ...schemaCols("TABLE"), ["TABLE_NAME", varchar(64), false], ["COLUMN_NAME", varchar(64)],
  ["ORDINAL_POSITION", uint, false], ["COLUMN_DEFAULT", longtext],
  ["IS_NULLABLE", varchar(3), false], ["DATA_TYPE", longtext],
  ["CHARACTER_MAXIMUM_LENGTH", bigint], ["CHARACTER_OCTET_LENGTH", bigint],
  ["NUMERIC_PRECISION", ubigint], ["NUMERIC_SCALE", ubigint], ["DATETIME_PRECISION", uint],
  ["CHARACTER_SET_NAME", varchar(64)], ["COLLATION_NAME", varchar(64)],
  ["COLUMN_TYPE", longtext, false], ["COLUMN_KEY", varchar(3), false],
  ["EXTRA", varchar(256)], ["PRIVILEGES", varchar(154)], ["COLUMN_COMMENT", longtext, false],
  ["GENERATION_EXPRESSION", longtext, false], ["SRS_ID", uint],
], (ctx) => {
  const rows: Value[][] = [];
  for (const t of infoSchemaTables.values()) {
    t.columns.forEach((c, k) => rows.push(columnRow(infoSchemaDb, t.name, c, k + 1, "")));
  }
  for (const { db, table } of userTables(ctx)) {
    publicColumns(table).forEach((c, k) => rows.push(columnRow(db, table.name,
      columnInZone(c, ctx.timeZone), k + 1, columnKeyText(table, c.offset))));
  }
  const describe = ctx.viewColumns;
  if (describe === undefined) return rows;
  for (const { db, view } of userViews(ctx)) {
    let viewCols: readonly ColumnInfo[];
    try {
      viewCols = describe(db, view.name);
    } catch {
      continue; // a view whose tables are gone lists no columns (MySQL warns)
    }
    viewCols.forEach((c, k) => rows.push(columnRow(db, view.name, c, k + 1, "")));
  }
  return rows;
}));

tableDefs.push(def("STATISTICS", [
  ...schemaCols("TABLE"), ["TABLE_NAME", varchar(64), false], ["NON_UNIQUE", int, false],
  ["INDEX_SCHEMA", varchar(64), false], ["INDEX_NAME", varchar(64)],
  ["SEQ_IN_INDEX", uint, false], ["COLUMN_NAME", varchar(64)], ["COLLATION", varchar(1)],
  ["CARDINALITY", bigint], ["SUB_PART", bigint], ["PACKED", varchar(10)],
  ["NULLABLE", varchar(3), false], ["INDEX_TYPE", varchar(11), false],
  ["COMMENT", varchar(8), false], ["INDEX_COMMENT", varchar(2048), false],
  ["IS_VISIBLE", varchar(3), false], ["EXPRESSION", longtext],
], (ctx) => userTables(ctx).flatMap(({ db, table }) => publicIndexes(table).flatMap((index) =>
  index.columns.map((c, k) => [s(catalogName), s(db), s(table.name), i(index.unique ? 0 : 1),
    s(db), s(index.name), u(k + 1), s(c.name), s("A"), i(0), null, null,
    s(c.nullable ? "YES" : ""), s("BTREE"), s(""), s(""), s("YES"), null])))));

tableDefs.push(def("KEY_COLUMN_USAGE", [
  ...schemaCols("CONSTRAINT"), ["CONSTRAINT_NAME", varchar(64)],
  ...schemaCols("TABLE"), ["TABLE_NAME", varchar(64), false], ["COLUMN_NAME", varchar(64)],
  ["ORDINAL_POSITION", uint, false], ["POSITION_IN_UNIQUE_CONSTRAINT", uint],
  ["REFERENCED_TABLE_SCHEMA", varchar(64)], ["REFERENCED_TABLE_NAME", varchar(64)],
  ["REFERENCED_COLUMN_NAME", varchar(64)],
], (ctx) => userTables(ctx).flatMap(({ db, table }) => publicIndexes(table)
  .filter((index) => index.unique).flatMap((index) => index.columns.map((c, k) => [
    s(catalogName), s(db), s(index.name), s(catalogName), s(db), s(table.name), s(c.name),
    u(k + 1), null, null, null, null]))).concat(foreignKeys(ctx).flatMap((fk) =>
  fk.columns.map((c, k) => [s(catalogName), s(fk.db), s(fk.name), s(catalogName), s(fk.db),
    s(fk.table.name), s(c), u(k + 1), u(k + 1), s(fk.refDb), s(fk.refTable),
    s(fk.refColumns[k] ?? null)])))));

tableDefs.push(def("TABLE_CONSTRAINTS", [
  ...schemaCols("CONSTRAINT"), ["CONSTRAINT_NAME", varchar(64)],
  ["TABLE_SCHEMA", varchar(64), false], ["TABLE_NAME", varchar(64), false],
  ["CONSTRAINT_TYPE", varchar(11), false], ["ENFORCED", varchar(3), false],
], (ctx) => userTables(ctx).flatMap(({ db, table }) => publicIndexes(table)
  .filter((index) => index.unique).map((index) => [s(catalogName), s(db), s(index.name), s(db),
    s(table.name), s(index.primary ? "PRIMARY KEY" : "UNIQUE"), s("YES")])
  .concat((table.foreignKeys ?? []).map((fk) => [s(catalogName), s(db), s(fk.name), s(db),
    s(table.name), s("FOREIGN KEY"), s("YES")]))
  .concat((table.checks ?? []).map((check) => [s(catalogName), s(db), s(check.name), s(db),
    s(table.name), s("CHECK"), s(check.enforced ? "YES" : "NO")])))));

tableDefs.push(def("CHECK_CONSTRAINTS", [
  ...schemaCols("CONSTRAINT"), ["CONSTRAINT_NAME", varchar(64)],
  ["CHECK_CLAUSE", longtext, false],
], (ctx) => userTables(ctx).flatMap(({ db, table }) => (table.checks ?? []).map((check) =>
  [s(catalogName), s(db), s(check.name), s(`(${check.exprText})`)]))));

tableDefs.push(def("REFERENTIAL_CONSTRAINTS", [
  ...schemaCols("CONSTRAINT"), ["CONSTRAINT_NAME", varchar(64)],
  ["UNIQUE_CONSTRAINT_CATALOG", varchar(64), false],
  ["UNIQUE_CONSTRAINT_SCHEMA", varchar(64), false], ["UNIQUE_CONSTRAINT_NAME", varchar(64)],
  ["MATCH_OPTION", varchar(7), false], ["UPDATE_RULE", varchar(11), false],
  ["DELETE_RULE", varchar(11), false], ["TABLE_NAME", varchar(64), false],
  ["REFERENCED_TABLE_NAME", varchar(64), false],
], (ctx) => foreignKeys(ctx).map((fk) => [s(catalogName), s(fk.db), s(fk.name),
  s(catalogName), s(fk.refDb), s(fk.refIndex), s("NONE"), s(fk.onUpdate), s(fk.onDelete),
  s(fk.table.name), s(fk.refTable)])));

tableDefs.push(def("VIEWS", [
  ...schemaCols("TABLE"), ["TABLE_NAME", varchar(64)], ["VIEW_DEFINITION", longtext],
  ["CHECK_OPTION", varchar(8)], ["IS_UPDATABLE", varchar(3)], ["DEFINER", varchar(288)],
  ["SECURITY_TYPE", varchar(7)], ["CHARACTER_SET_CLIENT", varchar(64), false],
  ["COLLATION_CONNECTION", varchar(64), false],
], (ctx) => userViews(ctx).map(({ db, view }) => [s(catalogName), s(db), s(view.name),
  s(view.definition), s(view.checkOption ?? "NONE"), s("NO"), s("root@%"), s("DEFINER"),
  s("utf8mb4"), s(defaultCollation)])));

tableDefs.push(def("FILES", [
  ["FILE_ID", bigint], ["FILE_NAME", longtext], ["FILE_TYPE", varchar(256)],
  ["TABLESPACE_NAME", varchar(268)], ["TABLE_CATALOG", varchar(0)],
  ["TABLE_SCHEMA", varchar(0)], ["TABLE_NAME", varchar(0)],
  ["LOGFILE_GROUP_NAME", varchar(256)], ["LOGFILE_GROUP_NUMBER", bigint],
  ["ENGINE", varchar(64)], ["FULLTEXT_KEYS", varchar(0)], ["DELETED_ROWS", varchar(0)],
  ["UPDATE_COUNT", varchar(0)], ["FREE_EXTENTS", bigint], ["TOTAL_EXTENTS", bigint],
  ["EXTENT_SIZE", bigint], ["INITIAL_SIZE", bigint], ["MAXIMUM_SIZE", bigint],
  ["AUTOEXTEND_SIZE", bigint], ["CREATION_TIME", varchar(0)], ["LAST_UPDATE_TIME", varchar(0)],
  ["LAST_ACCESS_TIME", varchar(0)], ["RECOVER_TIME", varchar(0)],
  ["TRANSACTION_COUNTER", varchar(0)], ["VERSION", bigint], ["ROW_FORMAT", varchar(256)],
  ["TABLE_ROWS", varchar(0)], ["AVG_ROW_LENGTH", varchar(0)], ["DATA_LENGTH", varchar(0)],
  ["MAX_DATA_LENGTH", varchar(0)], ["INDEX_LENGTH", varchar(0)], ["DATA_FREE", bigint],
  ["CREATE_TIME", varchar(0)], ["UPDATE_TIME", varchar(0)], ["CHECK_TIME", varchar(0)],
  ["CHECKSUM", varchar(0)], ["STATUS", varchar(256)], ["EXTRA", varchar(256)],
]));

tableDefs.push(def("TRIGGERS", [
  ...schemaCols("TRIGGER"), ["TRIGGER_NAME", varchar(64), false],
  ["EVENT_MANIPULATION", varchar(6), false], ["EVENT_OBJECT_CATALOG", varchar(64), false],
  ["EVENT_OBJECT_SCHEMA", varchar(64), false], ["EVENT_OBJECT_TABLE", varchar(64), false],
  ["ACTION_ORDER", uint, false], ["ACTION_CONDITION", varchar(0)],
  ["ACTION_STATEMENT", longtext, false], ["ACTION_ORIENTATION", varchar(3), false],
  ["ACTION_TIMING", varchar(6), false], ["ACTION_REFERENCE_OLD_TABLE", varchar(0)],
  ["ACTION_REFERENCE_NEW_TABLE", varchar(0)], ["ACTION_REFERENCE_OLD_ROW", varchar(3), false],
  ["ACTION_REFERENCE_NEW_ROW", varchar(3), false], ["CREATED", datetime, false],
  ["SQL_MODE", varchar(520), false], ["DEFINER", varchar(288), false],
  ["CHARACTER_SET_CLIENT", varchar(64), false], ["COLLATION_CONNECTION", varchar(64), false],
  ["DATABASE_COLLATION", varchar(64), false],
]));

tableDefs.push(def("ROUTINES", [
  ["SPECIFIC_NAME", varchar(64), false], ["ROUTINE_CATALOG", varchar(64), false],
  ["ROUTINE_SCHEMA", varchar(64), false], ["ROUTINE_NAME", varchar(64), false],
  ["ROUTINE_TYPE", varchar(9), false], ["DATA_TYPE", longtext],
  ["CHARACTER_MAXIMUM_LENGTH", bigint], ["CHARACTER_OCTET_LENGTH", bigint],
  ["NUMERIC_PRECISION", uint], ["NUMERIC_SCALE", uint], ["DATETIME_PRECISION", uint],
  ["CHARACTER_SET_NAME", varchar(64)], ["COLLATION_NAME", varchar(64)],
  ["DTD_IDENTIFIER", longtext], ["ROUTINE_BODY", varchar(8), false],
  ["ROUTINE_DEFINITION", longtext], ["EXTERNAL_NAME", varchar(0)],
  ["EXTERNAL_LANGUAGE", varchar(64), false], ["PARAMETER_STYLE", varchar(3), false],
  ["IS_DETERMINISTIC", varchar(3), false], ["SQL_DATA_ACCESS", varchar(17), false],
  ["SQL_PATH", varchar(0)], ["SECURITY_TYPE", varchar(7), false],
  ["CREATED", datetime, false], ["LAST_ALTERED", datetime, false],
  ["SQL_MODE", varchar(520), false], ["ROUTINE_COMMENT", longtext, false],
  ["DEFINER", varchar(288), false], ["CHARACTER_SET_CLIENT", varchar(64), false],
  ["COLLATION_CONNECTION", varchar(64), false], ["DATABASE_COLLATION", varchar(64), false],
]));

tableDefs.push(def("PARTITIONS", [
  ...schemaCols("TABLE"), ["TABLE_NAME", varchar(64), false], ["PARTITION_NAME", varchar(64)],
  ["SUBPARTITION_NAME", varchar(64)], ["PARTITION_ORDINAL_POSITION", uint],
  ["SUBPARTITION_ORDINAL_POSITION", uint], ["PARTITION_METHOD", varchar(13)],
  ["SUBPARTITION_METHOD", varchar(13)], ["PARTITION_EXPRESSION", varchar(2048)],
  ["SUBPARTITION_EXPRESSION", varchar(2048)], ["PARTITION_DESCRIPTION", longtext],
  ["TABLE_ROWS", ubigint], ["AVG_ROW_LENGTH", ubigint], ["DATA_LENGTH", ubigint],
  ["MAX_DATA_LENGTH", ubigint], ["INDEX_LENGTH", ubigint], ["DATA_FREE", ubigint],
  ["CREATE_TIME", datetime, false], ["UPDATE_TIME", datetime], ["CHECK_TIME", datetime],
  ["CHECKSUM", bigint], ["PARTITION_COMMENT", longtext], ["NODEGROUP", varchar(256)],
  ["TABLESPACE_NAME", varchar(268)],
], (ctx) => userTables(ctx).flatMap(({ db, table }) => {
  // One row per partition (MySQL's method, expression and bounds); one of NULLs else.
  const info = table.partition;
  const parts = info === undefined ? [null] : info.definitions;
  return parts.map((d, k) => [s(catalogName), s(db), s(table.name), s(d?.name ?? null), null,
    d === null ? null : u(k + 1), null, s(info === undefined ? null
      : `${info.linear === true ? "LINEAR " : ""}${info.method}`), null,
    s(info === undefined ? null : partitionExpressionText(info)), null,
    s(d === null ? null : partitionDescription(d)), u(0), u(0), u(0), u(0), u(0), u(0),
    null, null, null, null, s(""), null, null]);
})));

tableDefs.push(def("ENGINES", [
  ["ENGINE", varchar(64), false], ["SUPPORT", varchar(8), false],
  ["COMMENT", varchar(80), false], ["TRANSACTIONS", varchar(3)], ["XA", varchar(3)],
  ["SAVEPOINTS", varchar(3)],
], () => engines.map((row) => row.map(s))));

tableDefs.push(def("CHARACTER_SETS", [
  ["CHARACTER_SET_NAME", varchar(64), false], ["DEFAULT_COLLATE_NAME", varchar(64), false],
  ["DESCRIPTION", varchar(2048), false], ["MAXLEN", uint, false],
], () => characterSets.map(([name, collation, description, maxlen]) => [s(name),
  s(collation), s(description), u(maxlen)])));

tableDefs.push(def("COLLATIONS", [
  ["COLLATION_NAME", varchar(64), false], ["CHARACTER_SET_NAME", varchar(64), false],
  ["ID", ubigint, false], ["IS_DEFAULT", varchar(3), false], ["IS_COMPILED", varchar(3), false],
  ["SORTLEN", uint, false], ["PAD_ATTRIBUTE", varchar(9), false],
], () => collations.map(([name, charset, id, isDefault, pad]) => [s(name), s(charset), u(id),
  s(isDefault ? "Yes" : ""), s("Yes"), u(1), s(pad)])));

tableDefs.push(def("PROCESSLIST", [
  ["ID", ubigint, false], ["USER", varchar(32), false], ["HOST", varchar(261), false],
  ["DB", varchar(64)], ["COMMAND", varchar(16), false], ["TIME", int, false],
  ["STATE", varchar(64)], ["INFO", longtext],
], (ctx) => ctx.connections().map((c) => [u(c.connectionId), s(c.user), s(c.host),
  s(c.database ?? null), s(c.command === undefined ? "Sleep" : "Query"), i(0),
  s(c.command === undefined ? "" : "executing"), s(c.command ?? null)])));

tableDefs.push(def("STATEMENTS_SUMMARY", [
  ["STMT_TYPE", varchar(64), false], ["SCHEMA_NAME", varchar(64)],
  ["DIGEST", varchar(64), false], ["DIGEST_TEXT", longtext, false],
  ["SAMPLE_USER", varchar(64)], ["EXEC_COUNT", ubigint, false],
  ["SUM_ERRORS", uint, false], ["SUM_WARNINGS", uint, false],
  ["SUM_LATENCY", ubigint, false], ["MAX_LATENCY", ubigint, false],
  ["MIN_LATENCY", ubigint, false], ["AVG_LATENCY", ubigint, false],
  ["AVG_AFFECTED_ROWS", double, false], ["FIRST_SEEN", datetime, false],
  ["LAST_SEEN", datetime, false], ["QUERY_SAMPLE_TEXT", longtext],
], (ctx) => (ctx.summary?.list() ?? []).map((e) => {
  const ns = (ms: number): Value => u(BigInt(Math.round(ms * 1e6)));
  const at = (ms: number): Value => ({ kind: "datetime", value: civilTime(ms, 0), fsp: 0 });
  return [s(e.stmtType), s(e.schema), s(e.digest), s(e.normalized), s(e.sampleUser),
    u(e.execCount), u(e.sumErrors), u(e.sumWarnings), ns(e.sumLatencyMs), ns(e.maxLatencyMs),
    ns(e.minLatencyMs), ns(e.sumLatencyMs / e.execCount),
    { kind: "double", value: e.sumAffectedRows / e.execCount }, at(e.firstSeenMs),
    at(e.lastSeenMs), s(e.sampleText)];
})));

/** The tables by upper-case name. */
export const infoSchemaTables: ReadonlyMap<string, MemTableDef> =
  new Map(tableDefs.map((t) => [t.name, t]));

function infoSchemaTableNames(): string[] {
  return [...infoSchemaTables.keys()].sort();
}
