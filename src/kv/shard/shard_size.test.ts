/**
 * Size estimates of a shard's data (middle key, key count) over the MVCC layout, and the
 * per-interval load rates of `ShardFlow`.
 */
import { strict as assert } from "node:assert";
import { test } from "node:test";
import type { Timestamp } from "../../base/mod.ts";
import { MemoryEngine } from "../engine/memory_engine.ts";
import { dataKey, lockKey, writeKey } from "../mvcc/keys.ts";
import { ShardFlow, countingSnapshot } from "./shard_flow.ts";
import { approximateUserKeys, middleUserKey, shardDataBytes } from "./shard_size.ts";

const timeout = { timeout: 10_000 };
const b = (s: string): Uint8Array => new TextEncoder().encode(s);
const whole = { startKey: new Uint8Array(0), endKey: new Uint8Array(0) };

test("middleUserKey() cuts at a user-key boundary, never between versions of one key",
  timeout, async () => {
    const engine = new MemoryEngine();
    const ops = [];
    // "a" is small; "m" has many big versions and a lock; "z" is small.
    ops.push({ kind: "put" as const, key: writeKey(b("a"), 5n as Timestamp), value: b("x") });
    for (let ts = 1n; ts <= 20n; ts++) {
      ops.push({ kind: "put" as const, key: writeKey(b("m"), ts as Timestamp), value: b("w") });
      const big = new Uint8Array(100).fill(7);
      ops.push({ kind: "put" as const, key: dataKey(b("m"), ts as Timestamp), value: big });
    }
    ops.push({ kind: "put" as const, key: lockKey(b("m")), value: b("lock") });
    ops.push({ kind: "put" as const, key: writeKey(b("z"), 5n as Timestamp), value: b("x") });
    await engine.write(ops, { sync: false });
    const totalBytes = shardDataBytes(engine, whole);
    assert.ok(totalBytes > 2000);
    // Half the bytes lie before "z" only once all of "m" is counted: "m" goes whole.
    assert.deepEqual(middleUserKey(engine, whole, { totalBytes }), b("z"));
    assert.equal(approximateUserKeys(engine, whole, { totalBytes, scanKeysMax: 100 }), 3);
  });

test("middleUserKey() finds no key in a shard holding one user key", timeout, async () => {
  const engine = new MemoryEngine();
  await engine.write([{ kind: "put", key: lockKey(b("k")), value: b("v") }], { sync: false });
  const range = { startKey: b("k"), endKey: b("l") };
  assert.equal(middleUserKey(engine, range, { totalBytes: shardDataBytes(engine, range) }),
    undefined);
});

test("middleUserKey() splits evenly sized keys near the middle", timeout, async () => {
  const engine = new MemoryEngine();
  const ops = [];
  for (let i = 0; i < 100; i++) {
    const key = b(`k${String(i).padStart(3, "0")}`);
    ops.push({ kind: "put" as const, key: writeKey(key, 9n as Timestamp), value: b("vvvv") });
  }
  await engine.write(ops, { sync: false });
  const totalBytes = shardDataBytes(engine, whole);
  assert.deepEqual(middleUserKey(engine, whole, { totalBytes }), b("k050"));
  // Counting stops at 10 keys and extrapolates from their bytes.
  assert.equal(approximateUserKeys(engine, whole, { totalBytes, scanKeysMax: 10 }), 100);
});

test("ShardFlow.take() reports the load of the interval per second and starts anew",
  timeout, async () => {
    const flow = new ShardFlow();
    assert.equal(flow.take(1_000).writeKeysPerSec, 0, "the first take has no interval");
    flow.wrote([{ kind: "put", key: b("ab"), value: b("cd") }, { kind: "delete", key: b("e") }]);
    flow.query();
    const engine = new MemoryEngine();
    await engine.write([{ kind: "put", key: b("k"), value: b("vv") }], { sync: false });
    const snap = countingSnapshot(engine.snapshot(), flow);
    snap.get(b("k"));
    snap.get(b("missing"));
    assert.equal([...snap.scan({})].length, 1);
    snap.release();
    const rates = flow.take(3_000);
    assert.deepEqual(rates, {
      readBytesPerSec: 3,
      readKeysPerSec: 1,
      writeBytesPerSec: 2.5,
      writeKeysPerSec: 1,
      queriesPerSec: 0.5,
    });
    assert.equal(flow.take(4_000).writeKeysPerSec, 0);
  });
