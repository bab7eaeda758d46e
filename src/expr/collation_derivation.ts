/**
 * MySQL's collation rules for expressions: which collation a string expression has, how
 * strongly it holds it (its coercibility, MySQL's "derivation"), and which collation an
 * operation on several strings uses (`=`, LIKE, IN, CONCAT, CASE …).
 *
 * Every `FieldType` may carry a collation name and a coercibility (types.ts); absent
 * means the default: `utf8mb4_general_ci`, COERCIBLE for strings, NUMERIC for numbers
 * and temporal values, IGNORABLE for NULL. Columns are IMPLICIT with their declared
 * collation, `expr COLLATE name` is EXPLICIT, `BINARY x` / `CAST(x AS BINARY)` IMPLICIT
 * `binary`, system constants (USER(), DATABASE(), VERSION()) SYSCONST
 * `utf8mb3_general_ci`, as in MySQL 8.
 *
 * Aggregation follows MySQL's `DTCollation::aggregate` and `agg_item_collations`: the
 * lower coercibility wins; at equal coercibility the same collation stays, two different
 * EXPLICIT ones are an error, a `_bin` collation beats a non-binary one, otherwise the
 * result is the character set's `_bin` collation with coercibility NONE — an error for a
 * comparison, allowed for a string result. A `binary` string beats a character string
 * of the same or weaker coercibility, between `utf8mb4` and `utf8mb3` the stronger
 * coercibility wins (utf8mb4 at a tie: MySQL's `left_is_superset`), and numbers
 * and NULL take no part unless nothing else does (then: `collation_connection`).
 *
 * Collations Tessera implements (codec/collation.ts) and the names it accepts for them:
 * - `binary`: binary strings, and `utf8mb4_0900_bin` (NO PAD, ordered by bytes);
 * - `utf8mb4_bin` (and `utf8mb3_bin`, `utf8_bin` on utf8mb3 values);
 * - `utf8mb4_general_ci`, and `utf8mb4_unicode_ci`, `utf8mb4_unicode_520_ci`,
 *   `utf8mb4_0900_ai_ci` as approximations of it (case- and accent-insensitive; the
 *   0900 one is NO PAD in MySQL, here it ignores trailing spaces); `utf8mb3_general_ci`.
 * Other names of a known character set give 1253 (not valid for the expression's
 * character set), any other name 1273 (unknown collation).
 */
import {
  type Collation,
  binaryCollation,
  generalCiCollation,
  utf8mb4BinCollation,
} from "../codec/mod.ts";
import type { FieldType } from "./types.ts";

/** MySQL's coercibility values (COERCIBILITY() results, `enum Derivation`). */
export const Coercibility = {
  Explicit: 0,
  None: 1,
  Implicit: 2,
  SysConst: 3,
  Coercible: 4,
  Numeric: 5,
  Ignorable: 6,
} as const;

export type Coercibility = (typeof Coercibility)[keyof typeof Coercibility];

const derivationNames = ["EXPLICIT", "NONE", "IMPLICIT", "SYSCONST", "COERCIBLE", "NUMERIC",
  "IGNORABLE"] as const;

/** The collation strings have unless something says otherwise. */
export const defaultCollationName = "utf8mb4_general_ci";

/** Collation of system constants (USER(), DATABASE(), VERSION()), as MySQL 8's. */
export const sysconstCollationName = "utf8mb3_general_ci";

/** A collation as an expression holds it. */
export interface CollationInfo {
  readonly name: string;
  readonly coercibility: Coercibility;
}

/** Implementations of the names Tessera accepts (see the file comment). */
const implementations: ReadonlyMap<string, Collation> = new Map([
  ["binary", binaryCollation],
  ["utf8mb4_bin", utf8mb4BinCollation],
  ["utf8mb4_0900_bin", binaryCollation],
  ["utf8mb4_general_ci", generalCiCollation],
  ["utf8mb4_unicode_ci", generalCiCollation],
  ["utf8mb4_unicode_520_ci", generalCiCollation],
  ["utf8mb4_0900_ai_ci", generalCiCollation],
  ["utf8mb3_general_ci", generalCiCollation],
  ["utf8mb3_bin", utf8mb4BinCollation],
]);

/** MySQL 8 spells `utf8_…` as `utf8mb3_…`. */
function canonicalName(name: string): string {
  const lower = name.toLowerCase();
  return lower.startsWith("utf8_") ? `utf8mb3_${lower.slice(5)}` : lower;
}

/** Character sets MySQL has whose collations Tessera does not (for 1253 rather than 1273). */
const otherCharsets = new Set(["big5", "dec8", "cp850", "hp8", "koi8r", "latin1", "latin2",
  "swe7", "ascii", "ujis", "sjis", "hebrew", "tis620", "euckr", "koi8u", "gb2312", "greek",
  "cp1250", "gbk", "latin5", "armscii8", "ucs2", "cp866", "keybcs2", "macce", "macroman",
  "cp852", "latin7", "cp1251", "utf16", "utf16le", "cp1256", "cp1257", "utf32", "geostd8",
  "cp932", "eucjpms", "gb18030"]);

/** The character set of a collation name (`utf8mb4_bin` → `utf8mb4`). */
export function charsetOfCollation(name: string): string {
  const canonical = canonicalName(name);
  if (canonical === "binary") return "binary";
  return canonical.slice(0, Math.max(canonical.indexOf("_"), 0)) || canonical;
}

/** The implementation of collation `name`; general_ci for a name Tessera lacks. */
export function collationImpl(name: string | undefined): Collation {
  if (name === undefined) return generalCiCollation;
  return implementations.get(name) ?? implementations.get(canonicalName(name)) ??
    generalCiCollation;
}

/** Why a COLLATE clause is rejected. */
export type CollateError =
  /** MySQL 1273 "Unknown collation: '%s'". */
  | { readonly kind: "unknownCollation"; readonly name: string }
  /** MySQL 1253 "COLLATION '%s' is not valid for CHARACTER SET '%s'". */
  | { readonly kind: "collationCharsetMismatch"; readonly name: string;
    readonly charset: string };

/**
 * The canonical name of `name` applied to a value of character set `charset` (`expr
 * COLLATE name`), or why it cannot be.
 */
export function resolveCollate(name: string, charset: string): string | CollateError {
  const canonical = canonicalName(name);
  const owner = charsetOfCollation(canonical);
  if (!implementations.has(canonical)) {
    // A collation of a character set Tessera lacks cannot apply to its strings anyway.
    if (otherCharsets.has(owner) && owner !== charset) {
      return { kind: "collationCharsetMismatch", name: canonical, charset };
    }
    return { kind: "unknownCollation", name };
  }
  if (owner !== charset) return { kind: "collationCharsetMismatch", name: canonical, charset };
  return canonical;
}

/** The collation and coercibility of a value of `type` (COLLATION(), COERCIBILITY()). */
export function collationInfoOf(type: FieldType): CollationInfo {
  if (type.kind === "null") {
    return { name: type.collation ?? "binary", coercibility: type.coercibility ??
      Coercibility.Ignorable };
  }
  if (type.kind === "string") {
    return { name: type.collation ?? defaultCollationName,
      coercibility: type.coercibility ?? Coercibility.Coercible };
  }
  return { name: type.collation ?? "binary", coercibility: type.coercibility ??
    Coercibility.Numeric };
}

/** The character set a value of `type` has (CHARSET()). */
export function charsetOfType(type: FieldType): string {
  return charsetOfCollation(collationInfoOf(type).name);
}

/** `type` holding collation `name` with `coercibility`. */
export function withCollation(type: FieldType, info: CollationInfo): FieldType {
  return { ...type, collation: info.name, coercibility: info.coercibility };
}

/** Whether a collation orders by code points (MySQL's MY_CS_BINSORT). */
function isBinSort(name: string): boolean {
  return name === "binary" || name.endsWith("_bin");
}

function binCollationOf(charset: string): string {
  return charset === "binary" ? "binary" : `${charset}_bin`;
}

function isUnicode(charset: string): boolean {
  return charset === "utf8mb4" || charset === "utf8mb3";
}

/** One step of MySQL's `DTCollation::aggregate`; `conflict` says it failed. */
function aggregatePair(a: CollationInfo, b: CollationInfo):
  { readonly info: CollationInfo; readonly conflict: "charset" | "explicit" | null } {
  const ca = charsetOfCollation(a.name);
  const cb = charsetOfCollation(b.name);
  if (ca !== cb) {
    if (ca === "binary") return { info: a.coercibility <= b.coercibility ? a : b, conflict: null };
    if (cb === "binary") return { info: b.coercibility <= a.coercibility ? b : a, conflict: null };
    // Both are Unicode: the stronger coercibility wins, utf8mb4 at a tie.
    if (isUnicode(ca) && isUnicode(cb)) {
      const aWins = a.coercibility < b.coercibility ||
        (a.coercibility === b.coercibility && ca === "utf8mb4");
      return { info: aWins ? a : b, conflict: null };
    }
    if (a.coercibility < b.coercibility && b.coercibility >= Coercibility.SysConst) {
      return { info: a, conflict: null };
    }
    if (b.coercibility < a.coercibility && a.coercibility >= Coercibility.SysConst) {
      return { info: b, conflict: null };
    }
    return { info: { name: "binary", coercibility: Coercibility.None }, conflict: "charset" };
  }
  if (a.coercibility < b.coercibility) return { info: a, conflict: null };
  if (b.coercibility < a.coercibility) return { info: b, conflict: null };
  if (a.name === b.name) return { info: a, conflict: null };
  if (a.coercibility === Coercibility.Explicit) return { info: a, conflict: "explicit" };
  if (isBinSort(a.name)) return { info: a, conflict: null };
  if (isBinSort(b.name)) return { info: b, conflict: null };
  return { info: { name: binCollationOf(ca), coercibility: Coercibility.None }, conflict: null };
}

/** An illegal mix of collations (MySQL 1267, 1270 or 1271 by the number of items). */
export interface CollationMix {
  readonly kind: "collationMix";
  /** Each item as MySQL prints it: `(utf8mb4_bin,EXPLICIT)`. */
  readonly items: readonly (readonly [string, string])[];
  readonly operation: string;
}

/**
 * The collation of an operation on `items` (MySQL's `agg_item_collations`): for a
 * comparison (`forComparison`) a result of coercibility NONE is an error too. Numbers and
 * NULL take part only when there is nothing else; then the result is `connection`,
 * COERCIBLE.
 */
export function aggregateCollations(items: readonly CollationInfo[], options: {
  readonly operation: string;
  readonly forComparison: boolean;
  readonly connection?: string | undefined;
}): CollationInfo | CollationMix {
  const strings = items.filter((i) => i.coercibility < Coercibility.Numeric);
  if (strings.length === 0) {
    return { name: options.connection ?? defaultCollationName,
      coercibility: Coercibility.Coercible };
  }
  const mix = (): CollationMix => ({ kind: "collationMix", operation: options.operation,
    items: items.map((i) => [i.name, derivationNames[i.coercibility]] as const) });
  let current = strings[0]!;
  let charsetConflict = false;
  for (const item of strings.slice(1)) {
    const step = aggregatePair(current, item);
    current = step.info;
    if (step.conflict === "explicit") return mix();
    if (step.conflict === "charset") charsetConflict = true;
  }
  if (charsetConflict && current.coercibility !== Coercibility.Explicit) return mix();
  if (options.forComparison && current.coercibility === Coercibility.None) return mix();
  return current;
}

/** Whether `x` is an aggregation failure. */
export function isCollationMix(x: CollationInfo | CollationMix): x is CollationMix {
  return "kind" in x;
}

/**
 * The arguments (by position) whose strings an operation compares, for the built-ins that
 * compare strings; undefined for the others. `count` is the number of arguments.
 */
export function comparedArguments(fn: string, count: number): readonly number[] | undefined {
  switch (fn) {
    case "=": case "<>": case "<=>": case "<": case "<=": case ">": case ">=":
    case "like": case "strcmp": case "locate": case "instr": case "find_in_set":
    case "nullif": case "regexp_like": case "regexp_instr": case "regexp_substr":
    case "regexp_replace":
      return [0, 1];
    case "between": case "in": case "greatest": case "least": case "field":
      return range(0, count);
    default:
      return undefined;
  }
}

/**
 * The arguments whose collations a string result aggregates (MySQL's
 * `agg_arg_charsets_for_string_result`), for the built-ins whose result follows their
 * arguments; undefined for the others (their result: `collation_connection`, COERCIBLE).
 */
export function resultArguments(fn: string, count: number): readonly number[] | undefined {
  switch (fn) {
    case "concat": case "concat_ws": case "coalesce": case "ifnull": case "greatest":
    case "least": case "replace": case "lower": case "upper": case "reverse": case "quote":
      return range(0, count);
    case "substring": case "left": case "right": case "repeat": case "nullif":
    case "min": case "max": case "any_value":
      return [0];
    case "trim": case "trim_leading": case "trim_trailing": case "ltrim": case "rtrim":
    case "substring_index":
      return range(0, Math.min(count, 2));
    case "lpad": case "rpad":
      return [0, 2].filter((i) => i < count);
    case "insert":
      return [0, 3].filter((i) => i < count);
    case "if":
      return [1, 2];
    case "elt": case "make_set":
      return range(1, count);
    case "case": {
      // WHEN c THEN r … [ELSE e]: the results are the odd positions and a trailing ELSE.
      const results = range(0, count).filter((i) => i % 2 === 1);
      if (count % 2 === 1) results.push(count - 1);
      return results;
    }
    default:
      return undefined;
  }
}

/** Built-ins whose string result is a binary string (`binary`, COERCIBLE), as in MySQL. */
const binaryResultFunctions: ReadonlySet<string> = new Set(["unhex", "from_base64",
  "char", "random_bytes", "compress", "uncompress", "aes_encrypt", "aes_decrypt",
  "weight_string"]);

/**
 * The collation of built-in `fn`'s string result when it is fixed rather than derived
 * from the arguments: binary strings, CAST(x AS CHAR) (collation_connection, IMPLICIT, as
 * MySQL's Item_char_typecast) and JSON_UNQUOTE (`utf8mb4_bin`, COERCIBLE, as MySQL's and
 * MariaDB's); undefined for the others.
 */
export function fixedResultCollation(fn: string): CollationInfo | undefined {
  if (fn === "cast_char") {
    return { name: defaultCollationName, coercibility: Coercibility.Implicit };
  }
  if (fn === "json_unquote") return { name: "utf8mb4_bin", coercibility: Coercibility.Coercible };
  if (binaryResultFunctions.has(fn)) {
    return { name: "binary", coercibility: Coercibility.Coercible };
  }
  return undefined;
}

function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i < to; i++) out.push(i);
  return out;
}

/** The name of an operation in 1267 messages (`=`, `like`, `in`, `concat` as MariaDB's). */
export function operationName(fn: string): string {
  switch (fn) {
    case "substring":
      return "substr";
    default:
      return fn;
  }
}

/** Built-ins whose first argument decides whether they compare strings at all. */
const leftOperandDecides = new Set(["=", "<>", "<=>", "<", "<=", ">", ">=", "in", "between",
  "field", "nullif"]);

/**
 * The collation call `fn` on `args` compares strings under (or an illegal mix), undefined
 * when it compares no strings: `=` and its kin compare strings only when both sides are
 * strings, IN, BETWEEN and FIELD when the first argument is one, GREATEST and LEAST when
 * all are; LIKE, STRCMP, LOCATE, INSTR and FIND_IN_SET always do.
 */
export function compareCollationOf(fn: string, args: readonly { readonly type: FieldType }[],
  connection?: string): CollationInfo | CollationMix | undefined {
  const positions = comparedArguments(fn, args.length);
  if (positions === undefined) return undefined;
  const types = positions.map((i) => args[i]?.type).filter((t) => t !== undefined);
  if (leftOperandDecides.has(fn) && types[0]?.kind !== "string") return undefined;
  if ((fn === "=" || fn === "<>" || fn === "<=>" || fn === "<" || fn === "<=" || fn === ">" ||
    fn === ">=") && types[1]?.kind !== "string") return undefined;
  if ((fn === "greatest" || fn === "least") &&
    !types.every((t) => t.kind === "string" || t.kind === "null")) return undefined;
  const infos = types.map(collationInfoOf);
  return aggregateCollations(infos, { operation: operationName(fn), forComparison: true,
    connection });
}

/**
 * The collation of call `fn`'s string result `type` from its arguments (or an illegal
 * mix); undefined when the result does not follow the arguments.
 */
export function resultCollationOf(fn: string, args: readonly { readonly type: FieldType }[],
  type: FieldType, connection?: string): CollationInfo | CollationMix | undefined {
  if (type.kind !== "string") return undefined;
  const positions = resultArguments(fn, args.length);
  if (positions === undefined) return undefined;
  const infos = positions.map((i) => args[i]?.type).filter((t) => t !== undefined)
    .map(collationInfoOf);
  return aggregateCollations(infos, { operation: operationName(fn), forComparison: false,
    connection });
}

/** Compare collations of calls, computed once per node (nodes are immutable). */
const compareCache = new WeakMap<object, Collation>();

/** The collation call `call` compares strings under at run time (default: general_ci). */
export function callCollation(call: { readonly fn: string;
  readonly args: readonly { readonly type: FieldType }[] }): Collation {
  let collation = compareCache.get(call);
  if (collation === undefined) {
    const info = compareCollationOf(call.fn, call.args);
    collation = info === undefined || isCollationMix(info) ? generalCiCollation
      : collationImpl(info.name);
    compareCache.set(call, collation);
  }
  return collation;
}

/** The collation values of `type` compare, group and sort under. */
export function typeCollation(type: FieldType): Collation {
  return type.kind === "string" ? collationImpl(type.collation) : generalCiCollation;
}

/** Whether `type`'s strings compare as the default collation does (pushdown, old paths). */
export function hasDefaultCollation(type: FieldType): boolean {
  return type.kind !== "string" || collationImpl(type.collation) === generalCiCollation;
}
