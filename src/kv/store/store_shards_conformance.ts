/**
 * The `StoreShards` contract as a test suite, run by every implementation
 * (`MultiRaftStore`, `LocalStoreShards`): each registers it with a factory returning a
 * store, the context of one shard this store leads, and a `close`.
 *
 * Conventions the suite relies on (and states for implementers): `read` keys are user
 * keys, checked against the shard's `[startKey, endKey)`; `write` ops carry engine keys in
 * the MVCC layout (`lockKey`, `writeKey`, `dataKey`: column family byte + encoded user key),
 * checked against the shard's range in each column family; an epoch mismatch means a
 * different `version` (splits and merges; conf changes do not reroute reads or writes).
 * The suite writes user keys `startKey + "~conformance-…"`, which the factory's shard must
 * contain (the whole key space does).
 */
import { strict as assert } from "node:assert";
import { test } from "node:test";
import type { ShardMeta } from "../../proto/mod.ts";
import { lockKey, writeKey } from "../mvcc/keys.ts";
import type { Timestamp } from "../../base/mod.ts";
import type { ShardContext, StoreShards } from "./store_shards.ts";

/** What a conformance factory returns. */
export interface StoreShardsUnderTest {
  readonly store: StoreShards;
  /** A shard `store` leads (ready to serve). */
  readonly shard: ShardContext;
  close(): Promise<void>;
}

const timeout = { timeout: 20_000 };
const te = new TextEncoder();
const td = new TextDecoder();

function userKey(shard: ShardMeta, name: string): Uint8Array {
  const suffix = te.encode(`~conformance-${name}`);
  const out = new Uint8Array(shard.startKey.length + suffix.length);
  out.set(shard.startKey);
  out.set(suffix, shard.startKey.length);
  return out;
}

function metaOf(t: StoreShardsUnderTest): ShardMeta {
  const entry = t.store.shards().find((s) => s.shard.id === t.shard.shardId);
  assert.ok(entry !== undefined, "shards() lists the factory's shard");
  return entry.shard;
}

async function readValue(
  t: StoreShardsUnderTest,
  key: Uint8Array,
  engineKey: Uint8Array,
): Promise<string | undefined> {
  const r = await t.store.read(t.shard, { keys: [key] });
  assert.equal(r.kind, "ok");
  if (r.kind !== "ok") return undefined;
  try {
    const v = r.value.snapshot.get(engineKey);
    return v === undefined ? undefined : td.decode(v);
  } finally {
    r.value.snapshot.release();
  }
}

/** Registers the contract tests for one implementation. */
export function storeShardsConformance(
  name: string,
  factory: () => Promise<StoreShardsUnderTest>,
): void {
  const withStore = (behaviour: string, body: (t: StoreShardsUnderTest) => Promise<void>): void => {
    test(`${name}: ${behaviour}`, timeout, async () => {
      const t = await factory();
      try {
        await body(t);
      } finally {
        await t.close();
      }
    });
  };

  withStore("shards() lists the shard as led by this store", async (t) => {
    const entry = t.store.shards().find((s) => s.shard.id === t.shard.shardId);
    assert.ok(entry !== undefined);
    assert.equal(entry.isLeader, true);
    assert.deepEqual(entry.shard.epoch, t.shard.epoch);
  });

  withStore("a write is visible to a later read", async (t) => {
    const k = userKey(metaOf(t), "a");
    const w = await t.store.write(t.shard, [
      { kind: "put", key: lockKey(k), value: te.encode("1") },
    ]);
    assert.deepEqual(w, { kind: "ok" });
    assert.equal(await readValue(t, k, lockKey(k)), "1");
  });

  withStore("a batch of puts and deletes applies atomically, in order", async (t) => {
    const meta = metaOf(t);
    const a = userKey(meta, "b1");
    const b = userKey(meta, "b2");
    const ts = 10n as Timestamp;
    await t.store.write(t.shard, [{ kind: "put", key: lockKey(a), value: te.encode("x") }]);
    const w = await t.store.write(t.shard, [
      { kind: "delete", key: lockKey(a) },
      { kind: "put", key: writeKey(b, ts), value: te.encode("y") },
      { kind: "put", key: lockKey(b), value: te.encode("z") },
    ]);
    assert.deepEqual(w, { kind: "ok" });
    assert.equal(await readValue(t, a, lockKey(a)), undefined);
    assert.equal(await readValue(t, b, writeKey(b, ts)), "y");
    assert.equal(await readValue(t, b, lockKey(b)), "z");
  });

  withStore("a read snapshot does not see later writes", async (t) => {
    const k = userKey(metaOf(t), "c");
    await t.store.write(t.shard, [{ kind: "put", key: lockKey(k), value: te.encode("old") }]);
    const r = await t.store.read(t.shard, { keys: [k] });
    assert.equal(r.kind, "ok");
    if (r.kind !== "ok") return;
    try {
      await t.store.write(t.shard, [{ kind: "put", key: lockKey(k), value: te.encode("new") }]);
      assert.equal(td.decode(r.value.snapshot.get(lockKey(k)) ?? new Uint8Array()), "old");
      assert.equal(r.value.shard.id, t.shard.shardId);
    } finally {
      r.value.snapshot.release();
    }
    assert.equal(await readValue(t, k, lockKey(k)), "new");
  });

  withStore("an unknown shard is shardNotFound for reads and writes", async (t) => {
    const ctx = { shardId: 987_654_321, epoch: t.shard.epoch };
    const k = userKey(metaOf(t), "d");
    assert.deepEqual(await t.store.read(ctx, { keys: [k] }),
      { kind: "shardNotFound", shardId: 987_654_321 });
    assert.deepEqual(await t.store.write(ctx, [{ kind: "put", key: lockKey(k), value: k }]),
      { kind: "shardNotFound", shardId: 987_654_321 });
  });

  withStore("a stale epoch version is epochNotMatch with the current shard", async (t) => {
    const meta = metaOf(t);
    const stale = { shardId: t.shard.shardId,
      epoch: { ...t.shard.epoch, version: t.shard.epoch.version + 1 } };
    const k = userKey(meta, "e");
    const r = await t.store.read(stale, { keys: [k] });
    assert.equal(r.kind, "epochNotMatch");
    if (r.kind === "epochNotMatch") {
      assert.ok(r.current.some((s) => s.id === meta.id && s.epoch.version === meta.epoch.version));
    }
    const w = await t.store.write(stale, [{ kind: "put", key: lockKey(k), value: k }]);
    assert.equal(w.kind, "epochNotMatch");
    assert.equal(await readValue(t, k, lockKey(k)), undefined, "nothing was written");
  });

  withStore("a key outside the shard is keyNotInShard", async (t) => {
    const meta = metaOf(t);
    if (meta.startKey.length === 0 && meta.endKey.length === 0) {
      // The whole key space: only a write of a key outside every column family is outside.
      const bad = Uint8Array.of(0x02, 0x01);
      const w = await t.store.write(t.shard, [{ kind: "put", key: bad, value: bad }]);
      assert.equal(w.kind, "keyNotInShard");
      return;
    }
    const outside = meta.startKey.length > 0 ? new Uint8Array(0) : meta.endKey;
    const r = await t.store.read(t.shard, { keys: [outside] });
    assert.equal(r.kind, "keyNotInShard");
    const w = await t.store.write(t.shard, [
      { kind: "put", key: lockKey(outside), value: te.encode("no") },
    ]);
    assert.equal(w.kind, "keyNotInShard");
  });

  withStore("concurrent writes all apply and all resolve ok", async (t) => {
    const meta = metaOf(t);
    const keys = Array.from({ length: 50 }, (_, i) => userKey(meta, `f${i}`));
    const results = await Promise.all(keys.map((k, i) =>
      t.store.write(t.shard, [{ kind: "put", key: lockKey(k), value: te.encode(`${i}`) }])));
    assert.ok(results.every((r) => r.kind === "ok"));
    const r = await t.store.read(t.shard, { keys });
    assert.equal(r.kind, "ok");
    if (r.kind !== "ok") return;
    try {
      keys.forEach((k, i) => {
        assert.equal(td.decode(r.value.snapshot.get(lockKey(k)) ?? new Uint8Array()), `${i}`);
      });
    } finally {
      r.value.snapshot.release();
    }
  });
}
