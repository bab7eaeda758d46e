/**
 * JSON documents as MySQL 8 handles them: parsing a text with the messages MySQL reports
 * (its RapidJSON parser's, for errors 3140/3141 `Invalid JSON text: "…" at position N`),
 * printing a document in MySQL's normalized form — `{"a": 1, "b": [1, 2]}`: one space
 * after `:` and `,`, object keys sorted by length and then bytewise, the last of
 * duplicate keys kept, integers exact, other numbers as doubles (`1.0`, `1e300`) — and
 * JSON paths (`$.a[0]."b c"`, `[*]`, `.*`, `**`, `[last]`, `[1 to 3]`) for the JSON
 * functions and `->`. JSON values travel through expressions as their normalized text.
 * Pure: no I/O.
 */

/** A parse failure: RapidJSON's message and the offset it was found at. */
export interface JsonTextError {
  readonly message: string;
  readonly position: number;
}

/** A parsed JSON document. */
export type JsonNode =
  | { readonly kind: "literal"; readonly text: string }
  | { readonly kind: "string"; readonly value: string }
  | { readonly kind: "array"; readonly items: JsonNode[] }
  | { readonly kind: "object"; readonly members: Map<string, JsonNode> };

class JsonFailure extends Error {
  readonly position: number;
  constructor(message: string, position: number) {
    super(message);
    this.position = position;
  }
}

/** Nesting MySQL allows (its 100-level document depth limit). */
const depthMax = 100;

class Parser {
  private pos = 0;
  private readonly text: string;
  constructor(text: string) {
    this.text = text;
  }

  private skip(): void {
    while (this.pos < this.text.length && " \t\n\r".includes(this.text[this.pos]!)) this.pos++;
  }

  document(): JsonNode {
    this.skip();
    if (this.pos >= this.text.length) throw new JsonFailure("The document is empty.", this.pos);
    const node = this.value(1);
    this.skip();
    if (this.pos < this.text.length) {
      throw new JsonFailure("The document root must not be followed by other values.",
        this.pos);
    }
    return node;
  }

  private value(depth: number): JsonNode {
    if (depth > depthMax) {
      throw new JsonFailure("The JSON document exceeds the maximum depth.", this.pos);
    }
    const c = this.text[this.pos];
    if (c === "{") return this.object(depth);
    if (c === "[") return this.array(depth);
    if (c === "\"") return { kind: "string", value: this.string() };
    for (const word of ["true", "false", "null"]) {
      if (this.text.startsWith(word, this.pos)) {
        this.pos += word.length;
        return { kind: "literal", text: word };
      }
    }
    return this.number();
  }

  private number(): JsonNode {
    const start = this.pos;
    const m = /^-?(0|[1-9]\d*)/.exec(this.text.slice(this.pos));
    if (m === null) throw new JsonFailure("Invalid value.", this.pos);
    this.pos += m[0].length;
    let isInteger = true;
    if (this.text[this.pos] === ".") {
      this.pos++;
      const f = /^\d+/.exec(this.text.slice(this.pos));
      if (f === null) throw new JsonFailure("Missing fraction part in number.", this.pos);
      this.pos += f[0].length;
      isInteger = false;
    }
    if (this.text[this.pos] === "e" || this.text[this.pos] === "E") {
      this.pos++;
      const e = /^[+-]?\d+/.exec(this.text.slice(this.pos));
      if (e === null) throw new JsonFailure("Missing exponent in number.", this.pos);
      this.pos += e[0].length;
      isInteger = false;
    }
    const text = this.text.slice(start, this.pos);
    if (isInteger) {
      const n = BigInt(text);
      if (n >= -(2n ** 63n) && n < 2n ** 64n) return { kind: "literal", text: n.toString() };
    }
    return { kind: "literal", text: formatJsonDouble(Number(text)) };
  }

  private string(): string {
    this.pos++;
    let out = "";
    for (;;) {
      if (this.pos >= this.text.length) {
        throw new JsonFailure("Missing a closing quotation mark in string.", this.pos);
      }
      const c = this.text[this.pos]!;
      if (c === "\"") {
        this.pos++;
        return out;
      }
      if (c === "\\") {
        const e = this.text[this.pos + 1];
        const simple: Record<string, string> = { "\"": "\"", "\\": "\\", "/": "/", b: "\b",
          f: "\f", n: "\n", r: "\r", t: "\t" };
        if (e !== undefined && simple[e] !== undefined) {
          out += simple[e];
          this.pos += 2;
        } else if (e === "u") {
          const hex = this.text.slice(this.pos + 2, this.pos + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) {
            throw new JsonFailure("Incorrect hex digit after \\u escape in string.",
              this.pos + 2);
          }
          out += String.fromCharCode(parseInt(hex, 16));
          this.pos += 6;
        } else {
          throw new JsonFailure("Invalid escape character in string.", this.pos + 1);
        }
      } else if (c.charCodeAt(0) < 0x20) {
        throw new JsonFailure("Invalid encoding in string.", this.pos);
      } else {
        out += c;
        this.pos++;
      }
    }
  }

  private array(depth: number): JsonNode {
    this.pos++;
    const items: JsonNode[] = [];
    this.skip();
    if (this.text[this.pos] === "]") {
      this.pos++;
      return { kind: "array", items };
    }
    for (;;) {
      this.skip();
      items.push(this.value(depth + 1));
      this.skip();
      const c = this.text[this.pos];
      if (c === ",") this.pos++;
      else if (c === "]") {
        this.pos++;
        return { kind: "array", items };
      } else {
        throw new JsonFailure("Missing a comma or ']' after an array element.", this.pos);
      }
    }
  }

  private object(depth: number): JsonNode {
    this.pos++;
    const members = new Map<string, JsonNode>();
    this.skip();
    if (this.text[this.pos] === "}") {
      this.pos++;
      return { kind: "object", members };
    }
    for (;;) {
      this.skip();
      if (this.text[this.pos] !== "\"") {
        throw new JsonFailure("Missing a name for object member.", this.pos);
      }
      const key = this.string();
      this.skip();
      if (this.text[this.pos] !== ":") {
        throw new JsonFailure("Missing a colon after a name of object member.", this.pos);
      }
      this.pos++;
      this.skip();
      members.delete(key);
      members.set(key, this.value(depth + 1));
      this.skip();
      const c = this.text[this.pos];
      if (c === ",") this.pos++;
      else if (c === "}") {
        this.pos++;
        return { kind: "object", members };
      } else {
        throw new JsonFailure("Missing a comma or '}' after an object member.", this.pos);
      }
    }
  }
}

/** A JSON double as MySQL prints it: `1.0`, `0.5`, `1e300`, `-1.5e-7`. */
export function formatJsonDouble(value: number): string {
  if (!Number.isFinite(value)) return `${value > 0 ? "" : "-"}1.7976931348623157e308`;
  if (Object.is(value, -0)) return "-0.0";
  const text = String(value).replace("e+", "e");
  return /^-?\d+$/.test(text) ? `${text}.0` : text;
}

const utf8 = new TextEncoder();

/** The order MySQL keeps object keys in: shorter first, then bytewise. */
export function compareJsonKeys(a: string, b: string): number {
  return byteCompare(a, b);
}

function byteCompare(a: string, b: string): number {
  const ba = utf8.encode(a);
  const bb = utf8.encode(b);
  if (ba.length !== bb.length) return ba.length - bb.length;
  for (let i = 0; i < ba.length; i++) if (ba[i] !== bb[i]) return ba[i]! - bb[i]!;
  return 0;
}

/** A document in MySQL's normalized text form. */
export function printJson(node: JsonNode): string {
  switch (node.kind) {
    case "literal":
      return node.text;
    case "string":
      return JSON.stringify(node.value);
    case "array":
      return `[${node.items.map(printJson).join(", ")}]`;
    case "object": {
      const keys = [...node.members.keys()].sort(byteCompare);
      return `{${keys.map((k) => `${JSON.stringify(k)}: ${printJson(node.members.get(k)!)}`)
        .join(", ")}}`;
    }
  }
}

/** `text` parsed as a JSON document, or the parse error MySQL reports. */
export function parseJson(text: string):
  { readonly ok: true; readonly node: JsonNode } | { readonly ok: false;
    readonly error: JsonTextError } {
  try {
    return { ok: true, node: new Parser(text).document() };
  } catch (error: unknown) {
    if (error instanceof JsonFailure) {
      return { ok: false, error: { message: error.message, position: error.position } };
    }
    throw error;
  }
}

/** `text` as a normalized JSON document, or the parse error MySQL reports. */
export function normalizeJsonText(text: string):
  { readonly ok: true; readonly text: string } | { readonly ok: false;
    readonly error: JsonTextError } {
  const parsed = parseJson(text);
  return parsed.ok ? { ok: true, text: printJson(parsed.node) } : parsed;
}

/** An array position: `n`, or `last - n` when `fromEnd`. */
export interface JsonArrayPosition {
  readonly index: number;
  readonly fromEnd: boolean;
}

/** One step of a JSON path. */
export type JsonPathLeg =
  | { readonly kind: "key"; readonly name: string }
  | { readonly kind: "index"; readonly index: number; readonly fromEnd?: boolean }
  | { readonly kind: "range"; readonly from: JsonArrayPosition; readonly to: JsonArrayPosition }
  | { readonly kind: "anyKey" }
  | { readonly kind: "anyIndex" }
  /** `**`: the value and every value nested in it. */
  | { readonly kind: "ellipsis" };

/** A parsed path, or the character position MySQL's 3143 names. */
export type JsonPathParse =
  | { readonly ok: true; readonly legs: JsonPathLeg[] }
  | { readonly ok: false; readonly position: number };

const identifierStart = /^[\p{L}\p{Nl}_$]/u;
const identifierPart = /^[\p{L}\p{Nl}\p{Mn}\p{Mc}\p{Nd}\p{Pc}_$\u200c\u200d]/u;

/**
 * Parses a JSON path as MySQL 8 does: `$`, then legs `.key`, `."quoted key"`, `.*`,
 * `[n]`, `[last]`, `[last - n]`, `[m to n]`, `[*]` and `**` (which must be followed by
 * another leg), with spaces allowed between tokens. A failure gives the position at which
 * parsing stopped.
 */
export function parseJsonPathAt(path: string): JsonPathParse {
  let pos = 0;
  const spaces = (): void => {
    while (pos < path.length && " \t\n\r\f\v".includes(path[pos]!)) pos++;
  };
  const fail = (): JsonPathParse => ({ ok: false, position: pos });
  const position = (): JsonArrayPosition | null => {
    spaces();
    if (path.startsWith("last", pos)) {
      pos += 4;
      const save = pos;
      spaces();
      if (path[pos] === "-") {
        pos++;
        spaces();
        const m = /^\d+/.exec(path.slice(pos));
        if (m === null) return null;
        pos += m[0].length;
        return { index: Number(m[0]), fromEnd: true };
      }
      pos = save;
      return { index: 0, fromEnd: true };
    }
    const m = /^\d+/.exec(path.slice(pos));
    if (m === null) return null;
    pos += m[0].length;
    return { index: Number(m[0]), fromEnd: false };
  };
  spaces();
  if (path[pos] !== "$") return fail();
  pos++;
  const legs: JsonPathLeg[] = [];
  for (;;) {
    spaces();
    if (pos >= path.length) break;
    const c = path[pos]!;
    if (c === ".") {
      pos++;
      spaces();
      if (path[pos] === "*") {
        pos++;
        legs.push({ kind: "anyKey" });
      } else if (path[pos] === "\"") {
        const m = /^"(?:[^"\\]|\\.)*"/.exec(path.slice(pos));
        if (m === null) return fail();
        const parsed = parseJson(m[0]);
        if (!parsed.ok || parsed.node.kind !== "string") return fail();
        pos += m[0].length;
        legs.push({ kind: "key", name: parsed.node.value });
      } else {
        const start = pos;
        const chars = [...path.slice(pos)];
        if (chars.length === 0 || !identifierStart.test(chars[0]!)) return fail();
        let name = "";
        for (const ch of chars) {
          if (name !== "" && !identifierPart.test(ch)) break;
          name += ch;
        }
        pos = start + name.length;
        legs.push({ kind: "key", name });
      }
    } else if (c === "[") {
      pos++;
      spaces();
      if (path[pos] === "*") {
        pos++;
        spaces();
        if (path[pos] !== "]") return fail();
        pos++;
        legs.push({ kind: "anyIndex" });
        continue;
      }
      const from = position();
      if (from === null) return fail();
      spaces();
      let to: JsonArrayPosition | null = null;
      if (path.startsWith("to", pos) && from !== null) {
        pos += 2;
        if (!" \t\n\r\f\v".includes(path[pos] ?? "x")) return fail();
        to = position();
        if (to === null) return fail();
        if (!from.fromEnd && !to.fromEnd && from.index > to.index) return fail();
        spaces();
      }
      if (path[pos] !== "]") return fail();
      pos++;
      legs.push(to === null ? { kind: "index", index: from.index, fromEnd: from.fromEnd }
        : { kind: "range", from, to });
    } else if (c === "*" && path[pos + 1] === "*") {
      pos += 2;
      legs.push({ kind: "ellipsis" });
    } else {
      return fail();
    }
  }
  if (legs.length > 0 && legs[legs.length - 1]!.kind === "ellipsis") return fail();
  return { ok: true, legs };
}

/** A path's legs, or null when it is not a valid path. */
export function parseJsonPath(path: string): JsonPathLeg[] | null {
  const parsed = parseJsonPathAt(path);
  return parsed.ok ? parsed.legs : null;
}

/** True when a path can match several values (a wildcard, a range or `**`). */
export function isWildcardPath(legs: readonly JsonPathLeg[]): boolean {
  return legs.some((l) => l.kind === "anyKey" || l.kind === "anyIndex" || l.kind === "range" ||
    l.kind === "ellipsis");
}

/** The index `position` names in an array of `length` elements (may be out of range). */
export function resolveArrayPosition(position: JsonArrayPosition, length: number): number {
  return position.fromEnd ? length - 1 - position.index : position.index;
}

/** The index an index leg names in an array of `length` elements (may be out of range). */
export function resolveIndexLeg(leg: Extract<JsonPathLeg, { kind: "index" }>,
  length: number): number {
  return resolveArrayPosition({ index: leg.index, fromEnd: leg.fromEnd === true }, length);
}

/** `node` and every value nested in it, the node first (document order). */
function descendants(node: JsonNode, out: JsonNode[]): void {
  out.push(node);
  if (node.kind === "array") for (const item of node.items) descendants(item, out);
  if (node.kind === "object") {
    for (const k of [...node.members.keys()].sort(byteCompare)) {
      descendants(node.members.get(k)!, out);
    }
  }
}

/** The values `legs` reach in `node`, in document order, each once. */
export function extractJson(node: JsonNode, legs: readonly JsonPathLeg[]): JsonNode[] {
  let current: JsonNode[] = [node];
  for (const leg of legs) {
    const next: JsonNode[] = [];
    for (const n of current) {
      switch (leg.kind) {
        case "key": {
          const v = n.kind === "object" ? n.members.get(leg.name) : undefined;
          if (v !== undefined) next.push(v);
          break;
        }
        case "index": {
          // A scalar or object is an array of itself at [0], as in MySQL.
          const items = n.kind === "array" ? n.items : [n];
          const i = resolveIndexLeg(leg, items.length);
          if (i >= 0 && i < items.length) next.push(items[i]!);
          break;
        }
        case "range": {
          const items = n.kind === "array" ? n.items : [n];
          const from = Math.max(0, resolveArrayPosition(leg.from, items.length));
          const to = Math.min(items.length - 1, resolveArrayPosition(leg.to, items.length));
          for (let i = from; i <= to; i++) next.push(items[i]!);
          break;
        }
        case "anyKey":
          if (n.kind === "object") {
            const keys = [...n.members.keys()].sort(byteCompare);
            for (const k of keys) next.push(n.members.get(k)!);
          }
          break;
        case "anyIndex":
          if (n.kind === "array") next.push(...n.items);
          break;
        case "ellipsis":
          descendants(n, next);
          break;
      }
    }
    current = [...new Set(next)];
  }
  return current;
}

/** JSON_TYPE's name for a document's top value. */
export function jsonTypeName(node: JsonNode): string {
  switch (node.kind) {
    case "object":
      return "OBJECT";
    case "array":
      return "ARRAY";
    case "string":
      return "STRING";
    case "literal":
      if (node.text === "null") return "NULL";
      if (node.text === "true" || node.text === "false") return "BOOLEAN";
      if (/^-?\d+$/.test(node.text)) {
        return BigInt(node.text) > 2n ** 63n - 1n ? "UNSIGNED INTEGER" : "INTEGER";
      }
      return "DOUBLE";
  }
}
