/**
 * `EmbeddedMetaStore` tests: the metadata-store conformance suite, then what only the
 * embedded store has — recovery after restart, a torn log tail, snapshot compaction, and
 * the directory lock (a live holder refuses, a dead one's lock is taken over).
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  appendFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ErrorCode, hasErrorCode } from "../../base/mod.ts";
import { createNodeEnv } from "../../env/mod.ts";
import { EmbeddedMetaStore } from "./embedded_store.ts";
import { prefixEnd } from "./meta_store.ts";
import { registerMetaStoreConformance } from "./test_meta_conformance.ts";

const opts = { timeout: 30_000 };
const env = createNodeEnv();
let root = "";
let counter = 0;
const freshDir = (): string => join(root, `store-${++counter}`);
const v = (s: string): Uint8Array => new TextEncoder().encode(s);
const s = (b: Uint8Array | undefined): string | undefined =>
  b === undefined ? undefined : new TextDecoder().decode(b);

before(() => {
  root = mkdtempSync(join(tmpdir(), "tessera-meta-"));
});

after(() => {
  if (root !== "") rmSync(root, { recursive: true, force: true });
});

registerMetaStoreConformance("EmbeddedMetaStore", {
  open: () => EmbeddedMetaStore.open(env, { dir: freshDir() }),
});

test("EmbeddedMetaStore recovers every acknowledged write after a restart", opts, async () => {
  const dir = freshDir();
  const a = await EmbeddedMetaStore.open(env, { dir });
  await a.put("/k/1", v("one"));
  await a.put("/k/2", v("two"));
  await a.delete("/k/1");
  const lease = await a.grantLease(60_000);
  await a.put("/k/leased", v("l"), { leaseId: lease.leaseId });
  const rev = a.currentRevision;
  await a.close();
  const b = await EmbeddedMetaStore.open(env, { dir });
  try {
    assert.equal(b.currentRevision, rev);
    assert.equal(await b.get("/k/1"), undefined);
    assert.equal(s((await b.get("/k/2"))?.value), "two");
    assert.equal((await b.get("/k/leased"))?.leaseId, lease.leaseId);
    await b.keepAlive(lease.leaseId);
    const next = await b.grantLease(60_000);
    assert.notEqual(next.leaseId, lease.leaseId, "lease ids are not reused");
    await b.revokeLease(lease.leaseId);
    assert.equal(await b.get("/k/leased"), undefined);
  } finally {
    await b.close();
  }
});

test("EmbeddedMetaStore cuts a torn log tail and keeps what came before", opts, async () => {
  const dir = freshDir();
  const a = await EmbeddedMetaStore.open(env, { dir });
  await a.put("/k/a", v("a"));
  await a.put("/k/b", v("b"));
  await a.close();
  const log = join(dir, "meta.log");
  const goodSize = statSync(log).size;
  // Half a frame: a length that promises more bytes than follow, as a crash leaves it.
  appendFileSync(log, Uint8Array.from([0, 0, 0, 50, 1, 2, 3, 4, 5]));
  const b = await EmbeddedMetaStore.open(env, { dir });
  try {
    assert.equal(statSync(log).size, goodSize);
    assert.deepEqual(
      (await b.range({ start: "/k/", end: prefixEnd("/k/") })).map((kv) => s(kv.value)),
      ["a", "b"],
    );
    await b.put("/k/c", v("c"));
  } finally {
    await b.close();
  }
  // A frame whose checksum does not match is a torn write too.
  const bytes = readFileSync(log);
  const corrupted = Uint8Array.from(bytes);
  corrupted[corrupted.length - 1] = (corrupted[corrupted.length - 1] as number) ^ 0xff;
  rmSync(log);
  appendFileSync(log, corrupted);
  const c = await EmbeddedMetaStore.open(env, { dir });
  try {
    assert.equal(await c.get("/k/c"), undefined);
    assert.equal(s((await c.get("/k/b"))?.value), "b");
  } finally {
    await c.close();
  }
});

test("EmbeddedMetaStore: a lease whose expiry began cannot be renewed, even on a slow disk",
  opts, async () => {
    // Disk syncs wait on `gate` while it is set: the expiry's log writes then take as long
    // as the test wants, as an fsync under load may. A keepAlive in that window used to
    // succeed (the lease left the table only after its keys' deletion was logged), so its
    // holder believed it kept keys that were being deleted.
    let gate: Promise<void> | undefined;
    let release = (): void => {};
    let gatedSyncs = 0;
    type Fn = (...args: unknown[]) => unknown;
    const gated = <T extends object>(target: T, wrap: (name: string, fn: Fn) =>
      Fn | undefined): T => new Proxy(target, {
      get(t, name) {
        const value = Reflect.get(t, name) as unknown;
        if (typeof value !== "function") return value;
        const bound = (value as Fn).bind(t);
        return wrap(String(name), bound) ?? bound;
      },
    });
    const slowFs = gated(env.fs, (name, fn) => name !== "open" ? undefined
      : async (...args: unknown[]) => gated(await fn(...args) as object, (method, call) =>
        method !== "sync" ? undefined : async () => {
          if (gate !== undefined) {
            gatedSyncs++;
            await gate;
          }
          return call();
        }));
    const store = await EmbeddedMetaStore.open({ ...env, fs: slowFs }, { dir: freshDir() });
    try {
      const lease = await store.grantLease(200);
      await store.put("/leased", v("x"), { leaseId: lease.leaseId });
      gate = new Promise((resolve) => {
        release = resolve;
      });
      const deadline = performance.now() + 15_000;
      while (gatedSyncs === 0) {
        assert.ok(performance.now() < deadline, "the lease never began to expire");
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await assert.rejects(store.keepAlive(lease.leaseId), (e: unknown) =>
        hasErrorCode(e, ErrorCode.PdMetaLeaseNotFound));
      gate = undefined;
      release();
      while ((await store.get("/leased")) !== undefined) {
        assert.ok(performance.now() < deadline, "the leased key was never deleted");
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    } finally {
      gate = undefined;
      release();
      await store.close();
    }
  });

test(
  "EmbeddedMetaStore compacts its log into a snapshot and recovers from both",
  opts,
  async () => {
    const dir = freshDir();
    const a = await EmbeddedMetaStore.open(env, { dir, logBytesMax: 2_000 });
    for (let i = 0; i < 200; i++) await a.put(`/n/${String(i).padStart(3, "0")}`, v(`value ${i}`));
    await a.delete("/n/007");
    const rev = a.currentRevision;
    await a.close();
    assert.ok(statSync(join(dir, "meta.snap")).size > 0);
    assert.ok(statSync(join(dir, "meta.log")).size < 2_500, "the log was emptied");
    const b = await EmbeddedMetaStore.open(env, { dir });
    try {
      assert.equal(b.currentRevision, rev);
      const all = await b.range({ start: "/n/", end: prefixEnd("/n/") });
      assert.equal(all.length, 199);
      assert.equal(s((await b.get("/n/199"))?.value), "value 199");
      assert.equal(await b.get("/n/007"), undefined);
    } finally {
      await b.close();
    }
  },
);

test(
  "EmbeddedMetaStore locks its directory: a live holder refuses, a dead one's lock is taken",
  opts,
  async () => {
    const dir = freshDir();
    const lockFile = join(dir, "LOCK");
    const a = await EmbeddedMetaStore.open(env, { dir, lockPid: process.pid });
    assert.equal(readFileSync(lockFile, "utf8"), `${process.pid}\n`);
    const isLocked = (e: unknown) => hasErrorCode(e, ErrorCode.PdMetaLocked);
    await assert.rejects(EmbeddedMetaStore.open(env, { dir, lockPid: process.pid }), isLocked);
    await a.close();
    assert.equal(existsSync(lockFile), false, "close releases the lock");
    // A live process (this test's parent) holds it.
    writeFileSync(lockFile, `${process.ppid}\n`);
    await assert.rejects(EmbeddedMetaStore.open(env, { dir, lockPid: process.pid }), isLocked);
    writeFileSync(lockFile, "garbage");
    await assert.rejects(EmbeddedMetaStore.open(env, { dir, lockPid: process.pid }), isLocked);
    // A process that has exited leaves a stale lock, which is taken over.
    if (existsSync("/proc/self")) {
      const child = spawnSync(process.execPath, ["-e", ""]);
      writeFileSync(lockFile, `${child.pid}\n`);
      const b2 = await EmbeddedMetaStore.open(env, { dir, lockPid: process.pid });
      assert.equal(readFileSync(lockFile, "utf8"), `${process.pid}\n`);
      await b2.close();
    }
    // Without lockPid (tests, two members sharing one store object) nothing is locked.
    const c = await EmbeddedMetaStore.open(env, { dir });
    await c.close();
  },
);
