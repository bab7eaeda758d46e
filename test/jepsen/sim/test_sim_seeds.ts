/**
 * Test support: registers one `node:test` test per simulation seed. A seed that finds
 * anything fails with every anomaly, the seed and the command that replays it.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { type SimRunOptions, reproduceCommand, runSimulation } from "./sim_runner.ts";

/** Registers a test for each of `seeds` (swarm runs with `steps` nemesis steps). */
export function registerSimSeeds(seeds: readonly number[], options: Omit<SimRunOptions, "seed">):
  void {
  for (const seed of seeds) {
    test(`simulation seed ${seed}${options.swarm === true ? " (swarm)" : ""}`,
      { timeout: 120_000 }, async () => {
        const run = { ...options, seed };
        const result = await runSimulation(run);
        assert.deepEqual(result.anomalies, [], `seed ${seed} (${result.mode}, faults ` +
          `${result.faults.join(",")}) found anomalies; reproduce: ${reproduceCommand(run)}`);
        const ok = Object.values(result.stats.operations).reduce((n, o) => n + o.ok, 0);
        assert.ok(ok > 0, `seed ${seed}: no operation succeeded`);
      });
  }
}
