/**
 * A seeded pseudo-random number generator (xoshiro128**, seeded by splitmix32).
 *
 * Deterministic simulation and randomized tests draw every random choice from a `Prng`
 * so a failing run is replayed from its seed. It is fast and statistically good, not
 * cryptographic: keys and nonces come from `Env.random` in production.
 */

/** A deterministic random source. Same seed, same sequence, on every platform. */
export class Prng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  /** Seeds the generator; any 32-bit integer (or safe integer) is a valid seed. */
  constructor(seed: number) {
    let x = (seed >>> 0) ^ Math.floor(seed / 0x1_0000_0000);
    const next = (): number => {
      // splitmix32: spreads a small seed over the whole state.
      x = (x + 0x9e3779b9) | 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
  }

  /** A uniform integer in [0, 2^32). */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** A uniform float in [0, 1) with 53 random bits. */
  nextFloat(): number {
    const high = this.nextUint32() >>> 5; // 27 bits
    const low = this.nextUint32() >>> 6; // 26 bits
    return (high * 67108864 + low) / 9007199254740992;
  }

  /** A uniform integer in [0, bound). `bound` must be a positive safe integer. */
  nextInt(bound: number): number {
    if (!(Number.isSafeInteger(bound) && bound > 0)) {
      throw new RangeError(`Prng.nextInt: bound must be a positive safe integer, got ${bound}`);
    }
    if (bound <= 0x1_0000_0000) {
      // Rejection sampling removes modulo bias.
      const limit = 0x1_0000_0000 - (0x1_0000_0000 % bound);
      for (;;) {
        const r = this.nextUint32();
        if (r < limit) return r % bound;
      }
    }
    return Math.floor(this.nextFloat() * bound);
  }

  /** A uniform integer in [min, max], inclusive. */
  nextRange(min: number, max: number): number {
    return min + this.nextInt(max - min + 1);
  }

  /** True with probability `p`. */
  nextBool(p = 0.5): boolean {
    return this.nextFloat() < p;
  }

  /** Fills a new byte array of `length` random bytes. */
  nextBytes(length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i += 4) {
      let r = this.nextUint32();
      for (let j = i; j < Math.min(i + 4, length); j++) {
        out[j] = r & 0xff;
        r >>>= 8;
      }
    }
    return out;
  }

  /** One element of a non-empty array, chosen uniformly. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError("Prng.pick: empty array");
    return items[this.nextInt(items.length)] as T;
  }

  /** Shuffles `items` in place (Fisher–Yates) and returns it. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.nextInt(i + 1);
      const tmp = items[i] as T;
      items[i] = items[j] as T;
      items[j] = tmp;
    }
    return items;
  }

  /** A new generator seeded from this one: independent streams for sub-components. */
  fork(): Prng {
    return new Prng(this.nextUint32());
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
