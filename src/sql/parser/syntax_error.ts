/**
 * The error a statement that does not parse produces, shaped for MySQL's error 1064.
 *
 * MySQL reports a syntax error as "… near '<rest>' at line N", where `<rest>` is the input
 * from the offending token on, cut to 80 characters, and N is the 1-based line of that
 * token in the whole input (all statements of a multi-statement packet count). The error
 * carries those pieces separately so the wire layer builds the packet from `near` and
 * `line`; `message` is already the complete MySQL text.
 */
import { ErrorCode, TesseraError } from "../../base/mod.ts";

/** MySQL's lead-in of a 1064 error. */
export const syntaxErrorReason =
  "You have an error in your SQL syntax; check the manual that corresponds to your MySQL " +
  "server version for the right syntax to use";

/** Characters of the remaining input MySQL quotes after `near` (`%-.80s`). */
export const syntaxErrorNearChars = 80;

/** Where in the input a syntax error was found. */
export interface SyntaxErrorPosition {
  /** UTF-16 offset of the offending token in the whole input. */
  readonly offset: number;
  /** 1-based line of that token. */
  readonly line: number;
  /** 1-based column (UTF-16 units) of that token within its line. */
  readonly column: number;
  /** The input from the token on, at most 80 characters (code points); "" at the end. */
  readonly near: string;
}

/**
 * A statement that does not parse, or nests deeper than `limits.sqlParseDepthMax`
 * (code `SQL:Parse:TooDeep`); both are MySQL error 1064 on the wire.
 */
export class SqlSyntaxError extends TesseraError {
  readonly near: string;
  readonly line: number;
  readonly column: number;
  readonly offset: number;
  /** The text before `near`: MySQL's standard sentence, or what limit was exceeded. */
  readonly reason: string;

  constructor(
    code: ErrorCode,
    reason: string,
    position: SyntaxErrorPosition,
    expected: string | null = null,
  ) {
    super(code, `${reason} near '${position.near}' at line ${position.line}`, {
      details: { line: position.line, column: position.column, expected },
    });
    this.near = position.near;
    this.line = position.line;
    this.column = position.column;
    this.offset = position.offset;
    this.reason = reason;
  }
}

/** Computes line, column and the `near` text for an offset of `input`. */
export function positionAt(input: string, offset: number): SyntaxErrorPosition {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < input.length; i++) {
    if (input.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  let near = "";
  let chars = 0;
  for (const ch of input.slice(offset, offset + 2 * syntaxErrorNearChars)) {
    if (chars === syntaxErrorNearChars) break;
    near += ch;
    chars++;
  }
  return { offset, line, column: offset - lineStart + 1, near };
}

/** A SqlSyntaxError with MySQL's standard 1064 sentence at `offset` of `input`. */
export function syntaxErrorAt(
  input: string,
  offset: number,
  expected: string | null = null,
): SqlSyntaxError {
  return new SqlSyntaxError(
    ErrorCode.SqlParseSyntax,
    syntaxErrorReason,
    positionAt(input, offset),
    expected,
  );
}
