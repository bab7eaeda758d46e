/**
 * MySQL's JSON functions over JSON values kept as normalized text (src/expr/json.ts):
 * JSON_EXTRACT (and `->` / `->>`, which the SQL layer builds from it and JSON_UNQUOTE),
 * JSON_UNQUOTE, JSON_QUOTE, JSON_OBJECT, JSON_ARRAY, JSON_VALID and JSON_TYPE, and the
 * list of all JSON built-ins (the others are in json_search_functions.ts and
 * json_modify_functions.ts), and CAST(… AS JSON). A document argument that is not JSON
 * fails with 3141, a bad path with 3143. Results of JSON functions have MySQL's JSON column
 * type (245) and compare as JSON.
 */
import { ExprError } from "./errors.ts";
import type { Expr } from "./expr.ts";
import type { Builtin } from "./functions.ts";
import {
  type JsonNode,
  extractJson,
  isWildcardPath,
  jsonTypeName,
  parseJson,
  printJson,
} from "./json.ts";
import { jsonDocumentArg, jsonNodeOfArg, jsonNodeOfValue, jsonPathOf } from "./json_args.ts";
import { jsonModifyBuiltins } from "./json_modify_functions.ts";
import { jsonSearchBuiltins } from "./json_search_functions.ts";
import { type FieldType, TypeCode, intType, stringType } from "./types.ts";
import { type Value, toText } from "./value.ts";

/** The result type of a function returning JSON. */
function jsonType(nullable: boolean): FieldType {
  return { ...stringType(1_073_741_823, { nullable }), code: TypeCode.Json };
}

/**
 * A JSON result: its normalized text, tagged so that it compares as JSON (json_compare.ts).
 */
function jsonValue(node: JsonNode): Value {
  return { kind: "string", value: printJson(node), tag: { kind: "json" } };
}

/** An SQL value as a JSON value (a JSON-typed argument is embedded as a document). */
function toJsonNode(arg: Expr, value: Value): JsonNode {
  return jsonNodeOfArg(arg, value);
}

const jsonExtract: Builtin = {
  minArgs: 2, maxArgs: Infinity,
  infer: () => jsonType(true),
  run: (call, state) => {
    const doc = jsonDocumentArg(call, state, 0, "json_extract");
    const paths: string[] = [];
    for (const arg of call.args.slice(1)) {
      const path = toText(state.ev(arg));
      if (path === null) return null;
      paths.push(path);
    }
    if (doc === null) return null;
    const found: JsonNode[] = [];
    let wildcard = paths.length > 1;
    for (const path of paths) {
      const legs = jsonPathOf(path, false);
      wildcard ||= isWildcardPath(legs);
      found.push(...extractJson(doc, legs));
    }
    if (found.length === 0) return null;
    const result: JsonNode = wildcard ? { kind: "array", items: found } : found[0]!;
    return jsonValue(result);
  },
};

const jsonUnquote: Builtin = {
  minArgs: 1, maxArgs: 1,
  infer: (args) => stringType(Math.max(args[0]!.type.length / 4, 0), { nullable: true }),
  run: (call, state) => {
    const text = toText(state.ev(call.args[0]!));
    if (text === null) return null;
    if (text.length >= 2 && text.startsWith("\"") && text.endsWith("\"")) {
      const parsed = parseJson(text);
      if (parsed.ok && parsed.node.kind === "string") {
        return { kind: "string", value: parsed.node.value };
      }
    }
    return { kind: "string", value: text };
  },
};

const jsonQuote: Builtin = {
  minArgs: 1, maxArgs: 1,
  infer: (args) => stringType(args[0]!.type.length / 4 * 6 + 2, { nullable: true }),
  run: (call, state) => {
    const text = toText(state.ev(call.args[0]!));
    return text === null ? null : { kind: "string", value: JSON.stringify(text) };
  },
};

const jsonObject: Builtin = {
  minArgs: 0, maxArgs: Infinity,
  infer: (args) => args.length % 2 === 0 ? jsonType(false)
    : { kind: "argumentCount", name: "json_object" },
  run: (call, state) => {
    const members = new Map<string, JsonNode>();
    for (let i = 0; i + 1 < call.args.length; i += 2) {
      const key = toText(state.ev(call.args[i]!)) ?? "";
      members.delete(key);
      members.set(key, toJsonNode(call.args[i + 1]!, state.ev(call.args[i + 1]!)));
    }
    return jsonValue({ kind: "object", members });
  },
};

const jsonArray: Builtin = {
  minArgs: 0, maxArgs: Infinity,
  infer: () => jsonType(false),
  run: (call, state) => {
    const items = call.args.map((arg) => toJsonNode(arg, state.ev(arg)));
    return jsonValue({ kind: "array", items });
  },
};

const jsonValid: Builtin = {
  minArgs: 1, maxArgs: 1,
  infer: (args) => intType({ length: 1, nullable: args[0]!.type.nullable }),
  run: (call, state) => {
    const text = toText(state.ev(call.args[0]!));
    if (text === null) return null;
    return { kind: "int", value: parseJson(text).ok ? 1n : 0n };
  },
};

const jsonTypeFunction: Builtin = {
  minArgs: 1, maxArgs: 1,
  infer: (args) => stringType(16, { nullable: args[0]!.type.nullable }),
  run: (call, state) => {
    const doc = jsonDocumentArg(call, state, 0, "json_type");
    return doc === null ? null : { kind: "string", value: jsonTypeName(doc) };
  },
};

/**
 * CAST(x AS JSON): text is parsed as a document (3141 when it is not JSON, as MySQL's
 * `cast_as_json`), a number is a JSON number, a temporal value a JSON string, and a JSON
 * value stays itself.
 */
const castJson: Builtin = {
  minArgs: 1, maxArgs: 1,
  infer: (args) => jsonType(args[0]!.type.nullable),
  run: (call, state) => {
    const arg = call.args[0]!;
    const value = state.ev(arg);
    if (value === null) return null;
    if (value.kind === "string") {
      const parsed = parseJson(value.value);
      if (!parsed.ok) {
        throw new ExprError({ kind: "invalidJsonText", argument: 1,
          functionName: "cast_as_json", message: parsed.error.message,
          position: parsed.error.position });
      }
      return jsonValue(parsed.node);
    }
    return jsonValue(jsonNodeOfValue(arg.type, value));
  },
};

export { jsonNodeOfValue };

/** The JSON built-ins, by lower-case name. */
export const jsonBuiltins: readonly (readonly [string, Builtin])[] = [
  ["json_extract", jsonExtract],
  ["json_unquote", jsonUnquote],
  ["json_quote", jsonQuote],
  ["json_object", jsonObject],
  ["json_array", jsonArray],
  ["json_valid", jsonValid],
  ["json_type", jsonTypeFunction],
  ["cast_json", castJson],
  ...jsonSearchBuiltins,
  ...jsonModifyBuiltins,
];
