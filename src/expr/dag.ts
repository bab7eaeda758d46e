/**
 * The coprocessor DAG contract ([T9] "Coprocessor pushdown"): what the SQL node asks a KV
 * node to run over one shard's snapshot, what comes back, and their byte encodings.
 *
 * A request is one scan (a table's rows or one index's entries, in key order or reverse)
 * followed by a selection (conjuncts that must all be true), then at most one of: a
 * partial aggregation, a TopN, a limit. Expressions are the shared `Expr` nodes, whose
 * `column` references index the scan's output row. The executor is `runDag`
 * (`dag_exec.ts`); the KV node runs it next to the data (src/kv/copr), and the SQL layer
 * can run the very same code over pairs it holds itself.
 *
 * Scan output rows: a table scan yields one value per `DagColumn` (read from the row
 * value by column id, converted as the SQL layer's `readStoredValue` does, the column's
 * origin default when the row predates the column); an index scan yields one value per
 * `DagColumn` decoded from the index key (`id` = the value's position in the key; only
 * kinds the key keeps exactly: integers, DOUBLE, DECIMAL, dates and times — never
 * strings, whose keys hold collation weights). `handleSlot` names the output position
 * that holds the row's int64 handle instead (an integer primary key, `_tidb_rowid`);
 * that column's `id` is not read.
 *
 * Response: `rows` (scan rows that passed, or one row per group: the group-by values then
 * one partial per aggregate — COUNT an int, SUM a DECIMAL (exact arguments) or DOUBLE
 * (DOUBLE or string arguments) or NULL, MIN/MAX/FIRST_ROW a value; the SQL layer merges
 * partials and sends AVG as SUM and COUNT), `handles` (one per row when there is no
 * aggregation), `resumeKey`: null when the ranges are done (or the limit reached); else
 * the page stopped there and the next request covers, in scan direction, what is left —
 * forward: the ranges from `resumeKey` (inclusive) on; desc: the ranges below
 * `resumeKey` (exclusive). Each page's partial aggregates and TopN rows are valid
 * partials on their own. Evaluation warnings come back as data (`ExprWarning`, the first
 * `limits.coprocessorWarningsMax` of `warningCount`); an evaluation error ends the page
 * with `error` set and no rows, for the SQL layer to raise as MySQL does.
 *
 * Only deterministic expressions that read nothing from the session but the time zone
 * may be pushed (`isPushable`); decoding a request checks every expression again, so a
 * KV node never evaluates NOW() or a user variable. Decoding validates everything and
 * throws `Codec:Corrupt` naming what is wrong. Pure: no I/O.
 */
import { limits } from "../base/mod.ts";
import type { ExprErrorReason, ExprWarning } from "./errors.ts";
import type { Expr } from "./expr.ts";
import { builtins } from "./functions.ts";
import { hasDefaultCollation } from "./collation_derivation.ts";
import { type TimeZone, resolveTimeZone, utcTimeZone } from "./temporal_tz.ts";
import { type EvalKind, type FieldType, TypeCode } from "./types.ts";
import type { DateTime, StringTag, Value } from "./value.ts";
import { DagReader, DagWriter, malformedDag } from "./dag_wire.ts";

// ---- the contract ------------------------------------------------------------------------

/**
 * How a column's values are represented, from the SQL column kind: `int` for INT family
 * (signed or not), YEAR (signed) and BIT (unsigned); `decimal` with its scale; `double`
 * for FLOAT/DOUBLE; `string` for CHAR/VARCHAR/TEXT/BINARY/BLOB; DATETIME and TIMESTAMP
 * with their fsp; ENUM and SET with their members as declared.
 */
export type DagColumnType =
  | { readonly kind: "int"; readonly unsigned: boolean }
  | { readonly kind: "decimal"; readonly scale: number }
  | { readonly kind: "double" }
  | { readonly kind: "string" }
  | { readonly kind: "date" }
  | { readonly kind: "datetime"; readonly fsp: number }
  | { readonly kind: "timestamp"; readonly fsp: number }
  | { readonly kind: "time" }
  | { readonly kind: "json" }
  | { readonly kind: "enum"; readonly members: readonly string[] }
  | { readonly kind: "set"; readonly members: readonly string[] };

/** One output column of a scan. */
export interface DagColumn {
  /** Table scan: the column id in the row codec. Index scan: position in the index key. */
  readonly id: number;
  readonly type: DagColumnType;
  /** What a row written before the column existed reads as (table scans; else null). */
  readonly originDefault: Value;
}

/** The scan a request starts with. */
export type DagScan =
  | {
    readonly kind: "table";
    readonly tableId: number;
    readonly columns: readonly DagColumn[];
    /** Output position filled with the row's handle, or null. */
    readonly handleSlot: number | null;
    /** Largest key first. */
    readonly desc: boolean;
  }
  | {
    readonly kind: "index";
    readonly tableId: number;
    readonly indexId: number;
    /** Values in each index key (the index's columns), before the handle. */
    readonly keyColumns: number;
    readonly columns: readonly DagColumn[];
    /** Output position filled with the handle (from the key, or a unique entry's value). */
    readonly handleSlot: number | null;
    readonly desc: boolean;
  };

/** Partial aggregate functions. */
export type DagAggregateFn = "count" | "sum" | "min" | "max" | "first_row";

/** One aggregate: COUNT(*) has no arguments, COUNT(a, …) counts rows where none is NULL. */
export interface DagAggregate {
  readonly fn: DagAggregateFn;
  readonly args: readonly Expr[];
}

/** Partial hash aggregation. */
export interface DagAggregation {
  readonly groupBy: readonly Expr[];
  readonly aggregates: readonly DagAggregate[];
}

/** One ORDER BY key of a TopN (MySQL order: NULLs first ascending, last descending). */
export interface DagOrderKey {
  readonly expr: Expr;
  readonly desc: boolean;
}

/** The first `count` rows by `order` (ties keep scan order). */
export interface DagTopN {
  readonly order: readonly DagOrderKey[];
  readonly count: number;
}

/**
 * What evaluation needs from the session. Pushable expressions read only the time zone
 * (TIMESTAMP columns, FROM_UNIXTIME, UNIX_TIMESTAMP(x), CONVERT_TZ) and
 * `max_allowed_packet` (the longest string REPEAT, LPAD … build); sql_mode and
 * `div_precision_increment` shape the expressions' types when the SQL layer builds them,
 * and string comparisons use the default collation, so none of them is sent.
 */
export interface DagContext {
  readonly timeZone: TimeZone;
  /** `max_allowed_packet` in bytes; absent: expr's default (64 MiB). */
  readonly maxAllowedPacket?: number;
}

/** The default context: UTC. */
export const defaultDagContext: DagContext = { timeZone: utcTimeZone };

/** A request. */
export interface DagRequest {
  readonly scan: DagScan;
  /** Conjuncts over the scan's output row; a row passes when every one is true. */
  readonly selection: readonly Expr[];
  /** At most one of aggregation, topN and limit. */
  readonly aggregation: DagAggregation | null;
  readonly topN: DagTopN | null;
  readonly limit: number | null;
  readonly context: DagContext;
  /** Keys one page scans at most (1 … `limits.coprocessorPagingKeysMax`). */
  readonly pagingKeys: number;
}

/** A response (one page). */
export interface DagResponse {
  readonly rows: readonly (readonly Value[])[];
  /** The handle of each row, without aggregation; null with it. */
  readonly handles: readonly bigint[] | null;
  /** Where the next page starts (see the file comment); null: nothing is left. */
  readonly resumeKey: Uint8Array | null;
  /** The first warnings evaluation raised, at most `limits.coprocessorWarningsMax`. */
  readonly warnings: readonly ExprWarning[];
  /** All warnings raised, kept or not. */
  readonly warningCount: number;
  /** The evaluation error that ended the page (rows are then empty), or null. */
  readonly error: ExprErrorReason | null;
  /** Keys the page read. */
  readonly scannedKeys: number;
}

// ---- pushability -------------------------------------------------------------------------

/**
 * Built-ins that read the session, the statement's clock, or have side effects. Every
 * other built-in of `functions.ts` is a function of its arguments (and the time zone).
 */
const sessionBuiltins: ReadonlySet<string> = new Set([
  // The statement's clock.
  "now", "sysdate", "curdate", "curtime", "utc_timestamp", "utc_date", "utc_time",
  // The session and the server.
  "version", "database", "schema", "user", "current_user", "session_user", "system_user",
  "current_role", "connection_id", "last_insert_id", "row_count", "found_rows",
  "tidb_version", "ps_current_thread_id", "grouping", "values", "default",
  // Variables, locks, sleeping, randomness and sequences.
  "setvar", "getvar", "get_lock", "release_lock", "release_all_locks", "is_free_lock",
  "is_used_lock", "sleep", "benchmark", "rand", "uuid", "uuid_short", "random_bytes",
  "nextval", "lastval", "setval", "load_file",
]);

/**
 * Whether `expr` may run on a KV node: constants, columns and calls of built-ins that
 * depend on nothing but their arguments (and the time zone, which the request carries).
 * False for NOW() and its family, UNIX_TIMESTAMP() without an argument, USER(),
 * DATABASE(), CONNECTION_ID(), LAST_INSERT_ID(), user variable assignment, and any
 * function this evaluator does not know (RAND, UUID, SLEEP, GET_LOCK … are evaluated by
 * the SQL layer, if at all), and for strings under a collation other than the default.
 */
export function isPushable(expr: Expr): boolean {
  return comparesUnderDefaultCollation(expr) && usesPushableBuiltins(expr);
}

/**
 * Whether every string in `expr` is under the default collation, the one the coprocessor
 * compares, groups and sorts strings with (collation_derivation.ts).
 */
function comparesUnderDefaultCollation(expr: Expr): boolean {
  const stack: Expr[] = [expr];
  while (stack.length > 0) {
    const e = stack.pop()!;
    if (!hasDefaultCollation(e.type)) return false;
    if (e.kind === "call") stack.push(...e.args);
  }
  return true;
}

/** `isPushable` without the collation rule (a request's FIRST_ROW may read any column). */
function usesPushableBuiltins(expr: Expr): boolean {
  const stack: Expr[] = [expr];
  while (stack.length > 0) {
    const e = stack.pop()!;
    if (e.kind !== "call") continue;
    if (!builtins.has(e.fn) || sessionBuiltins.has(e.fn)) return false;
    if (e.fn === "unix_timestamp" && e.args.length === 0) return false;
    stack.push(...e.args);
  }
  return true;
}

/** Whether the SQL aggregate `name` has a partial form here (AVG goes as SUM and COUNT). */
export function isPushableAggregate(name: string): name is DagAggregateFn {
  return name === "count" || name === "sum" || name === "min" || name === "max" ||
    name === "first_row";
}

/** Whether values of `type` can be decoded from an index key (an index scan column). */
export function decodableFromKey(type: DagColumnType): boolean {
  switch (type.kind) {
    case "int":
    case "decimal":
    case "double":
    case "date":
    case "datetime":
    case "timestamp":
      return true;
    default:
      return false;
  }
}

// ---- validation --------------------------------------------------------------------------

const evalKinds: readonly EvalKind[] = ["null", "int", "decimal", "double", "string",
  "datetime"];
const typeCodes: ReadonlySet<number> = new Set(Object.values(TypeCode));

function checkExpr(expr: Expr, width: number, where: string): void {
  // Iterative, with the height tracked: a request may come from anywhere.
  const stack: { e: Expr; depth: number }[] = [{ e: expr, depth: 1 }];
  while (stack.length > 0) {
    const { e, depth } = stack.pop()!;
    if (depth > limits.sqlAstHeightMax) {
      throw malformedDag("request", `${where} is deeper than ${limits.sqlAstHeightMax}`);
    }
    if (e.kind === "column") {
      if (!Number.isSafeInteger(e.index) || e.index < 0 || e.index >= width) {
        throw malformedDag("request", `${where} reads column ${e.index} of ${width}`);
      }
      continue;
    }
    if (e.kind === "constant") continue;
    const builtin = builtins.get(e.fn);
    if (builtin === undefined) throw malformedDag("request", `${where} calls unknown ${e.fn}`);
    if (e.args.length < builtin.minArgs || e.args.length > builtin.maxArgs) {
      throw malformedDag("request", `${where} calls ${e.fn} with ${e.args.length} arguments`);
    }
    for (const a of e.args) stack.push({ e: a, depth: depth + 1 });
  }
  if (!usesPushableBuiltins(expr)) {
    throw malformedDag("request", `${where} reads the session or has side effects`);
  }
}

function checkCount(n: number, max: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 0 || n > max) {
    throw malformedDag("request", `${what} ${n} is not within 0 … ${max}`);
  }
}

/**
 * Throws `Codec:Corrupt` unless `request` is well formed: ids and slots in range, index
 * columns decodable from keys, expressions pushable, known and within the row, at most
 * one of aggregation / TopN / limit, sizes within `limits`. `decodeDagRequest` runs it;
 * the SQL layer may run it before sending.
 */
export function validateDagRequest(request: DagRequest): void {
  const scan = request.scan;
  checkCount(scan.tableId, Number.MAX_SAFE_INTEGER, "table id");
  if (scan.tableId === 0) throw malformedDag("request", "table id 0");
  checkCount(scan.columns.length, limits.coprocessorColumnsMax, "columns");
  const width = scan.columns.length;
  if (scan.handleSlot !== null) {
    checkCount(scan.handleSlot, width - 1, "handle slot");
    if (scan.columns[scan.handleSlot]!.type.kind !== "int") {
      throw malformedDag("request", "the handle slot's column is not an integer");
    }
  }
  if (scan.kind === "index") {
    checkCount(scan.indexId, Number.MAX_SAFE_INTEGER, "index id");
    if (scan.indexId === 0) throw malformedDag("request", "index id 0");
    checkCount(scan.keyColumns, limits.coprocessorColumnsMax, "key columns");
    if (scan.keyColumns === 0) throw malformedDag("request", "an index without columns");
  }
  scan.columns.forEach((c, i) => {
    if (i === scan.handleSlot) return;
    if (scan.kind === "index") {
      checkCount(c.id, scan.keyColumns - 1, `column ${i} key position`);
      if (!decodableFromKey(c.type)) {
        throw malformedDag("request", `index column ${i} (${c.type.kind}) is not kept in keys`);
      }
    } else {
      checkCount(c.id, Number.MAX_SAFE_INTEGER, `column ${i} id`);
    }
    const t = c.type;
    if (t.kind === "decimal") checkCount(t.scale, 30, `column ${i} scale`);
    if (t.kind === "datetime" || t.kind === "timestamp") checkCount(t.fsp, 6, `column ${i} fsp`);
  });
  request.selection.forEach((e, i) => checkExpr(e, width, `selection ${i}`));
  const ops = [request.aggregation, request.topN, request.limit].filter((o) => o !== null);
  if (ops.length > 1) throw malformedDag("request", "more than one of aggregation, topN, limit");
  if (request.aggregation !== null) {
    const agg = request.aggregation;
    agg.groupBy.forEach((e, i) => checkExpr(e, width, `group by ${i}`));
    agg.aggregates.forEach((a, i) => {
      if (!isPushableAggregate(a.fn)) throw malformedDag("request", `aggregate ${a.fn}`);
      if (a.fn === "count" ? a.args.length > limits.coprocessorColumnsMax
        : a.args.length !== 1) {
        throw malformedDag("request", `aggregate ${i} ${a.fn} with ${a.args.length} arguments`);
      }
      a.args.forEach((e, j) => checkExpr(e, width, `aggregate ${i} argument ${j}`));
    });
  }
  if (request.topN !== null) {
    checkCount(request.topN.count, limits.coprocessorTopNRowsMax, "TopN count");
    if (request.topN.order.length === 0) throw malformedDag("request", "a TopN without order");
    request.topN.order.forEach((k, i) => checkExpr(k.expr, width, `order key ${i}`));
  }
  if (request.limit !== null) checkCount(request.limit, Number.MAX_SAFE_INTEGER, "limit");
  const packet = request.context.maxAllowedPacket;
  if (packet !== undefined) {
    checkCount(packet, Number.MAX_SAFE_INTEGER, "max_allowed_packet");
    if (packet === 0) throw malformedDag("request", "max_allowed_packet 0");
  }
  checkCount(request.pagingKeys, limits.coprocessorPagingKeysMax, "paging keys");
  if (request.pagingKeys === 0) throw malformedDag("request", "paging keys 0");
}

// ---- values and expressions on the wire -------------------------------------------------

const formatVersion = 1;
const requestMagic = 0xda;
const responseMagic = 0xdb;

/** Writes one value (tags as the row codec's, plus string tags and datetime flags). */
export function writeDagValue(w: DagWriter, value: Value): void {
  if (value === null) {
    w.byte(0);
    return;
  }
  switch (value.kind) {
    case "int":
      w.byte(1);
      w.int64(value.value);
      return;
    case "uint":
      w.byte(2);
      w.uint64(value.value);
      return;
    case "double":
      w.byte(3);
      w.float64(value.value);
      return;
    case "decimal":
      w.byte(4);
      w.byte(value.scale);
      w.string(value.unscaled.toString());
      return;
    case "string":
      w.byte(5);
      w.string(value.value);
      writeTag(w, value.tag);
      return;
    case "datetime": {
      w.byte(6);
      const d = value.value;
      w.varint(d.year);
      w.byte(d.month);
      w.byte(d.day);
      w.byte(d.hour);
      w.byte(d.minute);
      w.byte(d.second);
      w.varint(d.microsecond);
      w.byte(value.fsp);
      w.byte((value.date === true ? 1 : 0) | (value.utc === true ? 2 : 0));
      return;
    }
  }
}

function writeTag(w: DagWriter, tag: StringTag | undefined): void {
  if (tag === undefined) {
    w.byte(0);
    return;
  }
  switch (tag.kind) {
    case "enum":
      w.byte(1);
      w.varint(tag.index);
      return;
    case "set":
      w.byte(2);
      w.uint64(tag.bits);
      return;
    case "time":
      w.byte(3);
      return;
    case "json":
      w.byte(4);
      return;
  }
}

/** Digits of a decimal's unscaled value the decoder accepts (partial sums grow past 65). */
const decimalDigitsMax = 200;

/** Reads one value written by `writeDagValue`. */
export function readDagValue(r: DagReader): Value {
  const tag = r.byte("value tag");
  switch (tag) {
    case 0:
      return null;
    case 1:
      return { kind: "int", value: r.int64("int") };
    case 2:
      return { kind: "uint", value: r.uint64("uint") };
    case 3:
      return { kind: "double", value: r.float64("double") };
    case 4: {
      const scale = r.byte("decimal scale");
      const digits = r.string("decimal digits");
      if (scale > 30 || digits.length > decimalDigitsMax || !/^-?\d+$/.test(digits)) {
        r.fail(`bad decimal ${digits.slice(0, 20)} scale ${scale}`);
      }
      return { kind: "decimal", unscaled: BigInt(digits), scale };
    }
    case 5: {
      const value = r.string("string");
      const t = readTag(r);
      return t === undefined ? { kind: "string", value } : { kind: "string", value, tag: t };
    }
    case 6: {
      const dt: DateTime = {
        year: r.varint("year"), month: r.byte("month"), day: r.byte("day"),
        hour: r.byte("hour"), minute: r.byte("minute"), second: r.byte("second"),
        microsecond: r.varint("microsecond"),
      };
      const fsp = r.byte("fsp");
      const flags = r.byte("datetime flags");
      if (dt.year > 9999 || dt.month > 12 || dt.day > 31 || dt.hour > 23 || dt.minute > 59 ||
        dt.second > 59 || dt.microsecond > 999_999 || fsp > 6 || flags > 3) {
        r.fail("bad datetime");
      }
      return { kind: "datetime", value: dt, fsp,
        ...((flags & 1) !== 0 ? { date: true } : {}),
        ...((flags & 2) !== 0 ? { utc: true } : {}) };
    }
    default:
      return r.fail(`unknown value tag ${tag}`);
  }
}

function readTag(r: DagReader): StringTag | undefined {
  const tag = r.byte("string tag");
  switch (tag) {
    case 0:
      return undefined;
    case 1:
      return { kind: "enum", index: r.bounded("enum index", 65_535) };
    case 2:
      return { kind: "set", bits: r.uint64("set bits") };
    case 3:
      return { kind: "time" };
    case 4:
      return { kind: "json" };
    default:
      return r.fail(`unknown string tag ${tag}`);
  }
}

function writeFieldType(w: DagWriter, t: FieldType): void {
  w.byte(evalKinds.indexOf(t.kind));
  w.byte(t.code);
  w.byte((t.unsigned ? 1 : 0) | (t.nullable ? 2 : 0));
  w.varint(t.length);
  w.varint(t.decimals);
  w.varint(t.precision);
}

function readFieldType(r: DagReader): FieldType {
  const kind = evalKinds[r.byte("type kind")];
  if (kind === undefined) return r.fail("unknown type kind");
  const code = r.byte("type code");
  if (!typeCodes.has(code)) r.fail(`unknown type code ${code}`);
  const flags = r.byte("type flags");
  if (flags > 3) r.fail("bad type flags");
  return { kind, code: code as TypeCode, unsigned: (flags & 1) !== 0,
    nullable: (flags & 2) !== 0, length: r.varint("type length"),
    decimals: r.bounded("type decimals", 31), precision: r.bounded("type precision", 65) };
}

/** Writes an expression tree (pre-order; iterative so any height the parser allows fits). */
export function writeDagExpr(w: DagWriter, expr: Expr): void {
  const stack: Expr[] = [expr];
  while (stack.length > 0) {
    const e = stack.pop()!;
    switch (e.kind) {
      case "constant":
        w.byte(0);
        writeDagValue(w, e.value);
        writeFieldType(w, e.type);
        break;
      case "column":
        w.byte(1);
        w.varint(e.index);
        w.string(e.name);
        writeFieldType(w, e.type);
        break;
      case "call":
        w.byte(2);
        w.string(e.fn);
        w.varint(e.args.length);
        writeFieldType(w, e.type);
        for (let i = e.args.length - 1; i >= 0; i--) stack.push(e.args[i]!);
        break;
    }
  }
}

/** Reads an expression tree written by `writeDagExpr` (no deeper than the parser allows). */
export function readDagExpr(r: DagReader): Expr {
  // A call is completed once its arguments are read: a stack of calls waiting for them.
  type Pending = { fn: string; type: FieldType; args: Expr[]; want: number };
  const pending: Pending[] = [];
  for (;;) {
    if (pending.length > limits.sqlAstHeightMax) r.fail("expression too deep");
    const tag = r.byte("expression tag");
    let done: Expr;
    if (tag === 0) {
      const value = readDagValue(r);
      done = { kind: "constant", value, type: readFieldType(r) };
    } else if (tag === 1) {
      const index = r.bounded("column index", limits.coprocessorColumnsMax);
      const name = r.string("column name");
      done = { kind: "column", index, name, type: readFieldType(r) };
    } else if (tag === 2) {
      const fn = r.string("function name");
      const want = r.count("argument count", Number.MAX_SAFE_INTEGER);
      const type = readFieldType(r);
      if (want > 0) {
        pending.push({ fn, type, args: [], want });
        continue;
      }
      done = { kind: "call", fn, args: [], type };
    } else {
      return r.fail(`unknown expression tag ${tag}`);
    }
    for (;;) {
      const top = pending[pending.length - 1];
      if (top === undefined) return done;
      top.args.push(done);
      if (top.args.length < top.want) break;
      pending.pop();
      done = { kind: "call", fn: top.fn, args: top.args, type: top.type };
    }
  }
}

function writeExprs(w: DagWriter, exprs: readonly Expr[]): void {
  w.varint(exprs.length);
  for (const e of exprs) writeDagExpr(w, e);
}

function readExprs(r: DagReader, field: string): Expr[] {
  const n = r.count(field, Number.MAX_SAFE_INTEGER);
  const out: Expr[] = [];
  for (let i = 0; i < n; i++) out.push(readDagExpr(r));
  return out;
}

// ---- requests ----------------------------------------------------------------------------

const columnTypeKinds: readonly DagColumnType["kind"][] = ["int", "decimal", "double",
  "string", "date", "datetime", "timestamp", "time", "json", "enum", "set"];

function writeColumn(w: DagWriter, c: DagColumn): void {
  w.varint(c.id);
  const t = c.type;
  w.byte(columnTypeKinds.indexOf(t.kind));
  switch (t.kind) {
    case "int":
      w.bool(t.unsigned);
      break;
    case "decimal":
      w.byte(t.scale);
      break;
    case "datetime":
    case "timestamp":
      w.byte(t.fsp);
      break;
    case "enum":
    case "set":
      w.varint(t.members.length);
      for (const m of t.members) w.string(m);
      break;
    default:
      break;
  }
  writeDagValue(w, c.originDefault);
}

function readColumn(r: DagReader): DagColumn {
  const id = r.varint("column id");
  const kind = columnTypeKinds[r.byte("column type")];
  let type: DagColumnType;
  switch (kind) {
    case "int":
      type = { kind, unsigned: r.bool("unsigned") };
      break;
    case "decimal":
      type = { kind, scale: r.byte("scale") };
      break;
    case "datetime":
    case "timestamp":
      type = { kind, fsp: r.byte("fsp") };
      break;
    case "enum":
    case "set": {
      const n = r.count("members", 65_535);
      const members: string[] = [];
      for (let i = 0; i < n; i++) members.push(r.string("member"));
      type = { kind, members };
      break;
    }
    case "double":
    case "string":
    case "date":
    case "time":
    case "json":
      type = { kind };
      break;
    default:
      return r.fail("unknown column type");
  }
  return { id, type, originDefault: readDagValue(r) };
}

/** The request as bytes (validated first: a malformed request is never sent). */
export function encodeDagRequest(request: DagRequest): Uint8Array {
  validateDagRequest(request);
  const w = new DagWriter();
  w.byte(requestMagic);
  w.byte(formatVersion);
  const scan = request.scan;
  w.byte(scan.kind === "table" ? 0 : 1);
  w.varint(scan.tableId);
  if (scan.kind === "index") {
    w.varint(scan.indexId);
    w.varint(scan.keyColumns);
  }
  w.varint(scan.columns.length);
  for (const c of scan.columns) writeColumn(w, c);
  w.varint(scan.handleSlot === null ? 0 : scan.handleSlot + 1);
  w.bool(scan.desc);
  writeExprs(w, request.selection);
  const agg = request.aggregation;
  w.bool(agg !== null);
  if (agg !== null) {
    writeExprs(w, agg.groupBy);
    w.varint(agg.aggregates.length);
    for (const a of agg.aggregates) {
      w.string(a.fn);
      writeExprs(w, a.args);
    }
  }
  const topN = request.topN;
  w.bool(topN !== null);
  if (topN !== null) {
    w.varint(topN.count);
    w.varint(topN.order.length);
    for (const k of topN.order) {
      w.bool(k.desc);
      writeDagExpr(w, k.expr);
    }
  }
  w.varint(request.limit === null ? 0 : request.limit + 1);
  w.string(request.context.timeZone.name);
  w.varint(request.context.maxAllowedPacket ?? 0);
  w.varint(request.pagingKeys);
  return w.finish();
}

/** Decodes and validates a request; throws `Codec:Corrupt` saying what is wrong. */
export function decodeDagRequest(bytes: Uint8Array): DagRequest {
  const r = new DagReader(bytes, "request");
  if (r.byte("magic") !== requestMagic) r.fail("not a DAG request");
  if (r.byte("version") !== formatVersion) r.fail("unknown format version");
  const scanKind = r.byte("scan kind");
  if (scanKind > 1) r.fail(`unknown scan kind ${scanKind}`);
  const tableId = r.varint("table id");
  const indexId = scanKind === 1 ? r.varint("index id") : 0;
  const keyColumns = scanKind === 1 ? r.varint("key columns") : 0;
  const n = r.count("columns", limits.coprocessorColumnsMax);
  const columns: DagColumn[] = [];
  for (let i = 0; i < n; i++) columns.push(readColumn(r));
  const slot = r.varint("handle slot");
  const handleSlot = slot === 0 ? null : slot - 1;
  const desc = r.bool("desc");
  const scan: DagScan = scanKind === 0
    ? { kind: "table", tableId, columns, handleSlot, desc }
    : { kind: "index", tableId, indexId, keyColumns, columns, handleSlot, desc };
  const selection = readExprs(r, "selection");
  let aggregation: DagAggregation | null = null;
  if (r.bool("aggregation")) {
    const groupBy = readExprs(r, "group by");
    const count = r.count("aggregates", Number.MAX_SAFE_INTEGER);
    const aggregates: DagAggregate[] = [];
    for (let i = 0; i < count; i++) {
      const fn = r.string("aggregate");
      if (!isPushableAggregate(fn)) return r.fail(`unknown aggregate ${fn.slice(0, 20)}`);
      aggregates.push({ fn, args: readExprs(r, "aggregate arguments") });
    }
    aggregation = { groupBy, aggregates };
  }
  let topN: DagTopN | null = null;
  if (r.bool("topN")) {
    const count = r.varint("TopN count");
    const keys = r.count("order keys", Number.MAX_SAFE_INTEGER);
    const order: DagOrderKey[] = [];
    for (let i = 0; i < keys; i++) {
      const keyDesc = r.bool("order direction");
      order.push({ expr: readDagExpr(r), desc: keyDesc });
    }
    topN = { order, count };
  }
  const limitPlusOne = r.varint("limit");
  const zoneName = r.string("time zone");
  const timeZone = resolveTimeZone(zoneName);
  if (timeZone === undefined) return r.fail(`unknown time zone ${zoneName.slice(0, 64)}`);
  const maxAllowedPacket = r.varint("max_allowed_packet");
  const pagingKeys = r.varint("paging keys");
  r.end();
  const context: DagContext = maxAllowedPacket === 0 ? { timeZone }
    : { timeZone, maxAllowedPacket };
  const request: DagRequest = { scan, selection, aggregation, topN,
    limit: limitPlusOne === 0 ? null : limitPlusOne - 1, context, pagingKeys };
  validateDagRequest(request);
  return request;
}

// ---- responses ---------------------------------------------------------------------------

/** The response as bytes. */
export function encodeDagResponse(response: DagResponse): Uint8Array {
  const w = new DagWriter();
  w.byte(responseMagic);
  w.byte(formatVersion);
  const width = response.rows[0]?.length ?? 0;
  w.varint(response.rows.length);
  w.varint(width);
  for (const row of response.rows) {
    if (row.length !== width) {
      throw malformedDag("response", `rows of ${row.length} and ${width} values`);
    }
    for (const v of row) writeDagValue(w, v);
  }
  w.bool(response.handles !== null);
  if (response.handles !== null) {
    if (response.handles.length !== response.rows.length) {
      throw malformedDag("response", "handles and rows differ in number");
    }
    for (const h of response.handles) w.int64(h);
  }
  w.bool(response.resumeKey !== null);
  if (response.resumeKey !== null) w.blob(response.resumeKey);
  w.varint(response.warnings.length);
  for (const warning of response.warnings) w.string(JSON.stringify(warning));
  w.varint(response.warningCount);
  w.bool(response.error !== null);
  if (response.error !== null) w.string(JSON.stringify(response.error));
  w.varint(response.scannedKeys);
  return w.finish();
}

/** Decodes a response; throws `Codec:Corrupt` saying what is wrong. */
export function decodeDagResponse(bytes: Uint8Array): DagResponse {
  const r = new DagReader(bytes, "response");
  if (r.byte("magic") !== responseMagic) r.fail("not a DAG response");
  if (r.byte("version") !== formatVersion) r.fail("unknown format version");
  const count = r.count("rows", Number.MAX_SAFE_INTEGER);
  const width = r.bounded("row width", limits.coprocessorColumnsMax + 64);
  if (count > 0 && count * width > r.remaining) r.fail("more values than bytes");
  const rows: Value[][] = [];
  for (let i = 0; i < count; i++) {
    const row: Value[] = [];
    for (let j = 0; j < width; j++) row.push(readDagValue(r));
    rows.push(row);
  }
  let handles: bigint[] | null = null;
  if (r.bool("handles")) {
    if (count * 8 > r.remaining) r.fail("handles are truncated");
    handles = [];
    for (let i = 0; i < count; i++) handles.push(r.int64("handle"));
  }
  const resumeKey = r.bool("resume key") ? r.blob("resume key") : null;
  const warningsKept = r.count("warnings", limits.coprocessorWarningsMax);
  const warnings: ExprWarning[] = [];
  for (let i = 0; i < warningsKept; i++) warnings.push(parseWarning(r, r.string("warning")));
  const warningCount = r.varint("warning count");
  if (warningCount < warningsKept) r.fail("fewer warnings counted than kept");
  const error = r.bool("error") ? parseErrorReason(r, r.string("error")) : null;
  const scannedKeys = r.varint("scanned keys");
  r.end();
  return { rows, handles, resumeKey, warnings, warningCount, error, scannedKeys };
}

function parseObject(r: DagReader, text: string, what: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return r.fail(`${what} is not JSON`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    return r.fail(`${what} is not an object`);
  }
  return parsed as Record<string, unknown>;
}

/**
 * A warning or error reason as sent: an object with a string `kind` and flat fields
 * (strings, safe integers, booleans). The unions in errors.ts grow with the built-ins,
 * so the shape is checked here and the kinds by the SQL layer's exhaustive switch.
 */
function flatReason(r: DagReader, text: string, what: string): Record<string, unknown> {
  const o = parseObject(r, text, what);
  if (typeof o["kind"] !== "string") return r.fail(`${what} without a kind`);
  for (const v of Object.values(o)) {
    if (typeof v !== "string" && typeof v !== "boolean" &&
      !(typeof v === "number" && Number.isSafeInteger(v))) {
      return r.fail(`${what} ${o["kind"]} with a field that is not flat`);
    }
  }
  return o;
}

function parseWarning(r: DagReader, text: string): ExprWarning {
  return flatReason(r, text, "warning") as unknown as ExprWarning;
}

function parseErrorReason(r: DagReader, text: string): ExprErrorReason {
  return flatReason(r, text, "error") as unknown as ExprErrorReason;
}
