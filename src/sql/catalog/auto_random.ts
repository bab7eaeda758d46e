/**
 * TiDB's two ways of scattering sequential keys over regions, so that inserts do not all
 * land on the last region of a table (a write hotspot):
 *
 * - `AUTO_RANDOM(S[, R])` on a BIGINT clustered primary key: a generated value is, from
 *   the top, a zero sign bit (signed columns only), S shard bits (default 5) and an
 *   auto-increment part filling the rest of the R (default 64) bits. The auto-increment
 *   part comes from the table's auto-id allocator; the shard from the transaction's
 *   start ts, hashed, so one transaction's rows share a shard and concurrent ones differ.
 *   Explicit values need `allow_auto_random_explicit_insert`.
 * - `SHARD_ROW_ID_BITS = N` on a table without a clustered integer key: its hidden
 *   `_tidb_rowid` gets N shard bits the same way (at most 15).
 *
 * The rules and errors are TiDB's (8216 `Invalid auto random: …`, 8200 for shard bits on a
 * table whose primary key is the handle, 8228 when the auto-increment part is used up),
 * as are the SHOW CREATE TABLE forms `/*T![auto_rand] AUTO_RANDOM(5) *\/` and
 * `/*T! SHARD_ROW_ID_BITS=4 *\/`; ALTER TABLE changes the shard bits of row ids allocated
 * later. `PRE_SPLIT_REGIONS` is kept and shown, capped by the shard bits as TiDB caps
 * it; regions are not split ahead of time (PD splits by size and load). Pure: no I/O.
 */
import type { ColumnDefinition, TableOption } from "../parser/ast.ts";
import { ER, MySqlError, mysqlError } from "../mysql_errors.ts";
import type { ColumnInfo, TableInfo } from "./schema.ts";

/** An AUTO_RANDOM column's layout. */
export interface AutoRandomSpec {
  readonly shardBits: number;
  readonly rangeBits: number;
}

/** What a generated id's layout depends on. */
export interface ShardLayout extends AutoRandomSpec {
  readonly unsigned: boolean;
}

export const autoRandomShardBitsDefault = 5;
/** The most shard bits AUTO_RANDOM and SHARD_ROW_ID_BITS may have (TiDB's limit). */
export const shardBitsMax = 15;
const rangeBitsMin = 32;
const rangeBitsMax = 64;

function invalid(message: string): Error {
  return mysqlError(ER.INVALID_AUTO_RANDOM, [message]);
}

/** The AUTO_RANDOM of a column definition, or undefined when it has none. */
export function autoRandomOf(def: ColumnDefinition): AutoRandomSpec | undefined {
  const option = def.options.find((o) => o.kind === "autoRandom");
  if (option?.kind !== "autoRandom") return undefined;
  const shardBits = option.shardBits ?? autoRandomShardBitsDefault;
  const rangeBits = option.rangeBits ?? rangeBitsMax;
  if (shardBits <= 0) throw invalid("the value of auto_random should be positive");
  if (shardBits > shardBitsMax) {
    throw invalid(`max allowed auto_random shard bits is ${shardBitsMax}, ` +
      `but got ${shardBits} on column \`${def.name}\``);
  }
  if (rangeBits < rangeBitsMin || rangeBits > rangeBitsMax) {
    throw invalid(`auto_random range bits must be between ${rangeBitsMin} and ` +
      `${rangeBitsMax}, but got ${rangeBits}`);
  }
  return { shardBits, rangeBits };
}

/**
 * Checks where AUTO_RANDOM may be (a finished table definition): a BIGINT column that is
 * the clustered primary key, with neither AUTO_INCREMENT nor a DEFAULT.
 */
export function checkAutoRandom(table: TableInfo): void {
  for (const column of table.columns) {
    if (column.autoRandom === undefined) continue;
    if (column.type.name !== "BIGINT") {
      throw invalid("auto_random option must be defined on `bigint` column, but not on " +
        `\`${column.type.name.toLowerCase()}\` column`);
    }
    if (column.autoIncrement) throw invalid("auto_random is incompatible with auto_increment");
    if (column.defaultText !== null) throw invalid("auto_random is incompatible with default");
    if (table.pkHandle !== column.offset) {
      throw invalid(`column ${column.name} is not the integer primary key, or the primary ` +
        "key is nonclustered");
    }
  }
}

/**
 * ALTER TABLE on a column and AUTO_RANDOM: a column may not gain or lose it (or change its
 * bits), nor may an AUTO_RANDOM column change type; ADD COLUMN cannot have it (8216).
 */
export function checkAutoRandomAlter(target: { readonly db: string; readonly table: string },
  current: ColumnInfo | null, def: ColumnDefinition): void {
  const requested = autoRandomOf(def);
  if (current === null) {
    if (requested !== undefined) {
      throw invalid(`unsupported add column '${def.name}' constraint AUTO_RANDOM when ` +
        `altering '${target.db}.${target.table}'`);
    }
    return;
  }
  const had = current.autoRandom;
  if (had !== undefined && (def.type.name !== "BIGINT" ||
    def.type.unsigned !== current.type.unsigned)) {
    throw invalid("modifying the auto_random column type is not supported");
  }
  if (had?.shardBits !== requested?.shardBits || had?.rangeBits !== requested?.rangeBits) {
    throw invalid("adding/dropping/modifying auto_random is not supported");
  }
}

function numericOption(options: readonly TableOption[], name: string): number | undefined {
  const option = [...options].reverse().find((o) => o.name.toUpperCase() === name);
  if (option === undefined) return undefined;
  const n = Number(option.value);
  return Number.isInteger(n) && n >= 0 ? n : undefined;
}

/**
 * SHARD_ROW_ID_BITS and PRE_SPLIT_REGIONS of CREATE TABLE's options (8200 when the
 * table's rows are keyed by its integer primary key, which has no row id to shard).
 */
export function shardOptionsOf(options: readonly TableOption[], table: TableInfo):
  { shardRowIdBits?: number; preSplitRegions?: number } {
  const requested = numericOption(options, "SHARD_ROW_ID_BITS") ?? 0;
  if (requested > 0 && table.pkHandle !== null) {
    throw mysqlError(ER.UNSUPPORTED_DDL_OPERATION,
      ["shard_row_id_bits for table with primary key as row id"]);
  }
  const shardRowIdBits = Math.min(requested, shardBitsMax);
  const auto = table.columns.find((c) => c.autoRandom !== undefined)?.autoRandom;
  const preSplitCap = auto?.shardBits ?? shardRowIdBits;
  const preSplitRegions = Math.min(numericOption(options, "PRE_SPLIT_REGIONS") ?? 0,
    preSplitCap);
  return { ...(shardRowIdBits > 0 ? { shardRowIdBits } : {}),
    ...(preSplitRegions > 0 ? { preSplitRegions } : {}) };
}

/** Whether ALTER TABLE's options have a change `shardRowIdAlterOf` handles. */
export function hasShardOption(options: readonly TableOption[]): boolean {
  return options.some((o) => ["SHARD_ROW_ID_BITS", "PRE_SPLIT_REGIONS"]
    .includes(o.name.toUpperCase()));
}

/**
 * `ALTER TABLE t SHARD_ROW_ID_BITS = N` as TiDB runs it: the new shard bits (capped at
 * 15), or undefined when they do not change; 8200 on a table whose integer primary key is
 * the handle, and for PRE_SPLIT_REGIONS, which TiDB takes only in CREATE TABLE. Only row
 * ids allocated later get the new bits.
 */
export function shardRowIdAlterOf(options: readonly TableOption[], table: TableInfo):
  number | undefined {
  if (options.some((o) => o.name.toUpperCase() === "PRE_SPLIT_REGIONS")) {
    // TiDB's ErrUnsupportedAlterTableOption: 8200 with a message of its own.
    throw new MySqlError(ER.UNSUPPORTED_DDL_OPERATION,
      "This type of ALTER TABLE is currently unsupported");
  }
  const requested = numericOption(options, "SHARD_ROW_ID_BITS");
  if (requested === undefined) return undefined;
  const bits = Math.min(requested, shardBitsMax);
  if (bits === (table.shardRowIdBits ?? 0)) return undefined;
  if (bits > 0 && table.pkHandle !== null) {
    throw mysqlError(ER.UNSUPPORTED_DDL_OPERATION,
      ["shard_row_id_bits for table with primary key as row id"]);
  }
  return bits;
}

/** How many low bits of an id are its auto-increment part. */
export function incrementalBits(layout: ShardLayout): number {
  return layout.rangeBits - layout.shardBits - (layout.unsigned ? 0 : 1);
}

const mask64 = (1n << 64n) - 1n;

/**
 * The shard of a transaction: its start ts through a 64-bit mixer (splitmix64's
 * finalizer), so consecutive start ts land on unrelated shards.
 */
export function shardOf(startTs: bigint): bigint {
  let z = (startTs + 0x9e3779b97f4a7c15n) & mask64;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & mask64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & mask64;
  return z ^ (z >> 31n);
}

/**
 * The id whose auto-increment part is `incremental` and whose shard bits are the low bits
 * of `shard`; 8228 when `incremental` no longer fits below the shard bits.
 */
export function shardedId(incremental: bigint, layout: ShardLayout, shard: bigint): bigint {
  const low = BigInt(incrementalBits(layout));
  if (incremental < 0n || incremental >= 1n << low) {
    throw mysqlError(ER.AUTO_RAND_READ_FAILED);
  }
  const shardMask = (1n << BigInt(layout.shardBits)) - 1n;
  return ((shard & shardMask) << low) | incremental;
}

/** The auto-increment part of an id (what ids generated later must exceed). */
export function incrementalPart(id: bigint, layout: ShardLayout): bigint {
  return BigInt.asUintN(64, id) & ((1n << BigInt(incrementalBits(layout))) - 1n);
}

/** The layout of a table's hidden row id under SHARD_ROW_ID_BITS. */
export function rowIdLayout(shardRowIdBits: number): ShardLayout {
  return { shardBits: shardRowIdBits, rangeBits: rangeBitsMax, unsigned: false };
}

/** The layout of an AUTO_RANDOM column's values. */
export function columnLayout(column: ColumnInfo): ShardLayout | undefined {
  const spec = column.autoRandom;
  return spec === undefined ? undefined : { ...spec, unsigned: column.type.unsigned };
}

/** The column attribute as SHOW CREATE TABLE prints it. */
export function autoRandomText(spec: AutoRandomSpec): string {
  const args = spec.rangeBits === rangeBitsMax ? `${spec.shardBits}`
    : `${spec.shardBits}, ${spec.rangeBits}`;
  return `/*T![auto_rand] AUTO_RANDOM(${args}) */`;
}

/** The table options as SHOW CREATE TABLE prints them after the charset (or ""). */
export function shardOptionsText(table: TableInfo): string {
  const parts: string[] = [];
  if ((table.shardRowIdBits ?? 0) > 0) parts.push(`SHARD_ROW_ID_BITS=${table.shardRowIdBits}`);
  if ((table.preSplitRegions ?? 0) > 0) parts.push(`PRE_SPLIT_REGIONS=${table.preSplitRegions}`);
  return parts.length === 0 ? "" : ` /*T! ${parts.join(" ")} */`;
}
