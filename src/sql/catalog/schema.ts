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
import { type FieldType, TypeCode, dateTimeType, decimalType, doubleType, intType,
  stringType }
  from "../../expr/mod.ts";
import type { ColumnDefinition, Expr as AstExpr, PartitionOptions, TableConstraint,
  TableOption } from "../parser/ast.ts";
import { type PartitionInfo, partitionInfoOf, showPartitionText } from "./partition.ts";
import { formatExpr } from "../parser/format.ts";
import { ER, mysqlError } from "../mysql_errors.ts";
import { currentTimestampText, membersText, typedColumnType, typedFieldType }
  from "./column_types.ts";
import { type AutoRandomSpec, autoRandomOf, autoRandomText, checkAutoRandom, shardOptionsOf,
  shardOptionsText } from "./auto_random.ts";

/** How values of a column are represented. */
export type ColumnKind = "int" | "decimal" | "double" | "string" | "bytes" | "datetime" | "date"
  | "timestamp" | "time" | "year" | "enum" | "set" | "json" | "bit";

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
  /** ENUM and SET members, as declared. */
  readonly members?: readonly string[];
}

export interface ColumnInfo {
  readonly id: number;
  readonly name: string;
  readonly offset: number;
  readonly type: ColumnType;
  readonly nullable: boolean;
  /** The DEFAULT as SQL text (`'a'`, `0`, `NULL`), or null when the column has none. */
  readonly defaultText: string | null;
  /**
   * A TIMESTAMP's constant DEFAULT is kept in UTC (`defaultText` is its UTC text; see
   * src/sql/table/timestamp_default.ts); absent: as written.
   */
  readonly defaultUtc?: boolean;
  readonly autoIncrement: boolean;
  /** TiDB's AUTO_RANDOM on a BIGINT clustered primary key (auto_random.ts); absent: none. */
  readonly autoRandom?: AutoRandomSpec;
  /** `ON UPDATE CURRENT_TIMESTAMP`: an UPDATE that changes the row sets it to now. */
  readonly onUpdateNow?: boolean;
  /** Online DDL state; absent is `public`. */
  readonly state?: SchemaState;
  /**
   * What rows written before the column existed read as (ADD COLUMN's default, kept
   * even when the DEFAULT later changes): the row codec's bytes of that one value, hex
   * (`encodeOriginDefault`). Absent: NULL.
   */
  readonly originDefault?: string;
}

/**
 * F1 online schema-change states of an index or column being added or dropped (absent
 * means `public`). Delete-only: writers delete its entries but add none; write-only:
 * writers maintain it fully but readers ignore it; write-reorg: as write-only while the
 * owner backfills; public: readers use it.
 */
export type SchemaState = "deleteOnly" | "writeOnly" | "writeReorg" | "public";

/**
 * Whether a column, index or constraint is public: not being added or dropped by online
 * DDL (absent state is public), so statements may name and read it.
 */
export function isPublic(item: { readonly state?: string }): boolean {
  return item.state === undefined || item.state === "public";
}

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
  /**
   * The largest column / index id ever used (ids of dropped ones are never reused, so
   * stale row values and index entries cannot be read as a new column or index); absent
   * means the largest id present.
   */
  readonly maxColumnId?: number;
  readonly maxIndexId?: number;
  /** CHECK constraints (absent: none); see src/sql/exec/write_checks.ts. */
  readonly checks?: readonly CheckInfo[];
  /** Foreign keys of this table as the child (absent: none); see write_fk.ts. */
  readonly foreignKeys?: readonly ForeignKeyInfo[];
  /** TiDB's SHARD_ROW_ID_BITS / PRE_SPLIT_REGIONS (auto_random.ts); absent: 0. */
  readonly shardRowIdBits?: number;
  readonly preSplitRegions?: number;
  /** PARTITION BY: how rows are spread over partitions (partition.ts); absent: none. */
  readonly partition?: PartitionInfo;
  /** ALTER TABLE … PARTITION BY / REMOVE PARTITIONING is moving its rows: no writes. */
  readonly partitionReorg?: boolean;
}

/** A CHECK constraint: `CONSTRAINT name CHECK (expr) [NOT] ENFORCED`. */
export interface CheckInfo {
  readonly name: string;
  /** The expression as SQL text, parsed again when rows are checked. */
  readonly exprText: string;
  readonly enforced: boolean;
  /** Online DDL (ALTER TABLE ADD CHECK): write-only while rows are checked; absent: public. */
  readonly state?: SchemaState;
}

/** What a foreign key does to child rows when their parent row is deleted or updated. */
export type ForeignKeyAction = "RESTRICT" | "CASCADE" | "SET NULL" | "NO ACTION" | "SET DEFAULT";

/** `CONSTRAINT name FOREIGN KEY (columns) REFERENCES refTable (refColumns) ON …`. */
export interface ForeignKeyInfo {
  readonly name: string;
  /** Offsets of the child's columns, in key order. */
  readonly columns: readonly number[];
  /** The parent's database; null: the child's own. */
  readonly refDb: string | null;
  readonly refTable: string;
  readonly refColumns: readonly string[];
  /** Null when not given (MySQL's default, NO ACTION, which acts as RESTRICT). */
  readonly onDelete: ForeignKeyAction | null;
  readonly onUpdate: ForeignKeyAction | null;
  /** Online DDL (ALTER TABLE ADD FOREIGN KEY): write-only while rows are checked. */
  readonly state?: SchemaState;
}

/** A view: its SELECT as SQL text, planned where the view is used (in database `dbId`). */
export interface ViewInfo {
  readonly id: number;
  readonly name: string;
  readonly dbId: number;
  /** The column names given at CREATE VIEW v (a, b), or null for the SELECT's own. */
  readonly columns: readonly string[] | null;
  /** The SELECT, as the printer writes it. */
  readonly definition: string;
  readonly checkOption: "CASCADED" | "LOCAL" | null;
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

/** The wire type code of an integer column by its bits (INT is Long, as in MySQL). */
const intCodes: Readonly<Record<number, TypeCode>> = {
  8: TypeCode.Tiny, 16: TypeCode.Short, 24: TypeCode.Int24, 32: TypeCode.Long,
  64: TypeCode.LongLong,
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
      return { ...base, kind: "datetime", scale: t.length ?? 0, length: null };
    case "DATE":
      return { ...base, kind: "date", length: null };
    case "TIMESTAMP":
    case "TIME":
    case "YEAR":
    case "ENUM":
    case "SET":
    case "JSON":
    case "BIT":
      return typedColumnType(t, base, def.name);
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
        unsigned: t.unsigned, nullable,
        code: intCodes[intRanges[t.name]?.bits ?? 64] ?? TypeCode.LongLong });
    case "decimal":
      return decimalType(t.length ?? 10, { scale: t.scale, nullable, unsigned: t.unsigned });
    case "double":
      return doubleType({ nullable });
    case "string":
    case "bytes":
      // A column's collation is IMPLICIT (2): binary strings `binary`, `_bin` ones utf8mb4_bin.
      return { ...stringType(t.length ?? 65535, { nullable }), coercibility: 2,
        collation: t.kind === "bytes" ? "binary" : t.binaryCollation ? "utf8mb4_bin"
          : "utf8mb4_general_ci" };
    case "datetime":
      return dateTimeType(t.scale, { nullable });
    default:
      return typedFieldType(t, nullable);
  }
}

/** A DEFAULT expression as the SQL text `ColumnInfo.defaultText` keeps. */
export function defaultTextOf(value: AstExpr): string {
  if (value.kind === "null") return "NULL";
  const now = currentTimestampText(value);
  if (now !== null) return now;
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
    readonly constraints: readonly TableConstraint[];
    readonly options?: readonly TableOption[];
    readonly partition?: PartitionOptions },
  ids: TableIds,
): TableInfo {
  if (statement.columns.length === 0) throw mysqlError(ER.TABLE_MUST_HAVE_COLUMNS);
  const seen = new Set<string>();
  const keys: { name: string | null; kind: "primaryKey" | "unique" | "index";
    columns: string[] }[] = [];
  const checkDefs: { name: string | null; expr: AstExpr; enforced: boolean }[] = [];
  const columns: ColumnInfo[] = statement.columns.map((def, offset) => {
    const lower = def.name.toLowerCase();
    if (seen.has(lower)) throw mysqlError(ER.DUP_FIELDNAME, [def.name]);
    seen.add(lower);
    let nullable = true;
    let defaultText: string | null = null;
    let autoIncrement = false;
    let onUpdateNow = false;
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
        case "onUpdate":
          if (currentTimestampText(option.value) === null) {
            throw mysqlError(ER.NOT_SUPPORTED_YET, ["ON UPDATE other than CURRENT_TIMESTAMP"]);
          }
          onUpdateNow = true;
          break;
        case "primaryKey":
          keys.push({ name: null, kind: "primaryKey", columns: [def.name] });
          break;
        case "unique":
          keys.push({ name: null, kind: "unique", columns: [def.name] });
          break;
        case "check":
          checkDefs.push({ name: option.name, expr: option.expr, enforced: true });
          break;
        default:
          break;
      }
    }
    const autoRandom = autoRandomOf(def);
    return { id: offset + 1, name: def.name, offset, type: columnType(def), nullable,
      defaultText, autoIncrement, ...(onUpdateNow ? { onUpdateNow } : {}),
      ...(autoRandom === undefined ? {} : { autoRandom }) };
  });
  for (const c of statement.constraints) {
    if (c.kind === "primaryKey" || c.kind === "unique" || c.kind === "index") {
      const names = c.parts.map((p) => {
        if (p.column === null) throw mysqlError(ER.NOT_SUPPORTED_YET, ["functional key parts"]);
        return p.column;
      });
      keys.push({ name: c.name ?? c.constraintName, kind: c.kind, columns: names });
    } else if (c.kind === "check") {
      checkDefs.push({ name: c.constraintName, expr: c.expr, enforced: c.enforced ?? true });
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
  const constraints = constraintsOf(name, { statement, columns, indexes, pkHandle, checkDefs });
  const table: TableInfo = { id: ids.tableId, name, dbId: ids.dbId, columns, indexes, pkHandle,
    ...constraints };
  checkAutoRandom(table);
  const partition = statement.partition === undefined ? undefined
    : partitionInfoOf(statement.partition, { columns, indexes, pkHandle,
      hasForeignKeys: (constraints.foreignKeys ?? []).length > 0 });
  return { ...table, ...shardOptionsOf(statement.options ?? [], table),
    ...(partition === undefined ? {} : { partition }) };
}

/** The column type as SHOW COLUMNS and SHOW CREATE TABLE print it: `int`, `varchar(20)`. */
export function typeText(type: ColumnType): string {
  const name = type.name.toLowerCase();
  let text: string;
  switch (type.kind) {
    case "int":
      // MySQL 8 shows no display width, except TINYINT(1) (what BOOL is).
      text = name === "bool" || (name === "tinyint" && type.length === 1) ? "tinyint(1)" : name;
      break;
    case "decimal":
      text = `decimal(${type.length ?? 10},${type.scale})`;
      break;
    case "datetime":
    case "timestamp":
    case "time":
      text = type.scale > 0 ? `${name}(${type.scale})` : name;
      break;
    case "date":
    case "year":
    case "json":
      text = name;
      break;
    case "bit":
      text = `bit(${type.length ?? 1})`;
      break;
    case "enum":
    case "set":
      text = `${name}(${membersText(type.members ?? [])})`;
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
  // Columns and indexes an online DDL is still adding (or already dropping) are not shown.
  const lines = table.columns.filter((c) => (c.state ?? "public") === "public").map((c) => {
    let line = `  ${formatIdent(c.name)} ${typeText(c.type)}`;
    if (!c.nullable) line += " NOT NULL";
    else if (c.type.kind === "timestamp") line += " NULL";
    if (c.autoRandom !== undefined) line += ` ${autoRandomText(c.autoRandom)}`;
    if (c.autoIncrement) line += " AUTO_INCREMENT";
    else if (c.defaultText !== null) line += ` DEFAULT ${c.defaultText}`;
    else if (c.nullable) line += " DEFAULT NULL";
    if (c.onUpdateNow === true) {
      line += ` ON UPDATE CURRENT_TIMESTAMP${c.type.scale > 0 ? `(${c.type.scale})` : ""}`;
    }
    return line;
  });
  const cols = (offsets: readonly number[]): string =>
    offsets.map((o) => formatIdent(table.columns[o]!.name)).join(",");
  if (table.pkHandle !== null) lines.push(`  PRIMARY KEY (${cols([table.pkHandle])})`);
  for (const index of table.indexes) {
    if ((index.state ?? "public") !== "public") continue;
    if (index.primary) lines.push(`  PRIMARY KEY (${cols(index.columns)})`);
    else {
      lines.push(`  ${index.unique ? "UNIQUE KEY" : "KEY"} ${formatIdent(index.name)} ` +
        `(${cols(index.columns)})`);
    }
  }
  // MySQL 8 lists constraints by name.
  const byName = (a: { name: string }, b: { name: string }): number =>
    (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  const isPublic = (item: { readonly state?: SchemaState }): boolean =>
    (item.state ?? "public") === "public";
  for (const fk of [...table.foreignKeys ?? []].filter(isPublic).sort(byName)) {
    const parent = (fk.refDb === null ? "" : `${formatIdent(fk.refDb)}.`) +
      formatIdent(fk.refTable);
    let line = `  CONSTRAINT ${formatIdent(fk.name)} FOREIGN KEY (${cols(fk.columns)}) ` +
      `REFERENCES ${parent} (${fk.refColumns.map(formatIdent).join(",")})`;
    if (fk.onDelete !== null && fk.onDelete !== "NO ACTION") line += ` ON DELETE ${fk.onDelete}`;
    if (fk.onUpdate !== null && fk.onUpdate !== "NO ACTION") line += ` ON UPDATE ${fk.onUpdate}`;
    lines.push(line);
  }
  for (const check of [...table.checks ?? []].filter(isPublic).sort(byName)) {
    lines.push(`  CONSTRAINT ${formatIdent(check.name)} CHECK ((${check.exprText}))` +
      (check.enforced ? "" : " /*!80016 NOT ENFORCED */"));
  }
  return `CREATE TABLE ${formatIdent(table.name)} (\n${lines.join(",\n")}\n) ` +
    "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci" +
    shardOptionsText(table) +
    (table.partition === undefined ? "" : showPartitionText(table.partition));
}

/** The `Key` column of SHOW COLUMNS for a column. */
export function columnKeyText(table: TableInfo, offset: number): string {
  if (table.pkHandle === offset) return "PRI";
  // Every column of a multiple-column primary key is PRI, as MySQL shows it.
  if (table.indexes.some((i) => i.primary && i.columns.includes(offset))) return "PRI";
  const first = table.indexes.filter((i) => i.columns[0] === offset);
  if (first.some((i) => i.unique && i.columns.length === 1)) return "UNI";
  return first.length > 0 ? "MUL" : "";
}

const fkActions: ReadonlySet<string> = new Set(["RESTRICT", "CASCADE", "SET NULL", "NO ACTION",
  "SET DEFAULT"]);

/** The action of `ON DELETE text` / `ON UPDATE text` (null: none given). */
export function fkAction(text: string | null): ForeignKeyAction | null {
  if (text === null) return null;
  const upper = text.toUpperCase().replace(/\s+/g, " ");
  if (!fkActions.has(upper)) throw mysqlError(ER.NOT_SUPPORTED_YET, [`ON ${text}`]);
  return upper as ForeignKeyAction;
}

/** The column names an expression (AST) refers to, appended to `out`. */
export function columnNamesIn(node: unknown, out: string[]): string[] {
  if (node === null || typeof node !== "object") return out;
  const e = node as { kind?: unknown; column?: unknown };
  if (e.kind === "column" && typeof e.column === "string") out.push(e.column);
  else for (const v of Object.values(node)) columnNamesIn(v, out);
  return out;
}

/**
 * The CHECK constraints and foreign keys of a CREATE TABLE, named as MySQL 8 names them
 * (`t_chk_1`, `t_ibfk_1`); a foreign key whose columns no index starts with gets one
 * (pushed onto `indexes`), as InnoDB adds it. Inline `REFERENCES` on a column is parsed
 * and ignored, as MySQL does. Errors: 3820, 3822, 1830, 1072.
 */
function constraintsOf(table: string, parts: {
  readonly statement: { readonly constraints: readonly TableConstraint[] };
  readonly columns: readonly ColumnInfo[];
  readonly indexes: IndexInfo[];
  readonly pkHandle: number | null;
  readonly checkDefs: readonly { name: string | null; expr: AstExpr; enforced: boolean }[];
}): { checks?: CheckInfo[]; foreignKeys?: ForeignKeyInfo[] } {
  const { columns, indexes } = parts;
  const find = (name: string): ColumnInfo | undefined =>
    columns.find((c) => c.name.toLowerCase() === name.toLowerCase());
  const checks: CheckInfo[] = [];
  let generated = 0;
  for (const def of parts.checkDefs) {
    const checkName = def.name ?? `${table}_chk_${++generated}`;
    if (checks.some((c) => c.name.toLowerCase() === checkName.toLowerCase())) {
      throw mysqlError(ER.CHECK_CONSTRAINT_DUP_NAME, [checkName]);
    }
    for (const column of columnNamesIn(def.expr, [])) {
      if (find(column) === undefined) {
        throw mysqlError(ER.CHECK_CONSTRAINT_REFERS_UNKNOWN_COLUMN, [checkName, column]);
      }
    }
    checks.push({ name: checkName, exprText: formatExpr(def.expr), enforced: def.enforced });
  }
  const foreignKeys: ForeignKeyInfo[] = [];
  generated = 0;
  for (const c of parts.statement.constraints) {
    if (c.kind !== "foreignKey") continue;
    const fkName = c.constraintName ?? `${table}_ibfk_${++generated}`;
    if (foreignKeys.some((f) => f.name.toLowerCase() === fkName.toLowerCase())) {
      throw mysqlError(ER.DUP_KEYNAME, [fkName]);
    }
    const offsets = c.columns.map((name) => {
      const column = find(name);
      if (column === undefined) throw mysqlError(ER.KEY_COLUMN_DOES_NOT_EXITS, [name]);
      return column.offset;
    });
    const onDelete = fkAction(c.references.onDelete);
    const onUpdate = fkAction(c.references.onUpdate);
    if (onDelete === "SET NULL" || onUpdate === "SET NULL") {
      const notNull = offsets.map((o) => columns[o]!).find((col) => !col.nullable);
      if (notNull !== undefined) {
        throw mysqlError(ER.FK_COLUMN_CANNOT_BE_NULL, [notNull.name, fkName]);
      }
    }
    foreignKeys.push({ name: fkName, columns: offsets, refDb: c.references.table.db,
      refTable: c.references.table.name, refColumns: c.references.columns, onDelete, onUpdate });
    const covered = (parts.pkHandle !== null && offsets.length === 1 &&
      offsets[0] === parts.pkHandle) || indexes.some((i) =>
      offsets.every((o, k) => i.columns[k] === o));
    if (!covered) {
      let indexName = c.constraintName ?? c.name ?? columns[offsets[0]!]!.name;
      const taken = (n: string): boolean =>
        indexes.some((i) => i.name.toLowerCase() === n.toLowerCase());
      for (let n = 2; taken(indexName); n++) indexName = `${columns[offsets[0]!]!.name}_${n}`;
      indexes.push({ id: Math.max(0, ...indexes.map((i) => i.id)) + 1, name: indexName,
        unique: false, primary: false, columns: offsets });
    }
  }
  return { ...(checks.length > 0 ? { checks } : {}),
    ...(foreignKeys.length > 0 ? { foreignKeys } : {}) };
}
