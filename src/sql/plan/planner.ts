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
 * adds no rows).
 *
 * One `Planner` serves one statement: it caches table scans (a correlated subquery
 * re-reads a table once per statement, not once per outer row), derived-table results
 * and the evaluation context.
 */
import {
  type EvalContext,
  type Expr,
  type Value,
  aggregateTypes,
  coerce,
  columnRef,
  compareForSort,
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
  planAggregate,
  rollupRows,
  rowKey,
} from "./aggregate.ts";
import { type PlanTrace, type QueryShape, compoundShape, markDerived, noteSelectRun,
  selectShape } from "./explain_shape.ts";
import { type PlannedWindow, computeWindows, findWindowCall, isWindowCall, planWindowCall,
  windowType } from "./window.ts";
import {
  type Compiled,
  type PlannedQuery,
  compile,
  evalCompiled,
  holds,
  withRow,
} from "./compile.ts";
import { type FromHost, type Source, type SourceRows, planFrom } from "./from.ts";
import type { TableStats } from "../stats/mod.ts";
import { type Col, Frame, type Layout, Scope, layoutOf, noColumns } from "./scope.ts";
import { type MemoryScope, MemoryTracker, defaultMemQuotaBytes, entryOverheadBytes, keyBytes,
  rowBytes, rowsBytes } from "./memory_tracker.ts";
import { hasRowId, rowIdCol, withRowIds } from "./row_id.ts";

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
  /** `information_schema.name`'s columns and rows, or undefined when it has none. */
  virtualTable?(name: string): { readonly columns: readonly ColumnInfo[];
    readonly rows: readonly (readonly Value[])[] } | undefined;
  /** Aborted by `KILL QUERY`: reads and growing operators stop with its reason (1317). */
  readonly signal?: AbortSignal;
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
export class Planner implements FromHost {
  private readonly env: PlanEnv;
  private database: string | null;
  private readonly ctes: Map<string, CteDef>[] = [];
  private readonly scans = new Map<number, Promise<TableRows>>();
  private ctx: EvalContext | null = null;
  private viewDepth = 0;
  /** Set by EXPLAIN: SELECTs describe themselves and log their runs here. */
  trace: PlanTrace | null = null;
  /** Recursive CTE steps being planned (their derived tables rerun each iteration). */
  private recursiveSteps = 0;
  private readonly viewPath: string[] = [];
  /** The statement's memory (`memory_tracker.ts`), made on first use. */
  private tracker: MemoryTracker | null = null;

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
    this.ctx ??= this.env.evalContext();
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
        if (cte !== undefined) return this.cteSource(cte, alias);
      }
    }
    const db = name.db ?? this.database;
    if (db === null) throw mysqlError(ER.NO_DB_ERROR);
    if (db.toLowerCase() === "information_schema") return this.virtualSource(name.name, alias);
    const table = this.env.schema.table(db, name.name);
    if (table !== undefined) return this.baseSource(db, table, alias);
    const view = this.env.schema.database(db)?.views?.get(name.name.toLowerCase());
    if (view !== undefined) return this.viewSource(db, view, alias);
    throw mysqlError(ER.NO_SUCH_TABLE, [db, name.name]);
  }

  derivedSource(item: Extract<TableExpr, { kind: "derived" }>): Source {
    if (item.alias === null) throw mysqlError(ER.DERIVED_MUST_HAVE_ALIAS);
    if (item.lateral) throw mysqlError(ER.NOT_SUPPORTED_YET, ["LATERAL derived tables"]);
    const plan = this.planQuery(item.query, new Frame(null), null);
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
        const scanned = this.scans.get(table.id);
        // A table this statement scanned already is filtered, not read again.
        const got = scanned !== undefined ? await scanned
          : index === null ? await (this.env.scanRows?.(table, keys) ?? this.scanOnce(table))
            : this.env.readIndex === undefined ? await this.scanOnce(table)
              : await this.env.readIndex(table, index, keys);
        return sourceRows(got);
      },
    };
  }

  /** The table's rows, scanned once per statement. */
  private scanOnce(table: TableInfo): Promise<TableRows> {
    let scan = this.scans.get(table.id);
    if (scan === undefined) {
      // The rows stay cached for the statement: held until it ends.
      scan = this.env.scanTable(table).then((got) => {
        this.memory().consume(rowsBytes(got.rows) + got.handles.length * 16);
        return got;
      });
      this.scans.set(table.id, scan);
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

  private viewSource(db: string, view: ViewInfo, alias: string): Source {
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
      const plan = this.planQuery(statement, new Frame(null), null);
      return this.resultSource(plan, alias, view.columns, db);
    } finally {
      this.viewPath.pop();
      this.viewDepth--;
      this.database = saved.database;
      this.ctes.push(...saved.ctes);
    }
  }

  private cteSource(cte: CteDef, alias: string): Source {
    if (cte.working !== null) {
      const working = cte.working;
      const cols = working.layout.cols.map((c) => ({ ...c, qual: alias }));
      return { layout: layoutOf(cols), read: () => Promise.resolve({ rows: working.rows }) };
    }
    if (!cte.recursive || !refersTo(cte.query, cte.name)) {
      // A CTE sees the CTEs defined before it, not itself.
      const plan = this.withoutCte(cte, () => this.planQuery(cte.query, new Frame(null), null));
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
              const key = rowKey(r);
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
        const left = this.planQuery(query.left, frame, fieldTexts);
        const right = this.planQuery(query.right, frame, null);
        const planned = this.ordered(this.setOp(query.op, query.all, left, right),
          query.orderBy, query.limit, frame);
        return this.trace === null ? planned : { ...planned, shape: compoundShape(query,
          [left.shape, right.shape]) };
      }
      case "parenQuery": {
        const inner = this.planQuery(query.query, frame, fieldTexts);
        const planned = this.ordered(inner, query.orderBy, query.limit, frame);
        return this.trace === null ? planned : { ...planned, shape: compoundShape(query,
          [inner.shape]) };
      }
      case "values":
        return this.ordered(this.planValues(query.rows, frame), query.orderBy, query.limit,
          frame);
    }
  }

  private setOp(op: "UNION" | "INTERSECT" | "EXCEPT", all: boolean, left: Planned,
    right: Planned): Planned {
    if (left.names.length !== right.names.length) {
      throw mysqlError(ER.WRONG_NUMBER_OF_COLUMNS_IN_SELECT);
    }
    const types = left.types.map((t, i) => aggregateTypes([t, right.types[i]!],
      t.nullable || right.types[i]!.nullable));
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
        try {
          const l = fix(await left.run());
          mem.consume(rowsBytes(l));
          const r = fix(await right.run());
          mem.consume(rowsBytes(r));
          switch (op) {
            case "UNION":
              return all ? [...l, ...r] : distinctRows([...l, ...r], mem);
            case "INTERSECT":
            case "EXCEPT": {
              const counts = new Map<string, number>();
              for (const row of r) {
                const key = rowKey(row);
                const n = counts.get(key);
                if (n === undefined) mem.consume(keyBytes(key));
                counts.set(key, (n ?? 0) + 1);
              }
              const out: Value[][] = [];
              for (const row of all ? l : distinctRows(l, mem)) {
                const key = rowKey(row);
                const n = counts.get(key) ?? 0;
                if (op === "INTERSECT" ? n > 0 : n === 0) out.push(row);
                if (op === "INTERSECT" && all) counts.set(key, n - 1);
                if (op === "EXCEPT" && all && n > 0) {
                  out.pop();
                  counts.set(key, n - 1);
                }
              }
              return out;
            }
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
    return { ...inner, run: async () => {
      const ctx = this.evalContext();
      const rows = await inner.run();
      // The sort buffer: the rows and their keys, held while sorting.
      const mem = this.memory().scope();
      try {
        if (keys.length > 0) mem.consume(rowsBytes(rows));
        const entries: { out: Value[]; keys: Value[] }[] = [];
        for (const row of rows) {
          const k: Value[] = [];
          for (const key of keys) {
            k.push(key.field !== undefined ? row[key.field]! : await evalCompiled(key.compiled!,
              row, ctx));
          }
          if (keys.length > 0) mem.consume(rowBytes(k) + entryOverheadBytes);
          entries.push({ out: row, keys: k });
        }
        sortEntries(entries, keys.map((k) => k.desc), ctx);
        return applyLimit(entries.map((e) => e.out), lim === null ? null : this.limitOf(lim));
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
      const v = evaluate(compile(e, new Scope(noColumns, "LIMIT", new Frame(null)), this).expr,
        this.evalContext());
      const n = v !== null && (v.kind === "int" || v.kind === "uint") ? v.value : undefined;
      if (n === undefined || n < 0n) throw mysqlError(ER.WRONG_ARGUMENTS, ["LIMIT"]);
      return n;
    };
    return { count: value(limit.count), offset: limit.offset === null ? 0n : value(limit.offset) };
  }

  // ---- SELECT ------------------------------------------------------------------------------

  private planSelect(query: SelectQuery, frame: Frame,
    fieldTexts: readonly (string | undefined)[] | null): Planned {
    const plannedBefore = this.trace?.planned.length ?? 0;
    noWindows([query.where, query.groupBy, query.having]);
    const from = planFrom(query.from, query.where, frame, this, { lock: query.lock !== null });
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
    const shape = trace === null ? undefined : selectShape(trace, query, { grouped,
      fields: fields.map((f) => f.name), plainFields: fields.every((f) => f.ast.kind === "column"),
      aggregates: aggs.map((a) => a.spec.text), windows: windows.map((w) => w.text),
      plannedBefore });
    const body = async (mem: MemoryScope): Promise<Value[][]> => {
      const ctx = this.evalContext();
      const started = { at: trace?.now() ?? 0, records: trace?.records.length ?? 0 };
      const read = await from.read();
      mem.adopt(read.charged ?? 0);
      const rows = read.rows;
      const fromEnd = trace?.records.length ?? 0;
      let records: Value[][];
      let groups = 0;
      if (grouped) {
        const plan = { groupBy: groupExprs, aggregates: aggs,
          implicit: query.groupBy.length === 0, width };
        records = rollup === null ? await groupRows(rows, plan, ctx, this.env.warn, mem)
          : await rollupRows(rows, plan, rollup, ctx, this.env.warn, mem);
        groups = records.length;
        if (having !== null) {
          const kept: Value[][] = [];
          for (const r of records) if (await holds(having, r, ctx)) kept.push(r);
          records = kept;
        }
      } else if (having !== null) {
        // HAVING without grouping filters the rows, as MySQL does.
        records = [];
        for (const r of rows) if (await holds(having, r, ctx)) records.push(r);
      } else {
        records = rows;
      }
      if (windows.length > 0) {
        records = await computeWindows(records, windows, ctx, this.env.warn, mem);
      }
      let entries: { out: Value[]; keys: Value[] }[] = [];
      for (const record of records) {
        const out: Value[] = [];
        const recordCtx = withRow(ctx, record);
        for (const f of fieldExprs) {
          // Without subqueries, no await per value.
          out.push(f.subs.length === 0 ? evaluate(f.expr, recordCtx)
            : await evalCompiled(f, record, ctx));
        }
        const keys: Value[] = [];
        for (const k of orderKeys) {
          keys.push(k.field !== undefined ? out[k.field]! : await evalCompiled(k.compiled!,
            record, ctx));
        }
        // The result row and, under ORDER BY, its sort keys: the sort buffer.
        mem.consume(rowBytes(out) + (keys.length > 0 ? rowBytes(keys) + entryOverheadBytes : 0));
        entries.push({ out, keys });
      }
      sortEntries(entries, orderKeys.map((k) => k.desc), ctx);
      if (query.distinct) {
        const seen = new Set<string>();
        entries = entries.filter((e) => {
          const key = rowKey(e.out);
          if (seen.has(key)) return false;
          seen.add(key);
          mem.consume(keyBytes(key));
          return true;
        });
      }
      const out = applyLimit(entries.map((e) => e.out), limit === null ? null
        : this.limitOf(limit));
      if (trace !== null && shape !== undefined) {
        noteSelectRun(trace, shape, { recordsStart: started.records, recordsEnd: fromEnd,
          fromRows: rows.length, groups, outRows: out.length, timeMs: trace.now() - started.at,
          loops: 1 });
      }
      return out;
    };
    const run = async (): Promise<Value[][]> => {
      // What this run holds (join output, groups, windows, sort buffer): released at its end.
      const mem = this.memory().scope();
      try {
        return await body(mem);
      } finally {
        mem.close();
      }
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

function distinctRows(rows: readonly Value[][], mem: MemoryScope): Value[][] {
  const seen = new Set<string>();
  const out: Value[][] = [];
  for (const row of rows) {
    const key = rowKey(row);
    if (seen.has(key)) continue;
    seen.add(key);
    mem.consume(keyBytes(key));
    out.push(row);
  }
  return out;
}

/** Sorts by keys: NULL first ascending, stable. */
function sortEntries(entries: { keys: Value[] }[], desc: readonly boolean[], ctx: EvalContext):
  void {
  if (desc.length === 0) return;
  const warn = ctx.warn;
  entries.sort((x, y) => {
    for (let i = 0; i < desc.length; i++) {
      const a = x.keys[i]!;
      const b = y.keys[i]!;
      let order = a === null ? (b === null ? 0 : -1) : b === null ? 1
        : compareForSort(a, b, { warn }) ?? 0;
      if (desc[i]) order = -order;
      if (order !== 0) return order;
    }
    return 0;
  });
}

function applyLimit<T>(rows: T[], limit: { count: bigint; offset: bigint } | null): T[] {
  if (limit === null) return rows;
  return rows.slice(Number(limit.offset), Number(limit.offset + limit.count));
}
