/**
 * Randomized cluster tests of the Raft library: a fixed list of 1,000 seeds (so results do
 * not depend on machine load) runs through `raft_harness.ts`, which checks election safety,
 * log matching, leader completeness, state machine safety, linearizable ReadIndex and lease
 * reads after every event, and liveness once faults stop. A failure prints the seed and the
 * command that replays it with a trace of the last events:
 *   RAFT_SEED=<seed> ./node_modules/.bin/node --test src/raft/raft_sim.test.ts
 * Injected-bug tests show that each checker fails when Raft (or its host) is wrong.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { runHarness, seedOptions } from "./raft_harness.ts";
import type { HarnessBugs, HarnessStats } from "./raft_harness.ts";

const opts = { timeout: 120_000 };

function runSeeds(from: number, to: number): HarnessStats {
  const total: HarnessStats = {
    events: 0, elections: 0, committed: 0, applied: 0, readIndexServed: 0,
    leaseReadsServed: 0, snapshotsInstalled: 0, confChanges: 0, crashes: 0, partitions: 0,
    stalls: 0, transfers: 0, hibernations: 0, messagesDropped: 0,
  };
  for (let seed = from; seed <= to; seed++) {
    const result = runHarness(seedOptions(seed));
    if (!result.ok) {
      assert.fail(
        `seed ${seed} failed at event ${result.event}: ${result.violation}\n` +
          `reproduce: RAFT_SEED=${seed} ./node_modules/.bin/node --test src/raft/raft_sim.test.ts`,
      );
    }
    for (const key of Object.keys(total) as (keyof HarnessStats)[]) {
      total[key] += result.stats[key];
    }
  }
  return total;
}

const only = process.env["RAFT_SEED"];
if (only !== undefined) {
  test(`Raft cluster stays safe and live under faults: seed ${only} with trace`, opts, () => {
    const result = runHarness({ ...seedOptions(Number(only)), traceEvents: 400 });
    if (!result.ok) {
      console.log(result.trace.join("\n"));
      assert.fail(`seed ${only} failed at event ${result.event}: ${result.violation}`);
    }
    console.log(JSON.stringify(result.stats));
  });
} else {
  const chunk = 250;
  for (let from = 1; from <= 1_000; from += chunk) {
    const to = from + chunk - 1;
    test(`Raft cluster stays safe and live under faults: seeds ${from}..${to}`, opts, () => {
      const stats = runSeeds(from, to);
      // The faults and features were exercised, not silently skipped.
      for (const key of Object.keys(stats) as (keyof HarnessStats)[]) {
        assert.ok(stats[key] > 0, `no ${key} in seeds ${from}..${to}`);
      }
    });
  }
}

function findsBug(bugs: HarnessBugs, pattern: RegExp, seeds: number): string {
  for (let seed = 1; seed <= seeds; seed++) {
    const result = runHarness({ seed, steps: 2_000, voters: 3, bugs });
    if (!result.ok) {
      assert.match(result.violation, pattern, `seed ${seed}`);
      return result.violation;
    }
  }
  return assert.fail(`no seed of ${seeds} caught the injected bug`);
}

test("checker catches a voter that votes twice in a term (election safety)", opts, () => {
  findsBug({ raft: { voteTwice: true } }, /two leaders in term/, 50);
});

test("checker catches a host that loses its vote on restart (election safety)", opts, () => {
  findsBug({ forgetVote: true }, /two leaders in term/, 400);
});

test("checker catches a host that acknowledges entries before persisting them", opts, () => {
  findsBug({ sendBeforePersist: true }, /lacks committed entry|committed entry .* changed|diverge/,
    100);
});

test("checker catches a lease that outlives the election timeout (linearizability)", opts, () => {
  findsBug({ leaseExtraMs: 300 }, /lease read .* but .* is committed/, 400);
});
