/**
 * `KvClient`: sends KV RPCs to the stores that lead the shards holding the keys, recovering
 * from stale routes. Everything above it (transactions, the lock resolver, GC) speaks in
 * keys and lets this module find shards, leaders and store addresses.
 *
 * Routing: each key is looked up in the router's shard cache (`PdClient`, which asks PD on
 * a miss); a batch is grouped by shard, each group chunked to `batchKeysMax`, and the
 * groups are sent in parallel, at most `concurrencyMax` at once. A reply's `routeError`
 * is acted on and the group is sent again, re-grouped by the refreshed routes:
 * - `notLeader` with a hint: the cached route points at the hinted peer; without one, the
 *   route is dropped; both retry (the second after a backoff);
 * - `epochNotMatch`: the shards the store reports (`current`) replace the cached route when
 *   the router can take them, else the route is dropped;
 * - `shardNotFound`, `keyNotInShard`, `staleCommand`: the route is dropped, retry after a
 *   backoff; `serverIsBusy`: retry after a backoff.
 * Transport failures (connect refused, connection lost, deadline) drop the store's address
 * and the route and retry after a backoff. Every request's attempts are bounded
 * (`attemptsMax`, backoff from `limits.clientKvBackoffMs{Min,Max}`, at most
 * `limits.clientKvBackoffBudgetMs` of sleep in all); past the bound it fails
 * with `CLIENT:Route:RetriesExhausted`, the last error as cause, `ambiguous` when some
 * attempt may have reached the store (so a commit's caller knows it cannot tell): a lost
 * reply, or `staleCommand`, a write the store had proposed when its leadership ended,
 * which the next leader may still commit.
 *
 * Key errors are not this module's business: replies carrying one are returned as they are.
 * State: the store connections (`RpcStoreTransport`, bounded, least recently used closed
 * first); routes live in the router.
 */
import {
  ErrorCode,
  TesseraError,
  describeError,
  limits,
} from "../base/mod.ts";
import { compareBytes } from "../codec/mod.ts";
import type { Env } from "../env/mod.ts";
import type { KvReply, PeerMeta, RouteError, ShardMeta, ShardRoute } from "../proto/mod.ts";
import { RpcClient, type RpcEnv, type RpcLogger } from "../rpc/mod.ts";
import { Backoff } from "./backoff.ts";
import { shardContains } from "./pd_client.ts";

/** What the KV client needs from a routing source; `PdClient` fits. */
export interface ShardRouter {
  clusterId(): Promise<bigint>;
  /** The shard holding `key`, or null if none is known. */
  getShardByKey(key: Uint8Array): Promise<ShardRoute | null>;
  /** Shards overlapping `[startKey, endKey)` (empty end: open), in key order. */
  scanShards(startKey: Uint8Array, endKey: Uint8Array, limit?: number): Promise<ShardRoute[]>;
  invalidateShard(shardId: number): void;
  updateShardLeader(shardId: number, leader: PeerMeta): void;
  getStore(storeId: number): Promise<{ readonly address: string }>;
  invalidateStore(storeId: number): void;
  /** Optional: caches routes a store reported (epoch not match). */
  cacheShardRoutes?(routes: readonly ShardRoute[]): void;
}

/** How the KV client reaches a store address. */
export interface StoreTransport {
  call(
    address: string,
    method: string,
    body: unknown,
    options: { readonly deadlineMs: number },
  ): Promise<unknown>;
  close(): Promise<void>;
}

/** One `RpcClient` per store address, at most `capacity`, least recently used closed first. */
export class RpcStoreTransport implements StoreTransport {
  private readonly env: RpcEnv;
  private readonly logger: RpcLogger;
  private readonly capacity: number;
  private readonly clients = new Map<string, RpcClient>();

  constructor(
    env: RpcEnv,
    options: { readonly logger: RpcLogger; readonly capacity?: number },
  ) {
    this.env = env;
    this.logger = options.logger;
    this.capacity = Math.max(1, options.capacity ?? limits.clientStoreConnectionsMax);
  }

  /** Store connections open now. */
  get size(): number {
    return this.clients.size;
  }

  call(
    address: string,
    method: string,
    body: unknown,
    options: { readonly deadlineMs: number },
  ): Promise<unknown> {
    return this.client(address).call(method, body, options);
  }

  async close(): Promise<void> {
    const all = [...this.clients.values()];
    this.clients.clear();
    await Promise.all(all.map((c) => c.close()));
  }

  private client(address: string): RpcClient {
    let client = this.clients.get(address);
    if (client !== undefined) {
      this.clients.delete(address);
      this.clients.set(address, client);
      return client;
    }
    if (this.clients.size >= this.capacity) {
      const oldest = this.clients.keys().next().value as string;
      const old = this.clients.get(oldest) as RpcClient;
      this.clients.delete(oldest);
      old.close().catch((error: unknown) => {
        this.logger.warn({ err: describeError(error), address: oldest }, "store close failed");
      });
    }
    const i = address.lastIndexOf(":");
    client = new RpcClient(this.env, {
      host: address.slice(0, i).replace(/^\[|\]$/g, ""),
      port: Number(address.slice(i + 1)),
      logger: this.logger,
    });
    this.clients.set(address, client);
    return client;
  }
}

/** Options of a `KvClient`. */
export interface KvClientOptions {
  readonly router: ShardRouter;
  readonly transport: StoreTransport;
  /** Default `limits.clientKvAttemptsMax`. */
  readonly attemptsMax?: number;
  /** Milliseconds of backoff one request may sleep; default `limits.clientKvBackoffBudgetMs`. */
  readonly backoffBudgetMs?: number;
  /** Defaults `limits.clientKvBackoffMs{Min,Max}`. */
  readonly backoffMsMin?: number;
  readonly backoffMsMax?: number;
  /** Default `limits.clientKvConcurrencyMax`. */
  readonly concurrencyMax?: number;
  /** Deadline of one attempt; default `limits.clientKvDeadlineMs`. */
  readonly deadlineMs?: number;
}

/** Options of one request. */
export interface SendOptions {
  /** Added to the attempt deadline (a lock wait's timeout). */
  readonly extraDeadlineMs?: number;
  /** Keys per request for `sendKeys`; default `limits.txnBatchKeysMax`. */
  readonly batchKeysMax?: number;
}

/** One group's reply in a batch. */
export interface GroupReply<R> {
  readonly shard: ShardMeta;
  readonly keys: readonly Uint8Array[];
  readonly reply: R;
}

/** Counters for tests and metrics. */
export interface KvClientStats {
  readonly requests: number;
  readonly retries: number;
  readonly notLeader: number;
  readonly epochNotMatch: number;
  readonly shardMiss: number;
  readonly serverBusy: number;
  readonly transportErrors: number;
}

/** Transport errors after which the request may be sent again (maybe elsewhere). */
const transportCodes: ReadonlySet<string> = new Set([
  ErrorCode.RpcConnectFailed,
  ErrorCode.RpcConnectionClosed,
  ErrorCode.RpcDeadlineExceeded,
  ErrorCode.RpcTooManyInFlight,
  ErrorCode.RpcWriteBufferFull,
]);

/** Transport errors that prove the request never reached the store. */
const unsentCodes: ReadonlySet<string> = new Set([
  ErrorCode.RpcConnectFailed,
  ErrorCode.RpcTooManyInFlight,
  ErrorCode.RpcWriteBufferFull,
]);

/** Runs `fn` over `items` with at most `limit` in flight; results in input order. */
export async function mapBounded<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T, i);
    }
  };
  const workers = Math.max(1, Math.min(limit, items.length));
  await Promise.all(Array.from({ length: workers }, worker));
  return out;
}

/** `keys` grouped by the shard holding each, in key order within a group. */
export interface KeyGroup {
  readonly route: ShardRoute;
  readonly keys: Uint8Array[];
}

/** Groups keys by shard with `locate`; a key no shard holds fails the whole grouping. */
export async function groupKeysByShard(
  keys: readonly Uint8Array[],
  locate: (key: Uint8Array) => Promise<ShardRoute | null>,
): Promise<KeyGroup[] | { readonly missing: Uint8Array }> {
  const groups = new Map<number, KeyGroup>();
  const sorted = [...keys].sort(compareBytes);
  let current: KeyGroup | undefined;
  for (const key of sorted) {
    const shard = current?.route.shard;
    if (
      shard !== undefined &&
      compareBytes(key, shard.startKey) >= 0 &&
      (shard.endKey.length === 0 || compareBytes(key, shard.endKey) < 0)
    ) {
      (current as KeyGroup).keys.push(key);
      continue;
    }
    const route = await locate(key);
    if (route === null) return { missing: key };
    current = groups.get(route.shard.id);
    if (current === undefined) {
      current = { route, keys: [] };
      groups.set(route.shard.id, current);
    }
    current.keys.push(key);
  }
  return [...groups.values()];
}

/** Shared retry state of one request (and the groups it splits into). */
interface Attempts {
  readonly backoff: Backoff;
  /** Retries sent at once (a new route to try), counted against `attemptsMax` too. */
  immediate: number;
  ambiguous: boolean;
  lastError: unknown;
}

/** The KV client; see the file comment. */
export class KvClient {
  private readonly env: Pick<Env, "random" | "timers">;
  private readonly router: ShardRouter;
  private readonly transport: StoreTransport;
  private readonly attemptsMax: number;
  private readonly backoffBudgetMs: number;
  private readonly backoffMsMin: number;
  private readonly backoffMsMax: number;
  private readonly concurrencyMax: number;
  private readonly deadlineMs: number;
  private clusterIdValue: bigint | undefined;
  private readonly counters = {
    requests: 0,
    retries: 0,
    notLeader: 0,
    epochNotMatch: 0,
    shardMiss: 0,
    serverBusy: 0,
    transportErrors: 0,
  };

  constructor(env: Pick<Env, "random" | "timers">, options: KvClientOptions) {
    this.env = env;
    this.router = options.router;
    this.transport = options.transport;
    this.attemptsMax = options.attemptsMax ?? limits.clientKvAttemptsMax;
    this.backoffBudgetMs = options.backoffBudgetMs ?? limits.clientKvBackoffBudgetMs;
    this.backoffMsMin = options.backoffMsMin ?? limits.clientKvBackoffMsMin;
    this.backoffMsMax = options.backoffMsMax ?? limits.clientKvBackoffMsMax;
    this.concurrencyMax = options.concurrencyMax ?? limits.clientKvConcurrencyMax;
    this.deadlineMs = options.deadlineMs ?? limits.clientKvDeadlineMs;
  }

  get stats(): KvClientStats {
    return { ...this.counters };
  }

  /** The bound on parallel requests of one batch. */
  get concurrency(): number {
    return this.concurrencyMax;
  }

  /** The cached (or PD's) route of the shard holding `key`. */
  shardOf(key: Uint8Array): Promise<ShardRoute | null> {
    return this.router.getShardByKey(key);
  }

  /** Sends `method` to the shard holding `key`; `body` gets the header and shard context. */
  async sendKey<R extends KvReply>(
    key: Uint8Array,
    method: string,
    body: (shard: ShardMeta) => Record<string, unknown>,
    options: SendOptions = {},
  ): Promise<GroupReply<R>> {
    const replies = await this.sendKeys<R>([key], method, (_keys, shard) => body(shard), options);
    return replies[0] as GroupReply<R>;
  }

  /**
   * Sends `method` once per shard group of `keys` (chunked to `batchKeysMax`), in parallel
   * with the concurrency bound; `body` builds each request from its keys and shard.
   */
  async sendKeys<R extends KvReply>(
    keys: readonly Uint8Array[],
    method: string,
    body: (keys: readonly Uint8Array[], shard: ShardMeta) => Record<string, unknown>,
    options: SendOptions = {},
  ): Promise<GroupReply<R>[]> {
    if (keys.length === 0) return [];
    const attempts: Attempts = {
      backoff: new Backoff(this.env.random, {
        baseMs: this.backoffMsMin,
        capMs: this.backoffMsMax,
        attemptsMax: this.attemptsMax,
        totalMsMax: this.backoffBudgetMs,
      }),
      immediate: 0,
      ambiguous: false,
      lastError: undefined,
    };
    return this.sendGroups(keys, method, body, options, attempts);
  }

  /** The shards overlapping `[start, end)` (empty end: open), in key order, paged. */
  async shardsInRange(start: Uint8Array, end: Uint8Array): Promise<ShardRoute[]> {
    const out: ShardRoute[] = [];
    let from = start;
    for (let page = 0; page < limits.pdShardsMax; page++) {
      const routes = await this.router.scanShards(from, end, limits.pdScanShardsMax);
      out.push(...routes);
      const last = routes[routes.length - 1];
      if (routes.length < limits.pdScanShardsMax || last === undefined) return out;
      if (last.shard.endKey.length === 0) return out;
      if (end.length > 0 && compareBytes(last.shard.endKey, end) >= 0) return out;
      from = last.shard.endKey;
    }
    return out;
  }

  /** Closes every store connection. */
  close(): Promise<void> {
    return this.transport.close();
  }

  private async sendGroups<R extends KvReply>(
    keys: readonly Uint8Array[],
    method: string,
    body: (keys: readonly Uint8Array[], shard: ShardMeta) => Record<string, unknown>,
    options: SendOptions,
    attempts: Attempts,
  ): Promise<GroupReply<R>[]> {
    for (;;) {
      const grouped = await groupKeysByShard(keys, (k) => this.router.getShardByKey(k));
      if (!Array.isArray(grouped)) {
        this.counters.shardMiss++;
        attempts.lastError = new Error("PD knows no shard for a key");
        await this.backOff(attempts);
        continue;
      }
      const batchMax = Math.max(1, options.batchKeysMax ?? limits.txnBatchKeysMax);
      const chunks: KeyGroup[] = [];
      for (const group of grouped) {
        for (let i = 0; i < group.keys.length; i += batchMax) {
          chunks.push({ route: group.route, keys: group.keys.slice(i, i + batchMax) });
        }
      }
      const results = await mapBounded(chunks, this.concurrencyMax, (chunk) =>
        this.sendChunk<R>(chunk, method, body, options, attempts),
      );
      return results.flat();
    }
  }

  /** One chunk (keys of one cached route): send, and on a route error re-group its keys. */
  private async sendChunk<R extends KvReply>(
    chunk: KeyGroup,
    method: string,
    body: (keys: readonly Uint8Array[], shard: ShardMeta) => Record<string, unknown>,
    options: SendOptions,
    attempts: Attempts,
  ): Promise<GroupReply<R>[]> {
    const { route, keys } = chunk;
    const leader = route.leader ?? route.shard.peers[0];
    if (leader === undefined) {
      this.router.invalidateShard(route.shard.id);
      attempts.lastError = new Error(`shard ${route.shard.id} has no peers`);
      await this.backOff(attempts);
      return this.sendGroups(keys, method, body, options, attempts);
    }
    let reply: R;
    try {
      const address = (await this.router.getStore(leader.storeId)).address;
      this.clusterIdValue ??= await this.router.clusterId();
      this.counters.requests++;
      reply = (await this.transport.call(
        address,
        method,
        {
          ...body(keys, route.shard),
          header: { clusterId: this.clusterIdValue },
          context: { shardId: route.shard.id, epoch: route.shard.epoch },
        },
        { deadlineMs: this.deadlineMs + (options.extraDeadlineMs ?? 0) },
      )) as R;
    } catch (error) {
      if (!(error instanceof TesseraError) || !transportCodes.has(error.code)) throw error;
      this.counters.transportErrors++;
      if (!unsentCodes.has(error.code)) attempts.ambiguous = true;
      attempts.lastError = error;
      this.router.invalidateStore(leader.storeId);
      this.router.invalidateShard(route.shard.id);
      await this.backOff(attempts);
      return this.sendGroups(keys, method, body, options, attempts);
    }
    const routeError = reply.routeError;
    if (routeError === undefined) return [{ shard: route.shard, keys, reply }];
    // A proposed write overtaken by a leadership change may yet commit.
    if (routeError.kind === "staleCommand") attempts.ambiguous = true;
    attempts.lastError = new Error(`route error ${describeRouteError(routeError)}`);
    if (await this.onRouteError(route, leader.storeId, routeError, keys)) {
      await this.backOff(attempts);
    }
    else this.countRetry(attempts);
    return this.sendGroups(keys, method, body, options, attempts);
  }

  /** Updates the routes after a route error; true when the retry should back off first. */
  private onRouteError(
    route: ShardRoute,
    storeId: number,
    error: RouteError,
    keys: readonly Uint8Array[],
  ): Promise<boolean> {
    const shardId = route.shard.id;
    switch (error.kind) {
      case "notLeader": {
        this.counters.notLeader++;
        const hint = error.leader;
        if (hint !== undefined && hint.storeId !== storeId) {
          this.router.updateShardLeader(shardId, { ...hint, role: "voter" });
          return Promise.resolve(false);
        }
        this.router.invalidateShard(shardId);
        return Promise.resolve(true);
      }
      case "epochNotMatch": {
        this.counters.epochNotMatch++;
        this.router.invalidateShard(shardId);
        if (this.router.cacheShardRoutes !== undefined && error.current.length > 0) {
          this.router.cacheShardRoutes(
            error.current.map((shard) => ({
              shard,
              leader: shard.peers.find((p) => p.storeId === storeId) ?? shard.peers[0] ?? null,
            })),
          );
          // Retry at once only if the store's shards cover every key; the rest are routed
          // by PD, which may not know of the split yet: retrying at once would spin.
          return Promise.resolve(!keys.every((key) => error.current.some((shard) =>
            shardContains(shard, key))));
        }
        // Nothing to route by but PD, which may not know the change yet: back off.
        return Promise.resolve(true);
      }
      case "shardNotFound":
      case "keyNotInShard":
      case "staleCommand":
        this.counters.shardMiss++;
        this.router.invalidateShard(shardId);
        return Promise.resolve(true);
      case "serverIsBusy":
        this.counters.serverBusy++;
        return Promise.resolve(true);
      default:
        return Promise.resolve(error satisfies never);
    }
  }

  /**
   * Counts an immediate retry against the attempt bound (no sleep, and the backoff's
   * step and time budget stay as they are).
   */
  private countRetry(attempts: Attempts): void {
    this.counters.retries++;
    attempts.immediate++;
    if (attempts.immediate + attempts.backoff.attemptsUsed > this.attemptsMax) {
      throw this.exhausted(attempts);
    }
  }

  private async backOff(attempts: Attempts): Promise<void> {
    this.counters.retries++;
    const delay = attempts.immediate + attempts.backoff.attemptsUsed >= this.attemptsMax ? null
      : attempts.backoff.next();
    if (delay === null) throw this.exhausted(attempts);
    await this.env.timers.sleep(delay);
  }

  private exhausted(attempts: Attempts): TesseraError {
    return new TesseraError(
      ErrorCode.ClientRouteRetriesExhausted,
      `KV request failed after ${attempts.backoff.attemptsUsed + attempts.immediate} ` +
        `retries (${Math.round(attempts.backoff.totalDelayMs)} ms of backoff): ` +
        describeError(attempts.lastError),
      { cause: attempts.lastError, ambiguous: attempts.ambiguous },
    );
  }
}

/** A route error in a few words, for messages. */
function describeRouteError(error: RouteError): string {
  switch (error.kind) {
    case "notLeader":
      return `notLeader(shard ${error.shardId})`;
    case "shardNotFound":
      return `shardNotFound(shard ${error.shardId})`;
    case "epochNotMatch":
      return "epochNotMatch";
    case "keyNotInShard":
      return `keyNotInShard(shard ${error.shard.id})`;
    case "serverIsBusy":
      return `serverIsBusy(${error.reason})`;
    case "staleCommand":
      return "staleCommand";
    default:
      return error satisfies never;
  }
}

/** True when `error` says the request may have taken effect without a reply. */
export function isAmbiguous(error: unknown): boolean {
  return error instanceof TesseraError && error.ambiguous;
}
