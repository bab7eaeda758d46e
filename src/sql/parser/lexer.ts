/**
 * The MySQL lexer: turns SQL text into tokens with their source offsets.
 *
 * It knows MySQL's token rules: unquoted words (keywords are words; the parser decides),
 * backtick identifiers with doubled-backtick escapes, '…' and "…" strings with backslash
 * escapes and doubled quotes, X'0F' / 0x0F hex and b'01' / 0b01 bit literals, integer,
 * decimal and float numbers, `?` placeholders, `@user` and `@@system` variables, and the
 * three comment forms (`-- ` needs a blank after the dashes, `#`, `/* *\/`). A versioned
 * comment `/*! … *\/` or `/*!80000 … *\/` is lexed as SQL when its version is at most
 * `serverVersion`, and skipped otherwise; TiDB's `/*T![feature] … *\/` is lexed as SQL.
 * A `/*+ … *\/` hint directly after SELECT, INSERT, REPLACE, UPDATE or DELETE is attached
 * to that keyword token; elsewhere it is a comment.
 *
 * The lexer is pure and linear in the input; a bad token (unterminated string, comment or
 * identifier, malformed hex or bit literal) is a `SqlSyntaxError` at the token's start.
 */
import { syntaxErrorAt } from "./syntax_error.ts";

export type TokenKind =
  | "word"
  | "quotedIdent"
  | "string"
  | "number"
  | "hex"
  | "bit"
  | "param"
  | "userVar"
  | "sysVar"
  | "op"
  | "eof";

/** One token. Every token has the same shape so token arrays stay monomorphic. */
export interface Token {
  readonly kind: TokenKind;
  /**
   * word: the text as written; quotedIdent, string, userVar: the decoded name or value;
   * number: the literal text; hex, bit: the digits; sysVar: the text after `@@`;
   * op: the operator.
   */
  readonly text: string;
  /** word: the upper-cased text; op: the operator; otherwise "". */
  readonly upper: string;
  /** UTF-16 offsets of the token in the input. */
  readonly start: number;
  readonly end: number;
  /** number: which literal form. */
  readonly numberKind: "int" | "decimal" | "float" | null;
  /** string: `N'…'` (national character set). */
  readonly national: boolean;
  /** Optimizer hint text attached to a SELECT/INSERT/REPLACE/UPDATE/DELETE keyword. */
  hint: string | null;
}

export interface LexOptions {
  /**
   * Versioned comments `/*!NNNNN … *\/` with a version up to this one are read as SQL.
   * Tessera reports MySQL 8.0.11 (as TiDB does), so the default is 80011.
   */
  readonly serverVersion?: number;
  /** The NO_BACKSLASH_ESCAPES sql_mode: a backslash in a string is an ordinary character. */
  readonly noBackslashEscapes?: boolean;
}

/** The MySQL version Tessera claims, as compared against versioned comments. */
export const serverVersionDefault = 80011;

const hintKeywords = new Set(["SELECT", "INSERT", "REPLACE", "UPDATE", "DELETE"]);

/** Multi-character operators, longest first within each leading character. */
const operators3 = new Set(["<=>", "->>"]);
const operators2 = new Set(["<=", ">=", "<>", "!=", "<<", ">>", "&&", "||", ":=", "->"]);
const operators1 = new Set("(),;.=<>!~^*/%+-&|{}:".split(""));

function isIdentChar(c: number): boolean {
  return (
    (c >= 97 && c <= 122) || // a-z
    (c >= 65 && c <= 90) || // A-Z
    (c >= 48 && c <= 57) || // 0-9
    c === 95 || // _
    c === 36 || // $
    c >= 128
  );
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isHexDigit(c: number): boolean {
  return isDigit(c) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13 || c === 11 || c === 12;
}

function makeToken(
  kind: TokenKind,
  text: string,
  upper: string,
  start: number,
  end: number,
): Token {
  return { kind, text, upper, start, end, numberKind: null, national: false, hint: null };
}

/** Tokenizes `input`; the last token is always `eof`. Throws `SqlSyntaxError`. */
export function tokenize(input: string, options: LexOptions = {}): Token[] {
  const serverVersion = options.serverVersion ?? serverVersionDefault;
  const backslash = !(options.noBackslashEscapes ?? false);
  const tokens: Token[] = [];
  const n = input.length;
  let pos = 0;
  let inVersioned = false;

  const fail = (offset: number): never => {
    throw syntaxErrorAt(input, offset);
  };

  /** Reads a quoted string body from `pos` (after the opening quote). */
  const readQuoted = (quote: number, start: number, escapes: boolean): string => {
    let out = "";
    let chunkStart = pos;
    for (;;) {
      if (pos >= n) return fail(start);
      const c = input.charCodeAt(pos);
      if (c === quote) {
        if (input.charCodeAt(pos + 1) === quote) {
          out += input.slice(chunkStart, pos + 1);
          pos += 2;
          chunkStart = pos;
          continue;
        }
        out += input.slice(chunkStart, pos);
        pos++;
        return out;
      }
      if (c === 92 && escapes) {
        out += input.slice(chunkStart, pos);
        if (pos + 1 >= n) return fail(start);
        const e = input[pos + 1] as string;
        switch (e) {
          case "0":
            out += "\0";
            break;
          case "b":
            out += "\b";
            break;
          case "n":
            out += "\n";
            break;
          case "r":
            out += "\r";
            break;
          case "t":
            out += "\t";
            break;
          case "Z":
            out += "\x1a";
            break;
          case "%":
          case "_":
            // MySQL keeps the backslash so LIKE still sees an escaped wildcard.
            out += "\\" + e;
            break;
          default:
            out += e;
        }
        pos += 2;
        chunkStart = pos;
        continue;
      }
      pos++;
    }
  };

  /** Skips a `/* … *\/` body from `pos` (after the opener); returns the body. */
  const skipBlockComment = (start: number): string => {
    const close = input.indexOf("*/", pos);
    if (close < 0) return fail(start);
    const body = input.slice(pos, close);
    pos = close + 2;
    return body;
  };

  while (pos < n) {
    const c = input.charCodeAt(pos);
    const start = pos;
    if (isSpace(c)) {
      pos++;
      continue;
    }
    const c1 = pos + 1 < n ? input.charCodeAt(pos + 1) : -1;
    // Comments.
    if (c === 35) {
      // '#'
      const eol = input.indexOf("\n", pos);
      pos = eol < 0 ? n : eol + 1;
      continue;
    }
    if (c === 45 && c1 === 45) {
      const c2 = pos + 2 < n ? input.charCodeAt(pos + 2) : -1;
      if (c2 === -1 || c2 <= 32) {
        const eol = input.indexOf("\n", pos);
        pos = eol < 0 ? n : eol + 1;
        continue;
      }
    }
    if (c === 47 && c1 === 42) {
      // '/*'
      pos += 2;
      const c2 = pos < n ? input.charCodeAt(pos) : -1;
      if (c2 === 33) {
        // '/*!': versioned comment.
        if (inVersioned) return fail(start);
        pos++;
        let digits = 0;
        while (digits < 6 && pos + digits < n && isDigit(input.charCodeAt(pos + digits))) {
          digits++;
        }
        let version = 0;
        if (digits >= 5) {
          // MySQL reads five digits; 8.0.34 and later also accept six.
          const used = digits === 6 ? 6 : 5;
          version = Number(input.slice(pos, pos + used));
          pos += used;
        }
        if (version > serverVersion) {
          skipBlockComment(start);
        } else {
          if (input.indexOf("*/", pos) < 0) return fail(start);
          inVersioned = true;
        }
        continue;
      }
      if (c2 === 84 && pos + 1 < n && input.charCodeAt(pos + 1) === 33) {
        // '/*T!' or '/*T![feature]': TiDB's executable comment, read as SQL.
        if (inVersioned) return fail(start);
        pos += 2;
        if (input.charCodeAt(pos) === 91) {
          const close = input.indexOf("]", pos);
          if (close < 0) return fail(start);
          pos = close + 1;
        }
        if (input.indexOf("*/", pos) < 0) return fail(start);
        inVersioned = true;
        continue;
      }
      if (c2 === 43) {
        // '/*+': an optimizer hint when it follows a DML keyword.
        pos++;
        const body = skipBlockComment(start).trim();
        const last = tokens[tokens.length - 1];
        if (last !== undefined && last.kind === "word" && hintKeywords.has(last.upper)) {
          last.hint = last.hint === null ? body : `${last.hint} ${body}`;
        }
        continue;
      }
      skipBlockComment(start);
      continue;
    }
    if (c === 42 && c1 === 47 && inVersioned) {
      inVersioned = false;
      pos += 2;
      continue;
    }
    // Strings.
    if (c === 39 || c === 34) {
      pos++;
      const value = readQuoted(c, start, backslash);
      tokens.push(makeToken("string", value, "", start, pos));
      continue;
    }
    if (c === 96) {
      // '`'
      pos++;
      const name = readQuoted(96, start, false);
      tokens.push(makeToken("quotedIdent", name, "", start, pos));
      continue;
    }
    // X'..', B'..', N'..'.
    if (c1 === 39 && (c === 120 || c === 88 || c === 98 || c === 66)) {
      const hex = c === 120 || c === 88;
      const close = input.indexOf("'", pos + 2);
      if (close < 0) return fail(start);
      const digits = input.slice(pos + 2, close);
      for (let i = 0; i < digits.length; i++) {
        const d = digits.charCodeAt(i);
        if (hex ? !isHexDigit(d) : d !== 48 && d !== 49) return fail(start);
      }
      if (hex && digits.length % 2 !== 0) return fail(start);
      pos = close + 1;
      tokens.push(makeToken(hex ? "hex" : "bit", digits, "", start, pos));
      continue;
    }
    if (c1 === 39 && (c === 110 || c === 78)) {
      pos += 2;
      const value = readQuoted(39, start, backslash);
      const token = makeToken("string", value, "", start, pos);
      tokens.push({ ...token, national: true });
      continue;
    }
    // Numbers (and identifiers that start with digits, such as `1a`).
    if (isDigit(c) || (c === 46 && isDigit(c1) && !followsDot(tokens))) {
      if (c === 48 && (c1 === 120 || c1 === 98)) {
        // 0x.. / 0b..
        const hex = c1 === 120;
        let p = pos + 2;
        while (p < n && (hex ? isHexDigit(input.charCodeAt(p)) : isBitChar(input, p))) p++;
        if (p > pos + 2 && (p >= n || !isIdentChar(input.charCodeAt(p)))) {
          let digits = input.slice(pos + 2, p);
          if (hex && digits.length % 2 !== 0) digits = "0" + digits;
          pos = p;
          tokens.push(makeToken(hex ? "hex" : "bit", digits, "", start, pos));
          continue;
        }
      }
      let p = pos;
      while (p < n && isDigit(input.charCodeAt(p))) p++;
      let numberKind: "int" | "decimal" | "float" = "int";
      if (p < n && input.charCodeAt(p) === 46 && !followsDot(tokens)) {
        numberKind = "decimal";
        p++;
        while (p < n && isDigit(input.charCodeAt(p))) p++;
      }
      if (p < n && (input.charCodeAt(p) === 101 || input.charCodeAt(p) === 69)) {
        let q = p + 1;
        const sign = q < n ? input.charCodeAt(q) : -1;
        if (sign === 43 || sign === 45) q++;
        if (q < n && isDigit(input.charCodeAt(q))) {
          while (q < n && isDigit(input.charCodeAt(q))) q++;
          numberKind = "float";
          p = q;
        }
      }
      if (numberKind === "int" && p < n && isIdentChar(input.charCodeAt(p))) {
        // MySQL identifiers may begin with digits when they are not all digits.
        while (p < n && isIdentChar(input.charCodeAt(p))) p++;
        const text = input.slice(pos, p);
        pos = p;
        tokens.push(makeToken("word", text, text.toUpperCase(), start, pos));
        continue;
      }
      const text = input.slice(pos, p);
      pos = p;
      tokens.push({ ...makeToken("number", text, "", start, pos), numberKind });
      continue;
    }
    if (isIdentChar(c)) {
      let p = pos + 1;
      while (p < n && isIdentChar(input.charCodeAt(p))) p++;
      const text = input.slice(pos, p);
      pos = p;
      tokens.push(makeToken("word", text, text.toUpperCase(), start, pos));
      continue;
    }
    if (c === 63) {
      pos++;
      tokens.push(makeToken("param", "?", "?", start, pos));
      continue;
    }
    if (c === 64) {
      // '@'
      if (c1 === 64) {
        let p = pos + 2;
        if (p < n && input.charCodeAt(p) === 96) {
          pos = p + 1;
          const name = readQuoted(96, start, false);
          tokens.push(makeToken("sysVar", name, "", start, pos));
          continue;
        }
        while (p < n && (isIdentChar(input.charCodeAt(p)) || input.charCodeAt(p) === 46)) p++;
        if (p === pos + 2) return fail(start);
        const name = input.slice(pos + 2, p);
        pos = p;
        tokens.push(makeToken("sysVar", name, "", start, pos));
        continue;
      }
      if (c1 === 39 || c1 === 34 || c1 === 96) {
        pos += 2;
        const name = readQuoted(c1, start, c1 !== 96 && backslash);
        tokens.push(makeToken("userVar", name, "", start, pos));
        continue;
      }
      let p = pos + 1;
      while (p < n && (isIdentChar(input.charCodeAt(p)) || input.charCodeAt(p) === 46)) p++;
      if (p === pos + 1) return fail(start);
      const name = input.slice(pos + 1, p);
      pos = p;
      tokens.push(makeToken("userVar", name, "", start, pos));
      continue;
    }
    const three = input.slice(pos, pos + 3);
    if (operators3.has(three)) {
      pos += 3;
      tokens.push(makeToken("op", three, three, start, pos));
      continue;
    }
    const two = input.slice(pos, pos + 2);
    if (operators2.has(two)) {
      pos += 2;
      tokens.push(makeToken("op", two, two, start, pos));
      continue;
    }
    const one = input[pos] as string;
    if (operators1.has(one)) {
      pos++;
      tokens.push(makeToken("op", one, one, start, pos));
      continue;
    }
    return fail(start);
  }
  tokens.push(makeToken("eof", "", "", n, n));
  return tokens;
}

function isBitChar(input: string, p: number): boolean {
  const c = input.charCodeAt(p);
  return c === 48 || c === 49;
}

/** True after a `.`, where `t.1e` style names must not turn into numbers. */
function followsDot(tokens: readonly Token[]): boolean {
  const last = tokens[tokens.length - 1];
  return last !== undefined && last.kind === "op" && last.text === ".";
}
