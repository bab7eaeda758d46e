/**
 * The catalog's data: databases, tables, columns and indexes as stored (JSON) under the
 * meta prefix, how a `CREATE TABLE` statement becomes a `TableInfo`, and how a table is
 * printed back (`SHOW CREATE TABLE`, `SHOW COLUMNS`).
 *
 * Invariants of a `TableInfo`: column ids and index ids are unique within the table and
 * never reused; `offset` is a column's position in `columns` (and in a decoded row). A
 * table whose primary key is one integer column stores rows under that column's value
 * (`pkHandle` is its offset, the clustered handle); every other table gets a hidden
 * `_tidb_rowid` handle from the auto-id allocator and its primary key (if any) is a
 * unique index named `PRIMARY`. Pure: no I/O.
 */
import { type FieldType, dateTimeType, decimalType, doubleType, intType, stringType }
  from "../../expr/mod.ts";
import type { ColumnDefinition, Expr as AstExpr, TableConstraint } from "../parser/ast.ts";
import { formatExpr } from "../parser/format.ts";
import { ER, mysqlError } from "../mysql_errors.ts";

/** How values of a column are represented. */
export type ColumnKind = "int" | "decimal" | "double" | "string" | "bytes" | "datetime" | "date";

/** A column's declared type. */
export interface ColumnType {
  /** Upper-case SQL name as declared: `INT`, `VARCHAR`, `DECIMAL` … */
  readonly name: string;
  readonly kind: ColumnKind;
  readonly unsigned: boolean;
  /** Character length (strings), precision (DECIMAL), display width (ints), or null. */
  readonly length: number | null;
  /** DECIMAL scale or DATETIME fsp. */
  readonly scale: number;
  /** `_bin` comparisons and index keys (binary strings and explicit `utf8mb4_bin`). */
  readonly binaryCollation: boolean;
}

export interface ColumnInfo {
  readonly id: number;
  readonly name: string;
  readonly offset: number;
  readonly type: ColumnType;
  readonly nullable: boolean;
  /** The DEFAULT as SQL text (`'a'`, `0`, `NULL`), or null when the column has none. */
  readonly defaultText: string | null;
  readonly autoIncrement: boolean;
  /** Online DDL state; absent is `public`. */
  readonly state?: SchemaState;
}

/**
 * F1 online schema-change states of an index or column being added or dropped (absent
 * means `public`). Delete-only: writers delete its entries but add none; write-only:
 * writers maintain it fully but readers ignore it; write-reorg: as write-only while the
 * owner backfills; public: readers use it.
 */
export type SchemaState = "deleteOnly" | "writeOnly" | "writeReorg" | "public";

export interface IndexInfo {
  readonly id: number;
  /** `PRIMARY` for a non-clustered primary key. */
  readonly name: string;
  readonly unique: boolean;
  readonly primary: boolean;
  /** Offsets of the indexed columns, in key order. */
  readonly columns: readonly number[];
  /** Online DDL state; absent is `public`. */
  readonly state?: SchemaState;
}

export interface TableInfo {
  readonly id: number;
  readonly name: string;
  readonly dbId: number;
  readonly columns: readonly ColumnInfo[];
  readonly indexes: readonly IndexInfo[];
  /** Offset of the integer primary key column that is the row handle, or null. */
  readonly pkHandle: number | null;
}

export interface DatabaseInfo {
  readonly id: number;
  readonly name: string;
}

const intRanges: Readonly<Record<string, { readonly bits: number; readonly width: number }>> = {
  TINYINT: { bits: 8, width: 4 }, BOOL: { bits: 8, width: 1 }, BOOLEAN: { bits: 8, width: 1 },
  SMALLINT: { bits: 16, width: 6 }, MEDIUMINT: { bits: 24, width: 9 },
  INT: { bits: 32, width: 11 }, INTEGER: { bits: 32, width: 11 },
  BIGINT: { bits: 64, width: 20 },
};

/** The inclusive range of an integer column type. */
export function intRange(type: ColumnType): { readonly min: bigint; readonly max: bigint } {
  const bits = BigInt(intRanges[type.name]?.bits ?? 64);
  if (type.unsigned) return { min: 0n, max: (1n << bits) - 1n };
  return { min: -(1n << (bits - 1n)), max: (1n << (bits - 1n)) - 1n };
}

function columnType(def: ColumnDefinition): ColumnType {
  const t = def.type;
  const name = t.name === "INTEGER" ? "INT" : t.name === "BOOLEAN" ? "BOOL" : t.name;
  const collate = def.options.find((o) => o.kind === "collate");
  const binaryCollation = t.binary || (t.collate ?? "").toLowerCase().endsWith("_bin") ||
    (collate?.kind === "collate" && collate.collation.toLowerCase().endsWith("_bin"));
  const base = { name, unsigned: t.unsigned, length: t.length, scale: 0, binaryCollation };
  if (intRanges[name] !== undefined) return { ...base, kind: "int", name };
  switch (name) {
    case "DECIMAL":
    case "DEC":
    case "NUMERIC": {
      const precision = t.length ?? 10;
      const scale = t.scale ?? 0;
      if (precision > 65) throw mysqlError(ER.TOO_BIG_PRECISION, [precision, def.name, 65]);
      return { ...base, name: "DECIMAL", kind: "decimal", length: precision, scale };
    }
    case "FLOAT":
    case "DOUBLE":
    case "REAL":
      return { ...base, name: name === "REAL" ? "DOUBLE" : name, kind: "double" };
    case "CHAR":
    case "VARCHAR":
      return { ...base, kind: "string", length: t.length ?? 1 };
    case "TINYTEXT":
    case "TEXT":
    case "MEDIUMTEXT":
    case "LONGTEXT":
      return { ...base, kind: "string", length: null };
    case "BINARY":
    case "VARBINARY":
    case "TINYBLOB":
    case "BLOB":
    case "MEDIUMBLOB":
    case "LONGBLOB":
      return { ...base, kind: "bytes", binaryCollation: true,
        length: name.endsWith("BINARY") ? t.length ?? 1 : null };
    case "DATETIME":
    case "TIMESTAMP":
      return { ...base, kind: "datetime", scale: t.length ?? 0, length: null };
    case "DATE":
      return { ...base, kind: "date", length: null };
    default:
      throw mysqlError(ER.NOT_SUPPORTED_YET, [`column type ${t.name}`]);
  }
}

/** The static type of a column's values, as expressions see it. */
export function fieldTypeOf(column: ColumnInfo): FieldType {
  const nullable = column.nullable;
  const t = column.type;
  switch (t.kind) {
    case "int":
      return intType({ length: t.length ?? intRanges[t.name]?.width ?? 20,
        unsigned: t.unsigned, nullable });
    case "decimal":
      return decimalType(t.length ?? 10, { scale: t.scale, nullable, unsigned: t.unsigned });
    case "double":
      return doubleType({ nullable });
    case "string":
    case "bytes":
      return stringType(t.length ?? 65535, { nullable });
    case "datetime":
      return dateTimeType(t.scale, { nullable });
    case "date":
      return { ...dateTimeType(0, { nullable }), length: 10 };
  }
}

function defaultTextOf(value: AstExpr): string {
  if (value.kind === "null") return "NULL";
  if (value.kind === "string") return `'${value.value.replace(/\\/g, "\\\\").replace(/'/g, "''")}'`;
  return formatExpr(value);
}

/** What `tableInfoOf` needs besides the statement. */
export interface TableIds {
  readonly tableId: number;
  readonly dbId: number;
}

/**
 * The `TableInfo` of `CREATE TABLE name (columns, constraints)`; throws the MySqlError
 * MySQL gives for a malformed definition (1060, 1068, 1072, 1075, 1113, 1061).
 */
export function tableInfoOf(
  name: string,
  statement: { readonly columns: readonly ColumnDefinition[];
    readonly constraints: readonly TableConstraint[] },
  ids: TableIds,
): TableInfo {
  if (statement.columns.length === 0) throw mysqlError(ER.TABLE_MUST_HAVE_COLUMNS);
  const seen = new Set<string>();
  const keys: { name: string | null; kind: "primaryKey" | "unique" | "index";
    columns: string[] }[] = [];
  const columns: ColumnInfo[] = statement.columns.map((def, offset) => {
    const lower = def.name.toLowerCase();
    if (seen.has(lower)) throw mysqlError(ER.DUP_FIELDNAME, [def.name]);
    seen.add(lower);
    let nullable = true;
    let defaultText: string | null = null;
    let autoIncrement = false;
    for (const option of def.options) {
      switch (option.kind) {
        case "notNull":
          nullable = false;
          break;
        case "null":
          nullable = true;
          break;
        case "default":
          defaultText = defaultTextOf(option.value);
          break;
        case "autoIncrement":
          autoIncrement = true;
          break;
        case "primaryKey":
          keys.push({ name: null, kind: "primaryKey", columns: [def.name] });
          break;
        case "unique":
          keys.push({ name: null, kind: "unique", columns: [def.name] });
          break;
        default:
          break;
      }
    }
    return { id: offset + 1, name: def.name, offset, type: columnType(def), nullable,
      defaultText, autoIncrement };
  });
  for (const c of statement.constraints) {
    if (c.kind === "primaryKey" || c.kind === "unique" || c.kind === "index") {
      const names = c.parts.map((p) => {
        if (p.column === null) throw mysqlError(ER.NOT_SUPPORTED_YET, ["functional key parts"]);
        return p.column;
      });
      keys.push({ name: c.name ?? c.constraintName, kind: c.kind, columns: names });
    }
  }
  const offsetOf = (column: string): number => {
    const found = columns.find((c) => c.name.toLowerCase() === column.toLowerCase());
    if (found === undefined) throw mysqlError(ER.KEY_COLUMN_DOES_NOT_EXITS, [column]);
    return found.offset;
  };
  const primaries = keys.filter((k) => k.kind === "primaryKey");
  if (primaries.length > 1) throw mysqlError(ER.MULTIPLE_PRI_KEY);
  let pkHandle: number | null = null;
  const indexes: IndexInfo[] = [];
  const indexNames = new Set<string>();
  for (const key of keys) {
    const offsets = key.columns.map(offsetOf);
    if (key.kind === "primaryKey") {
      // A primary key's columns are NOT NULL, as MySQL makes them.
      for (const o of offsets) columns[o] = { ...columns[o]!, nullable: false };
      const only = offsets.length === 1 ? columns[offsets[0]!]! : undefined;
      if (only !== undefined && only.type.kind === "int") {
        pkHandle = only.offset;
        continue;
      }
    }
    let indexName = key.kind === "primaryKey" ? "PRIMARY"
      : key.name ?? columns[offsets[0]!]!.name;
    if (key.kind !== "primaryKey" && key.name === null) {
      for (let n = 2; indexNames.has(indexName.toLowerCase()); n++) {
        indexName = `${columns[offsets[0]!]!.name}_${n}`;
      }
    }
    if (indexNames.has(indexName.toLowerCase())) throw mysqlError(ER.DUP_KEYNAME, [indexName]);
    indexNames.add(indexName.toLowerCase());
    indexes.push({ id: indexes.length + 1, name: indexName, unique: key.kind !== "index",
      primary: key.kind === "primaryKey", columns: offsets });
  }
  const autos = columns.filter((c) => c.autoIncrement);
  if (autos.length > 1) throw mysqlError(ER.WRONG_AUTO_KEY);
  for (const auto of autos) {
    const keyed = auto.offset === pkHandle || indexes.some((i) => i.columns[0] === auto.offset);
    if (!keyed) throw mysqlError(ER.WRONG_AUTO_KEY);
  }
  return { id: ids.tableId, name, dbId: ids.dbId, columns, indexes, pkHandle };
}

/** The column type as SHOW COLUMNS and SHOW CREATE TABLE print it: `int`, `varchar(20)`. */
export function typeText(type: ColumnType): string {
  const name = type.name.toLowerCase();
  let text: string;
  switch (type.kind) {
    case "int":
      text = name === "bool" ? "tinyint(1)" : name;
      break;
    case "decimal":
      text = `decimal(${type.length ?? 10},${type.scale})`;
      break;
    case "datetime":
      text = type.scale > 0 ? `${name}(${type.scale})` : name;
      break;
    default:
      text = type.length === null ? name : `${name}(${type.length})`;
  }
  return type.unsigned ? `${text} unsigned` : text;
}

/** A backquoted identifier, as SHOW CREATE TABLE always writes them. */
function formatIdent(name: string): string {
  return "`" + name.replaceAll("`", "``") + "`";
}

/** `SHOW CREATE TABLE` text, in MySQL 8's layout. */
export function showCreateTable(table: TableInfo): string {
  const lines = table.columns.map((c) => {
    let line = `  ${formatIdent(c.name)} ${typeText(c.type)}`;
    if (!c.nullable) line += " NOT NULL";
    if (c.autoIncrement) line += " AUTO_INCREMENT";
    else if (c.defaultText !== null) line += ` DEFAULT ${c.defaultText}`;
    else if (c.nullable) line += " DEFAULT NULL";
    return line;
  });
  const cols = (offsets: readonly number[]): string =>
    offsets.map((o) => formatIdent(table.columns[o]!.name)).join(",");
  if (table.pkHandle !== null) lines.push(`  PRIMARY KEY (${cols([table.pkHandle])})`);
  for (const index of table.indexes) {
    if (index.primary) lines.push(`  PRIMARY KEY (${cols(index.columns)})`);
    else {
      lines.push(`  ${index.unique ? "UNIQUE KEY" : "KEY"} ${formatIdent(index.name)} ` +
        `(${cols(index.columns)})`);
    }
  }
  return `CREATE TABLE ${formatIdent(table.name)} (\n${lines.join(",\n")}\n) ` +
    "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci";
}

/** The `Key` column of SHOW COLUMNS for a column. */
export function columnKeyText(table: TableInfo, offset: number): string {
  if (table.pkHandle === offset) return "PRI";
  const first = table.indexes.filter((i) => i.columns[0] === offset);
  if (first.some((i) => i.primary)) return "PRI";
  if (first.some((i) => i.unique && i.columns.length === 1)) return "UNI";
  return first.length > 0 ? "MUL" : "";
}
