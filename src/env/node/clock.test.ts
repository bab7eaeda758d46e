/**
 * Tests of `NodeClock`'s wall offset: a skewed clock reads the system wall time plus the
 * offset (ahead or behind), its monotonic time is not shifted, and an offset that is not
 * a whole number of ms within a day is refused.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { NodeClock, clockOffsetMsMax } from "./clock.ts";
import { createNodeEnv } from "./node_env.ts";

const timeout = { timeout: 10_000 };

test("NodeClock: a wall offset shifts wallMs() ahead or behind the system clock", timeout,
  () => {
    for (const offset of [5_000, -7_500, 0]) {
      const { clock } = createNodeEnv({ clockOffsetMs: offset });
      const before = Date.now();
      const wallMs = clock.wallMs();
      const afterMs = Date.now();
      assert.ok(wallMs >= before + offset && wallMs <= afterMs + offset,
        `offset ${offset}: ${before + offset} <= ${wallMs} <= ${afterMs + offset}`);
    }
  });

test("NodeClock: the offset leaves monotonic time alone", timeout, () => {
  const skewed = new NodeClock({ wallOffsetMs: -60_000 });
  const before = performance.now();
  const monotonic = skewed.monotonicMs();
  assert.ok(monotonic >= before && monotonic <= performance.now());
});

test("NodeClock: a fractional or out-of-range offset is refused", timeout, () => {
  for (const bad of [0.5, clockOffsetMsMax + 1, -clockOffsetMsMax - 1, Number.NaN]) {
    assert.throws(() => new NodeClock({ wallOffsetMs: bad }), /clock offset/);
  }
});
