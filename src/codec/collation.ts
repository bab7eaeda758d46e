/**
 * Collations as sort-key functions: the hook that makes string keys collation-aware.
 *
 * A collation maps a string to sort-key bytes such that two strings are equal under the
 * collation exactly when their sort keys are identical, and order as their sort keys
 * compare bytewise. The key codec stores the sort key, not the string, so an index on a
 * case-insensitive column holds `'abc'` and `'ABC'` under one key. Sort keys are not
 * decodable back to the string in general; the row value keeps the original.
 *
 * - `binary`: the UTF-8 bytes, nothing trimmed (VARBINARY/BLOB, and `utf8mb4` `_bin` with
 *   NO PAD). UTF-8 byte order is code point order.
 * - `utf8mb4_bin`: the UTF-8 bytes with trailing spaces removed (PAD SPACE).
 * - `utf8mb4_general_ci`: MariaDB's default. Each character gets a 16-bit weight, written
 *   big-endian, after trailing spaces are removed. This is an approximation of MariaDB's
 *   `my_unicase_default` tables, as TiDB's `general_ci` is:
 *   - U+0000..U+00FF use MariaDB's table exactly: case folded to upper case and Latin-1
 *     accents dropped (`é` = `E`, `ß` = `S`, `ÿ` = `Y`), with `Æ Ð Ø Þ × ÷` kept distinct.
 *   - Letters in Latin Extended-A/B and Latin Extended Additional whose canonical
 *     decomposition is an ASCII letter plus combining marks fold to that letter
 *     (`ą` = `A`); MariaDB's tables do this for most, not necessarily all, of them.
 *   - Every other BMP code point maps to its simple (one-to-one) upper case as JavaScript's
 *     Unicode data gives it, which may be a newer Unicode version than MariaDB's tables.
 *   - Code points above U+FFFF all weigh U+FFFD, so all emoji compare equal, as in MariaDB;
 *     lone surrogates (not valid UTF-8) weigh U+FFFD too.
 *   - PAD SPACE is approximated by trimming trailing U+0020. MariaDB pads the shorter
 *     string with spaces instead, so a string ending in a character weighing less than a
 *     space (`'a\t'`) sorts after `'a'` here and before it in MariaDB. Equality is exact.
 */

/** A collation: a name and a sort-key function. */
export interface Collation {
  /** The MySQL collation name, e.g. `utf8mb4_general_ci`. */
  readonly name: string;
  /**
   * The sort key of `value`: identical for strings equal under the collation, and
   * bytewise ordered as the collation orders the strings.
   */
  sortKey(value: string): Uint8Array;
  /**
   * Compares two strings as their sort keys compare (-1, 0, 1), without building them
   * (sorting and grouping compare strings often).
   */
  compare(a: string, b: string): number;
}

const utf8 = new TextEncoder();
const space = 0x20;

function trimTrailingSpaces(value: string): string {
  let end = value.length;
  while (end > 0 && value.charCodeAt(end - 1) === space) end--;
  return end === value.length ? value : value.slice(0, end);
}

/** The length of `value` without its trailing spaces. */
function trimmedLength(value: string): number {
  let end = value.length;
  while (end > 0 && value.charCodeAt(end - 1) === space) end--;
  return end;
}

/**
 * Compares `a[0, aEnd)` and `b[0, bEnd)` code point by code point, each mapped by
 * `weight` (a shorter string that is a prefix sorts first): the order of sort keys that
 * write each code point's weight in a fixed width, or of UTF-8 bytes.
 */
function compareByCodePoints(a: string, aEnd: number, b: string, bEnd: number,
  weight: (codePoint: number) => number): number {
  let i = 0;
  let j = 0;
  while (i < aEnd && j < bEnd) {
    const ca = a.codePointAt(i)!;
    const cb = b.codePointAt(j)!;
    if (ca !== cb) {
      const wa = weight(ca);
      const wb = weight(cb);
      if (wa !== wb) return wa < wb ? -1 : 1;
    }
    i += ca > 0xffff ? 2 : 1;
    j += cb > 0xffff ? 2 : 1;
  }
  return (i < aEnd ? 1 : 0) - (j < bEnd ? 1 : 0);
}

/** A code point as UTF-8 orders it: a lone surrogate is encoded as U+FFFD. */
function utf8Weight(codePoint: number): number {
  return codePoint >= 0xd800 && codePoint <= 0xdfff ? 0xfffd : codePoint;
}

/** Binary comparison of the UTF-8 bytes, no padding (`binary`). */
export const binaryCollation: Collation = {
  name: "binary",
  sortKey: (value) => utf8.encode(value),
  compare: (a, b) => compareByCodePoints(a, a.length, b, b.length, utf8Weight),
};

/** Binary comparison of the UTF-8 bytes with trailing spaces ignored (`utf8mb4_bin`). */
export const utf8mb4BinCollation: Collation = {
  name: "utf8mb4_bin",
  sortKey: (value) => utf8.encode(trimTrailingSpaces(value)),
  compare: (a, b) => compareByCodePoints(a, trimmedLength(a), b, trimmedLength(b), utf8Weight),
};

/**
 * Weights of U+00C0..U+00FF in MariaDB's `utf8mb4_general_ci` (its `plane00` sort
 * column): accented Latin-1 letters weigh as their base capital letter.
 */
const latin1UpperWeights = [
  // À Á Â Ã Ä Å Æ Ç È É Ê Ë Ì Í Î Ï
  0x41, 0x41, 0x41, 0x41, 0x41, 0x41, 0xc6, 0x43, 0x45, 0x45, 0x45, 0x45, 0x49, 0x49, 0x49, 0x49,
  // Ð Ñ Ò Ó Ô Õ Ö × Ø Ù Ú Û Ü Ý Þ ß
  0xd0, 0x4e, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0xd7, 0xd8, 0x55, 0x55, 0x55, 0x55, 0x59, 0xde, 0x53,
  // à á â ã ä å æ ç è é ê ë ì í î ï
  0x41, 0x41, 0x41, 0x41, 0x41, 0x41, 0xc6, 0x43, 0x45, 0x45, 0x45, 0x45, 0x49, 0x49, 0x49, 0x49,
  // ð ñ ò ó ô õ ö ÷ ø ù ú û ü ý þ ÿ
  0xd0, 0x4e, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0xf7, 0xd8, 0x55, 0x55, 0x55, 0x55, 0x59, 0xde, 0x59,
];

const micro = 0xb5;
const greekCapitalMu = 0x39c;
const replacement = 0xfffd;

function latin1Weight(codePoint: number): number {
  if (codePoint >= 0x61 && codePoint <= 0x7a) return codePoint - 0x20;
  if (codePoint >= 0xc0) return latin1UpperWeights[codePoint - 0xc0]!;
  if (codePoint === micro) return greekCapitalMu;
  return codePoint;
}

function isLatinExtended(codePoint: number): boolean {
  return (
    (codePoint >= 0x100 && codePoint <= 0x24f) || (codePoint >= 0x1e00 && codePoint <= 0x1eff)
  );
}

/** The ASCII base letter of `char` when it decomposes to one plus combining marks. */
function asciiBase(char: string): number | undefined {
  const decomposed = char.normalize("NFD");
  const base = decomposed.charCodeAt(0);
  if (decomposed.length < 2 || base >= 0x80) return undefined;
  for (let i = 1; i < decomposed.length; i++) {
    const mark = decomposed.charCodeAt(i);
    if (mark < 0x300 || mark > 0x36f) return undefined;
  }
  return base;
}

function computeGeneralCiWeight(codePoint: number): number {
  if (codePoint < 0x100) return latin1Weight(codePoint);
  if (codePoint > 0xffff || (codePoint >= 0xd800 && codePoint <= 0xdfff)) return replacement;
  const char = String.fromCharCode(codePoint);
  if (isLatinExtended(codePoint)) {
    const base = asciiBase(char);
    if (base !== undefined) return latin1Weight(base);
  }
  const upper = char.toUpperCase();
  // Only one-to-one mappings are simple case mappings (`ŉ` → `ʼN` is not).
  if (upper.length !== 1) return codePoint;
  const upperCode = upper.charCodeAt(0);
  return upperCode < 0x100 ? latin1Weight(upperCode) : upperCode;
}

/**
 * Memoized BMP weights, filled on first use: 64 Ki entries, a fixed bound. -1 means not
 * yet computed.
 */
let bmpWeights: Int32Array | undefined;

/** The `utf8mb4_general_ci` weight of one code point (see the file comment). */
export function generalCiWeight(codePoint: number): number {
  if (codePoint > 0xffff) return replacement;
  bmpWeights ??= new Int32Array(0x10000).fill(-1);
  let weight = bmpWeights[codePoint]!;
  if (weight < 0) {
    weight = computeGeneralCiWeight(codePoint);
    bmpWeights[codePoint] = weight;
  }
  return weight;
}

/** Case- and accent-insensitive comparison approximating MariaDB's default collation. */
export const generalCiCollation: Collation = {
  name: "utf8mb4_general_ci",
  sortKey(value) {
    const trimmed = trimTrailingSpaces(value);
    const key = new Uint8Array(trimmed.length * 2);
    let used = 0;
    for (const char of trimmed) {
      const weight = generalCiWeight(char.codePointAt(0)!);
      key[used++] = weight >> 8;
      key[used++] = weight & 0xff;
    }
    return used === key.length ? key : key.slice(0, used);
  },
  compare: (a, b) => compareByCodePoints(a, trimmedLength(a), b, trimmedLength(b),
    generalCiWeight),
};

function isAscii(value: string): boolean {
  for (let i = 0; i < value.length; i++) if (value.charCodeAt(i) >= 0x80) return false;
  return true;
}

/**
 * A string equal for two values exactly when their `utf8mb4_general_ci` sort keys are
 * equal (one UTF-16 unit per character weight), for hash keys of grouping and joins.
 */
export function generalCiKeyString(value: string): string {
  const trimmed = trimTrailingSpaces(value);
  // ASCII weighs as its upper case.
  if (isAscii(trimmed)) return trimmed.toUpperCase();
  let out = "";
  for (const char of trimmed) out += String.fromCharCode(generalCiWeight(char.codePointAt(0)!));
  return out;
}

/**
 * A string equal for two values exactly when `collation` finds them equal (hash keys of
 * grouping, DISTINCT and joins): general_ci weights, the `_bin` text without trailing
 * spaces, or the binary text itself.
 */
export function collationKeyString(collation: Collation, value: string): string {
  if (collation === binaryCollation) return value;
  if (collation === utf8mb4BinCollation) return trimTrailingSpaces(value);
  if (collation === generalCiCollation) return generalCiKeyString(value);
  return String.fromCharCode(...collation.sortKey(value));
}

const collations: ReadonlyMap<string, Collation> = new Map(
  [binaryCollation, utf8mb4BinCollation, generalCiCollation].map((c) => [c.name, c]),
);

/** The collation named `name` (case-insensitive), or undefined when Tessera lacks it. */
export function collationByName(name: string): Collation | undefined {
  return collations.get(name.toLowerCase());
}
