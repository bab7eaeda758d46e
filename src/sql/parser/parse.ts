/**
 * The parser's entry points: `parse` splits an input into `;`-separated statements and
 * parses each, `parseExpression` parses one expression.
 *
 * Both return a result instead of throwing: a bad input is an expected outcome, reported
 * as `{ kind: "error", error: SqlSyntaxError }`. Only a bug in the parser throws. Empty
 * statements between semicolons are skipped, so an input of only blanks and comments
 * yields no statements (the wire layer answers that with MySQL's "Query was empty").
 * After parsing, the height of each tree is checked against `limits.sqlAstHeightMax`
 * with an explicit stack, so no consumer recursing over the tree can overflow.
 */
import { ErrorCode, limits } from "../../base/mod.ts";
import type { Expr, ParsedStatement, Statement } from "./ast.ts";
import { type LexOptions, tokenize } from "./lexer.ts";
import { Parser } from "./parser.ts";
import { SqlSyntaxError, positionAt } from "./syntax_error.ts";

export type ParseOptions = LexOptions;

export type ParseResult =
  | { readonly kind: "ok"; readonly statements: readonly ParsedStatement[] }
  | { readonly kind: "error"; readonly error: SqlSyntaxError };

export type ParseExpressionResult =
  | { readonly kind: "ok"; readonly expr: Expr }
  | { readonly kind: "error"; readonly error: SqlSyntaxError };

/**
 * Parses every statement of `input` (separated by `;`). `?` placeholders are numbered from
 * 0 across the whole input.
 */
export function parse(input: string, options: ParseOptions = {}): ParseResult {
  try {
    const parser = new Parser(input, tokenize(input, options));
    const statements: ParsedStatement[] = [];
    for (;;) {
      while (parser.acceptOp(";")) {
        // Empty statements are skipped.
      }
      const first = parser.peek();
      if (first.kind === "eof") break;
      const statement = parser.parseStatement();
      const last = parser.previous();
      if (!parser.isOp(";") && parser.peek().kind !== "eof") parser.fail(";");
      checkHeight(input, first.start, statement);
      statements.push({
        statement,
        text: input.slice(first.start, last.end),
        start: first.start,
        end: last.end,
      });
    }
    return { kind: "ok", statements };
  } catch (error: unknown) {
    if (error instanceof SqlSyntaxError) return { kind: "error", error };
    throw error;
  }
}

/** Parses `input` as exactly one expression (for DEFAULT values, tests and tools). */
export function parseExpression(input: string, options: ParseOptions = {}): ParseExpressionResult {
  try {
    const parser = new Parser(input, tokenize(input, options));
    const expr = parser.parseExpr();
    if (parser.peek().kind !== "eof") parser.fail("end of input");
    checkHeight(input, 0, expr);
    return { kind: "ok", expr };
  } catch (error: unknown) {
    if (error instanceof SqlSyntaxError) return { kind: "error", error };
    throw error;
  }
}

/** Fails when the tree under `root` is taller than `limits.sqlAstHeightMax`. */
function checkHeight(input: string, offset: number, root: Statement | Expr): void {
  const stack: { node: unknown; height: number }[] = [{ node: root, height: 1 }];
  while (stack.length > 0) {
    const item = stack.pop();
    if (item === undefined) break;
    const { node, height } = item;
    if (height > limits.sqlAstHeightMax) {
      throw new SqlSyntaxError(
        ErrorCode.SqlParseTooDeep,
        `The statement's expressions nest deeper than ${limits.sqlAstHeightMax} levels`,
        positionAt(input, offset),
      );
    }
    if (Array.isArray(node)) {
      for (const child of node) {
        if (typeof child === "object" && child !== null) stack.push({ node: child, height });
      }
      continue;
    }
    for (const value of Object.values(node as object)) {
      if (typeof value === "object" && value !== null) {
        stack.push({ node: value, height: height + 1 });
      }
    }
  }
}
