/**
 * Coprocessor reads (`src/client/coprocessor.ts`) against the in-process cluster (PD and
 * two stores, shards split further by the tests): a test handler on the stores returns
 * the keys it read, a page at a time with a resume key, so the client's splitting by
 * shard, paging, ordering (forward and descending), recovery from splits it has not
 * heard of, early stop and lock resolution are checked on what comes back.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import {
  type CopRange,
  type CopRequest,
  RpcStoreTransport,
  type StoreTransport,
  type TxnClient,
  clipRanges,
  subtractRange,
} from "../../src/client/mod.ts";
import { ErrorCode, TesseraError } from "../../src/base/mod.ts";
import type { CoprocessorInput, CoprocessorOutput } from "../../src/kv/mod.ts";
import { KvMethod } from "../../src/proto/mod.ts";
import { type TestCluster, b, quietLogger, startTestCluster } from "./test_cluster.ts";
import { splitShardAt } from "./test_split.ts";

const opts = { timeout: 60_000 };
const enc = new TextEncoder();
const dec = new TextDecoder();
const hex = (u: Uint8Array): string => Buffer.from(u).toString("hex");
const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, "hex"));

interface Page {
  readonly keys: string[];
  readonly values: string[];
  readonly resume: string | null;
}

/** The test handler: reads up to `pageSize` pairs of its ranges, in order or reversed. */
function keysHandler(input: CoprocessorInput): CoprocessorOutput {
  const plan = JSON.parse(dec.decode(input.plan)) as { pageSize: number; desc: boolean };
  const ranges = plan.desc ? [...input.ranges].reverse() : input.ranges;
  const keys: string[] = [];
  const values: string[] = [];
  let resume: string | null = null;
  for (const range of ranges) {
    const want = plan.pageSize - keys.length;
    const got = input.scan(range, { limit: want, reverse: plan.desc });
    if (got.kind === "locked") return { kind: "locked", key: got.key, lock: got.lock };
    for (const p of got.pairs) {
      keys.push(dec.decode(p.key));
      values.push(dec.decode(p.value));
    }
    if (got.pairs.length === want) {
      const last = got.pairs[got.pairs.length - 1]!.key;
      resume = plan.desc ? hex(last) : hex(Uint8Array.of(...last, 0));
      break;
    }
  }
  return { kind: "ok", data: enc.encode(JSON.stringify({ keys, values, resume })) };
}

function request(ranges: readonly CopRange[], pageSize: number, desc = false,
  counter?: { n: number }): CopRequest<Page> {
  return {
    handler: "test-keys",
    plan: enc.encode(JSON.stringify({ pageSize, desc })),
    ranges,
    desc,
    decode: (data) => JSON.parse(dec.decode(data)) as Page,
    resumeKey: (page) => (page.resume === null ? null : unhex(page.resume)),
    ...(counter === undefined ? {} : { onRequest: () => counter.n++ }),
  };
}

let cluster: TestCluster;
let client: TxnClient;
const allKeys: string[] = [];

before(async () => {
  cluster = await startTestCluster();
  cluster.coprocessor.register("test-keys", keysHandler);
  client = cluster.client();
  const txn = await client.begin();
  for (const c of "abcdefghijklmnopqrstuvwxy") {
    for (let i = 0; i < 8; i++) {
      const key = `${c}${i}`;
      allKeys.push(key);
      txn.set(b(key), b(`v-${key}`));
    }
  }
  await txn.commit();
  // Shards: ["", "d"), ["d", "h"), ["h", "m"), ["m", "t"), ["t", "").
  for (const k of ["d", "h", "t"]) await splitShardAt(cluster, b(k));
});

after(async () => {
  await cluster.close();
});

async function readAll(req: CopRequest<Page>): Promise<{ keys: string[]; pages: number;
  shards: Set<number> }> {
  const txn = await client.begin();
  const keys: string[] = [];
  const shards = new Set<number>();
  let pages = 0;
  for await (const page of txn.coprocessor(req)) {
    keys.push(...page.value.keys);
    shards.add(page.shard.id);
    pages++;
  }
  await txn.commit();
  return { keys, pages, shards };
}

const inRanges = (ranges: readonly [string, string][]): string[] => allKeys.filter((k) =>
  ranges.some(([lo, hi]) => k >= lo && (hi === "" || k < hi)));

test("clipRanges and subtractRange treat an empty end as open", opts, () => {
  const r = (lo: string, hi: string): CopRange => ({ start: b(lo), end: b(hi) });
  const show = (rs: CopRange[]) => rs.map((x) => `${dec.decode(x.start)}-${dec.decode(x.end)}`);
  assert.deepEqual(show(clipRanges([r("a", "c"), r("e", "")], b("b"), b("f"))), ["b-c", "e-f"]);
  assert.deepEqual(show(clipRanges([r("a", "c"), r("e", "")], b("c"), b("e"))), []);
  assert.deepEqual(show(subtractRange([r("a", "")], b("c"), b("e"))), ["a-c", "e-"]);
  assert.deepEqual(show(subtractRange([r("a", "c"), r("d", "")], b("b"), b(""))), ["a-b"]);
});

test("a read over several ranges and shards returns every key once, in order", opts,
  async () => {
    const ranges: [string, string][] = [["a3", "c"], ["e", "f5"], ["g", "p"], ["w", ""]];
    const counter = { n: 0 };
    const got = await readAll(request(ranges.map(([lo, hi]) => ({ start: b(lo), end: b(hi) })),
      5, false, counter));
    assert.deepEqual(got.keys, inRanges(ranges));
    assert.ok(got.shards.size >= 4, `shards ${[...got.shards].join(",")}`);
    assert.equal(counter.n, got.pages);
    assert.ok(got.pages > got.keys.length / 5, "pages of at most 5 keys");
  });

test("a descending read returns the keys in reverse order", opts, async () => {
  const ranges: [string, string][] = [["b", "e"], ["k", "u"]];
  const got = await readAll(request(ranges.map(([lo, hi]) => ({ start: b(lo), end: b(hi) })),
    7, true));
  assert.deepEqual(got.keys, inRanges(ranges).reverse());
});

test("pages resume across splits the reader has not heard of", opts, async () => {
  const reader = cluster.client();
  const txn = await reader.begin();
  const keys: string[] = [];
  let splits = 0;
  for await (const page of txn.coprocessor(request([{ start: b("h"), end: b("") }], 6))) {
    keys.push(...page.value.keys);
    // Split ahead of the reader, inside shards it has routes for and reads later.
    if (splits === 0 && keys.length >= 6) {
      await splitShardAt(cluster, b("j5"));
      await splitShardAt(cluster, b("q"));
      splits++;
    }
  }
  await txn.commit();
  assert.equal(splits, 1);
  assert.deepEqual(keys, inRanges([["h", ""]]));
  assert.ok(reader.kv.stats.epochNotMatch >= 1, "the stale routes were corrected");
});

test("stopping early stops sending", opts, async () => {
  const txn = await client.begin();
  const counter = { n: 0 };
  const keys: string[] = [];
  for await (const page of txn.coprocessor({ ...request([{ start: b(""), end: b("") }], 3,
    false, counter), concurrency: 1 })) {
    keys.push(...page.value.keys);
    if (keys.length >= 6) break;
  }
  await txn.commit();
  assert.deepEqual(keys, allKeys.slice(0, 6));
  assert.ok(counter.n <= 4, `sent ${counter.n} requests`);
});

test("a lock left by a transaction whose primary committed is resolved", opts, async () => {
  // Commits after the first (the primary's) never arrive: the secondary stays locked.
  const dropping = cluster.client({
    kv: { transport: dropLaterCommits(new RpcStoreTransport(cluster.env,
      { logger: quietLogger })), attemptsMax: 2 },
  });
  const writer = await dropping.begin({ enableAsyncCommit: false, enableOnePc: false });
  writer.set(b("a0"), b("new-a0"));
  writer.set(b("u0"), b("new-u0"));
  await writer.commit();
  const reader = cluster.client();
  const txn = await reader.begin();
  const values: string[] = [];
  for await (const page of txn.coprocessor(request([{ start: b("a0"), end: b("a1") },
    { start: b("u0"), end: b("u1") }], 10))) values.push(...page.value.values);
  await txn.commit();
  assert.deepEqual(values, ["new-a0", "new-u0"]);
  assert.ok(reader.resolver.stats.resolved >= 1, "the secondary lock was resolved");
});

test("ranges out of order are refused", opts, async () => {
  const txn = await client.begin();
  const iterator = txn.coprocessor(request([{ start: b("c"), end: b("d") },
    { start: b("a"), end: b("b") }], 3));
  await assert.rejects(iterator.next(), /sorted/);
  await txn.commit();
});

/** A transport that passes the first commit and loses every later one. */
function dropLaterCommits(inner: StoreTransport): StoreTransport {
  let commits = 0;
  return {
    call: async (address, method, body, options) => {
      if (method === KvMethod.commit && commits++ > 0) {
        await Promise.resolve();
        throw new TesseraError(ErrorCode.RpcConnectFailed, "commit dropped");
      }
      return inner.call(address, method, body, options);
    },
    close: () => inner.close(),
  };
}
