/**
 * Regular expressions as MySQL 8 has them (ICU syntax): the REGEXP / RLIKE operator
 * (built as REGEXP_LIKE) and REGEXP_LIKE, REGEXP_INSTR, REGEXP_SUBSTR, REGEXP_REPLACE.
 *
 * Patterns run on JavaScript's RegExp in Unicode mode after a translation of the ICU
 * syntax JavaScript lacks: POSIX classes (`[[:alpha:]]`), `\Q…\E`, `\A`, `\z`, `\Z`,
 * `\e`, `\a`, `\h`, `\R`, `\x{…}`, octal `\0ooo`, a leading `(?flags)`, and escapes of
 * punctuation that Unicode mode refuses. ICU features without an equivalent (possessive
 * quantifiers, atomic groups, `\X`, `\G`, `\N{…}`) fail with MySQL's 3690, and ICU's
 * errors map to MySQL's numbers (3685–3697, 3900). Matching is case-insensitive under
 * utf8mb4_general_ci and case-sensitive when subject and pattern compare under `_bin` or
 * `binary` (collation_derivation.ts) or match_type says `c`; match_type flags c, i, m, n,
 * u act as in MySQL (last of c/i wins). Positions count characters.
 *
 * Compiled patterns are cached (bounded, oldest dropped first) by source and flags.
 * Unlike MySQL (`regexp_time_limit`), a pathological pattern's backtracking is not cut
 * short.
 */
import { anyNullable, bigintArg, fitsPacket, int, text, textArg } from "./builtin_support.ts";
import { ExprError, type RegexpError } from "./errors.ts";
import type { Builtin, CallExpr, EvalState } from "./functions.ts";
import { intType, stringType } from "./types.ts";
import { boolValue } from "./value.ts";
import { generalCiCollation } from "../codec/mod.ts";
import { callCollation } from "./collation_derivation.ts";

/** Compiled patterns kept at most (each is small; the bound keeps memory fixed). */
const regexpCacheEntriesMax = 256;
const cache = new Map<string, RegExp>();

function regexpError(error: RegexpError, position?: { line: number; column: number }): never {
  throw new ExprError(position === undefined ? { kind: "regexp", error }
    : { kind: "regexp", error, ...position });
}

/** ICU's POSIX classes as the contents of a JavaScript class. */
const posixClasses: ReadonlyMap<string, string> = new Map([
  ["alpha", "\\p{Alphabetic}"],
  ["digit", "\\p{Nd}"],
  ["alnum", "\\p{Alphabetic}\\p{Nd}"],
  ["upper", "\\p{Uppercase}"],
  ["lower", "\\p{Lowercase}"],
  ["space", "\\s"],
  ["blank", "\\t\\p{Zs}"],
  ["punct", "\\p{P}"],
  ["cntrl", "\\p{Cc}"],
  ["xdigit", "0-9A-Fa-f"],
  ["graph", "\\p{L}\\p{M}\\p{N}\\p{P}\\p{S}"],
  ["print", "\\p{L}\\p{M}\\p{N}\\p{P}\\p{S}\\p{Zs}"],
  ["word", "\\w"],
]);

const syntaxChars = "^$\\.*+?()[]{}|/";

/** `ch` as a literal in a Unicode-mode pattern. */
function literal(ch: string, inClass: boolean): string {
  if (syntaxChars.includes(ch)) return `\\${ch}`;
  if (ch === "-") return inClass ? "\\-" : "-";
  return ch;
}

/** The 1-based line and column of UTF-16 offset `at` in `pattern`. */
function positionOf(pattern: string, at: number): { line: number; column: number } {
  const before = pattern.slice(0, at);
  const lines = before.split("\n");
  return { line: lines.length, column: Array.from(lines[lines.length - 1]!).length + 1 };
}

/**
 * The JavaScript source of an ICU pattern, and the flags a leading `(?flags)` sets.
 * Throws the MySQL error of what cannot be translated.
 */
function translatePattern(pattern: string): { source: string; flags: string } {
  let out = "";
  let flags = "";
  let i = 0;
  let inClass = false;
  let groups = 0;
  const backrefs: number[] = [];
  if (pattern.startsWith("[[:<:]]", 0) || pattern.includes("[[:<:]]") ||
    pattern.includes("[[:>:]]")) {
    regexpError("illegalArgument");
  }
  const leading = /^\(\?([a-zA-Z]+)\)/.exec(pattern);
  if (leading !== null) {
    for (const f of leading[1]!) {
      if (f === "i" || f === "m" || f === "s") flags += f;
      else regexpError("unimplemented");
    }
    i = leading[0].length;
  }
  while (i < pattern.length) {
    const ch = pattern[i]!;
    if (ch === "\\") {
      const next = pattern[i + 1];
      if (next === undefined) regexpError("badEscapeSequence");
      i += 2;
      switch (next) {
        case "Q": {
          const end = pattern.indexOf("\\E", i);
          const quoted = pattern.slice(i, end < 0 ? undefined : end);
          for (const c of quoted) out += literal(c, inClass);
          i = end < 0 ? pattern.length : end + 2;
          break;
        }
        case "E":
          break;
        case "A":
          out += "(?<![\\s\\S])";
          break;
        case "z":
          out += "(?![\\s\\S])";
          break;
        case "Z":
          out += "(?=(?:\\r\\n|[\\n\\r\\u2028\\u2029\\x85])?(?![\\s\\S]))";
          break;
        case "e":
          out += "\\x1B";
          break;
        case "a":
          out += "\\x07";
          break;
        case "h":
          out += inClass ? "\\t\\p{Zs}" : "[\\t\\p{Zs}]";
          break;
        case "H":
          if (inClass) regexpError("unimplemented");
          out += "[^\\t\\p{Zs}]";
          break;
        case "R":
          if (inClass) regexpError("badEscapeSequence");
          out += "(?:\\r\\n|[\\n\\v\\f\\r\\x85\\u2028\\u2029])";
          break;
        case "x": {
          const braced = /^\{([0-9a-fA-F]{1,6})\}/.exec(pattern.slice(i));
          if (braced !== null) {
            out += `\\u{${braced[1]!}}`;
            i += braced[0].length;
          } else {
            out += "\\x";
          }
          break;
        }
        case "0": {
          const octal = /^[0-7]{0,3}/.exec(pattern.slice(i))![0];
          out += `\\u{${parseInt(octal === "" ? "0" : octal, 8).toString(16)}}`;
          i += octal.length;
          break;
        }
        case "X":
        case "G":
        case "N":
          regexpError("unimplemented");
          break;
        default:
          if (/[1-9]/.test(next) && !inClass) {
            const digits = /^\d*/.exec(pattern.slice(i))![0];
            backrefs.push(Number(next + digits));
            out += `\\${next}${digits}`;
            i += digits.length;
          } else if (/[dDwWsSbBntrfvpPkcu]/.test(next)) {
            out += `\\${next}`;
          } else if (/[a-zA-Z0-9]/.test(next)) {
            regexpError("badEscapeSequence");
          } else {
            out += literal(next, inClass);
          }
      }
      continue;
    }
    if (inClass) {
      if (ch === "[" && pattern[i + 1] === ":") {
        const m = /^\[:([a-z]+):\]/.exec(pattern.slice(i));
        const expansion = m === null ? undefined : posixClasses.get(m[1]!);
        if (m === null || expansion === undefined) regexpError("illegalArgument");
        out += expansion;
        i += m[0].length;
        continue;
      }
      if (ch === "]") inClass = false;
      out += ch === "[" ? "\\[" : ch;
      i++;
      continue;
    }
    if (ch === "[") {
      inClass = true;
      out += "[";
      i++;
      if (pattern[i] === "^") {
        out += "^";
        i++;
      }
      // A `]` first in a set is a member, as in POSIX and ICU.
      if (pattern[i] === "]") {
        out += "\\]";
        i++;
      }
      continue;
    }
    if (ch === "{") {
      // An interval goes as written (JavaScript checks it as ICU does).
      const end = pattern.indexOf("}", i);
      out += end < 0 ? "{" : pattern.slice(i, end + 1);
      i = end < 0 ? i + 1 : end + 1;
      if (pattern[i] === "+") regexpError("unimplemented");
      continue;
    }
    if (ch === "]" || ch === "}") {
      // Outside a set and an interval these are literals to ICU.
      out += `\\${ch}`;
      i++;
      continue;
    }
    if (ch === "(") {
      if (pattern.startsWith("(?#", i)) {
        const end = pattern.indexOf(")", i);
        if (end < 0) regexpError("mismatchedParen");
        i = end + 1;
        continue;
      }
      if (pattern.startsWith("(?>", i)) regexpError("unimplemented");
      if (pattern[i + 1] !== "?" || pattern.startsWith("(?<", i) &&
        !pattern.startsWith("(?<=", i) && !pattern.startsWith("(?<!", i)) groups++;
    }
    if ("*+?}".includes(ch) && pattern[i + 1] === "+") regexpError("unimplemented");
    out += ch;
    i++;
  }
  if (backrefs.some((n) => n > groups)) regexpError("invalidBackRef");
  return { source: out, flags };
}

/** The 1-based position of the quantifier with nothing to repeat (ICU's rule error). */
function nothingToRepeatAt(pattern: string): number {
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "\\") {
      i++;
      continue;
    }
    if (!"*+?".includes(c)) continue;
    const prev = pattern[i - 1];
    if (prev === undefined || prev === "(" || prev === "|" || (prev === "*" || prev === "+") &&
      c !== "?") return i;
  }
  return 0;
}

/** A JavaScript SyntaxError of a translated pattern as MySQL's error. */
function compileError(message: string, pattern: string): never {
  if (/Unterminated character class/.test(message)) regexpError("missingCloseBracket");
  if (/Unterminated group|Unmatched '\)'/.test(message)) regexpError("mismatchedParen");
  if (/numbers out of order/.test(message)) regexpError("maxLtMin");
  if (/Range out of order/.test(message)) regexpError("invalidRange");
  if (/Incomplete quantifier|Lone quantifier/.test(message)) regexpError("badInterval");
  if (/\\ at end of pattern|Invalid (unicode )?escape|Invalid class escape/i.test(message)) {
    regexpError("badEscapeSequence");
  }
  if (/Invalid property name|Invalid named/.test(message)) regexpError("illegalArgument");
  if (/Invalid group|Invalid regular expression flags/.test(message)) {
    regexpError("unimplemented");
  }
  regexpError("ruleSyntax", positionOf(pattern, nothingToRepeatAt(pattern)));
}

/** The match_type flags as JavaScript flags (always `u`, `g` for iteration). */
function flagsOf(matchType: string | null): string {
  let caseInsensitive = true;
  let multiline = false;
  let dotAll = false;
  for (const f of matchType ?? "") {
    switch (f) {
      case "c":
        caseInsensitive = false;
        break;
      case "i":
        caseInsensitive = true;
        break;
      case "m":
        multiline = true;
        break;
      case "n":
        dotAll = true;
        break;
      case "u":
        break;
      default:
        regexpError("invalidFlag");
    }
  }
  return `gu${caseInsensitive ? "i" : ""}${multiline ? "m" : ""}${dotAll ? "s" : ""}`;
}

/** The compiled pattern for `pattern` under `matchType` (cached). */
function compile(pattern: string, matchType: string | null): RegExp {
  if (pattern === "") regexpError("illegalArgument");
  const flags = flagsOf(matchType);
  const key = `${flags}\u0000${pattern}`;
  const cached = cache.get(key);
  if (cached !== undefined) return cached;
  const translated = translatePattern(pattern);
  const allFlags = [...new Set(flags + translated.flags)].join("");
  let regexp: RegExp;
  try {
    regexp = new RegExp(translated.source, allFlags);
  } catch (error: unknown) {
    if (error instanceof SyntaxError) compileError(error.message, pattern);
    throw error;
  }
  if (cache.size >= regexpCacheEntriesMax) cache.delete(cache.keys().next().value!);
  cache.set(key, regexp);
  return regexp;
}

/** UTF-16 offset of 1-based character position `pos` in `s`; -1 when past the end + 1. */
function offsetOfChar(s: string, pos: number): number {
  let offset = 0;
  for (let k = 1; k < pos; k++) {
    if (offset >= s.length) return -1;
    const cp = s.codePointAt(offset)!;
    offset += cp > 0xffff ? 2 : 1;
  }
  return offset;
}

/** The 1-based character position of UTF-16 offset `offset` in `s`. */
function charOfOffset(s: string, offset: number): number {
  return Array.from(s.slice(0, offset)).length + 1;
}

/** What the regexp functions evaluate first: pattern, subject, the start offset. */
interface Search {
  readonly regexp: RegExp;
  readonly subject: string;
  readonly start: number;
}

/**
 * Reads subject (argument 0), pattern (1), position (`posIndex`, default 1) and match
 * type (`typeIndex`) of a regexp call; null when one of them is NULL. The pattern is read
 * first, so an invalid one fails even for a NULL subject, as in MySQL.
 */
function search(call: CallExpr, state: EvalState,
  indexes: { readonly pos?: number; readonly matchType?: number }): Search | null {
  const pattern = textArg(state, call.args[1]!);
  const typeArg = indexes.matchType === undefined ? undefined : call.args[indexes.matchType];
  const matchType = typeArg === undefined ? null : textArg(state, typeArg);
  if (pattern === null || (typeArg !== undefined && matchType === null)) return null;
  // Under a case-sensitive collation (`_bin`, binary) matching is too; match_type overrides.
  const sensitive = callCollation(call) !== generalCiCollation;
  const regexp = compile(pattern, sensitive ? `c${matchType ?? ""}` : matchType);
  const subject = textArg(state, call.args[0]!);
  const posArg = indexes.pos === undefined ? undefined : call.args[indexes.pos];
  const pos = posArg === undefined ? 1n : bigintArg(state, posArg);
  if (subject === null || pos === null) return null;
  const start = pos < 1n || pos > 2n ** 31n ? -1 : offsetOfChar(subject, Number(pos));
  if (start < 0) regexpError("indexOutOfBounds");
  return { regexp, subject, start };
}

/** The `occurrence`-th match at or after `start`, or null. */
function nthMatch(s: Search, occurrence: bigint): RegExpExecArray | null {
  const { regexp, subject } = s;
  regexp.lastIndex = s.start;
  let n = occurrence < 1n ? 1n : occurrence;
  for (;;) {
    const m = regexp.exec(subject);
    if (m === null) return null;
    if (--n === 0n) return m;
    // An empty match moves on one character, as ICU's find() does.
    if (m[0] === "") regexp.lastIndex = m.index + (subject.codePointAt(m.index)! > 0xffff ? 2 : 1);
    if (regexp.lastIndex > subject.length) return null;
  }
}

function optionalInt(call: CallExpr, state: EvalState, index: number, fallback: bigint):
  bigint | null {
  const arg = call.args[index];
  return arg === undefined ? fallback : bigintArg(state, arg);
}

const regexpLike: Builtin = {
  minArgs: 2, maxArgs: 3,
  infer: (args) => intType({ length: 1, nullable: anyNullable(args) }),
  run: (call, state) => {
    const s = search(call, state, { matchType: 2 });
    return s === null ? null : boolValue(nthMatch(s, 1n) !== null);
  },
};

const regexpInstr: Builtin = {
  minArgs: 2, maxArgs: 6,
  infer: (args) => intType({ length: 21, nullable: anyNullable(args) }),
  run: (call, state) => {
    const returnOption = optionalInt(call, state, 4, 0n);
    if (returnOption !== null && returnOption !== 0n && returnOption !== 1n) {
      throw new ExprError({ kind: "wrongArguments",
        functionName: "regexp_instr: return_option must be 1 or 0." });
    }
    const s = search(call, state, { pos: 2, matchType: 5 });
    const occurrence = optionalInt(call, state, 3, 1n);
    if (s === null || occurrence === null || returnOption === null) return null;
    const m = nthMatch(s, occurrence);
    if (m === null) return int(0n);
    const at = returnOption === 1n ? m.index + m[0].length : m.index;
    return int(BigInt(charOfOffset(s.subject, at)));
  },
};

const regexpSubstr: Builtin = {
  minArgs: 2, maxArgs: 5,
  infer: (args) => stringType(Math.ceil(args[0]!.type.length / 4), { nullable: true }),
  run: (call, state) => {
    const s = search(call, state, { pos: 2, matchType: 4 });
    const occurrence = optionalInt(call, state, 3, 1n);
    if (s === null || occurrence === null) return null;
    const m = nthMatch(s, occurrence);
    return m === null ? null : text(m[0]);
  },
};

/**
 * The replacement text for match `m`: ICU's `$n` and `${name}` insert groups, `\c`
 * inserts c; a group that does not exist is 3686.
 */
function expandReplacement(replacement: string, m: RegExpExecArray): string {
  let out = "";
  for (let i = 0; i < replacement.length; i++) {
    const c = replacement[i]!;
    if (c === "\\") {
      const next = replacement[i + 1];
      if (next === undefined) regexpError("badEscapeSequence");
      out += next;
      i++;
    } else if (c === "$") {
      const named = /^\{([A-Za-z][A-Za-z0-9]*)\}/.exec(replacement.slice(i + 1));
      if (named !== null) {
        const group = m.groups?.[named[1]!];
        if (m.groups === undefined || !(named[1]! in m.groups)) regexpError("illegalArgument");
        out += group ?? "";
        i += named[0].length;
        continue;
      }
      const digits = /^\d+/.exec(replacement.slice(i + 1))?.[0];
      if (digits === undefined) regexpError("illegalArgument");
      // ICU takes as many digits as still name a group.
      let n = Number(digits[0]);
      let used = 1;
      while (used < digits.length && n * 10 + Number(digits[used]) < m.length) {
        n = n * 10 + Number(digits[used]);
        used++;
      }
      if (n >= m.length) regexpError("indexOutOfBounds");
      out += m[n] ?? "";
      i += used;
    } else {
      out += c;
    }
  }
  return out;
}

const regexpReplace: Builtin = {
  minArgs: 3, maxArgs: 6,
  infer: (args) => stringType(Math.ceil(args[0]!.type.length / 4) * 2 + 1024,
    { nullable: true }),
  run: (call, state) => {
    const s = search(call, state, { pos: 3, matchType: 5 });
    const replacement = textArg(state, call.args[2]!);
    const occurrence = optionalInt(call, state, 4, 0n);
    if (s === null || replacement === null || occurrence === null) return null;
    const { regexp, subject } = s;
    let out = subject.slice(0, s.start);
    let copied = s.start;
    let seen = 0n;
    regexp.lastIndex = s.start;
    const limit = state.ctx.maxAllowedPacket;
    for (;;) {
      const m = regexp.exec(subject);
      if (m === null) break;
      seen++;
      if (occurrence <= 0n || seen === occurrence) {
        out += subject.slice(copied, m.index) + expandReplacement(replacement, m);
        copied = m.index + m[0].length;
        if (limit !== undefined && out.length > limit &&
          !fitsPacket(state, out.length, "regexp_replace")) return null;
        if (occurrence > 0n) break;
      }
      if (m[0] === "") {
        if (m.index >= subject.length) break;
        regexp.lastIndex = m.index + (subject.codePointAt(m.index)! > 0xffff ? 2 : 1);
      }
    }
    out += subject.slice(copied);
    if (!fitsPacket(state, out.length, "regexp_replace")) return null;
    return text(out);
  },
};

/** The regexp built-ins by name. */
export const regexpBuiltins: ReadonlyArray<readonly [string, Builtin]> = [
  ["regexp_like", regexpLike],
  ["regexp_instr", regexpInstr],
  ["regexp_substr", regexpSubstr],
  ["regexp_replace", regexpReplace],
];
