/**
 * `MultiRaftStore` on LMDB: a store closed and reopened on the same data directory
 * recovers its shards (meta, log, applied state) from the engine and keeps serving; a
 * store whose engine fails a write stops (fail-stop) instead of skipping an entry.
 */
import { strict as assert } from "node:assert";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { createNodeEnv } from "../../env/mod.ts";
import type { WriteOp, WriteOptions } from "../engine/engine.ts";
import { LmdbEngine } from "../engine/lmdb_engine.ts";
import { MemoryEngine } from "../engine/memory_engine.ts";
import { lockKey } from "../mvcc/keys.ts";
import { MultiRaftStore } from "./multi_raft_store.ts";
import { LocalRaftNetwork } from "./raft_transport.ts";
import { bytes, putOp, shardMeta, testRaftOptions, text } from "./test_cluster.ts";

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 4_000; i++) {
    if (cond()) return;
    await sleep(5);
  }
  throw new Error(`timed out waiting for ${what}`);
}

test("MultiRaftStore: a store reopened on its LMDB directory recovers and keeps serving",
  { timeout: 30_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), "tessera-mrs-lmdb-"));
    const env = createNodeEnv();
    const meta = shardMeta(1, [1]);
    const open = async (engine: LmdbEngine): Promise<MultiRaftStore> => {
      const store = await MultiRaftStore.open({
        env, engine, storeId: 1, transport: new LocalRaftNetwork().transport(1),
        raft: testRaftOptions, bootstrap: meta,
      });
      await until(() => store.shards().some((s) => s.isLeader), "leadership");
      return store;
    };
    try {
      let engine = await LmdbEngine.open(dir);
      let store = await open(engine);
      for (let i = 0; i < 10; i++) {
        assert.equal((await store.write({ shardId: 1, epoch: meta.epoch },
          [putOp(`k${i}`, `v${i}`)])).kind, "ok");
      }
      const appliedBefore = store.status(1)?.appliedIndex ?? 0;
      await store.close();
      await engine.close();
      engine = await LmdbEngine.open(dir);
      store = await open(engine);
      assert.ok((store.status(1)?.appliedIndex ?? 0) >= appliedBefore);
      const r = await store.read({ shardId: 1, epoch: meta.epoch }, { keys: [bytes("k9")] });
      assert.equal(r.kind, "ok");
      if (r.kind === "ok") {
        assert.equal(text(r.value.snapshot.get(lockKey(bytes("k9")))), "v9");
        r.value.snapshot.release();
      }
      const w = await store.write({ shardId: 1, epoch: meta.epoch }, [putOp("k10", "v10")]);
      assert.equal(w.kind, "ok");
      await store.close();
      await engine.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

test("MultiRaftStore: an engine write failure while applying stops the store (fail-stop)",
  { timeout: 30_000 }, async () => {
    const engine = new MemoryEngine();
    let failWrites = false;
    const realWrite = engine.write.bind(engine);
    engine.write = (ops: readonly WriteOp[], options: WriteOptions): Promise<void> =>
      failWrites ? Promise.reject(new Error("disk full")) : realWrite(ops, options);
    const fatals: unknown[] = [];
    const meta = shardMeta(1, [1]);
    const store = await MultiRaftStore.open({
      env: createNodeEnv(), engine, storeId: 1, transport: new LocalRaftNetwork().transport(1),
      raft: testRaftOptions, bootstrap: meta, onFatal: (e) => fatals.push(e),
    });
    try {
      await until(() => store.shards().some((s) => s.isLeader), "leadership");
      failWrites = true;
      const pending = store.write({ shardId: 1, epoch: meta.epoch }, [putOp("a", "1")]);
      await until(() => fatals.length > 0, "the fatal report");
      assert.match(String(fatals[0]), /disk full/);
      assert.ok(store.fatalError !== undefined);
      const outcome = await pending;
      assert.equal(outcome.kind, "staleCommand", "the waiting write learns nothing applied");
      const after = await store.write({ shardId: 1, epoch: meta.epoch }, [putOp("b", "1")]);
      assert.equal(after.kind, "shardNotFound", "a stopped store serves nothing");
    } finally {
      await store.close();
    }
  });
