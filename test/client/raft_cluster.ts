/**
 * A three-store Raft cluster for the transactional client's multi-process test and bench:
 * the loopback harness's in-process PD and three `tessera kv` children with fast Raft
 * ticks (as `test/kv/kv_cluster.test.ts` runs them), shard 1 grown to three voters by PD's
 * replica checker, then split through PD operators so that keys on both sides of each split
 * key live in different shards, each with three voters and a leader.
 *
 * `startRaftCluster` returns the cluster before any node starts so that the caller owns it
 * (and closes it in `after()` or `finally`) even when forming the shards times out.
 */
import type { ShardRoute } from "../../src/proto/mod.ts";
import { type KvNode, LoopbackCluster, type Serving, waitFor } from "../kv/cluster_harness.ts";

/** Raft and heartbeat intervals short enough that a leader is replaced within seconds. */
export const fastRaftKvFlags: readonly string[] = [
  "--store-heartbeat-interval", "100ms", "--shard-heartbeat-interval", "100ms",
  "--raft-tick-interval", "50ms", "--raft-election-ticks", "10",
  "--leader-transfer-timeout", "3s",
];

/** Starts PD (scheduling every 100 ms, a store down after 1 s of silence); no nodes yet. */
export function startRaftCluster(): Promise<LoopbackCluster> {
  return LoopbackCluster.start({
    scheduleIntervalMs: 100,
    schedulerConfig: { storeDisconnectTimeMs: 1_000, maxStoreDownTimeMs: 3_000 },
    kvFlags: fastRaftKvFlags,
  });
}

/** Every shard PD's leader knows, in key order. */
export function allShards(cluster: LoopbackCluster): ShardRoute[] {
  return cluster.pd.leaderCluster().scanShards(new Uint8Array(0), new Uint8Array(0), 100);
}

function threeVotersWithLeader(route: ShardRoute): boolean {
  const voters = route.shard.peers.filter((p) => p.role === "voter");
  return route.leader !== null && voters.length === 3 && route.shard.peers.length === 3;
}

/**
 * Starts three KV nodes, waits for shard 1 to have three voters, splits it at `splitKeys`
 * and waits until every shard has three voters and a leader. Resolves with each node's
 * serving line.
 */
export async function formShards(
  cluster: LoopbackCluster,
  options: { readonly splitKeys: readonly Uint8Array[] },
): Promise<Map<KvNode, Serving>> {
  const nodes = [cluster.startNode(), cluster.startNode(), cluster.startNode()];
  const servings = new Map<KvNode, Serving>();
  for (const node of nodes) servings.set(node, await node.serving);
  const first = await waitFor("shard 1 with three voters and a leader", () => {
    const shards = allShards(cluster);
    return shards.length === 1 && threeVotersWithLeader(shards[0] as ShardRoute)
      ? shards[0]
      : undefined;
  });
  if (options.splitKeys.length > 0) {
    cluster.pd.addOperator({
      kind: "split",
      shardId: first.shard.id,
      policy: "byKeys",
      keys: [...options.splitKeys],
    });
  }
  await waitFor(`${options.splitKeys.length + 1} shards with three voters and leaders`, () => {
    const shards = allShards(cluster);
    return shards.length === options.splitKeys.length + 1 && shards.every(threeVotersWithLeader)
      ? true
      : undefined;
  });
  return servings;
}
