/**
 * A small SQL AST for the differential fuzzer: expressions, SELECT statements and the
 * schema and data of a test case, with rendering to MySQL-dialect SQL and the rewrites the
 * minimizer needs (replace one node by a simpler one).
 *
 * Rendering parenthesizes every compound expression, so precedence never depends on the
 * server's parser. Every node carries its static type (`int`, `decimal`, `text`, `bool`),
 * which decides how its values are printed in a saved `.slt` file. Nodes are immutable.
 */

/** Static type of an expression. MySQL booleans are integers 0/1 (or NULL). */
export type SqlType = "int" | "decimal" | "text" | "bool";

/** An expression node. */
export type Expr =
  | { readonly k: "col"; readonly table: string; readonly column: string; readonly type: SqlType }
  | { readonly k: "lit"; readonly sql: string; readonly type: SqlType }
  | { readonly k: "unary"; readonly op: "NOT" | "-"; readonly arg: Expr; readonly type: SqlType }
  | {
      readonly k: "binary";
      readonly op: string;
      readonly left: Expr;
      readonly right: Expr;
      readonly type: SqlType;
    }
  | { readonly k: "is"; readonly arg: Expr; readonly what: string; readonly type: "bool" }
  | {
      readonly k: "between";
      readonly arg: Expr;
      readonly lo: Expr;
      readonly hi: Expr;
      readonly not: boolean;
      readonly type: "bool";
    }
  | {
      readonly k: "in";
      readonly arg: Expr;
      readonly list: readonly Expr[];
      readonly not: boolean;
      readonly type: "bool";
    }
  | {
      readonly k: "inSelect";
      readonly arg: Expr;
      readonly select: Select;
      readonly not: boolean;
      readonly type: "bool";
    }
  | {
      readonly k: "fn";
      readonly name: string;
      readonly args: readonly Expr[];
      readonly type: SqlType;
    }
  | {
      readonly k: "case";
      readonly when: Expr;
      readonly then: Expr;
      readonly otherwise: Expr;
      readonly type: SqlType;
    }
  | {
      readonly k: "agg";
      readonly fn: "COUNT" | "SUM" | "MIN" | "MAX" | "AVG";
      /** null: `COUNT(*)`. */
      readonly arg: Expr | null;
      readonly distinct: boolean;
      readonly type: SqlType;
    };

/** A table in FROM: the first has no join; the others join to what precedes them. */
export interface FromItem {
  readonly table: string;
  readonly join: "FIRST" | "INNER" | "LEFT" | "CROSS";
  readonly on: Expr | null;
}

/** A SELECT statement (no LIMIT: results are compared as multisets). */
export interface Select {
  readonly distinct: boolean;
  readonly items: readonly Expr[];
  readonly from: readonly FromItem[];
  readonly where: Expr | null;
  readonly groupBy: readonly Expr[];
  readonly having: Expr | null;
  readonly orderBy: readonly Expr[];
}

/** A column of a generated table. */
export interface ColumnDef {
  readonly name: string;
  readonly type: SqlType;
  /** The SQL type in CREATE TABLE. */
  readonly sqlType: string;
}

/** A generated table with its rows (each row one list of SQL literals). */
export interface TableDef {
  readonly name: string;
  readonly columns: readonly ColumnDef[];
  readonly primaryKey: string | null;
  readonly rows: readonly (readonly string[])[];
}

/** A secondary index. */
export interface IndexDef {
  readonly name: string;
  readonly table: string;
  readonly columns: readonly string[];
  readonly unique: boolean;
}

/** Schema and data of one fuzz case. */
export interface Database {
  readonly tables: readonly TableDef[];
  readonly indexes: readonly IndexDef[];
}

/** SQL text of an expression, fully parenthesized. */
export function renderExpr(e: Expr): string {
  switch (e.k) {
    case "col":
      return `${e.table}.${e.column}`;
    case "lit":
      return e.sql;
    case "unary":
      return e.op === "NOT" ? `(NOT ${renderExpr(e.arg)})` : `(- ${renderExpr(e.arg)})`;
    case "binary":
      return `(${renderExpr(e.left)} ${e.op} ${renderExpr(e.right)})`;
    case "is":
      return `(${renderExpr(e.arg)} IS ${e.what})`;
    case "between": {
      const range = `${renderExpr(e.lo)} AND ${renderExpr(e.hi)}`;
      return `(${renderExpr(e.arg)} ${e.not ? "NOT " : ""}BETWEEN ${range})`;
    }
    case "in": {
      const list = e.list.map(renderExpr).join(", ");
      return `(${renderExpr(e.arg)} ${e.not ? "NOT " : ""}IN (${list}))`;
    }
    case "inSelect":
      return `(${renderExpr(e.arg)} ${e.not ? "NOT " : ""}IN (${renderSelect(e.select)}))`;
    case "fn":
      if (e.name === "CAST_SIGNED") return `CAST(${renderExpr(e.args[0] as Expr)} AS SIGNED)`;
      if (e.name === "CAST_CHAR") return `CAST(${renderExpr(e.args[0] as Expr)} AS CHAR)`;
      return `${e.name}(${e.args.map(renderExpr).join(", ")})`;
    case "case":
      return (
        `(CASE WHEN ${renderExpr(e.when)} THEN ${renderExpr(e.then)} ` +
        `ELSE ${renderExpr(e.otherwise)} END)`
      );
    case "agg":
      if (e.arg === null) return "COUNT(*)";
      return `${e.fn}(${e.distinct ? "DISTINCT " : ""}${renderExpr(e.arg)})`;
  }
}

/** SQL text of a SELECT. */
export function renderSelect(s: Select): string {
  const items = s.items.map(renderExpr).join(", ");
  return `SELECT ${s.distinct ? "DISTINCT " : ""}${items} ${renderSelectTail(s)}`;
}

/** The SELECT from its FROM clause on: `FROM … [WHERE …] [GROUP BY …] …`. */
export function renderSelectTail(s: Select): string {
  const parts = [`FROM ${renderFrom(s.from)}`];
  if (s.where !== null) parts.push(`WHERE ${renderExpr(s.where)}`);
  if (s.groupBy.length > 0) parts.push(`GROUP BY ${s.groupBy.map(renderExpr).join(", ")}`);
  if (s.having !== null) parts.push(`HAVING ${renderExpr(s.having)}`);
  if (s.orderBy.length > 0) parts.push(`ORDER BY ${s.orderBy.map(renderExpr).join(", ")}`);
  return parts.join(" ");
}

function renderFrom(from: readonly FromItem[]): string {
  return from
    .map((f) => {
      switch (f.join) {
        case "FIRST":
          return f.table;
        case "CROSS":
          return `CROSS JOIN ${f.table}`;
        case "INNER":
        case "LEFT":
          return `${f.join} JOIN ${f.table} ON ${f.on === null ? "1" : renderExpr(f.on)}`;
      }
    })
    .join(" ");
}

/** The statements that create and fill a database, in order. */
export function renderDatabase(db: Database): string[] {
  const out: string[] = [];
  for (const t of db.tables) {
    const cols = t.columns.map((c) => `${c.name} ${c.sqlType}`);
    if (t.primaryKey !== null) cols.push(`PRIMARY KEY (${t.primaryKey})`);
    out.push(`CREATE TABLE ${t.name} (${cols.join(", ")})`);
  }
  for (const i of db.indexes) {
    out.push(
      `CREATE ${i.unique ? "UNIQUE " : ""}INDEX ${i.name} ON ${i.table} (${i.columns.join(", ")})`,
    );
  }
  for (const t of db.tables) {
    for (const row of t.rows) out.push(`INSERT INTO ${t.name} VALUES (${row.join(", ")})`);
  }
  return out;
}

/** The direct sub-expressions of a node (not those inside a subquery). */
export function childrenOf(e: Expr): Expr[] {
  switch (e.k) {
    case "col":
    case "lit":
      return [];
    case "unary":
      return [e.arg];
    case "binary":
      return [e.left, e.right];
    case "is":
      return [e.arg];
    case "between":
      return [e.arg, e.lo, e.hi];
    case "in":
      return [e.arg, ...e.list];
    case "inSelect":
      return [e.arg];
    case "fn":
      return [...e.args];
    case "case":
      return [e.when, e.then, e.otherwise];
    case "agg":
      return e.arg === null ? [] : [e.arg];
  }
}

/** A copy of `e` with its direct children replaced (same order as `childrenOf`). */
export function withChildren(e: Expr, c: readonly Expr[]): Expr {
  const at = (i: number): Expr => c[i] as Expr;
  switch (e.k) {
    case "col":
    case "lit":
      return e;
    case "unary":
      return { ...e, arg: at(0) };
    case "binary":
      return { ...e, left: at(0), right: at(1) };
    case "is":
      return { ...e, arg: at(0) };
    case "between":
      return { ...e, arg: at(0), lo: at(1), hi: at(2) };
    case "in":
      return { ...e, arg: at(0), list: c.slice(1) };
    case "inSelect":
      return { ...e, arg: at(0) };
    case "fn":
      return { ...e, args: [...c] };
    case "case":
      return { ...e, when: at(0), then: at(1), otherwise: at(2) };
    case "agg":
      return e.arg === null ? e : { ...e, arg: at(0) };
  }
}

/**
 * Every expression obtained by replacing one node of `e` with something simpler: one of
 * its children of a compatible type, or a literal. Smaller candidates come first.
 */
export function simplifications(e: Expr): Expr[] {
  const out: Expr[] = [];
  if (e.k !== "lit" && e.k !== "col") {
    for (const child of childrenOf(e)) {
      if (child.k !== "agg" && compatible(child.type, e.type)) out.push(child);
    }
    out.push(literalOf(e.type));
  }
  if (e.k === "in" && e.list.length > 1) {
    for (let i = 0; i < e.list.length; i++) {
      out.push({ ...e, list: e.list.filter((_, j) => j !== i) });
    }
  }
  const children = childrenOf(e);
  children.forEach((child, i) => {
    for (const simpler of simplifications(child)) {
      const next = [...children];
      next[i] = simpler;
      out.push(withChildren(e, next));
    }
  });
  return out;
}

function compatible(child: SqlType, parent: SqlType): boolean {
  if (parent === "bool") return child === "bool" || child === "int";
  return true;
}

function literalOf(type: SqlType): Expr {
  switch (type) {
    case "bool":
      return { k: "lit", sql: "1", type: "bool" };
    case "int":
      return { k: "lit", sql: "1", type: "int" };
    case "decimal":
      return { k: "lit", sql: "1.5", type: "decimal" };
    case "text":
      return { k: "lit", sql: "'a'", type: "text" };
  }
}

/** Names of the tables an expression's columns come from (not inside subqueries). */
export function tablesOf(e: Expr, out: Set<string> = new Set()): Set<string> {
  if (e.k === "col") out.add(e.table);
  for (const c of childrenOf(e)) tablesOf(c, out);
  return out;
}

/** The sqllogictest type letter for a result column of this type. */
export function typeLetter(type: SqlType): string {
  switch (type) {
    case "int":
    case "bool":
      return "I";
    case "decimal":
      return "R";
    case "text":
      return "T";
  }
}
