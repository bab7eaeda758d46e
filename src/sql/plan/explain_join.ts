/**
 * EXPLAIN's drawing of a join group planned by cost (`join_exec.ts` logs its plan as it
 * ran in the trace, `JoinTrace`): `HashJoin` (or `MergeJoin`) with its build side first,
 * `(Build)`, and its probe side, `(Probe)`; `IndexJoin` (TiDB's) with the outer side as
 * `(Build)` and the inner table's lookups as `(Probe)` — a `TableReader` over a
 * `TableRangeScan` of the handle, or an `IndexLookUp` of an `IndexRangeScan` and a
 * `TableRowIDScan` — whose ranges are "decided by" the join's equalities, as TiDB prints
 * them. Each operator shows the rows the cost model estimated; EXPLAIN ANALYZE adds the
 * rows each produced (a leaf's and the lookups' from their reads). The leaves are drawn
 * by `explain.ts` (a reader of the table, or a derived table's own tree).
 */
import type { Expr as AstExpr } from "../parser/ast.ts";
import type { IndexInfo, TableInfo } from "../catalog/schema.ts";
import type { AccessRecord, JoinTraceNode } from "./explain_shape.ts";

/** One operator, as `explain.ts` draws it (its `PlanNode`). */
export interface JoinPlanNode {
  readonly op: string;
  readonly estRows: number;
  readonly task: "root" | "cop[tikv]";
  readonly access: string;
  readonly info: string;
  readonly children: JoinPlanNode[];
  readonly role?: string;
  readonly act?: { readonly rows: number; readonly timeMs: number; readonly loops: number;
    readonly memBytes: number };
}

/** What the drawing needs from `explain.ts`. */
export interface JoinDrawing {
  readonly records: readonly AccessRecord[];
  readonly analyze: boolean;
  /** The leaf whose reads are records [start, end), filtered by `filter`. */
  leaf(start: number, end: number, filter: readonly AstExpr[], estRows: number): JoinPlanNode;
  infoExpr(e: AstExpr): string;
  tableLabel(table: TableInfo, index: IndexInfo | null): string;
  /** Whether the table has statistics (else `stats:pseudo`). */
  analyzed(table: TableInfo): boolean;
  /** A join's actual figures (EXPLAIN ANALYZE) from the rows it produced. */
  joinAct(rows: number): JoinPlanNode["act"];
}

const leftOf = (e: AstExpr): AstExpr => (e.kind === "binary" ? e.left : e);
const rightOf = (e: AstExpr): AstExpr => (e.kind === "binary" ? e.right : e);

function withRole(node: JoinPlanNode, role: string): JoinPlanNode {
  return { ...node, role };
}

/** The operator tree of a join group's plan. */
export function drawJoin(node: JoinTraceNode, d: JoinDrawing): JoinPlanNode {
  if (node.kind === "leaf") return d.leaf(node.start, node.end, node.filter, node.estRows);
  const equal = node.equal.map((e) => d.infoExpr(e));
  const other = node.other.map((e) => d.infoExpr(e));
  const act = d.joinAct(node.rows);
  const probe = drawJoin(node.probe, d);
  if (node.op !== "IndexJoin") {
    const keys = node.op === "MergeJoin" ? [`left key:${d.infoExpr(leftOf(node.equal[0]!))}`,
      `right key:${d.infoExpr(rightOf(node.equal[0]!))}`]
      : [equal.length > 0 ? `equal:[${equal.join(" ")}]` : "CARTESIAN"];
    const info = ["inner join", ...keys, other.length > 0 ? `other cond:${other.join(", ")}`
      : ""].filter((s) => s !== "").join(", ");
    const build = drawJoin(node.build, d);
    return { op: node.op, estRows: node.estRows, task: "root", access: "", info,
      children: [withRole(build, "(Build)"), withRole(probe, "(Probe)")],
      ...(act === undefined ? {} : { act }) };
  }
  const inner = node.inner!;
  const reads = d.records.slice(inner.start, inner.end);
  const rows = reads.reduce((n, r) => n + r.rows, 0);
  const timeMs = reads.reduce((n, r) => n + r.timeMs, 0);
  const innerAct = d.analyze ? { act: { rows, timeMs, loops: reads.length, memBytes: 0 } }
    : {};
  const est = node.build.estRows;
  const stats = d.analyzed(inner.table) ? "" : ", stats:pseudo";
  const decided = `range: decided by [${equal.join(" ")}], keep order:false${stats}`;
  const filtered = (scan: JoinPlanNode): JoinPlanNode => (inner.filter.length === 0 ? scan
    : { op: "Selection", estRows: est, task: "cop[tikv]", access: "",
      info: inner.filter.map((e) => d.infoExpr(e)).join(", "), children: [scan], ...innerAct });
  let innerNode: JoinPlanNode;
  if (inner.index === null) {
    const scan = filtered({ op: "TableRangeScan", estRows: est, task: "cop[tikv]",
      access: d.tableLabel(inner.table, null), info: decided, children: [], ...innerAct });
    innerNode = { op: "TableReader", estRows: est, task: "root", access: "",
      info: `data:${scan.op}`, children: [scan], ...innerAct };
  } else {
    const range: JoinPlanNode = { op: "IndexRangeScan", estRows: est, task: "cop[tikv]",
      access: d.tableLabel(inner.table, inner.index), info: decided, children: [],
      role: "(Build)", ...innerAct };
    const rowScan = filtered({ op: "TableRowIDScan", estRows: est, task: "cop[tikv]",
      access: d.tableLabel(inner.table, null), info: `keep order:false${stats}`,
      children: [], ...innerAct });
    innerNode = { op: "IndexLookUp", estRows: est, task: "root", access: "", info: "",
      children: [range, withRole(rowScan, "(Probe)")], ...innerAct };
  }
  const outerKeys = inner.outerKeys.map((e) => d.infoExpr(e));
  const innerKeys = inner.innerKeys.map((e) => d.infoExpr(e));
  const info = [`inner join, inner:${innerNode.op}`, `outer key:${outerKeys.join(", ")}`,
    `inner key:${innerKeys.join(", ")}`, `equal cond:${equal.join(", ")}`,
    other.length > 0 ? `other cond:${other.join(", ")}` : ""].filter((s) => s !== "")
    .join(", ");
  return { op: "IndexJoin", estRows: node.estRows, task: "root", access: "", info,
    children: [withRole(probe, "(Build)"), withRole(innerNode, "(Probe)")],
    ...(act === undefined ? {} : { act }) };
}
