/**
 * `npm run sim -- --seed N [--swarm] [--steps K] [--verbose]`: one deterministic
 * simulation run of a whole cluster (`sim_runner.ts`); prints the faults, the operation
 * counts, the trace hash and every anomaly, and exits 1 with the reproduction command if
 * anything was found. `--seeds A..B` runs a range (`npm run sim:long` runs many, swarm).
 */
import { parseArgs } from "node:util";
import { reproduceCommand, runSimulation } from "./sim_runner.ts";

const { values } = parseArgs({
  options: {
    seed: { type: "string", default: "1" },
    seeds: { type: "string" },
    swarm: { type: "boolean", default: false },
    steps: { type: "string" },
    verbose: { type: "boolean", default: false },
  },
});

function seedList(): number[] {
  if (values.seeds === undefined) return [Number(values.seed)];
  const [from, to] = values.seeds.split("..").map(Number);
  if (from === undefined || to === undefined || !(to >= from)) {
    throw new Error(`--seeds wants A..B, got ${values.seeds}`);
  }
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

let failed = 0;
for (const seed of seedList()) {
  const options = {
    seed,
    swarm: values.swarm,
    ...(values.steps === undefined ? {} : { steps: Number(values.steps) }),
    ...(values.verbose ? { log: (line: string) => process.stdout.write(`${line}\n`) } : {}),
  };
  const started = performance.now();
  const result = await runSimulation(options);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  process.stdout.write(`seed ${seed}: ${result.mode}, faults ${result.faults.join(",") ||
    "none"}, ${(result.stats.virtualMs / 1000).toFixed(1)} virtual s in ${seconds} s, ` +
    `ops ${JSON.stringify(result.stats.operations)}, crashes ${result.stats.crashes}, ` +
    `buggified ${JSON.stringify(result.stats.buggified)}, trace ${result.traceHash}\n`);
  if (result.anomalies.length > 0) {
    failed++;
    for (const anomaly of result.anomalies) process.stdout.write(`  ANOMALY ${anomaly}\n`);
    process.stdout.write(`  reproduce: ${reproduceCommand(options)}\n`);
  }
}
process.exitCode = failed > 0 ? 1 : 0;
