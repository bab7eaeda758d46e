/**
 * Parser of sqllogictest scripts (the format of ../shared/sqllogictest/README.md).
 *
 * A script is a sequence of records separated by blank lines. Lines that open with `#`
 * between records are comments; `\r` line ends are tolerated (part of the corpus has
 * them). Condition lines (`skipif <engine>`, `onlyif <engine>`, text after the engine name
 * is a comment) attach to the record that follows them. A whitespace-only line counts as
 * blank, as in SQLite's reference runner, so a record's SQL and its expected values can
 * never contain one.
 *
 * Records:
 * - `statement ok` / `statement error [regex]` then the SQL up to the blank line. The
 *   regex, our extension for Tessera's own files, must match the error message.
 * - `query <types> <sort> [label]` then the SQL up to `----`, then the expected values up
 *   to the blank line: one value per line, or one line `N values hashing to <md5>`. A
 *   query without `----` only has to run without an error.
 * - `hash-threshold N` and `halt`.
 * The parser is pure: it never decides which engine runs; `skipRecord` does, given the
 * engine name.
 */

/** Sorting applied to a query's values before they are compared. */
export type SortMode = "nosort" | "rowsort" | "valuesort";

/** `skipif`/`onlyif` guards of one record, in script order. */
export interface Condition {
  readonly kind: "skipif" | "onlyif";
  readonly engine: string;
}

/** Expected output of a query record. */
export type Expected =
  | { readonly kind: "none" }
  | { readonly kind: "values"; readonly values: readonly string[] }
  | { readonly kind: "hash"; readonly count: number; readonly md5: string };

/** One record of a script; `line` is the 1-based line of its first (directive) line. */
export type SltRecord =
  | {
      readonly kind: "statement";
      readonly line: number;
      readonly conditions: readonly Condition[];
      readonly expectError: boolean;
      /** With `statement error <regex>`: a pattern the error message must match. */
      readonly errorPattern: string | null;
      readonly sql: string;
    }
  | {
      readonly kind: "query";
      readonly line: number;
      readonly conditions: readonly Condition[];
      /** One letter per result column: `I`, `R` or `T`. */
      readonly types: string;
      readonly sort: SortMode;
      readonly label: string | null;
      readonly sql: string;
      readonly expected: Expected;
    }
  | {
      readonly kind: "hashThreshold";
      readonly line: number;
      readonly conditions: readonly Condition[];
      readonly threshold: number;
    }
  | { readonly kind: "halt"; readonly line: number; readonly conditions: readonly Condition[] };

/** A line the parser cannot make sense of; the whole script is refused. */
export class SltParseError extends Error {
  readonly line: number;
  constructor(line: number, message: string) {
    super(`line ${line}: ${message}`);
    this.name = "SltParseError";
    this.line = line;
  }
}

const hashLine = /^(\d+) values hashing to ([0-9a-f]{32})$/;

/** Parses a whole script into records. Throws `SltParseError` on a malformed record. */
export function parseScript(text: string): SltRecord[] {
  const lines = text.split("\n").map((l) => (l.endsWith("\r") ? l.slice(0, -1) : l));
  const records: SltRecord[] = [];
  let i = 0;
  const isBlank = (l: string | undefined): boolean => l === undefined || l.trim() === "";
  // Reads lines from `i` up to a blank line or `stop`; leaves `i` on the terminator.
  const readBlock = (stop: string | null): string[] => {
    const out: string[] = [];
    while (i < lines.length && !isBlank(lines[i]) && lines[i] !== stop) {
      out.push(lines[i] as string);
      i++;
    }
    return out;
  };

  let conditions: Condition[] = [];
  while (i < lines.length) {
    const raw = lines[i] as string;
    if (isBlank(raw) || raw.startsWith("#")) {
      // Pending conditions stay attached: they guard the next record directive.
      i++;
      continue;
    }
    const lineNo = i + 1;
    const words = raw.trim().split(/\s+/);
    const directive = words[0] as string;
    i++;
    switch (directive) {
      case "skipif":
      case "onlyif": {
        const engine = words[1];
        if (engine === undefined) throw new SltParseError(lineNo, `${directive} without engine`);
        conditions.push({ kind: directive, engine });
        continue;
      }
      case "statement": {
        const mode = words[1];
        if (mode !== "ok" && mode !== "error") {
          throw new SltParseError(lineNo, `statement must be "ok" or "error", got "${mode}"`);
        }
        const rest = raw.trim().slice("statement".length).trim().slice(mode.length).trim();
        const errorPattern = mode === "error" && rest !== "" ? rest : null;
        if (errorPattern !== null) checkPattern(lineNo, errorPattern);
        const sql = readBlock(null).join("\n");
        if (sql === "") throw new SltParseError(lineNo, "statement without SQL");
        records.push({
          kind: "statement",
          line: lineNo,
          conditions,
          expectError: mode === "error",
          errorPattern,
          sql,
        });
        break;
      }
      case "query": {
        const types = words[1];
        if (types === undefined || !/^[IRT]+$/.test(types)) {
          throw new SltParseError(lineNo, `query types must be letters I, R, T: "${types}"`);
        }
        const sort = words[2] ?? "nosort";
        if (sort !== "nosort" && sort !== "rowsort" && sort !== "valuesort") {
          throw new SltParseError(lineNo, `unknown sort mode "${sort}"`);
        }
        const label = words[3] ?? null;
        const sql = readBlock("----").join("\n");
        if (sql === "") throw new SltParseError(lineNo, "query without SQL");
        let expected: Expected = { kind: "none" };
        if (lines[i] === "----") {
          i++;
          expected = parseExpected(readBlock(null));
        }
        records.push({
          kind: "query",
          line: lineNo,
          conditions,
          types,
          sort,
          label,
          sql,
          expected,
        });
        break;
      }
      case "hash-threshold": {
        const threshold = Number(words[1]);
        if (!Number.isSafeInteger(threshold) || threshold < 0) {
          throw new SltParseError(lineNo, `bad hash-threshold "${words[1]}"`);
        }
        records.push({ kind: "hashThreshold", line: lineNo, conditions, threshold });
        break;
      }
      case "halt":
        records.push({ kind: "halt", line: lineNo, conditions });
        break;
      default:
        throw new SltParseError(lineNo, `unknown record "${directive}"`);
    }
    conditions = [];
  }
  return records;
}

/** The expected-values block of a query: a hash line or one value per line. */
function parseExpected(block: readonly string[]): Expected {
  const only = block.length === 1 ? hashLine.exec(block[0] as string) : null;
  if (only !== null) {
    return { kind: "hash", count: Number(only[1]), md5: only[2] as string };
  }
  return { kind: "values", values: block };
}

function checkPattern(line: number, pattern: string): void {
  try {
    new RegExp(pattern);
  } catch (error: unknown) {
    throw new SltParseError(line, `bad error regex: ${String(error)}`);
  }
}

/**
 * Whether a record is skipped when the script runs as `engine`: any `skipif engine`,
 * or any `onlyif` naming another engine.
 */
export function skipRecord(record: SltRecord, engine: string): boolean {
  return record.conditions.some((c) =>
    c.kind === "skipif" ? c.engine === engine : c.engine !== engine,
  );
}
