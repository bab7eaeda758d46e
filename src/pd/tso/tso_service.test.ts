/**
 * `TsoService` on the embedded metadata store: a new term starts above the saved window,
 * windows are written only while the leader key keeps the term's create revision (a write
 * after losing it is refused, the service stops and reports it), and the stored window is
 * never lowered.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ErrorCode, decomposeTimestamp, hasErrorCode } from "../../base/mod.ts";
import { createNodeEnv } from "../../env/mod.ts";
import { EmbeddedMetaStore } from "../meta/embedded_store.ts";
import type { MetaCompare } from "../meta/meta_store.ts";
import { silentPdLogger } from "../server/logger.ts";
import { TsoService, decodeWindow } from "./tso_service.ts";

const opts = { timeout: 30_000 };
const env = createNodeEnv();
let root = "";

before(() => {
  root = mkdtempSync(join(tmpdir(), "tessera-tso-"));
});

after(() => {
  if (root !== "") rmSync(root, { recursive: true, force: true });
});

async function waitFor(what: string, condition: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = performance.now() + 10_000;
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

test("a term's window writes stop the moment the leader key changes hands", opts, async () => {
  const store = await EmbeddedMetaStore.open(env, { dir: join(root, "a") });
  try {
    const rev = await store.put("/leader", new TextEncoder().encode("me"));
    const guard: MetaCompare[] = [
      { key: "/leader", target: "createRevision", op: "=", operand: rev },
    ];
    let lost = "";
    const tso = new TsoService(env, store, {
      key: "/tso",
      logger: silentPdLogger,
      windowMs: 300,
      onLeadershipLost: (reason) => (lost = reason),
    });
    await tso.begin(guard, Number.POSITIVE_INFINITY);
    const first = await tso.getTimestamps(10);
    // Windows keep being written while the term lasts.
    const savedAtStart = tso.savedWindowMs;
    await waitFor("a second window write", () => tso.savedWindowMs > savedAtStart);
    // Another member takes over: the key is deleted and created again.
    await store.delete("/leader");
    await store.put("/leader", new TextEncoder().encode("someone else"));
    const storedBefore = decodeWindow((await store.get("/tso"))!.value);
    await waitFor("the refused write", () => lost !== "");
    assert.match(lost, /refused/);
    assert.equal(tso.serving, false);
    await assert.rejects(tso.getTimestamps(1), (e: unknown) =>
      hasErrorCode(e, ErrorCode.PdNotLeader),
    );
    assert.equal(decodeWindow((await store.get("/tso"))!.value), storedBefore, "nothing written");
    // The next leader starts above everything the old one could have served.
    const rev2 = (await store.get("/leader"))!.createRevision;
    const next = new TsoService(env, store, {
      key: "/tso",
      logger: silentPdLogger,
      windowMs: 300,
      onLeadershipLost: () => undefined,
    });
    await next.begin(
      [{ key: "/leader", target: "createRevision", op: "=", operand: rev2 }],
      Number.POSITIVE_INFINITY,
    );
    const after = await next.getTimestamps(1);
    assert.ok(decomposeTimestamp(after.firstTs).physicalMs > storedBefore);
    assert.ok(after.firstTs > first.firstTs);
    assert.ok(decodeWindow((await store.get("/tso"))!.value) > storedBefore, "never lowered");
    next.stop();
  } finally {
    await store.close();
  }
});

test("a lease deadline in the past refuses timestamps at once", opts, async () => {
  const store = await EmbeddedMetaStore.open(env, { dir: join(root, "b") });
  try {
    const tso = new TsoService(env, store, {
      key: "/tso",
      logger: silentPdLogger,
      onLeadershipLost: () => undefined,
    });
    const deadlineMs = env.clock.monotonicMs() + 200;
    await tso.begin([], deadlineMs);
    await tso.getTimestamps(1);
    await waitFor("the lease deadline", () => env.clock.monotonicMs() > deadlineMs);
    await assert.rejects(tso.getTimestamps(1), (e: unknown) =>
      hasErrorCode(e, ErrorCode.PdNotLeader),
    );
    tso.stop();
  } finally {
    await store.close();
  }
});
