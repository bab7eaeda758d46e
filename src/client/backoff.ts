/**
 * `Backoff`: the bounded, exponential, jittered wait between attempts that every client
 * retry loop uses. Pure: the delay is computed from the attempt count and a random source
 * (`Env.random`), and the caller sleeps on its `Env.timers`; so the bound and the growth are
 * unit-tested without time passing.
 *
 * Delays double from `baseMs` up to `capMs`; each is drawn uniformly from the upper half of
 * the current step ("equal jitter"), so concurrent clients spread out but none retries
 * faster than half the step. `next()` returns `null` once `attemptsMax` delays were handed
 * out, or `totalMsMax` milliseconds of them: the caller must then give up with a typed
 * error.
 */
import type { Random } from "../env/mod.ts";

/** Options of a `Backoff`. */
export interface BackoffOptions {
  /** First step, milliseconds (above 0). */
  readonly baseMs: number;
  /** Largest step, milliseconds. */
  readonly capMs: number;
  /** Delays handed out at most. */
  readonly attemptsMax: number;
  /**
   * Milliseconds of delay handed out at most (absent: no bound but `attemptsMax`): a
   * budget in time, as TiKV's client gives each request, so waiting out an election
   * does not depend on how many quick failures came first.
   */
  readonly totalMsMax?: number;
}

/** One retry loop's backoff state; see the file comment. */
export class Backoff {
  private readonly options: BackoffOptions;
  private readonly random: Pick<Random, "float">;
  private attempts = 0;
  private totalMs = 0;

  constructor(random: Pick<Random, "float">, options: BackoffOptions) {
    this.random = random;
    this.options = options;
  }

  /** Delays handed out so far. */
  get attemptsUsed(): number {
    return this.attempts;
  }

  /** Milliseconds of delay handed out so far. */
  get totalDelayMs(): number {
    return this.totalMs;
  }

  /** The next delay in milliseconds, or null when the bound is reached. */
  next(): number | null {
    if (this.attempts >= this.options.attemptsMax) return null;
    if (this.options.totalMsMax !== undefined && this.totalMs >= this.options.totalMsMax) {
      return null;
    }
    const step = Math.min(
      this.options.capMs,
      this.options.baseMs * 2 ** Math.min(this.attempts, 30),
    );
    this.attempts++;
    const delay = step / 2 + this.random.float() * (step / 2);
    this.totalMs += delay;
    return delay;
  }
}
