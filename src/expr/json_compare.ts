/**
 * Comparing JSON values as MySQL 8 does (its manual, "Comparison and Ordering of JSON
 * Values"), for `=`, `<`, `<=>` …, IN, BETWEEN and ORDER BY. Values of different JSON
 * types order by type precedence, lowest first: NULL, numbers (INTEGER and DOUBLE
 * together), STRING, OBJECT, ARRAY, BOOLEAN, then the temporal types DATE, TIME and
 * DATETIME (an SQL DATE or DATETIME compared with JSON). Within a type: numbers
 * numerically, strings bytewise on their UTF-8 (a prefix first: "a" < "ab" < "b"),
 * false < true, arrays element by element (a shorter prefix first), objects equal when
 * they have the same keys and values (unequal ones in a fixed but unspecified order).
 *
 * An SQL value compared with JSON is first made a JSON value: a string becomes a JSON
 * string (never parsed: `'{"a": 1}'` is a string, not an object), a number a JSON
 * number. MariaDB differs: its JSON is a LONGTEXT and compares as text; Tessera follows
 * MySQL 8. Pure: no I/O.
 */
import { type JsonNode, formatJsonDouble, parseJson } from "./json.ts";
import { type Value, toText } from "./value.ts";

/** A JSON value to compare, or an SQL temporal value (which JSON ranks above its types). */
type Comparable =
  | JsonNode
  | { readonly kind: "temporal"; readonly rank: number; readonly text: string };

/** Type precedence, lowest first (MySQL lists it highest first). */
function rankOf(node: Comparable): number {
  switch (node.kind) {
    case "temporal":
      return node.rank;
    case "string":
      return 2;
    case "object":
      return 3;
    case "array":
      return 4;
    case "literal":
      if (node.text === "null") return 0;
      if (node.text === "true" || node.text === "false") return 5;
      return 1;
  }
}

/** The JSON value an SQL value (not NULL) is compared as; `json` when it holds JSON text. */
function comparableOf(value: Exclude<Value, null>): Comparable {
  switch (value.kind) {
    case "int":
    case "uint":
    case "decimal":
      return { kind: "literal", text: toText(value)! };
    case "double":
      return { kind: "literal", text: formatJsonDouble(value.value) };
    case "string": {
      if (value.tag?.kind === "json") {
        const parsed = parseJson(value.value);
        if (parsed.ok) return parsed.node;
      }
      return { kind: "string", value: value.value };
    }
    case "datetime":
      return { kind: "temporal", rank: value.date === true ? 6 : 8, text: toText(value)! };
  }
}

function sign(n: number): number {
  return n < 0 ? -1 : n > 0 ? 1 : 0;
}

const encoder = new TextEncoder();

/** Bytewise comparison of the UTF-8 of `a` and `b`, a prefix first. */
function compareUtf8(a: string, b: string): number {
  if (a === b) return 0;
  const x = encoder.encode(a);
  const y = encoder.encode(b);
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) if (x[i] !== y[i]) return x[i]! < y[i]! ? -1 : 1;
  return sign(x.length - y.length);
}

function compareNumbers(a: string, b: string): number {
  const integer = /^-?\d+$/;
  if (integer.test(a) && integer.test(b)) {
    const x = BigInt(a);
    const y = BigInt(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  return sign(Number(a) - Number(b));
}

function compareNodes(a: Comparable, b: Comparable): number {
  const ra = rankOf(a);
  const rb = rankOf(b);
  if (ra !== rb) return sign(ra - rb);
  if (a.kind === "temporal" && b.kind === "temporal") return compareUtf8(a.text, b.text);
  if (a.kind === "string" && b.kind === "string") return compareUtf8(a.value, b.value);
  if (a.kind === "literal" && b.kind === "literal") {
    if (ra === 1) return compareNumbers(a.text, b.text);
    // false < true; null = null.
    return a.text === b.text ? 0 : a.text === "false" ? -1 : 1;
  }
  if (a.kind === "array" && b.kind === "array") {
    const n = Math.min(a.items.length, b.items.length);
    for (let i = 0; i < n; i++) {
      const c = compareNodes(a.items[i]!, b.items[i]!);
      if (c !== 0) return c;
    }
    return sign(a.items.length - b.items.length);
  }
  if (a.kind === "object" && b.kind === "object") {
    if (a.members.size !== b.members.size) return sign(a.members.size - b.members.size);
    const keysA = [...a.members.keys()].sort(compareUtf8);
    const keysB = [...b.members.keys()].sort(compareUtf8);
    for (let i = 0; i < keysA.length; i++) {
      const k = compareUtf8(keysA[i]!, keysB[i]!);
      if (k !== 0) return k;
    }
    for (const key of keysA) {
      const c = compareNodes(a.members.get(key)!, b.members.get(key)!);
      if (c !== 0) return c;
    }
    return 0;
  }
  return 0;
}

/** Compares two JSON values by MySQL's JSON rules: -1, 0 or 1 (JSON_CONTAINS, MEMBER OF). */
export function compareJsonNodes(a: JsonNode, b: JsonNode): number {
  return compareNodes(a, b);
}

/**
 * Compares `a` and `b`, at least one of them JSON (a string tagged `json`), by MySQL's
 * JSON rules: -1, 0 or 1.
 */
export function compareJson(a: Exclude<Value, null>, b: Exclude<Value, null>): number {
  return compareNodes(comparableOf(a), comparableOf(b));
}
