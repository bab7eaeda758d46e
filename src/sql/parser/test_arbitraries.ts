/**
 * fast-check generators of syntax trees in the parser's canonical form (the shapes `parse`
 * produces), for the round-trip property: tree → formatStatement → parse → same tree.
 *
 * Names come from a pool that includes reserved words and characters that need backticks,
 * so quoting is exercised. A few shapes the printer cannot express unambiguously are left
 * out on purpose: INTERVAL values that start with a bracket, and window frame bounds other
 * than integers (MySQL's own grammar is ambiguous there).
 */
import fc from "fast-check";
import type {
  BinaryOp,
  DataType,
  Expr,
  OrderItem,
  Query,
  SelectQuery,
  TableExpr,
  TimeUnit,
  UnaryOp,
  WindowSpec,
} from "./ast.ts";

const names = ["a", "b", "t1", "col_2", "select", "order", "key", "a b", "x`y", "Élan", "date"];
const ident = fc.constantFrom(...names);
const plainName = fc.constantFrom("a", "b", "c1", "w", "x_y");

const binaryOps: BinaryOp[] = [
  "OR", "XOR", "AND", "=", "<=>", ">=", ">", "<=", "<", "<>", "|", "&", "<<", ">>", "+", "-",
  "*", "/", "DIV", "%", "^",
];
const unaryOps: UnaryOp[] = ["-", "+", "~", "!", "NOT", "BINARY"];
const units: TimeUnit[] = ["SECOND", "DAY", "HOUR_MINUTE", "YEAR_MONTH", "MICROSECOND"];

const dataType: fc.Arbitrary<DataType> = fc.oneof(
  fc.constantFrom("SIGNED", "UNSIGNED", "DATE", "JSON", "DOUBLE").map((name) => ({
    name, length: null, scale: null, unsigned: false, zerofill: false, binary: false,
    charset: null, collate: null, values: [],
  })),
  fc.record({
    name: fc.constantFrom("CHAR", "BINARY", "DATETIME", "DECIMAL"),
    length: fc.option(fc.integer({ min: 0, max: 60 })),
  }).map(({ name, length }) => ({
    name, length, scale: name === "DECIMAL" && length !== null ? 2 : null, unsigned: false,
    zerofill: false, binary: false, charset: name === "CHAR" ? "utf8mb4" : null,
    collate: null, values: [],
  })),
);

const leaf: fc.Arbitrary<Expr> = fc.oneof(
  fc.constant<Expr>({ kind: "null" }),
  fc.boolean().map((value): Expr => ({ kind: "bool", value })),
  fc.nat().map((n): Expr => ({ kind: "int", text: String(n) })),
  fc.tuple(fc.nat(), fc.nat()).map(([a, b]): Expr => ({ kind: "decimal", text: `${a}.${b}` })),
  fc.tuple(fc.nat(99), fc.nat(30)).map(([a, b]): Expr => ({ kind: "float", text: `${a}e${b}` })),
  fc.record({
    value: fc.string({ maxLength: 8, unit: "binary" }),
    charset: fc.constantFrom(null, "utf8mb4", "binary"),
  }).map(({ value, charset }): Expr => ({ kind: "string", value, charset })),
  fc.array(fc.constantFrom(..."0123456789abcdef"), { maxLength: 6 }).map((digits): Expr => ({
    kind: "hex",
    digits: digits.length % 2 === 0 ? digits.join("") : digits.join("") + "0",
    charset: null,
  })),
  fc.array(fc.constantFrom("0", "1"), { maxLength: 6 })
    .map((d): Expr => ({ kind: "bit", digits: d.join(""), charset: null })),
  fc.record({ type: fc.constantFrom("DATE", "TIME", "TIMESTAMP"), value: fc.string() })
    .map(({ type, value }): Expr => ({ kind: "temporal", type, value })),
  fc.constant<Expr>({ kind: "param", index: 0 }),
  fc.constant<Expr>({ kind: "default" }),
  fc.record({ table: fc.option(ident), column: ident }).map(({ table, column }): Expr => ({
    kind: "column", db: null, table, column,
  })),
  fc.tuple(ident, ident, ident).map(([db, table, column]): Expr => ({
    kind: "column", db, table, column,
  })),
  plainName.map((name): Expr => ({ kind: "userVar", name })),
  fc.record({ scope: fc.constantFrom(null, "GLOBAL", "SESSION"), name: plainName })
    .map(({ scope, name }): Expr => ({ kind: "sysVar", scope, name })),
);

/** A SELECT small enough to nest inside expressions. */
function simpleSelect(expr: fc.Arbitrary<Expr>): fc.Arbitrary<Query> {
  return fc.record({ field: expr, where: fc.option(expr), table: fc.option(ident) })
    .map(({ field, where, table }) => ({
      ...emptySelect(),
      fields: [{ expr: field, alias: null }],
      from: table === null ? [] : [tableRef(table, null)],
      where,
    }));
}

function tableRef(name: string, alias: string | null): TableExpr {
  return { kind: "table", name: { db: null, name }, alias, partitions: [], indexHints: [] };
}

function emptySelect(): SelectQuery {
  return {
    kind: "select", with: null, hints: null, distinct: false, options: [], fields: [],
    from: [], where: null, groupBy: [], withRollup: false, having: null, windows: [],
    orderBy: [], limit: null, lock: null,
  };
}

const windowSpec = (expr: fc.Arbitrary<Expr>): fc.Arbitrary<WindowSpec> =>
  fc.record({
    ref: fc.option(plainName),
    partitionBy: fc.array(expr, { maxLength: 2 }),
    orderBy: fc.array(orderItem(expr), { maxLength: 2 }),
    frame: fc.option(fc.record({
      unit: fc.constantFrom("ROWS", "RANGE", "GROUPS"),
      start: fc.oneof(
        fc.constant({ type: "UNBOUNDED PRECEDING" as const, value: null }),
        fc.constant({ type: "CURRENT ROW" as const, value: null }),
        fc.nat(9).map((n) => ({ type: "PRECEDING" as const, value: intExpr(n) })),
      ),
      end: fc.option(fc.oneof(
        fc.constant({ type: "UNBOUNDED FOLLOWING" as const, value: null }),
        fc.nat(9).map((n) => ({ type: "FOLLOWING" as const, value: intExpr(n) })),
      )),
    })),
  });

const leafInt: Expr = { kind: "int", text: "1" };

function intExpr(n: number): Expr {
  return { kind: "int", text: String(n) };
}

function orderItem(expr: fc.Arbitrary<Expr>): fc.Arbitrary<OrderItem> {
  return fc.record({ expr, desc: fc.boolean() });
}

/** Expressions of every kind the printer handles, up to a modest depth. */
export const exprArb: fc.Arbitrary<Expr> = fc.letrec<{ expr: Expr }>((tie) => {
  const expr = tie("expr");
  const small = fc.array(expr, { minLength: 1, maxLength: 3 });
  return {
    expr: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      leaf,
      fc.record({ op: fc.constantFrom(...unaryOps), operand: expr })
        .map(({ op, operand }): Expr => ({ kind: "unary", op, operand })),
      fc.record({ op: fc.constantFrom(...binaryOps), left: expr, right: expr })
        .map(({ op, left, right }): Expr => ({ kind: "binary", op, left, right })),
      fc.record({ name: plainName, value: expr })
        .map(({ name, value }): Expr => ({ kind: "assign", name, value })),
      fc.record({
        operand: expr, not: fc.boolean(),
        value: fc.constantFrom("NULL", "TRUE", "FALSE", "UNKNOWN"),
      }).map((r): Expr => ({ kind: "is", ...r })),
      fc.record({ operand: expr, not: fc.boolean(), pattern: expr, escape: fc.option(expr) })
        .map((r): Expr => ({ kind: "like", ...r })),
      fc.record({ operand: expr, not: fc.boolean(), pattern: expr })
        .map((r): Expr => ({ kind: "regexp", ...r })),
      fc.record({ operand: expr, not: fc.boolean(), list: small })
        .map((r): Expr => ({
          kind: "in",
          ...r,
          // `x IN ((SELECT …))` is an IN-subquery, as in MySQL 8; keep lists apart.
          list: r.list.length === 1 && r.list[0]?.kind === "subquery"
            ? [...r.list, leafInt]
            : r.list,
        })),
      fc.record({ operand: expr, not: fc.boolean(), low: expr, high: expr })
        .map((r): Expr => ({ kind: "between", ...r })),
      fc.record({ operand: expr, json: expr }).map((r): Expr => ({ kind: "memberOf", ...r })),
      fc.record({ operand: expr, not: fc.boolean(), query: simpleSelect(expr) })
        .map((r): Expr => ({ kind: "inSubquery", ...r })),
      fc.record({
        op: fc.constantFrom("=", "<>", "<", ">=", "<=>"),
        quantifier: fc.constantFrom("ANY", "ALL"),
        operand: expr,
        query: simpleSelect(expr),
      }).map((r): Expr => ({ kind: "compareSubquery", ...r })),
      simpleSelect(expr).map((query): Expr => ({ kind: "exists", query })),
      simpleSelect(expr).map((query): Expr => ({ kind: "subquery", query })),
      fc.array(expr, { minLength: 2, maxLength: 3 }).map((items): Expr => ({ kind: "row", items })),
      fc.record({
        operand: fc.option(expr),
        whens: fc.array(fc.record({ when: expr, then: expr }), { minLength: 1, maxLength: 2 }),
        else: fc.option(expr),
      }).map((r): Expr => ({ kind: "case", ...r })),
      fc.record({ expr, type: dataType }).map((r): Expr => ({ kind: "cast", ...r })),
      fc.record({ expr, charset: fc.constantFrom("utf8mb4", "latin1") })
        .map((r): Expr => ({ kind: "convertUsing", ...r })),
      fc.record({ expr, collation: fc.constantFrom("utf8mb4_bin", "binary") })
        .map((r): Expr => ({ kind: "collate", ...r })),
      fc.record({ value: leaf, unit: fc.constantFrom(...units) })
        .map((r): Expr => ({ kind: "interval", ...r })),
      fc.record({ unit: fc.constantFrom(...units), expr })
        .map((r): Expr => ({ kind: "extract", ...r })),
      fc.record({
        direction: fc.constantFrom(null, "BOTH", "LEADING", "TRAILING"),
        remove: fc.option(expr),
        expr,
      }).map((r): Expr => ({ kind: "trim", ...r })),
      fc.record({ column: ident, path: fc.string({ maxLength: 6 }), unquote: fc.boolean() })
        .map(({ column, path, unquote }): Expr => ({
          kind: "jsonPath",
          column: { kind: "column", db: null, table: null, column },
          path,
          unquote,
        })),
      fc.record({
        name: fc.constantFrom("abs", "concat", "coalesce", "ifnull", "f_1", "lower"),
        args: fc.array(expr, { maxLength: 3 }),
        over: fc.option(windowSpec(expr), { freq: 4 }),
      }).map((r): Expr => ({ kind: "func", ...r, distinct: false })),
      fc.record({
        name: fc.constantFrom("count", "sum", "max"),
        args: small,
        distinct: fc.boolean(),
        over: fc.option(windowSpec(expr), { freq: 4 }),
      }).map((r): Expr => ({ kind: "func", ...r })),
      fc.constant<Expr>({
        kind: "func", name: "count", args: [{ kind: "star", table: null }], distinct: false,
        over: null,
      }),
      fc.record({
        distinct: fc.boolean(),
        args: small,
        orderBy: fc.array(orderItem(expr), { maxLength: 2 }),
        separator: fc.option(fc.string({ maxLength: 3 })),
      }).map((r): Expr => ({ kind: "groupConcat", ...r })),
    ),
  };
}).expr;

const fromItem: fc.Arbitrary<TableExpr> = fc.letrec<{ item: TableExpr }>((tie) => ({
  item: fc.oneof(
    { depthSize: "small" },
    fc.record({ name: ident, alias: fc.option(ident) })
      .map(({ name, alias }) => tableRef(name, alias)),
    fc.record({ query: simpleSelect(leaf), alias: ident, lateral: fc.boolean() })
      .map((r): TableExpr => ({ kind: "derived", ...r, columns: null })),
    fc.record({
      type: fc.constantFrom("INNER", "LEFT", "RIGHT", "STRAIGHT"),
      natural: fc.boolean(),
      left: tie("item"),
      right: tie("item"),
      cond: fc.oneof(
        fc.constant(null),
        exprArb.map((on) => ({ on, using: null })),
        fc.array(ident, { minLength: 1, maxLength: 2 }).map((using) => ({ on: null, using })),
      ),
    }).map(({ type, natural, left, right, cond }): TableExpr => {
      const isNatural = natural && type !== "STRAIGHT";
      const needsCond = !isNatural && (type === "LEFT" || type === "RIGHT");
      const c = isNatural ? null : cond ?? (needsCond ? { on: intExpr(1), using: null } : null);
      return {
        kind: "join", type, natural: isNatural, left, right,
        on: c?.on ?? null, using: c?.using ?? null,
      };
    }),
    fc.array(tie("item"), { minLength: 2, maxLength: 3 })
      .map((items): TableExpr => ({ kind: "tableList", items })),
  ),
})).item;

/** SELECT statements with every clause, and set operations over them. */
export const queryArb: fc.Arbitrary<Query> = fc.letrec<{ query: Query; select: Query }>(
  (tie) => ({
    select: fc.record({
      distinct: fc.boolean(),
      options: fc.subarray(["HIGH_PRIORITY", "STRAIGHT_JOIN", "SQL_CALC_FOUND_ROWS"]),
      fields: fc.array(
        fc.oneof(
          fc.record({ expr: exprArb, alias: fc.option(ident) }),
          fc.constant({ expr: { kind: "star", table: null } as Expr, alias: null }),
          ident.map((name) => ({
            expr: { kind: "star", table: { db: null, name } } as Expr, alias: null,
          })),
        ),
        { minLength: 1, maxLength: 3 },
      ),
      from: fc.array(fromItem, { maxLength: 2 }),
      where: fc.option(exprArb),
      groupBy: fc.array(exprArb, { maxLength: 2 }),
      rollup: fc.boolean(),
      having: fc.option(exprArb),
      windows: fc.array(fc.record({ name: plainName, spec: windowSpec(exprArb) }), {
        maxLength: 1,
      }),
      orderBy: fc.array(orderItem(exprArb), { maxLength: 2 }),
      limit: fc.option(fc.record({
        count: fc.nat().map(intExpr),
        offset: fc.option(fc.nat().map(intExpr)),
      })),
      lock: fc.option(fc.record({
        mode: fc.constantFrom("FOR UPDATE", "FOR SHARE", "LOCK IN SHARE MODE"),
        wait: fc.constantFrom(null, "NOWAIT", "SKIP LOCKED"),
      })),
      hints: fc.option(fc.constantFrom("A(t)", "MAX_EXECUTION_TIME(1)")),
    }).map((r): Query => ({
      ...emptySelect(),
      hints: r.hints,
      distinct: r.distinct,
      options: r.options,
      fields: r.fields,
      from: r.from,
      where: r.where,
      groupBy: r.groupBy,
      withRollup: r.groupBy.length > 0 && r.rollup,
      having: r.having,
      windows: r.windows,
      orderBy: r.orderBy,
      limit: r.limit,
      lock: r.lock === null
        ? null
        : {
          mode: r.lock.mode,
          of: [],
          wait: r.lock.mode === "LOCK IN SHARE MODE" ? null : r.lock.wait,
        },
    })),
    query: fc.oneof(
      { depthSize: "small" },
      tie("select"),
      fc.record({
        op: fc.constantFrom("UNION", "INTERSECT", "EXCEPT"),
        all: fc.boolean(),
        left: tie("query"),
        right: tie("query"),
        orderBy: fc.array(orderItem(exprArb), { maxLength: 1 }),
      }).map((r): Query => ({ kind: "setOp", with: null, limit: null, ...r })),
      fc.record({ name: plainName, cte: tie("select"), body: tie("select") })
        .map(({ name, cte, body }): Query => ({
          ...body,
          with: { recursive: false, ctes: [{ name, columns: null, query: cte }] },
        })),
    ),
  }),
).query;
