/**
 * MySQL 8's JSON functions that change a document: JSON_SET, JSON_INSERT, JSON_REPLACE,
 * JSON_REMOVE, JSON_ARRAY_APPEND, JSON_ARRAY_INSERT, JSON_MERGE_PRESERVE (and its
 * deprecated alias JSON_MERGE) and JSON_MERGE_PATCH. Path/value pairs apply left to right,
 * each to the result of the one before; a path must name one value (3149 for `*`, `**`
 * or a range), a path that names nothing leaves the document as it is, and a NULL
 * document or path makes the result NULL. Index legs treat a non-array as an array of
 * itself, as MySQL does: `JSON_SET('1', '$[1]', 2)` is `[1, 2]`. Pure: no I/O.
 */
import { ExprError } from "./errors.ts";
import type { Builtin, CallExpr, EvalState } from "./functions.ts";
import { type JsonNode, type JsonPathLeg, resolveIndexLeg } from "./json.ts";
import { jsonDocumentArg, jsonPathArg, jsonResult, jsonResultType, jsonValueArg }
  from "./json_args.ts";
import type { BuildErrorReason } from "./errors.ts";
import type { FieldType } from "./types.ts";
import type { Value } from "./value.ts";

type Write = "set" | "insert" | "replace";

/** Inference for `f(doc, path, value[, path, value] …)`: an odd count of at least 3. */
function pairsInfer(name: string) {
  return (args: readonly unknown[]): FieldType | BuildErrorReason =>
    args.length % 2 === 1 ? jsonResultType(true) : { kind: "argumentCount", name };
}

/**
 * `node` after writing `value` at `legs[i…]` below it: JSON_SET replaces or adds,
 * JSON_INSERT only adds, JSON_REPLACE only replaces. Containers change in place.
 */
function writeAt(node: JsonNode, legs: readonly JsonPathLeg[], i: number, value: JsonNode,
  mode: Write): JsonNode {
  if (i === legs.length) return mode === "insert" ? node : value;
  const leg = legs[i]!;
  const last = i === legs.length - 1;
  if (leg.kind === "key") {
    if (node.kind !== "object") return node;
    const child = node.members.get(leg.name);
    if (child !== undefined) {
      node.members.set(leg.name, writeAt(child, legs, i + 1, value, mode));
    } else if (last && mode !== "replace") {
      node.members.set(leg.name, value);
    }
    return node;
  }
  if (leg.kind !== "index") return node;
  if (node.kind === "array") {
    const index = resolveIndexLeg(leg, node.items.length);
    if (index >= 0 && index < node.items.length) {
      node.items[index] = writeAt(node.items[index]!, legs, i + 1, value, mode);
    } else if (last && mode !== "replace" && index >= node.items.length) {
      node.items.push(value);
    }
    return node;
  }
  const index = resolveIndexLeg(leg, 1);
  if (index === 0) return writeAt(node, legs, i + 1, value, mode);
  if (last && mode !== "replace" && index > 0) return { kind: "array", items: [node, value] };
  return node;
}

/**
 * `node` with `change` applied to the value `legs[i…]` names, if there is one; an index
 * leg on a non-array names the value itself at [0] unless `exact` (JSON_REMOVE's paths).
 */
function updateAt(node: JsonNode, legs: readonly JsonPathLeg[], i: number,
  change: (target: JsonNode) => JsonNode, exact = false): JsonNode {
  if (i === legs.length) return change(node);
  const leg = legs[i]!;
  if (leg.kind === "key") {
    const child = node.kind === "object" ? node.members.get(leg.name) : undefined;
    if (node.kind === "object" && child !== undefined) {
      node.members.set(leg.name, updateAt(child, legs, i + 1, change, exact));
    }
    return node;
  }
  if (leg.kind !== "index") return node;
  if (node.kind === "array") {
    const index = resolveIndexLeg(leg, node.items.length);
    if (index >= 0 && index < node.items.length) {
      node.items[index] = updateAt(node.items[index]!, legs, i + 1, change, exact);
    }
    return node;
  }
  return !exact && resolveIndexLeg(leg, 1) === 0 ? updateAt(node, legs, i + 1, change)
    : node;
}

/**
 * Runs `apply` for each (path, value) pair of `f(doc, path, value, …)` on the document;
 * NULL when the document or a path is NULL (a NULL document before its paths are read,
 * as in MySQL).
 */
function runPairs(call: CallExpr, state: EvalState, name: string,
  apply: (doc: JsonNode, legs: JsonPathLeg[], value: JsonNode) => JsonNode): Value {
  let doc = jsonDocumentArg(call, state, 0, name);
  if (doc === null) return null;
  for (let i = 1; i + 1 < call.args.length; i += 2) {
    const legs = jsonPathArg(call, state, i, true);
    if (legs === null) return null;
    doc = apply(doc, legs, jsonValueArg(call, state, i + 1));
  }
  return jsonResult(doc);
}

function writer(name: string, mode: Write): Builtin {
  return {
    minArgs: 3, maxArgs: Infinity,
    infer: pairsInfer(name),
    run: (call, state) => runPairs(call, state, name,
      (doc, legs, value) => writeAt(doc, legs, 0, value, mode)),
  };
}

const jsonRemove: Builtin = {
  minArgs: 2, maxArgs: Infinity,
  infer: () => jsonResultType(true),
  run: (call, state) => {
    const doc = jsonDocumentArg(call, state, 0, "json_remove");
    if (doc === null) return null;
    const paths: JsonPathLeg[][] = [];
    for (let i = 1; i < call.args.length; i++) {
      const legs = jsonPathArg(call, state, i, true);
      if (legs === null) return null;
      paths.push(legs);
    }
    // Every path is read (a NULL one makes the result NULL) before `$` is refused.
    if (paths.some((legs) => legs.length === 0)) {
      throw new ExprError({ kind: "jsonVacuousPath" });
    }
    let result = doc;
    for (const legs of paths) {
      const leg = legs[legs.length - 1]!;
      result = updateAt(result, legs.slice(0, -1), 0, (parent) => {
        if (leg.kind === "key" && parent.kind === "object") parent.members.delete(leg.name);
        if (leg.kind === "index" && parent.kind === "array") {
          const index = resolveIndexLeg(leg, parent.items.length);
          if (index >= 0 && index < parent.items.length) parent.items.splice(index, 1);
        }
        return parent;
      }, true);
    }
    return jsonResult(result);
  },
};

const jsonArrayAppend: Builtin = {
  minArgs: 3, maxArgs: Infinity,
  infer: pairsInfer("json_array_append"),
  run: (call, state) => runPairs(call, state, "json_array_append", (doc, legs, value) =>
    updateAt(doc, legs, 0, (target) => {
      if (target.kind !== "array") return { kind: "array", items: [target, value] };
      target.items.push(value);
      return target;
    })),
};

const jsonArrayInsert: Builtin = {
  minArgs: 3, maxArgs: Infinity,
  infer: pairsInfer("json_array_insert"),
  run: (call, state) => runPairs(call, state, "json_array_insert", (doc, legs, value) => {
    const leg = legs[legs.length - 1];
    if (leg === undefined || leg.kind !== "index") {
      throw new ExprError({ kind: "jsonPathArrayCell" });
    }
    return updateAt(doc, legs.slice(0, -1), 0, (parent) => {
      if (parent.kind !== "array") return parent;
      const index = Math.max(0, resolveIndexLeg(leg, parent.items.length));
      parent.items.splice(Math.min(index, parent.items.length), 0, value);
      return parent;
    });
  }),
};

/** JSON_MERGE_PRESERVE of two values: arrays concatenate, objects merge key by key. */
export function mergePreserve(a: JsonNode, b: JsonNode): JsonNode {
  if (a.kind === "object" && b.kind === "object") {
    for (const [key, value] of b.members) {
      const mine = a.members.get(key);
      a.members.set(key, mine === undefined ? value : mergePreserve(mine, value));
    }
    return a;
  }
  const left = a.kind === "array" ? a.items : [a];
  const right = b.kind === "array" ? b.items : [b];
  return { kind: "array", items: [...left, ...right] };
}

/** JSON_MERGE_PATCH of two values (RFC 7396): a `null` member removes the key. */
export function mergePatch(target: JsonNode, patch: JsonNode): JsonNode {
  if (patch.kind !== "object") return patch;
  const result: JsonNode = target.kind === "object" ? target
    : { kind: "object", members: new Map() };
  for (const [key, value] of patch.members) {
    if (value.kind === "literal" && value.text === "null") {
      result.members.delete(key);
    } else {
      const mine = result.members.get(key);
      result.members.set(key, mergePatch(mine ?? { kind: "literal", text: "null" }, value));
    }
  }
  return result;
}

function mergePreserveFunction(name: string): Builtin {
  return {
    minArgs: 2, maxArgs: Infinity,
    infer: () => jsonResultType(true),
    run: (call, state) => {
      let result: JsonNode | null = null;
      for (let i = 0; i < call.args.length; i++) {
        const doc = jsonDocumentArg(call, state, i, name);
        if (doc === null) return null;
        result = result === null ? doc : mergePreserve(result, doc);
      }
      return result === null ? null : jsonResult(result);
    },
  };
}

/**
 * JSON_MERGE_PATCH reads every document: a NULL one makes the result unknown (NULL)
 * until a later document that is not an object, which is the result by itself.
 */
const jsonMergePatch: Builtin = {
  minArgs: 2, maxArgs: Infinity,
  infer: () => jsonResultType(true),
  run: (call, state) => {
    let result: JsonNode | null = null;
    for (let i = 0; i < call.args.length; i++) {
      const doc = jsonDocumentArg(call, state, i, "json_merge_patch");
      if (doc === null) result = null;
      else if (i === 0 || doc.kind !== "object") result = doc;
      else if (result !== null) result = mergePatch(result, doc);
    }
    return result === null ? null : jsonResult(result);
  },
};

/** The built-ins of this file, by lower-case name. */
export const jsonModifyBuiltins: readonly (readonly [string, Builtin])[] = [
  ["json_set", writer("json_set", "set")],
  ["json_insert", writer("json_insert", "insert")],
  ["json_replace", writer("json_replace", "replace")],
  ["json_remove", jsonRemove],
  ["json_array_append", jsonArrayAppend],
  ["json_array_insert", jsonArrayInsert],
  ["json_merge_preserve", mergePreserveFunction("json_merge_preserve")],
  ["json_merge", mergePreserveFunction("json_merge")],
  ["json_merge_patch", jsonMergePatch],
];
