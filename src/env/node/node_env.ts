/**
 * `createNodeEnv`: the `Env` of a real Tessera process.
 *
 * It wires together the real implementations in this folder: `performance.now()` and
 * `Date.now()` clocks, event-loop timers, the operating system's CSPRNG, TCP, the local
 * file system and Node's hash functions. Each call returns a new, independent set; none
 * holds resources until used. `clockOffsetMs` skews the wall clock (see `clock.ts`).
 */
import type { Env } from "../env.ts";
import { NodeClock } from "./clock.ts";
import { NodeCrypto } from "./crypto.ts";
import { NodeFileSystem } from "./file_system.ts";
import { NodeNetwork } from "./network.ts";
import { NodeRandom } from "./random.ts";
import { NodeTimers } from "./timers.ts";

/** Options of `createNodeEnv`. */
export interface NodeEnvOptions {
  /** Added to every wall-clock reading (ms, may be negative); 0 by default. */
  readonly clockOffsetMs?: number;
}

/** The real machine's clocks, timers, randomness, network, disk and hashing. */
export function createNodeEnv(options: NodeEnvOptions = {}): Env {
  return {
    clock: new NodeClock({ wallOffsetMs: options.clockOffsetMs ?? 0 }),
    timers: new NodeTimers(),
    random: new NodeRandom(),
    net: new NodeNetwork(),
    fs: new NodeFileSystem(),
    crypto: new NodeCrypto(),
    // Fault points fire only in simulation.
    buggify: () => false,
  };
}
