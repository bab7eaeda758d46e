/**
 * `NodeRandom`: cryptographically strong randomness from `node:crypto`.
 *
 * Small draws (`uint32`, `float`, `int`) come from a pool of random bytes refilled with
 * `randomFillSync` when used up, so a hot path does not pay a system call per number; the
 * pool is private to one `NodeRandom`. `int` is unbiased for every bound: rejection
 * sampling on 32 bits for bounds up to 2^32 and on 53 bits above.
 */
import { randomFillSync } from "node:crypto";
import type { Random } from "../env.ts";

/** Bytes drawn from the operating system per refill of the pool. */
const poolBytes = 4096;

/** Randomness from the operating system's CSPRNG. */
export class NodeRandom implements Random {
  private readonly pool = new Uint32Array(poolBytes / 4);
  private next = this.pool.length;

  uint32(): number {
    if (this.next === this.pool.length) {
      randomFillSync(this.pool);
      this.next = 0;
    }
    return this.pool[this.next++] as number;
  }

  float(): number {
    return this.uint53() / 2 ** 53;
  }

  int(bound: number): number {
    if (!(Number.isSafeInteger(bound) && bound > 0)) {
      throw new RangeError(`Random.int: bound must be a positive safe integer, got ${bound}`);
    }
    // Draws at or above `limit` would make the low results more likely; they are redrawn.
    if (bound <= 2 ** 32) {
      const limit = 2 ** 32 - (2 ** 32 % bound);
      for (;;) {
        const r = this.uint32();
        if (r < limit) return r % bound;
      }
    }
    const limit = 2 ** 53 - (2 ** 53 % bound);
    for (;;) {
      const r = this.uint53();
      if (r < limit) return r % bound;
    }
  }

  bytes(length: number): Uint8Array {
    const out = new Uint8Array(length);
    randomFillSync(out);
    return out;
  }

  /** A uniform integer in [0, 2^53). */
  private uint53(): number {
    return (this.uint32() >>> 11) * 2 ** 32 + this.uint32();
  }
}
