/**
 * The expression tree the evaluator runs, independent of any SQL syntax tree: the SQL
 * layer translates its AST into these nodes (`buildCall`, `buildCast`, the literal
 * helpers here), and the KV coprocessor will receive the same nodes. A node is either a
 * typed constant or a call of a named built-in on argument nodes; operators are built-ins
 * too (`+`, `=`, `and`, `case` …). Every node carries its result `FieldType`, fixed when
 * it is built. Nodes are immutable plain objects, so a tree can be cached with a plan.
 *
 * `EvalContext` is everything an evaluation may read besides its arguments: the
 * statement's time (NOW() is the same for the whole statement and comes from here, never
 * from a clock), the session's identity and the places side effects go (warnings, user
 * variables, LAST_INSERT_ID). The evaluator itself stays pure and synchronous.
 */
import {
  type FieldType,
  decimalType,
  doubleType,
  intType,
  nullType,
  stringType,
} from "./types.ts";
import {
  type DateTime,
  type Value,
  type WarningSink,
  formatScaled,
  fromCodecDecimal,
  int64Max,
  toText,
  uint64Max,
} from "./value.ts";
import { parseDecimal } from "../codec/mod.ts";
import type { TimeZone } from "./temporal_tz.ts";
import type { SessionFunctions } from "./session_functions.ts";

/** An expression node. */
export type Expr =
  | { readonly kind: "constant"; readonly value: Value; readonly type: FieldType }
  /**
   * A column of the row being evaluated: `EvalContext.row[index]`. `name` is for error
   * messages only. The executor builds these; a constant expression has none.
   */
  | {
      readonly kind: "column";
      readonly index: number;
      readonly name: string;
      readonly type: FieldType;
    }
  | {
      readonly kind: "call";
      /** Built-in name, lower case (`+`, `concat`, `cast_decimal` …). */
      readonly fn: string;
      readonly args: readonly Expr[];
      readonly type: FieldType;
    };

/** What an evaluation reads from, and writes side effects to, besides its arguments. */
export interface EvalContext {
  /** Receives every warning raised (the statement's warning list). */
  readonly warn: WarningSink;
  /** The statement's start time in the session time zone: NOW(), CURRENT_TIMESTAMP. */
  readonly statementTime: DateTime;
  /** The same instant in ms since the epoch (UNIX_TIMESTAMP()); absent: from the above. */
  readonly statementEpochMs?: number;
  /** The session's `time_zone` (TIMESTAMP columns, FROM_UNIXTIME …); absent: UTC. */
  readonly timeZone?: TimeZone;
  /** DATABASE(): the current database, null when none is selected. */
  readonly database: string | null;
  /** USER(): `user@client-host`. */
  readonly user: string;
  /** CURRENT_USER(): the account matched, `user@host-pattern`. */
  readonly currentUser: string;
  /** CONNECTION_ID(). */
  readonly connectionId: number;
  /** VERSION(). */
  readonly version: string;
  /** LAST_INSERT_ID() without an argument. */
  readonly lastInsertId: bigint;
  /** LAST_INSERT_ID(expr) sets it for the session. */
  setLastInsertId(value: bigint): void;
  /** `@name := value` assigns a user variable (name as written). */
  setUserVariable(name: string, value: Value, type: FieldType): void;
  /** The row `column` nodes read; absent when the expression has no columns. */
  readonly row?: readonly Value[];
  /**
   * The session's RAND()/UUID() generators and FOUND_ROWS()/ROW_COUNT() values
   * (session_functions.ts); absent: those functions use fixed defaults.
   */
  readonly functions?: SessionFunctions;
  /** `max_allowed_packet` in bytes: the longest string a function builds; absent: 64 MiB. */
  readonly maxAllowedPacket?: number;
}

/** Options that change how expressions are typed. */
export interface BuildOptions {
  /** `div_precision_increment`: digits `/` adds to the dividend's scale (MySQL: 4). */
  readonly divPrecisionIncrement: number;
}

/** The defaults of `BuildOptions`, as MySQL's. */
export const defaultBuildOptions: BuildOptions = { divPrecisionIncrement: 4 };

/** A reference to column `index` of the row being evaluated. */
export function columnRef(index: number, name: string, type: FieldType): Expr {
  return { kind: "column", index, name, type };
}

/** A constant node of `value` with `type`. */
export function constant(value: Value, type: FieldType): Expr {
  return { kind: "constant", value, type };
}

/** The NULL literal. */
export function nullLiteral(): Expr {
  return constant(null, nullType);
}

/**
 * An unsigned integer literal as written (`123`): BIGINT when it fits, BIGINT UNSIGNED up
 * to 2^64 - 1, DECIMAL beyond (as MySQL types integer literals); DOUBLE past DECIMAL(65).
 */
export function integerLiteral(digits: string): Expr {
  const value = BigInt(digits);
  const length = value.toString().length;
  if (value <= int64Max) {
    return constant({ kind: "int", value }, intType({ length, nullable: false }));
  }
  if (value <= uint64Max) {
    return constant({ kind: "uint", value },
      intType({ length, unsigned: true, nullable: false }));
  }
  if (length <= 65) {
    return constant({ kind: "decimal", unscaled: value, scale: 0 },
      decimalType(length, { scale: 0, nullable: false }));
  }
  return doubleLiteral(digits);
}

/**
 * An exact-value literal with a point (`1.50`): DECIMAL with the written scale, so
 * `SELECT 1.50` prints `1.50`. Beyond DECIMAL(65, 30) it is a DOUBLE, as in MySQL.
 */
export function decimalLiteral(text: string): Expr {
  const [whole = "", fraction = ""] = text.split(".");
  const scale = fraction.length;
  const intDigits = whole.replace(/^0+/, "").length;
  if (scale > 30 || intDigits + scale > 65) return doubleLiteral(text);
  const unscaled = BigInt(`${whole}${fraction}` === "" ? "0" : `${whole}${fraction}`);
  // The codec checks the text is a decimal; the scale we keep is the one written.
  fromCodecDecimal(parseDecimal(text));
  return constant({ kind: "decimal", unscaled, scale },
    decimalType(Math.max(intDigits, 1) + scale, { scale, nullable: false }));
}

/** An approximate-value literal (`1e3`, `1.5E-2`): DOUBLE. */
export function doubleLiteral(text: string): Expr {
  const value = Number(text);
  return constant({ kind: "double", value },
    doubleType({ length: text.length, nullable: false }));
}

/** A string literal (utf8mb4). */
export function stringLiteral(value: string): Expr {
  return constant({ kind: "string", value }, stringType([...value].length, { nullable: false }));
}

/** TRUE / FALSE: the integers 1 and 0. */
export function boolLiteral(value: boolean): Expr {
  return constant({ kind: "int", value: value ? 1n : 0n }, intType({ length: 1, nullable: false }));
}

/**
 * A constant holding `value` with the type MySQL gives such a value when it comes from
 * outside a statement (a user variable, a bound parameter, a system variable).
 */
export function valueConstant(value: Value): Expr {
  if (value === null) return nullLiteral();
  switch (value.kind) {
    case "int":
    case "uint":
      return constant(value, intType({
        length: Math.max(value.value.toString().length, 1),
        unsigned: value.kind === "uint",
        nullable: false,
      }));
    case "decimal": {
      const digits = (value.unscaled < 0n ? -value.unscaled : value.unscaled).toString();
      return constant(value, decimalType(Math.max(digits.length, value.scale + 1),
        { scale: value.scale, nullable: false }));
    }
    case "double":
      return constant(value, doubleType({ nullable: false }));
    case "string":
      return constant(value, stringType([...value.value].length, { nullable: false }));
    case "datetime":
      return constant(value, {
        kind: "datetime", code: 0x0c, unsigned: false, nullable: false,
        length: value.fsp > 0 ? 20 + value.fsp : 19, decimals: value.fsp, precision: 0,
      });
  }
}

const infixOps = new Set([
  "+", "-", "*", "/", "%", "div", "=", "<=>", "<", "<=", ">", ">=", "<>", "and", "or", "xor",
  "|", "&", "^", "<<", ">>",
]);

/** SQL text of an expression as MySQL prints it in error messages: `(1 + 2)`. */
export function exprText(expr: Expr): string {
  if (expr.kind === "constant") {
    const value = expr.value;
    if (value === null) return "NULL";
    if (value.kind === "string") return `'${value.value.replace(/'/g, "\\'")}'`;
    if (value.kind === "decimal") return formatScaled(value.unscaled, value.scale);
    return toText(value) ?? "NULL";
  }
  if (expr.kind === "column") return expr.name;
  const args = expr.args.map(exprText);
  if (infixOps.has(expr.fn) && args.length === 2) {
    const op = expr.fn === "%" ? "%" : expr.fn;
    return `(${args[0]} ${op} ${args[1]})`;
  }
  if (expr.fn === "neg") return `-(${args[0]})`;
  if (expr.fn === "not") return `(not(${args[0]}))`;
  if (expr.fn.startsWith("cast_")) return `cast(${args[0]} as ${expr.fn.slice(5)})`;
  return `${expr.fn}(${args.join(",")})`;
}
