/**
 * Splitting shards of the in-process test cluster (`test_cluster.ts`) from a test: a
 * `kv.Split` sent to the store holding the key, then the new shards reported to PD as
 * their leaders' heartbeats would. Clients that cached the old shard keep their stale
 * route until a store answers them `epochNotMatch`, as after a real split.
 */
import { KvMethod, type ShardMeta, type SplitReply } from "../../src/proto/mod.ts";
import type { TestCluster } from "./test_cluster.ts";

const noShardLoad = {
  approximateSizeBytes: 0,
  approximateKeys: 0,
  readBytesPerSec: 0,
  readKeysPerSec: 0,
  writeBytesPerSec: 0,
  writeKeysPerSec: 0,
  queriesPerSec: 0,
};

/** Splits the shard holding `key` at `key`; resolves with the shards now covering it. */
export async function splitShardAt(cluster: TestCluster, key: Uint8Array):
  Promise<readonly ShardMeta[]> {
  const client = cluster.client();
  const { reply } = await client.kv.sendKey<SplitReply>(key, KvMethod.split,
    () => ({ splitKeys: [key] }));
  if (reply.keyError !== undefined) throw new Error(`split failed: ${reply.keyError.kind}`);
  for (const shard of reply.shards) {
    await cluster.pdClient.shardHeartbeat({
      shard,
      leaderPeerId: (shard.peers[0] as { peerId: number }).peerId,
      pendingPeerIds: [],
      stats: noShardLoad,
    });
  }
  return reply.shards;
}
