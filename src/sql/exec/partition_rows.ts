/**
 * The rows UPDATE and DELETE read from a partitioned table: every partition the
 * statement's `PARTITION (…)` names (all without one) that its WHERE can match
 * (`src/sql/plan/partition_prune.ts`), each scanned as a table of its own, in partition
 * order then handle order.
 */
import type { Value } from "../../expr/mod.ts";
import type { Expr as AstExpr } from "../parser/ast.ts";
import { partitionPositions, physicalTable, withSelection } from "../catalog/partition.ts";
import type { TableInfo } from "../catalog/schema.ts";
import { translate } from "../session/to_expr.ts";
import { decodeRowValue, handleOfRowKey, rowKey, rowRange } from "../table/table.ts";
import { leafPartitions } from "../plan/partition_source.ts";
import type { DmlContext } from "./dml.ts";
import { evaluate } from "../../expr/mod.ts";

/** Rows read per scan request. */
const scanPageRows = 10_000;

/** The positions of the partitions a statement on `table` reads. */
export function statementPartitions(ctx: DmlContext, table: TableInfo, alias: string,
  where: AstExpr | null, names: readonly string[]): number[] {
  const selected = names.length === 0 ? undefined : partitionPositions(table, names);
  const base = selected === undefined ? table : withSelection(table, selected);
  const conjuncts: AstExpr[] = [];
  const split = (e: AstExpr): void => {
    if (e.kind === "binary" && e.op === "AND") {
      split(e.left);
      split(e.right);
    } else {
      conjuncts.push(e);
    }
  };
  if (where !== null) split(where);
  return leafPartitions(base, conjuncts, (ast) => {
    if (ast.kind !== "column" || ast.db !== null) return undefined;
    if (ast.table !== null && ast.table.toLowerCase() !== alias.toLowerCase()) return undefined;
    return table.columns.find((c) => c.name.toLowerCase() === ast.column.toLowerCase())
      ?.offset;
  }, (ast) => evaluate(translate(ast, ctx.scope("where clause")), ctx.evalContext()));
}

/**
 * The rows of the partitions at `positions`, in partition then handle order; with
 * `handle` (the WHERE pins it) only that row, looked up in each.
 */
export async function partitionRows(ctx: DmlContext, table: TableInfo,
  positions: readonly number[], handle?: bigint):
  Promise<{ handle: bigint; values: Value[] }[]> {
  const rows: { handle: bigint; values: Value[] }[] = [];
  for (const k of positions) {
    const physical = physicalTable(table, k);
    if (handle !== undefined) {
      ctx.storage.stats.pointGets++;
      const bytes = await ctx.txn.get(rowKey(physical, handle));
      if (bytes !== null) return [{ handle, values: decodeRowValue(physical, bytes) }];
      continue;
    }
    ctx.storage.stats.tableScans++;
    const range = rowRange(physical);
    for (let start = range.start; ;) {
      ctx.signal?.throwIfAborted();
      const page = await ctx.txn.scan(start, range.end, { limit: scanPageRows });
      for (const pair of page) {
        rows.push({ handle: handleOfRowKey(pair.key), values: decodeRowValue(physical,
          pair.value) });
      }
      if (page.length < scanPageRows) break;
      start = Uint8Array.of(...page[page.length - 1]!.key, 0);
    }
  }
  return rows;
}
