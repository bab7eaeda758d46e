/**
 * Tests of the PD request validators: well-formed bodies come back typed, and every
 * malformed one is refused with `PD:Request:Malformed` naming the field, never another
 * error — whatever shape the untrusted body has.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { ErrorCode, type TesseraError, hasErrorCode } from "../base/mod.ts";
import {
  parseAllocIdsRequest,
  parseBootstrapRequest,
  parseCampaignRequest,
  parsePutStoreRequest,
  parseScanShardsRequest,
  parseShardHeartbeatRequest,
  parseStoreHeartbeatRequest,
  parseTsoRequest,
  parseUpdateGcSafePointRequest,
  parseUpdateServiceSafePointRequest,
} from "./mod.ts";

const opts = { timeout: 30_000 };
const header = { clusterId: 42n };
const b = (s: string): Uint8Array => new TextEncoder().encode(s);
const shard = {
  id: 1,
  startKey: b("a"),
  endKey: b("m"),
  epoch: { confVersion: 1, version: 2 },
  peers: [
    { peerId: 10, storeId: 1, role: "voter" },
    { peerId: 11, storeId: 2, role: "learner" },
  ],
};

function refuses(fn: () => unknown, field: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(hasErrorCode(e, ErrorCode.PdRequestMalformed), String(e));
    assert.equal((e as TesseraError).details["field"], field);
    return true;
  });
}

test("well-formed PD requests parse into typed values", opts, () => {
  assert.deepEqual(parseTsoRequest({ count: 5 }), { count: 5 });
  assert.deepEqual(parseAllocIdsRequest({ header, count: 3 }), { header, count: 3 });
  assert.equal(parseAllocIdsRequest({ header: { clusterId: 7 }, count: 1 }).header.clusterId, 7n);
  const hb = parseShardHeartbeatRequest({ header, shard, leaderPeerId: 10 });
  assert.equal(hb.shard.peers[1]?.role, "learner");
  assert.equal(hb.stats.approximateKeys, 0);
  const scan = parseScanShardsRequest({ header, startKey: b("") });
  assert.equal(scan.endKey.length, 0);
  const store = { id: 1, address: "127.0.0.1:20160", labels: { zone: "z1" } };
  assert.equal(parsePutStoreRequest({ header, store }).store.labels["zone"], "z1");
  assert.equal(parseUpdateGcSafePointRequest({ header, safePoint: 9n }).safePoint, 9n);
  assert.deepEqual(
    parseUpdateServiceSafePointRequest({ header, serviceId: "dump-1", safePoint: 9, ttlMs: 0 }),
    { header, serviceId: "dump-1", safePoint: 9n, ttlMs: 0 },
  );
  assert.equal(
    parseCampaignRequest({ header, election: "ddl-owner", candidate: "a", ttlMs: 5000 }).ttlMs,
    5000,
  );
});

test("malformed PD requests are refused with the offending field", opts, () => {
  refuses(() => parseTsoRequest({ count: 0 }), "count");
  refuses(() => parseTsoRequest({ count: 10_001 }), "count");
  refuses(() => parseTsoRequest([1]), "body");
  refuses(() => parseAllocIdsRequest({ count: 1 }), "header");
  refuses(() => parseAllocIdsRequest({ header: { clusterId: -1n }, count: 1 }), "header.clusterId");
  refuses(
    () =>
      parseShardHeartbeatRequest({ header, shard: { ...shard, endKey: b("a") }, leaderPeerId: 10 }),
    "shard.endKey",
  );
  refuses(() => parseShardHeartbeatRequest({ header, shard, leaderPeerId: 99 }), "leaderPeerId");
  refuses(
    () =>
      parseShardHeartbeatRequest({
        header,
        shard: { ...shard, peers: [shard.peers[0], { ...shard.peers[1], storeId: 1 }] },
        leaderPeerId: 10,
      }),
    "shard.peers",
  );
  refuses(
    () => parsePutStoreRequest({ header, store: { id: 1, address: "nowhere" } }),
    "store.address",
  );
  refuses(() => parseStoreHeartbeatRequest({ header, storeId: 0 }), "storeId");
  refuses(
    () => parseStoreHeartbeatRequest({ header, storeId: 1, stats: { capacityBytes: -1 } }),
    "stats.capacityBytes",
  );
  refuses(
    () => parseBootstrapRequest({ header, store: { id: 1, address: "h:1" }, shard }),
    "shard",
  );
  refuses(
    () => parseCampaignRequest({ header, election: "a b", candidate: "x", ttlMs: 5000 }),
    "election",
  );
  const ssp = { header, serviceId: "sql-1", safePoint: 9n, ttlMs: 1_000 };
  refuses(() => parseUpdateServiceSafePointRequest({ ...ssp, serviceId: "" }), "serviceId");
  refuses(() => parseUpdateServiceSafePointRequest({ ...ssp, serviceId: "a/b" }), "serviceId");
  refuses(() => parseUpdateServiceSafePointRequest({ ...ssp, safePoint: -1n }), "safePoint");
  refuses(() => parseUpdateServiceSafePointRequest({ ...ssp, ttlMs: -1 }), "ttlMs");
  refuses(
    () => parseUpdateServiceSafePointRequest({ ...ssp, ttlMs: 31 * 24 * 3_600_000 }),
    "ttlMs",
  );
});

test("any untrusted body is either parsed or refused as malformed", opts, () => {
  const parsers = [
    parseTsoRequest,
    parseAllocIdsRequest,
    parseShardHeartbeatRequest,
    parsePutStoreRequest,
    parseScanShardsRequest,
    parseStoreHeartbeatRequest,
    parseBootstrapRequest,
    parseCampaignRequest,
    parseUpdateGcSafePointRequest,
    parseUpdateServiceSafePointRequest,
  ];
  fc.assert(
    fc.property(fc.anything({ withBigInt: true, withTypedArray: true }), (body) => {
      for (const parse of parsers) {
        try {
          parse(body);
        } catch (error) {
          assert.ok(hasErrorCode(error, ErrorCode.PdRequestMalformed), String(error));
        }
      }
    }),
    { numRuns: 500, seed: 42 },
  );
});
