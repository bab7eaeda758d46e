/**
 * Tests of the real `Env` from `createNodeEnv`: the shared conformance suite for clocks,
 * timers, randomness and hashing on the real event loop, plus what only the real machine
 * has (the system wall clock, Node's 2^31 - 1 ms timer ceiling).
 */
import assert from "node:assert/strict";
import { setTimeout as delay } from "node:timers/promises";
import { test } from "node:test";
import { registerTimeConformanceTests } from "../env_conformance.ts";
import { createNodeEnv } from "./node_env.ts";

const timeout = { timeout: 10_000 };

registerTimeConformanceTests({
  name: "NodeEnv",
  create: () => ({
    ...createNodeEnv(),
    passTime: async (ms: number): Promise<void> => {
      await delay(ms);
    },
  }),
});

test("NodeEnv: createNodeEnv() provides every part of an Env", timeout, () => {
  const env = createNodeEnv();
  for (const part of [env.clock, env.timers, env.random, env.net, env.fs, env.crypto]) {
    assert.ok(part !== undefined && part !== null);
  }
});

test("NodeClock.wallMs() follows the system clock", timeout, () => {
  const { clock } = createNodeEnv();
  const before = Date.now();
  const wallMs = clock.wallMs();
  const afterMs = Date.now();
  assert.ok(wallMs >= before && wallMs <= afterMs, `${before} <= ${wallMs} <= ${afterMs}`);
});

test("NodeTimers.setTimeout() holds a delay beyond 2^31 - 1 ms", timeout, async () => {
  const { timers } = createNodeEnv();
  let farFired = false;
  let nearFired = false;
  const far = timers.setTimeout(2 ** 31 + 1000, () => (farFired = true));
  timers.setTimeout(20, () => (nearFired = true));
  for (let waitedMs = 0; !nearFired; waitedMs += 5) {
    assert.ok(waitedMs < 5_000, "gave up waiting for the near timeout");
    await delay(5);
  }
  // Node's own setTimeout runs an overlong timer after 1 ms, so before the near one.
  far.cancel();
  assert.equal(farFired, false);
});

test("NodeTimers keeps deadline order after the event loop ran late", timeout, async () => {
  const { timers } = createNodeEnv();
  const fired: string[] = [];
  // Node's own timers keep one list per delay and run a late loop's lists whole, which
  // would run "c" (20 ms, due last) before "b" (0 ms, due earlier).
  timers.setTimeout(20, () => fired.push("a"));
  blockEventLoop(25);
  timers.setTimeout(0, () => fired.push("b"));
  timers.setTimeout(20, () => fired.push("c"));
  blockEventLoop(25);
  for (let waitedMs = 0; fired.length < 3; waitedMs += 5) {
    assert.ok(waitedMs < 5_000, "gave up waiting for the timeouts");
    await delay(5);
  }
  assert.deepEqual(fired, ["a", "b", "c"]);
});

/** Keeps the event loop busy until `ms` have passed, as a long synchronous task would. */
function blockEventLoop(ms: number): void {
  const endMs = performance.now() + ms;
  while (performance.now() < endMs) {
    // Busy: the point is that no timer can run meanwhile.
  }
}
