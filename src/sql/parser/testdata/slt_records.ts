/**
 * Reads the SQL of sqllogictest records, for the parser's corpus test.
 *
 * A record is `statement ok|error` or `query …` followed by SQL lines up to a blank line or
 * `----`. Conditions before a record apply as they do when the corpus runs as engine
 * `mysql`: `skipif mysql` and `onlyif <other engine>` skip the record; a `halt` that
 * applies ends the file.
 */

/** One record's SQL and what the script expects of it. */
export interface SltRecord {
  readonly file: string;
  /** 1-based line of the record's first SQL line. */
  readonly line: number;
  readonly sql: string;
  /** `statement error` records may fail to parse; the rest should parse. */
  readonly expectError: boolean;
}

/** The records of one script that apply to MySQL. */
export function sltRecords(file: string, text: string): SltRecord[] {
  const lines = text.split("\n");
  const out: SltRecord[] = [];
  let skip = false;
  let i = 0;
  while (i < lines.length) {
    const line = (lines[i] as string).trimEnd();
    i++;
    if (line === "" || line.startsWith("#")) {
      if (line === "") skip = false;
      continue;
    }
    const words = line.split(/\s+/);
    const head = words[0];
    if (head === "skipif") {
      if (words[1] === "mysql") skip = true;
      continue;
    }
    if (head === "onlyif") {
      if (words[1] !== "mysql") skip = true;
      continue;
    }
    if (head === "halt") {
      if (!skip) break;
      skip = false;
      continue;
    }
    if (head !== "statement" && head !== "query") {
      skip = false;
      continue;
    }
    const expectError = head === "statement" && words[1] === "error";
    const start = i + 1;
    const sqlLines: string[] = [];
    while (i < lines.length) {
      const l = lines[i] as string;
      if (l.trim() === "" || l.startsWith("----")) break;
      sqlLines.push(l);
      i++;
    }
    // Skip the expected results of a query.
    if (i < lines.length && (lines[i] as string).startsWith("----")) {
      while (i < lines.length && (lines[i] as string).trim() !== "") i++;
    }
    if (!skip) out.push({ file, line: start, sql: sqlLines.join("\n"), expectError });
    skip = false;
  }
  return out;
}
