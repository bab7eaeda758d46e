/**
 * Small pieces the families of built-ins in string_functions.ts, regexp_functions.ts,
 * math_functions.ts, compare_functions.ts and info_functions.ts share: reading arguments
 * as text, integers or doubles (NULL stays null), typed results with MySQL's 1690 range
 * error, the `max_allowed_packet` bound on the strings a function builds (MySQL's 1301
 * warning and a NULL result past it, so a `REPEAT('a', 1e12)` never allocates), UTF-8
 * bytes of text values, and character folding under the default collation.
 *
 * They live here rather than in functions.ts so that those files need no runtime import
 * of functions.ts (which imports them to build the `builtins` map).
 */
import type { Collation } from "../codec/mod.ts";
import { defaultCollation } from "./compare.ts";
import { ExprError } from "./errors.ts";
import { type Expr, exprText } from "./expr.ts";
import type { CallExpr, EvalState } from "./functions.ts";
import { type FieldType, charsOf, doubleType, intType, stringType } from "./types.ts";
import {
  type Value,
  int64Max,
  int64Min,
  toDouble,
  toInteger,
  toText,
  uint64Max,
} from "./value.ts";

/** MySQL's default `max_allowed_packet` (64 MiB), when the context does not say. */
export const maxAllowedPacketDefault = 64 * 1024 * 1024;

export function anyNullable(args: readonly Expr[]): boolean {
  return args.some((a) => a.type.nullable);
}

/** Argument `expr` as text; null for NULL. */
export function textArg(state: EvalState, expr: Expr): string | null {
  return toText(state.ev(expr));
}

/** Argument `expr` as a 64-bit integer (strings read with 1292 when not all digits). */
export function bigintArg(state: EvalState, expr: Expr): bigint | null {
  return toInteger(state.ev(expr), state.ctx.warn);
}

/** Argument `expr` as an integer clamped to ±2^40 (positions, lengths, counts). */
export function intArg(state: EvalState, expr: Expr): number | null {
  const v = bigintArg(state, expr);
  if (v === null) return null;
  const bound = 2n ** 40n;
  return Number(v > bound ? bound : v < -bound ? -bound : v);
}

/** Argument `expr` as a DOUBLE. */
export function doubleArg(state: EvalState, expr: Expr): number | null {
  return toDouble(state.ev(expr), state.ctx.warn);
}

/** The 1690 error for `call`. */
export function outOfRange(
  typeName: "BIGINT" | "BIGINT UNSIGNED" | "DECIMAL" | "DOUBLE",
  call: CallExpr,
): never {
  throw new ExprError({ kind: "outOfRange", typeName, exprText: exprText(call) });
}

/** `value` as the call's integer result, or 1690 when it does not fit its type. */
export function intResult(value: bigint, call: CallExpr): Value {
  if (call.type.unsigned) {
    if (value < 0n || value > uint64Max) outOfRange("BIGINT UNSIGNED", call);
    return { kind: "uint", value };
  }
  if (value < int64Min || value > int64Max) outOfRange("BIGINT", call);
  return { kind: "int", value };
}

/** `value` as a DOUBLE result: an infinity or NaN is 1690, as MySQL's overflow check. */
export function doubleResult(value: number, call: CallExpr): Value {
  if (!Number.isFinite(value)) outOfRange("DOUBLE", call);
  return { kind: "double", value };
}

export function int(value: bigint): Value {
  return { kind: "int", value };
}

export function text(value: string): Value {
  return { kind: "string", value };
}

/** A BIGINT result type of display length `length`. */
export function intOf(length: number, args: readonly Expr[], unsigned = false): FieldType {
  return intType({ length, unsigned, nullable: anyNullable(args) });
}

/** A string result type of `chars` characters, nullable when an argument is. */
export function textOf(chars: number, args: readonly Expr[]): FieldType {
  return stringType(Math.min(chars, maxCharsOfType), { nullable: anyNullable(args) });
}

/** A DOUBLE result type. */
export function doubleOf(args: readonly Expr[], nullable?: boolean): FieldType {
  return doubleType({ nullable: nullable ?? anyNullable(args) });
}

/** Characters of argument `index` as a string (0 when absent). */
export function charsArg(args: readonly Expr[], index: number): number {
  const arg = args[index];
  return arg === undefined ? 0 : charsOf(arg.type);
}

/** Lengths past this are reported as LONGTEXT's (what MySQL caps `max_length` at). */
const maxCharsOfType = 1_073_741_823;

/** The constant integer value of `expr`, or undefined when it is not one. */
export function constantInteger(expr: Expr | undefined): bigint | undefined {
  if (expr?.kind === "call" && expr.fn === "neg") {
    const inner = constantInteger(expr.args[0]);
    return inner === undefined ? undefined : -inner;
  }
  if (expr === undefined || expr.kind !== "constant" || expr.value === null) return undefined;
  return expr.value.kind === "int" || expr.value.kind === "uint" ? expr.value.value : undefined;
}

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder("utf-8", { fatal: true });

/** The UTF-8 bytes of a text value (what LENGTH, HEX, MD5 … see). */
export function utf8Bytes(value: string): Uint8Array {
  return encoder.encode(value);
}

/**
 * Bytes a function produced, as a text value. Values are utf8mb4 text until a binary
 * string kind exists: bytes that are not UTF-8 are refused with MySQL's 1235, as the
 * SQL layer refuses such `x'…'` literals, rather than returned altered.
 */
export function bytesToText(bytes: Uint8Array): string {
  try {
    return strictDecoder.decode(bytes);
  } catch {
    throw new ExprError({ kind: "unsupported", what: "binary strings that are not UTF-8" });
  }
}

/** The `max_allowed_packet` bound of the context, in bytes. */
export function packetLimit(state: EvalState): number {
  return state.ctx.maxAllowedPacket ?? maxAllowedPacketDefault;
}

/**
 * Whether a result of `bytes` bytes fits `max_allowed_packet`; when not, MySQL's 1301
 * warning is raised and the caller returns NULL.
 */
export function fitsPacket(state: EvalState, bytes: number, functionName: string): boolean {
  const limit = packetLimit(state);
  if (bytes <= limit) return true;
  state.ctx.warn({ kind: "packetOverflow", functionName, maxAllowedPacket: limit });
  return false;
}

/** The collation weight of one character as a comparable string (LOCATE, INSTR). */
export function foldChar(char: string, collation: Collation = defaultCollation): string {
  if (char === " ") return " ";
  return String.fromCharCode(...collation.sortKey(char));
}

/** The characters of `value`, each folded under `collation` (default: the default one). */
export function foldedChars(value: string, collation: Collation = defaultCollation): string[] {
  return Array.from(value, (c) => foldChar(c, collation));
}

/**
 * The 1-based character position of `needle` in `haystack` at or after character
 * `from` (1-based), comparing characters under the default collation; 0 when absent.
 */
export function locateFolded(needle: string, haystack: string, from: number,
  collation: Collation = defaultCollation): number {
  const h = foldedChars(haystack, collation);
  const n = foldedChars(needle, collation);
  if (from < 1 || from > h.length + 1) return n.length === 0 && from === 1 ? 1 : 0;
  outer: for (let i = from - 1; i + n.length <= h.length; i++) {
    for (let j = 0; j < n.length; j++) if (h[i + j] !== n[j]) continue outer;
    return i + 1;
  }
  return 0;
}
