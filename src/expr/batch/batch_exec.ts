/**
 * The vectorized coprocessor DAG executor ([T9] "Executor: vectorized (column batches)"),
 * TiKV's batch executor model: the same `DagRequest → DagResponse` page contract as the
 * row executor `runDag` (dag_exec.ts), which stays the reference — same scanner calls,
 * paging, resume keys, byte and group bounds, partials, locks, warnings and errors.
 *
 * Each scanner read (up to 1,024 pairs, the row executor's batch) is one batch:
 *  1. scan: table rows decode straight into columns, only those the request reads, and
 *     the columns only output rows need only for rows the selection (and the TopN heap)
 *     keep (batch_decode.ts; index entries through the row executor's decoder);
 *  2. selection: each conjunct is evaluated over the batch (vec_eval.ts) and narrows its
 *     selection vector;
 *  3. the group-by keys, aggregate arguments or TopN keys are evaluated over the rows
 *     left, then rows fold in scan order into the page's rows / TopN heap / partial
 *     aggregates, stopping exactly where the row executor would (limit, page full).
 * Steps 1–2 and the evaluation of 3 are pure; if any of them raises a warning or an
 * error, or meets a value it has no kernel for that could warn while folding, the whole
 * batch is rerun row at a time exactly as `runDag` processes a pair — so warnings come
 * in the row executor's order and an error ends the page at the same row. A page whose
 * batches keep aborting runs the rest of its batches row at a time directly.
 *
 * Requests with fields this executor does not know (another helper's additions) run on
 * `runDag` unchanged. `setDagExecutor("row")` switches every run to the row executor
 * (the KV node's `TESSERA_COPR_EXECUTOR=row`, read in src/cmd).
 */
import { limits } from "../../base/mod.ts";
import { compareValues } from "../compare.ts";
import type { DagAggregate, DagRequest, DagResponse } from "../dag.ts";
import {
  type DagPair,
  type DagRange,
  type DagRunResult,
  type DagScanner,
  type PageRun,
  RowDecoder,
  TopNHeap,
  dagValueKey,
  drivePage,
  kvEvalContext,
  rowBytes,
  runDag,
} from "../dag_exec.ts";
import { ExprError, type ExprErrorReason, type ExprWarning } from "../errors.ts";
import { evaluate } from "../evaluate.ts";
import type { EvalContext, Expr } from "../expr.ts";
import {
  type Value,
  type WarningSink,
  isTrue,
  rescale,
  toDouble,
  toScaled,
} from "../value.ts";
import { Chunk, Column, Tag } from "./chunk.ts";
import { Handles, TableBatchDecoder } from "./batch_decode.ts";
import { VecAbort, type VecEnv, abortOnWarning, evalVec, truthAt } from "./vec_eval.ts";

/**
 * Batches run vectorized, batches rerun row at a time, and requests handed to `runDag`
 * whole, since the process started (for tests and the benchmark; never reset here).
 */
export const batchExecStats = { vectorized: 0, rowBatches: 0, delegated: 0 };

/** Which executor `runDagConfigured` uses. */
export type DagExecutorKind = "batch" | "row";

let configuredExecutor: DagExecutorKind = "batch";

/** Chooses the executor every `runDagConfigured` call uses (default `batch`). */
export function setDagExecutor(kind: DagExecutorKind): void {
  configuredExecutor = kind;
}

/** The executor `runDagConfigured` uses now. */
export function dagExecutor(): DagExecutorKind {
  return configuredExecutor;
}

/** Runs a DAG page on the configured executor. */
export function runDagConfigured<L extends { readonly kind: "locked" }>(
  request: DagRequest,
  ranges: readonly DagRange[],
  scan: DagScanner<L>,
): DagRunResult<L> {
  return configuredExecutor === "batch" ? runDagBatch(request, ranges, scan)
    : runDag(request, ranges, scan);
}

// ---- what the batch executor supports -----------------------------------------------------

const requestKeys = new Set(["scan", "selection", "aggregation", "topN", "limit", "context",
  "pagingKeys"]);
const tableScanKeys = new Set(["kind", "tableId", "columns", "handleSlot", "desc"]);
const indexScanKeys = new Set([...tableScanKeys, "indexId", "keyColumns"]);
const aggregationKeys = new Set(["groupBy", "aggregates"]);
const aggregateKeys = new Set(["fn", "args"]);
const topNKeys = new Set(["order", "count"]);
const orderKeys = new Set(["expr", "desc"]);
const contextKeys = new Set(["timeZone", "maxAllowedPacket"]);
const aggregateFns = new Set(["count", "sum", "min", "max", "first_row"]);

/** Whether `o` has no fields beyond `known` (fields null, undefined or [] count as absent). */
function onlyKnown(o: object, known: ReadonlySet<string>): boolean {
  for (const [k, v] of Object.entries(o)) {
    if (known.has(k) || v === null || v === undefined) continue;
    if (Array.isArray(v) && v.length === 0) continue;
    return false;
  }
  return true;
}

/** Whether the batch executor knows every field of `request` (else `runDag` runs it). */
export function batchSupports(request: DagRequest): boolean {
  if (!onlyKnown(request, requestKeys)) return false;
  const scan = request.scan;
  if (scan.kind !== "table" && scan.kind !== "index") return false;
  if (!onlyKnown(scan, scan.kind === "table" ? tableScanKeys : indexScanKeys)) return false;
  if (!onlyKnown(request.context, contextKeys)) return false;
  const agg = request.aggregation;
  if (agg !== null) {
    if (!onlyKnown(agg, aggregationKeys)) return false;
    for (const a of agg.aggregates) {
      if (!onlyKnown(a, aggregateKeys) || !aggregateFns.has(a.fn)) return false;
    }
  }
  const topN = request.topN;
  if (topN !== null) {
    if (!onlyKnown(topN, topNKeys)) return false;
    for (const k of topN.order) if (!onlyKnown(k, orderKeys)) return false;
  }
  return true;
}

// ---- the run loop (the row executor's `drivePage`, batch by batch) --------------------------

/** Runs `request` over `ranges` (ascending, disjoint) read through `scan`, vectorized. */
export function runDagBatch<L extends { readonly kind: "locked" }>(
  request: DagRequest,
  ranges: readonly DagRange[],
  scan: DagScanner<L>,
): DagRunResult<L> {
  if (!batchSupports(request)) {
    batchExecStats.delegated++;
    return runDag(request, ranges, scan);
  }
  return drivePage(request, ranges, scan, new BatchRun(request));
}

// ---- partial aggregates ---------------------------------------------------------------------

/** What a batch computed for one aggregate before folding. */
interface AggInput {
  readonly args: readonly Column[];
  /** SUM: each row's argument as the sum adds it (DOUBLE or exact), for `other` rows. */
  readonly converted: (number | { unscaled: bigint; scale: number } | null | undefined)[] | null;
}

const twoTo53 = 2 ** 53;

/**
 * The running partial of one aggregate in one group: dag_exec.ts `Partial`, fed either
 * row by row through `evaluate` (`addRow`) or from a batch's columns (`addAt`).
 */
class BatchPartial {
  private readonly spec: DagAggregate;
  private readonly doubleSum: boolean;
  /** Rows counted (a page holds far fewer than 2^53). */
  private count = 0;
  /** The exact sum so far (`sumSeen`): `sumUnscaled × 10^-sumScale`. */
  private sumUnscaled = 0n;
  private sumScale = 0;
  private sumSeen = false;
  /** Integers added to the exact sum but not yet folded into `sumUnscaled`. */
  private intSum = 0;
  private intSumSeen = false;
  private sumDouble: number | null = null;
  private best: Value = null;
  /** `best` as a number when it is one held typed (int/uint/double), else NaN unused. */
  private bestNum = 0;
  private bestIsNum = false;
  private seen = false;

  constructor(spec: DagAggregate) {
    this.spec = spec;
    const t = spec.args[0]?.type.kind;
    this.doubleSum = t === "double" || t === "string";
  }

  addRow(ctx: EvalContext, classes: MinMaxClasses): void {
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
        if (this.doubleSum) this.addDouble(toDouble(v, ctx.warn) ?? 0);
        else this.addScaledValue(toScaled(v, ctx.warn) ?? { unscaled: 0n, scale: 0 });
        break;
      case "min":
      case "max":
        classes.note(v);
        this.offerBest(v, ctx.warn);
        break;
    }
  }

  private addDouble(x: number): void {
    this.sumDouble = (this.sumDouble ?? 0) + x;
  }

  private addScaledValue(d: { unscaled: bigint; scale: number }): void {
    this.addScaled(d.unscaled, d.scale);
  }

  /** Adds `unscaled × 10^-scale` exactly (at the larger scale, as `Partial` does). */
  private addScaled(unscaled: bigint, scale: number): void {
    if (!this.sumSeen) {
      this.sumUnscaled = unscaled;
      this.sumScale = scale;
      this.sumSeen = true;
    } else if (scale === this.sumScale) {
      this.sumUnscaled += unscaled;
    } else {
      const to = Math.max(this.sumScale, scale);
      this.sumUnscaled = rescale(this.sumUnscaled, this.sumScale, to) +
        rescale(unscaled, scale, to);
      this.sumScale = to;
    }
  }

  private addSafeInt(x: number): void {
    if (Math.abs(this.intSum) + Math.abs(x) >= twoTo53) this.flushInts();
    this.intSum += x;
    this.intSumSeen = true;
  }

  private flushInts(): void {
    if (!this.intSumSeen) return;
    this.addScaled(BigInt(this.intSum), 0);
    this.intSum = 0;
    this.intSumSeen = false;
  }

  private offerBest(v: Exclude<Value, null>, warn: WarningSink): void {
    const order = this.best === null ? null : compareValues(v, this.best, { warn });
    if (this.best === null || (order !== null &&
      (this.spec.fn === "min" ? order < 0 : order > 0))) {
      this.best = v;
      this.bestIsNum = false;
    }
  }

  /** Folds physical row `row` of a batch (no warning can arise: `prepare` checked). */
  addAt(input: AggInput, row: number, warn: WarningSink): void {
    const spec = this.spec;
    if (spec.fn === "first_row") {
      if (!this.seen) this.best = input.args[0]!.valueAt(row);
      this.seen = true;
      return;
    }
    if (spec.fn === "count") {
      for (const a of input.args) if (a.tags[row] === Tag.null) return;
      this.count++;
      return;
    }
    const c = input.args[0]!;
    const tag = c.tags[row]!;
    if (tag === Tag.null) return;
    this.count++;
    if (spec.fn === "sum") {
      if (tag === Tag.other) {
        const x = input.converted![row];
        if (typeof x === "number") this.addDouble(x);
        else if (x !== undefined && x !== null) this.addScaledValue(x);
        else {
          const v = c.others[row] as Value;
          if (v !== null && v.kind === "decimal") this.addScaled(v.unscaled, v.scale);
          else this.addScaled(0n, 0);
        }
      } else if (this.doubleSum) {
        this.addDouble(c.nums[row]!);
      } else if (tag === Tag.double) {
        const x = input.converted![row];
        this.addScaledValue(typeof x === "object" && x !== null ? x
          : { unscaled: 0n, scale: 0 });
      } else {
        this.addSafeInt(c.nums[row]!);
      }
      return;
    }
    // min / max
    if (tag !== Tag.other && (this.bestIsNum || this.best === null)) {
      const x = c.nums[row]!;
      if (this.best === null || (spec.fn === "min" ? x < this.bestNum : x > this.bestNum)) {
        this.best = c.valueAt(row);
        this.bestNum = x;
        this.bestIsNum = true;
      }
      return;
    }
    const v = c.valueAt(row) as Exclude<Value, null>;
    const before = this.best;
    this.offerBest(v, warn);
    if (this.best !== before && tag !== Tag.other) {
      this.bestNum = c.nums[row]!;
      this.bestIsNum = true;
    }
  }

  result(): Value {
    switch (this.spec.fn) {
      case "count":
        return { kind: "int", value: BigInt(this.count) };
      case "sum":
        if (this.count === 0) return null;
        if (this.doubleSum) return { kind: "double", value: this.sumDouble ?? 0 };
        this.flushInts();
        return { kind: "decimal", unscaled: this.sumUnscaled, scale: this.sumScale };
      default:
        return this.best;
    }
  }
}

/**
 * Which classes of values MIN/MAX have compared in this page: a string against a number
 * is the one comparison that may warn (it reads the string as a DOUBLE), so a batch that
 * would bring both together runs row at a time.
 */
class MinMaxClasses {
  strings = false;
  numbers = false;

  note(v: Exclude<Value, null>): void {
    if (v.kind === "string") this.strings = true;
    else if (v.kind !== "datetime") this.numbers = true;
  }
}

interface Group {
  readonly keys: readonly Value[];
  readonly partials: readonly BatchPartial[];
}

/** A batch evaluated up to folding. */
interface Prepared {
  readonly chunk: Chunk;
  readonly handles: Handles;
  readonly groupBy: readonly Column[];
  readonly aggs: readonly AggInput[];
  readonly sortKeys: readonly Column[];
  readonly pairs: readonly DagPair[];
}

type Step = "more" | "limit" | "full" | "error";

/**
 * An evaluation context as the row executor's (`kvEvalContext`: the request's time zone
 * and packet size, every session read failing loudly) whose `row` is `rowOf()`.
 */
function dagContext(request: DagRequest, warn: WarningSink,
  rowOf: () => readonly Value[]): EvalContext {
  const ctx = kvEvalContext(request, warn);
  Object.defineProperty(ctx, "row", { get: rowOf, enumerable: true });
  return ctx;
}

/** Column indexes `expr` reads. */
function collectColumns(expr: Expr, into: boolean[]): void {
  const stack: Expr[] = [expr];
  while (stack.length > 0) {
    const e = stack.pop()!;
    if (e.kind === "column") into[e.index] = true;
    else if (e.kind === "call") stack.push(...e.args);
  }
}

// ---- one run --------------------------------------------------------------------------------

/** The state of one page (dag_exec.ts `DagRun`, fed a batch at a time). */
class BatchRun implements PageRun {
  private readonly request: DagRequest;
  private readonly rowDecoder: RowDecoder;
  private readonly tableDecoder: TableBatchDecoder | null;
  /** Columns decoded for every row of a batch; the others only for selected rows. */
  private readonly readFirst: readonly boolean[];
  private readonly readLater: readonly boolean[] | null;
  private readonly rowCtx: EvalContext;
  private currentRow: readonly Value[] = [];
  private readonly env: VecEnv;
  private readonly rows: Value[][] = [];
  private readonly handles: bigint[] = [];
  private readonly warnings: ExprWarning[] = [];
  private warningCount = 0;
  private error: ExprErrorReason | null = null;
  private readonly groups = new Map<string, Group>();
  private readonly classes: MinMaxClasses[];
  /** Whether each aggregate is MIN or MAX. */
  private readonly minMax: readonly boolean[];
  /** Groups of a single integer GROUP BY key, by its number (also in `groups`). */
  private readonly intGroups = new Map<number, Group>();
  private readonly heap: TopNHeap | null;
  private heldBytes = 0;
  /** Batches of this page that ran vectorized, and that aborted to row at a time. */
  private vectorizedBatches = 0;
  private aborted = 0;
  private rowOnly = false;
  scannedKeys = 0;
  lastKey: Uint8Array | undefined;

  constructor(request: DagRequest) {
    this.request = request;
    this.rowDecoder = new RowDecoder(request);
    const width = request.scan.columns.length;
    // Rows output (no aggregation) need every column, but only for rows the selection
    // keeps (and the TopN heap takes): decode the columns those read first, the rest
    // afterwards (TiKV's lazy decoding).
    const lazy = request.aggregation === null &&
      (request.selection.length > 0 || request.topN !== null);
    const read = new Array<boolean>(width).fill(request.aggregation === null && !lazy);
    for (const e of request.selection) collectColumns(e, read);
    for (const k of request.topN?.order ?? []) collectColumns(k.expr, read);
    if (request.aggregation !== null) {
      for (const e of request.aggregation.groupBy) collectColumns(e, read);
      for (const a of request.aggregation.aggregates) {
        for (const e of a.args) collectColumns(e, read);
      }
    }
    this.readFirst = read;
    this.readLater = lazy ? read.map((r) => !r) : null;
    this.tableDecoder = request.scan.kind === "table"
      ? new TableBatchDecoder(request.scan) : null;
    const warn = (w: ExprWarning): void => {
      this.warningCount++;
      if (this.warnings.length < limits.coprocessorWarningsMax) this.warnings.push(w);
    };
    this.rowCtx = dagContext(request, warn, () => this.currentRow);
    const env: VecEnv = {
      ctx: dagContext(request, abortOnWarning, () => env.chunk.rowAt(env.current)),
      chunk: new Chunk([], 0),
      current: 0,
    };
    this.env = env;
    this.classes = (request.aggregation?.aggregates ?? []).map(() => new MinMaxClasses());
    this.minMax = (request.aggregation?.aggregates ?? []).map((a) => a.fn === "min" ||
      a.fn === "max");
    const topN = request.topN;
    this.heap = topN === null ? null : new TopNHeap(topN.count, topN.order.map((k) => k.desc));
  }

  get rowCount(): number {
    return this.rows.length;
  }

  /** Feeds one scanner read; `lastKey` is the last pair consumed. */
  addPairs(pairs: readonly DagPair[]): Step {
    let prepared: Prepared | null = null;
    if (!this.rowOnly) {
      try {
        prepared = this.prepare(pairs);
      } catch {
        // A warning, an error or data the batch path does not take: row at a time. A
        // page whose batches keep warning (a string column compared with a number) stops
        // trying, so it costs little more than the row executor.
        this.aborted++;
        if (this.aborted >= 2 && this.aborted > this.vectorizedBatches) this.rowOnly = true;
      }
    }
    if (prepared === null) {
      batchExecStats.rowBatches++;
      for (const pair of pairs) {
        const step = this.addRow(pair);
        if (step !== "more") return step;
      }
      return "more";
    }
    batchExecStats.vectorized++;
    this.vectorizedBatches++;
    return this.fold(pairs, prepared);
  }

  // ---- the batch path ----

  private decode(pairs: readonly DagPair[]): { chunk: Chunk; handles: Handles } {
    const width = this.request.scan.columns.length;
    const columns: Column[] = [];
    for (let c = 0; c < width; c++) columns.push(new Column(pairs.length));
    if (this.tableDecoder !== null) {
      const handles = this.tableDecoder.decode(pairs, this.readFirst, columns);
      return { chunk: new Chunk(columns, pairs.length), handles };
    }
    const handles = new Handles(pairs.length);
    pairs.forEach((pair, i) => {
      const { row, handle } = this.rowDecoder.decode(pair);
      for (let c = 0; c < width; c++) columns[c]!.set(i, row[c]!);
      handles.set(i, handle);
    });
    return { chunk: new Chunk(columns, pairs.length), handles };
  }

  /** Everything pure of a batch; throws when it must run row at a time. */
  private prepare(pairs: readonly DagPair[]): Prepared {
    const { chunk, handles } = this.decode(pairs);
    const env = this.env;
    env.chunk = chunk;
    for (const conjunct of this.request.selection) {
      if (chunk.selCount === 0) break;
      const c = evalVec(conjunct, chunk.sel, chunk.selCount, env);
      chunk.filter((row) => truthAt(c, row, env) === 1);
    }
    const sel = chunk.sel;
    const count = chunk.selCount;
    if (this.readLater !== null && this.tableDecoder !== null && this.heap === null) {
      this.tableDecoder.decodeRows(pairs, sel, count, this.readLater, chunk.columns, handles);
    }
    const agg = this.request.aggregation;
    const groupBy: Column[] = [];
    const aggs: AggInput[] = [];
    const sortKeys: Column[] = [];
    if (agg !== null) {
      for (const e of agg.groupBy) groupBy.push(evalVec(e, sel, count, env));
      agg.aggregates.forEach((a, i) => {
        const args = a.args.map((e) => evalVec(e, sel, count, env));
        aggs.push({ args, converted: this.convert(a, args, sel, count, i) });
      });
    } else if (this.request.topN !== null) {
      for (const k of this.request.topN.order) sortKeys.push(evalVec(k.expr, sel, count, env));
    }
    return { chunk, handles, groupBy, aggs, sortKeys, pairs };
  }

  /**
   * SUM: each `other` (and, for an exact sum, DOUBLE) row's argument converted as the sum
   * converts it, aborting on a warning. MIN/MAX: aborts when strings and numbers would
   * meet. Else null.
   */
  private convert(a: DagAggregate, args: readonly Column[], sel: Int32Array, count: number,
    index: number): AggInput["converted"] {
    const c = args[0];
    if (c === undefined) return null;
    if (a.fn === "min" || a.fn === "max") {
      const classes = this.classes[index]!;
      let strings = classes.strings;
      let numbers = classes.numbers;
      for (let k = 0; k < count; k++) {
        const row = sel[k]!;
        const tag = c.tags[row];
        if (tag === Tag.null) continue;
        if (tag !== Tag.other) {
          numbers = true;
        } else {
          const v = c.others[row] as Exclude<Value, null>;
          if (v.kind === "string") strings = true;
          else if (v.kind !== "datetime") numbers = true;
        }
      }
      if (strings && numbers) throw new VecAbort();
      return null;
    }
    if (a.fn !== "sum") return null;
    const doubleSum = a.args[0]!.type.kind === "double" || a.args[0]!.type.kind === "string";
    const out: AggInput["converted"] = new Array(c.length);
    for (let k = 0; k < count; k++) {
      const row = sel[k]!;
      const tag = c.tags[row];
      if (tag === Tag.null) continue;
      if (tag === Tag.other) {
        const v = c.others[row] as Value;
        // A DECIMAL adds as it is (`addAt` reads it); others convert, possibly warning.
        if (doubleSum) out[row] = toDouble(v, abortOnWarning) ?? 0;
        else if (v === null || v.kind !== "decimal") out[row] = toScaled(v, abortOnWarning);
      } else if (!doubleSum && tag === Tag.double) {
        out[row] = toScaled({ kind: "double", value: c.nums[row]! }, abortOnWarning);
      }
    }
    return out;
  }

  /** Folds the selected rows in scan order, stopping where the row executor would. */
  private fold(pairs: readonly DagPair[], p: Prepared): Step {
    const { chunk } = p;
    const sel = chunk.sel;
    let next = 0;
    for (let i = 0; i < pairs.length; i++) {
      this.scannedKeys++;
      this.lastKey = pairs[i]!.key;
      if (next >= chunk.selCount || sel[next] !== i) continue;
      next++;
      const step = this.request.aggregation !== null ? this.aggregateAt(p, i)
        : this.heap !== null ? this.offerAt(p, i) : this.collectAt(p, i);
      if (step !== "more") return step;
    }
    return "more";
  }

  private collectAt(p: Prepared, i: number): Step {
    const row = p.chunk.rowAt(i);
    return this.collect(row, p.handles.at(i));
  }

  private collect(row: Value[], handle: bigint): Step {
    this.rows.push(row);
    this.handles.push(handle);
    this.heldBytes += rowBytes(row);
    if (this.request.limit !== null && this.rows.length >= this.request.limit) return "limit";
    return this.heldBytes >= limits.coprocessorPageBytesTarget ? "full" : "more";
  }

  /**
   * Whether row `i` surely loses to the heap's worst row (`TopNHeap.compare` on typed
   * numbers, without building its keys); undefined when that takes the general compare.
   */
  private losesToWorst(p: Prepared, i: number): boolean | undefined {
    const topN = this.request.topN!;
    const items = this.heap!.items;
    if (items.length < topN.count) return false;
    const worst = items[0]!.sortKeys;
    for (let j = 0; j < p.sortKeys.length; j++) {
      const c = p.sortKeys[j]!;
      const tag = c.tags[i];
      const y = worst[j] ?? null;
      let order: number;
      if (tag === Tag.null) {
        order = y === null ? 0 : -1;
      } else if (y === null) {
        order = 1;
      } else if (tag !== Tag.other && (y.kind === "int" || y.kind === "uint" ||
        y.kind === "double")) {
        const yn = y.kind === "double" ? y.value : Number(y.value);
        if (y.kind !== "double" && !Number.isSafeInteger(yn)) return undefined;
        const x = c.nums[i]!;
        order = x < yn ? -1 : x > yn ? 1 : 0;
      } else {
        return undefined;
      }
      if (topN.order[j]!.desc) order = -order;
      if (order !== 0) return order > 0;
    }
    // A tie: the earlier row (the heap's) wins.
    return true;
  }

  private offerAt(p: Prepared, i: number): Step {
    const heap = this.heap!;
    if (this.losesToWorst(p, i) === true) return "more";
    const sortKeys = p.sortKeys.map((c) => c.valueAt(i));
    const seq = this.scannedKeys;
    if (!heap.accepts(sortKeys, seq)) return "more";
    if (this.readLater !== null && this.tableDecoder !== null) {
      // Checked by `decode` already: this cannot throw.
      this.tableDecoder.decodeOne(p.pairs, i, this.readLater, p.chunk.columns, p.handles);
    }
    const row = p.chunk.rowAt(i);
    heap.offer({ row, handle: p.handles.at(i), sortKeys, seq,
      bytes: rowBytes(row) + rowBytes(sortKeys) });
    return heap.bytes >= limits.coprocessorPageBytesTarget ? "full" : "more";
  }

  private groupOf(keyText: string, keys: () => Value[]): Group {
    let group = this.groups.get(keyText);
    if (group === undefined) {
      const agg = this.request.aggregation!;
      const values = keys();
      group = { keys: values, partials: agg.aggregates.map((a) => new BatchPartial(a)) };
      this.groups.set(keyText, group);
      this.heldBytes += rowBytes(values) + keyText.length * 2 + 64 * agg.aggregates.length;
    }
    return group;
  }

  private aggregateAt(p: Prepared, i: number): Step {
    let group: Group | undefined;
    const single = p.groupBy.length === 1 ? p.groupBy[0]! : null;
    const tag0 = single === null ? Tag.other : single.tags[i];
    if (single !== null && (tag0 === Tag.int || tag0 === Tag.uint)) {
      // One integer key: its group by number (the same group as its text key's).
      const n = single.nums[i]!;
      group = this.intGroups.get(n);
      if (group === undefined) {
        group = this.groupOf(`n:${n}\u0001`, () => [single.valueAt(i)]);
        this.intGroups.set(n, group);
      }
    } else {
      let key = "";
      for (const c of p.groupBy) {
        const tag = c.tags[i];
        key += tag === Tag.int || tag === Tag.uint ? `n:${c.nums[i]}\u0001`
          : `${dagValueKey(c.valueAt(i))}\u0001`;
      }
      group = this.groupOf(key, () => p.groupBy.map((c) => c.valueAt(i)));
    }
    const warn = this.rowCtx.warn;
    const partials = group.partials;
    for (let j = 0; j < partials.length; j++) {
      const input = p.aggs[j]!;
      partials[j]!.addAt(input, i, warn);
      if (this.minMax[j] === true) {
        const c = input.args[0]!;
        const tag = c.tags[i];
        if (tag === Tag.other) this.classes[j]!.note(c.others[i] as Exclude<Value, null>);
        else if (tag !== Tag.null) this.classes[j]!.numbers = true;
      }
    }
    return this.aggFull();
  }

  private aggFull(): Step {
    return this.groups.size >= limits.coprocessorAggGroupsMax ||
      this.heldBytes >= limits.coprocessorPageBytesTarget ? "full" : "more";
  }

  // ---- the row path (dag_exec.ts DagRun.add) ----

  private addRow(pair: DagPair): Step {
    this.scannedKeys++;
    this.lastKey = pair.key;
    const { row, handle } = this.rowDecoder.decode(pair);
    const ctx = this.rowCtx;
    this.currentRow = row;
    try {
      for (const conjunct of this.request.selection) {
        if (isTrue(evaluate(conjunct, ctx), ctx.warn) !== true) return "more";
      }
      if (this.request.aggregation !== null) {
        const agg = this.request.aggregation;
        const keys = agg.groupBy.map((e) => evaluate(e, ctx));
        let key = "";
        for (const v of keys) key += `${dagValueKey(v)}\u0001`;
        const group = this.groupOf(key, () => keys);
        group.partials.forEach((partial, j) => partial.addRow(ctx, this.classes[j]!));
        return this.aggFull();
      }
      if (this.heap !== null) {
        const heap = this.heap;
        const sortKeys = this.request.topN!.order.map((k) => evaluate(k.expr, ctx));
        const seq = this.scannedKeys;
        if (!heap.accepts(sortKeys, seq)) return "more";
        heap.offer({ row, handle, sortKeys, seq, bytes: rowBytes(row) + rowBytes(sortKeys) });
        return heap.bytes >= limits.coprocessorPageBytesTarget ? "full" : "more";
      }
    } catch (error: unknown) {
      if (!(error instanceof ExprError)) throw error;
      this.error = error.reason;
      return "error";
    }
    return this.collect(row, handle);
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
