/**
 * Translation of parser expressions (`ast.ts`) into evaluator expressions (`expr`), and
 * of evaluated values into wire values and column definitions.
 *
 * The translation resolves everything the evaluator must not know about: bound
 * parameters, user variables and system variables become typed constants (a statement
 * sees the values they had when it started), column references go through the caller's
 * resolver (no tables exist yet, so outside SHOW … WHERE every column is unknown), and
 * constructs the evaluator does not have yet become MySQL's "doesn't yet support" error
 * rather than a wrong answer. Errors are thrown as `MySqlError` with MySQL's numbers.
 */
import {
  type BuildOptions,
  type BuildResult,
  type CastTarget,
  type Expr,
  type FieldType,
  type Value,
  boolLiteral,
  buildCall,
  buildCast,
  builtinName,
  columnRef,
  decimalLiteral,
  doubleLiteral,
  fieldFlags,
  formatScaled,
  integerLiteral,
  nullLiteral,
  parseDateTimeText,
  parseTimeText,
  stringLiteral,
  valueConstant,
} from "../../expr/mod.ts";
import type { Expr as AstExpr, BinaryOp, DataType } from "../parser/ast.ts";
import { ER, mysqlError } from "../mysql_errors.ts";
import { type TableInfo, fieldTypeOf, isPublic } from "../catalog/schema.ts";
import { Collation, MySqlType } from "../wire/constants.ts";
import type { ColumnDef, SqlValue } from "../wire/session.ts";
import { translateDateSyntax } from "./to_expr_dates.ts";
import { binaryExpr, binaryLiteral, collateExpr, collationMixError, connectionLiteral,
  convertedExpr, systemVariableExpr, userVariableExpr } from "./to_expr_collation.ts";

/** What a translation may resolve names against. */
export interface TranslateScope {
  readonly options: BuildOptions;
  /** Where the expression stands, for 1054 messages: `field list`, `where clause` … */
  readonly clause: string;
  /** Values of `?` placeholders; null when preparing (placeholders read as NULL). */
  readonly params: readonly Expr[] | null;
  /** The current database, for 1305 / 1046 on unknown functions. */
  readonly database: string | null;
  userVariable(name: string): Expr;
  /** Throws the MySqlError of an unknown or misused variable. */
  systemVariable(name: string, scope: "GLOBAL" | "SESSION" | null): Expr;
  /**
   * Resolves a column reference (`table` is its qualifier, null when unqualified);
   * undefined means unknown (1054).
   */
  column?(name: string, table: string | null): Expr | undefined;
}

/** Functions MySQL has that need an executor with grouping. */
const aggregates = new Set([
  "count", "sum", "avg", "min", "max", "bit_and", "bit_or", "bit_xor", "std", "stddev",
  "stddev_pop", "stddev_samp", "var_pop", "var_samp", "variance", "json_arrayagg",
  "json_objectagg", "any_value",
]);

/**
 * `(a, b) [NOT] IN ((x, y), …)` as MySQL defines it: `(a = x AND b = y) OR …` (NULLs
 * propagate as in that expansion); 1241 when a row's arity differs.
 */
function rowInAsConditions(items: readonly AstExpr[], list: readonly AstExpr[], not: boolean):
  AstExpr {
  const join = (op: "AND" | "OR", parts: AstExpr[]): AstExpr =>
    parts.reduce((left, right) => ({ kind: "binary", op, left, right }));
  const disjuncts = list.map((row): AstExpr => {
    if (row.kind !== "row" || row.items.length !== items.length) {
      throw mysqlError(ER.OPERAND_COLUMNS, [items.length]);
    }
    return join("AND", items.map((item, k): AstExpr =>
      ({ kind: "binary", op: "=", left: item, right: row.items[k]! })));
  });
  const any = join("OR", disjuncts);
  return not ? { kind: "unary", op: "NOT", operand: any } : any;
}

/** Comparisons that take rows on both sides: `(a, b) < (x, y)`. */
export const rowComparisonOps: ReadonlySet<BinaryOp> =
  new Set<BinaryOp>(["=", "<>", "<=>", "<", "<=", ">", ">="]);

/**
 * `(a, b) op (x, y)` as MySQL defines it, item by item (nested rows too): `=` and `<=>`
 * are the items' comparisons ANDed; `<>` is NOT of `=`; `<`, `<=`, `>`, `>=` are
 * lexicographic: `(a, b) < (x, y)` is `a < x OR (a = x AND b < y)`, so the first pair
 * that differs decides and a NULL before it makes the result NULL. 1241 when the two
 * sides have different numbers of items (a scalar counts as one).
 */
export function rowComparison(op: BinaryOp, left: AstExpr, right: AstExpr): AstExpr {
  const l = left.kind === "row" ? left.items : [left];
  const r = right.kind === "row" ? right.items : [right];
  if (l.length !== r.length) throw mysqlError(ER.OPERAND_COLUMNS, [l.length]);
  const pair = (pairOp: BinaryOp, a: AstExpr, b: AstExpr): AstExpr =>
    a.kind === "row" || b.kind === "row" ? rowComparison(pairOp, a, b)
      : { kind: "binary", op: pairOp, left: a, right: b };
  const and = (a: AstExpr, b: AstExpr): AstExpr =>
    ({ kind: "binary", op: "AND", left: a, right: b });
  const all = (pairOp: BinaryOp): AstExpr =>
    l.map((a, i) => pair(pairOp, a, r[i]!)).reduce(and);
  switch (op) {
    case "=":
    case "<=>":
      return all(op);
    case "<>":
      return { kind: "unary", op: "NOT", operand: all("=") };
    default: {
      const strict: BinaryOp = op === "<" || op === "<=" ? "<" : ">";
      let acc = pair(op, l[l.length - 1]!, r[r.length - 1]!);
      for (let i = l.length - 2; i >= 0; i--) {
        acc = { kind: "binary", op: "OR", left: pair(strict, l[i]!, r[i]!),
          right: and(pair("=", l[i]!, r[i]!), acc) };
      }
      return acc;
    }
  }
}

/** The session's `collation_connection` (string literals' collation); null if unknown. */
function connectionCollation(scope: TranslateScope): string | null {
  try {
    const e = scope.systemVariable("collation_connection", null);
    return e.kind === "constant" && e.value?.kind === "string" ? e.value.value : null;
  } catch {
    return null;
  }
}

function unsupported(what: string): never {
  throw mysqlError(ER.NOT_SUPPORTED_YET, [what]);
}

function built(result: BuildResult, scope: TranslateScope): Expr {
  if (result.kind === "ok") return result.expr;
  const reason = result.reason;
  switch (reason.kind) {
    case "argumentCount":
      throw mysqlError(ER.WRONG_PARAMCOUNT_TO_NATIVE_FCT, [reason.name]);
    case "unsupported":
      return unsupported(reason.what);
    case "collationMix":
      throw collationMixError(reason);
    case "unknownFunction":
      if (scope.database === null) throw mysqlError(ER.NO_DB_ERROR);
      throw mysqlError(ER.SP_DOES_NOT_EXIST, ["FUNCTION", `${scope.database}.${reason.name}`]);
  }
}

function call(name: string, args: readonly Expr[], scope: TranslateScope): Expr {
  return built(buildCall(name, args, scope.options), scope);
}

const binaryNames: Partial<Record<BinaryOp, string>> = {
  OR: "or", XOR: "xor", AND: "and", "=": "=", "<=>": "<=>", ">=": ">=", ">": ">", "<=": "<=",
  "<": "<", "<>": "<>", "+": "+", "-": "-", "*": "*", "/": "/", DIV: "div", "%": "%",
  "|": "|", "&": "&", "^": "^", "<<": "<<", ">>": ">>",
};

function hexString(digits: string): Expr {
  const bytes = new Uint8Array(digits.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(digits.slice(2 * i, 2 * i + 2), 16);
  try {
    return stringLiteral(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    // Not UTF-8: binary strings arrive with the storage layer's byte-string support.
    return unsupported("binary string literals that are not UTF-8");
  }
}

function castTarget(type: DataType): CastTarget {
  switch (type.name) {
    case "SIGNED":
    case "INT":
    case "INTEGER":
    case "BIGINT":
      return { kind: type.unsigned ? "unsigned" : "signed" };
    case "UNSIGNED":
      return { kind: "unsigned" };
    case "DECIMAL":
    case "DEC":
    case "NUMERIC":
      return { kind: "decimal", precision: type.length ?? 10, scale: type.scale ?? 0 };
    case "CHAR":
    case "NCHAR":
    case "VARCHAR":
      return { kind: "char", length: type.length };
    case "DOUBLE":
    case "REAL":
    case "FLOAT":
      return { kind: "double" };
    case "DATE":
      return { kind: "date" };
    case "JSON":
      return { kind: "json" };
    case "DATETIME":
    case "TIME":
      if ((type.length ?? 0) > 6) throw mysqlError(ER.TOO_BIG_PRECISION, [type.length ?? 0,
        "CAST", 6]);
      return { kind: type.name === "TIME" ? "time" : "datetime", fsp: type.length ?? 0 };
    default:
      return unsupported(`CAST AS ${type.name}`);
  }
}

/**
 * `scope` resolving the public columns of `table` (qualified by `qualifier`, any case) to
 * `column` nodes at their offsets in its rows. A column an online DDL is adding or
 * dropping is not a statement's to name.
 */
export function tableRowScope(scope: TranslateScope, table: TableInfo, qualifier: string):
  TranslateScope {
  return {
    ...scope,
    column: (name, table_) => {
      if (table_ !== null && table_.toLowerCase() !== qualifier.toLowerCase()) return undefined;
      const column = table.columns.find((c) => isPublic(c) &&
        c.name.toLowerCase() === name.toLowerCase());
      return column === undefined ? undefined
        : columnRef(column.offset, column.name, fieldTypeOf(column));
    },
  };
}

/** Translates `ast`; throws `MySqlError` for what cannot be evaluated. */
export function translate(ast: AstExpr, scope: TranslateScope): Expr {
  const t = (e: AstExpr): Expr => translate(e, scope);
  const dates = translateDateSyntax(ast, t, (name, args) => call(name, args, scope),
    () => scope.systemVariable("default_week_format", null));
  if (dates !== undefined) return dates;
  switch (ast.kind) {
    case "null":
      return nullLiteral();
    case "bool":
      return boolLiteral(ast.value);
    case "int":
      return integerLiteral(ast.text);
    case "decimal":
      return decimalLiteral(ast.text);
    case "float":
      return doubleLiteral(ast.text);
    case "string":
      return ast.charset === "binary" ? binaryLiteral(stringLiteral(ast.value))
        : ast.charset === null ? connectionLiteral(stringLiteral(ast.value),
          connectionCollation(scope)) : stringLiteral(ast.value);
    case "hex":
      return ast.charset === null || ast.charset === "binary"
        ? binaryLiteral(hexString(ast.digits)) : hexString(ast.digits);
    case "bit":
      return integerLiteral(BigInt(`0b${ast.digits === "" ? "0" : ast.digits}`).toString());
    case "param":
      return scope.params === null ? nullLiteral() : scope.params[ast.index] ?? nullLiteral();
    case "column": {
      const name = [ast.db, ast.table, ast.column].filter((p) => p !== null).join(".");
      const resolved = ast.db === null ? scope.column?.(ast.column, ast.table) : undefined;
      if (resolved === undefined) throw mysqlError(ER.BAD_FIELD_ERROR, [name, scope.clause]);
      return resolved;
    }
    case "star":
      throw mysqlError(ER.NO_TABLES_USED);
    case "userVar":
      return userVariableExpr(scope.userVariable(ast.name));
    case "sysVar":
      return systemVariableExpr(scope.systemVariable(ast.name, ast.scope));
    case "unary":
      switch (ast.op) {
        case "-":
          return call("neg", [t(ast.operand)], scope);
        case "+":
          return t(ast.operand);
        case "BINARY":
          return binaryExpr(built(buildCast(t(ast.operand), { kind: "char", length: null }),
            scope));
        case "!":
        case "NOT":
          return call("not", [t(ast.operand)], scope);
        case "~":
          return call("~", [t(ast.operand)], scope);
      }
      break;
    case "binary": {
      if ((ast.left.kind === "row" || ast.right.kind === "row") &&
        rowComparisonOps.has(ast.op)) {
        return t(rowComparison(ast.op, ast.left, ast.right));
      }
      const name = binaryNames[ast.op];
      if (name === undefined) return unsupported(`the ${ast.op} operator`);
      return call(name, [t(ast.left), t(ast.right)], scope);
    }
    case "assign":
      return call("setvar", [stringLiteral(ast.name), t(ast.value)], scope);
    case "is": {
      const test = ast.value === "TRUE" ? "istrue" : ast.value === "FALSE" ? "isfalse" : "isnull";
      const inner = call(test, [t(ast.operand)], scope);
      return ast.not ? call("not", [inner], scope) : inner;
    }
    case "like": {
      const args = [t(ast.operand), t(ast.pattern)];
      if (ast.escape !== null) args.push(t(ast.escape));
      const inner = call("like", args, scope);
      return ast.not ? call("not", [inner], scope) : inner;
    }
    case "in": {
      if (ast.operand.kind === "row") return t(rowInAsConditions(ast.operand.items, ast.list,
        ast.not));
      const inner = call("in", [t(ast.operand), ...ast.list.map(t)], scope);
      return ast.not ? call("not", [inner], scope) : inner;
    }
    case "between": {
      const inner = call("between", [t(ast.operand), t(ast.low), t(ast.high)], scope);
      return ast.not ? call("not", [inner], scope) : inner;
    }
    case "case": {
      const operand = ast.operand === null ? null : t(ast.operand);
      const args: Expr[] = [];
      for (const { when, then } of ast.whens) {
        args.push(operand === null ? t(when) : call("=", [operand, t(when)], scope), t(then));
      }
      if (ast.else !== null) args.push(t(ast.else));
      return call("case", args, scope);
    }
    case "cast":
      if (ast.type.name === "BINARY") {
        return binaryExpr(built(buildCast(t(ast.expr), { kind: "char",
          length: ast.type.length }), scope));
      }
      return built(buildCast(t(ast.expr), castTarget(ast.type)), scope);
    case "convertUsing": {
      const charset = ast.charset.toLowerCase();
      if (charset !== "utf8mb4" && charset !== "utf8" && charset !== "utf8mb3") {
        return unsupported(`CONVERT USING ${ast.charset}`);
      }
      return convertedExpr(t(ast.expr));
    }
    case "collate":
      return collateExpr(t(ast.expr), ast.collation);
    case "trim": {
      const name = ast.direction === "LEADING" ? "trim_leading"
        : ast.direction === "TRAILING" ? "trim_trailing" : "trim";
      const args = [t(ast.expr)];
      if (ast.remove !== null) args.push(t(ast.remove));
      return call(name, args, scope);
    }
    case "func": {
      if (ast.over !== null) return unsupported("window functions");
      // ANY_VALUE(x) only silences ONLY_FULL_GROUP_BY: it is x.
      if (ast.name === "any_value" && ast.args.length === 1) return t(ast.args[0]!);
      if (aggregates.has(ast.name)) return unsupported("aggregate functions without a table");
      if (builtinName(ast.name) === undefined) {
        return built({ kind: "error", reason: { kind: "unknownFunction", name: ast.name } },
          scope);
      }
      return call(ast.name, ast.args.map(t), scope);
    }
    case "groupConcat":
      return unsupported("aggregate functions without a table");
    case "temporal":
      return temporalLiteral(ast.type, ast.value);
    case "interval":
    case "timeUnit":
    case "extract":
      return unsupported("date and time arithmetic");
    case "regexp": {
      // A BINARY or `_bin` operand makes the match case-sensitive, as in MySQL.
      const binary = [ast.operand, ast.pattern].some((e) => (e.kind === "unary" &&
        e.op === "BINARY") || (e.kind === "collate" && /(_bin|^binary)$/i.test(e.collation)));
      const args = [t(ast.operand), t(ast.pattern)];
      if (binary) args.push(stringLiteral("c"));
      const inner = call("regexp_like", args, scope);
      return ast.not ? call("not", [inner], scope) : inner;
    }
    case "inSubquery":
    case "compareSubquery":
    case "exists":
    case "subquery":
      return unsupported("subqueries");
    case "row":
      // A row where one value belongs (`SELECT (1, 2)`, `(1, 2) + 1`), as MySQL says it.
      throw mysqlError(ER.OPERAND_COLUMNS, [1]);
    case "jsonPath": {
      // `col->'$.p'` is JSON_EXTRACT(col, '$.p'); `->>` also unquotes.
      const extracted = call("json_extract", [t(ast.column), stringLiteral(ast.path)], scope);
      return ast.unquote ? call("json_unquote", [extracted], scope) : extracted;
    }
    case "memberOf":
      return call("json_member_of", [t(ast.operand), t(ast.json)], scope);
    case "match":
      return unsupported("full-text search");
    case "default":
      return unsupported("DEFAULT outside INSERT and SET");
  }
}

/** Whether any `?` placeholder occurs in `node` (a statement or an expression). */
export function countParams(node: unknown): number {
  let count = 0;
  const stack: unknown[] = [node];
  while (stack.length > 0) {
    const item = stack.pop();
    if (typeof item !== "object" || item === null) continue;
    if (Array.isArray(item)) {
      stack.push(...(item as unknown[]));
      continue;
    }
    const record = item as Record<string, unknown>;
    if (record["kind"] === "param" && typeof record["index"] === "number") {
      count = Math.max(count, record["index"] + 1);
    }
    for (const value of Object.values(record)) {
      if (typeof value === "object" && value !== null) stack.push(value);
    }
  }
  return count;
}

/** The column definition of a result column named `name` holding values of `type`. */
export function columnOf(name: string, type: FieldType): ColumnDef {
  return {
    name,
    type: type.code as MySqlType,
    flags: fieldFlags(type),
    decimals: type.decimals,
    length: type.length,
    charset: type.kind === "string" ? Collation.Utf8mb4GeneralCi : Collation.Binary,
  };
}

/** A string result column (SHOW output). */
export function textColumn(name: string, chars = 64): ColumnDef {
  return { name, type: MySqlType.VarString, length: chars * 4,
    charset: Collation.Utf8mb4GeneralCi };
}

/**
 * An evaluated value as the wire encodes it in a column of type `code` (TIME columns hold
 * their text, which the binary protocol sends as a time; YEAR is a number printed 0000;
 * BIT(n) of `length` n is bytes).
 */
export function sqlValueOf(value: Value, code?: number, length?: number): SqlValue {
  if (value === null) return null;
  if (code === MySqlType.Time && value.kind === "string") return timeValueOf(value.value);
  if (code === MySqlType.Bit && (value.kind === "uint" || value.kind === "int")) {
    // BIT(n) goes out as its ceil(n / 8) bytes, big-endian.
    const bytes = new Uint8Array(Math.max(1, Math.ceil((length ?? 64) / 8)));
    let rest = BigInt.asUintN(64, value.value);
    for (let i = bytes.length - 1; i >= 0; i--, rest >>= 8n) bytes[i] = Number(rest & 0xffn);
    return bytes;
  }
  switch (value.kind) {
    case "int":
    case "uint":
      return code === MySqlType.Year ? Number(value.value) : value.value;
    case "decimal":
      return formatScaled(value.unscaled, value.scale);
    case "double":
      return value.value;
    case "string":
      return value.value;
    case "datetime":
      return { kind: "datetime", ...value.value };
  }
}

/** `DATE '…'`, `TIME '…'`, `TIMESTAMP '…'`: an invalid one is 1525, as in MySQL. */
function temporalLiteral(type: "DATE" | "TIME" | "TIMESTAMP", text: string): Expr {
  const fsp = Math.min(/\.(\d*)\s*$/.exec(text)?.[1]?.length ?? 0, 6);
  const literal = stringLiteral(text);
  const target: CastTarget = type === "DATE" ? { kind: "date" }
    : { kind: type === "TIME" ? "time" : "datetime", fsp };
  const valid = type === "TIME" ? parseTimeText(text) !== null
    : parseDateTimeText(text, fsp) !== null;
  if (!valid) throw mysqlError(ER.WRONG_VALUE, [type, text]);
  const built = buildCast(literal, target);
  if (built.kind !== "ok") return unsupported(`${type} literals`);
  return built.expr;
}

/** A TIME column's text (`-12:34:56.5`) as the wire's time value. */
function timeValueOf(text: string): SqlValue {
  const micros = parseTimeText(text) ?? 0;
  const magnitude = Math.abs(micros);
  const totalSeconds = Math.floor(magnitude / 1_000_000);
  return { kind: "time", negative: micros < 0, hours: Math.floor(totalSeconds / 3600),
    minutes: Math.floor(totalSeconds / 60) % 60, seconds: totalSeconds % 60,
    microseconds: magnitude % 1_000_000 };
}

/** A parameter bound by COM_STMT_EXECUTE as a typed constant. */
export function paramConstant(param: { readonly type: number; readonly unsigned: boolean;
  readonly value: SqlValue }): Expr {
  const value = param.value;
  if (value === null) return nullLiteral();
  if (typeof value === "bigint" || (typeof value === "number" && isIntegerType(param.type))) {
    const n = BigInt(value);
    return valueConstant(param.unsigned && n >= 0n ? { kind: "uint", value: n }
      : { kind: "int", value: BigInt.asIntN(64, n) });
  }
  if (typeof value === "number") return valueConstant({ kind: "double", value });
  if (typeof value === "string") {
    if (param.type === MySqlType.NewDecimal || param.type === MySqlType.Decimal) {
      return decimalLiteralOrString(value);
    }
    return stringLiteral(value);
  }
  if (value instanceof Uint8Array) {
    return stringLiteral(new TextDecoder("utf-8").decode(value));
  }
  if (value.kind === "datetime") {
    const fields = { year: value.year, month: value.month, day: value.day, hour: value.hour,
      minute: value.minute, second: value.second, microsecond: value.microsecond };
    return valueConstant({ kind: "datetime", value: fields, fsp: fields.microsecond > 0 ? 6 : 0 });
  }
  const sign = value.negative ? "-" : "";
  const fraction = value.microseconds > 0
    ? `.${String(value.microseconds).padStart(6, "0")}` : "";
  return stringLiteral(`${sign}${value.hours}:${String(value.minutes).padStart(2, "0")}:` +
    String(value.seconds).padStart(2, "0") + fraction);
}

function isIntegerType(type: number): boolean {
  return type === MySqlType.Tiny || type === MySqlType.Short || type === MySqlType.Long ||
    type === MySqlType.Int24 || type === MySqlType.LongLong || type === MySqlType.Year;
}

function decimalLiteralOrString(text: string): Expr {
  const match = /^(-?)(\d+(?:\.\d*)?)$/.exec(text.trim());
  if (match === null) return stringLiteral(text);
  const literal = match[2]!.includes(".") ? decimalLiteral(match[2]!) : integerLiteral(match[2]!);
  if (match[1] !== "-") return literal;
  const negated = buildCall("neg", [literal]);
  return negated.kind === "ok" ? negated.expr : stringLiteral(text);
}
