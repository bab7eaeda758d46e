/**
 * `SimRandom`: the `Random` interface over a seeded `Prng`, so a simulation run and every
 * random choice in it are replayed exactly from one seed. Not cryptographic.
 */
import type { Prng } from "../../base/mod.ts";
import type { Random } from "../env.ts";

/** Deterministic randomness drawn from a `Prng`. */
export class SimRandom implements Random {
  private readonly prng: Prng;

  /** Draws from `prng`, which this `SimRandom` then advances. */
  constructor(prng: Prng) {
    this.prng = prng;
  }

  uint32(): number {
    return this.prng.nextUint32();
  }

  float(): number {
    return this.prng.nextFloat();
  }

  int(bound: number): number {
    return this.prng.nextInt(bound);
  }

  bytes(length: number): Uint8Array {
    return this.prng.nextBytes(length);
  }
}
