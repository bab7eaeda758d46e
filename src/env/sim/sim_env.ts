/**
 * `createSimEnv`: the deterministic parts of an `Env` for tests of pure state machines
 * and their shells — virtual clocks and timers driven by a `SimScheduler`, randomness
 * from a seeded `Prng`, and the real (pure) hash functions.
 *
 * Everything but the hashes is a function of the seed and of the calls made to the
 * scheduler, so a run is replayed from its seed. The simulated network and file system
 * are not here yet (issue T11); until then `SimEnv` is deliberately not a whole `Env`.
 */
import { Prng } from "../../base/mod.ts";
import type { Env } from "../env.ts";
import { NodeCrypto } from "../node/crypto.ts";
import { SimClock } from "./clock.ts";
import { SimRandom } from "./random.ts";
import { SimScheduler } from "./scheduler.ts";
import { SimTimers } from "./timers.ts";

/** The simulated parts of an `Env`, plus the scheduler that moves their virtual time. */
export type SimEnv = Pick<Env, "clock" | "timers" | "random" | "crypto"> & {
  readonly scheduler: SimScheduler;
};

export interface SimEnvOptions {
  /** Seeds `random`; the same seed gives the same sequence. */
  readonly seed: number;
  /** Virtual wall time at virtual time 0, in ms since the Unix epoch (default 2025-01-01). */
  readonly wallStartMs?: number;
}

/** A fresh simulated environment at virtual time 0. */
export function createSimEnv(options: SimEnvOptions): SimEnv {
  const scheduler = new SimScheduler(
    options.wallStartMs === undefined ? {} : { wallStartMs: options.wallStartMs },
  );
  return {
    clock: new SimClock(scheduler),
    timers: new SimTimers(scheduler),
    random: new SimRandom(new Prng(options.seed)),
    crypto: new NodeCrypto(),
    scheduler,
  };
}
