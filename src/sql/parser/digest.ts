/**
 * Statement digests: the normalized text of a statement and a hash of it, for the plan
 * cache and the statement summary (one row per digest, as in TiDB).
 *
 * Normalization works on tokens, as TiDB's does: comments and optimizer hints disappear,
 * every literal (numbers, strings with their introducers and adjacent parts, hex, bit,
 * and a sign directly in front of a number) becomes `?`, words and identifiers are
 * lower-cased, and a list made only of placeholders after IN or VALUES collapses to
 * `( ... )`, so `IN (1, 2)` and `IN (1, 2, 3)` share a digest, as do multi-row inserts of
 * any row count. Tokens are joined by single spaces.
 *
 * The hash is 64-bit FNV-1a over the UTF-8 bytes of the normalized text, as 16 hex digits:
 * pure, fast and stable across processes and versions. It is for grouping and display;
 * a cache that must never confuse two statements keys on the normalized text itself. A
 * caller that wants TiDB's SHA-256 digest passes its own `hash` (the parser stays free of
 * crypto so it stays pure).
 */
import type { Statement } from "./ast.ts";
import { formatStatement } from "./format.ts";
import { identifierNeedsQuotes } from "./keywords.ts";
import { type LexOptions, type Token, tokenize } from "./lexer.ts";
import { SqlSyntaxError } from "./syntax_error.ts";

export interface Digest {
  /** The normalized statement text. */
  readonly normalized: string;
  /** The hash of `normalized`: 16 lower-case hex digits unless a `hash` was given. */
  readonly digest: string;
}

export interface DigestOptions extends LexOptions {
  /** Replaces the built-in FNV-1a 64 hash (for example with a SHA-256 from the shell). */
  readonly hash?: (normalized: string) => string;
}

const utf8 = new TextEncoder();

/** 64-bit FNV-1a of the UTF-8 bytes of `text`, as 16 hex digits. */
export function fnv1a64(text: string): string {
  // The 64-bit state is kept as two 32-bit halves; the prime is 2^40 + 0x1b3.
  let hi = 0xcbf29ce4;
  let lo = 0x84222325;
  for (const byte of utf8.encode(text)) {
    lo = (lo ^ byte) >>> 0;
    const low = lo * 0x1b3;
    const carry = Math.floor(low / 4294967296);
    const shifted = (lo << 8) >>> 0;
    lo = low % 4294967296;
    hi = (hi * 0x1b3 + carry + shifted) % 4294967296;
  }
  return hi.toString(16).padStart(8, "0") + lo.toString(16).padStart(8, "0");
}

function isLiteral(token: Token): boolean {
  switch (token.kind) {
    case "number":
    case "string":
    case "hex":
    case "bit":
      return true;
    default:
      return false;
  }
}

const signKeywords = new Set([
  "select", "by", "limit", "and", "or", "not", "in", "between", "when", "then", "else",
  "values", "value", "interval", "where", "having", "on", "set", "return", "default",
]);

/** True when a `-`/`+` before a number is a sign rather than a binary operator. */
function signPosition(previous: string | undefined): boolean {
  if (previous === undefined) return true;
  if (previous === ")" || previous === "?") return false;
  if (/^[`@a-z0-9_$]/.test(previous)) return signKeywords.has(previous);
  return true;
}

function normalizeWord(token: Token): string {
  const lower = token.text.toLowerCase();
  if (token.kind === "quotedIdent" && identifierNeedsQuotes(lower)) {
    return "`" + lower.replaceAll("`", "``") + "`";
  }
  return lower;
}

/** Collapses `( ? , ? … )` lists after IN and VALUES into `( ... )`. */
function collapseLists(out: string[]): string[] {
  const result: string[] = [];
  let i = 0;
  while (i < out.length) {
    const word = out[i] as string;
    result.push(word);
    i++;
    if ((word !== "in" && word !== "values" && word !== "value") || out[i] !== "(") continue;
    let j = i;
    let groups = 0;
    for (;;) {
      const end = placeholderGroupEnd(out, j);
      if (end < 0) break;
      groups++;
      j = end;
      if (word === "in" || out[j] !== "," || out[j + 1] !== "(") break;
      const next = placeholderGroupEnd(out, j + 1);
      if (next < 0) break;
      j++;
    }
    if (groups > 0) {
      result.push("(", "...", ")");
      i = j;
    }
  }
  return result;
}

/** If `out[start]` opens a bracket holding only `?`, `,` and brackets, the index after it. */
function placeholderGroupEnd(out: readonly string[], start: number): number {
  if (out[start] !== "(") return -1;
  let depth = 0;
  for (let k = start; k < out.length; k++) {
    const t = out[k];
    if (t === "(") depth++;
    else if (t === ")") {
      depth--;
      if (depth === 0) return k + 1;
    } else if (t !== "?" && t !== ",") return -1;
  }
  return -1;
}

/** Normalizes a statement's text (or a parsed statement) and hashes it. */
export function normalizeDigest(input: string | Statement, options: DigestOptions = {}): Digest {
  const text = typeof input === "string" ? input : formatStatement(input);
  let normalized: string;
  try {
    normalized = normalizeTokens(tokenize(text, options));
  } catch (error: unknown) {
    if (!(error instanceof SqlSyntaxError)) throw error;
    // Text that does not even lex is summarized by its blank-collapsed form.
    normalized = text.trim().replace(/\s+/g, " ").toLowerCase();
  }
  const hash = options.hash ?? fnv1a64;
  return { normalized, digest: hash(normalized) };
}

function normalizeTokens(tokens: readonly Token[]): string {
  const out: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] as Token;
    switch (token.kind) {
      case "eof":
        break;
      case "number":
      case "hex":
      case "bit":
      case "string": {
        // Adjacent strings are one literal; a sign in front of a number belongs to it.
        while (i + 1 < tokens.length && (tokens[i + 1] as Token).kind === "string" &&
          token.kind === "string") {
          i++;
        }
        const last = out[out.length - 1];
        if ((last === "-" || last === "+") && token.kind === "number" &&
          signPosition(out[out.length - 2])) {
          out.pop();
        }
        out.push("?");
        break;
      }
      case "word": {
        const next = tokens[i + 1];
        // A charset introducer before a literal is part of the literal.
        if (token.text.startsWith("_") && next !== undefined && isLiteral(next)) break;
        out.push(normalizeWord(token));
        break;
      }
      case "quotedIdent":
        out.push(normalizeWord(token));
        break;
      case "param":
        out.push("?");
        break;
      case "userVar":
        out.push("@" + token.text.toLowerCase());
        break;
      case "sysVar":
        out.push("@@" + token.text.toLowerCase());
        break;
      case "op":
        out.push(token.text === ";" ? ";" : token.text);
        break;
    }
  }
  while (out[out.length - 1] === ";") out.pop();
  return collapseLists(out).join(" ");
}
