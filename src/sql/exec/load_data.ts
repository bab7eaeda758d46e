/**
 * LOAD DATA LOCAL INFILE: the client's file, split into rows and fields as MySQL reads
 * them (`splitLoadData`, pure), then written as one INSERT of those rows.
 *
 * Format (MySQL's defaults): FIELDS TERMINATED BY '\t' ENCLOSED BY '' ESCAPED BY '\\',
 * LINES STARTING BY '' TERMINATED BY '\n', IGNORE n LINES. Escapes `\0 \b \n \r \t \Z`
 * and `\<c>` for any other c; `\N` alone is NULL, and so is an unenclosed `NULL` when
 * fields may be enclosed; a doubled enclosing character inside an enclosed field is one.
 *
 * Semantics (MySQL 8 with LOCAL): duplicate keys skip the row unless REPLACE, and data
 * errors are warnings whatever the sql_mode, since the server cannot stop the client's
 * transfer. A row with too few fields sets the rest to their defaults (1261), one with too
 * many drops the extra (1262), NULL for a NOT NULL column is its type's implicit default
 * (1263). Target columns may be user variables, used by the SET clause.
 */
import type { Value } from "../../expr/mod.ts";
import type { Expr as AstExpr, InsertStatement, LoadDataStatement } from "../parser/ast.ts";
import { ER, type MySqlError, mysqlError } from "../mysql_errors.ts";
import { stateOf } from "../table/index_writes.ts";
import { type DmlContext, insert, resolveTable } from "./dml.ts";
import { implicitDefault } from "./write_convert.ts";

/** How a file's bytes are split; null options take MySQL's defaults. */
export interface LoadDataFormat {
  readonly fieldsTerminatedBy: string | null;
  readonly fieldsEnclosedBy: string | null;
  readonly fieldsEscapedBy: string | null;
  readonly linesStartingBy: string | null;
  readonly linesTerminatedBy: string | null;
  readonly ignoreLines: number | null;
}

/** One row of the file: its fields, null for NULL. */
export type LoadDataRow = readonly (string | null)[];

const escapes: Readonly<Record<string, string>> = {
  "0": "\0", b: "\b", n: "\n", r: "\r", t: "\t", Z: "\x1a",
};

/** The rows of `text` in `format`; see the file comment. */
export function splitLoadData(text: string, format: LoadDataFormat): LoadDataRow[] {
  const fieldEnd = format.fieldsTerminatedBy ?? "\t";
  const lineEnd = format.linesTerminatedBy ?? "\n";
  const enclosure = (format.fieldsEnclosedBy ?? "").slice(0, 1);
  const escape = (format.fieldsEscapedBy ?? "\\").slice(0, 1);
  const start = format.linesStartingBy ?? "";
  if (fieldEnd === "" && enclosure === "") {
    throw mysqlError(ER.NOT_SUPPORTED_YET, ["LOAD DATA with fixed-width fields"]);
  }
  if (lineEnd === "") throw mysqlError(ER.NOT_SUPPORTED_YET, ["empty LINES TERMINATED BY"]);
  const n = text.length;
  let pos = 0;
  for (let skip = format.ignoreLines ?? 0; skip > 0 && pos < n; skip--) {
    const next = text.indexOf(lineEnd, pos);
    pos = next < 0 ? n : next + lineEnd.length;
  }
  const atFieldEnd = (at: number): boolean => fieldEnd !== "" && text.startsWith(fieldEnd, at);
  const atLineEnd = (at: number): boolean => text.startsWith(lineEnd, at);
  const atEnd = (at: number): boolean => at >= n || atFieldEnd(at) || atLineEnd(at);
  const rows: LoadDataRow[] = [];
  while (pos < n) {
    if (start !== "") {
      const found = text.indexOf(start, pos);
      if (found < 0) break;
      pos = found + start.length;
    }
    const fields: (string | null)[] = [];
    for (;;) {
      let value = "";
      let isNull = false;
      if (enclosure !== "" && text[pos] === enclosure) {
        pos++;
        while (pos < n) {
          const c = text[pos]!;
          if (escape !== "" && c === escape && pos + 1 < n) {
            const e = text[pos + 1]!;
            value += escapes[e] ?? e;
            pos += 2;
          } else if (c === enclosure && text[pos + 1] === enclosure) {
            value += c;
            pos += 2;
          } else if (c === enclosure && atEnd(pos + 1)) {
            pos++;
            break;
          } else {
            value += c;
            pos++;
          }
        }
      } else {
        while (!atEnd(pos)) {
          const c = text[pos]!;
          if (escape !== "" && c === escape && pos + 1 < n) {
            const e = text[pos + 1]!;
            if (e === "N" && value === "" && atEnd(pos + 2)) isNull = true;
            else value += escapes[e] ?? e;
            pos += 2;
          } else {
            value += c;
            pos++;
          }
        }
        if ((enclosure !== "" || escape === "") && value === "NULL") isNull = true;
      }
      fields.push(isNull ? null : value);
      if (atFieldEnd(pos)) {
        pos += fieldEnd.length;
        continue;
      }
      if (atLineEnd(pos)) pos += lineEnd.length;
      break;
    }
    rows.push(fields);
  }
  return rows;
}

/**
 * The whole file the client sends, as text (UTF-8). It is read before the statement's
 * transaction starts, since a statement run again cannot ask for the file again; more
 * than `bytesMax` bytes (the transaction size limit) is 8004.
 */
export async function readLoadDataFile(chunks: AsyncIterable<Uint8Array>, bytesMax: number):
  Promise<string> {
  const parts: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of chunks) {
    size += chunk.length;
    if (size > bytesMax) throw mysqlError(ER.TXN_TOO_LARGE, [size]);
    parts.push(chunk);
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const part of parts) {
    bytes.set(part, at);
    at += part.length;
  }
  return new TextDecoder().decode(bytes);
}

/** What LOAD DATA reports: `Records: n  Deleted: n  Skipped: n`. */
export interface LoadDataResult {
  readonly affectedRows: number;
  readonly records: number;
  readonly deleted: number;
  readonly skipped: number;
}

const literal = (value: string | null): AstExpr =>
  value === null ? { kind: "null" } : { kind: "string", value, charset: null };

/** `expr` with the user variables named in `values` replaced by their row's values. */
function bindUserVars(expr: AstExpr, values: ReadonlyMap<string, string | null>): AstExpr {
  const walk = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(walk);
    if (node === null || typeof node !== "object") return node;
    const e = node as { kind?: unknown; name?: unknown };
    if (e.kind === "userVar" && typeof e.name === "string" &&
      values.has(e.name.toLowerCase())) {
      return literal(values.get(e.name.toLowerCase()) ?? null);
    }
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, walk(v)]));
  };
  return walk(expr) as AstExpr;
}

/**
 * Writes `rows` (the file, split) into the statement's table as one INSERT; every
 * conversion error is a warning (LOCAL), duplicates skip the row unless REPLACE.
 */
export async function loadDataRows(ctx: DmlContext, statement: LoadDataStatement,
  rows: readonly LoadDataRow[]): Promise<LoadDataResult> {
  const table = resolveTable(ctx, statement.table);
  const visible = table.columns.filter((c) => stateOf(c) === "public");
  const targets: AstExpr[] = statement.columns === null
    ? visible.map((c) => ({ kind: "column", db: null, table: null, column: c.name }))
    : [...statement.columns];
  const columnOf = (name: string) => {
    const c = visible.find((col) => col.name.toLowerCase() === name.toLowerCase());
    if (c === undefined) throw mysqlError(ER.BAD_FIELD_ERROR, [name, "field list"]);
    return c;
  };
  const targetColumns = targets.map((t) => t.kind === "column" ? columnOf(t.column) : null);
  const setColumns = statement.set.map((a) => columnOf(a.column.column));
  const names = [...targetColumns.filter((c) => c !== null), ...setColumns].map((c) => c.name);
  const warn = (warning: MySqlError): void => ctx.warn?.(warning);
  const sourceRows = rows.map((fields, r) => {
    const rowNumber = r + 1;
    if (fields.length < targets.length) warn(mysqlError(ER.WARN_TOO_FEW_RECORDS, [rowNumber]));
    if (fields.length > targets.length) warn(mysqlError(ER.WARN_TOO_MANY_RECORDS, [rowNumber]));
    const vars = new Map<string, string | null>();
    const out: (AstExpr | { readonly kind: "value"; readonly value: Value })[] = [];
    targets.forEach((target, k) => {
      const field = k < fields.length ? fields[k]! : undefined;
      const column = targetColumns[k] ?? null;
      if (column === null) {
        if (target.kind === "userVar") vars.set(target.name.toLowerCase(), field ?? null);
        return;
      }
      if (field === undefined) {
        // A missing field: the column's default, or its type's implicit one.
        out.push(column.defaultText !== null || column.nullable || column.autoIncrement ||
          column.autoRandom !== undefined ? { kind: "default" }
          : { kind: "value", value: implicitDefault(column) });
      } else if (field === null && !column.nullable && !column.autoIncrement &&
        column.autoRandom === undefined) {
        warn(mysqlError(ER.WARN_NULL_TO_NOTNULL, [column.name, rowNumber]));
        out.push({ kind: "value", value: implicitDefault(column) });
      } else {
        out.push(literal(field));
      }
    });
    for (const assignment of statement.set) out.push(bindUserVars(assignment.value, vars));
    return out;
  });
  const insertStatement: InsertStatement = {
    kind: "insert", replace: statement.duplicate === "REPLACE", hints: null, priority: null,
    ignore: statement.duplicate !== "REPLACE", table: statement.table, partitions: [],
    columns: names, source: { kind: "values", rows: sourceRows as AstExpr[][] },
    onDuplicate: [],
  };
  // LOCAL: data errors are warnings (REPLACE as well), never the statement's end.
  const result = await insert({ ...ctx, strictMode: false }, insertStatement);
  const replaced = statement.duplicate === "REPLACE";
  return { affectedRows: result.affectedRows, records: rows.length,
    deleted: replaced ? result.affectedRows - rows.length : 0,
    skipped: replaced ? 0 : rows.length - result.affectedRows };
}
