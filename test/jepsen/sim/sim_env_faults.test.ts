/**
 * The simulator's per-process clock skew and its fault points: a drifting process's timers
 * fire on its own clock, a wall offset moves only that process's wall clock, and
 * `buggify` never fires until enabled, then fires deterministically per seed (and never
 * on the real machine's Env).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { createNodeEnv, createSimEnv } from "../../../src/env/mod.ts";

test("sim clock skew: offsets and drift are per process; timers follow the local clock",
  { timeout: 5_000 }, () => {
    const a = createSimEnv({ seed: 1, host: "a" });
    const b = a.spawn("b");
    b.clock.setSkew({ offsetMs: 1_500, driftRate: 0.001 });
    let firedAtVirtual = -1;
    let firedAtLocal = -1;
    b.timers.setTimeout(1_000, () => {
      firedAtVirtual = a.scheduler.monotonicMs();
      firedAtLocal = b.clock.monotonicMs();
    });
    a.scheduler.advance(2_000);
    assert.ok(Math.abs(firedAtLocal - 1_000) < 1e-6, `local ${firedAtLocal}`);
    assert.ok(firedAtVirtual < 1_000 && firedAtVirtual > 998, `virtual ${firedAtVirtual}`);
    assert.equal(a.clock.monotonicMs(), 2_000);
    assert.ok(Math.abs(b.clock.monotonicMs() - 2_002) < 1e-6);
    assert.ok(Math.abs(b.clock.wallMs() - a.clock.wallMs() - 1_502) < 1e-6);
    // Changing the skew never moves the monotonic clock backwards.
    const before = b.clock.monotonicMs();
    b.clock.setSkew({ offsetMs: -3_000, driftRate: -0.001 });
    assert.ok(b.clock.monotonicMs() >= before);
    assert.ok(b.clock.wallMs() < a.clock.wallMs());
  });

test("buggify: off until enabled, then seeded; always false on the node Env",
  { timeout: 5_000 }, () => {
    const draws = (seed: number): string => {
      const env = createSimEnv({ seed });
      assert.equal(env.buggify?.("site", 1), false);
      env.buggifyControl.enable(true);
      const fired: string[] = [];
      for (let i = 0; i < 400; i++) {
        const site = `site${i % 8}`;
        if (env.buggify?.(site, 0.5) === true) fired.push(`${i}:${site}`);
      }
      return fired.join(",");
    };
    assert.equal(draws(5), draws(5));
    assert.ok(new Set([1, 2, 3, 4, 5, 6].map(draws)).size > 1);
    assert.ok([1, 2, 3, 4, 5, 6].some((seed) => draws(seed) !== ""));
    const node = createNodeEnv();
    assert.equal(node.buggify?.("site", 1), false);
  });
