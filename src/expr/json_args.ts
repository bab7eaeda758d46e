/**
 * Reading the arguments of MySQL's JSON functions: a JSON document (3141 when the text is
 * not JSON, 3146 when a number stands where a document must), a path (3143 when invalid,
 * 3149 when a wildcard or range stands where one value must be named), 'one' / 'all'
 * (3154), a value to embed, and the JSON result with MySQL's JSON type (245). Shared by
 * json_functions.ts, json_search_functions.ts and json_modify_functions.ts.
 */
import { ExprError } from "./errors.ts";
import type { Expr } from "./expr.ts";
import type { CallExpr, EvalState } from "./functions.ts";
import { type JsonNode, type JsonPathLeg, formatJsonDouble, isWildcardPath, parseJson,
  parseJsonPathAt, printJson } from "./json.ts";
import { type FieldType, TypeCode, stringType } from "./types.ts";
import { type Value, toText } from "./value.ts";

/** The result type of a function returning JSON. */
export function jsonResultType(nullable: boolean): FieldType {
  return { ...stringType(1_073_741_823, { nullable }), code: TypeCode.Json };
}

/** A JSON result: its normalized text, tagged so that it compares as JSON. */
export function jsonResult(node: JsonNode): Value {
  return { kind: "string", value: printJson(node), tag: { kind: "json" } };
}

/**
 * Argument `index` (0-based) of `call` as a JSON document; null for NULL. A number or a
 * temporal value is 3146, as in MySQL; text is parsed (3141 when it is not JSON).
 */
export function jsonDocumentArg(call: CallExpr, state: EvalState, index: number,
  name: string): JsonNode | null {
  const value = state.ev(call.args[index]!);
  if (value === null) return null;
  if (value.kind !== "string") {
    throw new ExprError({ kind: "jsonInvalidType", argument: index + 1, functionName: name });
  }
  const parsed = parseJson(value.value);
  if (!parsed.ok) {
    throw new ExprError({ kind: "invalidJsonText", argument: index + 1, functionName: name,
      message: parsed.error.message, position: parsed.error.position });
  }
  return parsed.node;
}

/** `text` as a path: 3143 when it is not one, 3149 when `single` and it is a wildcard. */
export function jsonPathOf(text: string, single: boolean): JsonPathLeg[] {
  const parsed = parseJsonPathAt(text);
  if (!parsed.ok) throw new ExprError({ kind: "invalidJsonPath", position: parsed.position });
  if (single && isWildcardPath(parsed.legs)) throw new ExprError({ kind: "jsonPathWildcard" });
  return parsed.legs;
}

/** Argument `index` of `call` as a path (see `jsonPathOf`); null for NULL. */
export function jsonPathArg(call: CallExpr, state: EvalState, index: number,
  single: boolean): JsonPathLeg[] | null {
  const text = toText(state.ev(call.args[index]!));
  return text === null ? null : jsonPathOf(text, single);
}

/** Argument `index` of `call` as 'one' (true) or 'all' (false), any case; null for NULL. */
export function oneOrAllArg(call: CallExpr, state: EvalState, index: number,
  name: string): boolean | null {
  const text = toText(state.ev(call.args[index]!));
  if (text === null) return null;
  const lower = text.toLowerCase();
  if (lower !== "one" && lower !== "all") {
    throw new ExprError({ kind: "jsonOneOrAll", functionName: name });
  }
  return lower === "one";
}

/** Argument `index` of `call` as a JSON value to embed (a JSON argument as a document). */
export function jsonValueArg(call: CallExpr, state: EvalState, index: number): JsonNode {
  const arg = call.args[index]!;
  return jsonNodeOfArg(arg, state.ev(arg));
}

/** The built-ins MySQL counts as boolean (`Item_bool_func`): JSON true or false. */
const booleanBuiltins: ReadonlySet<string> = new Set(["=", "<>", "<", "<=", ">", ">=",
  "<=>", "and", "or", "xor", "not", "isnull", "istrue", "isfalse", "between", "in", "like",
  "regexp_like", "json_member_of"]);

/**
 * The value of `expr` as a JSON value, as `jsonNodeOfValue`, except that a comparison or
 * other predicate is JSON `true` / `false`, as in MySQL (`JSON_ARRAY(1 < 2)` is `[true]`).
 */
export function jsonNodeOfArg(expr: Expr, value: Value): JsonNode {
  if (value !== null && expr.kind === "call" && booleanBuiltins.has(expr.fn) &&
    (value.kind === "int" || value.kind === "uint")) {
    return { kind: "literal", text: value.value === 0n ? "false" : "true" };
  }
  return jsonNodeOfValue(expr.type, value);
}

/**
 * An SQL value of static type `type` as a JSON value: numbers as JSON numbers, a JSON
 * document (by its type or its tag) embedded as parsed, other text and temporal values as
 * JSON strings, NULL as `null` (JSON_OBJECT, JSON_ARRAY, JSON_ARRAYAGG, JSON_OBJECTAGG).
 */
export function jsonNodeOfValue(type: FieldType | undefined, value: Value): JsonNode {
  if (value === null) return { kind: "literal", text: "null" };
  switch (value.kind) {
    case "int":
    case "uint":
    case "decimal":
      return { kind: "literal", text: toText(value)! };
    case "double":
      return { kind: "literal", text: formatJsonDouble(value.value) };
    case "string": {
      if (type?.code === TypeCode.Json || value.tag?.kind === "json") {
        const parsed = parseJson(value.value);
        if (parsed.ok) return parsed.node;
      }
      return { kind: "string", value: value.value };
    }
    case "datetime":
      return { kind: "string", value: toText(value)! };
  }
}
