/**
 * Regression test for an anomaly the whole-cluster simulation found (seed 107, swarm, 20
 * steps: a bank read saw one side of a transfer). A store that becomes leader of a shard
 * starts with a concurrency manager whose max read ts knows nothing of the reads the
 * previous leader served, so an async-commit or 1PC prewrite there could commit below a
 * read ts already used — the reader missed the write on this shard and saw it on another
 * (a fractured read, breaking snapshot isolation). TiKV syncs max ts from PD when a region
 * gets a new leader (and after a merge); so must the scheduler: before its first
 * async-commit or 1PC prewrite under a leadership (a Raft term) and shard version, it
 * raises max ts to a fresh TSO timestamp.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Timestamp } from "../../../src/base/mod.ts";
import { createSimEnv } from "../../../src/env/mod.ts";
import {
  LocalStoreShards,
  MemoryEngine,
  type StoreShards,
  TxnScheduler,
  type TxnSchedulerOptions,
  wholeKeySpaceShard,
} from "../../../src/kv/mod.ts";

const b = (s: string): Uint8Array => new TextEncoder().encode(s);
const ts = (n: number): Timestamp => BigInt(n) as Timestamp;

/**
 * A store whose reads report the leader term `term.current` and shard version
 * `term.version` (a merge bumps it).
 */
function termedStore(term: { current: number; version: number }): StoreShards {
  const local = new LocalStoreShards(new MemoryEngine(), [
    wholeKeySpaceShard({ shardId: 1, peerId: 2, storeId: 1 }),
  ]);
  return {
    read: async (ctx, options) => {
      const read = await local.read(ctx, options);
      return read.kind === "ok"
        ? {
          kind: "ok",
          value: {
            ...read.value,
            shard: { ...read.value.shard,
              epoch: { ...read.value.shard.epoch, version: term.version } },
            leaderTerm: term.current,
          },
        }
        : read;
    },
    write: (ctx, ops) => local.write(ctx, ops),
    shards: () => local.shards(),
  };
}

test("a new leader syncs max ts from the TSO before an async-commit or 1PC prewrite",
  { timeout: 10_000 }, async () => {
    const env = createSimEnv({ seed: 1 });
    const term = { current: 2, version: 1 };
    let tso = 1_000;
    let fetched = 0;
    const options: TxnSchedulerOptions = {
      store: termedStore(term),
      clock: env.clock,
      timers: env.timers,
      maxTsSource: () => {
        fetched++;
        return Promise.resolve(ts(tso));
      },
    };
    const scheduler = new TxnScheduler(options);
    const context = { shardId: 1, epoch: { confVersion: 1, version: 1 } };
    const header = { clusterId: 7n };
    const prewrite = (key: string, startTs: number, mode: "async" | "1pc") =>
      scheduler.prewrite({
        header,
        context,
        mutations: [{ kind: "put", key: b(key), value: b("v") }],
        primary: b(key),
        startTs: ts(startTs),
        lockTtlMs: 3_000,
        minCommitTs: ts(startTs + 10),
        ...(mode === "async"
          ? { asyncCommit: { secondaries: [], maxCommitTs: ts(0) } }
          : { tryOnePc: { maxCommitTs: ts(0) } }),
      });
    // Reads of ts up to 999 were served by the previous leader; this one saw none of them.
    const first = await prewrite("a", 50, "async");
    assert.equal(first.keyError, undefined);
    assert.ok(first.minCommitTs > ts(1_000), `async commit at ${first.minCommitTs}`);
    assert.equal(fetched, 1);
    // Same leadership: no more TSO round trips.
    await prewrite("b", 60, "async");
    assert.equal(fetched, 1);
    // A new term (leadership lost and won back): synced again, 1PC included.
    term.current = 5;
    tso = 5_000;
    const onePc = await prewrite("c", 70, "1pc");
    assert.equal(onePc.keyError, undefined);
    assert.ok(onePc.onePcCommitTs > ts(5_000), `1PC at ${onePc.onePcCommitTs}`);
    assert.equal(fetched, 2);
    // A merge (new version, same leadership): the shard now holds keys another leader
    // served reads of, so it syncs again.
    term.version = 2;
    tso = 9_000;
    const merged = await prewrite("d", 80, "async");
    assert.ok(merged.minCommitTs > ts(9_000), `after the merge at ${merged.minCommitTs}`);
    assert.equal(fetched, 3);
    scheduler.close();
  });
