/**
 * The ids INSERT generates besides AUTO_INCREMENT: the value of an AUTO_RANDOM column and
 * the hidden `_tidb_rowid` of a table without a clustered integer key (sharded under
 * SHARD_ROW_ID_BITS). Both take their sequential part from the node's auto-id allocator
 * and their shard bits from the transaction's start ts (src/sql/catalog/auto_random.ts
 * has the layout and TiDB's rules).
 */
import type { Value } from "../../expr/mod.ts";
import type { AutoIdAllocator } from "../catalog/catalog.ts";
import { columnLayout, incrementalPart, rowIdLayout, shardOf, shardedId }
  from "../catalog/auto_random.ts";
import type { ColumnInfo, TableInfo } from "../catalog/schema.ts";
import { ER, mysqlError } from "../mysql_errors.ts";

/** What id generation reads: the allocator, the transaction and a session setting. */
export interface AutoIdContext {
  readonly autoIds: AutoIdAllocator;
  /** The transaction's start ts: the source of its shard. */
  readonly startTs: bigint;
  /** `@@allow_auto_random_explicit_insert`. */
  readonly allowExplicit: boolean;
}

/** The table's AUTO_RANDOM column, if any. */
export function autoRandomColumn(table: TableInfo): ColumnInfo | undefined {
  return table.columns.find((c) => c.autoRandom !== undefined);
}

/**
 * Fills `values[column.offset]` of a new row: NULL or 0 becomes a generated id (returned);
 * any other value is kept when explicit values are allowed (8216 otherwise) and makes
 * later ids' sequential part exceed its own. Returns null when nothing was generated.
 */
export async function fillAutoRandom(ctx: AutoIdContext, table: TableInfo, column: ColumnInfo,
  values: Value[]): Promise<bigint | null> {
  const layout = columnLayout(column);
  if (layout === undefined) return null;
  const v = values[column.offset] ?? null;
  const given = v === null ? 0n : v.kind === "int" || v.kind === "uint" ? v.value : 0n;
  if (given !== 0n) {
    if (!ctx.allowExplicit) {
      throw mysqlError(ER.INVALID_AUTO_RANDOM, ["Explicit insertion on auto_random column " +
        "is disabled. Try to set @@allow_auto_random_explicit_insert = true."]);
    }
    await ctx.autoIds.rebase(table.id, incrementalPart(given, layout));
    return null;
  }
  const id = shardedId(await ctx.autoIds.next(table.id), layout, shardOf(ctx.startTs));
  values[column.offset] = layout.unsigned ? { kind: "uint", value: id }
    : { kind: "int", value: id };
  return id;
}

/** A new hidden row id of `table`, with shard bits under SHARD_ROW_ID_BITS. */
export async function newRowId(ctx: AutoIdContext, table: TableInfo): Promise<bigint> {
  const next = await ctx.autoIds.next(table.id);
  const bits = table.shardRowIdBits ?? 0;
  return bits > 0 ? shardedId(next, rowIdLayout(bits), shardOf(ctx.startTs)) : next;
}
