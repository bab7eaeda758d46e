/**
 * The conformance suite every `Engine` implementation runs: one set of behaviour tests,
 * registered with `node:test` for a factory, so the memory and LMDB engines are held to the
 * same contract (results, limits, error codes, isolation, atomicity, ingest validation).
 *
 * Each test opens a fresh engine from the factory and closes it before returning; the
 * caller owns whatever the factory creates on disk and removes it afterwards.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ErrorCode, hasErrorCode, limits } from "../../base/mod.ts";
import type { Engine, KeyValue, WriteOp } from "./engine.ts";
import { encodeSortedFile, writeSortedFile } from "./sorted_file.ts";

/** What the suite needs from an implementation's test file. */
export interface ConformanceFactory {
  /** A fresh, empty engine. */
  open(): Promise<Engine>;
  /** A directory the suite may write scratch files (sorted files) into. */
  scratchDir(): string;
}

const opts = { timeout: 20_000 };
const enc = new TextEncoder();
const dec = new TextDecoder();
const b = (s: string): Uint8Array => enc.encode(s);
const s = (bytes: Uint8Array | undefined): string | undefined =>
  bytes === undefined ? undefined : dec.decode(bytes);
const put = (key: string, value: string): WriteOp => ({
  kind: "put",
  key: b(key),
  value: b(value),
});
const keysOf = (pairs: Iterable<KeyValue>): string[] => [...pairs].map((p) => dec.decode(p.key));

async function withEngine(
  factory: ConformanceFactory,
  body: (engine: Engine) => Promise<void> | void,
): Promise<void> {
  const engine = await factory.open();
  try {
    await body(engine);
  } finally {
    await engine.close();
  }
}

async function rejectsWith(promise: Promise<unknown>, code: ErrorCode): Promise<void> {
  await assert.rejects(promise, (error: unknown) => hasErrorCode(error, code));
}

function throwsWith(fn: () => unknown, code: ErrorCode): void {
  assert.throws(fn, (error: unknown) => hasErrorCode(error, code));
}

let fileCounter = 0;

/** Registers the suite under `name` (the implementation's type name). */
export function registerEngineConformance(name: string, factory: ConformanceFactory): void {
  const sortedPath = (): string => join(factory.scratchDir(), `sorted-${fileCounter++}.tssf`);

  test(`${name} gets what was put, and nothing after delete`, opts, () =>
    withEngine(factory, async (engine) => {
      assert.equal(engine.get(b("a")), undefined);
      await engine.write([put("a", "1"), put("b", "2")], { sync: true });
      assert.equal(s(engine.get(b("a"))), "1");
      await engine.write([put("a", "3"), { kind: "delete", key: b("b") }], { sync: false });
      assert.equal(s(engine.get(b("a"))), "3");
      assert.equal(engine.get(b("b")), undefined);
      await engine.write([{ kind: "delete", key: b("absent") }], { sync: false });
      await engine.write([], { sync: true });
      await engine.sync();
      assert.equal(s(engine.get(b("a"))), "3");
    }));

  test(`${name} copies arrays in and out, and stores empty values`, opts, () =>
    withEngine(factory, async (engine) => {
      const key = b("k");
      const value = b("v");
      await engine.write([{ kind: "put", key, value }, put("e", "")], { sync: false });
      key[0] = 0x7a;
      value[0] = 0x7a;
      const got = engine.get(b("k"));
      assert.equal(s(got), "v");
      (got as Uint8Array)[0] = 0x79;
      assert.equal(s(engine.get(b("k"))), "v");
      assert.deepEqual(engine.get(b("e")), new Uint8Array(0));
    }));

  test(`${name} applies a batch's ops in order, deleteRange over [start, end)`, opts, () =>
    withEngine(factory, async (engine) => {
      await engine.write(["a", "b", "c", "d", "e"].map((k) => put(k, k)), { sync: false });
      await engine.write(
        [{ kind: "deleteRange", start: b("b"), end: b("d") }, put("c", "again")],
        { sync: false },
      );
      assert.deepEqual(keysOf(engine.scan({})), ["a", "c", "d", "e"]);
      assert.equal(s(engine.get(b("c"))), "again");
      await engine.write([{ kind: "deleteRange", start: new Uint8Array(0), end: b("d") }], {
        sync: false,
      });
      assert.deepEqual(keysOf(engine.scan({})), ["d", "e"]);
      await rejectsWith(
        engine.write([{ kind: "deleteRange", start: b("z"), end: b("a") }], { sync: false }),
        ErrorCode.KvEngineBadRange,
      );
    }));

  test(`${name} scans forward and reverse within bounds and limits`, opts, () =>
    withEngine(factory, async (engine) => {
      const keys = ["a", "b", "b\x00", "ba", "c", "d"];
      await engine.write(keys.map((k) => put(k, `v${k}`)), { sync: false });
      assert.deepEqual(keysOf(engine.scan({})), keys);
      assert.deepEqual(keysOf(engine.scan({ reverse: true })), [...keys].reverse());
      assert.deepEqual(keysOf(engine.scan({ start: b("b"), end: b("c") })), ["b", "b\x00", "ba"]);
      assert.deepEqual(keysOf(engine.scan({ start: b("b"), end: b("c"), reverse: true })), [
        "ba",
        "b\x00",
        "b",
      ]);
      assert.deepEqual(keysOf(engine.scan({ start: b("bb"), end: b("zz") })), ["c", "d"]);
      assert.deepEqual(keysOf(engine.scan({ end: b("b"), reverse: true })), ["a"]);
      assert.deepEqual(keysOf(engine.scan({ start: b("c"), reverse: true })), ["d", "c"]);
      assert.deepEqual(keysOf(engine.scan({ limit: 2 })), ["a", "b"]);
      assert.deepEqual(keysOf(engine.scan({ limit: 2, reverse: true })), ["d", "c"]);
      assert.deepEqual(keysOf(engine.scan({ limit: 0 })), []);
      assert.deepEqual(keysOf(engine.scan({ start: b("c"), end: b("b") })), []);
      assert.deepEqual(keysOf(engine.scan({ end: new Uint8Array(0) })), []);
      const pairs = [...engine.scan({ start: b("c") })];
      assert.deepEqual(pairs.map((p) => s(p.value)), ["vc", "vd"]);
      throwsWith(() => engine.scan({ limit: -1 }), ErrorCode.KvEngineBadRange);
    }));

  test(`${name} snapshot does not see later writes until released`, opts, () =>
    withEngine(factory, async (engine) => {
      await engine.write([put("a", "1"), put("b", "1"), put("c", "1")], { sync: true });
      const snap = engine.snapshot();
      await engine.write([put("a", "2"), { kind: "delete", key: b("b") }, put("d", "2")], {
        sync: true,
      });
      await engine.write([{ kind: "deleteRange", start: b("c"), end: b("z") }], { sync: false });
      assert.equal(s(snap.get(b("a"))), "1");
      assert.equal(s(snap.get(b("b"))), "1");
      assert.equal(snap.get(b("d")), undefined);
      assert.deepEqual(keysOf(snap.scan({})), ["a", "b", "c"]);
      assert.deepEqual(keysOf(snap.scan({ reverse: true, limit: 1 })), ["c"]);
      assert.deepEqual(keysOf(engine.scan({})), ["a"]);
      assert.equal(s(engine.get(b("a"))), "2");
      const second = engine.snapshot();
      assert.deepEqual(keysOf(second.scan({})), ["a"]);
      second.release();
      snap.release();
      assert.throws(() => snap.get(b("a")), /released engine snapshot/);
    }));

  test(`${name} applies nothing of a batch that holds a bad op`, opts, () =>
    withEngine(factory, async (engine) => {
      await engine.write([put("keep", "1")], { sync: false });
      const tooLong = new Uint8Array(limits.engineKeyBytesMax + 1);
      await rejectsWith(
        engine.write(
          [
            put("x", "1"),
            { kind: "delete", key: b("keep") },
            { kind: "put", key: tooLong, value: b("") },
          ],
          { sync: true },
        ),
        ErrorCode.KvEngineKeyTooLarge,
      );
      assert.deepEqual(keysOf(engine.scan({})), ["keep"]);
    }));

  test(`${name} enforces the key and value limits with stable codes`, opts, () =>
    withEngine(factory, async (engine) => {
      const longest = new Uint8Array(limits.engineKeyBytesMax).fill(0x61);
      const bigValue = new Uint8Array(limits.engineValueBytesMax).fill(7);
      await engine.write([{ kind: "put", key: longest, value: bigValue }], { sync: true });
      assert.equal(engine.get(longest)?.length, limits.engineValueBytesMax);
      const tooLong = new Uint8Array(limits.engineKeyBytesMax + 1);
      await rejectsWith(
        engine.write([{ kind: "put", key: tooLong, value: b("") }], { sync: false }),
        ErrorCode.KvEngineKeyTooLarge,
      );
      throwsWith(() => engine.get(tooLong), ErrorCode.KvEngineKeyTooLarge);
      await rejectsWith(
        engine.write([{ kind: "put", key: new Uint8Array(0), value: b("") }], { sync: false }),
        ErrorCode.KvEngineKeyEmpty,
      );
      throwsWith(() => engine.get(new Uint8Array(0)), ErrorCode.KvEngineKeyEmpty);
      await rejectsWith(
        engine.write(
          [{ kind: "put", key: b("v"), value: new Uint8Array(limits.engineValueBytesMax + 1) }],
          { sync: false },
        ),
        ErrorCode.KvEngineValueTooLarge,
      );
      throwsWith(() => engine.scan({ start: tooLong }), ErrorCode.KvEngineKeyTooLarge);
    }));

  test(`${name} approximateSize grows with the data in the range`, opts, () =>
    withEngine(factory, async (engine) => {
      const size = (): number => engine.approximateSize(b("k"), b("l"));
      assert.equal(size(), 0);
      let last = 0;
      for (let i = 0; i < 5; i++) {
        await engine.write([put(`k${i}`, "x".repeat(100))], { sync: false });
        const now = size();
        assert.ok(now > last, `size ${now} after insert ${i} is not above ${last}`);
        last = now;
      }
      await engine.write([put("z", "x".repeat(1000))], { sync: false });
      assert.equal(size(), last);
      assert.equal(engine.approximateSize(b("a"), b("b")), 0);
    }));

  test(`${name} ingests a sorted file atomically and durably`, opts, () =>
    withEngine(factory, async (engine) => {
      await engine.write([put("a", "old")], { sync: false });
      const path = sortedPath();
      const pairs = ["a", "b", "c"].map((k) => ({ key: b(k), value: b(`new${k}`) }));
      await writeSortedFile(path, pairs);
      assert.deepEqual(await engine.ingest(path), { keys: 3, bytes: 3 + 12 });
      assert.deepEqual(keysOf(engine.scan({})), ["a", "b", "c"]);
      assert.equal(s(engine.get(b("a"))), "newa");
    }));

  test(`${name} refuses an unsorted, duplicate or damaged file before applying any`, opts, () =>
    withEngine(factory, async (engine) => {
      const unsorted = sortedPath();
      const kv = (k: string): KeyValue => ({ key: b(k), value: b("v") });
      await writeFile(unsorted, encodeSortedFile([kv("a"), kv("c"), kv("b")]));
      await rejectsWith(engine.ingest(unsorted), ErrorCode.KvEngineIngestUnsorted);
      const duplicate = sortedPath();
      await writeFile(duplicate, encodeSortedFile([kv("a"), kv("a")]));
      await rejectsWith(engine.ingest(duplicate), ErrorCode.KvEngineIngestUnsorted);
      const good = encodeSortedFile([kv("a"), kv("b"), kv("c")]);
      const flipped = sortedPath();
      const damaged = good.slice();
      damaged[12] = (damaged[12] as number) ^ 1;
      await writeFile(flipped, damaged);
      await rejectsWith(engine.ingest(flipped), ErrorCode.KvEngineIngestMalformed);
      const truncated = sortedPath();
      await writeFile(truncated, good.subarray(0, good.length - 5));
      await rejectsWith(engine.ingest(truncated), ErrorCode.KvEngineIngestMalformed);
      await rejectsWith(engine.ingest(sortedPath()), ErrorCode.KvEngineIngestMalformed);
      await assert.rejects(
        writeSortedFile(sortedPath(), [kv("b"), kv("a")]),
        (error: unknown) => hasErrorCode(error, ErrorCode.KvEngineIngestUnsorted),
      );
      assert.deepEqual(keysOf(engine.scan({})), []);
    }));

  test(`${name} refuses use after close`, opts, async () => {
    const engine = await factory.open();
    await engine.close();
    await engine.close();
    throwsWith(() => engine.get(b("a")), ErrorCode.KvEngineClosed);
    await rejectsWith(engine.write([put("a", "1")], { sync: false }), ErrorCode.KvEngineClosed);
    await rejectsWith(engine.sync(), ErrorCode.KvEngineClosed);
  });
}
