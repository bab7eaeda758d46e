/**
 * Comparison of values as MySQL compares them, and LIKE matching.
 *
 * The comparison type follows MySQL's rules for the two operands: two strings compare
 * as strings under the collation (utf8mb4_general_ci by default: case- and
 * accent-insensitive, trailing spaces ignored); two integers (signed or unsigned)
 * exactly; integers and decimals as exact decimals; anything with a DOUBLE, or a string
 * against a number, as DOUBLEs (so `'1' = 1` and `'abc' = 0`, the latter with a
 * truncation warning); two DATETIMEs by time, a DATETIME and a string by the string's
 * text. NULL on either side gives NULL (the callers implement `<=>`).
 */
import { type Collation, compareBytes, generalCiCollation } from "../codec/mod.ts";
import {
  type Value,
  type WarningSink,
  formatDateTime,
  rescale,
  toDouble,
  toText,
} from "./value.ts";

/** The collation string comparisons use unless told otherwise (Tessera's default). */
export const defaultCollation: Collation = generalCiCollation;

function sign(n: number): number {
  return n < 0 ? -1 : n > 0 ? 1 : 0;
}

function compareBigInts(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Compares two strings under `collation`: -1, 0 or 1. */
export function compareStrings(a: string, b: string, collation: Collation): number {
  return sign(compareBytes(collation.sortKey(a), collation.sortKey(b)));
}

/** Compares `a` and `b` as MySQL does: -1, 0, 1, or null when either is NULL. */
export function compareValues(
  a: Value,
  b: Value,
  options: { readonly warn: WarningSink; readonly collation?: Collation },
): number | null {
  if (a === null || b === null) return null;
  const collation = options.collation ?? defaultCollation;
  if (a.kind === "string" && b.kind === "string") {
    return compareStrings(a.value, b.value, collation);
  }
  if (a.kind === "datetime" || b.kind === "datetime") {
    if (a.kind === "datetime" && b.kind === "datetime") {
      return compareStrings(formatDateTime(a.value, 6), formatDateTime(b.value, 6), collation);
    }
    if (a.kind === "string" || b.kind === "string") {
      return compareStrings(toText(a) ?? "", toText(b) ?? "", collation);
    }
  }
  const exactA = a.kind === "int" || a.kind === "uint" || a.kind === "decimal";
  const exactB = b.kind === "int" || b.kind === "uint" || b.kind === "decimal";
  if (exactA && exactB) {
    const [ua, sa] = a.kind === "decimal" ? [a.unscaled, a.scale] : [a.value, 0];
    const [ub, sb] = b.kind === "decimal" ? [b.unscaled, b.scale] : [b.value, 0];
    const scale = Math.max(sa, sb);
    return compareBigInts(rescale(ua, sa, scale), rescale(ub, sb, scale));
  }
  const da = toDouble(a, options.warn) ?? 0;
  const db = toDouble(b, options.warn) ?? 0;
  return da < db ? -1 : da > db ? 1 : 0;
}

/** The collation weight of one character, as a comparable string. */
function fold(char: string, collation: Collation): string {
  if (char === " ") return " ";
  return String.fromCharCode(...collation.sortKey(char));
}

/**
 * Whether `text` matches the LIKE `pattern` (`%` any run, `_` one character, `escape`
 * before either makes it literal), comparing characters under `collation`.
 */
export function likeMatch(
  text: string,
  pattern: string,
  options: { readonly escape: string; readonly collation?: Collation },
): boolean {
  const collation = options.collation ?? defaultCollation;
  const t = [...text].map((c) => fold(c, collation));
  type Item = { readonly kind: "any" } | { readonly kind: "one" } |
    { readonly kind: "char"; readonly char: string };
  const items: Item[] = [];
  const chars = [...pattern];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (c === options.escape && i + 1 < chars.length) {
      items.push({ kind: "char", char: fold(chars[++i]!, collation) });
    } else if (c === "%") {
      items.push({ kind: "any" });
    } else if (c === "_") {
      items.push({ kind: "one" });
    } else {
      items.push({ kind: "char", char: fold(c, collation) });
    }
  }
  // Iterative matching with one backtrack point per `%` (the classic wildcard algorithm),
  // linear in practice and without recursion.
  let ti = 0;
  let pi = 0;
  let starP = -1;
  let starT = 0;
  while (ti < t.length) {
    const item = items[pi];
    if (item !== undefined && (item.kind === "one" ||
      (item.kind === "char" && item.char === t[ti]))) {
      ti++;
      pi++;
    } else if (item !== undefined && item.kind === "any") {
      starP = pi++;
      starT = ti;
    } else if (starP >= 0) {
      pi = starP + 1;
      ti = ++starT;
    } else {
      return false;
    }
  }
  while (items[pi]?.kind === "any") pi++;
  return pi === items.length;
}
