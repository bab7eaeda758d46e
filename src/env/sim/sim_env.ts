/**
 * `createSimEnv`: a whole simulated `Env` — virtual clocks and timers driven by a
 * `SimScheduler`, randomness from a seeded `Prng`, a `SimNetwork` and a `SimFileSystem`,
 * and the real (pure) hash functions — plus the controls a test drives them with.
 *
 * One simulation is one scheduler and one network shared by any number of simulated
 * processes: `createSimEnv` makes the first, on host `host` (default `127.0.0.1`), and
 * `spawn(host)` makes more on the same scheduler and network, each with its own disk and
 * its own random stream. Everything but the hashes is a function of the seed and of the
 * calls made, so a run is replayed from its seed. Each component draws from its own `Prng`
 * (derived from the seed), so a network fault does not shift the draws of `random`.
 *
 * Each process has its own clock (`clock.setSkew`: a wall offset and a drift rate that
 * also scales its timers) on the shared virtual time, and all share one `SimBuggify`
 * (`buggifyControl`, off until enabled) behind `Env.buggify`.
 */
import { Prng } from "../../base/mod.ts";
import type { Env } from "../env.ts";
import { NodeCrypto } from "../node/crypto.ts";
import { SimBuggify } from "./buggify.ts";
import { SimClock } from "./clock.ts";
import { type SimDiskControl, SimFileSystem } from "./file_system.ts";
import { type LinkDelay, SimNetwork, type SimNetworkControl } from "./network.ts";
import { SimRandom } from "./random.ts";
import { SimScheduler } from "./scheduler.ts";
import { SimTimers } from "./timers.ts";

/** Separates the seed stream of network, disks and spawned processes from `random`'s. */
const seedStreamOffset = 0x5eed_0001;

/** One simulated process: a whole `Env`, plus the controls of its simulation. */
export interface SimEnv extends Env {
  /** Moves the virtual time of the whole simulation. */
  readonly scheduler: SimScheduler;
  /** This process's host name on the simulated network. */
  readonly host: string;
  /** Partitions, delays and resets of the simulation's network. */
  readonly network: SimNetworkControl;
  /** Crashes and disk-full of this process's disk. */
  readonly disk: SimDiskControl;
  /** This process's clock, whose skew and drift a test sets. */
  readonly clock: SimClock;
  /** The simulation's fault points (shared by its processes). */
  readonly buggifyControl: SimBuggify;
  /** Another process of the same simulation, on `host`, with its own disk. */
  spawn(host: string): SimEnv;
}

export interface SimEnvOptions {
  /** Seeds every random choice of the simulation; the same seed gives the same run. */
  readonly seed: number;
  /** Virtual wall time at virtual time 0, in ms since the Unix epoch (default 2025-01-01). */
  readonly wallStartMs?: number;
  /** This process's host name (default `127.0.0.1`). */
  readonly host?: string;
  /** Delay of every network link (default 0.5–2 ms). */
  readonly linkDelay?: LinkDelay;
}

/** A fresh simulation at virtual time 0, and its first process. */
export function createSimEnv(options: SimEnvOptions): SimEnv {
  const scheduler = new SimScheduler(
    options.wallStartMs === undefined ? {} : { wallStartMs: options.wallStartMs },
  );
  // `random` of the first process draws from the seed itself, as it did before the network
  // and disk existed; everything else from a stream derived from it.
  const seeds = new Prng(options.seed + seedStreamOffset);
  const network = new SimNetwork(scheduler, {
    seed: seeds.nextUint32(),
    ...(options.linkDelay === undefined ? {} : { delay: options.linkDelay }),
  });
  const crypto = new NodeCrypto();
  // Drawn after the network's and disks' seeds so that their streams stay as they were.
  let buggifyControl: SimBuggify | undefined;
  const buggify = (): SimBuggify => {
    buggifyControl ??= new SimBuggify({ seed: (options.seed ^ 0x0b06_6170) >>> 0 });
    return buggifyControl;
  };
  const make = (host: string, random: Prng, diskSeed: number): SimEnv => {
    const fs = new SimFileSystem({ seed: diskSeed });
    const clock = new SimClock(scheduler);
    const control = buggify();
    return {
      clock,
      timers: new SimTimers(scheduler, clock),
      buggify: (site, probability) => control.fire(site, probability),
      buggifyControl: control,
      random: new SimRandom(random),
      net: network.forHost(host),
      fs,
      crypto,
      scheduler,
      host,
      network,
      disk: fs,
      spawn: (other) => {
        const processSeed = seeds.nextUint32();
        return make(other, new Prng(processSeed), seeds.nextUint32());
      },
    };
  };
  return make(options.host ?? "127.0.0.1", new Prng(options.seed), seeds.nextUint32());
}
