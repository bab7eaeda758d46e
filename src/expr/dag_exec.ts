/**
 * The coprocessor DAG executor: runs a `DagRequest` (dag.ts) over the key-value pairs of
 * its ranges and returns one page of `DagResponse`. The KV node runs it over a shard's
 * snapshot (src/kv/copr); the SQL layer can run it over pairs it holds itself — the same
 * code either way, so pushed-down and local results agree.
 *
 * Pipeline per pair: decode the scan row (a table row through the row codec, converted
 * as the SQL layer reads stored values; an index key's values and handle), keep it when
 * every selection conjunct is true, then either collect it (until `limit`), offer it to
 * a bounded TopN heap, or fold it into a partial aggregate of its group. Groups are keyed
 * as the SQL layer groups (strings by their utf8mb4_general_ci weight, so `'a'` and `'A'`
 * share one group); aggregate partials follow MySQL: COUNT skips rows with a NULL
 * argument, SUM of exact values is an exact DECIMAL and of DOUBLEs or strings a DOUBLE,
 * SUM/MIN/MAX of no values NULL, FIRST_ROW the first value (NULL included). Without GROUP
 * BY a page returns one row if any row passed and none otherwise; the SQL layer makes
 * the empty-input row (COUNT 0, the rest NULL) when no page returned one.
 *
 * Paging: a page reads at most `pagingKeys` keys, and also ends once what it holds (rows,
 * TopN heap, groups) passes `limits.coprocessorPageBytesTarget` or the groups reach
 * `limits.coprocessorAggGroupsMax`; it then returns where the next page starts. A page's
 * TopN and partial aggregates are valid partials, so the SQL layer merges pages exactly
 * as it merges shards. Memory is therefore bounded by the page, whatever the table size.
 *
 * Pure and synchronous: the scanner is passed in; a lock it meets is returned as is.
 */
import { ErrorCode, TesseraError, limits, tableId as toTableId } from "../base/mod.ts";
import { type KeyDatum, compareBytes, decodeIndexKey, generalCiKeyString, handleOfRowKey,
  recordPrefix, rowKeyBytes } from "../codec/mod.ts";
import { compareForSort, compareValues } from "./compare.ts";
import type { DagAggregate, DagColumn, DagColumnType, DagRequest, DagResponse } from "./dag.ts";
import { ExprError, type ExprErrorReason, type ExprWarning } from "./errors.ts";
import { evaluate } from "./evaluate.ts";
import type { EvalContext } from "./expr.ts";
import { decodeRowInto } from "./row_codec.ts";
import {
  type DateTime,
  type Value,
  fromCodecDecimal,
  isTrue,
  rescale,
  toDouble,
  toScaled,
  toText,
} from "./value.ts";

/** A key range `[start, end)`; `end` undefined is open (the shard's end). */
export interface DagRange {
  readonly start: Uint8Array;
  readonly end: Uint8Array | undefined;
}

/** One key and its value. */
export interface DagPair {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
}

/**
 * Reads up to `limit` pairs of `range` in key order (largest first when `reverse`), or
 * returns whatever non-ok result stops the read (a lock in the way).
 */
export type DagScanner<L extends { readonly kind: "locked" }> = (
  range: DagRange,
  options: { readonly limit: number; readonly reverse: boolean },
) => { readonly kind: "ok"; readonly pairs: readonly DagPair[] } | L;

/** The page, or what stopped the scan. */
export type DagRunResult<L> = { readonly kind: "ok"; readonly response: DagResponse } | L;

/** Pairs one scanner call reads at most: a page is read in batches of this size. */
const scanBatchKeys = 1024;

/** Runs `request` over `ranges` (ascending, disjoint) read through `scan`. */
export function runDag<L extends { readonly kind: "locked" }>(
  request: DagRequest,
  ranges: readonly DagRange[],
  scan: DagScanner<L>,
): DagRunResult<L> {
  return drivePage(request, ranges, scan, new DagRun(request));
}

/** One page's executor as `drivePage` feeds it (the row executor here, the batch one). */
export interface PageRun {
  readonly scannedKeys: number;
  readonly rowCount: number;
  /** The last key fed. */
  readonly lastKey: Uint8Array | undefined;
  /** Feeds one scanner read's pairs in scan order; stops at the first that ends the page. */
  addPairs(pairs: readonly DagPair[]): "more" | "limit" | "full" | "error";
  response(resumeKey: Uint8Array | null): DagResponse;
}

/**
 * Reads `ranges` through `scan` in batches of at most `scanBatchKeys` pairs in scan order
 * and feeds them to `run` until the page ends: the keys budget spent (`pagingKeys`), the
 * run full (its bytes or groups), its limit reached, an error, or the ranges' end.
 */
export function drivePage<L extends { readonly kind: "locked" }>(
  request: DagRequest,
  ranges: readonly DagRange[],
  scan: DagScanner<L>,
  run: PageRun,
): DagRunResult<L> {
  const live = liveRanges(ranges);
  if (request.limit === 0 || request.topN?.count === 0) {
    return { kind: "ok", response: run.response(null) };
  }
  const desc = request.scan.desc;
  const ordered = desc ? [...live].reverse() : live;
  // Without a selection, a limit needs exactly as many keys as rows.
  const plainLimit = request.selection.length === 0 && request.limit !== null
    ? request.limit : null;
  for (const range of ordered) {
    let current: DagRange = range;
    for (;;) {
      let budget = Math.min(scanBatchKeys, request.pagingKeys - run.scannedKeys);
      if (plainLimit !== null) budget = Math.min(budget, plainLimit - run.rowCount);
      if (budget <= 0) {
        return { kind: "ok", response: run.response(resumeAfter(run.lastKey!, desc)) };
      }
      const read = scan(current, { limit: budget, reverse: desc });
      if (read.kind !== "ok") return read;
      const step = run.addPairs(read.pairs);
      if (step === "error" || step === "limit") {
        return { kind: "ok", response: run.response(null) };
      }
      if (step === "full") {
        return { kind: "ok", response: run.response(resumeAfter(run.lastKey!, desc)) };
      }
      if (read.pairs.length < budget) break;
      const last = read.pairs[read.pairs.length - 1]!.key;
      current = desc ? { start: current.start, end: last }
        : { start: successor(last), end: current.end };
    }
  }
  return { kind: "ok", response: run.response(null) };
}

/** A range's end, undefined when it is open (absent or empty). */
function endOf(range: DagRange): Uint8Array | undefined {
  return range.end === undefined || range.end.length === 0 ? undefined : range.end;
}

/**
 * `ranges` without the empty ones (a range clipped to a shard it misses is empty), open
 * ends as undefined; throws `Codec:Corrupt` unless they are ascending and disjoint, which
 * paging relies on.
 */
export function liveRanges(ranges: readonly DagRange[]): DagRange[] {
  const live: DagRange[] = [];
  for (const r of ranges) {
    const end = endOf(r);
    if (end !== undefined && compareBytes(r.start, end) >= 0) continue;
    const before = live[live.length - 1];
    if (before !== undefined && (before.end === undefined ||
      compareBytes(before.end, r.start) > 0)) {
      throw new TesseraError(ErrorCode.CodecCorrupt,
        "coprocessor ranges must be ascending and disjoint");
    }
    live.push(end === r.end ? r : { start: r.start, end });
  }
  return live;
}

/** The smallest key above `key`. */
function successor(key: Uint8Array): Uint8Array {
  const out = new Uint8Array(key.length + 1);
  out.set(key);
  return out;
}

/** Where the page after one that ended at `key` starts, in scan direction. */
export function resumeAfter(key: Uint8Array, desc: boolean): Uint8Array {
  return desc ? key.slice() : successor(key);
}

/**
 * What is left of `ranges` (ascending, disjoint) after a page that returned `resumeKey`:
 * forward, the keys from `resumeKey` on; descending, the keys below it. The next page's
 * request carries these ranges.
 */
export function rangesAfterResume(ranges: readonly DagRange[], resumeKey: Uint8Array,
  options: { readonly desc: boolean }): DagRange[] {
  const out: DagRange[] = [];
  for (const r of ranges) {
    const end = endOf(r);
    if (options.desc) {
      if (compareBytes(r.start, resumeKey) >= 0) continue;
      out.push(end !== undefined && compareBytes(end, resumeKey) <= 0 ? r
        : { start: r.start, end: resumeKey });
    } else {
      if (end !== undefined && compareBytes(end, resumeKey) <= 0) continue;
      out.push(compareBytes(r.start, resumeKey) >= 0 ? r : { start: resumeKey, end: r.end });
    }
  }
  return out;
}

/**
 * A scanner over pairs held in memory, sorted ascending by key without duplicates (the
 * SQL layer's local fallback, tests). Never meets a lock.
 */
export function sortedPairsScanner(pairs: readonly DagPair[]): DagScanner<never> {
  const lowerBound = (key: Uint8Array): number => {
    let lo = 0;
    let hi = pairs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareBytes(pairs[mid]!.key, key) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  return (range, { limit, reverse }) => {
    const from = lowerBound(range.start);
    const end = endOf(range);
    const to = end === undefined ? pairs.length : lowerBound(end);
    const out: DagPair[] = [];
    if (reverse) {
      for (let i = to - 1; i >= from && out.length < limit; i--) out.push(pairs[i]!);
    } else {
      for (let i = from; i < to && out.length < limit; i++) out.push(pairs[i]!);
    }
    return { kind: "ok", pairs: out };
  };
}

// ---- rows --------------------------------------------------------------------------------

function corruptRow(why: string): TesseraError {
  return new TesseraError(ErrorCode.CodecCorrupt, `coprocessor scan: ${why}`);
}

/** A stored value as rows hold it in memory; the SQL layer's `readStoredValue` is this too. */
export function readStoredDagValue(type: DagColumnType, value: Value): Value {
  if (value === null) return null;
  if (value.kind === "datetime") {
    if (type.kind === "date") return { ...value, date: true };
    return type.kind === "timestamp" ? { ...value, utc: true } : value;
  }
  if (value.kind !== "string") return value;
  switch (type.kind) {
    case "enum":
      return { kind: "string", value: value.value,
        tag: { kind: "enum", index: type.members.indexOf(value.value) + 1 } };
    case "set": {
      let bits = 0n;
      if (value.value !== "") {
        for (const part of value.value.split(",")) {
          const i = type.members.indexOf(part);
          if (i >= 0) bits |= 1n << BigInt(i);
        }
      }
      return { kind: "string", value: value.value, tag: { kind: "set", bits } };
    }
    case "time":
      return { kind: "string", value: value.value, tag: { kind: "time" } };
    case "json":
      return { kind: "string", value: value.value, tag: { kind: "json" } };
    default:
      return value;
  }
}

/** The handle value of `column` (unsigned integer columns read it as BIGINT UNSIGNED). */
export function handleValue(column: DagColumn, handle: bigint): Value {
  return column.type.kind === "int" && column.type.unsigned
    ? { kind: "uint", value: BigInt.asUintN(64, handle) } : { kind: "int", value: handle };
}

/** A DATETIME packed as the index key codec packs it (src/sql/table/table.ts keyDatum). */
function unpackDateTime(packed: bigint): DateTime {
  const microsecond = Number(packed & 0xff_ffffn);
  const rest = packed >> 24n;
  const hms = Number(rest & 0x1_ffffn);
  const ymd = Number(rest >> 17n);
  const ym = ymd >> 5;
  return { year: Math.floor(ym / 13), month: ym % 13, day: ymd & 31, hour: hms >> 12,
    minute: (hms >> 6) & 63, second: hms & 63, microsecond };
}

/** One index key value as the column's value. */
function valueOfKeyDatum(type: DagColumnType, datum: KeyDatum): Value {
  if (datum.kind === "null") return null;
  switch (type.kind) {
    case "int":
      if (datum.kind === "int" || datum.kind === "uint") return { kind: datum.kind,
        value: datum.value };
      break;
    case "double":
      if (datum.kind === "float") return { kind: "double", value: datum.value };
      break;
    case "decimal":
      if (datum.kind === "decimal") {
        const d = fromCodecDecimal(datum.value);
        return { kind: "decimal", unscaled: rescale(d.unscaled, d.scale, type.scale),
          scale: type.scale };
      }
      break;
    case "date":
    case "datetime":
    case "timestamp":
      if (datum.kind === "uint") {
        const value = unpackDateTime(datum.value);
        if (type.kind === "date") return { kind: "datetime", value, fsp: 0, date: true };
        return type.kind === "timestamp" ? { kind: "datetime", value, fsp: type.fsp, utc: true }
          : { kind: "datetime", value, fsp: type.fsp };
      }
      break;
    default:
      break;
  }
  throw corruptRow(`an index key holds a ${datum.kind} for a ${type.kind} column`);
}

/** Decodes pairs into scan rows and handles. */
export class RowDecoder {
  private readonly request: DagRequest;
  private readonly slots: ReadonlyMap<number, number>;
  private readonly prefix: Uint8Array;

  constructor(request: DagRequest) {
    this.request = request;
    const scan = request.scan;
    const slots = new Map<number, number>();
    scan.columns.forEach((c, i) => {
      if (i !== scan.handleSlot) slots.set(c.id, i);
    });
    this.slots = slots;
    this.prefix = recordPrefix(toTableId(scan.tableId));
  }

  private isRowKey(key: Uint8Array): boolean {
    const prefix = this.prefix;
    if (key.length !== rowKeyBytes) return false;
    for (let i = 0; i < prefix.length; i++) if (key[i] !== prefix[i]) return false;
    return true;
  }

  decode(pair: DagPair): { row: Value[]; handle: bigint } {
    const scan = this.request.scan;
    const columns = scan.columns;
    const row = new Array<Value | undefined>(columns.length).fill(undefined);
    let handle: bigint;
    if (scan.kind === "table") {
      const key = pair.key;
      if (!this.isRowKey(key)) throw corruptRow(`a key outside table ${scan.tableId}'s rows`);
      handle = handleOfRowKey(key);
      try {
        decodeRowInto(pair.value, this.slots, row);
      } catch (error: unknown) {
        throw corruptRow(error instanceof Error ? error.message : String(error));
      }
      for (let i = 0; i < columns.length; i++) {
        const c = columns[i]!;
        if (i === scan.handleSlot) {
          row[i] = handleValue(c, handle);
        } else {
          const stored = row[i];
          row[i] = readStoredDagValue(c.type, stored === undefined ? c.originDefault : stored);
        }
      }
    } else {
      const key = decodeIndexKey(pair.key, { columnCount: scan.keyColumns });
      if (key.tableId !== scan.tableId || key.indexId !== scan.indexId) {
        throw corruptRow(`a key outside index ${scan.indexId} of table ${scan.tableId}`);
      }
      if (key.handle !== undefined) {
        handle = key.handle;
      } else if (pair.value.length === 8) {
        handle = new DataView(pair.value.buffer, pair.value.byteOffset, 8).getBigInt64(0);
      } else {
        throw corruptRow("a unique index entry without its handle");
      }
      for (let i = 0; i < columns.length; i++) {
        const c = columns[i]!;
        row[i] = i === scan.handleSlot ? handleValue(c, handle)
          : valueOfKeyDatum(c.type, key.values[c.id]!);
      }
    }
    return { row: row as Value[], handle };
  }
}

// ---- grouping and aggregates -------------------------------------------------------------

/**
 * The group key of a value, as the SQL layer's (src/sql/plan/aggregate.ts `valueKey`):
 * strings by their general_ci weight, integers by value, others by kind and text.
 */
export function dagValueKey(v: Value): string {
  if (v === null) return "\u0000";
  if (v.kind === "string") return `s:${generalCiKeyString(v.value)}`;
  if (v.kind === "int" || v.kind === "uint") return `n:${v.value}`;
  return `${v.kind}:${toText(v)}`;
}

/** Estimated bytes a value holds in memory (for page bounds, not exact). */
function valueBytes(v: Value): number {
  if (v === null) return 8;
  return v.kind === "string" ? 32 + v.value.length * 2 : 32;
}

export function rowBytes(row: readonly Value[]): number {
  let n = 48;
  for (const v of row) n += valueBytes(v);
  return n;
}

/** The running partial of one aggregate in one group. */
class Partial {
  private readonly spec: DagAggregate;
  private readonly doubleSum: boolean;
  private count = 0n;
  private sumDecimal: { unscaled: bigint; scale: number } | null = null;
  private sumDouble: number | null = null;
  private best: Value = null;
  private seen = false;

  constructor(spec: DagAggregate) {
    this.spec = spec;
    const t = spec.args[0]?.type.kind;
    this.doubleSum = t === "double" || t === "string";
  }

  add(ctx: EvalContext): void {
    const spec = this.spec;
    if (spec.fn === "first_row") {
      if (!this.seen) this.best = evaluate(spec.args[0]!, ctx);
      this.seen = true;
      return;
    }
    if (spec.fn === "count") {
      for (const a of spec.args) if (evaluate(a, ctx) === null) return;
      this.count++;
      return;
    }
    const v = evaluate(spec.args[0]!, ctx);
    if (v === null) return;
    this.count++;
    switch (spec.fn) {
      case "sum":
        if (this.doubleSum) {
          this.sumDouble = (this.sumDouble ?? 0) + (toDouble(v, ctx.warn) ?? 0);
        } else {
          const d = toScaled(v, ctx.warn) ?? { unscaled: 0n, scale: 0 };
          const s = this.sumDecimal ?? { unscaled: 0n, scale: d.scale };
          const scale = Math.max(s.scale, d.scale);
          this.sumDecimal = { unscaled: rescale(s.unscaled, s.scale, scale) +
            rescale(d.unscaled, d.scale, scale), scale };
        }
        break;
      case "min":
      case "max": {
        const order = this.best === null ? null : compareValues(v, this.best, { warn: ctx.warn });
        if (this.best === null || (order !== null &&
          (spec.fn === "min" ? order < 0 : order > 0))) this.best = v;
        break;
      }
    }
  }

  result(): Value {
    switch (this.spec.fn) {
      case "count":
        return { kind: "int", value: this.count };
      case "sum":
        if (this.count === 0n) return null;
        return this.doubleSum ? { kind: "double", value: this.sumDouble ?? 0 }
          : { kind: "decimal", ...this.sumDecimal! };
      default:
        return this.best;
    }
  }
}

interface Group {
  readonly keys: readonly Value[];
  readonly partials: readonly Partial[];
}

// ---- TopN --------------------------------------------------------------------------------

export interface Candidate {
  readonly row: Value[];
  readonly handle: bigint;
  readonly sortKeys: readonly Value[];
  readonly seq: number;
  readonly bytes: number;
}

/** A bounded max-heap: the worst kept row on top, replaced by any better one. */
export class TopNHeap {
  readonly items: Candidate[] = [];
  private readonly count: number;
  private readonly desc: readonly boolean[];
  bytes = 0;

  constructor(count: number, desc: readonly boolean[]) {
    this.count = count;
    this.desc = desc;
  }

  /** Orders candidates as ORDER BY does; ties by scan order. */
  compare(a: Candidate, b: Candidate): number {
    const ignore = (): void => undefined;
    for (let i = 0; i < this.desc.length; i++) {
      const x = a.sortKeys[i] ?? null;
      const y = b.sortKeys[i] ?? null;
      let order = x === null ? (y === null ? 0 : -1) : y === null ? 1
        : compareForSort(x, y, { warn: ignore }) ?? 0;
      if (this.desc[i]) order = -order;
      if (order !== 0) return order;
    }
    return a.seq - b.seq;
  }

  /** Whether `c` would be kept. */
  accepts(sortKeys: readonly Value[], seq: number): boolean {
    if (this.items.length < this.count) return true;
    const probe: Candidate = { row: [], handle: 0n, sortKeys, seq, bytes: 0 };
    return this.compare(probe, this.items[0]!) < 0;
  }

  offer(c: Candidate): void {
    if (this.items.length < this.count) {
      this.items.push(c);
      this.bytes += c.bytes;
      this.up(this.items.length - 1);
      return;
    }
    this.bytes += c.bytes - this.items[0]!.bytes;
    this.items[0] = c;
    this.down(0);
  }

  sorted(): Candidate[] {
    return [...this.items].sort((a, b) => this.compare(a, b));
  }

  private up(at: number): void {
    const items = this.items;
    let i = at;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.compare(items[i]!, items[parent]!) <= 0) return;
      [items[i], items[parent]] = [items[parent]!, items[i]!];
      i = parent;
    }
  }

  private down(at: number): void {
    const items = this.items;
    let i = at;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let worst = i;
      if (l < items.length && this.compare(items[l]!, items[worst]!) > 0) worst = l;
      if (r < items.length && this.compare(items[r]!, items[worst]!) > 0) worst = r;
      if (worst === i) return;
      [items[i], items[worst]] = [items[worst]!, items[i]!];
      i = worst;
    }
  }
}

// ---- one run -----------------------------------------------------------------------------

function sessionRead(what: string): never {
  throw new TesseraError(ErrorCode.CodecCorrupt,
    `a pushed-down expression tried to ${what}`);
}

/**
 * The evaluation context of KV-side code (this executor and the batch one): pushable
 * expressions read nothing of the session but its time zone and max_allowed_packet
 * (dag.ts); a built-in that tries to anyway fails loudly here instead of reading a
 * made-up value. (Built as a plain object first: EvalContext grows fields as built-ins
 * are added, and every one of them must throw here.) The caller sets `row` per row.
 */
export function kvEvalContext(request: DagRequest, warn: (w: ExprWarning) => void):
  EvalContext & { row: readonly Value[] } {
  return {
    warn, timeZone: request.context.timeZone, row: [] as readonly Value[],
    ...(request.context.maxAllowedPacket === undefined ? {}
      : { maxAllowedPacket: request.context.maxAllowedPacket }),
    get functions(): never {
      return sessionRead("use the session's RAND/UUID/FOUND_ROWS state");
    },
    get statementTime(): never {
      return sessionRead("read the statement time");
    },
    get statementEpochMs(): never {
      return sessionRead("read the statement time");
    },
    get database(): never {
      return sessionRead("read the current database");
    },
    get user(): never {
      return sessionRead("read the user");
    },
    get currentUser(): never {
      return sessionRead("read the user");
    },
    get connectionId(): never {
      return sessionRead("read the connection id");
    },
    get version(): never {
      return sessionRead("read the server version");
    },
    get lastInsertId(): never {
      return sessionRead("read LAST_INSERT_ID");
    },
    setLastInsertId: (): never => sessionRead("set LAST_INSERT_ID"),
    setUserVariable: (): never => sessionRead("set a user variable"),
  };
}

/** The state of one page. */
class DagRun implements PageRun {
  private readonly request: DagRequest;
  private readonly decoder: RowDecoder;
  private readonly ctx: EvalContext & { row: readonly Value[] };
  private readonly rows: Value[][] = [];
  private readonly handles: bigint[] = [];
  private readonly warnings: ExprWarning[] = [];
  private warningCount = 0;
  private error: ExprErrorReason | null = null;
  private readonly groups = new Map<string, Group>();
  private readonly heap: TopNHeap | null;
  private heldBytes = 0;
  scannedKeys = 0;
  lastKey: Uint8Array | undefined;

  constructor(request: DagRequest) {
    this.request = request;
    this.decoder = new RowDecoder(request);
    const warn = (w: ExprWarning): void => {
      this.warningCount++;
      if (this.warnings.length < limits.coprocessorWarningsMax) this.warnings.push(w);
    };
    this.ctx = kvEvalContext(request, warn);
    const topN = request.topN;
    this.heap = topN === null ? null : new TopNHeap(topN.count, topN.order.map((k) => k.desc));
  }

  get rowCount(): number {
    return this.rows.length;
  }

  addPairs(pairs: readonly DagPair[]): "more" | "limit" | "full" | "error" {
    for (const pair of pairs) {
      const step = this.add(pair);
      if (step !== "more") return step;
    }
    return "more";
  }

  /** Feeds one pair: go on, the limit is reached, the page is full, or evaluation failed. */
  add(pair: DagPair): "more" | "limit" | "full" | "error" {
    this.scannedKeys++;
    this.lastKey = pair.key;
    const { row, handle } = this.decoder.decode(pair);
    const ctx = this.ctx;
    ctx.row = row;
    try {
      for (const conjunct of this.request.selection) {
        if (isTrue(evaluate(conjunct, ctx), ctx.warn) !== true) return "more";
      }
      if (this.request.aggregation !== null) return this.aggregate();
      if (this.heap !== null) return this.offer(row, handle);
    } catch (error: unknown) {
      if (!(error instanceof ExprError)) throw error;
      this.error = error.reason;
      return "error";
    }
    this.rows.push(row);
    this.handles.push(handle);
    this.heldBytes += rowBytes(row);
    if (this.request.limit !== null && this.rows.length >= this.request.limit) return "limit";
    return this.heldBytes >= limits.coprocessorPageBytesTarget ? "full" : "more";
  }

  private aggregate(): "more" | "full" {
    const agg = this.request.aggregation!;
    const ctx = this.ctx;
    const keys = agg.groupBy.map((e) => evaluate(e, ctx));
    let key = "";
    for (const v of keys) key += `${dagValueKey(v)}\u0001`;
    let group = this.groups.get(key);
    if (group === undefined) {
      group = { keys, partials: agg.aggregates.map((a) => new Partial(a)) };
      this.groups.set(key, group);
      this.heldBytes += rowBytes(keys) + key.length * 2 + 64 * agg.aggregates.length;
    }
    for (const p of group.partials) p.add(ctx);
    return this.groups.size >= limits.coprocessorAggGroupsMax ||
      this.heldBytes >= limits.coprocessorPageBytesTarget ? "full" : "more";
  }

  private offer(row: Value[], handle: bigint): "more" | "full" {
    const heap = this.heap!;
    const ctx = this.ctx;
    const sortKeys = this.request.topN!.order.map((k) => evaluate(k.expr, ctx));
    const seq = this.scannedKeys;
    if (!heap.accepts(sortKeys, seq)) return "more";
    heap.offer({ row, handle, sortKeys, seq, bytes: rowBytes(row) + rowBytes(sortKeys) });
    return heap.bytes >= limits.coprocessorPageBytesTarget ? "full" : "more";
  }

  response(resumeKey: Uint8Array | null): DagResponse {
    const base = { resumeKey, warnings: this.warnings, warningCount: this.warningCount,
      error: this.error, scannedKeys: this.scannedKeys };
    if (this.error !== null) return { ...base, rows: [], handles: null, resumeKey: null };
    if (this.request.aggregation !== null) {
      const rows: Value[][] = [];
      for (const g of this.groups.values()) {
        rows.push([...g.keys, ...g.partials.map((p) => p.result())]);
      }
      return { ...base, rows, handles: null };
    }
    if (this.heap !== null) {
      const kept = this.heap.sorted();
      return { ...base, rows: kept.map((c) => c.row), handles: kept.map((c) => c.handle) };
    }
    return { ...base, rows: this.rows, handles: this.handles };
  }
}
