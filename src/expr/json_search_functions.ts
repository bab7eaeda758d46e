/**
 * MySQL 8's JSON functions that measure, search and print documents: JSON_LENGTH,
 * JSON_DEPTH, JSON_KEYS, JSON_CONTAINS, JSON_CONTAINS_PATH, JSON_SEARCH, JSON_OVERLAPS,
 * `value MEMBER OF (array)` (the built-in `json_member_of`), JSON_VALUE (without its
 * RETURNING / ON EMPTY / ON ERROR clauses), JSON_PRETTY, JSON_STORAGE_SIZE and
 * JSON_STORAGE_FREE. A NULL argument makes the result NULL; a path that must name one
 * value may not hold a wildcard, `**` or a range (3149); a path that names nothing makes
 * JSON_LENGTH, JSON_KEYS and JSON_CONTAINS NULL. Values compare as JSON (json_compare.ts):
 * 1 and 1.0 are equal, "1" and 1 are not. Pure: no I/O.
 */
import { utf8mb4BinCollation } from "../codec/mod.ts";
import { likeMatch } from "./compare.ts";
import { ExprError } from "./errors.ts";
import type { Builtin, CallExpr, EvalState } from "./functions.ts";
import { type JsonNode, type JsonPathLeg, compareJsonKeys, extractJson, isWildcardPath,
  printJson, resolveArrayPosition, resolveIndexLeg } from "./json.ts";
import { compareJsonNodes } from "./json_compare.ts";
import { jsonDocumentArg, jsonNodeOfArg, jsonPathArg, jsonResult, jsonResultType,
  oneOrAllArg } from "./json_args.ts";
import { intType, stringType } from "./types.ts";
import { type Value, toText } from "./value.ts";

function intValue(n: number | bigint): Value {
  return { kind: "int", value: BigInt(n) };
}

function boolResult(b: boolean): Value {
  return intValue(b ? 1 : 0);
}

function sortedKeys(node: Extract<JsonNode, { kind: "object" }>): string[] {
  return [...node.members.keys()].sort(compareJsonKeys);
}

/** The one value an optional single-value path argument at `index` names in `doc`. */
function atOptionalPath(call: CallExpr, state: EvalState, doc: JsonNode | null,
  index: number): JsonNode | null | "null" {
  if (doc === null) return "null";
  if (call.args.length <= index) return doc;
  const legs = jsonPathArg(call, state, index, true);
  if (legs === null) return "null";
  return extractJson(doc, legs)[0] ?? null;
}

const jsonLength: Builtin = {
  minArgs: 1, maxArgs: 2,
  infer: () => intType({ length: 10, nullable: true }),
  run: (call, state) => {
    const doc = jsonDocumentArg(call, state, 0, "json_length");
    const node = atOptionalPath(call, state, doc, 1);
    if (node === null || node === "null") return null;
    if (node.kind === "array") return intValue(node.items.length);
    if (node.kind === "object") return intValue(node.members.size);
    return intValue(1);
  },
};

/** JSON_DEPTH: 1 for a scalar or an empty container, else 1 + the deepest member's. */
function depthOf(node: JsonNode): number {
  const children = node.kind === "array" ? node.items
    : node.kind === "object" ? [...node.members.values()] : [];
  let deepest = 0;
  for (const child of children) deepest = Math.max(deepest, depthOf(child));
  return 1 + deepest;
}

const jsonDepth: Builtin = {
  minArgs: 1, maxArgs: 1,
  infer: (args) => intType({ length: 10, nullable: args[0]!.type.nullable }),
  run: (call, state) => {
    const doc = jsonDocumentArg(call, state, 0, "json_depth");
    return doc === null ? null : intValue(depthOf(doc));
  },
};

const jsonKeys: Builtin = {
  minArgs: 1, maxArgs: 2,
  infer: () => jsonResultType(true),
  run: (call, state) => {
    const doc = jsonDocumentArg(call, state, 0, "json_keys");
    const node = atOptionalPath(call, state, doc, 1);
    if (node === null || node === "null" || node.kind !== "object") return null;
    return jsonResult({ kind: "array",
      items: sortedKeys(node).map((k): JsonNode => ({ kind: "string", value: k })) });
  },
};

function isScalar(node: JsonNode): boolean {
  return node.kind === "literal" || node.kind === "string";
}

/**
 * MySQL 8's containment (its `contains_wr`): whether `candidate` is contained in `target`
 * (JSON_CONTAINS). In an array target, a candidate array must be contained in one of its
 * arrays; a scalar or object is equal to one of its scalars or contained in one of its
 * arrays or objects, at any depth: `JSON_CONTAINS('[[1]]', '1')` is 1.
 */
export function jsonContains(target: JsonNode, candidate: JsonNode): boolean {
  if (target.kind === "array") {
    const wanted = candidate.kind === "array" ? candidate.items : [candidate];
    return wanted.every((c) => target.items.some((t) => c.kind === "array"
      ? t.kind === "array" && jsonContains(t, c)
      : isScalar(t) ? compareJsonNodes(t, c) === 0 : jsonContains(t, c)));
  }
  if (target.kind === "object") {
    if (candidate.kind !== "object") return false;
    for (const [key, value] of candidate.members) {
      const t = target.members.get(key);
      if (t === undefined || !jsonContains(t, value)) return false;
    }
    return true;
  }
  return isScalar(candidate) && compareJsonNodes(target, candidate) === 0;
}

const jsonContainsFunction: Builtin = {
  minArgs: 2, maxArgs: 3,
  infer: () => intType({ length: 1, nullable: true }),
  run: (call, state) => {
    const target = jsonDocumentArg(call, state, 0, "json_contains");
    if (target === null) return null;
    const candidate = jsonDocumentArg(call, state, 1, "json_contains");
    const node = atOptionalPath(call, state, target, 2);
    if (candidate === null || node === null || node === "null") return null;
    return boolResult(jsonContains(node, candidate));
  },
};

const jsonContainsPath: Builtin = {
  minArgs: 3, maxArgs: Infinity,
  infer: () => intType({ length: 1, nullable: true }),
  run: (call, state) => {
    const doc = jsonDocumentArg(call, state, 0, "json_contains_path");
    if (doc === null) return null;
    const one = oneOrAllArg(call, state, 1, "json_contains_path");
    const paths: JsonPathLeg[][] = [];
    for (let i = 2; i < call.args.length; i++) {
      const legs = jsonPathArg(call, state, i, false);
      if (legs === null) return null;
      paths.push(legs);
    }
    if (one === null) return null;
    const found = paths.map((legs) => extractJson(doc, legs).length > 0);
    return boolResult(one ? found.some((f) => f) : found.every((f) => f));
  },
};

/** A value a path reaches, with the path (as MySQL prints it) that names it. */
interface Located {
  readonly node: JsonNode;
  readonly path: string;
}

const identifier = /^[\p{L}\p{Nl}_$][\p{L}\p{Nl}\p{Mn}\p{Mc}\p{Nd}\p{Pc}_$\u200c\u200d]*$/u;

function keyLeg(name: string): string {
  return identifier.test(name) ? `.${name}` : `.${JSON.stringify(name)}`;
}

/** `node` and every value in it with their paths below `path`, in document order. */
function allWithPaths(node: JsonNode, path: string, out: Located[]): void {
  out.push({ node, path });
  if (node.kind === "array") {
    node.items.forEach((item, i) => allWithPaths(item, `${path}[${i}]`, out));
  } else if (node.kind === "object") {
    for (const k of sortedKeys(node)) allWithPaths(node.members.get(k)!, path + keyLeg(k), out);
  }
}

/** A path without wildcards as MySQL prints it (`$.a[last-1]."b c"`). */
function pathText(legs: readonly JsonPathLeg[]): string {
  let text = "$";
  for (const leg of legs) {
    if (leg.kind === "key") text += keyLeg(leg.name);
    else if (leg.kind === "index") {
      text += leg.fromEnd !== true ? `[${leg.index}]`
        : leg.index === 0 ? "[last]" : `[last-${leg.index}]`;
    }
  }
  return text;
}

/**
 * `extractJson` that also names the path of each value found: the location in the
 * document for a wildcard path, the path itself otherwise (as MySQL's JSON_SEARCH does).
 */
function locate(root: JsonNode, legs: readonly JsonPathLeg[]): Located[] {
  if (isWildcardPath(legs)) return extractWithPaths(root, legs);
  const found = extractJson(root, legs)[0];
  return found === undefined ? [] : [{ node: found, path: pathText(legs) }];
}

/** `extractJson` that also names the path of each value found. */
function extractWithPaths(root: JsonNode, legs: readonly JsonPathLeg[]): Located[] {
  let current: Located[] = [{ node: root, path: "$" }];
  for (const leg of legs) {
    const next: Located[] = [];
    for (const { node, path } of current) {
      const items = node.kind === "array" ? node.items : [node];
      const at = (i: number): Located =>
        node.kind === "array" ? { node: items[i]!, path: `${path}[${i}]` } : { node, path };
      switch (leg.kind) {
        case "key": {
          const v = node.kind === "object" ? node.members.get(leg.name) : undefined;
          if (v !== undefined) next.push({ node: v, path: path + keyLeg(leg.name) });
          break;
        }
        case "index": {
          const i = resolveIndexLeg(leg, items.length);
          if (i >= 0 && i < items.length) next.push(at(i));
          break;
        }
        case "range": {
          const from = Math.max(0, resolveArrayPosition(leg.from, items.length));
          const to = Math.min(items.length - 1, resolveArrayPosition(leg.to, items.length));
          for (let i = from; i <= to; i++) next.push(at(i));
          break;
        }
        case "anyKey":
          if (node.kind === "object") {
            for (const k of sortedKeys(node)) {
              next.push({ node: node.members.get(k)!, path: path + keyLeg(k) });
            }
          }
          break;
        case "anyIndex":
          if (node.kind === "array") items.forEach((_, i) => next.push(at(i)));
          break;
        case "ellipsis":
          allWithPaths(node, path, next);
          break;
      }
    }
    const seen = new Set<string>();
    current = next.filter((l) => !seen.has(l.path) && seen.add(l.path) !== undefined);
  }
  return current;
}

const jsonSearch: Builtin = {
  minArgs: 3, maxArgs: Infinity,
  infer: () => jsonResultType(true),
  run: (call, state) => {
    const doc = jsonDocumentArg(call, state, 0, "json_search");
    if (doc === null) return null;
    const one = oneOrAllArg(call, state, 1, "json_search");
    const pattern = toText(state.ev(call.args[2]!));
    let escape = "\\";
    if (call.args.length > 3) {
      const e = toText(state.ev(call.args[3]!));
      if (e !== null && [...e].length > 1) {
        throw new ExprError({ kind: "wrongArguments", functionName: "ESCAPE" });
      }
      if (e !== null && e !== "") escape = e;
    }
    const paths: JsonPathLeg[][] = [];
    for (let i = 4; i < call.args.length; i++) {
      const legs = jsonPathArg(call, state, i, false);
      if (legs === null) return null;
      paths.push(legs);
    }
    if (one === null || pattern === null) return null;
    if (paths.length === 0) paths.push([]);
    const matches: string[] = [];
    const seen = new Set<string>();
    for (const legs of paths) {
      for (const start of locate(doc, legs)) {
        const all: Located[] = [];
        allWithPaths(start.node, start.path, all);
        for (const { node, path } of all) {
          if (node.kind !== "string" || seen.has(path)) continue;
          if (!likeMatch(node.value, pattern, { escape, collation: utf8mb4BinCollation })) {
            continue;
          }
          seen.add(path);
          matches.push(path);
          if (one) return jsonResult({ kind: "string", value: path });
        }
      }
    }
    if (matches.length === 0) return null;
    if (matches.length === 1) return jsonResult({ kind: "string", value: matches[0]! });
    return jsonResult({ kind: "array",
      items: matches.map((p): JsonNode => ({ kind: "string", value: p })) });
  },
};

function equalJson(a: JsonNode, b: JsonNode): boolean {
  return compareJsonNodes(a, b) === 0;
}

const jsonOverlaps: Builtin = {
  minArgs: 2, maxArgs: 2,
  infer: () => intType({ length: 1, nullable: true }),
  run: (call, state) => {
    const a = jsonDocumentArg(call, state, 0, "json_overlaps");
    const b = jsonDocumentArg(call, state, 1, "json_overlaps");
    if (a === null || b === null) return null;
    if (a.kind !== "array" && b.kind !== "array") {
      if (a.kind === "object" && b.kind === "object") {
        for (const [key, value] of a.members) {
          const other = b.members.get(key);
          if (other !== undefined && equalJson(value, other)) return boolResult(true);
        }
        return boolResult(false);
      }
      return boolResult(equalJson(a, b));
    }
    const x = a.kind === "array" ? a.items : [a];
    const y = b.kind === "array" ? b.items : [b];
    return boolResult(x.some((p) => y.some((q) => equalJson(p, q))));
  },
};

/** `value MEMBER OF (json_array)`: a non-array document is an array of itself. */
const jsonMemberOf: Builtin = {
  minArgs: 2, maxArgs: 2,
  infer: () => intType({ length: 1, nullable: true }),
  run: (call, state) => {
    const valueExpr = call.args[0]!;
    const operand = state.ev(valueExpr);
    const array = jsonDocumentArg(call, state, 1, "member of");
    if (operand === null || array === null) return null;
    const value = jsonNodeOfArg(valueExpr, operand);
    const items = array.kind === "array" ? array.items : [array];
    return boolResult(items.some((item) => equalJson(item, value)));
  },
};

/** JSON_PRETTY's layout: two spaces per level, one member or element per line. */
export function prettyJson(node: JsonNode, indent = ""): string {
  const inner = `${indent}  `;
  if (node.kind === "array") {
    if (node.items.length === 0) return "[]";
    return `[\n${node.items.map((i) => inner + prettyJson(i, inner)).join(",\n")}\n${indent}]`;
  }
  if (node.kind === "object") {
    if (node.members.size === 0) return "{}";
    const lines = sortedKeys(node).map((k) =>
      `${inner}${JSON.stringify(k)}: ${prettyJson(node.members.get(k)!, inner)}`);
    return `{\n${lines.join(",\n")}\n${indent}}`;
  }
  return node.kind === "string" ? JSON.stringify(node.value) : node.text;
}

const jsonPretty: Builtin = {
  minArgs: 1, maxArgs: 1,
  infer: (args) => stringType(1_073_741_823, { nullable: args[0]!.type.nullable }),
  run: (call, state) => {
    const doc = jsonDocumentArg(call, state, 0, "json_pretty");
    return doc === null ? null : { kind: "string", value: prettyJson(doc) };
  },
};

const utf8 = new TextEncoder();

/** Bytes of MySQL's variable-length length prefix (7 bits a byte). */
function lengthPrefixBytes(n: number): number {
  let bytes = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    bytes++;
  }
  return bytes;
}

/** Bytes a scalar takes outside its container in MySQL's binary JSON (0 when inlined). */
function scalarBytes(node: JsonNode, large: boolean): number {
  if (node.kind === "string") {
    const n = utf8.encode(node.value).length;
    return lengthPrefixBytes(n) + n;
  }
  if (node.kind !== "literal" || ["true", "false", "null"].includes(node.text)) return 0;
  if (!/^-?\d+$/.test(node.text)) return 8;
  const n = BigInt(node.text);
  if (n >= -32768n && n <= 32767n) return 0;
  if (n >= -(2n ** 31n) && n < 2n ** 31n) return large ? 0 : 4;
  return 8;
}

/** The bytes of a value in MySQL's binary JSON format, without its type byte. */
function binarySize(node: JsonNode): number {
  if (node.kind !== "array" && node.kind !== "object") {
    if (node.kind === "literal" && ["true", "false", "null"].includes(node.text)) return 1;
    if (node.kind === "literal" && /^-?\d+$/.test(node.text)) {
      const n = BigInt(node.text);
      return n >= -32768n && n <= 32767n ? 2 : n >= -(2n ** 31n) && n < 2n ** 31n ? 4 : 8;
    }
    return scalarBytes(node, false);
  }
  const values = node.kind === "array" ? node.items : sortedKeys(node).map((k) =>
    node.members.get(k)!);
  const keys = node.kind === "object" ? sortedKeys(node) : [];
  const sizeWith = (large: boolean): number => {
    const word = large ? 4 : 2;
    let size = 2 * word + keys.length * (word + 2) + values.length * (1 + word);
    for (const k of keys) size += utf8.encode(k).length;
    for (const v of values) {
      size += v.kind === "array" || v.kind === "object" ? binarySize(v) : scalarBytes(v, large);
    }
    return size;
  };
  const small = sizeWith(false);
  return small <= 0xffff ? small : sizeWith(true);
}

/**
 * JSON_STORAGE_SIZE: the bytes MySQL's binary JSON format takes for the document (its
 * type byte, the small or large container layout with 2- or 4-byte offsets, inlined small
 * integers and literals). It is what MySQL reports for a value not partially updated.
 */
const jsonStorageSize: Builtin = {
  minArgs: 1, maxArgs: 1,
  infer: (args) => intType({ length: 10, nullable: args[0]!.type.nullable }),
  run: (call, state) => {
    const doc = jsonDocumentArg(call, state, 0, "json_storage_size");
    return doc === null ? null : intValue(1 + binarySize(doc));
  },
};

/**
 * JSON_VALUE(doc, path) without RETURNING / ON EMPTY / ON ERROR clauses: the value at the
 * path as VARCHAR(512) under utf8mb4_bin, a string unquoted and an object or array as its
 * JSON text; NULL when the path names nothing (NULL ON EMPTY), names JSON null, or a
 * wildcard names several values (NULL ON ERROR).
 */
const jsonValueFunction: Builtin = {
  minArgs: 2, maxArgs: 2,
  infer: () => ({ ...stringType(512, { nullable: true }), collation: "utf8mb4_bin" }),
  run: (call, state) => {
    const doc = jsonDocumentArg(call, state, 0, "json_value");
    const legs = jsonPathArg(call, state, 1, false);
    if (doc === null || legs === null) return null;
    const found = extractJson(doc, legs);
    if (found.length !== 1) return null;
    const node = found[0]!;
    if (node.kind === "string") return { kind: "string", value: node.value };
    if (node.kind === "literal" && node.text === "null") return null;
    return { kind: "string", value: printJson(node) };
  },
};

/**
 * JSON_STORAGE_FREE: the space a partial in-place update freed in a stored value. Tessera
 * rewrites a JSON value whole, so this is 0, as MySQL reports for a value never partially
 * updated (and for any text argument).
 */
const jsonStorageFree: Builtin = {
  minArgs: 1, maxArgs: 1,
  infer: (args) => intType({ length: 10, nullable: args[0]!.type.nullable }),
  run: (call, state) => {
    const doc = jsonDocumentArg(call, state, 0, "json_storage_free");
    return doc === null ? null : intValue(0);
  },
};

/** The built-ins of this file, by lower-case name. */
export const jsonSearchBuiltins: readonly (readonly [string, Builtin])[] = [
  ["json_length", jsonLength],
  ["json_depth", jsonDepth],
  ["json_keys", jsonKeys],
  ["json_contains", jsonContainsFunction],
  ["json_contains_path", jsonContainsPath],
  ["json_search", jsonSearch],
  ["json_overlaps", jsonOverlaps],
  ["json_member_of", jsonMemberOf],
  ["json_pretty", jsonPretty],
  ["json_storage_size", jsonStorageSize],
  ["json_storage_free", jsonStorageFree],
  ["json_value", jsonValueFunction],
];
