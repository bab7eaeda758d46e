/**
 * Tests of the MVCC layout and reads: key encoding order and round trips, record codecs,
 * corrupt input, and scans checked against a simple model of versioned keys.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { ErrorCode, type Timestamp, hasErrorCode } from "../../base/mod.ts";
import { compareBytes } from "./bytes.ts";
import {
  Cf,
  cfRange,
  dataKey,
  decodeEngineKey,
  decodeUserKey,
  encodeUserKey,
  lockKey,
  writeKey,
} from "./keys.ts";
import { decodeLock, encodeLock, makeLock } from "./lock.ts";
import { MvccWrites } from "./mvcc_writes.ts";
import { mvccScan } from "./snapshot_read.ts";
import { SortedMapReader } from "./test_reader.ts";
import { decodeWrite, encodeWrite, makeWrite } from "./write.ts";

const opts = { timeout: 20_000 };
const seed = 7_031;
const tsArb = fc.bigInt({ min: 0n, max: 0xffff_ffff_ffff_ffffn }).map((t) => t as Timestamp);
const keyArb = fc.uint8Array({ maxLength: 20 });

test("encodeUserKey preserves byte order and is prefix-free", opts, () => {
  fc.assert(
    fc.property(keyArb, keyArb, (a, b) => {
      const ea = encodeUserKey(a);
      const eb = encodeUserKey(b);
      assert.equal(Math.sign(compareBytes(ea, eb)), Math.sign(compareBytes(a, b)));
      assert.deepEqual(decodeUserKey(ea, 0), { key: a, next: ea.length });
      if (compareBytes(a, b) !== 0) {
        const isPrefix =
          ea.length <= eb.length && compareBytes(ea, eb.subarray(0, ea.length)) === 0;
        assert.ok(!isPrefix, "an encoded key is a prefix of another");
      }
    }),
    { seed, numRuns: 2_000 },
  );
});

test("versions of a key sort newest first and never interleave with other keys", opts, () => {
  fc.assert(
    fc.property(keyArb, keyArb, tsArb, tsArb, (a, b, t1, t2) => {
      if (compareBytes(a, b) < 0) {
        assert.ok(compareBytes(writeKey(a, t1), writeKey(b, t2)) < 0);
      }
      if (t1 > t2) assert.ok(compareBytes(writeKey(a, t1), writeKey(a, t2)) < 0);
      assert.deepEqual(decodeEngineKey(writeKey(a, t1)), { cf: Cf.write, key: a, ts: t1 });
      assert.deepEqual(decodeEngineKey(dataKey(a, t1)), { cf: Cf.default, key: a, ts: t1 });
      assert.deepEqual(decodeEngineKey(lockKey(a)), { cf: Cf.lock, key: a, ts: undefined });
      const range = cfRange(Cf.write, a, undefined);
      assert.ok(compareBytes(range.start, writeKey(a, t1)) <= 0);
    }),
    { seed, numRuns: 2_000 },
  );
});

test("locks and commit records round-trip through their encodings", opts, () => {
  const lock = makeLock({
    kind: "put",
    primary: Uint8Array.of(1, 2),
    startTs: 10n as Timestamp,
    ttlMs: 3000,
    shortValue: Uint8Array.of(9),
    forUpdateTs: 12n as Timestamp,
    txnSize: 3,
    minCommitTs: 13n as Timestamp,
    useAsyncCommit: true,
    secondaries: [Uint8Array.of(3), Uint8Array.of(4, 5)],
  });
  assert.deepEqual(decodeLock(encodeLock(lock)), lock);
  const plain = makeLock({
    kind: "pessimistic",
    primary: Uint8Array.of(),
    startTs: 1n as Timestamp,
    ttlMs: 0,
  });
  assert.deepEqual(decodeLock(encodeLock(plain)), plain);
  const write = makeWrite({
    kind: "put",
    startTs: 10n as Timestamp,
    shortValue: Uint8Array.of(7),
    hasOverlappedRollback: true,
  });
  assert.deepEqual(decodeWrite(encodeWrite(write)), write);
  const rollback = makeWrite({ kind: "rollback", startTs: 5n as Timestamp, isProtected: true });
  assert.deepEqual(decodeWrite(encodeWrite(rollback)), rollback);
});

test("corrupt keys and records fail with Codec:Corrupt", opts, () => {
  const corrupt = (f: () => unknown): void => {
    assert.throws(f, (e: unknown) => hasErrorCode(e, ErrorCode.CodecCorrupt));
  };
  const lockBytes = encodeLock(
    makeLock({ kind: "put", primary: Uint8Array.of(1), startTs: 1n as Timestamp, ttlMs: 1 }),
  );
  corrupt(() => decodeLock(lockBytes.subarray(0, lockBytes.length - 1)));
  corrupt(() => decodeLock(Uint8Array.of(...lockBytes, 0)));
  corrupt(() => decodeLock(Uint8Array.of(0x99, ...lockBytes.subarray(1))));
  corrupt(() => decodeWrite(Uint8Array.of(0x50)));
  corrupt(() => decodeWrite(Uint8Array.of(0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0)));
  corrupt(() => decodeEngineKey(Uint8Array.of(0x7a, 0, 0, 0, 0, 0, 0, 0, 0, 0xf7)));
  corrupt(() => decodeEngineKey(Uint8Array.of(Cf.write, 1, 2)));
  corrupt(() => decodeEngineKey(Uint8Array.of(Cf.write, 0, 0, 0, 0, 0, 0, 0, 0, 0x10)));
  corrupt(() => decodeEngineKey(Uint8Array.of(Cf.write, 1, 0, 0, 0, 0, 0, 0, 0, 0xf7)));
  corrupt(() => decodeEngineKey(Uint8Array.of(Cf.lock, 0, 0, 0, 0, 0, 0, 0, 0, 0xf8, 1)));
  corrupt(() => decodeEngineKey(Uint8Array.of(Cf.write, 0, 0, 0, 0, 0, 0, 0, 0, 0xf8)));
});

test("mvccScan matches a model of versioned keys, forward and reverse", opts, () => {
  const versionArb = fc.record({
    key: fc.uint8Array({ minLength: 0, maxLength: 3, max: 3 }),
    commitTs: fc.integer({ min: 1, max: 40 }),
    value: fc.option(fc.uint8Array({ maxLength: 300 }), { nil: undefined }),
  });
  fc.assert(
    fc.property(
      fc.array(versionArb, { maxLength: 30 }),
      fc.integer({ min: 0, max: 45 }),
      fc.integer({ min: 1, max: 10 }),
      fc.boolean(),
      (versions, readTs, limit, reverse) => {
        const engine = new SortedMapReader();
        const model = new Map<string, { ts: number; value: Uint8Array | undefined }>();
        const writes = new MvccWrites();
        const seen = new Set<string>();
        for (const v of versions) {
          const id = `${v.key.join(".")}@${v.commitTs}`;
          if (seen.has(id)) continue;
          seen.add(id);
          const startTs = BigInt(v.commitTs * 2 - 1) as Timestamp;
          const commitTs = BigInt(v.commitTs * 2) as Timestamp;
          const short = v.value === undefined || v.value.length <= 255;
          if (!short && v.value !== undefined) writes.putValue(v.key, startTs, v.value);
          writes.putWrite(
            v.key,
            commitTs,
            makeWrite({
              kind: v.value === undefined ? "delete" : "put",
              startTs,
              shortValue: short ? v.value : undefined,
            }),
          );
          const k = Buffer.from(v.key).toString("hex");
          const prev = model.get(k);
          if (v.commitTs * 2 <= readTs && (prev === undefined || prev.ts < v.commitTs)) {
            model.set(k, { ts: v.commitTs, value: v.value });
          }
        }
        engine.apply(writes.ops);
        const expected = [...model.entries()]
          .filter(([, e]) => e.value !== undefined)
          .map(([k, e]) => ({ key: Uint8Array.from(Buffer.from(k, "hex")), value: e.value }))
          .sort((a, b) => compareBytes(a.key, b.key) * (reverse ? -1 : 1))
          .slice(0, limit);
        const result = mvccScan(engine, BigInt(readTs) as Timestamp, { limit, reverse });
        assert.equal(result.kind, "ok");
        if (result.kind === "ok") {
          assert.deepEqual(
            result.pairs.map((p) => ({ key: p.key, value: p.value })),
            expected,
          );
        }
      },
    ),
    { seed, numRuns: 500 },
  );
});
