/**
 * Pure tests of the KV client's pieces: backoff bounds, grouping keys by shard, the write
 * buffer's order and limits, and `KvClient` recovering from route errors (not leader,
 * epoch not match, busy) against a fake router and transport, with a bounded failure.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { ErrorCode, TesseraError, hasErrorCode } from "../base/mod.ts";
import { createNodeEnv } from "../env/mod.ts";
import type { KvReply, PeerMeta, ShardMeta, ShardRoute } from "../proto/mod.ts";
import { Backoff } from "./backoff.ts";
import { KvClient, type ShardRouter, groupKeysByShard, mapBounded } from "./kv_client.ts";
import { WriteBuffer } from "./write_buffer.ts";

const opts = { timeout: 10_000 };
const b = (s: string): Uint8Array => new TextEncoder().encode(s);
const s = (u: Uint8Array): string => new TextDecoder().decode(u);
const half = { float: () => 0.5 };

function shard(id: number, start: string, end: string, version = 1): ShardMeta {
  return {
    id,
    startKey: b(start),
    endKey: b(end),
    epoch: { confVersion: 1, version },
    peers: [
      { peerId: id * 10, storeId: 1, role: "voter" },
      { peerId: id * 10 + 1, storeId: 2, role: "voter" },
    ],
  };
}

test("Backoff doubles up to its cap and stops after attemptsMax", opts, () => {
  const backoff = new Backoff(half, { baseMs: 10, capMs: 50, attemptsMax: 5 });
  const delays = [];
  for (let d = backoff.next(); d !== null; d = backoff.next()) delays.push(d);
  assert.deepEqual(delays, [7.5, 15, 30, 37.5, 37.5]);
  assert.equal(backoff.attemptsUsed, 5);
});

test("Backoff stops once its time budget is handed out", opts, () => {
  const backoff = new Backoff(half, { baseMs: 10, capMs: 50, attemptsMax: 100, totalMsMax: 60 });
  const delays = [];
  for (let d = backoff.next(); d !== null; d = backoff.next()) delays.push(d);
  assert.deepEqual(delays, [7.5, 15, 30, 37.5]);
  assert.equal(backoff.totalDelayMs, 90);
});

test("groupKeysByShard groups keys by the shard holding each", opts, async () => {
  const shards = [shard(1, "", "m"), shard(2, "m", "")];
  const located: string[] = [];
  const groups = await groupKeysByShard([b("z"), b("a"), b("n"), b("b")], (key) => {
    located.push(s(key));
    const found = shards.find(
      (x) => s(key) >= s(x.startKey) && (x.endKey.length === 0 || s(key) < s(x.endKey)),
    );
    return Promise.resolve(found === undefined ? null : { shard: found, leader: null });
  });
  assert.ok(Array.isArray(groups));
  assert.deepEqual(
    groups.map((g) => [g.route.shard.id, g.keys.map(s)]),
    [[1, ["a", "b"]], [2, ["n", "z"]]],
  );
  assert.deepEqual(located, ["a", "n"], "a key inside the last shard found needs no lookup");
});

test("mapBounded keeps at most `limit` calls in flight", opts, async () => {
  let inFlight = 0;
  let peak = 0;
  const out = await mapBounded([1, 2, 3, 4, 5, 6], 2, async (x) => {
    inFlight++;
    peak = Math.max(peak, inFlight);
    await Promise.resolve();
    inFlight--;
    return x * 2;
  });
  assert.deepEqual(out, [2, 4, 6, 8, 10, 12]);
  assert.equal(peak, 2);
});

test("WriteBuffer keeps keys sorted, replaces ops and refuses past its limits", opts, () => {
  const buffer = new WriteBuffer({ bytesMax: 1_000, keysMax: 3 });
  buffer.set(b("b"), { kind: "put", value: b("1") });
  buffer.set(b("a"), { kind: "delete" });
  buffer.set(b("b"), { kind: "put", value: b("22") });
  assert.deepEqual(buffer.entries().map((e) => s(e.key)), ["a", "b"]);
  assert.deepEqual(buffer.range(b("a"), b(""), { reverse: true }).map((e) => s(e.key)), ["b", "a"]);
  assert.equal(buffer.sizeBytes, 1 + 64 + 1 + 2 + 64);
  buffer.set(b("c"), { kind: "lock" });
  assert.throws(
    () => buffer.set(b("d"), { kind: "lock" }),
    (e: unknown) => hasErrorCode(e, ErrorCode.ClientTxnBufferFull),
  );
  assert.throws(
    () => buffer.set(b("a"), { kind: "put", value: new Uint8Array(2_000) }),
    (e: unknown) => hasErrorCode(e, ErrorCode.ClientTxnBufferFull),
  );
  assert.equal(buffer.size, 3, "a refused write leaves the buffer as it was");
});

/** A router over a fixed route table that records what the client told it. */
class FakeRouter implements ShardRouter {
  routes: ShardRoute[];
  readonly events: string[] = [];
  constructor(routes: ShardRoute[]) {
    this.routes = routes;
  }
  clusterId(): Promise<bigint> {
    return Promise.resolve(7n);
  }
  getShardByKey(key: Uint8Array): Promise<ShardRoute | null> {
    const k = s(key);
    const found = this.routes.find(
      (r) => k >= s(r.shard.startKey) && (r.shard.endKey.length === 0 || k < s(r.shard.endKey)),
    );
    return Promise.resolve(found ?? null);
  }
  scanShards(): Promise<ShardRoute[]> {
    return Promise.resolve(this.routes);
  }
  invalidateShard(shardId: number): void {
    this.events.push(`invalidate ${shardId}`);
  }
  updateShardLeader(shardId: number, leader: PeerMeta): void {
    this.events.push(`leader ${shardId} -> store ${leader.storeId}`);
    this.routes = this.routes.map((r) =>
      r.shard.id === shardId
        ? { shard: r.shard, leader: r.shard.peers.find((p) => p.peerId === leader.peerId) ?? null }
        : r,
    );
  }
  getStore(storeId: number): Promise<{ address: string }> {
    return Promise.resolve({ address: `store-${storeId}` });
  }
  invalidateStore(storeId: number): void {
    this.events.push(`forget store ${storeId}`);
  }
  cacheShardRoutes(routes: readonly ShardRoute[]): void {
    this.events.push(`cache ${routes.map((r) => r.shard.id).join(",")}`);
    this.routes = [...routes];
  }
}

function kvWith(router: FakeRouter, reply: (address: string, body: never) => KvReply) {
  const calls: string[] = [];
  const env = createNodeEnv();
  const kv = new KvClient(env, {
    router,
    transport: {
      call: (address, _method, body) => {
        const ctx = (body as { context: { shardId: number } }).context;
        calls.push(`${address}/shard ${ctx.shardId}`);
        try {
          return Promise.resolve(reply(address, body as never));
        } catch (error) {
          return Promise.reject(error as Error);
        }
      },
      close: () => Promise.resolve(),
    },
    attemptsMax: 4,
    backoffMsMin: 1,
    backoffMsMax: 4,
  });
  return { kv, calls, env };
}

test("KvClient follows a notLeader hint to the new leader's store", opts, async () => {
  const s1 = shard(1, "", "");
  const router = new FakeRouter([{ shard: s1, leader: s1.peers[0] as PeerMeta }]);
  const { kv, calls } = kvWith(router, (address) =>
    address === "store-1"
      ? { routeError: { kind: "notLeader", shardId: 1, leader: { peerId: 11, storeId: 2 } } }
      : {},
  );
  const [result] = await kv.sendKeys([b("k")], "kv.Get", () => ({}));
  assert.equal(result?.reply.routeError, undefined);
  assert.deepEqual(calls, ["store-1/shard 1", "store-2/shard 1"]);
  assert.deepEqual(router.events, ["leader 1 -> store 2"]);
});

test("KvClient re-groups keys after epochNotMatch using the store's shards", opts, async () => {
  const whole = shard(1, "", "");
  const router = new FakeRouter([{ shard: whole, leader: whole.peers[0] as PeerMeta }]);
  const left = shard(1, "", "m", 2);
  const right = shard(3, "m", "", 2);
  type Body = { context: { epoch: { version: number } } };
  const { kv, calls } = kvWith(router, (_address, body: Body) =>
    body.context.epoch.version === 1
      ? { routeError: { kind: "epochNotMatch", current: [left, right] } }
      : {},
  );
  const replies = await kv.sendKeys([b("a"), b("z")], "kv.Prewrite", (keys) => ({
    keys: keys.map(s),
  }));
  assert.deepEqual(replies.map((r) => [r.shard.id, r.keys.map(s)]), [[1, ["a"]], [3, ["z"]]]);
  assert.deepEqual(calls, ["store-1/shard 1", "store-1/shard 1", "store-1/shard 3"]);
  assert.deepEqual(router.events, ["invalidate 1", "cache 1,3"]);
});

test("KvClient backs off when a split's epochNotMatch leaves keys to a lagging PD", opts,
  async () => {
    // The store answers with the left half only; PD still has the shard before the split
    // until the client has backed off once. Retrying at once would spin on PD's stale
    // route until the attempts ran out (seen under sysbench after a load-based split).
    const whole = shard(1, "", "");
    const left = shard(1, "", "m", 2);
    const right = shard(3, "m", "", 2);
    let pdKnowsSplit = false;
    const router = new FakeRouter([{ shard: whole, leader: whole.peers[0] as PeerMeta }]);
    router.cacheShardRoutes = (routes) => {
      router.events.push(`cache ${routes.map((r) => r.shard.id).join(",")}`);
      router.routes = [...routes, { shard: whole, leader: whole.peers[0] as PeerMeta }];
    };
    router.getShardByKey = (key) => {
      const k = s(key);
      const known = pdKnowsSplit ? [left, right] : [];
      const found = [...known, ...router.routes.map((r) => r.shard)].find((x) =>
        k >= s(x.startKey) && (x.endKey.length === 0 || k < s(x.endKey)));
      return Promise.resolve(found === undefined ? null
        : { shard: found, leader: found.peers[0] as PeerMeta });
    };
    const base = createNodeEnv();
    const timers = base.timers;
    const env = { ...base, timers: {
      setTimeout: timers.setTimeout.bind(timers),
      setInterval: timers.setInterval.bind(timers),
      sleep: (ms: number, signal?: AbortSignal) => {
        pdKnowsSplit = true;
        return timers.sleep(ms, signal);
      },
    } };
    type Body = { context: { shardId: number; epoch: { version: number } } };
    const kv = new KvClient(env, {
      router,
      transport: {
        call: (_address, _method, body) => Promise.resolve((body as Body).context.epoch.version
          === 1 ? { routeError: { kind: "epochNotMatch", current: [left] } } : {}),
        close: () => Promise.resolve(),
      },
      backoffMsMin: 1,
      backoffMsMax: 4,
    });
    const replies = await kv.sendKeys([b("z")], "kv.Get", () => ({}));
    assert.deepEqual(replies.map((r) => r.shard.id), [3]);
    assert.equal(pdKnowsSplit, true);
  });

test("KvClient backs off on serverIsBusy and gives up with a typed error", opts, async () => {
  const s1 = shard(1, "", "");
  const router = new FakeRouter([{ shard: s1, leader: s1.peers[0] as PeerMeta }]);
  const { kv, calls } = kvWith(router, () => ({
    routeError: { kind: "serverIsBusy", reason: "full" },
  }));
  await assert.rejects(kv.sendKeys([b("k")], "kv.Get", () => ({})), (e: unknown) =>
    hasErrorCode(e, ErrorCode.ClientRouteRetriesExhausted) && !e.ambiguous,
  );
  assert.equal(calls.length, 5, "one try and four retries");
  assert.equal(kv.stats.serverBusy, 5);
});

test("KvClient waits out a shard without a leader within its time budget", opts, async () => {
  // A new shard electing its first leader after a split answers notLeader without a hint.
  const s1 = shard(1, "", "");
  const router = new FakeRouter([{ shard: s1, leader: s1.peers[0] as PeerMeta }]);
  let leaderless = 40;
  const noLeader = (): KvReply => (leaderless-- > 0
    ? { routeError: { kind: "notLeader", shardId: 1 } } : {});
  const client = (budgetMs: number): KvClient => new KvClient(createNodeEnv(), {
    router,
    transport: { call: () => Promise.resolve(noLeader()), close: () => Promise.resolve() },
    backoffMsMin: 1, backoffMsMax: 2, backoffBudgetMs: budgetMs,
  });
  // 40 failures are more attempts than a count of 20 allowed, well inside 1 s of sleep.
  const [served] = await client(1_000).sendKeys([b("k")], "kv.Get", () => ({}));
  assert.equal(served?.reply.routeError, undefined);
  assert.equal(leaderless, -1);
  // Leaderless for good: the budget ends it, with the time slept in the message.
  leaderless = Infinity;
  await assert.rejects(client(50).sendKeys([b("k")], "kv.Get", () => ({})), (e: unknown) =>
    hasErrorCode(e, ErrorCode.ClientRouteRetriesExhausted) && /ms of backoff/.test(e.message));
});

test("KvClient marks exhaustion ambiguous after a lost reply", opts, async () => {
  const s1 = shard(1, "", "");
  const router = new FakeRouter([{ shard: s1, leader: s1.peers[0] as PeerMeta }]);
  const { kv } = kvWith(router, () => {
    throw new TesseraError(ErrorCode.RpcConnectionClosed, "lost");
  });
  await assert.rejects(kv.sendKeys([b("k")], "kv.Commit", () => ({})), (e: unknown) =>
    hasErrorCode(e, ErrorCode.ClientRouteRetriesExhausted) && e.ambiguous,
  );
  assert.ok(router.events.includes("forget store 1"));
});
