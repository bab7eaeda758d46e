/**
 * `PdServer`: one PD member — its RPC service, its campaign for leadership, and, while it
 * leads, the TSO, the cluster state and the owner elections.
 *
 * Start-up: listen, make sure the cluster id exists (created once, by whichever member
 * gets there first, in a transaction conditioned on its absence), then campaign. On
 * winning, the member loads the cluster state and starts the TSO above the saved window
 * before it answers anything; on losing, it stops both at once. Every request is checked
 * for the cluster id (`PD:Cluster:IdMismatch`) and, except `getMembers`, for leadership
 * (`PD:Member:NotLeader` with the leader's address as a hint). Bodies are parsed by the
 * `proto` validators, so a malformed one is `PD:Request:Malformed` and changes nothing.
 *
 * Scheduling: each term gets a fresh `Scheduling` (an empty operator controller) that runs
 * a round every `scheduleIntervalMs`; a shard heartbeat's reply carries the next step of
 * the operator on that shard. The scheduler config and the set of enabled schedulers are
 * kept durable by the leader and reloaded by the next one; the member keeps the last
 * values it knew, which the HTTP API shows on followers too.
 */
import { ErrorCode, TesseraError, describeError, limits } from "../../base/mod.ts";
import type { Timestamp } from "../../base/mod.ts";
import type { Env } from "../../env/mod.ts";
import {
  PdMethod,
  type RequestHeader,
  type ServiceSafePointReply,
  type TsoReply,
  parseAllocIdsRequest,
  parseBootstrapRequest,
  parseCampaignRequest,
  parseGetOwnerRequest,
  parseGetShardByIdRequest,
  parseGetShardByKeyRequest,
  parseGetStoreRequest,
  parseOwnerLeaseRequest,
  parsePutStoreRequest,
  parseRequestWithHeader,
  parseScanShardsRequest,
  parseShardHeartbeatRequest,
  parseStoreHeartbeatRequest,
  parseTsoRequest,
  parseTsoUnaryRequest,
  parseUpdateGcSafePointRequest,
  parseUpdateServiceSafePointRequest,
} from "../../proto/mod.ts";
import { type RpcAddress, RpcServer } from "../../rpc/mod.ts";
import type { MetaStore } from "../meta/meta_store.ts";
import type { RunningOperator } from "../schedule/operator_controller.ts";
import type { SchedulerName } from "../schedule/schedule.ts";
import {
  type Operator,
  type SchedulerConfig,
  defaultSchedulerConfig,
  validateSchedulerConfig,
} from "../schedule/types.ts";
import { TsoService } from "../tso/tso_service.ts";
import {
  Cluster,
  type ClusterConfig,
  type MinServiceSafePoint,
  defaultClusterConfig,
  metaKeys,
} from "./cluster.ts";
import { Leadership, type MemberInfo, notLeaderError } from "./leadership.ts";
import type { PdLogger } from "./logger.ts";
import { OwnerElections } from "./owner_elections.ts";
import {
  type ManualOperatorSpec,
  type OperatorCounters,
  Scheduling,
  clusterConfigOf,
  isSchedulerName,
  mergeSchedulerConfig,
  newOperatorCounters,
  scheduleIntervalMsDefault,
  schedulerNames,
} from "./scheduling.ts";

export interface PdServerOptions {
  /** This member's name (unique among members). */
  readonly name: string;
  /** Where to listen; port 0 picks a free port. */
  readonly host: string;
  readonly port: number;
  /** The address other processes reach this member at (default: the bound address). */
  readonly advertiseAddress?: string;
  readonly store: MetaStore;
  readonly logger: PdLogger;
  readonly leaseTtlMs?: number;
  readonly leaseDriftMs?: number;
  readonly tsoWindowMs?: number;
  readonly config?: ClusterConfig;
  /**
   * Scheduler settings over the defaults (`config`'s replica count and store timeouts
   * included); the HTTP API changes them at run time.
   */
  readonly schedulerConfig?: Partial<SchedulerConfig>;
  /** Time between scheduling rounds on the leader (default 1 s). */
  readonly scheduleIntervalMs?: number;
}

/** Upper bounds of the TSO batch-size histogram buckets (timestamps per request). */
export const tsoBatchBuckets = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096, 10_000];

/** Counters the process exports as metrics. */
export interface PdStats {
  readonly isLeader: boolean;
  readonly leaderChanges: number;
  readonly tsoRequests: number;
  readonly tsoTimestamps: number;
  readonly tsoWindowWrites: number;
  readonly tsoRefusals: number;
  /** Requests per batch-size bucket (`tsoBatchBuckets`), not cumulative. */
  readonly tsoBatchCounts: readonly number[];
  readonly storeHeartbeats: number;
  readonly shardHeartbeats: number;
  readonly requestErrors: number;
  readonly stores: number;
  readonly shards: number;
  /** Operator outcomes by kind, over every term this member led. */
  readonly operators: OperatorCounters;
  /** Operators running now (0 on a follower). */
  readonly operatorsInFlight: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** One PD member. */
export class PdServer {
  readonly name: string;
  readonly config: ClusterConfig;
  private readonly env: Env;
  private readonly store: MetaStore;
  private readonly logger: PdLogger;
  private readonly rpc: RpcServer;
  private readonly tso: TsoService;
  private readonly elections: OwnerElections;
  private leadership: Leadership | undefined;
  private cluster: Cluster | undefined;
  private scheduling: Scheduling | undefined;
  /** The config the defaults and options give; stored overrides replace it per term. */
  private readonly baseSchedulerConfig: SchedulerConfig;
  private schedulerConfigValue: SchedulerConfig;
  private enabledSchedulers: ReadonlySet<SchedulerName> = new Set(schedulerNames);
  private readonly scheduleIntervalMs: number;
  private readonly operatorCounters = newOperatorCounters();
  private clusterIdValue = 0n;
  private boundAddress: RpcAddress | undefined;
  private advertise = "";
  private readonly counters = {
    leaderChanges: 0,
    storeHeartbeats: 0,
    shardHeartbeats: 0,
    requestErrors: 0,
    tsoBatchCounts: tsoBatchBuckets.map(() => 0),
  };
  private constructor(env: Env, options: PdServerOptions) {
    this.env = env;
    this.name = options.name;
    this.store = options.store;
    this.logger = options.logger;
    this.config = options.config ?? defaultClusterConfig;
    this.baseSchedulerConfig = {
      ...defaultSchedulerConfig,
      maxReplicas: this.config.maxReplicas,
      storeDisconnectTimeMs: this.config.storeDisconnectMs,
      maxStoreDownTimeMs: this.config.maxStoreDownTimeMs,
      ...options.schedulerConfig,
    };
    validateSchedulerConfig(this.baseSchedulerConfig);
    this.schedulerConfigValue = this.baseSchedulerConfig;
    this.scheduleIntervalMs = options.scheduleIntervalMs ?? scheduleIntervalMsDefault;
    this.rpc = new RpcServer(env, { logger: options.logger });
    this.elections = new OwnerElections(options.store);
    this.tso = new TsoService(env, options.store, {
      key: metaKeys.tso,
      logger: options.logger,
      ...(options.tsoWindowMs === undefined ? {} : { windowMs: options.tsoWindowMs }),
      onLeadershipLost: (reason) => {
        this.logger.warn({ reason }, "TSO lost leadership");
        this.endTerm();
      },
    });
    this.register();
  }

  /** Starts a member: listens, ensures the cluster id, campaigns. */
  static async start(env: Env, options: PdServerOptions): Promise<PdServer> {
    const server = new PdServer(env, options);
    server.boundAddress = await server.rpc.listen({ host: options.host, port: options.port });
    server.advertise =
      options.advertiseAddress ?? `${server.boundAddress.host}:${server.boundAddress.port}`;
    try {
      server.clusterIdValue = await ensureClusterId(env, options.store);
      server.leadership = new Leadership(env, options.store, {
        key: metaKeys.leader,
        self: server.self,
        leaseTtlMs: options.leaseTtlMs ?? limits.pdLeaderLeaseTtlMs,
        driftMs: options.leaseDriftMs ?? limits.pdLeaseDriftMs,
        logger: options.logger,
        onElected: (_term, leaseDeadlineMs) => server.onElected(leaseDeadlineMs),
        onLeaseExtended: (deadlineMs) => server.tso.extendLease(deadlineMs),
        onLost: () => {
          server.tso.stop();
          server.endTerm();
        },
      });
      await server.leadership.start();
    } catch (error) {
      await server.rpc.close();
      throw error;
    }
    return server;
  }

  private async onElected(leaseDeadlineMs: number): Promise<void> {
    const guard = () =>
      this.leadership?.guard() ?? [
        // No term: a compare that never holds, so nothing is written.
        { key: metaKeys.leader, target: "createRevision" as const, op: "<" as const, operand: 0 },
      ];
    const cluster = await Cluster.load(this.env, this.store, { config: this.config, guard });
    await this.tso.begin(guard(), leaseDeadlineMs);
    this.loadScheduleSettings(cluster);
    cluster.setConfig(clusterConfigOf(this.schedulerConfigValue));
    this.scheduling?.stop();
    const scheduling = new Scheduling(this.env, cluster, {
      config: this.schedulerConfigValue,
      enabled: this.enabledSchedulers,
      intervalMs: this.scheduleIntervalMs,
      logger: this.logger,
      counters: this.operatorCounters,
    });
    this.cluster = cluster;
    this.scheduling = scheduling;
    scheduling.start();
    this.counters.leaderChanges++;
  }

  /** Takes the scheduler settings the previous leaders stored, if they are still valid. */
  private loadScheduleSettings(cluster: Cluster): void {
    const stored = cluster.scheduleSettings;
    if (stored === undefined) return;
    try {
      this.schedulerConfigValue = mergeSchedulerConfig(this.baseSchedulerConfig, stored.config);
    } catch (error) {
      this.logger.warn({ err: describeError(error) }, "stored scheduler config ignored");
    }
    const disabled = new Set(stored.disabled);
    this.enabledSchedulers = new Set(schedulerNames.filter((n) => !disabled.has(n)));
  }

  /** Stops serving as leader: drops the cluster state and the term's operators. */
  private endTerm(): void {
    this.scheduling?.stop();
    this.scheduling = undefined;
    this.cluster = undefined;
  }

  /** This member as it advertises itself. */
  get self(): MemberInfo {
    return { name: this.name, address: this.advertise };
  }

  /** The bound RPC address. */
  get address(): RpcAddress {
    return this.boundAddress as RpcAddress;
  }

  get clusterId(): bigint {
    return this.clusterIdValue;
  }

  /** True while this member leads and serves. */
  get isLeader(): boolean {
    return this.cluster !== undefined && this.leadership?.currentTerm !== undefined;
  }

  /** The leader as this member knows it. */
  get leader(): MemberInfo | undefined {
    return this.leadership?.leader;
  }

  get metaStoreKind(): string {
    return this.store.kind;
  }

  /** Stops campaigning (a leader resigns), stops serving and closes the RPC server. */
  async stop(): Promise<void> {
    this.tso.stop();
    this.endTerm();
    await this.leadership?.stop();
    await this.rpc.close();
  }

  /** Counters for metrics. */
  stats(): PdStats {
    return {
      isLeader: this.isLeader,
      leaderChanges: this.counters.leaderChanges,
      tsoRequests: this.tso.stats.requests,
      tsoTimestamps: this.tso.stats.timestamps,
      tsoWindowWrites: this.tso.stats.windowWrites,
      tsoRefusals: this.tso.stats.refusals,
      tsoBatchCounts: [...this.counters.tsoBatchCounts],
      storeHeartbeats: this.counters.storeHeartbeats,
      shardHeartbeats: this.counters.shardHeartbeats,
      requestErrors: this.counters.requestErrors,
      stores: this.cluster?.storeCount ?? 0,
      shards: this.cluster?.shardCount ?? 0,
      operators: structuredClone(this.operatorCounters),
      operatorsInFlight: this.scheduling?.operators().length ?? 0,
    };
  }

  // ---- scheduling (HTTP API) ------------------------------------------------------------

  /** The leader's scheduling shell; throws the not-leader error otherwise. */
  leaderScheduling(): Scheduling {
    this.leaderCluster();
    const scheduling = this.scheduling;
    if (scheduling === undefined) throw notLeaderError(this.leadership?.leader);
    return scheduling;
  }

  /** The scheduler config in force (the last one this member knew, on a follower). */
  get schedulerConfig(): SchedulerConfig {
    return this.schedulerConfigValue;
  }

  /** Every scheduler with whether it runs. */
  schedulerList(): { readonly name: SchedulerName; readonly enabled: boolean }[] {
    return schedulerNames.map((name) => ({ name, enabled: this.enabledSchedulers.has(name) }));
  }

  /** Switches a scheduler on or off, durably. `PD:Scheduler:Unknown` for a bad name. */
  async setSchedulerEnabled(name: string, enabled: boolean): Promise<void> {
    if (!isSchedulerName(name)) {
      throw new TesseraError(ErrorCode.PdSchedulerUnknown, `no scheduler named ${name}`);
    }
    const cluster = this.leaderCluster();
    const next = new Set(this.enabledSchedulers);
    if (enabled) next.add(name);
    else next.delete(name);
    await this.saveScheduleSettings(cluster, this.schedulerConfigValue, next);
    this.enabledSchedulers = next;
    this.scheduling?.setEnabled(next);
  }

  /**
   * Changes scheduler settings (a parsed JSON object of the keys to change), durably;
   * resolves with the config now in force. Unknown keys are `PD:Request:Malformed`, values
   * out of range `PD:Schedule:ConfigInvalid`; either way nothing changes.
   */
  async updateSchedulerConfig(patch: unknown): Promise<SchedulerConfig> {
    const cluster = this.leaderCluster();
    const config = mergeSchedulerConfig(this.schedulerConfigValue, patch);
    await this.saveScheduleSettings(cluster, config, this.enabledSchedulers);
    this.schedulerConfigValue = config;
    cluster.setConfig(clusterConfigOf(config));
    this.scheduling?.setConfig(config);
    return config;
  }

  private saveScheduleSettings(
    cluster: Cluster,
    config: SchedulerConfig,
    enabled: ReadonlySet<SchedulerName>,
  ): Promise<void> {
    return cluster.saveScheduleSettings({
      config: config as unknown as Record<string, unknown>,
      disabled: schedulerNames.filter((n) => !enabled.has(n)),
    });
  }

  /** The operators running on the leader, and the leader's clock (ms) to age them by. */
  operators(): { readonly running: RunningOperator[]; readonly nowMs: number } {
    const scheduling = this.leaderScheduling();
    return { running: scheduling.operators(), nowMs: scheduling.nowMs() };
  }

  /** Builds and admits an operator asked for by hand; resolves with it. */
  addOperator(spec: ManualOperatorSpec): Operator {
    const scheduling = this.leaderScheduling();
    const operator = scheduling.manualOperator(spec);
    scheduling.addOperator(operator);
    return operator;
  }

  /** The leader's cluster state; throws the not-leader error with a hint otherwise. */
  leaderCluster(): Cluster {
    const cluster = this.cluster;
    if (cluster === undefined || this.leadership?.currentTerm === undefined) {
      throw notLeaderError(this.leadership?.leader);
    }
    return cluster;
  }

  /** Timestamps, for the RPC service and the HTTP API. */
  async getTimestamps(count: number): Promise<TsoReply> {
    this.leaderCluster();
    try {
      const reply = await this.tso.getTimestamps(count);
      const bucket = tsoBatchBuckets.findIndex((upper) => count <= upper);
      const counts = this.counters.tsoBatchCounts;
      counts[bucket] = (counts[bucket] ?? 0) + 1;
      return reply;
    } catch (error) {
      if (error instanceof TesseraError && error.code === ErrorCode.PdNotLeader) {
        throw notLeaderError(this.isLeader ? undefined : this.leadership?.leader);
      }
      throw error;
    }
  }

  private checkHeader(header: RequestHeader, options: { readonly allowZero: boolean }): void {
    if (header.clusterId === this.clusterIdValue) return;
    if (options.allowZero && header.clusterId === 0n) return;
    throw new TesseraError(
      ErrorCode.PdClusterIdMismatch,
      `cluster id mismatch: this PD serves ${this.clusterIdValue}, ` +
        `the request is for ${header.clusterId}`,
      { details: { clusterId: String(this.clusterIdValue) } },
    );
  }

  /** Checks cluster id and leadership of a parsed request; returns the cluster. */
  private leading(request: { readonly header: RequestHeader }): Cluster {
    this.checkHeader(request.header, { allowZero: false });
    return this.leaderCluster();
  }

  private unary(method: string, handler: (body: unknown) => Promise<unknown> | unknown): void {
    this.rpc.handleUnary(method, async (body) => {
      try {
        return await handler(body);
      } catch (error) {
        this.counters.requestErrors++;
        throw error;
      }
    });
  }

  private register(): void {
    this.unary(PdMethod.getMembers, (body) => {
      this.checkHeader(parseRequestWithHeader(body).header, { allowZero: true });
      const leader = this.isLeader ? this.self : (this.leadership?.leader ?? null);
      return { clusterId: this.clusterIdValue, self: this.self, leader };
    });
    this.rpc.handleBidiStream(PdMethod.tso, async (body, stream) => {
      this.leading(parseRequestWithHeader(body));
      // Iterated by hand: leaving a `for await` by a throw would cancel the stream before
      // the handler's error reached the client, hiding its code.
      const messages = stream[Symbol.asyncIterator]();
      for (;;) {
        const next = await messages.next();
        if (next.done === true) return;
        const request = parseTsoRequest(next.value);
        await stream.send(await this.getTimestamps(request.count));
      }
    });
    this.unary(PdMethod.getTimestamp, (body) => {
      const request = parseTsoUnaryRequest(body);
      this.leading(request);
      return this.getTimestamps(request.count);
    });
    this.unary(PdMethod.allocIds, async (body) => {
      const request = parseAllocIdsRequest(body);
      const firstId = await this.leading(request).allocIds(request.count);
      return { firstId, count: request.count };
    });
    this.unary(PdMethod.bootstrap, async (body) => {
      const request = parseBootstrapRequest(body);
      await this.leading(request).bootstrap(request.store, request.shard);
      return {};
    });
    this.unary(PdMethod.isBootstrapped, (body) => {
      return { bootstrapped: this.leading(parseRequestWithHeader(body)).isBootstrapped };
    });
    this.unary(PdMethod.putStore, async (body) => {
      const request = parsePutStoreRequest(body);
      await this.leading(request).putStore(request.store);
      return {};
    });
    this.unary(PdMethod.storeHeartbeat, (body) => {
      const request = parseStoreHeartbeatRequest(body);
      const cluster = this.leading(request);
      cluster.storeHeartbeat(request.storeId, request.stats);
      this.counters.storeHeartbeats++;
      return { gcSafePoint: cluster.gcSafePointTs };
    });
    this.unary(PdMethod.getStore, (body) => {
      const request = parseGetStoreRequest(body);
      return { store: this.leading(request).getStore(request.storeId) };
    });
    this.unary(PdMethod.getAllStores, (body) => {
      return { stores: this.leading(parseRequestWithHeader(body)).allStores() };
    });
    this.unary(PdMethod.shardHeartbeat, async (body) => {
      const request = parseShardHeartbeatRequest(body);
      await this.leading(request).shardHeartbeat(request);
      this.counters.shardHeartbeats++;
      return { step: this.scheduling?.onShardHeartbeat(request.shard.id) ?? null };
    });
    this.unary(PdMethod.getShardByKey, (body) => {
      const request = parseGetShardByKeyRequest(body);
      return { route: this.leading(request).getShardByKey(request.key) };
    });
    this.unary(PdMethod.getShardById, (body) => {
      const request = parseGetShardByIdRequest(body);
      return { route: this.leading(request).getShardById(request.shardId) };
    });
    this.unary(PdMethod.scanShards, (body) => {
      const request = parseScanShardsRequest(body);
      const cluster = this.leading(request);
      return { routes: cluster.scanShards(request.startKey, request.endKey, request.limit) };
    });
    this.unary(PdMethod.getGcSafePoint, (body) => {
      return { safePoint: this.leading(parseRequestWithHeader(body)).gcSafePointTs };
    });
    this.unary(PdMethod.updateGcSafePoint, async (body) => {
      const request = parseUpdateGcSafePointRequest(body);
      const safePoint = await this.leading(request).updateGcSafePoint(request.safePoint);
      return { safePoint: safePoint as Timestamp };
    });
    this.unary(PdMethod.updateServiceSafePoint, async (body) => {
      const request = parseUpdateServiceSafePointRequest(body);
      const cluster = this.leading(request);
      const { serviceId, safePoint, ttlMs } = request;
      return serviceSafePointReply(
        await cluster.updateServiceSafePoint(serviceId, safePoint, ttlMs),
      );
    });
    this.unary(PdMethod.getMinServiceSafePoint, (body) => {
      const cluster = this.leading(parseRequestWithHeader(body));
      return serviceSafePointReply(cluster.minServiceSafePoint());
    });
    this.unary(PdMethod.campaign, (body) => {
      const request = parseCampaignRequest(body);
      this.leading(request);
      return this.elections.campaign(request.election, request.candidate, request.ttlMs);
    });
    this.unary(PdMethod.renewOwner, (body) => {
      const request = parseOwnerLeaseRequest(body);
      this.leading(request);
      return this.elections.renew(request.election, request.candidate);
    });
    this.unary(PdMethod.resignOwner, async (body) => {
      const request = parseOwnerLeaseRequest(body);
      this.leading(request);
      await this.elections.resign(request.election, request.candidate);
      return {};
    });
    this.unary(PdMethod.getOwner, async (body) => {
      const request = parseGetOwnerRequest(body);
      this.leading(request);
      return { owner: await this.elections.owner(request.election) };
    });
  }
}

function serviceSafePointReply(min: MinServiceSafePoint): ServiceSafePointReply {
  return {
    minSafePoint: min.minSafePoint as Timestamp | null,
    minServiceId: min.minServiceId,
  };
}

/**
 * Reads the cluster id, creating it if this is the first member of a new cluster: seconds
 * since the epoch in the high bits and 21 random bits, below 2^53 so it is also a safe
 * JSON number.
 */
async function ensureClusterId(env: Env, store: MetaStore): Promise<bigint> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const existing = await store.get(metaKeys.clusterId);
    if (existing !== undefined) return BigInt(decoder.decode(existing.value));
    const seconds = BigInt(Math.floor(env.clock.wallMs() / 1000));
    const id = (seconds << 21n) | BigInt(env.random.int(1 << 21));
    const result = await store.txn({
      compare: [{ key: metaKeys.clusterId, target: "createRevision", op: "=", operand: 0 }],
      success: [{ kind: "put", key: metaKeys.clusterId, value: encoder.encode(String(id)) }],
      failure: [{ kind: "get", key: metaKeys.clusterId }],
    });
    if (result.succeeded) return id;
    const winner = result.gets[0];
    if (winner !== undefined) return BigInt(decoder.decode(winner.value));
  }
  throw new TesseraError(ErrorCode.PdMetaUnavailable, "could not read or create the cluster id");
}
