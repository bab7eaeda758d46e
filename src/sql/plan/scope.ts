/**
 * Row layouts and name resolution of the query engine.
 *
 * Every operator produces rows as arrays of values; its `Layout` names each position
 * (the table alias that qualifies it, the column name, its type) and says which columns
 * `*` expands to and in which order. Resolution follows MySQL: an unqualified name must
 * match exactly one visible column (1052 when several, 1054 when none), `t.c` matches the
 * columns of alias `t`, and a column merged away by `USING` / `NATURAL` is reachable only
 * qualified. A `Scope` is a layout in a clause, chained to the scope of the enclosing
 * query for correlated subqueries: a name found only outside becomes a `Cell` — a
 * constant node whose value the executor sets from the outer row before each run of the
 * subquery (the evaluator stays pure and synchronous; it only reads the constant).
 */
import { type Expr, type FieldType, type Value, columnRef } from "../../expr/mod.ts";
import { ER, mysqlError } from "../mysql_errors.ts";

/** One position of a row. */
export interface Col {
  /** The alias that qualifies it (table alias, derived table or view name); "" for none. */
  readonly qual: string;
  /** The database of the base table or view it comes from, or null. */
  readonly db: string | null;
  readonly name: string;
  readonly type: FieldType;
  /** The base table's name and the column's name in it, for result metadata. */
  readonly orgTable: string;
  readonly orgName: string;
  /** Merged away by USING / NATURAL: reachable only with a qualifier. */
  readonly hidden: boolean;
  /** A column `*` and `t.*` leave out, reachable only by name (`_tidb_rowid`, row_id.ts). */
  readonly implicit?: boolean;
}

/** The columns of an operator's rows and the order `*` lists them in. */
export interface Layout {
  readonly cols: readonly Col[];
  /** Positions `*` expands to, in order. */
  readonly star: readonly number[];
}

/** A constant node whose value is set before each evaluation (outer values, subqueries). */
export interface Cell {
  readonly kind: "constant";
  value: Value;
  readonly type: FieldType;
}

export function newCell(type: FieldType): Cell {
  return { kind: "constant", value: null, type };
}

/** A correlation of a subquery: before a run, `cell` gets `outer` evaluated on the outer row. */
export interface Correlation {
  readonly cell: Cell;
  readonly outer: Expr;
}

const same = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

/**
 * The position `name` (qualified by `qual` when not null) names in `layout`, undefined
 * when none; throws 1052 when an unqualified name matches several visible columns.
 */
export function findColumn(layout: Layout, name: string, qual: string | null, clause: string):
  number | undefined {
  let found: number | undefined;
  layout.cols.forEach((col, i) => {
    if (!same(col.name, name)) return;
    if (qual === null ? col.hidden : !same(col.qual, qual)) return;
    if (found !== undefined) {
      throw mysqlError(ER.NON_UNIQ_ERROR, [qual === null ? name : `${qual}.${name}`, clause]);
    }
    found = i;
  });
  return found;
}

/**
 * One query level's link to the query it is nested in: the scope of the clause holding
 * the subquery (null at the top and for derived tables), and the correlations created
 * while resolving the level's names there.
 */
export class Frame {
  readonly outer: Scope | null;
  readonly correlations: Correlation[] = [];

  constructor(outer: Scope | null) {
    this.outer = outer;
  }
}

/** Name resolution for one clause; see the file comment. */
export class Scope {
  readonly layout: Layout;
  readonly clause: string;
  readonly frame: Frame;
  /** Positions of `layout` resolved since the last `track()`, for join planning. */
  private tracked: Set<number> | null = null;
  /** Extra resolution tried before the layout (aggregate slots, select aliases). */
  private readonly extra: ((name: string, qual: string | null) => Expr | undefined) | null;
  /** Resolution tried after the layout and before the outer query (select aliases). */
  private readonly fallback: ((name: string, qual: string | null) => Expr | undefined) | null;

  constructor(layout: Layout, clause: string, frame: Frame, options: {
    readonly extra?: (name: string, qual: string | null) => Expr | undefined;
    readonly fallback?: (name: string, qual: string | null) => Expr | undefined;
  } = {}) {
    this.layout = layout;
    this.clause = clause;
    this.frame = frame;
    this.extra = options.extra ?? null;
    this.fallback = options.fallback ?? null;
  }

  /** Starts recording which positions resolve; returns the set being filled. */
  track(): Set<number> {
    this.tracked = new Set();
    return this.tracked;
  }

  stopTracking(): void {
    this.tracked = null;
  }

  /** Whether alias `qual` names a source of database `db` here or in an enclosing query. */
  knowsTable(db: string, qual: string): boolean {
    const here = this.layout.cols.some((c) => c.db !== null && same(c.db, db) &&
      same(c.qual, qual));
    return here || (this.frame.outer?.knowsTable(db, qual) ?? false);
  }

  /** The node for a column reference, or undefined when no scope in the chain has it. */
  resolve(name: string, qual: string | null): Expr | undefined {
    const special = this.extra?.(name, qual);
    if (special !== undefined) return special;
    const index = findColumn(this.layout, name, qual, this.clause);
    if (index !== undefined) {
      this.tracked?.add(index);
      const col = this.layout.cols[index]!;
      return columnRef(index, col.name, col.type);
    }
    const late = this.fallback?.(name, qual);
    if (late !== undefined) return late;
    const outerScope = this.frame.outer;
    if (outerScope === null) return undefined;
    const outer = outerScope.resolve(name, qual);
    if (outer === undefined) return undefined;
    const cell = newCell(outer.type);
    this.frame.correlations.push({ cell, outer });
    return cell;
  }
}

/** A layout of `cols`, all in `*`. */
export function layoutOf(cols: readonly Col[]): Layout {
  return { cols, star: cols.map((_, i) => i) };
}

/** The empty layout of a SELECT without FROM (one row, no columns). */
export const noColumns: Layout = { cols: [], star: [] };
