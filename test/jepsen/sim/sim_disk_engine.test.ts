/**
 * `SimDiskEngine` keeps what the `Engine` contract promises across a simulated crash:
 * synced batches survive, unsynced ones may be lost but only as a suffix (never a batch
 * half-applied, never a later batch without an earlier one), a torn log tail is cut off,
 * and a checkpoint (log compaction) loses nothing synced.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { createSimEnv } from "../../../src/env/mod.ts";
import { SimDiskEngine } from "./sim_disk_engine.ts";

const b = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (v: Uint8Array | undefined): string | undefined =>
  v === undefined ? undefined : new TextDecoder().decode(v);

test("SimDiskEngine: synced batches survive a crash, unsynced ones are lost as a suffix",
  { timeout: 20_000 }, async () => {
    for (let seed = 1; seed <= 40; seed++) {
      const env = createSimEnv({ seed });
      const open = (): Promise<SimDiskEngine> =>
        SimDiskEngine.open({ fs: env.fs, crypto: env.crypto, dir: "/e", compactBytes: 150 });
      const engine = await open();
      for (let i = 0; i < 10; i++) {
        await engine.write([{ kind: "put", key: b(`k${i}`), value: b(`v${i}`) },
          { kind: "put", key: b("last"), value: b(String(i)) }], { sync: i < 5 });
      }
      env.disk.crash({ tornWrites: true });
      const reopened = await open();
      const last = Number(text(reopened.get(b("last"))));
      assert.ok(last >= 4 && last <= 9, `seed ${seed}: last synced batch lost (${last})`);
      for (let i = 0; i < 10; i++) {
        assert.equal(text(reopened.get(b(`k${i}`))), i <= last ? `v${i}` : undefined,
          `seed ${seed}: k${i} with last ${last}`);
      }
      // The recovered engine takes writes again, and they survive the next crash.
      await reopened.write([{ kind: "put", key: b("after"), value: b("x") }], { sync: true });
      env.disk.crash({ tornWrites: true });
      assert.equal(text((await open()).get(b("after"))), "x");
    }
  });

test("SimDiskEngine: a checkpoint (log compaction) keeps every synced batch",
  { timeout: 10_000 }, async () => {
    const env = createSimEnv({ seed: 9 });
    const open = (): Promise<SimDiskEngine> =>
      SimDiskEngine.open({ fs: env.fs, crypto: env.crypto, dir: "/e", compactBytes: 100 });
    const engine = await open();
    for (let i = 0; i < 20; i++) {
      await engine.write([{ kind: "put", key: b(`k${i}`), value: b(`v${i}`) }], { sync: true });
    }
    await engine.write([{ kind: "deleteRange", start: b("k1"), end: b("k2") }], { sync: true });
    await engine.sync();
    assert.ok(await env.fs.exists("/e/checkpoint"), "the log was compacted");
    env.disk.crash({ tornWrites: true });
    const reopened = await open();
    for (let i = 0; i < 20; i++) {
      const expected = String(i).startsWith("1") ? undefined : `v${i}`;
      assert.equal(text(reopened.get(b(`k${i}`))), expected, `k${i}`);
    }
  });

test("SimDiskEngine: a crashed engine refuses writes", { timeout: 10_000 }, async () => {
  const env = createSimEnv({ seed: 3 });
  const engine = await SimDiskEngine.open({ fs: env.fs, crypto: env.crypto, dir: "/e" });
  env.disk.crash();
  await assert.rejects(engine.write([{ kind: "put", key: b("k"), value: b("v") }],
    { sync: true }), /simulated disk write failed/);
  await assert.rejects(engine.write([{ kind: "delete", key: b("k") }], { sync: false }));
});
