/**
 * The deadlock detector: a wait-for graph over transactions, checked for a cycle whenever a
 * transaction is about to wait.
 *
 * It names transactions by start ts and keys by `keyHash` only, and keeps no store-local
 * state, so one instance can serve a whole cluster (every store sends its `detect` and
 * clean-up calls to the leader's instance), and deadlocks that span stores are found too.
 * An edge waiter → holder exists per key hash the waiter waits for; edges expire after
 * `edgeTtlMs` unless renewed, so a lost clean-up cannot leave a false edge for ever. A pure
 * state machine: time comes in as `nowMs`.
 */
import { type Timestamp, limits } from "../../base/mod.ts";

/** One edge of the wait-for graph. */
export interface WaitForEdge {
  readonly waiterTs: Timestamp;
  readonly holderTs: Timestamp;
  readonly keyHash: number;
}

/** The result of asking to wait. */
export type DetectResult =
  | { readonly kind: "ok" }
  /**
   * Waiting would close a cycle: `waitChain` starts with the requested edge and follows
   * the graph back to the waiter. The waiter must give up (`KV:Txn:Deadlock`).
   */
  | { readonly kind: "deadlock"; readonly waitChain: readonly WaitForEdge[] }
  /** The graph is at capacity; the waiter must give up rather than wait undetected. */
  | { readonly kind: "full" };

/** The wait-for graph. */
export class DeadlockDetector {
  /** waiter → holder → key hash → time the edge was added or renewed. */
  private readonly edges = new Map<Timestamp, Map<Timestamp, Map<number, number>>>();
  private edgeCount = 0;
  private readonly edgesMax: number;
  private readonly edgeTtlMs: number;

  constructor(options: { edgesMax?: number; edgeTtlMs?: number } = {}) {
    this.edgesMax = options.edgesMax ?? limits.deadlockDetectorEdgesMax;
    this.edgeTtlMs = options.edgeTtlMs ?? limits.deadlockEdgeTtlMs;
  }

  /** Adds edge `waiterTs → holderTs` unless it closes a cycle. */
  detect(edge: WaitForEdge, nowMs: number): DetectResult {
    const chain = this.findPath(edge.holderTs, edge.waiterTs, nowMs);
    if (chain !== undefined) return { kind: "deadlock", waitChain: [edge, ...chain] };
    const holders = this.edges.get(edge.waiterTs) ?? new Map<Timestamp, Map<number, number>>();
    const keys = holders.get(edge.holderTs) ?? new Map<number, number>();
    if (!keys.has(edge.keyHash)) {
      // Reclaim expired edges before refusing.
      if (this.edgeCount >= this.edgesMax) this.expire(nowMs);
      if (this.edgeCount >= this.edgesMax) return { kind: "full" };
      this.edgeCount++;
    }
    keys.set(edge.keyHash, nowMs);
    holders.set(edge.holderTs, keys);
    this.edges.set(edge.waiterTs, holders);
    return { kind: "ok" };
  }

  /** Removes one edge (the waiter stopped waiting for that key). */
  cleanUpWaitFor(edge: WaitForEdge): void {
    const holders = this.edges.get(edge.waiterTs);
    const keys = holders?.get(edge.holderTs);
    if (holders === undefined || keys === undefined || !keys.delete(edge.keyHash)) return;
    this.edgeCount--;
    if (keys.size === 0) holders.delete(edge.holderTs);
    if (holders.size === 0) this.edges.delete(edge.waiterTs);
  }

  /** Removes every edge out of `txnTs` (it finished or gave up waiting). */
  cleanUp(txnTs: Timestamp): void {
    const holders = this.edges.get(txnTs);
    if (holders === undefined) return;
    for (const keys of holders.values()) this.edgeCount -= keys.size;
    this.edges.delete(txnTs);
  }

  /** Drops edges older than the TTL at `nowMs`. */
  expire(nowMs: number): void {
    for (const [waiter, holders] of this.edges) {
      for (const [holder, keys] of holders) {
        for (const [hash, atMs] of keys) {
          if (this.isExpired(atMs, nowMs)) {
            this.cleanUpWaitFor({ waiterTs: waiter, holderTs: holder, keyHash: hash });
          }
        }
      }
    }
  }

  /** Edges in the graph. */
  get size(): number {
    return this.edgeCount;
  }

  private isExpired(atMs: number, nowMs: number): boolean {
    return atMs + this.edgeTtlMs <= nowMs;
  }

  /** A path of live edges from `from` to `to` (depth-first, deterministic order). */
  private findPath(from: Timestamp, to: Timestamp, nowMs: number): WaitForEdge[] | undefined {
    const visited = new Set<Timestamp>([from]);
    const path: WaitForEdge[] = [];
    const visit = (node: Timestamp): boolean => {
      const holders = this.edges.get(node);
      if (holders === undefined) return false;
      for (const [holder, keys] of holders) {
        let liveHash: number | undefined;
        for (const [hash, atMs] of keys) {
          if (!this.isExpired(atMs, nowMs)) {
            liveHash = hash;
            break;
          }
        }
        if (liveHash === undefined) continue;
        path.push({ waiterTs: node, holderTs: holder, keyHash: liveHash });
        if (holder === to) return true;
        if (!visited.has(holder)) {
          visited.add(holder);
          if (visit(holder)) return true;
        }
        path.pop();
      }
      return false;
    };
    return visit(from) ? path : undefined;
  }
}
