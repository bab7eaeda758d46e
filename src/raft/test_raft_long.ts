/**
 * The long randomized run of the Raft cluster harness, for `npm run test:raft-long`:
 * `RAFT_SEEDS` seeds (default 20,000) starting at `RAFT_SEED_FROM` (default 1,001, after
 * the CI seeds), each with `RAFT_STEPS_SCALE` times the CI steps (default 3). Its name is
 * not `*.test.ts`, so `npm test` does not pick it up; the script names it explicitly.
 * A failure prints the seed.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { runHarness, seedOptions } from "./raft_harness.ts";

const seeds = Number(process.env["RAFT_SEEDS"] ?? 20_000);
const from = Number(process.env["RAFT_SEED_FROM"] ?? 1_001);
const scale = Number(process.env["RAFT_STEPS_SCALE"] ?? 3);

test(
  `Raft cluster stays safe and live under faults: ${seeds} long seeds from ${from}`,
  { timeout: 24 * 3600_000 },
  () => {
    const failures: string[] = [];
    for (let seed = from; seed < from + seeds; seed++) {
      const result = runHarness(seedOptions(seed, scale));
      if (!result.ok) {
        failures.push(`seed ${seed}: ${result.violation}`);
        console.log(`FAIL seed ${seed} at event ${result.event}: ${result.violation}`);
      }
      if ((seed - from + 1) % 1000 === 0) console.log(`${seed - from + 1} seeds done`);
    }
    assert.deepEqual(failures, []);
  },
);
