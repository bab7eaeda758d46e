/**
 * `ShardCache`, the PD client's routing cache, on its own: lookups by key range, routes
 * from PD replacing the cached routes they overlap, and the least-recently-used bound.
 * The client against real PD servers is tested in `test/pd/pd_client.test.ts` (a client
 * test may not import `pd`).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { ShardMeta, ShardRoute } from "../proto/mod.ts";
import { ShardCache } from "./pd_client.ts";

const opts = { timeout: 5_000 };
const b = (s: string): Uint8Array => new TextEncoder().encode(s);
const shardMeta = (id: number, start: string, end: string, version: number): ShardMeta => ({
  id,
  startKey: b(start),
  endKey: b(end),
  epoch: { confVersion: 1, version },
  peers: [{ peerId: id * 10, storeId: 1, role: "voter" }],
});

function route(id: number, start: string, end: string): ShardRoute {
  return { shard: shardMeta(id, start, end, 1), leader: null };
}

test("ShardCache finds keys by range, drops overlapped routes and stays bounded", opts, () => {
  const cache = new ShardCache(3);
  cache.insert(route(1, "", "c"));
  cache.insert(route(2, "c", "f"));
  cache.insert(route(3, "f", ""));
  const find = (key: string) => cache.findByKey(b(key))?.shard.id;
  assert.deepEqual(["", "a", "c", "e", "f", "zz"].map(find), [1, 1, 2, 2, 3, 3]);
  // A merge result covering [c, z) replaces shard 2 and overlaps shard 3.
  cache.insert(route(4, "c", "z"));
  assert.deepEqual(["a", "c", "y", "z"].map(find), [1, 4, 4, undefined]);
  assert.equal(cache.size, 2);
  // Capacity 3: the least recently used route (shard 4, since "a" was looked up last) goes.
  cache.insert(route(5, "z", "zz"));
  assert.equal(find("a"), 1);
  cache.insert(route(6, "zz", ""));
  assert.equal(cache.size, 3);
  assert.equal(find("c"), undefined, "the least recently used route was evicted");
  assert.equal(find("a"), 1);
  assert.equal(cache.remove(1), true);
  assert.equal(cache.remove(1), false);
  assert.equal(find("a"), undefined);
});


test("ShardCache keeps newer routes over a stale one that overlaps them", opts, () => {
  // A store's epochNotMatch reply cached the two halves of a split (version 2) while a PD
  // lookup that started before PD heard of the split returns the parent (version 1).
  const cache = new ShardCache(10);
  cache.insert({ shard: shardMeta(1, "a", "m", 2), leader: null });
  cache.insert({ shard: shardMeta(7, "m", "z", 2), leader: null });
  cache.insert({ shard: shardMeta(1, "a", "z", 1), leader: null });
  const find = (key: string) => cache.findByKey(b(key))?.shard;
  assert.deepEqual([find("b")?.id, find("b")?.epoch.version], [1, 2]);
  assert.deepEqual([find("n")?.id, find("n")?.epoch.version], [7, 2]);
  // A route at least as new still replaces what it overlaps (a merge, version 3).
  cache.insert({ shard: shardMeta(7, "a", "z", 3), leader: null });
  assert.deepEqual([find("b")?.id, find("n")?.id, cache.size], [7, 7, 1]);
});
