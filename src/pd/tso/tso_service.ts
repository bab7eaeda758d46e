/**
 * `TsoService`: the shell around `TsoAllocator` on the PD leader.
 *
 * On `begin` it reads the saved window from the metadata store, starts the allocator at
 * `max(now, saved + 1 ms)` and persists the first window; then every
 * `limits.pdTsoUpdateIntervalMs` it ticks the allocator with the wall clock and persists
 * the windows it asks for. Every window write is one transaction conditioned on the
 * leader's guard (the leader key still has this term's create revision) and on the TSO key
 * not having changed since this leader last read or wrote it, so a deposed leader can never
 * write, and the stored window is never lowered. A refused write ends the term
 * (`onLeadershipLost`).
 *
 * `getTimestamps` allocates synchronously from memory; only when the window is used up
 * does it wait for the next window write (bounded), and it refuses at once when the lease
 * may have expired.
 */
import { ErrorCode, TesseraError, assert, describeError, limits } from "../../base/mod.ts";
import type { Env, Timer } from "../../env/mod.ts";
import type { TsoReply } from "../../proto/mod.ts";
import type { MetaCompare, MetaStore } from "../meta/meta_store.ts";
import type { PdLogger } from "../server/logger.ts";
import { TsoAllocator } from "./allocator.ts";

export interface TsoServiceOptions {
  /** Metadata key of the saved window. */
  readonly key: string;
  readonly logger: PdLogger;
  readonly windowMs?: number;
  /** Called when a window write is refused: this member no longer leads. */
  readonly onLeadershipLost: (reason: string) => void;
}

/** Waits for a window write a batch may sit through before it fails `PD:TSO:Unavailable`. */
const windowWaitsMax = 3;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Reads a saved window value (decimal milliseconds). */
export function decodeWindow(value: Uint8Array): number {
  const ms = Number(decoder.decode(value));
  if (!Number.isSafeInteger(ms) || ms < 0) {
    throw new TesseraError(ErrorCode.PdMetaCorrupt, "saved TSO window is not a number");
  }
  return ms;
}

/** The TSO of one PD member; serves only between `begin` and `stop`. */
export class TsoService {
  private readonly env: Pick<Env, "clock" | "timers">;
  private readonly store: MetaStore;
  private readonly options: TsoServiceOptions;
  private allocator: TsoAllocator;
  private guard: MetaCompare[] = [];
  private tsoModRevision = 0;
  private ticker: Timer | undefined;
  /** The window write in flight, if any (at most one at a time). */
  private writing: Promise<void> | undefined;
  /** Callers waiting for the next window write. */
  private windowWaiters: (() => void)[] = [];
  /** Counters for metrics: requests and timestamps served. */
  readonly stats = { requests: 0, timestamps: 0, windowWrites: 0, refusals: 0 };

  constructor(env: Pick<Env, "clock" | "timers">, store: MetaStore, options: TsoServiceOptions) {
    this.env = env;
    this.store = store;
    this.options = options;
    this.allocator = new TsoAllocator(
      options.windowMs === undefined ? {} : { windowMs: options.windowMs },
    );
  }

  /** True while serving. */
  get serving(): boolean {
    return this.allocator.serving;
  }

  /** The persisted window (ms). */
  get savedWindowMs(): number {
    return this.allocator.windowMsSaved;
  }

  /**
   * Starts serving for a new term: `guard` holds only while the term lasts; `leaseDeadlineMs`
   * is the monotonic time until which the lease certainly holds.
   */
  async begin(guard: MetaCompare[], leaseDeadlineMs: number): Promise<void> {
    this.stop();
    // A write of the previous term may still be in flight; let it settle first.
    await this.writing?.catch(() => undefined);
    this.allocator = new TsoAllocator(
      this.options.windowMs === undefined ? {} : { windowMs: this.options.windowMs },
    );
    this.guard = guard;
    const saved = await this.store.get(this.options.key);
    this.tsoModRevision = saved?.modRevision ?? 0;
    const savedWindowMs = saved === undefined ? 0 : decodeWindow(saved.value);
    this.allocator.extendLease(leaseDeadlineMs);
    const windowMs = this.allocator.begin({ savedWindowMs, wallMs: this.env.clock.wallMs() });
    this.options.logger.info({ savedWindowMs, windowMs }, "TSO starting above the saved window");
    await this.persist(windowMs);
    if (!this.allocator.serving) {
      throw new TesseraError(ErrorCode.PdTsoUnavailable, "TSO did not start: window not saved");
    }
    this.ticker = this.env.timers.setInterval(limits.pdTsoUpdateIntervalMs, () => this.tick());
  }

  /** The lease certainly holds until `deadlineMs` (monotonic). */
  extendLease(deadlineMs: number): void {
    this.allocator.extendLease(deadlineMs);
  }

  /** Stops serving at once. */
  stop(): void {
    this.allocator.stop();
    this.ticker?.cancel();
    this.ticker = undefined;
    this.wakeWaiters();
  }

  /**
   * `count` timestamps. Rejects with `PD:Member:NotLeader` when not serving (or the lease
   * may have expired) and `PD:TSO:Unavailable` when no window could be written in time.
   */
  async getTimestamps(count: number): Promise<TsoReply> {
    for (let waits = 0; ; waits++) {
      const result = this.allocator.allocate(count, this.env.clock.monotonicMs());
      switch (result.kind) {
        case "ok":
          this.stats.requests++;
          this.stats.timestamps += count;
          return { firstTs: result.firstTs, count };
        case "notServing":
        case "leaseExpired":
          this.stats.refusals++;
          throw new TesseraError(ErrorCode.PdNotLeader, `TSO not serving: ${result.kind}`, {
            details: { leaderAddress: null, reason: result.kind },
          });
        case "windowExhausted":
          if (waits >= windowWaitsMax) {
            this.stats.refusals++;
            throw new TesseraError(ErrorCode.PdTsoUnavailable, "TSO window exhausted");
          }
          this.tick();
          await new Promise<void>((resolve) => this.windowWaiters.push(resolve));
      }
    }
  }

  private wakeWaiters(): void {
    const waiters = this.windowWaiters;
    this.windowWaiters = [];
    for (const wake of waiters) wake();
  }

  private tick(): void {
    const { persistWindowMs } = this.allocator.tick(this.env.clock.wallMs());
    if (persistWindowMs === undefined) return;
    this.persist(persistWindowMs).catch((error: unknown) => {
      this.options.logger.error({ err: describeError(error) }, "TSO window write failed");
    });
  }

  /** Writes `windowMs` conditioned on the term and the last seen TSO key revision. */
  private persist(windowMs: number): Promise<void> {
    assert(this.writing === undefined, "two TSO window writes at once");
    const write = this.write(windowMs);
    this.writing = write;
    return write;
  }

  private async write(windowMs: number): Promise<void> {
    // The allocator of this term: a later term has its own and must not see this write.
    const allocator = this.allocator;
    try {
      const result = await this.store.txn({
        compare: [
          ...this.guard,
          { key: this.options.key, target: "modRevision", op: "=", operand: this.tsoModRevision },
        ],
        success: [{ kind: "put", key: this.options.key, value: encoder.encode(String(windowMs)) }],
      });
      if (!result.succeeded) {
        allocator.windowPersistFailed(windowMs);
        if (allocator === this.allocator) {
          this.stop();
          this.options.onLeadershipLost("TSO window write refused: no longer the leader");
        }
        return;
      }
      this.tsoModRevision = result.revision;
      this.stats.windowWrites++;
      allocator.windowPersisted(windowMs);
    } catch (error) {
      // Ambiguous: the write may have landed. The next attempt compares the old revision
      // and is refused if it did, which ends the term: safe, never a lowered window.
      allocator.windowPersistFailed(windowMs);
      throw error;
    } finally {
      this.writing = undefined;
      this.wakeWaiters();
    }
  }
}
