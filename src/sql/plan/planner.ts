/**
 * The query planner and executor: turns a parsed query (SELECT, UNION / INTERSECT /
 * EXCEPT, VALUES, parenthesized queries, WITH) into a `PlannedQuery` whose `run()` reads
 * its rows inside the statement's transaction.
 *
 * Planning is synchronous (the catalog is in memory) and resolves every name; running is
 * asynchronous and materializes rows. A SELECT runs as: FROM and WHERE as one join group
 * (`from.ts`), then grouping and aggregates (`aggregate.ts`), HAVING, window functions
 * (`window.ts`), the select list, ORDER BY, DISTINCT and LIMIT. A grouped query's rows
 * are "records": the first row of the group followed by the aggregate results (then
 * GROUPING() flags under WITH ROLLUP, then window function values), so non-aggregated
 * columns read the group's first row as MySQL does without ONLY_FULL_GROUP_BY.
 * Subqueries are planned when their expressions compile (`compile.ts`); views expand at
 * plan time into derived tables planned in the view's database; a CTE reference plans
 * the CTE's query where it is used (a recursive CTE iterates its recursive part until it
 * adds no rows). A SELECT over one table or an inner equi-join of two that passes the
 * memory quota (8175) reruns spilling to temp files (`spill_select.ts`).
 *
 * Rewrite rules, each switched by a flag of `optimizer_switch` (`optimizer_switch.ts`),
 * apply as a SELECT is planned (`planFromWhere`): outer joins WHERE rejects NULLs of
 * become inner (`outer_join.ts`); constant conjuncts are decided (`constant_fold.ts`);
 * conjuncts on a derived table, view or CTE move into its query, a LIMIT into it or into
 * UNION ALL branches, and its unread columns are pruned (`derived_pushdown.ts`); EXISTS /
 * IN subqueries run as semi joins (`decorrelate.ts`); ORDER BY … LIMIT runs as a bounded
 * TopN (`topn.ts`).
 *
 * One `Planner` serves one statement: it caches table scans (a correlated subquery
 * re-reads a table once per statement, not once per outer row), derived-table results
 * and the evaluation context.
 */
import {
  type EvalContext,
  type Expr,
  type FieldType,
  type Value,
  aggregateTypes,
  coerce,
  columnRef,
  evaluate,
  intType,
} from "../../expr/mod.ts";
import type {
  Expr as AstExpr,
  Limit,
  OrderItem,
  Query,
  SelectQuery,
  TableExpr,
  TableName,
} from "../parser/ast.ts";
import { formatExpr } from "../parser/format.ts";
import { parse } from "../parser/parse.ts";
import { ER, type MySqlError, mysqlError } from "../mysql_errors.ts";
import type { TranslateScope } from "../session/to_expr.ts";
import { limitName } from "../session/field_names.ts";
import type { InfoSchema } from "../catalog/catalog.ts";
import { type ColumnInfo, type IndexInfo, type TableInfo, type ViewInfo, fieldTypeOf }
  from "../catalog/schema.ts";
import {
  type PlannedAggregate,
  groupRows,
  isAggregateCall,
  keyCollations,
  planAggregate,
  rollupRows,
  rowKey,
} from "./aggregate.ts";
import { type CompoundShape, type PlanTrace, type QueryShape, type SelectShape,
  type SemiJoinShape, compoundShape,
  markDerived, noteSelectRun, selectShape } from "./explain_shape.ts";
import { type PlannedWindow, computeWindows, findWindowCall, isWindowCall, planWindowCall,
  windowType } from "./window.ts";
import {
  type Compiled,
  type PlannedQuery,
  compile,
  evalCompiled,
  type SemiRunner,
  holds,
  withRow,
} from "./compile.ts";
import { type Source, type SourceRows, planFrom } from "./from.ts";
import type { TableStats } from "../stats/mod.ts";
import { type Col, Frame, type Layout, Scope, layoutOf, noColumns } from "./scope.ts";
import { MemoryScope, MemoryTracker, defaultMemQuotaBytes, entryOverheadBytes, keyBytes,
  rowBytes, rowsBytes } from "./memory_tracker.ts";
import { mergeByHandle, rerunnable, runSpilled, spillPageRows, spillRunStats,
  spillSpaceAfter } from "./spill_select.ts";
import type { SpillSpace } from "./spill_store.ts";
import { windowSpillKeys } from "./spill_window.ts";
import { setOpRows, spilledSetOp } from "./spill_setop.ts";
import { hasRowId, rowIdCol, withRowIds } from "./row_id.ts";
import { type PushTail, type PushedRows, type PushedScan, planTail, pushedReadsPerTableMax }
  from "./pushdown.ts";
import type { KeyRange } from "./index_access.ts";
import { type SemiBuild, type SemiHost, type SemiJoin, andOf, buildSemiJoin, planScalarJoin,
  planSemiJoin, probeSemiJoin, scalarCandidate, scalarLookup, scalarTable, semiCandidate,
  semiValue } from "./decorrelate.ts";
import { constantTruth } from "./constant_fold.ts";
import { simplifyOuterJoins } from "./outer_join.ts";
import { TopN, keyOrder, topNEntriesMax } from "./topn.ts";
import { batchProjection, markVectorized, rowsHolding, vectorizedSwitch } from "./vec_filter.ts";
import type { Collation } from "../../codec/mod.ts";
import { limitCount } from "./limit_value.ts";
import { type PushTarget, fromSources, outputExprs, outputNames, pruneColumns, prunedItems,
  pushTargets, referencedColumns, substituteConjunct, unionBranches, withBranchConjuncts,
  withConjuncts } from "./derived_pushdown.ts";
import { optimizerFlag } from "../session/optimizer_switch.ts";
import { physicalTable, selectedPartitions, withSelection } from "../catalog/partition.ts";
import { scanKey, selectPartitions } from "./partition_source.ts";

/** Where a result column comes from, for its metadata. */
export interface ColumnOrigin {
  readonly db: string | null;
  readonly table: string;
  readonly orgTable: string;
  readonly orgName: string;
}

/** A planned query with result metadata. */
export interface Planned extends PlannedQuery {
  readonly origins: readonly (ColumnOrigin | null)[];
  /** Under EXPLAIN (a planner with a trace): what the query does, by clause. */
  readonly shape?: QueryShape;
}

/** A table's stored rows, as the planner reads them. */
export interface TableRows {
  readonly handles: readonly bigint[];
  readonly rows: readonly (readonly Value[])[];
}

/** What the planner needs from the session and storage. */
export interface PlanEnv {
  readonly schema: InfoSchema;
  readonly database: string | null;
  scope(clause: string): TranslateScope;
  evalContext(): EvalContext;
  scanTable(table: TableInfo): Promise<TableRows>;
  getRow(table: TableInfo, handle: bigint): Promise<Value[] | null>;
  /** The rows of `handles` (ascending) that exist, in one batch (index joins' lookups). */
  getRows?(table: TableInfo, handles: readonly bigint[]): Promise<TableRows>;
  /**
   * The table's rows in handle order, a page at a time (spilling runs stream them);
   * `pageRows()` says how many rows the next page should hold.
   */
  scanTablePages?(table: TableInfo, pageRows: () => number): AsyncIterable<TableRows>;
  /** Where sorts and groupings past the quota write temp files; absent: they never spill. */
  spillSpace?(): SpillSpace;
  /** The rows whose row keys lie in [start, end), in handle order. */
  scanRows?(table: TableInfo, range: { readonly start: Uint8Array;
    readonly end: Uint8Array }): Promise<TableRows>;
  /** The rows whose entries of `index` lie in [start, end), in handle order. */
  readIndex?(table: TableInfo, index: IndexInfo, range: { readonly start: Uint8Array;
    readonly end: Uint8Array }): Promise<TableRows>;
  lockRows(table: TableInfo, handles: readonly bigint[]): Promise<void>;
  /** The table's statistics, if analyzed (src/sql/stats); absent: plans by rules. */
  tableStats?(table: TableInfo): TableStats | undefined;
  /** Records a warning of the statement (GROUP_CONCAT's 1260); absent: dropped. */
  warn?(warning: MySqlError): void;
  /**
   * Marks the statement's warnings; the function returned drops those raised since (a
   * SELECT rerun spilling drops its failed run's warnings, which the rerun raises again).
   */
  warningMark?(): () => void;
  /** `information_schema.name`'s columns and rows, or undefined when it has none. */
  virtualTable?(name: string): { readonly columns: readonly ColumnInfo[];
    readonly rows: readonly (readonly Value[])[] } | undefined;
  /** Aborted by `KILL QUERY`: reads and growing operators stop with its reason (1317). */
  readonly signal?: AbortSignal;
  /** Whether reads of `table` may be pushed down to the KV nodes now (pushdown.ts). */
  canPush?(table: TableInfo): boolean;
  /** `table`'s rows in `ranges` (null: all) read with `scan` pushed down to the KV nodes. */
  pushedRead?(table: TableInfo, ranges: readonly KeyRange[] | null, scan: PushedScan,
    ctx: EvalContext): Promise<PushedRows>;
}

/** The qualifier marking an aggregate's slot in a rewritten expression. */
const aggQual = "\u0000agg";
/** How deep views may nest in one another (a cycle is 1462 before this). */
const viewDepthMax = 32;
/** Iterations a recursive CTE may take (MySQL's cte_max_recursion_depth default). */
const cteRecursionMax = 1000;

interface CteDef {
  readonly name: string;
  readonly columns: readonly string[] | null;
  readonly query: Query;
  readonly recursive: boolean;
  /** While planning a recursive CTE's recursive part: its working rows. */
  working: { rows: Value[][]; layout: Layout } | null;
}

const subqueryKinds = new Set(["subquery", "exists", "inSubquery", "compareSubquery"]);

/** Maps `fn` over an AST, not descending into subqueries. */
function rewrite(node: AstExpr, fn: (e: AstExpr) => AstExpr | undefined): AstExpr {
  const walk = (n: unknown): unknown => {
    if (Array.isArray(n)) return n.map(walk);
    if (n === null || typeof n !== "object") return n;
    const e = n as AstExpr;
    const replaced = fn(e);
    if (replaced !== undefined) return replaced;
    if (subqueryKinds.has(e.kind)) {
      if (e.kind === "inSubquery" || e.kind === "compareSubquery") {
        return { ...e, operand: walk(e.operand) };
      }
      return e;
    }
    return Object.fromEntries(Object.entries(n).map(([k, v]) => [k, walk(v)]));
  };
  return walk(node) as AstExpr;
}

function isAggregate(e: AstExpr): boolean {
  return isAggregateCall(e);
}

/** The qualifier marking a GROUPING() flag's slot in a rewritten expression. */
const grpQual = "\u0000grp";

/** WITH ROLLUP: the FROM-row positions of the GROUP BY items (columns only, else 1235). */
function rollupPositions(groupExprs: readonly Compiled[]): number[] {
  return groupExprs.map((g) => {
    if (g.expr.kind !== "column" || g.subs.length > 0) {
      throw mysqlError(ER.NOT_SUPPORTED_YET, ["WITH ROLLUP over expressions"]);
    }
    return g.expr.index;
  });
}

/** The qualifier marking a window function's slot in a rewritten expression. */
const winQual = "\u0000win";

/** Replaces window function calls by slot references, collecting them in `out`. */
function extractWindows(node: AstExpr, out: AstExpr[]): AstExpr {
  return rewrite(node, (e) => {
    if (!isWindowCall(e)) return undefined;
    const text = formatExpr(e);
    let k = out.findIndex((a) => formatExpr(a) === text);
    if (k < 0) {
      out.push(e);
      k = out.length - 1;
    }
    return { kind: "column", db: null, table: winQual, column: String(k) };
  });
}

/** 3593 when a clause that may not hold window functions holds one. */
function noWindows(node: unknown): void {
  const found = findWindowCall(node);
  if (found !== undefined && found.kind === "func") {
    throw mysqlError(ER.WINDOW_INVALID_WINDOW_FUNC_USE, [found.name]);
  }
}

/** Replaces aggregate calls by slot references, collecting them in `out`. */
function extractAggregates(node: AstExpr, out: AstExpr[]): AstExpr {
  return rewrite(node, (e) => {
    if (!isAggregate(e)) return undefined;
    const text = formatExpr(e);
    let k = out.findIndex((a) => formatExpr(a) === text);
    if (k < 0) {
      out.push(e);
      k = out.length - 1;
    }
    return { kind: "column", db: null, table: aggQual, column: String(k) };
  });
}

function hasAggregate(node: AstExpr): boolean {
  let found = false;
  rewrite(node, (e) => {
    if (isAggregate(e)) found = true;
    return undefined;
  });
  return found;
}

/** The planner of one statement; see the file comment. */
export class Planner implements SemiHost {
  private readonly env: PlanEnv;
  private database: string | null;
  private readonly ctes: Map<string, CteDef>[] = [];
  private readonly scans = new Map<number | string, Promise<TableRows>>();
  /** Bytes each cached scan holds on the tracker (given back when a spilling run drops it). */
  private readonly scanBytes = new Map<number | string, number>();
  /** Pushed-down reads of each table so far (pushdown.ts bounds them per statement). */
  private readonly pushedReads = new Map<number | string, number>();
  private ctx: EvalContext | null = null;
  private viewDepth = 0;
  /** Set by EXPLAIN: SELECTs describe themselves and log their runs here. */
  trace: PlanTrace | null = null;
  /** Recursive CTE steps being planned (their derived tables rerun each iteration). */
  private recursiveSteps = 0;
  private readonly viewPath: string[] = [];
  /** The statement's memory (`memory_tracker.ts`), made on first use. */
  private tracker: MemoryTracker | null = null;
  /** The most bytes a spilling run of the statement held in temp files (EXPLAIN ANALYZE). */
  diskPeak = 0;
  /** Left outer semi joins planned by `semiValue`, until their SELECT's shape takes them. */
  private readonly valueSemis: SemiJoinShape[] = [];
  /** WHERE conjuncts and LIMITs pushed into a FROM item's query (`derived_pushdown.ts`). */
  private readonly pushed = new WeakMap<PushTarget, AstExpr[]>();
  private readonly pushedLimit = new WeakMap<PushTarget, bigint>();
  private readonly pushedBranches = new WeakMap<PushTarget, AstExpr[][]>();
  /** The columns of a FROM item its SELECT may read (column pruning). */
  private readonly usedColumns = new WeakMap<PushTarget, Set<string>>();
  /** The session's `optimizer_switch`, read on first use. */
  private switches: string | null | undefined = undefined;

  constructor(env: PlanEnv) {
    this.env = env;
    this.database = env.database;
  }

  /** The statement's memory tracker, with the session's `tidb_mem_quota_query`. */
  memory(): MemoryTracker {
    if (this.tracker !== null) return this.tracker;
    let quota = defaultMemQuotaBytes;
    try {
      const v = evaluate(this.baseScope("field list").systemVariable("tidb_mem_quota_query",
        null), this.evalContext());
      if (v !== null && (v.kind === "int" || v.kind === "uint")) quota = Number(v.value);
    } catch {
      // An environment without the variable (unit tests): TiDB's default.
    }
    this.tracker = new MemoryTracker({ quota, connectionId: this.evalContext().connectionId,
      ...(this.env.signal === undefined ? {} : { signal: this.env.signal }) });
    return this.tracker;
  }

  /** Whether rewrite rule `flag` of `optimizer_switch` is on for this statement. */
  flag(flag: string): boolean {
    if (this.switches === undefined) {
      try {
        const v = evaluate(this.baseScope("field list").systemVariable("optimizer_switch", null),
          this.evalContext());
        this.switches = v !== null && v.kind === "string" ? v.value : null;
      } catch {
        // An environment without the variable (unit tests): every rule on.
        this.switches = null;
      }
    }
    return optimizerFlag(this.switches, flag);
  }

  foldsConstants(): boolean {
    return this.flag("constant_folding");
  }

  quietly<T>(body: () => T): T {
    const trace = this.trace;
    this.trace = null;
    try {
      return body();
    } finally {
      this.trace = trace;
    }
  }

  /** Gives back every byte the statement's operators still hold (the statement ended). */
  releaseMemory(): void {
    this.tracker?.releaseAll();
  }

  /** Makes a use of view `db.name` fail with 1462 (planning that view's own definition). */
  forbidView(db: string, name: string): void {
    this.viewPath.push(`${db}.${name}`.toLowerCase());
  }

  // ---- CompileHost / FromHost --------------------------------------------------------------

  baseScope(clause: string): TranslateScope {
    return this.env.scope(clause);
  }

  evalContext(): EvalContext {
    if (this.ctx === null) {
      const ctx = this.env.evalContext();
      this.ctx = ctx;
      // tidb_enable_vectorized_expression: batch evaluation (vec_filter.ts) or row at a time.
      if (vectorizedSwitch(() => evaluate(this.baseScope("field list").systemVariable(
        "tidb_enable_vectorized_expression", null), ctx))) markVectorized(ctx);
    }
    return this.ctx;
  }

  planNested(query: Query, outer: Scope): { plan: PlannedQuery; frame: Frame } {
    const frame = new Frame(outer);
    return { plan: this.planQuery(query, frame, null), frame };
  }

  lockRows(table: TableInfo, handles: readonly bigint[]): Promise<void> {
    return this.env.lockRows(table, handles);
  }

  tableStats(table: TableInfo): TableStats | undefined {
    return this.env.tableStats?.(table);
  }

  tableSource(item: Extract<TableExpr, { kind: "table" }>): Source {
    const name = item.name;
    const alias = item.alias ?? name.name;
    if (name.db === null) {
      for (let i = this.ctes.length - 1; i >= 0; i--) {
        const cte = this.ctes[i]!.get(name.name.toLowerCase());
        if (cte !== undefined) return this.cteSource(cte, alias, item);
      }
    }
    const db = name.db ?? this.database;
    if (db === null) throw mysqlError(ER.NO_DB_ERROR);
    if (db.toLowerCase() === "information_schema") return this.virtualSource(name.name, alias);
    const table = this.env.schema.table(db, name.name);
    if (table !== undefined) {
      return this.baseSource(db, selectPartitions(table, item.partitions), alias);
    }
    const view = this.env.schema.database(db)?.views?.get(name.name.toLowerCase());
    if (view !== undefined) return this.viewSource(db, view, alias, item);
    throw mysqlError(ER.NO_SUCH_TABLE, [db, name.name]);
  }

  derivedSource(item: Extract<TableExpr, { kind: "derived" }>): Source {
    if (item.alias === null) throw mysqlError(ER.DERIVED_MUST_HAVE_ALIAS);
    if (item.lateral) throw mysqlError(ER.NOT_SUPPORTED_YET, ["LATERAL derived tables"]);
    const plan = this.planQuery(this.withPushed(item.query, item, item.columns), new Frame(null),
      null);
    return this.resultSource(plan, item.alias, item.columns, null);
  }

  // ---- sources -----------------------------------------------------------------------------

  private baseSource(db: string, table: TableInfo, alias: string): Source {
    const cols: Col[] = table.columns.map((c) => {
      const visible = c.state === undefined || c.state === "public";
      return { qual: alias, db, name: visible ? c.name : `\u0000${c.name}`,
        type: fieldTypeOf(c), orgTable: table.name, orgName: c.name, hidden: !visible };
    });
    const layout: Layout = { cols, star: cols.flatMap((c, i) => (c.hidden ? [] : [i])) };
    // A table without a clustered integer key has the hidden `_tidb_rowid` (not in `*`).
    const rowId = hasRowId(table);
    if (rowId) cols.push(rowIdCol({ qual: alias, db, orgTable: table.name }));
    const sourceRows = (got: TableRows): SourceRows => ({ handles: got.handles,
      rows: rowId ? withRowIds(got.rows, got.handles) : got.rows as Value[][] });
    return {
      layout,
      table,
      ...(rowId ? { rowIdColumn: table.columns.length } : {}),
      read: async (handle?: bigint): Promise<SourceRows> => {
        if (handle !== undefined) {
          const row = await this.env.getRow(table, handle);
          return sourceRows(row === null ? { rows: [], handles: [] }
            : { rows: [row], handles: [handle] });
        }
        return sourceRows(await this.scanOnce(table));
      },
      readRange: async (index, keys): Promise<SourceRows> => {
        const scanned = this.scans.get(scanKey(table));
        // A table this statement scanned already is filtered, not read again.
        const got = scanned !== undefined ? await scanned
          : index === null ? await (this.env.scanRows?.(table, keys) ?? this.scanOnce(table))
            : this.env.readIndex === undefined ? await this.scanOnce(table)
              : await this.env.readIndex(table, index, keys);
        return sourceRows(got);
      },
      scanned: () => this.scans.has(scanKey(table)),
      scanPages: () => this.scanPages(table, rowId),
      readHandles: async (handles): Promise<SourceRows> => {
        const getRows = this.env.getRows;
        if (getRows !== undefined) return sourceRows(await getRows(table, handles));
        const got = await Promise.all(handles.map((h) => this.env.getRow(table, h)));
        const found = handles.filter((_, k) => got[k] !== null);
        return sourceRows({ handles: found, rows: got.filter((r) => r !== null) });
      },
      readPushed: (ranges, scan) => this.readPushed(table, ranges, scan),
      ...(table.partition === undefined ? {} : {
        prune: (positions) => this.baseSource(db, withSelection(table, positions), alias) }),
    };
  }

  /**
   * `table`'s rows read with `scan` pushed down, or undefined when not now: no KV, the
   * session or transaction forbids it, the statement holds the table's scan already, or
   * read it often (a correlated subquery: then scanned once and filtered here).
   */
  private async readPushed(table: TableInfo, ranges: readonly KeyRange[] | null,
    scan: PushedScan): Promise<SourceRows | undefined> {
    const reads = this.pushedReads.get(scanKey(table)) ?? 0;
    if (this.env.pushedRead === undefined || this.env.canPush?.(table) !== true ||
      this.scans.has(scanKey(table)) ||
      // Index lookups cost what their unpushed reads cost: never capped.
      (reads >= pushedReadsPerTableMax && scan.lookup !== true)) return undefined;
    this.pushedReads.set(scanKey(table), reads + 1);
    const got = await this.env.pushedRead(table, ranges, scan, this.evalContext());
    // Handed to the reader with the rows (`SourceRows.charged`).
    const mem = new MemoryScope(this.memory());
    try {
      mem.consume(rowsBytes(got.rows) + got.handles.length * 16);
      const rows = scan.aggregation === null ? got.rows
        : scan.aggregation.merge(got.rows, this.evalContext(), mem);
      return { rows, handles: got.handles, charged: mem.handOver() };
    } catch (error: unknown) {
      mem.close();
      throw error;
    }
  }

  /**
   * The table's rows a page at a time, each page counted only while the reader holds it
   * (spilling runs, `spill_select.ts`).
   */
  private async *scanPages(table: TableInfo, rowId: boolean): AsyncGenerator<Value[][]> {
    const paged = this.env.scanTablePages;
    if (paged === undefined) {
      const got = await this.scanOnce(table);
      yield rowId ? withRowIds(got.rows, got.handles) : got.rows as Value[][];
      return;
    }
    const mem = this.memory().scope();
    const tracker = this.memory();
    // Pages of about 1/16 of the quota by the bytes of the rows so far (`spillPageRows`).
    let rows = 0;
    let bytes = 0;
    const pageRows = (): number => spillPageRows(tracker.quota, rows === 0 ? 0 : bytes / rows);
    // A partitioned table: its partitions read, merged into handle order (as `scanTable`).
    const partitions = table.partition === undefined ? null
      : selectedPartitions(table.partition).map((k) => physicalTable(table, k));
    const split = (): number => Math.max(1, Math.floor(pageRows() / (partitions?.length ?? 1)));
    const read = partitions === null ? paged(table, pageRows)
      : mergeByHandle(partitions.map((p) => paged(p, split)));
    try {
      for await (const page of read) {
        const pageBytes = rowsBytes(page.rows) + page.handles.length * 16;
        rows += page.rows.length;
        bytes += pageBytes;
        mem.consume(pageBytes);
        yield rowId ? withRowIds(page.rows, page.handles) : page.rows as Value[][];
        mem.close();
      }
    } finally {
      mem.close();
    }
  }

  /**
   * After `error`: where a spilling rerun of a SELECT writes (8175 with
   * `tidb_enable_tmp_storage_on_oom` ON), else null. The statement's cached scans are
   * dropped then, their memory given back (the rerun streams its table).
   */
  private spillSpace(error: unknown): SpillSpace | null {
    const space = spillSpaceAfter(error, this.env.spillSpace, () => evaluate(this.baseScope(
      "field list").systemVariable("tidb_enable_tmp_storage_on_oom", null), this.evalContext()));
    if (space === null) return null;
    for (const bytes of this.scanBytes.values()) this.memory().release(bytes);
    this.scanBytes.clear();
    this.scans.clear();
    return space;
  }

  /** The table's rows, scanned once per statement. */
  private scanOnce(table: TableInfo): Promise<TableRows> {
    let scan = this.scans.get(scanKey(table));
    if (scan === undefined) {
      // The rows stay cached for the statement: held until it ends.
      scan = this.env.scanTable(table).then((got) => {
        const bytes = rowsBytes(got.rows) + got.handles.length * 16;
        this.memory().consume(bytes);
        this.scanBytes.set(scanKey(table), bytes);
        return got;
      });
      this.scans.set(scanKey(table), scan);
    }
    return scan;
  }

  private virtualSource(name: string, alias: string): Source {
    const table = this.env.virtualTable?.(name);
    if (table === undefined) throw mysqlError(ER.NO_SUCH_TABLE, ["information_schema", name]);
    const cols: Col[] = table.columns.map((c) => ({ qual: alias, db: "information_schema",
      name: c.name, type: fieldTypeOf(c), orgTable: name, orgName: c.name, hidden: false }));
    return { layout: layoutOf(cols),
      read: () => Promise.resolve({ rows: table.rows.map((r) => [...r]) }) };
  }

  /** A source reading a planned query's rows once, named `alias`. */
  private resultSource(plan: PlannedQuery, alias: string, columns: readonly string[] | null,
    db: string | null): Source {
    markDerived((plan as Planned).shape);
    if (columns !== null && columns.length !== plan.names.length) {
      throw mysqlError(ER.VIEW_WRONG_LIST);
    }
    const names = columns ?? plan.names;
    const seen = new Set<string>();
    for (const n of names) {
      if (seen.has(n.toLowerCase())) throw mysqlError(ER.DUP_FIELDNAME, [n]);
      seen.add(n.toLowerCase());
    }
    const cols: Col[] = names.map((n, i) => ({ qual: alias, db, name: n, type: plan.types[i]!,
      orgTable: alias, orgName: n, hidden: false }));
    // Read once per statement, except inside a recursive CTE's step, which reruns.
    const once = this.recursiveSteps === 0;
    let rows: Promise<Value[][]> | null = null;
    return { layout: layoutOf(cols), read: async () => {
      if (!once) return { rows: await plan.run() };
      // Materialized once for the statement (derived table, view, CTE): held until it ends.
      rows ??= plan.run().then((got) => {
        this.memory().consume(rowsBytes(got));
        return got;
      });
      return { rows: await rows };
    } };
  }

  private viewSource(db: string, view: ViewInfo, alias: string, item: PushTarget): Source {
    const key = `${db}.${view.name}`.toLowerCase();
    if (this.viewPath.includes(key)) throw mysqlError(ER.VIEW_RECURSIVE, [db, view.name]);
    if (this.viewDepth >= viewDepthMax) throw mysqlError(ER.VIEW_RECURSIVE, [db, view.name]);
    const parsed = parse(view.definition);
    const statement = parsed.kind === "ok" ? parsed.statements[0]?.statement : undefined;
    if (statement === undefined || !isQuery(statement)) {
      throw mysqlError(ER.NOT_SUPPORTED_YET, [`the definition of view ${db}.${view.name}`]);
    }
    const saved = { database: this.database, ctes: this.ctes.splice(0) };
    this.database = db;
    this.viewDepth++;
    this.viewPath.push(key);
    try {
      const plan = this.planQuery(this.withPushed(statement, item, view.columns), new Frame(null),
        null);
      return this.resultSource(plan, alias, view.columns, db);
    } finally {
      this.viewPath.pop();
      this.viewDepth--;
      this.database = saved.database;
      this.ctes.push(...saved.ctes);
    }
  }

  private cteSource(cte: CteDef, alias: string, item: PushTarget): Source {
    if (cte.working !== null) {
      const working = cte.working;
      const cols = working.layout.cols.map((c) => ({ ...c, qual: alias }));
      return { layout: layoutOf(cols), read: () => Promise.resolve({ rows: working.rows }) };
    }
    if (!cte.recursive || !refersTo(cte.query, cte.name)) {
      // A CTE sees the CTEs defined before it, not itself.
      const plan = this.withoutCte(cte, () => this.planQuery(this.withPushed(cte.query, item,
        cte.columns), new Frame(null), null));
      return this.resultSource(plan, alias, cte.columns, null);
    }
    return this.recursiveCte(cte, alias);
  }

  private withoutCte<T>(cte: CteDef, body: () => T): T {
    const level = this.ctes.findIndex((m) => m.get(cte.name.toLowerCase()) === cte);
    const hidden = this.ctes.splice(level);
    const shadow = new Map(hidden[0]!);
    shadow.delete(cte.name.toLowerCase());
    this.ctes.push(shadow);
    try {
      return body();
    } finally {
      this.ctes.pop();
      this.ctes.push(...hidden);
    }
  }

  private recursiveCte(cte: CteDef, alias: string): Source {
    const query = cte.query;
    if (query.kind !== "setOp" || query.op !== "UNION") {
      throw mysqlError(ER.NOT_SUPPORTED_YET, ["recursive CTEs other than a UNION"]);
    }
    const base = this.withoutCte(cte, () => this.planQuery(query.left, new Frame(null), null));
    const names = cte.columns ?? base.names;
    if (names.length !== base.names.length) throw mysqlError(ER.VIEW_WRONG_LIST);
    const cols: Col[] = names.map((n, i) => ({ qual: cte.name, db: null, name: n,
      type: { ...base.types[i]!, nullable: true }, orgTable: cte.name, orgName: n,
      hidden: false }));
    const working = { rows: [] as Value[][], layout: layoutOf(cols) };
    cte.working = working;
    this.recursiveSteps++;
    let step: PlannedQuery;
    try {
      step = this.planQuery(query.right, new Frame(null), null);
    } finally {
      this.recursiveSteps--;
      cte.working = null;
    }
    if (step.names.length !== names.length) {
      throw mysqlError(ER.WRONG_NUMBER_OF_COLUMNS_IN_SELECT);
    }
    const distinct = !query.all;
    const plan: PlannedQuery = {
      names,
      types: cols.map((c) => c.type),
      run: async () => {
        const ctx = this.evalContext();
        const seen = new Set<string>();
        const all: Value[][] = [];
        const mem = this.memory().scope();
        const add = (rows: Value[][]): Value[][] => {
          const fresh: Value[][] = [];
          for (const row of rows) {
            const r = row.map((v, i) => coerce(v, cols[i]!.type, ctx));
            if (distinct) {
              const key = rowKey(r, keyCollations(cols.map((c) => c.type)));
              if (seen.has(key)) continue;
              seen.add(key);
              mem.consume(keyBytes(key));
            }
            mem.consume(rowBytes(r));
            fresh.push(r);
          }
          all.push(...fresh);
          return fresh;
        };
        try {
          let fresh = add(await base.run());
          for (let i = 0; fresh.length > 0; i++) {
            if (i >= cteRecursionMax) throw mysqlError(ER.CTE_MAX_RECURSION_DEPTH, [i + 1]);
            working.rows = fresh;
            fresh = add(await step.run());
          }
          return all;
        } finally {
          mem.close();
        }
      },
    };
    return this.resultSource(plan, alias, null, null);
  }

  // ---- queries -----------------------------------------------------------------------------

  /** Plans any query form. `fieldTexts` names a top-level SELECT's items as written. */
  planQuery(query: Query, frame: Frame, fieldTexts: readonly (string | undefined)[] | null):
    Planned {
    if (query.with === null) return this.planQueryBody(query, frame, fieldTexts);
    const defs = new Map<string, CteDef>();
    this.ctes.push(defs);
    try {
      for (const cte of query.with.ctes) {
        defs.set(cte.name.toLowerCase(), { name: cte.name, columns: cte.columns,
          query: cte.query, recursive: query.with.recursive, working: null });
      }
      return this.planQueryBody(query, frame, fieldTexts);
    } finally {
      this.ctes.pop();
    }
  }

  private planQueryBody(query: Query, frame: Frame,
    fieldTexts: readonly (string | undefined)[] | null): Planned {
    switch (query.kind) {
      case "select":
        return this.planSelect(query, frame, fieldTexts);
      case "setOp": {
        // UNION ALL … LIMIT n: each branch needs n rows at most, the right one only when the
        // left one had fewer (limit pushdown).
        const pushed = query.op === "UNION" && query.all && query.orderBy.length === 0 &&
          this.flag("limit_pushdown") ? literalLimit(query.limit) : null;
        const left = this.planQuery(withLimit(query.left, pushed), frame, fieldTexts);
        const right = this.planQuery(withLimit(query.right, pushed), frame, null);
        const planned = this.ordered(this.setOp(query.op, query.all, left, right, pushed),
          query.orderBy, query.limit, frame);
        return this.trace === null ? planned : { ...planned, shape: this.compound(query,
          [left.shape, right.shape]) };
      }
      case "parenQuery": {
        const inner = this.planQuery(query.query, frame, fieldTexts);
        const planned = this.ordered(inner, query.orderBy, query.limit, frame);
        return this.trace === null ? planned : { ...planned, shape: this.compound(query,
          [inner.shape]) };
      }
      case "values":
        return this.ordered(this.planValues(query.rows, frame), query.orderBy, query.limit,
          frame);
    }
  }

  /** EXPLAIN's shape of a set operation or parenthesized query. */
  private compound(query: Extract<Query, { kind: "setOp" | "parenQuery" }>,
    children: readonly (QueryShape | undefined)[]): CompoundShape {
    const shape = compoundShape(query, children);
    if (query.orderBy.length > 0 && query.limit !== null) shape.topN = this.flag("topn");
    return shape;
  }

  private setOp(op: "UNION" | "INTERSECT" | "EXCEPT", all: boolean, left: Planned,
    right: Planned, enough: bigint | null = null): Planned {
    if (left.names.length !== right.names.length) {
      throw mysqlError(ER.WRONG_NUMBER_OF_COLUMNS_IN_SELECT);
    }
    const types = left.types.map((t, i) => aggregateTypes([t, right.types[i]!],
      t.nullable || right.types[i]!.nullable));
    const collations = keyCollations(types);
    return {
      names: left.names,
      types,
      origins: left.origins,
      run: async () => {
        const ctx = this.evalContext();
        const fix = (rows: Value[][]): Value[][] => rows.map((r) => r.map((v, i) =>
          coerce(v, types[i]!, ctx)));
        // Both sides' coerced rows and the key sets are held while the operation runs.
        const mem = this.memory().scope();
        let l: Value[][] | null = null;
        let r: Value[][] | null = null;
        let rightRuns = false;
        try {
          l = fix(await left.run());
          mem.consume(rowsBytes(l));
          rightRuns = true;
          // UNION ALL under a pushed LIMIT: the left branch may have given enough rows.
          r = enough !== null && BigInt(l.length) >= enough ? [] : fix(await right.run());
          mem.consume(rowsBytes(r));
          return setOpRows(op, all, l, r, collations, mem);
        } catch (error: unknown) {
          // Past the quota a deduplicating operation spills its rows (spill_setop.ts); a
          // branch that failed itself is not run again.
          const space = l === null || (rightRuns && r === null) || (op === "UNION" && all)
            ? null : this.spillSpace(error);
          if (space === null || l === null) throw error;
          mem.close();
          const spills = space.open();
          try {
            return await spilledSetOp(op, all, l, r ?? (async () => fix(await right.run())),
              collations, { tracker: this.memory(), spills });
          } finally {
            this.diskPeak = Math.max(this.diskPeak, spills.peakBytes);
            await spills.close();
          }
        } finally {
          mem.close();
        }
      },
    };
  }

  private planValues(rows: readonly (readonly AstExpr[])[], frame: Frame): Planned {
    const scope = new Scope(noColumns, "field list", frame);
    const compiled = rows.map((r) => r.map((e) => compile(e, scope, this)));
    const width = compiled[0]?.length ?? 0;
    if (compiled.some((r) => r.length !== width)) {
      throw mysqlError(ER.WRONG_VALUE_COUNT_ON_ROW, [compiled.findIndex((r) =>
        r.length !== width) + 1]);
    }
    const types = Array.from({ length: width }, (_, i) => aggregateTypes(
      compiled.map((r) => r[i]!.expr.type), compiled.some((r) => r[i]!.expr.type.nullable)));
    return {
      names: types.map((_, i) => `column_${i}`),
      types,
      origins: types.map(() => null),
      run: async () => {
        const ctx = this.evalContext();
        const out: Value[][] = [];
        for (const r of compiled) {
          const values: Value[] = [];
          for (let i = 0; i < r.length; i++) {
            values.push(coerce(await evalCompiled(r[i]!, [], ctx), types[i]!, ctx));
          }
          out.push(values);
        }
        return out;
      },
    };
  }

  /** ORDER BY and LIMIT over a query's result (set operations, parentheses). */
  private ordered(inner: Planned, orderBy: readonly OrderItem[], limit: Limit | null,
    frame: Frame): Planned {
    if (orderBy.length === 0 && limit === null) return inner;
    const cols: Col[] = inner.names.map((n, i) => ({ qual: "", db: null, name: n,
      type: inner.types[i]!, orgTable: "", orgName: n, hidden: false }));
    const scope = new Scope(layoutOf(cols), "order clause", frame);
    const keys = orderBy.map((item) => {
      if (item.expr.kind === "int") return { field: this.position(item.expr.text, cols.length,
        "order clause"), desc: item.desc };
      return { compiled: compile(item.expr, scope, this), desc: item.desc };
    });
    const lim = limit;
    const useTopN = keys.length > 0 && lim !== null && this.flag("topn");
    const sortCollations = keyCollations(keys.map((k) => k.field !== undefined
      ? inner.types[k.field]! : k.compiled!.expr.type));
    return { ...inner, run: async () => {
      const ctx = this.evalContext();
      const rows = await inner.run();
      // The sort buffer: the rows and their keys, held while sorting.
      const mem = this.memory().scope();
      try {
        const bounds = lim === null ? null : this.limitOf(lim);
        const kept = bounds === null ? 0n : bounds.count + bounds.offset;
        const topN = useTopN && kept <= BigInt(topNEntriesMax) ? new TopN<{ out: Value[];
          keys: Value[] }>(Number(kept), keyOrder(keys.map((k) => k.desc), ctx, sortCollations),
          mem) : null;
        if (keys.length > 0 && topN === null) mem.consume(rowsBytes(rows));
        let entries: { out: Value[]; keys: Value[] }[] = [];
        for (const row of rows) {
          const k: Value[] = [];
          for (const key of keys) {
            k.push(key.field !== undefined ? row[key.field]! : await evalCompiled(key.compiled!,
              row, ctx));
          }
          const bytes = keys.length > 0 ? rowBytes(k) + entryOverheadBytes : 0;
          if (topN !== null) {
            // Under TopN a row is counted while the heap holds it.
            topN.push({ out: row, keys: k }, bytes + rowBytes(row));
            continue;
          }
          mem.consume(bytes);
          entries.push({ out: row, keys: k });
        }
        if (topN !== null) entries = topN.sorted();
        else sortEntries(entries, keys.map((k) => k.desc), ctx, sortCollations);
        return applyLimit(entries.map((e) => e.out), bounds);
      } finally {
        mem.close();
      }
    } };
  }

  /** The session's `group_concat_max_len` in bytes (1024 when unknown). */
  private groupConcatMaxLen(): number {
    const v = evaluate(this.baseScope("field list").systemVariable("group_concat_max_len", null),
      this.evalContext());
    return v !== null && (v.kind === "int" || v.kind === "uint") && v.value > 0n
      ? Number(v.value < 4_294_967_295n ? v.value : 4_294_967_295n) : 1024;
  }

  private position(text: string, count: number, clause: string): number {
    const position = Number(text);
    if (position < 1 || position > count) throw mysqlError(ER.BAD_FIELD_ERROR, [text, clause]);
    return position - 1;
  }

  private limitOf(limit: Limit): { count: bigint; offset: bigint } {
    const value = (e: AstExpr): bigint => {
      return limitCount(evaluate(compile(e, new Scope(noColumns, "LIMIT", new Frame(null)),
        this).expr, this.evalContext()));
    };
    return { count: value(limit.count), offset: limit.offset === null ? 0n : value(limit.offset) };
  }

  // ---- WHERE rewrites (outer joins, constants, semi joins) ---------------------------------

  /** The base table a FROM name stands for, if it is one (not a view, CTE or other). */
  baseTable(name: TableName): TableInfo | undefined {
    if (name.db === null && this.ctes.some((m) => m.has(name.name.toLowerCase()))) {
      return undefined;
    }
    const db = name.db ?? this.database;
    if (db === null || db.toLowerCase() === "information_schema") return undefined;
    return this.env.schema.table(db, name.name);
  }

  /** A base table's column names (`outer_join.ts`); undefined for views, CTEs and others. */
  private readonly baseColumns = (name: TableName): readonly string[] | undefined => {
    const table = this.baseTable(name);
    if (table === undefined) return undefined;
    const names = table.columns.filter((c) => c.state === undefined || c.state === "public")
      .map((c) => c.name);
    return hasRowId(table) ? [...names, "_tidb_rowid"] : names;
  };

  /**
   * A SELECT's FROM and WHERE after the rewrite rules: outer joins WHERE makes inner,
   * constant conjuncts decided, EXISTS / IN subqueries as semi joins (`steps`, run over
   * the FROM's rows in order); `fromItems` and `where` are what EXPLAIN shows.
   */
  private planFromWhere(query: SelectQuery, frame: Frame): {
    from: Source; fromItems: readonly TableExpr[]; where: AstExpr | null; dual: boolean;
    /** What the SELECT may push down with its one table's read (pushdown.ts). */
    tail: PushTail;
    steps: ((rows: Value[][], mem: MemoryScope) => Promise<Value[][]>)[];
    semiShapes: SemiJoinShape[];
  } {
    const lock = query.lock !== null;
    const fromItems = this.flag("outer_join_simplification")
      ? simplifyOuterJoins(query.from, query.where, this.baseColumns) : query.from;
    let conjuncts = whereConjuncts(query.where);
    let dual = false;
    if (this.flag("constant_folding")) {
      conjuncts = conjuncts.filter((c) => {
        const truth = constantTruth(c, this);
        if (truth === false) dual = true;
        return truth !== true;
      });
    }
    if (!dual && this.flag("derived_condition_pushdown")) {
      conjuncts = this.pushIntoSources(fromItems, conjuncts);
    }
    if (this.flag("column_pruning")) {
      for (const target of fromSources(fromItems)) {
        const alias = target.kind === "derived" ? target.alias : target.alias ?? target.name.name;
        const used = alias === null ? null : referencedColumns(query, alias);
        if (used !== null) this.usedColumns.set(target, used);
      }
    }
    if (!dual && conjuncts.length === 0 && this.flag("limit_pushdown")) {
      this.pushLimit(query, fromItems);
    }
    const semijoin = !dual && !lock && query.from.length > 0 && this.flag("semijoin");
    const candidates = conjuncts.map((c) => (semijoin ? semiCandidate(c) : null));
    const plain = conjuncts.filter((_, i) => candidates[i] === null);
    const tail: PushTail = { build: null };
    const grouped = planFrom(fromItems, andOf(plain), frame, this, { lock, tail,
      straight: query.options.includes("STRAIGHT_JOIN") });
    // A constant-false WHERE: the FROM is planned (names checked) but never read.
    const from: Source = dual ? { ...grouped, read: () => Promise.resolve({ rows: [] }) }
      : grouped;
    const outer = new Scope(from.layout, "where clause", frame);
    const steps: ((rows: Value[][], mem: MemoryScope) => Promise<Value[][]>)[] = [];
    const perRow: AstExpr[] = [];
    const semiShapes: SemiJoinShape[] = [];
    for (const candidate of candidates) {
      if (candidate === null) continue;
      const before = this.trace?.planned.length ?? 0;
      const semi = planSemiJoin(candidate, outer, this);
      if (semi === null) {
        // Run per outer row, as compile.ts does for any subquery.
        const compiled = compile(candidate.ast, outer, this);
        perRow.push(candidate.ast);
        steps.push(async (rows) => {
          const ctx = this.evalContext();
          const kept: Value[][] = [];
          for (const row of rows) if (await holds(compiled, row, ctx)) kept.push(row);
          return kept;
        });
        continue;
      }
      const shape = this.semiShape(semi, before);
      if (shape !== undefined) {
        semiShapes.push({ kind: semi.kind, equal: semi.equal, other: semi.other, inner: shape });
      }
      steps.push(this.semiStep(semi, shape));
    }
    return { from, fromItems, where: andOf([...plain, ...perRow]), dual, tail, steps,
      semiShapes };
  }

  /**
   * Moves the conjuncts that read only one derived table, view or CTE of the FROM into its
   * query (`derived_pushdown.ts`); returns the conjuncts left for this WHERE.
   */
  private pushIntoSources(items: readonly TableExpr[], conjuncts: AstExpr[]): AstExpr[] {
    const targets = pushTargets(items);
    const only = items.length === 1 && targets.length === 1 && items[0] === targets[0];
    let rest = conjuncts;
    for (const target of targets) {
      if (target.kind === "derived" && target.query.kind !== "select") {
        rest = this.pushIntoUnion(target, rest, only);
        continue;
      }
      const source = this.sourceQuery(target);
      const exprs = source === undefined ? null : outputExprs(source.query, source.columns);
      const alias = target.kind === "derived" ? target.alias : target.alias ?? target.name.name;
      if (exprs === null || exprs.size === 0 || alias === null) continue;
      const pushed: AstExpr[] = [];
      rest = rest.filter((c) => {
        const inner = substituteConjunct(c, alias, only, exprs);
        if (inner !== null) pushed.push(inner);
        return inner === null;
      });
      if (pushed.length > 0) this.pushed.set(target, pushed);
    }
    return rest;
  }

  /** A FROM item's query with what was pushed into it, and its unread columns pruned. */
  private withPushed(query: Query, item: PushTarget, columns: readonly string[] | null): Query {
    const branches = this.pushedBranches.get(item);
    const filtered = branches !== undefined ? withBranchConjuncts(query, branches)
      : withConjuncts(query, this.pushed.get(item) ?? []);
    const used = this.usedColumns.get(item);
    const pruned = used === undefined ? filtered : pruneColumns(filtered, columns, used);
    return withLimit(pruned, this.pushedLimit.get(item) ?? null);
  }

  /**
   * `pushIntoSources` for a derived UNION ALL: a conjunct goes into every branch when each
   * column it reads has, in every branch, the union's own type (no conversion between).
   */
  private pushIntoUnion(target: Extract<TableExpr, { kind: "derived" }>,
    conjuncts: AstExpr[], only: boolean): AstExpr[] {
    const branches = unionBranches(target.query);
    if (branches === null || branches.length < 2 || target.alias === null) return conjuncts;
    const alias = target.alias;
    let compatible: boolean[];
    try {
      const plan = (q: Query) => this.quietly(() => this.planQuery(q, new Frame(null), null));
      const unionTypes = plan(target.query).types;
      const branchTypes = branches.map((b) => plan(b).types);
      compatible = unionTypes.map((u, i) => branchTypes.every((types) => {
        const t = types[i];
        // Same kind (and DATE vs DATETIME): the branch's values pass through unchanged.
        return t !== undefined && t.kind === u.kind && t.unsigned === u.unsigned &&
          (u.kind !== "datetime" || t.code === u.code);
      }));
    } catch {
      return conjuncts;
    }
    const names = outputNames(branches[0]!, target.columns).map((n, i) =>
      (n !== null && compatible[i] === true ? n : `\u0000${i}`));
    const maps = branches.map((b) => outputExprs(b, names));
    if (maps.some((m) => m === null || m.size === 0)) return conjuncts;
    const perBranch: AstExpr[][] = branches.map(() => []);
    const rest = conjuncts.filter((c) => {
      const inner = maps.map((m) => substituteConjunct(c, alias, only, m!));
      if (inner.some((e) => e === null)) return true;
      inner.forEach((e, i) => perBranch[i]!.push(e!));
      return false;
    });
    if (perBranch[0]!.length > 0) this.pushedBranches.set(target, perBranch);
    return rest;
  }

  /**
   * LIMIT n of a SELECT that only reads one derived table, view or CTE (no WHERE left,
   * grouping, DISTINCT, ORDER BY or windows): the source needs n rows at most.
   */
  private pushLimit(query: SelectQuery, items: readonly TableExpr[]): void {
    const n = literalLimit(query.limit);
    const target = items.length === 1 ? pushTargets(items)[0] : undefined;
    if (n === null || target === undefined || target !== items[0] ||
      query.groupBy.length > 0 || query.having !== null || query.distinct ||
      query.orderBy.length > 0 || query.windows.length > 0 || query.lock !== null ||
      query.fields.some((f) => hasAggregate(f.expr)) ||
      findWindowCall(query.fields) !== undefined ||
      this.sourceQuery(target) === undefined) return;
    this.pushedLimit.set(target, n);
  }

  /** The query a FROM item stands for: a derived table, a view, a non-recursive CTE. */
  private sourceQuery(item: PushTarget): { query: Query; columns: readonly string[] | null }
    | undefined {
    if (item.kind === "derived") {
      return item.lateral ? undefined : { query: item.query, columns: item.columns };
    }
    const name = item.name;
    if (name.db === null) {
      for (let i = this.ctes.length - 1; i >= 0; i--) {
        const cte = this.ctes[i]!.get(name.name.toLowerCase());
        if (cte === undefined) continue;
        return cte.working !== null || (cte.recursive && refersTo(cte.query, cte.name))
          ? undefined : { query: cte.query, columns: cte.columns };
      }
    }
    const db = name.db ?? this.database;
    if (db === null || db.toLowerCase() === "information_schema" ||
      this.env.schema.table(db, name.name) !== undefined) return undefined;
    const view = this.env.schema.database(db)?.views?.get(name.name.toLowerCase());
    if (view === undefined) return undefined;
    const parsed = parse(view.definition);
    const statement = parsed.kind === "ok" ? parsed.statements[0]?.statement : undefined;
    return statement !== undefined && isQuery(statement)
      ? { query: statement, columns: view.columns } : undefined;
  }

  /**
   * A correlated EXISTS / [NOT] IN inside an expression as a left outer semi join (compile.ts
   * asks): its inner side is read and hashed once per statement, each outer row probes it.
   */
  semiValue(e: AstExpr, scope: Scope): SemiRunner | null {
    if (this.recursiveSteps > 0 || !this.flag("semijoin")) return null;
    const candidate = semiCandidate(e);
    if (candidate === null) return null;
    const before = this.trace?.planned.length ?? 0;
    const semi = planSemiJoin(candidate, scope, this, { value: true });
    if (semi === null) return null;
    const shape = this.semiShape(semi, before);
    if (shape !== undefined) {
      this.valueSemis.push({ kind: semi.kind, equal: semi.equal, other: semi.other,
        inner: shape });
    }
    const read = this.semiReader(semi, shape);
    let built: Promise<SemiBuild> | null = null;
    return async (ctx) => {
      const base = this.evalContext();
      built ??= read().then((got) => buildSemiJoin(semi, got.rows, base, this.memory()));
      return semiValue(semi, await built, ctx, base);
    };
  }

  /**
   * A correlated scalar aggregate subquery as a join with its grouped form (compile.ts
   * asks; `decorrelate.ts` `ScalarJoin`): grouped once per statement, looked up per row.
   */
  scalarValue(e: AstExpr, scope: Scope): { run: SemiRunner; type: FieldType } | null {
    if (this.recursiveSteps > 0 || !this.flag("subquery_to_derived")) return null;
    const query = scalarCandidate(e);
    if (query === null) return null;
    const join = planScalarJoin(query, scope, this);
    if (join === null) return null;
    const grouped = this.planQuery(join.grouped, new Frame(null), null);
    const empty = this.quietly(() => this.planQuery(join.empty, new Frame(null), null));
    const shape = grouped.shape;
    if (shape !== undefined && shape.kind === "select") {
      shape.semi = true;
      this.valueSemis.push({ kind: "left outer join", equal: join.equal, other: [],
        inner: shape });
    }
    let built: Promise<ReturnType<typeof scalarTable>> | null = null;
    return { type: grouped.types[join.outerKeys.length]!, run: async (ctx) => {
      built ??= (async () => {
        const rows = await grouped.run();
        const none = await empty.run();
        const table = scalarTable(join, rows, none[0]?.[0] ?? null);
        // Held until the statement ends.
        this.memory().consume(table.bytes);
        return table;
      })();
      return scalarLookup(join, await built, ctx);
    } };
  }

  /** EXPLAIN's shape of a semi join's inner side (a SELECT of its FROM and own WHERE). */
  private semiShape(semi: SemiJoin, plannedBefore: number): SelectShape | undefined {
    if (this.trace === null) return undefined;
    const query = semi.candidate.query;
    const shape = selectShape(this.trace, { ...query, where: semi.innerWhere, orderBy: [],
      limit: null, distinct: false }, { grouped: false,
      fields: query.fields.map((f) => formatExpr(f.expr)), plainFields: true,
      aggregates: [], windows: [], plannedBefore });
    shape.semi = true;
    return shape;
  }

  /** Reads a semi join's inner side, noting the run for EXPLAIN. */
  private semiReader(semi: SemiJoin, shape: SelectShape | undefined):
    () => Promise<SourceRows> {
    const trace = this.trace;
    const readInner = async (): Promise<SourceRows> => {
      const started = { at: trace?.now() ?? 0, records: trace?.records.length ?? 0 };
      const got = await semi.inner.read();
      if (trace !== null && shape !== undefined) {
        noteSelectRun(trace, shape, { recordsStart: started.records,
          recordsEnd: trace.records.length, fromRows: got.rows.length, groups: 0,
          outRows: got.rows.length, timeMs: trace.now() - started.at, loops: 1 });
      }
      return got;
    };
    if (shape !== undefined) {
      // EXPLAIN's dry run reaches no outer row: it reads the inner side alone.
      shape.run = async () => {
        const got = await readInner();
        this.memory().release(got.charged ?? 0);
      };
    }
    return readInner;
  }

  /** A semi join's run over the outer rows: its inner side read once per run. */
  private semiStep(semi: SemiJoin, shape: SelectShape | undefined):
    (rows: Value[][], mem: MemoryScope) => Promise<Value[][]> {
    const readInner = this.semiReader(semi, shape);
    // The inner side is uncorrelated: built once per statement (held until it ends), except
    // inside a recursive CTE's step, whose tables change between runs.
    const reusable = this.recursiveSteps === 0;
    let built: Promise<SemiBuild> | null = null;
    return async (rows, mem) => {
      if (rows.length === 0) return rows;
      const ctx = this.evalContext();
      if (reusable) {
        built ??= readInner().then((got) => buildSemiJoin(semi, got.rows, ctx, this.memory()));
        return probeSemiJoin(semi, await built, rows, ctx);
      }
      const got = await readInner();
      mem.adopt(got.charged ?? 0);
      return probeSemiJoin(semi, buildSemiJoin(semi, got.rows, ctx, mem), rows, ctx);
    };
  }

  // ---- SELECT ------------------------------------------------------------------------------

  private planSelect(query: SelectQuery, frame: Frame,
    fieldTexts: readonly (string | undefined)[] | null): Planned {
    const plannedBefore = this.trace?.planned.length ?? 0;
    const semisBefore = this.valueSemis.length;
    noWindows([query.where, query.groupBy, query.having]);
    const planned = this.planFromWhere(query, frame);
    const from = planned.from;
    const layout = from.layout;
    // The select list with `*` and `t.*` expanded.
    const fields: { ast: AstExpr; name: string; origin: ColumnOrigin | null }[] = [];
    query.fields.forEach((field, i) => {
      const e = field.expr;
      if (e.kind === "star") {
        if (query.from.length === 0) throw mysqlError(ER.NO_TABLES_USED);
        const positions = e.table === null ? layout.star : layout.cols.flatMap((c, k) =>
          c.qual.toLowerCase() === e.table!.name.toLowerCase() &&
          !c.name.startsWith("\u0000") && c.implicit !== true ? [k] : []);
        if (positions.length === 0) throw mysqlError(ER.BAD_TABLE_ERROR, [e.table!.name]);
        for (const k of positions) {
          const c = layout.cols[k]!;
          fields.push({ ast: { kind: "column", db: null, table: c.qual === "" ? null : c.qual,
            column: c.name }, name: c.name, origin: originOf(c) });
        }
        return;
      }
      const name = field.alias ?? (e.kind === "column" ? e.column
        : limitName(e.kind === "string" ? e.value : fieldTexts?.[i] ?? formatExpr(e)));
      let origin: ColumnOrigin | null = null;
      if (e.kind === "column" && e.db === null) {
        try {
          const found = new Scope(layout, "field list", new Frame(null)).resolve(e.column,
            e.table);
          if (found !== undefined && found.kind === "column") {
            origin = originOf(layout.cols[found.index]!);
          }
        } catch {
          origin = null;
        }
      }
      fields.push({ ast: e, name, origin });
    });
    const aliases = new Map<string, number>();
    fields.forEach((f, i) => {
      const alias = query.fields.find((qf) => qf.alias === f.name) !== undefined ? f.name : null;
      if (alias !== null && !aliases.has(alias.toLowerCase())) aliases.set(alias.toLowerCase(), i);
    });
    const resolvable = (name: string): boolean => {
      try {
        return new Scope(layout, "", new Frame(null)).resolve(name, null) !== undefined;
      } catch {
        return true;
      }
    };
    // Aliases used inside HAVING and ORDER BY expressions (when not a FROM column).
    const substituteAliases = (ast: AstExpr, preferAlias: boolean): AstExpr => rewrite(ast,
      (e) => {
        if (e.kind !== "column" || e.table !== null || e.db !== null) return undefined;
        const i = aliases.get(e.column.toLowerCase());
        if (i === undefined || (!preferAlias && resolvable(e.column))) return undefined;
        const target = fields[i]!.ast;
        return target.kind === "column" && target.column.toLowerCase() ===
          e.column.toLowerCase() && target.table === null ? undefined : target;
      });
    // GROUPING(a, …) of WITH ROLLUP: a sum of the items' flags (slots after the aggregates).
    const groupTexts = query.groupBy.map((g) => formatExpr(g.kind === "int"
      ? fields[this.position(g.text, fields.length, "group statement")]!.ast : g));
    const grp = (ast: AstExpr): AstExpr => rewrite(ast, (e) => {
      if (e.kind !== "func" || e.name !== "grouping" || e.over !== null) return undefined;
      if (!query.withRollup) throw mysqlError(ER.INVALID_GROUP_FUNC_USE);
      return e.args.map((arg, i): AstExpr => {
        const k = groupTexts.indexOf(formatExpr(arg));
        if (k < 0) throw mysqlError(ER.FIELD_IN_GROUPING_NOT_GROUP_BY, [i + 1]);
        const flag: AstExpr = { kind: "column", db: null, table: grpQual, column: String(k) };
        const weight = 2n ** BigInt(e.args.length - 1 - i);
        return weight === 1n ? flag : { kind: "binary", op: "*", left: flag,
          right: { kind: "int", text: String(weight) } };
      }).reduce((a, b) => ({ kind: "binary", op: "+", left: a, right: b }));
    });
    const aggAsts: AstExpr[] = [];
    const fieldAsts = fields.map((f) => extractAggregates(grp(f.ast), aggAsts));
    const havingAst = query.having === null ? null
      : extractAggregates(grp(substituteAliases(query.having, false)), aggAsts);
    const orderItems = query.orderBy.map((item) => {
      const e = item.expr;
      if (e.kind === "int") {
        return { field: this.position(e.text, fields.length, "order clause"), desc: item.desc };
      }
      if (e.kind === "column" && e.table === null && aliases.has(e.column.toLowerCase())) {
        return { field: aliases.get(e.column.toLowerCase())!, desc: item.desc };
      }
      return { ast: extractAggregates(grp(substituteAliases(e, true)), aggAsts),
        desc: item.desc };
    });
    if (havingAst !== null) noWindows(havingAst);
    // Window calls (after aggregates, which they may hold) become slots after those.
    const winAsts: AstExpr[] = [];
    const fieldWinAsts = fieldAsts.map((a) => extractWindows(a, winAsts));
    const orderWinItems = orderItems.map((o) => ("ast" in o && o.ast !== undefined
      ? { ...o, ast: extractWindows(o.ast, winAsts) } : o));
    const groupAsts = query.groupBy.map((g) => {
      if (g.kind === "int") {
        const f = fields[this.position(g.text, fields.length, "group statement")]!;
        if (hasAggregate(f.ast)) throw mysqlError(ER.NOT_SUPPORTED_YET, ["GROUP BY aggregate"]);
        return f.ast;
      }
      return substituteAliases(g, false);
    });
    const grouped = aggAsts.length > 0 || query.groupBy.length > 0;
    const width = layout.cols.length;
    const baseScope = (clause: string): Scope => new Scope(layout, clause, frame);
    const groupExprs = groupAsts.map((g) => compile(g, baseScope("group statement"), this));
    const maxBytes = aggAsts.some((a) => a.kind === "groupConcat") ? this.groupConcatMaxLen()
      : 1024;
    const aggs: PlannedAggregate[] = aggAsts.map((a) => {
      const inner = a.kind === "groupConcat" ? [a.args, a.orderBy]
        : a.kind === "func" ? a.args : [];
      if (hasAggregate({ kind: "row", items: (inner as AstExpr[]).flat() as AstExpr[] })) {
        throw mysqlError(ER.INVALID_GROUP_FUNC_USE);
      }
      noWindows(inner);
      return planAggregate(a, (e) => compile(e, baseScope("field list"), this),
        { maxBytes, text: formatExpr(a) });
    });
    const rollup = query.withRollup ? rollupPositions(groupExprs) : null;
    const winBase = width + aggs.length + (rollup?.length ?? 0);
    let windows: PlannedWindow[] = [];
    const slots = (name: string, qual: string | null): Expr | undefined => {
      if (qual === grpQual) {
        return columnRef(width + aggs.length + Number(name), "grouping",
          intType({ length: 1, nullable: false }));
      }
      if (qual === winQual) {
        const k = Number(name);
        return columnRef(winBase + k, windows[k]!.text, windowType(windows[k]!));
      }
      if (qual !== aggQual) return undefined;
      const k = Number(name);
      return columnRef(width + k, aggs[k]!.spec.text, aggs[k]!.spec.type);
    };
    const recordScope = (clause: string): Scope => new Scope(layout, clause, frame,
      { extra: slots });
    windows = winAsts.map((w) => planWindowCall(w, query.windows,
      (e) => compile(e, recordScope("field list"), this),
      (e) => compile(e, new Scope(noColumns, "field list", frame), this)));
    if (winAsts.length === 0 && query.windows.length > 0) {
      // Named windows nobody uses are still checked.
      planWindowCall({ kind: "func", name: "row_number", args: [], distinct: false,
        over: { ref: null, partitionBy: [], orderBy: [], frame: null } }, query.windows,
      (e) => compile(e, recordScope("field list"), this),
      (e) => compile(e, new Scope(noColumns, "field list", frame), this));
    }
    const fieldExprs = fieldWinAsts.map((a) => compile(a, recordScope("field list"), this));
    const having = havingAst === null ? null : compile(havingAst, recordScope("having clause"),
      this);
    const orderKeys = orderWinItems.map((o) => ("field" in o ? { field: o.field, desc: o.desc }
      : { compiled: compile(o.ast!, recordScope("order clause"), this), desc: o.desc }));
    // LIMIT is evaluated when the query runs (a prepared statement binds `?` then).
    const limit = query.limit;
    const trace = this.trace;
    const useTopN = orderKeys.length > 0 && limit !== null && !query.distinct &&
      this.flag("topn");
    const orderCollations = keyCollations(orderKeys.map((k) => k.field !== undefined
      ? fieldExprs[k.field]!.expr.type : k.compiled!.expr.type));
    const distinctCollations = keyCollations(fieldExprs.map((f) => f.expr.type));
    const stopEarly = orderKeys.length === 0 && limit !== null && !query.distinct &&
      this.flag("limit_pushdown");
    // LIMIT, TopN or the aggregates of a SELECT over one table may run on KV (pushdown.ts).
    planned.tail.build = planned.steps.length > 0 || planned.dual ? null : planTail({
      single: query.from.length === 1 && query.from[0]!.kind === "table",
      lock: query.lock !== null, distinct: query.distinct, windows: windows.length > 0,
      rollup: rollup !== null, grouped, implicit: query.groupBy.length === 0,
      having: having !== null, columnTypes: layout.cols.map((c) => c.type),
      calcFoundRows: query.options.some((o) => o.toUpperCase() === "SQL_CALC_FOUND_ROWS"),
      groupBy: groupExprs, aggregates: aggs,
      recordExprs: [...fieldExprs, ...(having === null ? [] : [having]),
        ...orderKeys.flatMap((k) => (k.compiled === undefined ? [] : [k.compiled]))],
      order: orderKeys.map((k) => ({ compiled: k.field !== undefined ? fieldExprs[k.field]!
        : k.compiled!, desc: k.desc })),
      limit: limit === null ? null : () => this.limitOf(limit) })?.build ?? null;
    const shape = trace === null ? undefined : selectShape(trace, { ...query,
      from: planned.fromItems, where: planned.where }, { grouped,
      fields: fields.map((f) => f.name),
      plainFields: fields.every((f) => f.ast.kind === "column" || prunedItems.has(f.ast)),
      aggregates: aggs.map((a) => a.spec.text), windows: windows.map((w) => w.text),
      plannedBefore });
    // Left outer semi joins of this SELECT's expressions (nested SELECTs took theirs).
    const valueSemis = this.valueSemis.splice(semisBefore);
    if (shape !== undefined) {
      const semis = [...planned.semiShapes, ...valueSemis];
      if (semis.length > 0) shape.semiJoins = semis;
      if (planned.dual) shape.dualRows = 0;
      if (orderKeys.length > 0 && limit !== null) shape.topN = useTopN;
    }
    const body = async (mem: MemoryScope): Promise<Value[][]> => {
      const ctx = this.evalContext();
      const started = { at: trace?.now() ?? 0, records: trace?.records.length ?? 0 };
      const read = await from.read();
      mem.adopt(read.charged ?? 0);
      const fromEnd = trace?.records.length ?? 0;
      let rows = read.rows;
      // WHERE subqueries run as semi joins (or per row) over the FROM's rows.
      for (const step of planned.steps) rows = await step(rows, mem);
      let records: Value[][];
      let groups = 0;
      if (grouped) {
        const plan = { groupBy: groupExprs, aggregates: aggs,
          implicit: query.groupBy.length === 0, width };
        // Aggregated on KV already (pushdown.ts): the merged records.
        records = read.tail === true ? rows
          : rollup === null ? await groupRows(rows, plan, ctx, this.env.warn, mem)
            : await rollupRows(rows, plan, rollup, ctx, this.env.warn, mem);
        groups = records.length;
        if (having !== null) {
          records = await rowsHolding(having, records, ctx);
        }
      } else if (having !== null) {
        // HAVING without grouping filters the rows, as MySQL does.
        records = await rowsHolding(having, rows, ctx);
      } else {
        records = rows;
      }
      if (windows.length > 0) {
        records = await computeWindows(records, windows, ctx, this.env.warn, mem);
      }
      let entries: { out: Value[]; keys: Value[] }[] = [];
      const bounds = limit === null ? null : this.limitOf(limit);
      const kept = bounds === null ? 0n : bounds.count + bounds.offset;
      // ORDER BY … LIMIT: only the first rows are held (topn.ts).
      const topN = useTopN && kept <= BigInt(topNEntriesMax) ? new TopN<{ out: Value[];
        keys: Value[] }>(Number(kept), keyOrder(orderKeys.map((k) => k.desc), ctx,
        orderCollations), mem) : null;
      // Without ORDER BY and DISTINCT, rows past LIMIT + OFFSET are not even projected.
      const stopAt = stopEarly && bounds !== null ? kept : null;
      // The select list a batch of records at a time where it can (vec_filter.ts).
      const vec = batchProjection(fieldExprs, records, stopAt, ctx);
      let index = 0;
      for (const record of records) {
        if (stopAt !== null && BigInt(entries.length) >= stopAt) break;
        const out: Value[] = [];
        let recordCtx: EvalContext | undefined;
        const batched = vec?.row(index++);
        for (const f of fieldExprs) {
          const v = batched?.[out.length];
          // Without subqueries, no await per value.
          out.push(v !== undefined ? v : f.subs.length === 0
            ? evaluate(f.expr, recordCtx ??= withRow(ctx, record))
            : await evalCompiled(f, record, ctx));
        }
        const keys: Value[] = [];
        for (const k of orderKeys) {
          keys.push(k.field !== undefined ? out[k.field]! : await evalCompiled(k.compiled!,
            record, ctx));
        }
        // The result row and, under ORDER BY, its sort keys: the sort buffer.
        const bytes = rowBytes(out) + (keys.length > 0 ? rowBytes(keys) + entryOverheadBytes : 0);
        if (topN !== null) {
          topN.push({ out, keys }, bytes);
          continue;
        }
        mem.consume(bytes);
        entries.push({ out, keys });
      }
      if (topN !== null) entries = topN.sorted();
      else sortEntries(entries, orderKeys.map((k) => k.desc), ctx, orderCollations);
      if (query.distinct) {
        const seen = new Set<string>();
        entries = entries.filter((e) => {
          const key = rowKey(e.out, distinctCollations);
          if (seen.has(key)) return false;
          seen.add(key);
          mem.consume(keyBytes(key));
          return true;
        });
      }
      const out = applyLimit(entries.map((e) => e.out), bounds);
      if (trace !== null && shape !== undefined) {
        noteSelectRun(trace, shape, { recordsStart: started.records, recordsEnd: fromEnd,
          fromRows: rows.length, groups, outRows: out.length, timeMs: trace.now() - started.at,
          loops: 1 });
      }
      return out;
    };
    // Past the quota, a SELECT over one table or an equi-join of two reruns spilling
    // (spill_select.ts).
    const pages = from.pages;
    const spillable = pages !== undefined && planned.steps.length === 0 && !planned.dual &&
      (windows.length === 0 || windowSpillKeys(windows) !== null) && rollup === null &&
      rerunnable(query);
    // Once a run had to spill, later runs (a correlated subquery's) spill at once.
    let spillTo: SpillSpace | null = null;
    const run = async (): Promise<Value[][]> => {
      // What this run holds (join output, groups, windows, sort buffer): released at its end.
      const mem = this.memory().scope();
      const dropWarnings = spillTo === null ? this.env.warningMark?.() : undefined;
      try {
        if (spillTo === null) return await body(mem);
      } catch (error: unknown) {
        spillTo = spillable ? this.spillSpace(error) : null;
        if (spillTo === null) throw error;
        dropWarnings?.();
      } finally {
        mem.close();
      }
      const started = { at: trace?.now() ?? 0, records: trace?.records.length ?? 0 };
      const stats = spillRunStats();
      const out = await runSpilled({ pages: pages!, group: grouped ? { groupBy: groupExprs,
        aggregates: aggs, implicit: query.groupBy.length === 0, width } : null, having,
      fields: fieldExprs, orderKeys, bounds: limit === null ? null : this.limitOf(limit),
      topN: useTopN, distinct: query.distinct, ...(windows.length === 0 ? {} : { windows }) },
      { ctx: this.evalContext(), warn: this.env.warn,
        tracker: this.memory(), space: spillTo, stats });
      this.diskPeak = Math.max(this.diskPeak, stats.peakBytes);
      if (trace !== null && shape !== undefined) {
        noteSelectRun(trace, shape, { recordsStart: started.records,
          recordsEnd: trace.records.length, fromRows: stats.inputRows, groups: stats.groups,
          outRows: out.length, timeMs: trace.now() - started.at, loops: 1 });
      }
      return out;
    };
    if (shape !== undefined) shape.run = run;
    return {
      names: fields.map((f) => f.name),
      types: fieldExprs.map((e) => e.expr.type),
      origins: fields.map((f) => f.origin),
      run,
      ...(shape === undefined ? {} : { shape }),
    };
  }
}

/** LIMIT + OFFSET when both are integer literals, else null. */
function literalLimit(limit: Limit | null): bigint | null {
  if (limit === null || limit.count.kind !== "int") return null;
  const offset = limit.offset === null ? 0n : limit.offset.kind === "int"
    ? BigInt(limit.offset.text) : null;
  return offset === null ? null : BigInt(limit.count.text) + offset;
}

/** `query` with `LIMIT n` when it has no LIMIT of its own (n null: unchanged). */
function withLimit(query: Query, n: bigint | null): Query {
  if (n === null || query.limit !== null) return query;
  if (query.kind === "select" && query.options.some((o) => o.toUpperCase() ===
    "SQL_CALC_FOUND_ROWS")) return query;
  return { ...query, limit: { count: { kind: "int", text: String(n) }, offset: null } };
}

function whereConjuncts(e: AstExpr | null): AstExpr[] {
  if (e === null) return [];
  return e.kind === "binary" && e.op === "AND"
    ? [...whereConjuncts(e.left), ...whereConjuncts(e.right)] : [e];
}

function originOf(c: Col): ColumnOrigin {
  return { db: c.db, table: c.qual, orgTable: c.orgTable, orgName: c.orgName };
}

function isQuery(s: { readonly kind: string }): s is Query {
  return s.kind === "select" || s.kind === "setOp" || s.kind === "parenQuery" ||
    s.kind === "values";
}

/** Whether `query` names table `name` anywhere (a recursive CTE's self-reference). */
function refersTo(query: unknown, name: string): boolean {
  if (query === null || typeof query !== "object") return false;
  if (Array.isArray(query)) return query.some((q) => refersTo(q, name));
  const node = query as { kind?: unknown; name?: TableName };
  if (node.kind === "table" && node.name !== undefined && node.name.db === null &&
    node.name.name.toLowerCase() === name.toLowerCase()) return true;
  return Object.values(query).some((v) => refersTo(v, name));
}

/** Sorts by keys: NULL first ascending, stable. */
function sortEntries(entries: { keys: Value[] }[], desc: readonly boolean[], ctx: EvalContext,
  collations?: readonly Collation[]): void {
  if (desc.length === 0) return;
  entries.sort(keyOrder(desc, ctx, collations));
}

function applyLimit<T>(rows: T[], limit: { count: bigint; offset: bigint } | null): T[] {
  if (limit === null) return rows;
  return rows.slice(Number(limit.offset), Number(limit.offset + limit.count));
}
