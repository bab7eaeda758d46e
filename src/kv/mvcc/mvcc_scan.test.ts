/**
 * Tests of `mvccScan`'s cursor walk (one cursor on the lock CF, one on the write CF,
 * seeking past keys with many versions) against the per-key reference it replaced: the
 * first engine key of each CF, then a point read (`mvccGet`) of the smaller user key.
 * Random keys with puts, deletes, lock and rollback records, long values, locks of every
 * kind (some in the way, some not), bounds, limits, both directions and bypassed locks;
 * on the in-memory reader and on LMDB (several cursors open in one read transaction).
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import type { Timestamp } from "../../base/mod.ts";
import type { EngineReader } from "../engine/engine.ts";
import { LmdbEngine } from "../engine/lmdb_engine.ts";
import { compareBytes } from "./bytes.ts";
import { Cf, cfRange, decodeEngineKey, lockKey, versionsRange } from "./keys.ts";
import { makeLock } from "./lock.ts";
import { MvccWrites } from "./mvcc_writes.ts";
import { type ScanOptions, type ScanResult, mvccGet, mvccScan } from "./snapshot_read.ts";
import { SortedMapReader } from "./test_reader.ts";
import { makeWrite } from "./write.ts";

const opts = { timeout: 60_000 };
const seed = 90_417;

/** The scan as it was: per key, the first engine key of each CF, then a point read. */
function referenceScan(snapshot: EngineReader, readTs: Timestamp, options: ScanOptions):
  ScanResult {
  const reverse = options.reverse ?? false;
  const lockRange = cfRange(Cf.lock, options.start, options.end);
  const writeRange = cfRange(Cf.write, options.start, options.end);
  const firstIn = (range: { start: Uint8Array; end: Uint8Array }): Uint8Array | undefined => {
    if (compareBytes(range.start, range.end) >= 0) return undefined;
    for (const kv of snapshot.scan({ ...range, reverse, limit: 1 })) return kv.key;
    return undefined;
  };
  const pairs: { key: Uint8Array; value: Uint8Array }[] = [];
  while (pairs.length < options.limit) {
    const candidates = [firstIn(lockRange), firstIn(writeRange)]
      .filter((k): k is Uint8Array => k !== undefined)
      .map((k) => decodeEngineKey(k).key)
      .sort(compareBytes);
    const key = reverse ? candidates[candidates.length - 1] : candidates[0];
    if (key === undefined) break;
    const result = mvccGet(snapshot, key, readTs, options);
    if (result.kind === "locked") return result;
    if (result.value !== undefined) pairs.push({ key, value: result.value });
    if (reverse) {
      lockRange.end = lockKey(key);
      writeRange.end = versionsRange(Cf.write, key).start;
    } else {
      lockRange.start = Uint8Array.of(...lockKey(key), 0);
      writeRange.start = versionsRange(Cf.write, key).end;
    }
  }
  return { kind: "ok", pairs };
}

const keyArb = fc.uint8Array({ minLength: 0, maxLength: 2, max: 3 });
const writeArb = fc.record({
  key: keyArb,
  commitTs: fc.integer({ min: 1, max: 60 }),
  kind: fc.constantFrom("put", "put", "put", "delete", "lock", "rollback"),
  long: fc.boolean(),
});
/** A hot key: many versions, so the scan seeks within it. */
const hotArb = fc.record({ key: keyArb, versions: fc.integer({ min: 0, max: 25 }) });
const lockArb = fc.record({
  key: keyArb,
  kind: fc.constantFrom("put", "delete", "lock", "pessimistic"),
  startTs: fc.integer({ min: 1, max: 60 }),
  minCommitTs: fc.integer({ min: 0, max: 60 }),
});
const caseArb = fc.record({
  writes: fc.array(writeArb, { maxLength: 40 }),
  hot: fc.array(hotArb, { maxLength: 2 }),
  locks: fc.array(lockArb, { maxLength: 6 }),
  readTs: fc.integer({ min: 0, max: 130 }),
  limit: fc.integer({ min: 1, max: 12 }),
  reverse: fc.boolean(),
  start: fc.option(keyArb, { nil: undefined }),
  end: fc.option(keyArb, { nil: undefined }),
  bypass: fc.array(fc.integer({ min: 1, max: 60 }), { maxLength: 2 }),
});
type Case = typeof caseArb extends fc.Arbitrary<infer T> ? T : never;

function opsOf(c: Case): MvccWrites {
  const writes = new MvccWrites();
  const used = new Set<string>();
  const put = (key: Uint8Array, commitTs: number, kind: string, long: boolean): void => {
    const id = `${key.join(".")}@${commitTs}`;
    if (used.has(id)) return;
    used.add(id);
    const startTs = BigInt(commitTs * 2 - 1) as Timestamp;
    const value = Uint8Array.from({ length: long ? 300 : 3 }, (_, i) => (commitTs + i) % 256);
    if (kind === "put" && long) writes.putValue(key, startTs, value);
    writes.putWrite(key, BigInt(commitTs * 2) as Timestamp, makeWrite({
      kind: kind as "put" | "delete" | "lock" | "rollback", startTs,
      shortValue: kind === "put" && !long ? value : undefined,
    }));
  };
  for (const w of c.writes) put(w.key, w.commitTs, w.kind, w.long);
  for (const h of c.hot) {
    for (let v = 1; v <= h.versions; v++) put(h.key, v, v % 5 === 0 ? "lock" : "put", false);
  }
  const locked = new Set<string>();
  for (const l of c.locks) {
    if (locked.has(l.key.join("."))) continue;
    locked.add(l.key.join("."));
    writes.putLock(l.key, makeLock({ kind: l.kind as "put" | "delete" | "lock" | "pessimistic",
      primary: Uint8Array.of(9), startTs: BigInt(l.startTs) as Timestamp, ttlMs: 1000,
      minCommitTs: BigInt(l.minCommitTs) as Timestamp }));
  }
  return writes;
}

function scanOptions(c: Case): ScanOptions {
  return {
    limit: c.limit,
    reverse: c.reverse,
    ...(c.start === undefined ? {} : { start: c.start }),
    ...(c.end === undefined ? {} : { end: c.end }),
    bypassLocks: c.bypass.map((t) => BigInt(t) as Timestamp),
  };
}

test("mvccScan walks cursors exactly as the per-key reads did (in-memory reader)", opts,
  () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const engine = new SortedMapReader();
        engine.apply(opsOf(c).ops);
        const readTs = BigInt(c.readTs) as Timestamp;
        const options = scanOptions(c);
        assert.deepEqual(mvccScan(engine, readTs, options),
          referenceScan(engine, readTs, options));
      }),
      { seed, numRuns: 1500 },
    );
  });

const root = mkdtempSync(join(tmpdir(), "tessera-mvcc-scan-"));
after(() => rmSync(root, { recursive: true, force: true }));

test("mvccScan walks cursors exactly as the per-key reads did (LMDB snapshot)", opts,
  async () => {
    const engine = await LmdbEngine.open(join(root, "db"));
    try {
      const cases = fc.sample(caseArb, { seed, numRuns: 150 });
      for (const c of cases) {
        const all = engine.snapshot();
        const clear = [...all.scan({})].map((kv) => ({ kind: "delete" as const, key: kv.key }));
        all.release();
        await engine.write([...clear, ...opsOf(c).ops], { sync: false });
        const snapshot = engine.snapshot();
        try {
          const readTs = BigInt(c.readTs) as Timestamp;
          const options = scanOptions(c);
          assert.deepEqual(mvccScan(snapshot, readTs, options),
            referenceScan(snapshot, readTs, options), JSON.stringify(c));
        } finally {
          snapshot.release();
        }
      }
    } finally {
      await engine.close();
    }
  });

test("mvccScan of many rows with few versions returns them all, in both directions", opts,
  () => {
    const engine = new SortedMapReader();
    const writes = new MvccWrites();
    for (let i = 0; i < 500; i++) {
      const key = Uint8Array.of(i >> 8, i & 0xff);
      writes.putWrite(key, 10n as Timestamp, makeWrite({ kind: "put", startTs: 9n as Timestamp,
        shortValue: Uint8Array.of(1) }));
      if (i % 3 === 0) {
        writes.putWrite(key, 20n as Timestamp, makeWrite({ kind: "delete",
          startTs: 19n as Timestamp }));
      }
    }
    engine.apply(writes.ops);
    for (const reverse of [false, true]) {
      const at15 = mvccScan(engine, 15n as Timestamp, { limit: 1000, reverse });
      assert.equal(at15.kind === "ok" ? at15.pairs.length : -1, 500);
      const at25 = mvccScan(engine, 25n as Timestamp, { limit: 1000, reverse });
      assert.equal(at25.kind === "ok" ? at25.pairs.length : -1, 333);
      const limited = mvccScan(engine, 25n as Timestamp, { limit: 7, reverse });
      assert.deepEqual(limited.kind === "ok" ? limited.pairs.map((p) => p.key[1]) : [],
        reverse ? [243, 241, 240, 238, 237, 235, 234] : [1, 2, 4, 5, 7, 8, 10]);
    }
  });
