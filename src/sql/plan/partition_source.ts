/**
 * The planner's side of partitioned tables: `FROM t PARTITION (p0, p1)` restricts the
 * table to the partitions named (1747 on a table without partitions, 1735 for an unknown
 * name); a FROM leaf's conjuncts prune it further (`partition_prune.ts`), reading a
 * constant only when it is written as one (literals and arithmetic on them — never a
 * column, `?`, variable, subquery or function whose value may change); and the statement's
 * cached scans are keyed by table and partition selection, so two differently pruned
 * reads of one table never share rows.
 */
import type { Value } from "../../expr/mod.ts";
import type { Expr as AstExpr } from "../parser/ast.ts";
import { partitionPositions, selectedPartitions, withSelection } from "../catalog/partition.ts";
import type { TableInfo } from "../catalog/schema.ts";
import { prunePartitions } from "./partition_prune.ts";

/** `table` as `FROM table PARTITION (names)` reads it. */
export function selectPartitions(table: TableInfo, names: readonly string[]): TableInfo {
  if (names.length === 0) return table;
  return withSelection(table, partitionPositions(table, names));
}

/** The key of a table's cached scan: its id, and for a partitioned one what it reads. */
export function scanKey(table: TableInfo): number | string {
  const info = table.partition;
  return info?.selected === undefined ? table.id : `${table.id}:${info.selected.join(",")}`;
}

/** Whether `ast` is a constant as written (see the file comment). */
function writtenConstant(ast: AstExpr): boolean {
  switch (ast.kind) {
    case "int":
    case "decimal":
    case "float":
    case "string":
    case "null":
    case "bool":
    case "hex":
    case "temporal":
      return true;
    case "unary":
      return ast.op === "-" || ast.op === "+" ? writtenConstant(ast.operand) : false;
    case "binary":
      return ["+", "-", "*"].includes(ast.op) && writtenConstant(ast.left) &&
        writtenConstant(ast.right);
    case "cast":
      return writtenConstant(ast.expr);
    default:
      return false;
  }
}

/**
 * The partitions (positions) of `table` a leaf reads: its selection, pruned by the
 * conjuncts. `offset` names the leaf's column an AST refers to; `value` evaluates a
 * constant.
 */
export function leafPartitions(table: TableInfo, asts: readonly AstExpr[],
  offset: (ast: AstExpr) => number | undefined, value: (ast: AstExpr) => Value): number[] {
  const selected = selectedPartitions(table.partition!);
  const pruned = prunePartitions(table, asts, {
    column: offset,
    constant: (ast) => {
      if (!writtenConstant(ast)) return undefined;
      try {
        return value(ast);
      } catch {
        return undefined;
      }
    },
  });
  return selected.filter((k) => pruned.includes(k));
}

/** EXPLAIN's `, partition:p0,p1` (`all`, or `dual` when none) of a partitioned table. */
export function partitionLabel(table: TableInfo): string {
  const info = table.partition;
  if (info === undefined) return "";
  const selected = selectedPartitions(info);
  if (selected.length === 0) return ", partition:dual";
  if (info.selected === undefined || selected.length === info.definitions.length) {
    return ", partition:all";
  }
  return `, partition:${selected.map((k) => info.definitions[k]!.name).join(",")}`;
}
