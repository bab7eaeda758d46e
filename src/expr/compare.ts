/**
 * Comparison of values as MySQL compares them, and LIKE matching.
 *
 * The comparison type follows MySQL's rules for the two operands: two strings compare
 * as strings under the collation (utf8mb4_general_ci by default: case- and
 * accent-insensitive, trailing spaces ignored); two integers (signed or unsigned)
 * exactly; integers and decimals as exact decimals; anything with a DOUBLE, or a string
 * against a number, as DOUBLEs (so `'1' = 1` and `'abc' = 0`, the latter with a
 * truncation warning); two DATETIMEs by time, a DATETIME and a string that is a date
 * as DATETIMEs (any other string by its text). NULL on either side gives NULL (the
 * callers implement `<=>`).
 *
 * Values of typed columns carry a tag (`StringTag`, value.ts) that changes this as in
 * MySQL: a TIME against a TIME or a string compares as a duration ('-01:00:00' <
 * '00:30:00' < '100:00:00'); JSON against anything by the JSON rules (json_compare.ts);
 * an ENUM or SET against a number by its index or bits (their numeric value), against a
 * string by its text. ORDER BY sorts ENUM by index and SET by bits (`compareForSort`),
 * while comparisons, MIN and MAX use the text, as MySQL does.
 */
import { type Collation, generalCiCollation } from "../codec/mod.ts";
import { compareJson } from "./json_compare.ts";
import { parseDateTimeText, parseTimeText } from "./temporal.ts";
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
  return collation.compare(a, b);
}

/** Compares `a` and `b` as MySQL does: -1, 0, 1, or null when either is NULL. */
export function compareValues(
  a: Value,
  b: Value,
  options: { readonly warn: WarningSink; readonly collation?: Collation | undefined },
): number | null {
  if (a === null || b === null) return null;
  const typed = compareTagged(a, b);
  if (typed !== undefined) return typed;
  const collation = options.collation ?? defaultCollation;
  if (a.kind === "string" && b.kind === "string") {
    return compareStrings(a.value, b.value, collation);
  }
  if (a.kind === "datetime" || b.kind === "datetime") {
    if (a.kind === "datetime" && b.kind === "datetime") {
      return compareStrings(formatDateTime(a.value, 6), formatDateTime(b.value, 6), collation);
    }
    if (a.kind === "string" || b.kind === "string") {
      // A string that is a date and time compares as one ('2024-01-01' = DATE, '… 12:00'
      // = DATETIME(3) '… 12:00:00.000'); any other string by its text.
      const text = a.kind === "string" ? a.value : (b as { value: string }).value;
      const parsed = parseDateTimeText(text, 6);
      if (parsed !== null) {
        const x = a.kind === "datetime" ? a.value : parsed;
        const y = b.kind === "datetime" ? b.value : parsed;
        return compareStrings(formatDateTime(x, 6), formatDateTime(y, 6), collation);
      }
      return compareStrings(toText(a) ?? "", toText(b) ?? "", collation);
    }
  }
  const exactA = a.kind === "int" || a.kind === "uint" || a.kind === "decimal";
  const exactB = b.kind === "int" || b.kind === "uint" || b.kind === "decimal";
  if (a.kind !== "decimal" && b.kind !== "decimal" && exactA && exactB) {
    return compareBigInts(a.value, b.value);
  }
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

/**
 * The comparison of `a` and `b` their tags decide (JSON, TIME against TIME or a string
 * that is a time); undefined when the general rules apply.
 */
function compareTagged(a: Exclude<Value, null>, b: Exclude<Value, null>): number | undefined {
  const ta = a.kind === "string" ? a.tag?.kind : undefined;
  const tb = b.kind === "string" ? b.tag?.kind : undefined;
  if (ta === undefined && tb === undefined) return undefined;
  if (ta === "json" || tb === "json") return compareJson(a, b);
  if ((ta === "time" || tb === "time") && a.kind === "string" && b.kind === "string") {
    const x = parseTimeText(a.value);
    const y = parseTimeText(b.value);
    if (x === null || y === null) return undefined;
    return sign(x - y);
  }
  return undefined;
}

/**
 * `compareValues` for sorting (ORDER BY): as it, except that two ENUM values order by
 * their index (declaration order) and two SET values by their bits, as MySQL sorts them.
 */
export function compareForSort(
  a: Value,
  b: Value,
  options: { readonly warn: WarningSink; readonly collation?: Collation | undefined },
): number | null {
  if (a !== null && b !== null && a.kind === "string" && b.kind === "string") {
    const ta = a.tag;
    const tb = b.tag;
    if (ta?.kind === "enum" && tb?.kind === "enum") return sign(ta.index - tb.index);
    if (ta?.kind === "set" && tb?.kind === "set") {
      return ta.bits < tb.bits ? -1 : ta.bits > tb.bits ? 1 : 0;
    }
  }
  return compareValues(a, b, options);
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
