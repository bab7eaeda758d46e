/**
 * The ids INSERT generates (auto_ids.ts) with a fake allocator: AUTO_RANDOM values for
 * NULL and 0 with the start ts's shard, explicit values refused (8216) or kept and rebased
 * on, and hidden row ids sharded under SHARD_ROW_ID_BITS only.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Value } from "../../expr/mod.ts";
import { MySqlError } from "../mysql_errors.ts";
import { parse } from "../parser/parse.ts";
import type { AutoIdAllocator } from "../catalog/catalog.ts";
import { shardOf } from "../catalog/auto_random.ts";
import { type TableInfo, tableInfoOf } from "../catalog/schema.ts";
import { fillAutoRandom, newRowId } from "./auto_ids.ts";

const opts = { timeout: 10_000 };

function table(sql: string): TableInfo {
  const parsed = parse(sql);
  assert.equal(parsed.kind, "ok", sql);
  if (parsed.kind !== "ok") throw new Error("unreachable");
  const statement = parsed.statements[0]!.statement;
  if (statement.kind !== "createTable") throw new Error("not CREATE TABLE");
  return tableInfoOf(statement.table.name, statement, { tableId: 7, dbId: 1 });
}

/** An allocator handing out 1, 2, 3 … and recording rebases. */
function fakeAllocator(): AutoIdAllocator & { rebased: bigint[] } {
  let next = 1n;
  const rebased: bigint[] = [];
  const fake = {
    rebased,
    next: () => Promise.resolve(next++),
    rebase: (_table: number, used: bigint) => {
      rebased.push(used);
      if (used >= next) next = used + 1n;
      return Promise.resolve();
    },
    forget: () => undefined,
  };
  return fake as unknown as AutoIdAllocator & { rebased: bigint[] };
}

test("fillAutoRandom generates for NULL and 0, refuses or keeps explicit values", opts,
  async () => {
    const info = table("CREATE TABLE t (id BIGINT PRIMARY KEY AUTO_RANDOM(4), v INT)");
    const column = info.columns[0]!;
    const autoIds = fakeAllocator();
    const ctx = { autoIds, startTs: 1234n << 18n, allowExplicit: false };
    const shard = shardOf(ctx.startTs) & 15n;
    for (const given of [null, { kind: "int", value: 0n }] as Value[]) {
      const values: Value[] = [given, { kind: "int", value: 1n }];
      const id = await fillAutoRandom(ctx, info, column, values);
      assert.ok(id !== null);
      assert.equal(id >> 59n, shard);
      assert.deepEqual(values[0], { kind: "int", value: id });
    }
    const explicit: Value[] = [{ kind: "int", value: (3n << 59n) | 50n }, null];
    await assert.rejects(fillAutoRandom(ctx, info, column, explicit),
      (e: unknown) => e instanceof MySqlError && e.errno === 8216 &&
        e.message.includes("allow_auto_random_explicit_insert"));
    const allowed = { ...ctx, allowExplicit: true };
    assert.equal(await fillAutoRandom(allowed, info, column, explicit), null);
    assert.deepEqual(autoIds.rebased, [50n]);
    const after: Value[] = [null, null];
    assert.equal(await fillAutoRandom(ctx, info, column, after), (shard << 59n) | 51n);
  });

test("newRowId shards the hidden row id under SHARD_ROW_ID_BITS only", opts, async () => {
  const plain = table("CREATE TABLE t (v INT)");
  const sharded = table("CREATE TABLE t (v INT) SHARD_ROW_ID_BITS = 4");
  assert.equal(sharded.shardRowIdBits, 4);
  const ctx = { autoIds: fakeAllocator(), startTs: 99n << 18n, allowExplicit: false };
  assert.equal(await newRowId(ctx, plain), 1n);
  assert.equal(await newRowId(ctx, sharded), ((shardOf(ctx.startTs) & 15n) << 59n) | 2n);
});
