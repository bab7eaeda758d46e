/**
 * The spill store on the simulated file system: every kind of `Value` round-trips exactly
 * through a spill file (read back in chunks smaller than a row, and larger), files are
 * removed when their statement's set closes — also after a write failed on a full disk —
 * and the space's counters follow files and bytes; a restarted node removes the spill
 * files a dead process left, and nothing else.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { SimFileSystem } from "../../env/mod.ts";
import type { Value } from "../../expr/mod.ts";
import { SpillSpace, decodeSpillRows, encodeSpillRows } from "./spill_store.ts";

const opts = { timeout: 20_000 };

/** One value of every kind and corner the codec must keep. */
const samples: Value[] = [
  null,
  { kind: "int", value: 0n },
  { kind: "int", value: -(2n ** 63n) },
  { kind: "int", value: 2n ** 63n - 1n },
  { kind: "int", value: 2n ** 70n },
  { kind: "int", value: -(2n ** 90n) - 7n },
  { kind: "uint", value: 0n },
  { kind: "uint", value: 2n ** 64n - 1n },
  { kind: "uint", value: 2n ** 65n },
  { kind: "double", value: 1.5 },
  { kind: "double", value: -0 },
  { kind: "double", value: Number.NaN },
  { kind: "double", value: Number.NEGATIVE_INFINITY },
  { kind: "double", value: 5e-324 },
  { kind: "decimal", unscaled: -123456789012345678901234567890n, scale: 30 },
  { kind: "decimal", unscaled: 0n, scale: 0 },
  { kind: "string", value: "" },
  { kind: "string", value: "héllo wörld 日本 😀" },
  { kind: "string", value: "lone \ud800 surrogate \udfff" },
  { kind: "string", value: "b", tag: { kind: "enum", index: 2 } },
  { kind: "string", value: "", tag: { kind: "enum", index: 0 } },
  { kind: "string", value: "a,c", tag: { kind: "set", bits: 5n } },
  { kind: "string", value: "838:59:59", tag: { kind: "time" } },
  { kind: "string", value: "{\"a\": [1, 2]}", tag: { kind: "json" } },
  { kind: "string", value: "x".repeat(70_000) },
  { kind: "datetime", value: { year: 2024, month: 2, day: 29, hour: 23, minute: 59,
    second: 58, microsecond: 999_999 }, fsp: 6 },
  { kind: "datetime", value: { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0,
    microsecond: 0 }, fsp: 0, date: true },
  { kind: "datetime", value: { year: 9999, month: 12, day: 31, hour: 1, minute: 2,
    second: 3, microsecond: 4 }, fsp: 3, utc: true, date: false },
];

test("every Value kind round-trips exactly through the codec", opts, () => {
  const rows = [samples, [], [null], samples.slice().reverse()];
  const bytes = encodeSpillRows(rows);
  const { rows: back, used } = decodeSpillRows(bytes);
  assert.equal(used, bytes.length);
  assert.deepEqual(back, rows);
  assert.ok(Object.is((back[0]![10] as { value: number }).value, -0));
  // A partial trailing frame is left for the next chunk.
  const cut = decodeSpillRows(bytes.subarray(0, bytes.length - 1));
  assert.equal(cut.rows.length, rows.length - 1);
});

test("a spill file gives its rows back in order, chunk by chunk", opts, async () => {
  const fs = new SimFileSystem({ seed: 1 });
  const space = new SpillSpace(fs, "/tmp/spill");
  const set = space.open();
  const file = await set.create();
  const rows: Value[][] = [];
  for (let i = 0; i < 3000; i++) {
    rows.push([{ kind: "int", value: BigInt(i) }, samples[i % samples.length]!]);
  }
  for (const row of rows) await file.write(row);
  await file.flush();
  assert.equal(space.stats.filesLive, 1);
  assert.equal(space.stats.bytesLive, file.size);
  for (const chunk of [64, 4096, 1 << 20]) {
    const reader = file.reader(chunk);
    const back: Value[][] = [];
    for (let got = await reader.next(); got !== null; got = await reader.next()) {
      back.push(...got);
    }
    assert.deepEqual(back, rows, `chunk ${chunk}`);
  }
  assert.deepEqual(await fs.readdir("/tmp/spill"), [file.path.split("/").at(-1)]);
  await set.close();
  assert.deepEqual(await fs.readdir("/tmp/spill"), []);
  assert.deepEqual({ ...space.stats, bytesWritten: 0 }, { filesCreated: 1, filesLive: 0,
    bytesWritten: 0, bytesLive: 0 });
  assert.ok(space.stats.bytesWritten > 0);
});

test("a failed write (disk full) leaves no file once the set closes", opts, async () => {
  const fs = new SimFileSystem({ seed: 2 });
  const space = new SpillSpace(fs, "/tmp/spill");
  const set = space.open();
  const first = await set.create();
  await first.write([{ kind: "string", value: "kept" }]);
  await first.flush();
  const second = await set.create();
  fs.setDiskFull(true);
  await assert.rejects(async () => {
    const row: Value[] = [{ kind: "string", value: "y".repeat(100) }];
    for (let i = 0; i < 10_000; i++) await second.write(row);
    await second.flush();
  }, (error: { code?: string }) => error.code === "ENOSPC");
  await set.close();
  fs.setDiskFull(false);
  assert.deepEqual(await fs.readdir("/tmp/spill"), []);
  assert.equal(space.stats.filesLive, 0);
  assert.equal(space.stats.bytesLive, 0);
  // Files of two statements are apart: closing one keeps the other's.
  const a = space.open();
  const b = space.open();
  await (await a.create()).flush();
  const kept = await b.create();
  await a.close();
  assert.deepEqual(await fs.readdir("/tmp/spill"), [kept.path.split("/").at(-1)]);
  await b.close();
});

test("removeStale removes leftover spill files only", opts, async () => {
  const fs = new SimFileSystem({ seed: 6 });
  await fs.mkdir("/tmp/spill");
  for (const name of ["spill-3.tmp", "spill-0a1b2c-17.tmp", "keep.txt", "spill-x.txt"]) {
    await fs.writeFileAtomic(`/tmp/spill/${name}`, new Uint8Array([1]));
  }
  const space = new SpillSpace(fs, "/tmp/spill", { prefix: "spill-ffee" });
  await space.removeStale();
  assert.deepEqual(await fs.readdir("/tmp/spill"), ["keep.txt", "spill-x.txt"]);
  const file = await space.open().create();
  assert.match(file.path, /^\/tmp\/spill\/spill-ffee-1\.tmp$/);
  await new SpillSpace(fs, "/absent").removeStale();
});
