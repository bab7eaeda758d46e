/**
 * `TsoClient`: a process's one TSO stream to the PD leader, batching every concurrent
 * `getTimestamp` into as few requests as possible.
 *
 * Callers queue; whenever fewer than `batchesInFlightMax` requests are outstanding on the
 * stream, the queue (up to `limits.pdTsoBatchTimestampsMax` callers) goes out as one
 * request for that many timestamps, and the reply's consecutive timestamps are handed
 * out in queue order. While a request is in flight the next batch accumulates, so the
 * batch size adapts to the load with no timer.
 *
 * Leader following: the client asks the configured endpoints for the leader
 * (`getMembers`), opens the stream there, and on `PD:Member:NotLeader` follows the hint
 * in the error (or asks again). When the stream fails, the batches it held are queued
 * again — a timestamp request has no side effect worth keeping, so a retry is safe — and
 * the stream is reopened after a backoff. A caller waits at most `waitMsMax`; past it
 * (or after `close`) it fails with `PD:TSO:Unavailable` / `RPC:Client:Closed`.
 */
import { ErrorCode, TesseraError, type Timestamp, describeError, limits } from "../base/mod.ts";
import { type GetMembersReply, PdMethod, type TsoReply } from "../proto/mod.ts";
import type { Timer } from "../env/mod.ts";
import { type ClientBidiStream, RpcClient, type RpcEnv, type RpcLogger } from "../rpc/mod.ts";

export interface TsoClientOptions {
  /** PD members' RPC addresses (`host:port`); any of them leads the client to the leader. */
  readonly endpoints: readonly string[];
  readonly logger: RpcLogger;
  /** Requests outstanding on the stream at once (default 2). */
  readonly batchesInFlightMax?: number;
  /** A caller gives up after this long (default 10 s). */
  readonly waitMsMax?: number;
  /**
   * A request unanswered this long fails the stream, which is reopened (possibly to a new
   * leader): a stopped or partitioned PD must not hold callers (default 2 s).
   */
  readonly requestTimeoutMs?: number;
}

interface Waiter {
  readonly resolve: (ts: Timestamp) => void;
  readonly reject: (error: Error) => void;
  readonly deadlineMs: number;
}

/** Counters for benchmarks and metrics. */
export interface TsoClientStats {
  readonly requests: number;
  readonly timestamps: number;
  readonly reconnects: number;
}

function splitEndpoint(endpoint: string): { host: string; port: number } {
  const i = endpoint.lastIndexOf(":");
  return {
    host: endpoint.slice(0, i).replace(/^\[|\]$/g, ""),
    port: Number(endpoint.slice(i + 1)),
  };
}

/** The batching TSO client. */
export class TsoClient {
  private readonly env: RpcEnv;
  private readonly options: TsoClientOptions;
  private readonly batchesInFlightMax: number;
  private readonly waitMsMax: number;
  private readonly clients = new Map<string, RpcClient>();
  private queue: Waiter[] = [];
  /** Batches sent on the current stream, oldest first. */
  private inFlight: Waiter[][] = [];
  private stream: ClientBidiStream | undefined;
  private connecting: Promise<void> | undefined;
  private leaderHint: string | undefined;
  private clusterId = 0n;
  private backoffMs = 0;
  private closed = false;
  private readonly counters = { requests: 0, timestamps: 0, reconnects: 0 };
  private readonly requestTimeoutMs: number;
  /** Send times of the batches in `inFlight`, same order. */
  private sentAtMs: number[] = [];
  private watchdog: Timer | undefined;

  constructor(env: RpcEnv, options: TsoClientOptions) {
    this.env = env;
    this.options = options;
    this.batchesInFlightMax = options.batchesInFlightMax ?? 2;
    this.waitMsMax = options.waitMsMax ?? 10_000;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 2_000;
  }

  /** Fails a stream whose oldest request waited too long; runs while there is work. */
  private checkStuck(): void {
    const stream = this.stream;
    const oldest = this.sentAtMs[0];
    if (stream !== undefined && oldest !== undefined) {
      if (this.env.clock.monotonicMs() - oldest > this.requestTimeoutMs) {
        this.streamFailed(
          stream,
          new TesseraError(ErrorCode.PdTsoUnavailable, "TSO request timed out"),
        );
      }
    }
    if (this.inFlight.length === 0 && this.queue.length === 0) {
      this.watchdog?.cancel();
      this.watchdog = undefined;
    }
  }

  get stats(): TsoClientStats {
    return { ...this.counters };
  }

  /** One timestamp above every timestamp any caller got before this call began. */
  getTimestamp(): Promise<Timestamp> {
    if (this.closed) {
      return Promise.reject(new TesseraError(ErrorCode.RpcClientClosed, "TSO client closed"));
    }
    return new Promise((resolve, reject) => {
      this.queue.push({
        resolve,
        reject,
        deadlineMs: this.env.clock.monotonicMs() + this.waitMsMax,
      });
      this.pump();
    });
  }

  /** Fails every waiting caller and closes the connections. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.watchdog?.cancel();
    this.watchdog = undefined;
    const error = new TesseraError(ErrorCode.RpcClientClosed, "TSO client closed");
    for (const w of [...this.queue, ...this.inFlight.flat()]) w.reject(error);
    this.queue = [];
    this.inFlight = [];
    this.sentAtMs = [];
    this.stream?.cancel();
    await Promise.all([...this.clients.values()].map((c) => c.close()));
  }

  private client(endpoint: string): RpcClient {
    let client = this.clients.get(endpoint);
    if (client === undefined) {
      client = new RpcClient(this.env, { ...splitEndpoint(endpoint), logger: this.options.logger });
      this.clients.set(endpoint, client);
    }
    return client;
  }

  /** Sends what can be sent now. */
  private pump(): void {
    if (this.closed || this.queue.length === 0) return;
    this.watchdog ??= this.env.timers.setInterval(Math.max(10, this.requestTimeoutMs / 4), () =>
      this.checkStuck(),
    );
    const stream = this.stream;
    if (stream === undefined) {
      this.connecting ??= this.connect().finally(() => {
        this.connecting = undefined;
        this.pump();
      });
      return;
    }
    while (this.queue.length > 0 && this.inFlight.length < this.batchesInFlightMax) {
      const batch = this.queue.splice(0, limits.pdTsoBatchTimestampsMax);
      this.inFlight.push(batch);
      this.sentAtMs.push(this.env.clock.monotonicMs());
      this.counters.requests++;
      stream
        .send({ count: batch.length })
        .catch((error: unknown) => this.streamFailed(stream, error));
    }
  }

  private async connect(): Promise<void> {
    if (this.backoffMs > 0) await this.env.timers.sleep(this.backoffMs);
    this.expireWaiters();
    if (this.closed || this.queue.length === 0) return;
    try {
      const leader = await this.findLeader();
      const stream = this.client(leader).openBidiStream(PdMethod.tso, {
        header: { clusterId: this.clusterId },
      });
      this.stream = stream;
      this.counters.reconnects++;
      void this.read(stream);
    } catch (error) {
      this.leaderHint = undefined;
      this.backoffMs = Math.min(Math.max(this.backoffMs * 2, 20), 500);
      this.options.logger.warn({ err: describeError(error) }, "TSO client cannot reach a leader");
    }
  }

  /** The leader's address: the last hint, or asked from every endpoint at once. */
  private async findLeader(): Promise<string> {
    if (this.leaderHint !== undefined) return this.leaderHint;
    // In parallel: a stopped member must not delay finding the live leader.
    const asks = this.options.endpoints.map(async (endpoint) => {
      const reply = (await this.client(endpoint).call(
        PdMethod.getMembers,
        { header: { clusterId: this.clusterId } },
        { deadlineMs: 2_000 },
      )) as GetMembersReply;
      if (reply.leader === null) throw new Error(`${endpoint} knows no leader`);
      return reply;
    });
    try {
      const reply = await Promise.any(asks);
      this.clusterId = reply.clusterId;
      this.leaderHint = reply.leader!.address;
      return this.leaderHint;
    } catch (error) {
      throw new TesseraError(ErrorCode.PdTsoUnavailable, "no PD leader found", { cause: error });
    }
  }

  private async read(stream: ClientBidiStream): Promise<void> {
    try {
      for await (const message of stream) {
        const reply = message as TsoReply;
        const batch = this.inFlight.shift();
        this.sentAtMs.shift();
        if (batch === undefined) throw new Error("TSO reply without a request");
        this.backoffMs = 0;
        this.counters.timestamps += batch.length;
        let ts = reply.firstTs as bigint;
        for (const waiter of batch) waiter.resolve(ts++ as Timestamp);
        this.pump();
      }
      this.streamFailed(stream, new Error("TSO stream ended"));
    } catch (error) {
      this.streamFailed(stream, error);
    }
  }

  private streamFailed(stream: ClientBidiStream, error: unknown): void {
    if (this.stream !== stream) return;
    this.stream = undefined;
    stream.cancel();
    const hint = (error as TesseraError).details?.["leaderAddress"];
    this.leaderHint = typeof hint === "string" ? hint : undefined;
    if (!(error instanceof TesseraError && error.code === ErrorCode.PdNotLeader)) {
      this.backoffMs = Math.min(Math.max(this.backoffMs * 2, 20), 500);
    }
    // Unanswered batches go back to the front of the queue, in order.
    this.queue = [...this.inFlight.flat(), ...this.queue];
    this.inFlight = [];
    this.sentAtMs = [];
    this.pump();
  }

  private expireWaiters(): void {
    const now = this.env.clock.monotonicMs();
    const error = new TesseraError(ErrorCode.PdTsoUnavailable, "no TSO within the wait limit");
    this.queue = this.queue.filter((w) => {
      if (w.deadlineMs > now) return true;
      w.reject(error);
      return false;
    });
  }
}
