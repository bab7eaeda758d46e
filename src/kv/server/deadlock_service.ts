/**
 * Where a store's lock waits are checked for deadlocks.
 *
 * The scheduler talks to a `DeadlockService`, never to a `DeadlockDetector` directly, so the
 * detector can live elsewhere: `LocalDeadlockService` runs one in this process (one per
 * store, enough for single-store deadlocks and for tests), and `ForwardingDeadlockService`
 * sends every call to the store that runs the cluster's detector — as TiKV, the leader
 * of the first shard (the one starting at the empty key) — so deadlocks that span stores are
 * found too. `detect` is async for that reason; the clean-up calls are fire-and-forget
 * (a lost one only leaves an edge until it expires, `limits.deadlockEdgeTtlMs`).
 */
import { ErrorCode, TesseraError, type Timestamp, describeError } from "../../base/mod.ts";
import type { Clock } from "../../env/mod.ts";
import type { DetectEntry, DetectReply } from "../../proto/mod.ts";
import {
  type DetectResult,
  DeadlockDetector,
  type WaitForEdge,
} from "../txn/deadlock_detector.ts";

/** The deadlock detector as the scheduler sees it. */
export interface DeadlockService {
  /** Records `edge` unless it closes a cycle (then `deadlock`, with the wait chain). */
  detect(edge: WaitForEdge): Promise<DetectResult>;
  /** The waiter stopped waiting for that key. */
  cleanUpWaitFor(edge: WaitForEdge): void;
  /** The transaction finished or gave up: every edge out of it goes. */
  cleanUp(txnTs: Timestamp): void;
}

/** A detector in this process. */
export class LocalDeadlockService implements DeadlockService {
  readonly detector: DeadlockDetector;
  private readonly clock: Pick<Clock, "monotonicMs">;

  constructor(
    clock: Pick<Clock, "monotonicMs">,
    detector: DeadlockDetector = new DeadlockDetector(),
  ) {
    this.clock = clock;
    this.detector = detector;
  }

  detect(edge: WaitForEdge): Promise<DetectResult> {
    return Promise.resolve(this.detector.detect(edge, this.clock.monotonicMs()));
  }

  cleanUpWaitFor(edge: WaitForEdge): void {
    this.detector.cleanUpWaitFor(edge);
  }

  cleanUp(txnTs: Timestamp): void {
    this.detector.cleanUp(txnTs);
  }

  /** Serves one entry sent by another store (the `kv.Detect` RPC). */
  serve(entry: DetectEntry): DetectReply {
    switch (entry.kind) {
      case "detect": {
        const result = this.detector.detect(entry, this.clock.monotonicMs());
        return { result };
      }
      case "cleanUpWaitFor":
        this.detector.cleanUpWaitFor(entry);
        return { result: { kind: "ok" } };
      case "cleanUp":
        this.detector.cleanUp(entry.txnTs);
        return { result: { kind: "ok" } };
      default:
        return entry satisfies never;
    }
  }
}

/** Sends a detector entry to the store running the cluster's detector. */
export type DetectorCall = (entry: DetectEntry) => Promise<DetectReply>;

/**
 * Uses the local detector while this store leads the first shard, and forwards to the
 * detector's store otherwise. `isDetector` says which holds now; `forward` reaches the
 * other store (found through PD by the caller). A forward that fails or lands on a store
 * that is no longer the detector is answered with `detectorUnavailable`: the waiter gives
 * up rather than wait unchecked.
 */
export class ForwardingDeadlockService implements DeadlockService {
  private readonly local: LocalDeadlockService;
  private readonly isDetector: () => boolean;
  private readonly forward: DetectorCall;
  private readonly onError: (error: string) => void;

  constructor(options: {
    readonly local: LocalDeadlockService;
    readonly isDetector: () => boolean;
    readonly forward: DetectorCall;
    readonly onError: (error: string) => void;
  }) {
    this.local = options.local;
    this.isDetector = options.isDetector;
    this.forward = options.forward;
    this.onError = options.onError;
  }

  async detect(edge: WaitForEdge): Promise<DetectResult> {
    if (this.isDetector()) return this.local.detect(edge);
    const reply = await this.forward({ kind: "detect", ...edge });
    const { result } = reply;
    if (result.kind === "notDetector") {
      throw new TesseraError(ErrorCode.KvTxnDeadlockDetectorFull, "deadlock detector moved");
    }
    return result;
  }

  cleanUpWaitFor(edge: WaitForEdge): void {
    if (this.isDetector()) {
      this.local.cleanUpWaitFor(edge);
      return;
    }
    this.send({ kind: "cleanUpWaitFor", ...edge });
  }

  cleanUp(txnTs: Timestamp): void {
    if (this.isDetector()) {
      this.local.cleanUp(txnTs);
      return;
    }
    this.send({ kind: "cleanUp", txnTs });
  }

  private send(entry: DetectEntry): void {
    this.forward(entry).then(
      () => undefined,
      (error: unknown) => this.onError(describeError(error)),
    );
  }
}
