/**
 * Outer-join simplification (`optimizer_switch` flag `outer_join_simplification`): a LEFT
 * JOIN (or a RIGHT JOIN without USING / NATURAL) whose inner side has a column that a
 * WHERE conjunct rejects when it is NULL is an inner join — the null-extended rows it
 * would add are filtered away by WHERE anyway — so its ON conjuncts join the FROM's join
 * group, where they can pick point gets, index ranges and the join order (TiDB's
 * outer-join elimination in rule_predicate_push_down). The FROM's AST is rewritten before
 * planning; EXPLAIN then shows an inner join.
 *
 * A conjunct rejects NULL of column c when it is a comparison (not `<=>`), LIKE, IN list,
 * BETWEEN, `IS NOT NULL`, `IS TRUE` / `IS FALSE`, or NOT of a comparison, whose operand
 * reaches c through arithmetic only (NULL in, NULL out). A column is placed on a side by
 * its qualifier, or, unqualified, when exactly one base table of the FROM has it (a
 * derived table, view or CTE anywhere in the FROM makes unqualified names unplaced).
 */
import type { Expr as AstExpr, TableExpr, TableName } from "../parser/ast.ts";

type ColumnRef = Extract<AstExpr, { kind: "column" }>;

/** The columns of a base table by name, or undefined when it is not one (view, CTE …). */
export type BaseColumns = (name: TableName) => readonly string[] | undefined;

const comparisons = new Set(["=", "<>", "!=", "<", "<=", ">", ">="]);
const arithmetic = new Set(["+", "-", "*", "/", "DIV", "%", "MOD"]);

function conjunctsOf(e: AstExpr | null): AstExpr[] {
  if (e === null) return [];
  return e.kind === "binary" && e.op === "AND" ? [...conjunctsOf(e.left), ...conjunctsOf(e.right)]
    : [e];
}

/** Columns whose NULL makes `e` NULL. */
function strictRefs(e: AstExpr): ColumnRef[] {
  if (e.kind === "column") return [e];
  if (e.kind === "binary" && arithmetic.has(e.op.toUpperCase())) {
    return [...strictRefs(e.left), ...strictRefs(e.right)];
  }
  if (e.kind === "unary" && e.op === "-") return strictRefs(e.operand);
  return [];
}

/** Columns whose NULL makes conjunct `c` not TRUE. */
function rejectedRefs(c: AstExpr): ColumnRef[] {
  switch (c.kind) {
    case "binary":
      if (comparisons.has(c.op)) return [...strictRefs(c.left), ...strictRefs(c.right)];
      if (c.op === "AND") return [...rejectedRefs(c.left), ...rejectedRefs(c.right)];
      return [];
    case "unary":
      return (c.op === "NOT" || c.op === "!") && c.operand.kind === "binary" &&
        comparisons.has(c.operand.op) ? rejectedRefs(c.operand) : [];
    case "like":
    case "in":
    case "between":
      return strictRefs(c.operand);
    case "is":
      return (c.value === "NULL" && c.not) || (!c.not && (c.value === "TRUE" ||
        c.value === "FALSE")) ? strictRefs(c.operand) : [];
    default:
      return [];
  }
}

interface Named {
  readonly alias: string;
  readonly columns: readonly string[] | undefined;
}

/** The sources of a FROM subtree with their aliases (lower case) and known columns. */
function sourcesOf(item: TableExpr, columnsOf: BaseColumns): Named[] {
  switch (item.kind) {
    case "table":
      return [{ alias: (item.alias ?? item.name.name).toLowerCase(),
        columns: columnsOf(item.name)?.map((c) => c.toLowerCase()) }];
    case "derived":
      return [{ alias: (item.alias ?? "").toLowerCase(), columns: undefined }];
    case "tableList":
      return item.items.flatMap((i) => sourcesOf(i, columnsOf));
    case "join":
      return [...sourcesOf(item.left, columnsOf), ...sourcesOf(item.right, columnsOf)];
  }
}

/** `items` with the outer joins WHERE makes inner rewritten as inner joins. */
export function simplifyOuterJoins(items: readonly TableExpr[], where: AstExpr | null,
  columnsOf: BaseColumns): readonly TableExpr[] {
  if (!items.some(hasOuterJoin)) return items;
  const refs = conjunctsOf(where).flatMap(rejectedRefs);
  if (refs.length === 0) return items;
  const all = items.flatMap((i) => sourcesOf(i, columnsOf));
  const known = all.every((s) => s.columns !== undefined);
  // The alias each rejected column belongs to, when it can be placed.
  const owners = new Set<string>();
  for (const ref of refs) {
    if (ref.table !== null) {
      owners.add(ref.table.toLowerCase());
      continue;
    }
    if (!known) continue;
    const name = ref.column.toLowerCase();
    const having = all.filter((s) => s.columns!.includes(name));
    if (having.length === 1) owners.add(having[0]!.alias);
  }
  const rejects = (side: TableExpr): boolean =>
    sourcesOf(side, columnsOf).some((s) => owners.has(s.alias));
  const visit = (item: TableExpr): TableExpr => {
    switch (item.kind) {
      case "table":
      case "derived":
        return item;
      case "tableList":
        return { ...item, items: item.items.map(visit) };
      case "join": {
        const left = visit(item.left);
        const right = visit(item.right);
        const inner = item.type === "LEFT" ? item.right : item.type === "RIGHT" &&
          !item.natural && item.using === null ? item.left : null;
        const type = inner !== null && rejects(inner) ? "INNER" : item.type;
        return { ...item, type, left, right };
      }
    }
  };
  return items.map(visit);
}

function hasOuterJoin(item: TableExpr): boolean {
  switch (item.kind) {
    case "table":
    case "derived":
      return false;
    case "tableList":
      return item.items.some(hasOuterJoin);
    case "join":
      return item.type === "LEFT" || item.type === "RIGHT" || hasOuterJoin(item.left) ||
        hasOuterJoin(item.right);
  }
}
