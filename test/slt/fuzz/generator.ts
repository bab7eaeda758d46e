/**
 * Seeded random generation of fuzz cases: small tables (a few typed columns, an optional
 * primary key, secondary indexes, a dozen rows with NULLs and duplicates), boolean
 * predicates and SELECTs with joins, WHERE, GROUP BY, HAVING and ORDER BY.
 *
 * Everything is drawn from one `Prng`, so a seed reproduces its case exactly. Values stay
 * small and expressions shallow so that queries rarely hit overflow errors; text values
 * use mixed case and trailing spaces on purpose (the default collation,
 * utf8mb4_general_ci, makes them compare equal), and the oracles normalize for that.
 */
import type { Prng } from "../../../src/base/mod.ts";
import type {
  ColumnDef,
  Database,
  Expr,
  FromItem,
  IndexDef,
  Select,
  SqlType,
  TableDef,
} from "./sql_ast.ts";

const columnTypes: readonly { type: SqlType; sqlType: string }[] = [
  { type: "int", sqlType: "INT" },
  { type: "int", sqlType: "BIGINT" },
  { type: "decimal", sqlType: "DECIMAL(6,2)" },
  { type: "text", sqlType: "VARCHAR(10)" },
];

const textValues = ["'a'", "'A'", "'b'", "'ab'", "'aB '", "''", "'1'", "'01'", "'-2.5'", "'z'"];

/** A random literal of a type. */
function literal(prng: Prng, type: SqlType): string {
  switch (type) {
    case "int":
      return prng.nextBool(0.1)
        ? prng.pick(["2147483647", "-2147483648", "0"])
        : String(prng.nextRange(-5, 12));
    case "decimal":
      return `${prng.nextRange(-9, 20)}.${prng.pick(["0", "5", "25", "75"])}`;
    case "text":
      return prng.pick(textValues);
    case "bool":
      return prng.pick(["TRUE", "FALSE"]);
  }
}

/** A random schema and data set: 1 to 3 tables. */
export function generateDatabase(prng: Prng): Database {
  const tables: TableDef[] = [];
  const indexes: IndexDef[] = [];
  const tableCount = prng.nextRange(1, 3);
  for (let t = 0; t < tableCount; t++) {
    const columns: ColumnDef[] = [];
    const columnCount = prng.nextRange(2, 4);
    for (let c = 0; c < columnCount; c++) {
      const { type, sqlType } = prng.pick(columnTypes);
      columns.push({ name: `c${c}`, type, sqlType });
    }
    const intColumns = columns.filter((c) => c.type === "int");
    const primaryKey =
      intColumns.length > 0 && prng.nextBool(0.4) ? (intColumns[0] as ColumnDef).name : null;
    const rowCount = prng.nextRange(0, 12);
    const rows: string[][] = [];
    const usedKeys = new Set<string>();
    for (let r = 0; r < rowCount; r++) {
      const row = columns.map((col) => {
        if (col.name === primaryKey) {
          let key = String(prng.nextRange(-5, 40));
          while (usedKeys.has(key)) key = String(Number(key) + 1);
          usedKeys.add(key);
          return key;
        }
        return prng.nextBool(0.2) ? "NULL" : literal(prng, col.type);
      });
      rows.push(row);
    }
    const name = `t${t}`;
    tables.push({ name, columns, primaryKey, rows });
    const indexCount = prng.nextRange(0, 2);
    for (let i = 0; i < indexCount; i++) {
      const cols = prng.shuffle(columns.map((c) => c.name)).slice(0, prng.nextRange(1, 2));
      indexes.push({ name: `i${t}_${i}`, table: name, columns: cols, unique: false });
    }
  }
  return { tables, indexes };
}

/** Columns visible in a FROM list. */
type Scope = readonly { readonly table: string; readonly column: ColumnDef }[];

function scopeOf(db: Database, from: readonly FromItem[]): Scope {
  return from.flatMap((f) => {
    const t = db.tables.find((x) => x.name === f.table);
    return (t?.columns ?? []).map((column) => ({ table: f.table, column }));
  });
}

/** Options of expression generation. */
interface ExprContext {
  readonly prng: Prng;
  readonly db: Database;
  readonly scope: Scope;
  /** Allow `x IN (SELECT …)` subqueries. */
  readonly subqueries: boolean;
}

function column(ctx: ExprContext, type: SqlType | null): Expr | null {
  const candidates = ctx.scope.filter((s) => type === null || s.column.type === type);
  if (candidates.length === 0) return null;
  const s = ctx.prng.pick(candidates);
  return { k: "col", table: s.table, column: s.column.name, type: s.column.type };
}

/** A random value expression of `type` (never `bool`), at most `depth` deep. */
function valueExpr(ctx: ExprContext, type: SqlType, depth: number): Expr {
  const { prng } = ctx;
  if (depth <= 0 || prng.nextBool(0.35)) {
    const col = prng.nextBool(0.8) ? column(ctx, type) : null;
    return col ?? { k: "lit", sql: prng.nextBool(0.1) ? "NULL" : literal(prng, type), type };
  }
  const d = depth - 1;
  switch (type) {
    case "int":
    case "bool":
      switch (prng.nextInt(7)) {
        case 0:
          return {
            k: "binary",
            op: prng.pick(["+", "-", "*"]),
            left: valueExpr(ctx, "int", d),
            right: valueExpr(ctx, "int", d),
            type: "int",
          };
        case 1:
          return { k: "unary", op: "-", arg: valueExpr(ctx, "int", d), type: "int" };
        case 2:
          return {
            k: "fn",
            name: prng.pick(["ABS", "SIGN"]),
            args: [valueExpr(ctx, "int", d)],
            type: "int",
          };
        case 3:
          return {
            k: "fn",
            name: prng.pick(["COALESCE", "IFNULL"]),
            args: [valueExpr(ctx, "int", d), valueExpr(ctx, "int", d)],
            type: "int",
          };
        case 4:
          return { k: "fn", name: "LENGTH", args: [valueExpr(ctx, "text", d)], type: "int" };
        case 5:
          return {
            k: "case",
            when: predicate(ctx, d),
            then: valueExpr(ctx, "int", d),
            otherwise: valueExpr(ctx, "int", d),
            type: "int",
          };
        default:
          return {
            k: "binary",
            op: prng.pick(["DIV", "%"]),
            left: valueExpr(ctx, "int", d),
            right: valueExpr(ctx, "int", d),
            type: "int",
          };
      }
    case "decimal":
      switch (prng.nextInt(3)) {
        case 0:
          return {
            k: "binary",
            op: prng.pick(["+", "-"]),
            left: valueExpr(ctx, "decimal", d),
            right: valueExpr(ctx, prng.pick(["int", "decimal"]), d),
            type: "decimal",
          };
        case 1:
          return {
            k: "binary",
            op: "/",
            left: valueExpr(ctx, "int", d),
            right: valueExpr(ctx, "int", d),
            type: "decimal",
          };
        default:
          return {
            k: "fn",
            name: "ROUND",
            args: [
              valueExpr(ctx, "decimal", d),
              { k: "lit", sql: String(prng.nextRange(0, 2)), type: "int" },
            ],
            type: "decimal",
          };
      }
    case "text":
      switch (prng.nextInt(4)) {
        case 0:
          return {
            k: "fn",
            name: "CONCAT",
            args: [valueExpr(ctx, "text", d), valueExpr(ctx, "text", d)],
            type: "text",
          };
        case 1:
          return {
            k: "fn",
            name: prng.pick(["UPPER", "LOWER", "TRIM"]),
            args: [valueExpr(ctx, "text", d)],
            type: "text",
          };
        case 2:
          return {
            k: "fn",
            name: "COALESCE",
            args: [valueExpr(ctx, "text", d), valueExpr(ctx, "text", d)],
            type: "text",
          };
        default:
          return { k: "fn", name: "CAST_CHAR", args: [valueExpr(ctx, "int", d)], type: "text" };
      }
  }
}

/** A value type, usually one that a column in scope has (so leaves can be columns). */
function anyValueType(ctx: ExprContext): SqlType {
  if (ctx.scope.length > 0 && ctx.prng.nextBool(0.85)) return ctx.prng.pick(ctx.scope).column.type;
  return ctx.prng.pick(["int", "int", "decimal", "text"]);
}

/** A random boolean predicate over the scope, at most `depth` deep. */
export function predicate(ctx: ExprContext, depth: number): Expr {
  const { prng } = ctx;
  const d = Math.max(0, depth - 1);
  const choice = depth <= 0 ? prng.nextInt(3) : prng.nextInt(10);
  switch (choice) {
    case 0:
    case 1: {
      // Mostly same-typed comparisons; sometimes mixed, to exercise implicit conversion.
      const lt = anyValueType(ctx);
      const rt = prng.nextBool(0.8) ? lt : anyValueType(ctx);
      const op = prng.pick(["=", "<>", "<", "<=", ">", ">=", "<=>"]);
      return {
        k: "binary",
        op,
        left: valueExpr(ctx, lt, d),
        right: valueExpr(ctx, rt, d),
        type: "bool",
      };
    }
    case 2:
      return {
        k: "is",
        arg: valueExpr(ctx, anyValueType(ctx), d),
        what: prng.pick(["NULL", "NOT NULL"]),
        type: "bool",
      };
    case 3:
    case 4:
      return {
        k: "binary",
        op: prng.pick(["AND", "OR", "XOR"]),
        left: predicate(ctx, d),
        right: predicate(ctx, d),
        type: "bool",
      };
    case 5:
      return { k: "unary", op: "NOT", arg: predicate(ctx, d), type: "bool" };
    case 6: {
      const t = anyValueType(ctx);
      return {
        k: "between",
        arg: valueExpr(ctx, t, d),
        lo: valueExpr(ctx, t, d),
        hi: valueExpr(ctx, t, d),
        not: prng.nextBool(0.3),
        type: "bool",
      };
    }
    case 7: {
      const t = anyValueType(ctx);
      const list = Array.from({ length: prng.nextRange(1, 4) }, () => valueExpr(ctx, t, 0));
      return { k: "in", arg: valueExpr(ctx, t, d), list, not: prng.nextBool(0.3), type: "bool" };
    }
    case 8:
      if (ctx.subqueries) return inSubquery(ctx, d);
      return {
        k: "is",
        arg: predicate(ctx, d),
        what: prng.pick(["TRUE", "FALSE", "NOT TRUE", "UNKNOWN"]),
        type: "bool",
      };
    default:
      return {
        k: "binary",
        op: prng.pick(["LIKE", "NOT LIKE"]),
        left: valueExpr(ctx, "text", d),
        right: { k: "lit", sql: prng.pick(["'a%'", "'%b'", "'_'", "'%'", "'A_'"]), type: "text" },
        type: "bool",
      };
  }
}

/** `x IN (SELECT col FROM t WHERE p)`, uncorrelated, over one table of the database. */
function inSubquery(ctx: ExprContext, depth: number): Expr {
  const { prng, db } = ctx;
  const table = prng.pick(db.tables);
  const inner: ExprContext = {
    ...ctx,
    scope: scopeOf(db, [{ table: table.name, join: "FIRST", on: null }]),
    subqueries: false,
  };
  const col = prng.pick(table.columns);
  const item: Expr = { k: "col", table: table.name, column: col.name, type: col.type };
  const select: Select = {
    distinct: false,
    items: [item],
    from: [{ table: table.name, join: "FIRST", on: null }],
    where: prng.nextBool(0.6) ? predicate(inner, depth) : null,
    groupBy: [],
    having: null,
    orderBy: [],
  };
  // The outer value must not come from the same table name (it would be shadowed).
  const outerScope = ctx.scope.filter((s) => s.table !== table.name);
  const outer: ExprContext = { ...ctx, scope: outerScope };
  return {
    k: "inSelect",
    arg: valueExpr(outer, col.type, 0),
    select,
    not: prng.nextBool(0.3),
    type: "bool",
  };
}

/** A random FROM list: one table, or a join of two or three. */
export function generateFrom(prng: Prng, db: Database): FromItem[] {
  const names = prng.shuffle(db.tables.map((t) => t.name));
  const count = prng.nextRange(1, Math.min(3, names.length));
  const from: FromItem[] = [{ table: names[0] as string, join: "FIRST", on: null }];
  for (let i = 1; i < count; i++) {
    const join = prng.pick(["INNER", "LEFT", "CROSS"] as const);
    const next: FromItem = { table: names[i] as string, join, on: null };
    if (join === "CROSS") {
      from.push(next);
      continue;
    }
    const ctx: ExprContext = { prng, db, scope: scopeOf(db, [...from, next]), subqueries: false };
    from.push({ ...next, on: predicate(ctx, 1) });
  }
  return from;
}

/** What a generated query is for. */
export interface QueryShape {
  readonly from: readonly FromItem[];
  /** A predicate for the oracles to partition on. */
  readonly predicate: Expr;
  /** A plain SELECT (items, maybe WHERE/ORDER BY, no aggregates). */
  readonly plain: Select;
  /** A grouped SELECT (GROUP BY columns, aggregates, maybe HAVING). */
  readonly grouped: Select;
}

/** Generates a FROM list, a predicate and two SELECT shapes over it. */
export function generateQuery(prng: Prng, db: Database): QueryShape {
  const from = generateFrom(prng, db);
  const scope = scopeOf(db, from);
  const ctx: ExprContext = { prng, db, scope, subqueries: prng.nextBool(0.3) };
  const items = Array.from({ length: prng.nextRange(1, 3) }, () =>
    valueExpr(ctx, anyValueType(ctx), 1),
  );
  const plain: Select = {
    distinct: prng.nextBool(0.2),
    items,
    from,
    where: prng.nextBool(0.3) ? predicate(ctx, 2) : null,
    groupBy: [],
    having: null,
    orderBy: prng.nextBool(0.3) ? [items[0] as Expr] : [],
  };
  const groupCols = prng.shuffle([...scope]).slice(0, prng.nextRange(1, 2));
  const groupBy: Expr[] = groupCols.map((s) => ({
    k: "col",
    table: s.table,
    column: s.column.name,
    type: s.column.type,
  }));
  const aggregates: Expr[] = Array.from({ length: prng.nextRange(1, 2) }, () => aggregate(ctx));
  const grouped: Select = {
    distinct: prng.nextBool(0.2),
    items: [...groupBy, ...aggregates],
    from,
    where: prng.nextBool(0.3) ? predicate(ctx, 2) : null,
    groupBy,
    having: prng.nextBool(0.3)
      ? {
          k: "binary",
          op: prng.pick(["<", ">", "=", "<>"]),
          left: aggregate(ctx),
          right: { k: "lit", sql: String(prng.nextRange(0, 5)), type: "int" },
          type: "bool",
        }
      : null,
    orderBy: [],
  };
  return { from, predicate: predicate(ctx, prng.nextRange(1, 3)), plain, grouped };
}

function aggregate(ctx: ExprContext): Expr {
  const { prng } = ctx;
  const fn = prng.pick(["COUNT", "COUNT", "SUM", "MIN", "MAX", "AVG"] as const);
  if (fn === "COUNT" && prng.nextBool(0.5))
    return { k: "agg", fn, arg: null, distinct: false, type: "int" };
  // Numeric arguments only: MIN/MAX of text would pick an arbitrary one of equal values.
  const numeric = ctx.scope.filter((s) => s.column.type !== "text");
  const argType: SqlType = numeric.length > 0 ? prng.pick(numeric).column.type : "int";
  const arg = valueExpr(ctx, argType, prng.nextBool(0.5) ? 0 : 1);
  const type: SqlType = fn === "COUNT" ? "int" : fn === "AVG" ? "decimal" : argType;
  return { k: "agg", fn, arg, distinct: prng.nextBool(0.2), type };
}

export { scopeOf };
export type { ExprContext, Scope };
