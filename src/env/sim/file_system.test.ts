/**
 * Tests of `SimFileSystem`: the shared file-system conformance suite, then the durability
 * model — what a crash keeps and loses (unsynced bytes, unsynced directory entries, atomic
 * writes, exclusive creates), torn writes replayed from the seed, handles dead after a
 * crash, and disk-full injection.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { registerFileSystemConformanceTests } from "../env_conformance.ts";
import { SimFileSystem } from "./file_system.ts";

let caseCount = 0;

registerFileSystemConformanceTests({
  name: "SimFileSystem",
  create: async () => {
    const fs = new SimFileSystem({ seed: 5 });
    const root = `/sim/case-${caseCount++}`;
    await fs.mkdir(root);
    return { fs, root };
  },
});

const timeout = { timeout: 10_000 };
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array): string => new TextDecoder().decode(b);

async function withDir(): Promise<SimFileSystem> {
  const fs = new SimFileSystem({ seed: 1 });
  await fs.mkdir("/data");
  return fs;
}

test("SimFileSystem.crash() loses unsynced bytes and keeps synced ones", timeout, async () => {
  const fs = await withDir();
  const handle = await fs.open("/data/log", { create: true });
  await handle.append(utf8("synced;"));
  await handle.sync();
  await fs.syncDir("/data");
  await handle.append(utf8("lost"));
  assert.equal(text(await fs.readFile("/data/log")), "synced;lost");
  fs.crash();
  assert.equal(text(await fs.readFile("/data/log")), "synced;");
});

test("SimFileSystem.crash() loses a file whose directory entry was never synced", timeout,
  async () => {
    const fs = await withDir();
    const handle = await fs.open("/data/new", { create: true });
    await handle.append(utf8("bytes"));
    await handle.sync();
    fs.crash();
    assert.equal(await fs.exists("/data/new"), false);
  });

test("SimFileSystem.crash() undoes an unsynced rename and remove", timeout, async () => {
  const fs = await withDir();
  await fs.writeFileAtomic("/data/a", utf8("A"));
  await fs.writeFileAtomic("/data/b", utf8("B"));
  await fs.rename("/data/a", "/data/c");
  await fs.remove("/data/b");
  assert.deepEqual(await fs.readdir("/data"), ["c"]);
  fs.crash();
  assert.deepEqual(await fs.readdir("/data"), ["a", "b"]);
  await fs.rename("/data/a", "/data/c");
  await fs.syncDir("/data");
  fs.crash();
  assert.deepEqual(await fs.readdir("/data"), ["b", "c"]);
});

test("SimFileSystem: writeFileAtomic() and createExclusive() survive a crash whole", timeout,
  async () => {
    const fs = await withDir();
    await fs.writeFileAtomic("/data/state", utf8("v1"));
    await fs.writeFileAtomic("/data/state", utf8("version two"));
    await fs.createExclusive("/data/LOCK", utf8("pid 1"));
    fs.crash({ tornWrites: true });
    assert.equal(text(await fs.readFile("/data/state")), "version two");
    assert.equal(text(await fs.readFile("/data/LOCK")), "pid 1");
  });

test("SimFileSystem: handles opened before a crash fail with EBADF", timeout, async () => {
  const fs = await withDir();
  const handle = await fs.open("/data/f", { create: true });
  fs.crash();
  await assert.rejects(handle.append(utf8("x")), { code: "EBADF" });
  await assert.rejects(handle.read(0, 1), { code: "EBADF" });
  const closed = await fs.open("/data/g", { create: true });
  await closed.close();
  await assert.rejects(closed.sync(), { code: "EBADF" });
});

test("SimFileSystem.crash({ tornWrites }) keeps a seeded prefix of unsynced changes",
  timeout, async () => {
    const outcomes = new Set<string>();
    const run = async (seed: number): Promise<string> => {
      const fs = new SimFileSystem({ seed });
      await fs.mkdir("/d");
      const handle = await fs.open("/d/log", { create: true });
      await handle.append(utf8("base|"));
      await handle.sync();
      await fs.syncDir("/d");
      for (const record of ["one|", "two|", "three|"]) await handle.append(utf8(record));
      fs.crash({ tornWrites: true });
      return text(await fs.readFile("/d/log"));
    };
    for (let seed = 1; seed <= 40; seed++) {
      const survivor = await run(seed);
      assert.equal(survivor, await run(seed), "the same seed tears the same way");
      assert.ok("base|one|two|three|".startsWith(survivor), survivor);
      assert.ok(survivor.startsWith("base|"), survivor);
      outcomes.add(survivor);
    }
    // Whole records kept, none kept, and torn records in the middle all occur.
    assert.ok(outcomes.has("base|"), [...outcomes].join(" "));
    assert.ok([...outcomes].some((o) => !o.endsWith("|")), [...outcomes].join(" "));
    assert.ok(outcomes.size >= 4, [...outcomes].join(" "));
  });

test("SimFileSystem.setDiskFull() fails writes with ENOSPC until cleared", timeout,
  async () => {
    const fs = await withDir();
    const handle = await fs.open("/data/f", { create: true });
    await handle.append(utf8("before"));
    fs.setDiskFull(true);
    await assert.rejects(handle.append(utf8("x")), { code: "ENOSPC" });
    await assert.rejects(handle.write(0, utf8("x")), { code: "ENOSPC" });
    await assert.rejects(fs.writeFileAtomic("/data/g", utf8("x")), { code: "ENOSPC" });
    await assert.rejects(fs.createExclusive("/data/h", utf8("x")), { code: "ENOSPC" });
    await assert.rejects(fs.open("/data/i", { create: true }), { code: "ENOSPC" });
    // Shrinking and syncing still work on a full disk.
    await handle.truncate(3);
    await handle.sync();
    assert.equal(text(await fs.readFile("/data/f")), "bef");
    assert.equal(await fs.exists("/data/g"), false);
    fs.setDiskFull(false);
    await handle.append(utf8("ore"));
    assert.equal(text(await fs.readFile("/data/f")), "before");
    assert.equal(fs.usedBytes(), 6);
  });

test("SimFileSystem: a handle follows its file through a rename, as POSIX does", timeout,
  async () => {
    const fs = await withDir();
    const handle = await fs.open("/data/old", { create: true });
    await fs.rename("/data/old", "/data/new");
    await handle.append(utf8("moved"));
    assert.equal(text(await fs.readFile("/data/new")), "moved");
    await assert.rejects(fs.readFile("/data/old"), { code: "ENOENT" });
    await assert.rejects(fs.open("/missing/x", { create: true }), { code: "ENOENT" });
    await assert.rejects(fs.readdir("/data/new"), { code: "ENOTDIR" });
  });

test("SimFileSystem: writes past the end leave a zero-filled hole", timeout, async () => {
  const fs = await withDir();
  const handle = await fs.open("/data/sparse", { create: true });
  await handle.write(4, utf8("x"));
  assert.deepEqual([...(await fs.readFile("/data/sparse"))], [0, 0, 0, 0, 120]);
  await handle.truncate(2);
  await handle.truncate(6);
  assert.deepEqual([...(await fs.readFile("/data/sparse"))], [0, 0, 0, 0, 0, 0]);
});
