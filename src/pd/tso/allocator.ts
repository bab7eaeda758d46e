/**
 * `TsoAllocator`: the pure timestamp oracle of one PD leader.
 *
 * A timestamp is `physicalMs << 18 | logical`. The allocator hands out timestamps from
 * memory, below a *window*: a physical time it has persisted as the highest it may use.
 * It is a state machine without I/O or clocks; its shell (`TsoService`) feeds it wall time,
 * monotonic time and the outcome of window writes, and persists what it asks for.
 *
 * Safety conditions (each has a test in `allocator.test.ts`):
 * 1. Strictly increasing: every timestamp is above every one handed out before, by this
 *    leader or any earlier one. A new leader starts at `max(now, saved + 1 ms)` where
 *    `saved` is the persisted window, and an earlier leader never used a physical time
 *    above its window.
 * 2. Never past the window: no timestamp has a physical part above the window the shell
 *    confirmed as persisted (`windowPersisted`); until the first confirmation nothing is
 *    served. Logical overflow moves to the next millisecond only while that stays within
 *    the window; otherwise the caller gets `windowExhausted` and retries after the next
 *    window write.
 * 3. The window is never lowered: a new window is always above the confirmed one
 *    (asserted), and the shell writes it with a transaction conditioned on leadership.
 * 4. A clock going backwards never makes timestamps go backwards: physical time only
 *    moves forward.
 * 5. No timestamp after the lease may have expired: `allocate` takes monotonic time and
 *    refuses at or after the lease deadline the shell set with `extendLease`, a deadline
 *    measured from before the keepalive that earned it was sent.
 */
import { type Timestamp, assert, composeTimestamp, limits, logicalMax } from "../../base/mod.ts";

/** The outcome of one allocation. */
export type TsoAllocation =
  | { readonly kind: "ok"; readonly firstTs: Timestamp; readonly count: number }
  /** Not serving: never started, stopped, or the first window is not persisted yet. */
  | { readonly kind: "notServing" }
  /** The leader lease may have expired: this member must not serve. */
  | { readonly kind: "leaseExpired" }
  /** This millisecond's logical counter and the window are used up; retry after a write. */
  | { readonly kind: "windowExhausted" };

/** What the allocator wants the shell to do after a tick. */
export interface TsoTickResult {
  /** Persist this window (ms), conditioned on leadership, then call `windowPersisted`. */
  readonly persistWindowMs: number | undefined;
}

export interface TsoAllocatorOptions {
  /** How far ahead of physical time a window reaches (`limits.pdTsoWindowMs`). */
  readonly windowMs?: number;
}

/** Allocator state: see the file comment. Owned by one `TsoService`. */
export class TsoAllocator {
  readonly windowMs: number;
  private state: "stopped" | "syncing" | "serving" = "stopped";
  private physicalMs = 0;
  /** The next logical value to hand out within `physicalMs`. */
  private logical = 0;
  /** The highest window confirmed persisted; 0 before the first. */
  private savedWindowMs = 0;
  /** A window write in flight, if any. */
  private pendingWindowMs: number | undefined;
  /** Monotonic time from which on this member may no longer be leader. */
  private leaseDeadlineMs = Number.NEGATIVE_INFINITY;

  constructor(options: TsoAllocatorOptions = {}) {
    this.windowMs = options.windowMs ?? limits.pdTsoWindowMs;
    assert(this.windowMs >= 3, `TSO window too small: ${this.windowMs} ms`);
  }

  /** True once a window is persisted and until `stop`. */
  get serving(): boolean {
    return this.state === "serving";
  }

  /** The persisted window (ms), 0 before one is confirmed. */
  get windowMsSaved(): number {
    return this.savedWindowMs;
  }

  /** The physical part of the last timestamp handed out (or about to be). */
  get currentPhysicalMs(): number {
    return this.physicalMs;
  }

  /**
   * Starts serving as a new leader. `savedWindowMs` is the window read from the metadata
   * store (0 if none), `wallMs` the wall clock now. Returns the first window to persist;
   * nothing is served until `windowPersisted` confirms it.
   */
  begin(options: { readonly savedWindowMs: number; readonly wallMs: number }): number {
    assert(Number.isSafeInteger(options.savedWindowMs), "saved TSO window must be an integer");
    this.state = "syncing";
    this.physicalMs = Math.max(Math.floor(options.wallMs), options.savedWindowMs + 1);
    this.logical = 0;
    this.savedWindowMs = options.savedWindowMs;
    const windowMs = this.physicalMs + this.windowMs;
    this.pendingWindowMs = windowMs;
    return windowMs;
  }

  /** The shell persisted `windowMs` (conditioned on leadership). */
  windowPersisted(windowMs: number): void {
    if (this.state === "stopped") return;
    assert(
      windowMs > this.savedWindowMs,
      `TSO window lowered: ${windowMs} <= ${this.savedWindowMs}`,
    );
    this.savedWindowMs = windowMs;
    if (this.pendingWindowMs === windowMs) this.pendingWindowMs = undefined;
    if (this.state === "syncing" && this.physicalMs <= windowMs) this.state = "serving";
  }

  /** The window write failed or was refused: a later tick asks again. */
  windowPersistFailed(windowMs: number): void {
    if (this.pendingWindowMs === windowMs) this.pendingWindowMs = undefined;
  }

  /** The lease holds until `deadlineMs` on the monotonic clock (never shortened here). */
  extendLease(deadlineMs: number): void {
    this.leaseDeadlineMs = Math.max(this.leaseDeadlineMs, deadlineMs);
  }

  /** Stops serving: leadership lost or the process stops. */
  stop(): void {
    this.state = "stopped";
    this.pendingWindowMs = undefined;
    this.leaseDeadlineMs = Number.NEGATIVE_INFINITY;
  }

  /**
   * Moves physical time towards the wall clock (never backwards, never past the window)
   * and says when to persist a new window: once the window is less than a third ahead.
   * Call every `limits.pdTsoUpdateIntervalMs`.
   */
  tick(wallMs: number): TsoTickResult {
    if (this.state === "stopped") return { persistWindowMs: undefined };
    let next = this.physicalMs;
    if (wallMs > this.physicalMs) next = Math.floor(wallMs);
    else if (this.logical > logicalMax / 2) next = this.physicalMs + 1;
    if (this.state === "serving" && next > this.physicalMs) {
      const moved = Math.min(next, this.savedWindowMs);
      if (moved > this.physicalMs) {
        this.physicalMs = moved;
        this.logical = 0;
      }
    }
    if (this.pendingWindowMs === undefined && this.savedWindowMs - next <= this.windowMs / 3) {
      const windowMs = Math.max(next, this.physicalMs) + this.windowMs;
      assert(windowMs > this.savedWindowMs, "TSO window would not grow");
      this.pendingWindowMs = windowMs;
      return { persistWindowMs: windowMs };
    }
    return { persistWindowMs: undefined };
  }

  /** Hands out `count` consecutive timestamps at monotonic time `monotonicMs`. */
  allocate(count: number, monotonicMs: number): TsoAllocation {
    assert(
      Number.isSafeInteger(count) && count >= 1 && count <= logicalMax + 1,
      `bad TSO count ${count}`,
    );
    if (this.state !== "serving") return { kind: "notServing" };
    if (!(monotonicMs < this.leaseDeadlineMs)) return { kind: "leaseExpired" };
    if (this.logical + count > logicalMax + 1) {
      if (this.physicalMs + 1 > this.savedWindowMs) return { kind: "windowExhausted" };
      this.physicalMs += 1;
      this.logical = 0;
    }
    const firstTs = composeTimestamp(this.physicalMs, this.logical);
    this.logical += count;
    return { kind: "ok", firstTs, count };
  }
}
