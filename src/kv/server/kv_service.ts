/**
 * The KV RPC service of a store: one unary handler per method of `proto/kv.ts` on an
 * `RpcServer`, each parsing its untrusted body, checking the cluster id, and handing the
 * typed request to the `TxnScheduler` (or to `ShardOperations` for split, the local
 * deadlock detector for `kv.Detect`).
 *
 * Replies are the scheduler's, route and key errors included. A malformed body is
 * `KV:Request:Malformed`, another cluster's request `KV:Cluster:IdMismatch`, a split the
 * store cannot do `KV:Request:Unsupported`: these are RPC errors, not replies. Counters per
 * method and result (ok, routeError, keyError, error) feed `/metrics`.
 */
import { ErrorCode, TesseraError } from "../../base/mod.ts";
import {
  type DetectReply,
  type KvReply,
  KvMethod,
  type KvRequestBase,
  type SplitReply,
  parseBatchGetRequest,
  parseCheckSecondaryLocksRequest,
  parseCheckTxnStatusRequest,
  parseCleanupRequest,
  parseCommitRequest,
  parseCoprocessorRequest,
  parseDetectRequest,
  parseGcRequest,
  parseGetRequest,
  parsePessimisticLockRequest,
  parsePessimisticRollbackRequest,
  parsePrewriteRequest,
  parseResolveLockRequest,
  parseRollbackRequest,
  parseScanRequest,
  parseSplitRequest,
  parseTxnHeartbeatRequest,
} from "../../proto/mod.ts";
import type { RpcServer } from "../../rpc/mod.ts";
import type { LocalDeadlockService } from "./deadlock_service.ts";
import type { ShardOperations } from "./shard_operations.ts";
import type { TxnScheduler } from "./txn_scheduler.ts";

/** How one request ended, for metrics. */
export type KvResult = "ok" | "routeError" | "keyError" | "error";

/** Requests served per method and result. */
export type KvRequestCounts = Readonly<Record<string, Readonly<Record<KvResult, number>>>>;

/** Options of `KvService`. */
export interface KvServiceOptions {
  /** The cluster this store belongs to; requests naming another are refused. */
  readonly clusterId: () => bigint;
  readonly scheduler: TxnScheduler;
  readonly operations: ShardOperations;
  /** Set on the store that serves the cluster's deadlock detector (`kv.Detect`). */
  readonly detector?: {
    readonly local: LocalDeadlockService;
    readonly isDetector: () => boolean;
  };
}

/** The KV service; `register` adds its handlers to an `RpcServer`. */
export class KvService {
  private readonly options: KvServiceOptions;
  private readonly counts = new Map<string, Record<KvResult, number>>();

  constructor(options: KvServiceOptions) {
    this.options = options;
  }

  /** Requests served so far, by method and result. */
  requestCounts(): KvRequestCounts {
    return Object.fromEntries([...this.counts].map(([m, c]) => [m, { ...c }]));
  }

  /** Adds every KV method to `server`. */
  register(server: RpcServer): void {
    const s = this.options.scheduler;
    this.unary(server, KvMethod.get, parseGetRequest, (r) => s.get(r));
    this.unary(server, KvMethod.batchGet, parseBatchGetRequest, (r) => s.batchGet(r));
    this.unary(server, KvMethod.scan, parseScanRequest, (r) => s.scan(r));
    this.unary(server, KvMethod.prewrite, parsePrewriteRequest, (r) => s.prewrite(r));
    this.unary(server, KvMethod.commit, parseCommitRequest, (r) => s.commit(r));
    this.unary(server, KvMethod.pessimisticLock, parsePessimisticLockRequest, (r) =>
      s.pessimisticLock(r),
    );
    this.unary(server, KvMethod.pessimisticRollback, parsePessimisticRollbackRequest, (r) =>
      s.pessimisticRollback(r),
    );
    this.unary(server, KvMethod.rollback, parseRollbackRequest, (r) => s.rollback(r));
    this.unary(server, KvMethod.cleanup, parseCleanupRequest, (r) => s.cleanup(r));
    this.unary(server, KvMethod.checkTxnStatus, parseCheckTxnStatusRequest, (r) =>
      s.checkTxnStatus(r),
    );
    this.unary(server, KvMethod.resolveLock, parseResolveLockRequest, (r) => s.resolveLock(r));
    this.unary(server, KvMethod.txnHeartbeat, parseTxnHeartbeatRequest, (r) =>
      s.txnHeartbeat(r),
    );
    this.unary(server, KvMethod.checkSecondaryLocks, parseCheckSecondaryLocksRequest, (r) =>
      s.checkSecondaryLocks(r),
    );
    this.unary(server, KvMethod.gc, parseGcRequest, (r) => s.gc(r));
    this.unary(server, KvMethod.split, parseSplitRequest, (r) => this.split(r));
    this.unary(server, KvMethod.coprocessor, parseCoprocessorRequest, (r) => s.coprocessor(r));
    server.handleUnary(KvMethod.detect, (body) => {
      try {
        const request = parseDetectRequest(body);
        this.checkCluster(request.header.clusterId);
        const reply = this.detect(request.entry);
        this.count(KvMethod.detect, "ok");
        return Promise.resolve(reply);
      } catch (error) {
        this.count(KvMethod.detect, "error");
        return Promise.reject(error as Error);
      }
    });
  }

  private detect(entry: Parameters<LocalDeadlockService["serve"]>[0]): DetectReply {
    const detector = this.options.detector;
    if (detector === undefined || !detector.isDetector()) {
      return { result: { kind: "notDetector" } };
    }
    return detector.local.serve(entry);
  }

  private async split(request: ReturnType<typeof parseSplitRequest>): Promise<SplitReply> {
    const result = await this.options.operations.split(request.context, request.splitKeys);
    switch (result.kind) {
      case "ok":
        return { shards: result.value };
      case "unsupported":
        throw new TesseraError(ErrorCode.KvRequestUnsupported, `split: ${result.reason}`);
      default:
        return { shards: [], routeError: result };
    }
  }

  private checkCluster(clusterId: bigint): void {
    const mine = this.options.clusterId();
    if (clusterId !== mine) {
      throw new TesseraError(
        ErrorCode.KvClusterIdMismatch,
        `request for cluster ${clusterId} reached a store of cluster ${mine}`,
        { details: { expected: String(mine), got: String(clusterId) } },
      );
    }
  }

  private unary<R extends KvRequestBase>(
    server: RpcServer,
    method: string,
    parse: (body: unknown) => R,
    serve: (request: R) => Promise<KvReply>,
  ): void {
    server.handleUnary(method, async (body) => {
      let reply: KvReply;
      try {
        const request = parse(body);
        this.checkCluster(request.header.clusterId);
        reply = await serve(request);
      } catch (error) {
        this.count(method, "error");
        throw error;
      }
      if (reply.routeError !== undefined) this.count(method, "routeError");
      else if (reply.keyError !== undefined) this.count(method, "keyError");
      else this.count(method, "ok");
      return reply;
    });
  }

  private count(method: string, result: KvResult): void {
    let counts = this.counts.get(method);
    if (counts === undefined) {
      counts = { ok: 0, routeError: 0, keyError: 0, error: 0 };
      this.counts.set(method, counts);
    }
    counts[result]++;
  }
}
