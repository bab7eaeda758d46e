/**
 * The column types with their own value rules beyond numbers and strings — TIMESTAMP,
 * TIME, YEAR, BIT, ENUM, SET, JSON, and DATE's result type — as `CREATE TABLE` declares them
 * and as result columns describe them to clients (MySQL's type codes: DATE 10,
 * TIMESTAMP 7, TIME 11, YEAR 13, BIT 16, ENUM and SET as STRING 254, JSON 245). How values are
 * converted into them is src/sql/table/typed_store.ts. Pure: no I/O.
 */
import { type FieldType, TypeCode, dateTimeType, intType, stringType }
  from "../../expr/mod.ts";
import type { DataType, Expr as AstExpr } from "../parser/ast.ts";
import { ER, mysqlError } from "../mysql_errors.ts";
import type { ColumnType } from "./schema.ts";

/** Largest fractional-second digits of TIME, DATETIME and TIMESTAMP. */
const fspMax = 6;
/** Largest BIT(n). */
const bitMax = 64;

/** The `ColumnType` of a TIMESTAMP, TIME, YEAR, ENUM, SET or JSON column `column`. */
export function typedColumnType(t: DataType, base: Omit<ColumnType, "kind">,
  column: string): ColumnType {
  switch (t.name) {
    case "TIMESTAMP":
    case "TIME": {
      const fsp = t.length ?? 0;
      if (fsp > fspMax) throw mysqlError(ER.TOO_BIG_PRECISION, [fsp, column, fspMax]);
      return { ...base, kind: t.name === "TIME" ? "time" : "timestamp", scale: fsp,
        length: null };
    }
    case "YEAR":
      return { ...base, kind: "year", length: null, unsigned: false };
    case "BIT": {
      const bits = t.length ?? 1;
      if (bits < 1 || bits > bitMax) throw mysqlError(ER.TOO_BIG_DISPLAYWIDTH, [column, bitMax]);
      return { ...base, kind: "bit", length: bits, unsigned: false };
    }
    case "ENUM":
    case "SET":
      return { ...base, kind: t.name === "ENUM" ? "enum" : "set", length: null,
        members: t.values };
    default:
      return { ...base, kind: "json", length: null };
  }
}

/** The result type of a DATE, TIMESTAMP, TIME, YEAR, ENUM, SET or JSON column. */
export function typedFieldType(t: ColumnType, nullable: boolean): FieldType {
  switch (t.kind) {
    case "date":
      return { ...dateTimeType(0, { nullable }), code: TypeCode.Date, length: 10 };
    case "timestamp":
      return { ...dateTimeType(t.scale, { nullable }), code: TypeCode.Timestamp };
    case "time":
      return { ...stringType(0, { nullable }), code: TypeCode.Time,
        length: t.scale > 0 ? 11 + t.scale : 10, decimals: t.scale };
    case "year":
      return { ...intType({ length: 4, unsigned: true, nullable }), code: TypeCode.Year };
    case "bit":
      return { ...intType({ length: t.length ?? 1, unsigned: true, nullable }),
        code: TypeCode.Bit };
    case "enum":
    case "set": {
      const members = t.members ?? [];
      const chars = t.kind === "enum" ? Math.max(0, ...members.map((m) => [...m].length))
        : members.reduce((n, m) => n + [...m].length, 0) + Math.max(members.length - 1, 0);
      return { ...stringType(chars, { nullable }), code: TypeCode.String };
    }
    default:
      return { ...stringType(1_073_741_823, { nullable }), code: TypeCode.Json };
  }
}

/** An ENUM or SET member list as SHOW CREATE TABLE prints it: `'a','b'`. */
export function membersText(members: readonly string[]): string {
  return members.map((m) => `'${m.replace(/\\/g, "\\\\").replace(/'/g, "''")}'`).join(",");
}

const nowNames: ReadonlySet<string> = new Set(["current_timestamp", "now", "localtime",
  "localtimestamp"]);

/**
 * `CURRENT_TIMESTAMP` or `CURRENT_TIMESTAMP(n)` when `value` is a call of it (or of NOW,
 * LOCALTIME, LOCALTIMESTAMP), as SHOW CREATE TABLE prints such a DEFAULT; else null.
 */
export function currentTimestampText(value: AstExpr): string | null {
  if (value.kind !== "func" || !nowNames.has(value.name.toLowerCase())) return null;
  const arg = value.args[0];
  if (arg === undefined) return "CURRENT_TIMESTAMP";
  return arg.kind === "int" ? `CURRENT_TIMESTAMP(${arg.text})` : null;
}
