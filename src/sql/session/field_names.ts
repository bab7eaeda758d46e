/**
 * Result column names as MySQL prints them: a select item without an alias is named by
 * its source text exactly as written (`SELECT 1+1` → `1+1`, `SELECT 1 + 1` → `1 + 1`),
 * except a string literal, which is named by its value (`'x'` → `x`).
 *
 * The syntax tree keeps no positions inside a statement, so the select list is found
 * again in the statement's tokens: after SELECT and its options, items split at commas
 * outside parentheses, up to the first clause keyword outside parentheses. When that
 * does not yield one span per item (an unusual spelling), the caller falls back to the
 * printer's text.
 */
import { tokenize } from "../parser/lexer.ts";

const selectOptions = new Set([
  "ALL", "DISTINCT", "DISTINCTROW", "HIGH_PRIORITY", "STRAIGHT_JOIN", "SQL_SMALL_RESULT",
  "SQL_BIG_RESULT", "SQL_BUFFER_RESULT", "SQL_NO_CACHE", "SQL_CACHE", "SQL_CALC_FOUND_ROWS",
]);

const clauseKeywords = new Set([
  "FROM", "WHERE", "GROUP", "HAVING", "ORDER", "LIMIT", "INTO", "FOR", "LOCK", "WINDOW",
  "UNION", "EXCEPT", "INTERSECT",
]);

/** MySQL's limit on an automatically generated column name, in characters. */
const columnNameCharsMax = 256;

/**
 * The source text of each select item of the SELECT statement `text` (aliases included),
 * or undefined when the statement cannot be split into exactly `count` items.
 */
export function selectItemTexts(text: string, count: number): string[] | undefined {
  let tokens;
  try {
    tokens = tokenize(text);
  } catch {
    // The statement parsed, so this cannot happen; the caller has a fallback anyway.
    return undefined;
  }
  let i = tokens.findIndex((tok) => tok.kind === "word" && tok.upper === "SELECT");
  if (i < 0) return undefined;
  i++;
  while (tokens[i]?.kind === "word" && selectOptions.has(tokens[i]!.upper)) i++;
  const items: string[] = [];
  let depth = 0;
  let start = -1;
  let end = -1;
  for (; i < tokens.length; i++) {
    const tok = tokens[i]!;
    if (tok.kind === "eof") break;
    if (depth === 0 && tok.kind === "word" && clauseKeywords.has(tok.upper)) break;
    if (tok.kind === "op" && tok.text === ";" && depth === 0) break;
    if (tok.kind === "op" && tok.text === "," && depth === 0) {
      if (start < 0) return undefined;
      items.push(text.slice(start, end));
      start = -1;
      continue;
    }
    if (tok.kind === "op" && tok.text === ")" && depth === 0) break;
    if (tok.kind === "op" && tok.text === "(") depth++;
    if (tok.kind === "op" && tok.text === ")") depth--;
    if (start < 0) start = tok.start;
    end = tok.end;
  }
  if (start >= 0) items.push(text.slice(start, end));
  return items.length === count ? items : undefined;
}

/** Cuts a generated name to MySQL's length. */
export function limitName(name: string): string {
  const chars = [...name];
  return chars.length > columnNameCharsMax ? chars.slice(0, columnNameCharsMax).join("") : name;
}
