/**
 * AUTO_RANDOM and SHARD_ROW_ID_BITS (auto_random.ts): the id layout (sign bit, shard
 * bits, sequential part) for signed and unsigned columns and other range bits, the shard
 * taken from the start ts, TiDB's rules on where AUTO_RANDOM may be (8216) and
 * SHARD_ROW_ID_BITS on a table keyed by its integer primary key (8200), what ALTER TABLE
 * may do to an AUTO_RANDOM column and to SHARD_ROW_ID_BITS, and the SHOW CREATE TABLE
 * forms.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { MySqlError } from "../mysql_errors.ts";
import type { TableOption } from "../parser/ast.ts";
import { parse } from "../parser/parse.ts";
import { checkAutoRandomAlter, hasShardOption, incrementalBits, incrementalPart, rowIdLayout,
  shardOf, shardRowIdAlterOf, shardedId } from "./auto_random.ts";
import { type TableInfo, showCreateTable, tableInfoOf } from "./schema.ts";

const opts = { timeout: 10_000 };

function table(sql: string): TableInfo {
  const parsed = parse(sql);
  assert.equal(parsed.kind, "ok", sql);
  if (parsed.kind !== "ok") throw new Error("unreachable");
  const statement = parsed.statements[0]!.statement;
  if (statement.kind !== "createTable") throw new Error("not CREATE TABLE");
  return tableInfoOf(statement.table.name, statement, { tableId: 7, dbId: 1 });
}

function errorOf(sql: string): string {
  try {
    table(sql);
  } catch (error: unknown) {
    assert.ok(error instanceof MySqlError, String(error));
    return `${error.errno} ${error.message}`;
  }
  return "no error";
}

test("the id layout: sign bit, shard bits, sequential part", opts, () => {
  const signed = { shardBits: 5, rangeBits: 64, unsigned: false };
  assert.equal(incrementalBits(signed), 58);
  assert.equal(shardedId(3n, signed, 0b10110n), (0b10110n << 58n) | 3n);
  // Only the low shard bits of the shard are used; the sign bit stays clear.
  const id = shardedId(1n, signed, (1n << 64n) - 1n);
  assert.equal(id, (31n << 58n) | 1n);
  assert.ok(id < 1n << 63n);
  const unsigned = { shardBits: 3, rangeBits: 40, unsigned: true };
  assert.equal(incrementalBits(unsigned), 37);
  assert.equal(shardedId(2n, unsigned, 4n), (4n << 37n) | 2n);
  assert.equal(incrementalPart((4n << 37n) | 99n, unsigned), 99n);
  // The sequential part used up: TiDB's 8228.
  assert.throws(() => shardedId(1n << 37n, unsigned, 0n),
    (e: unknown) => e instanceof MySqlError && e.errno === 8228);
  assert.equal(incrementalBits(rowIdLayout(4)), 59);
  // More than 15 bits is TiDB's 15.
  assert.equal(table("CREATE TABLE t (v INT) SHARD_ROW_ID_BITS = 20").shardRowIdBits, 15);
});

test("the shard comes from the start ts and differs between start ts", opts, () => {
  assert.equal(shardOf(42n), shardOf(42n));
  const shards = new Set<bigint>();
  for (let ts = 1n; ts <= 64n; ts++) shards.add(shardOf(ts << 18n) & 31n);
  // 64 consecutive start ts spread over most of the 32 shards of AUTO_RANDOM(5).
  assert.ok(shards.size >= 20, `only ${shards.size} shards`);
});

test("where AUTO_RANDOM and SHARD_ROW_ID_BITS may be (8216, 8200)", opts, () => {
  const cases: [string, string][] = [
    ["CREATE TABLE t (id INT PRIMARY KEY AUTO_RANDOM)", "8216 Invalid auto random: " +
      "auto_random option must be defined on `bigint` column, but not on `int` column"],
    ["CREATE TABLE t (id BIGINT AUTO_RANDOM, v INT)", "8216 Invalid auto random: column id " +
      "is not the integer primary key, or the primary key is nonclustered"],
    ["CREATE TABLE t (id BIGINT AUTO_RANDOM, v INT, PRIMARY KEY (id, v))", "8216 Invalid " +
      "auto random: column id is not the integer primary key, or the primary key is " +
      "nonclustered"],
    ["CREATE TABLE t (id BIGINT PRIMARY KEY AUTO_RANDOM AUTO_INCREMENT)",
      "8216 Invalid auto random: auto_random is incompatible with auto_increment"],
    ["CREATE TABLE t (id BIGINT PRIMARY KEY AUTO_RANDOM DEFAULT 1)",
      "8216 Invalid auto random: auto_random is incompatible with default"],
    ["CREATE TABLE t (id BIGINT PRIMARY KEY AUTO_RANDOM(16))", "8216 Invalid auto random: " +
      "max allowed auto_random shard bits is 15, but got 16 on column `id`"],
    ["CREATE TABLE t (id BIGINT PRIMARY KEY AUTO_RANDOM(0))",
      "8216 Invalid auto random: the value of auto_random should be positive"],
    ["CREATE TABLE t (id BIGINT PRIMARY KEY AUTO_RANDOM(5, 20))", "8216 Invalid auto random: " +
      "auto_random range bits must be between 32 and 64, but got 20"],
    ["CREATE TABLE t (id BIGINT PRIMARY KEY, v INT) SHARD_ROW_ID_BITS = 2",
      "8200 Unsupported shard_row_id_bits for table with primary key as row id"],
    ["CREATE TABLE t (id BIGINT PRIMARY KEY /*T![auto_rand] AUTO_RANDOM(3) */)", "no error"],
  ];
  for (const [sql, expected] of cases) assert.equal(errorOf(sql), expected, sql);
});

test("SHOW CREATE TABLE prints TiDB's executable comments, which parse back", opts, () => {
  const auto = table("CREATE TABLE t (id BIGINT UNSIGNED AUTO_RANDOM(3, 40), v INT, " +
    "PRIMARY KEY (id)) PRE_SPLIT_REGIONS = 2");
  const text = showCreateTable(auto);
  assert.match(text, /`id` bigint unsigned NOT NULL \/\*T!\[auto_rand\] AUTO_RANDOM\(3, 40\) \*\//);
  assert.match(text, /utf8mb4_general_ci \/\*T! PRE_SPLIT_REGIONS=2 \*\/$/);
  assert.equal(showCreateTable(table(text)), text);
  const sharded = table("CREATE TABLE s (v INT) SHARD_ROW_ID_BITS 4 PRE_SPLIT_REGIONS 6");
  const shown = showCreateTable(sharded);
  // PRE_SPLIT_REGIONS is capped by the shard bits, as TiDB caps it.
  assert.match(shown, /\/\*T! SHARD_ROW_ID_BITS=4 PRE_SPLIT_REGIONS=4 \*\/$/);
  assert.equal(showCreateTable(table(shown)), shown);
});

test("ALTER TABLE may not add, drop or change AUTO_RANDOM (8216)", opts, () => {
  const info = table("CREATE TABLE t (id BIGINT PRIMARY KEY AUTO_RANDOM(4), v BIGINT)");
  const [id, v] = [info.columns[0]!, info.columns[1]!];
  const defOf = (sql: string) => {
    const parsed = parse(`CREATE TABLE x (${sql})`);
    if (parsed.kind !== "ok") throw new Error(sql);
    const statement = parsed.statements[0]!.statement;
    if (statement.kind !== "createTable") throw new Error(sql);
    return statement.columns[0]!;
  };
  const where = { db: "d", table: "t" };
  const messageOf = (current: typeof id | null, sql: string): string => {
    try {
      checkAutoRandomAlter(where, current, defOf(sql));
    } catch (error: unknown) {
      assert.ok(error instanceof MySqlError && error.errno === 8216, String(error));
      return error.message.replace("Invalid auto random: ", "");
    }
    return "allowed";
  };
  assert.equal(messageOf(id, "id BIGINT AUTO_RANDOM(4) COMMENT 'x'"), "allowed");
  assert.equal(messageOf(v, "v BIGINT NOT NULL"), "allowed");
  assert.equal(messageOf(null, "w INT"), "allowed");
  assert.equal(messageOf(id, "id BIGINT"),
    "adding/dropping/modifying auto_random is not supported");
  assert.equal(messageOf(id, "id BIGINT AUTO_RANDOM(6)"),
    "adding/dropping/modifying auto_random is not supported");
  assert.equal(messageOf(v, "v BIGINT AUTO_RANDOM"),
    "adding/dropping/modifying auto_random is not supported");
  assert.equal(messageOf(id, "id INT AUTO_RANDOM(4)"),
    "modifying the auto_random column type is not supported");
  assert.equal(messageOf(null, "w BIGINT AUTO_RANDOM"),
    "unsupported add column 'w' constraint AUTO_RANDOM when altering 'd.t'");
});

test("ALTER TABLE SHARD_ROW_ID_BITS: new bits, capped, unchanged, refused (8200)", opts, () => {
  const option = (name: string, value: string): TableOption =>
    ({ name, value, quoted: false });
  const heap = table("CREATE TABLE t (v INT)");
  assert.equal(shardRowIdAlterOf([option("shard_row_id_bits", "4")], heap), 4);
  assert.equal(shardRowIdAlterOf([option("SHARD_ROW_ID_BITS", "99")], heap), 15);
  // The same bits as now, or no such option: nothing to change.
  assert.equal(shardRowIdAlterOf([option("SHARD_ROW_ID_BITS", "0")], heap), undefined);
  assert.equal(shardRowIdAlterOf([option("ENGINE", "InnoDB")], heap), undefined);
  const keyed = table("CREATE TABLE t (id INT PRIMARY KEY)");
  assert.throws(() => shardRowIdAlterOf([option("SHARD_ROW_ID_BITS", "2")], keyed),
    (e: unknown) => e instanceof MySqlError && e.errno === 8200 &&
      e.message === "Unsupported shard_row_id_bits for table with primary key as row id");
  assert.equal(shardRowIdAlterOf([option("SHARD_ROW_ID_BITS", "0")], keyed), undefined);
  // TiDB takes PRE_SPLIT_REGIONS only in CREATE TABLE.
  assert.throws(() => shardRowIdAlterOf([option("PRE_SPLIT_REGIONS", "2")], heap),
    (e: unknown) => e instanceof MySqlError && e.errno === 8200 &&
      e.message === "This type of ALTER TABLE is currently unsupported");
  assert.ok(hasShardOption([option("pre_split_regions", "1")]));
  assert.ok(!hasShardOption([option("COMMENT", "'x'")]));
});
