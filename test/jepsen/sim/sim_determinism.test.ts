/**
 * Same seed, same run: a whole-cluster simulation with every fault on is run twice per
 * seed and the trace hashes (every history event and fault with its virtual time, the
 * network counters) must match; different seeds must differ.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { runSimulation } from "./sim_runner.ts";

test("simulation: the same seed gives the same trace", { timeout: 120_000 }, async () => {
  const hashes = new Map<number, string>();
  for (const seed of [7, 8]) {
    const first = await runSimulation({ seed, steps: 6 });
    const second = await runSimulation({ seed, steps: 6 });
    assert.equal(second.traceHash, first.traceHash,
      `seed ${seed} diverged:\n${diff(first.trace, second.trace)}`);
    assert.deepEqual(first.anomalies, []);
    hashes.set(seed, first.traceHash);
  }
  assert.notEqual(hashes.get(7), hashes.get(8));
});

/** The first line where two traces differ, with its neighbours. */
function diff(a: readonly string[], b: readonly string[]): string {
  const i = a.findIndex((line, j) => line !== b[j]);
  const at = i === -1 ? Math.min(a.length, b.length) : i;
  return `first run:  ${a.slice(at, at + 3).join(" / ")}\nsecond run: ` +
    b.slice(at, at + 3).join(" / ");
}
