/**
 * Regression test for an anomaly the whole-cluster simulation found (seed 310, swarm, 20
 * steps: list-append G1a, a read saw elements of a transaction reported as failed). A
 * store answers `staleCommand` to a write it had proposed when its leadership ended before
 * the entry applied; the entry may still commit under the next leader. The KV client
 * retried, kept meeting `notLeader` while the shard elected, gave up with
 * `CLIENT:Route:RetriesExhausted` marked not ambiguous, and the committer reported a 1PC
 * transaction that had committed as failed. A `staleCommand` must make the outcome
 * ambiguous, as a lost reply does.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ErrorCode, hasErrorCode } from "../../../src/base/mod.ts";
import { KvClient, type ShardRouter } from "../../../src/client/mod.ts";
import { createSimEnv } from "../../../src/env/mod.ts";
import type { KvReply, ShardMeta, ShardRoute } from "../../../src/proto/mod.ts";
import { runUntilSettled } from "../../../src/env/sim/test_sim_drive.ts";

const shard: ShardMeta = {
  id: 1,
  startKey: new Uint8Array(0),
  endKey: new Uint8Array(0),
  epoch: { confVersion: 1, version: 1 },
  peers: [{ peerId: 10, storeId: 1, role: "voter" }],
};

/** A router with one shard led by store 1. */
const router: ShardRouter = {
  clusterId: () => Promise.resolve(7n),
  getShardByKey: (): Promise<ShardRoute | null> =>
    Promise.resolve({ shard, leader: shard.peers[0] ?? null }),
  scanShards: () => Promise.resolve([{ shard, leader: shard.peers[0] ?? null }]),
  invalidateShard: () => undefined,
  updateShardLeader: () => undefined,
  getStore: () => Promise.resolve({ address: "store-1" }),
  invalidateStore: () => undefined,
};

test("a write answered staleCommand, then refused until retries run out, is ambiguous",
  { timeout: 10_000 }, async () => {
    const env = createSimEnv({ seed: 1 });
    const replies: KvReply[] = [{ routeError: { kind: "staleCommand" } }];
    const kv = new KvClient(env, {
      router,
      transport: {
        call: () => Promise.resolve(replies.shift() ??
          { routeError: { kind: "notLeader", shardId: 1 } }),
        close: () => Promise.resolve(),
      },
      attemptsMax: 3,
      backoffMsMin: 1,
      backoffMsMax: 4,
    });
    const sent = kv.sendKeys([new Uint8Array([1])], "kv.Prewrite", () => ({}))
      .then(() => undefined, (error: unknown) => error);
    const error = await runUntilSettled(env.scheduler, sent, { what: "the prewrite" });
    assert.ok(hasErrorCode(error, ErrorCode.ClientRouteRetriesExhausted), String(error));
    assert.equal((error as { ambiguous?: boolean }).ambiguous, true);
  });
