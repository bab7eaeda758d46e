/**
 * Formatting, sorting and hashing of query results the way sqllogictest prints them.
 *
 * A cell arrives as a *byte string* (each char one byte of the wire value, i.e. the value
 * decoded as latin1) or `null`, and is printed by its column's type letter:
 * - `I`: a 64-bit integer. Integer text is printed canonically; decimal and float text is
 *   truncated toward zero (as SQLite's `sqlite3_column_int64` does with a real); text that
 *   is not a number takes its numeric prefix, or 0. Out-of-range values clamp.
 * - `R`: C's `printf("%.3f")` of the value read as a double (numeric prefix, or 0):
 *   exact ties round half to even and negative zero keeps its sign, as glibc does.
 * - `T`: the text; an empty string prints as `(empty)`; each byte outside printable
 *   ASCII (0x20..0x7e) prints as `@`.
 * NULL prints as `NULL` whatever the type. Sorting compares formatted values bytewise
 * (`strcmp`); `rowsort` compares rows column by column. The hash is the MD5 of every
 * value followed by `\n`, in the final order.
 */
import { createHash } from "node:crypto";
import type { SortMode } from "./parser.ts";

/** One result cell: a byte string (latin1-decoded wire bytes) or SQL NULL. */
export type Cell = string | null;

const int64Max = (1n << 63n) - 1n;
const int64Min = -(1n << 63n);
const numericPrefix = /^[ \t\n\r\f\v]*[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)/;

/** Prints one cell for a column of type letter `type` (`I`, `R` or `T`). */
export function formatCell(cell: Cell, type: string): string {
  if (cell === null) return "NULL";
  switch (type) {
    case "I":
      return formatInteger(cell);
    case "R":
      return formatReal(toDouble(cell));
    default:
      return formatText(cell);
  }
}

/** Prints a row set as the flat list of values, row-major, one per column per row. */
export function formatRows(rows: readonly (readonly Cell[])[], types: string): string[][] {
  return rows.map((row) => row.map((cell, i) => formatCell(cell, types[i] ?? "T")));
}

/** Text with non-printable bytes replaced by `@`, or `(empty)`. */
export function formatText(text: string): string {
  if (text === "") return "(empty)";
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    out += c >= 0x20 && c <= 0x7e ? text[i] : "@";
  }
  return out;
}

/** The integer value of a cell's text, as `%lld` prints it. */
export function formatInteger(text: string): string {
  const t = text.trim();
  if (/^[+-]?\d+$/.test(t)) return clamp(BigInt(t)).toString();
  // Plain decimal text: truncate on the digits themselves, keeping every digit exact.
  const decimal = /^([+-]?)(\d*)\.\d*$/.exec(t);
  if (decimal !== null && t !== "." && t !== "-." && t !== "+.") {
    const sign = decimal[1] === "-" ? -1n : 1n;
    return clamp(sign * BigInt(decimal[2] === "" ? "0" : (decimal[2] as string))).toString();
  }
  const x = toDouble(text);
  if (Number.isNaN(x)) return "0";
  if (!Number.isFinite(x)) return (x > 0 ? int64Max : int64Min).toString();
  return clamp(BigInt(Math.trunc(x))).toString();
}

function clamp(n: bigint): bigint {
  if (n > int64Max) return int64Max;
  if (n < int64Min) return int64Min;
  return n;
}

/** The double value of a cell's text: its numeric prefix, or 0 when it has none. */
export function toDouble(text: string): number {
  const m = numericPrefix.exec(text);
  if (m === null) return 0;
  return Number.parseFloat(m[0]);
}

/** `printf("%.3f", x)` as glibc prints it (correct rounding, ties to even). */
export function formatReal(x: number): string {
  if (Number.isNaN(x)) return "-nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  const negative = x < 0 || Object.is(x, -0);
  const magnitude = Math.abs(x);
  let digits: string;
  if (magnitude >= 1e21) {
    // Doubles this large are integers; toFixed would switch to exponent notation.
    digits = `${BigInt(magnitude).toString()}.000`;
  } else if (Number.isInteger(magnitude * 16) && !Number.isInteger(magnitude * 8)) {
    // An exact tie at the third decimal (x = k/16 with k odd, so 1000x = 125k/2 is a
    // half-integer): glibc rounds half to even, toFixed would round half up.
    const twiceMilli = BigInt(magnitude * 16) * 125n;
    const floor = (twiceMilli - 1n) / 2n;
    digits = milliToFixed(floor % 2n === 0n ? floor : floor + 1n);
  } else {
    digits = magnitude.toFixed(3);
  }
  return negative ? `-${digits}` : digits;
}

function milliToFixed(milli: bigint): string {
  const s = milli.toString().padStart(4, "0");
  return `${s.slice(0, -3)}.${s.slice(-3)}`;
}

/** Applies a sort mode to formatted rows and flattens them to the list of values. */
export function sortValues(rows: readonly (readonly string[])[], sort: SortMode): string[] {
  switch (sort) {
    case "nosort":
      return rows.flat();
    case "rowsort":
      return [...rows].sort(compareRows).flat();
    case "valuesort":
      return rows.flat().sort(compareStrings);
  }
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareRows(a: readonly string[], b: readonly string[]): number {
  for (let i = 0; i < a.length; i++) {
    const c = compareStrings(a[i] as string, b[i] as string);
    if (c !== 0) return c;
  }
  return 0;
}

/** MD5 (hex) of every value followed by `\n`, as sqllogictest hashes results. */
export function hashValues(values: readonly string[]): string {
  const md5 = createHash("md5");
  for (const v of values) md5.update(`${v}\n`, "latin1");
  return md5.digest("hex");
}

/**
 * The expected-values block a runner in completion mode writes: the values, or one line
 * `N values hashing to <md5>` when there are more values than `threshold` (0: never hash).
 */
export function resultLines(values: readonly string[], threshold: number): string[] {
  if (threshold > 0 && values.length > threshold) {
    return [`${values.length} values hashing to ${hashValues(values)}`];
  }
  return [...values];
}
