/**
 * Regression test for an anomaly the whole-cluster simulation found (seed 3, all faults, 20
 * steps: after PD crashed and restarted, PD knew no stores and no shards, and the cluster
 * never recovered). The embedded metadata store created its log file and synced the
 * file, but never the directory: a crash may then drop the file's directory entry and with
 * it every acknowledged write (POSIX: fsync of a new file does not make its name durable).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { createSimEnv } from "../../../src/env/mod.ts";
import { EmbeddedMetaStore } from "../../../src/pd/mod.ts";

test("embedded metadata store: acknowledged writes survive a crash of a fresh directory",
  { timeout: 10_000 }, async () => {
    const env = createSimEnv({ seed: 1 });
    const store = await EmbeddedMetaStore.open(env, { dir: "/pd/meta" });
    await store.put("/cluster/id", new TextEncoder().encode("42"));
    env.disk.crash();
    const reopened = await EmbeddedMetaStore.open(env, { dir: "/pd/meta" });
    const got = await reopened.get("/cluster/id");
    assert.equal(got === undefined ? undefined : new TextDecoder().decode(got.value), "42");
    await reopened.close();
  });
