/**
 * The PD RPC service: method names, request and reply shapes, and validators.
 *
 * Bodies are msgpack values (see `rpc`): timestamps and cluster ids are `bigint`s, keys are
 * `Uint8Array`s, ids are numbers. Every request but `getMembers` carries a `header` with the
 * cluster id the caller believes in; PD refuses a different one (`PD:Cluster:IdMismatch`),
 * and `0n` is accepted only by `getMembers`, which is how a client learns the id.
 *
 * Followers refuse every call except `getMembers` with `PD:Member:NotLeader`, whose details
 * carry `leaderAddress` (`host:port`, or `null` while there is no leader): clients follow it.
 *
 * The `parse*` functions are the only way a server turns an untrusted body into a typed
 * request: each throws `PD:Request:Malformed` naming the first bad field, and never
 * anything else. Replies are built by PD and trusted by clients as they are.
 */
import { ErrorCode, TesseraError, limits } from "../base/mod.ts";
import type { Timestamp } from "../base/mod.ts";
import { compareBytes } from "../codec/mod.ts";

/** Method names of the PD service. */
export const PdMethod = {
  /** Unary, any member: `GetMembersRequest` → `GetMembersReply`. */
  getMembers: "pd.GetMembers",
  /**
   * Bidirectional stream. Open body: `TsoStreamOpen`. Each data message from the client is
   * a `TsoRequest`, answered in order by one `TsoReply`. A failure ends the stream with
   * the error (`PD:Member:NotLeader`, `PD:TSO:Unavailable`, …); the client reopens.
   */
  tso: "pd.Tso",
  /** Unary: `TsoUnaryRequest` → `TsoReply` (tools; clients use the stream). */
  getTimestamp: "pd.GetTimestamp",
  /** Unary: `AllocIdsRequest` → `AllocIdsReply`. */
  allocIds: "pd.AllocIds",
  /** Unary: `BootstrapRequest` → `Empty`. */
  bootstrap: "pd.Bootstrap",
  /** Unary: `RequestWithHeader` → `IsBootstrappedReply`. */
  isBootstrapped: "pd.IsBootstrapped",
  /** Unary: `PutStoreRequest` → `Empty` (register or update a store). */
  putStore: "pd.PutStore",
  /** Unary: `StoreHeartbeatRequest` → `StoreHeartbeatReply`. */
  storeHeartbeat: "pd.StoreHeartbeat",
  /** Unary: `GetStoreRequest` → `StoreReply`. */
  getStore: "pd.GetStore",
  /** Unary: `RequestWithHeader` → `StoresReply`. */
  getAllStores: "pd.GetAllStores",
  /** Unary: `ShardHeartbeatRequest` → `ShardHeartbeatReply`. */
  shardHeartbeat: "pd.ShardHeartbeat",
  /** Unary: `GetShardByKeyRequest` → `ShardReply` (`shard: null` if none covers the key). */
  getShardByKey: "pd.GetShardByKey",
  /** Unary: `GetShardByIdRequest` → `ShardReply`. */
  getShardById: "pd.GetShardById",
  /** Unary: `ScanShardsRequest` → `ScanShardsReply`. */
  scanShards: "pd.ScanShards",
  /** Unary: `RequestWithHeader` → `GcSafePointReply`. */
  getGcSafePoint: "pd.GetGcSafePoint",
  /** Unary: `UpdateGcSafePointRequest` → `GcSafePointReply` (never moves backwards). */
  updateGcSafePoint: "pd.UpdateGcSafePoint",
  /**
   * Unary: `UpdateServiceSafePointRequest` → `ServiceSafePointReply` (TiDB's
   * UpdateServiceGCSafePoint): a service (a SQL node's running transactions, a dump, an
   * import) holds GC at or below its safe point until its TTL runs out; TTL 0 removes it.
   */
  updateServiceSafePoint: "pd.UpdateServiceSafePoint",
  /** Unary: `RequestWithHeader` → `ServiceSafePointReply` (the lowest one in force). */
  getMinServiceSafePoint: "pd.GetMinServiceSafePoint",
  /** Unary: `CampaignRequest` → `CampaignReply` (cluster-wide singleton elections). */
  campaign: "pd.Campaign",
  /** Unary: `OwnerLeaseRequest` → `CampaignReply` (renew; `PD:Election:NotOwner` if lost). */
  renewOwner: "pd.RenewOwner",
  /** Unary: `OwnerLeaseRequest` → `Empty`. */
  resignOwner: "pd.ResignOwner",
  /** Unary: `GetOwnerRequest` → `GetOwnerReply`. */
  getOwner: "pd.GetOwner",
} as const;
export type PdMethod = (typeof PdMethod)[keyof typeof PdMethod];

/** Sent with every request: the cluster the caller means. */
export interface RequestHeader {
  /** `0n` only in `getMembers`, before the client knows the id. */
  readonly clusterId: bigint;
}

export interface RequestWithHeader {
  readonly header: RequestHeader;
}

/** An empty reply. */
export type Empty = Record<string, never>;

/** One PD member. */
export interface PdMember {
  readonly name: string;
  /** `host:port` of its RPC service. */
  readonly address: string;
}

export type GetMembersRequest = RequestWithHeader;

export interface GetMembersReply {
  readonly clusterId: bigint;
  /** The member that answered. */
  readonly self: PdMember;
  /** The current leader, if one is known. */
  readonly leader: PdMember | null;
}

export type TsoStreamOpen = RequestWithHeader;

export interface TsoRequest {
  /** Timestamps wanted, 1..`limits.pdTsoBatchTimestampsMax`. */
  readonly count: number;
}

export interface TsoUnaryRequest extends RequestWithHeader, TsoRequest {}

/**
 * `count` consecutive timestamps `firstTs, firstTs + 1, …, firstTs + count - 1`, all with
 * the same physical millisecond, each above every timestamp handed out before.
 */
export interface TsoReply {
  readonly firstTs: Timestamp;
  readonly count: number;
}

export interface AllocIdsRequest extends RequestWithHeader {
  /** Ids wanted, 1..`limits.pdIdAllocCountMax`. */
  readonly count: number;
}

/** Ids `firstId, …, firstId + count - 1`, never handed out before. */
export interface AllocIdsReply {
  readonly firstId: number;
  readonly count: number;
}

/** A store's lifecycle state as PD stores it (liveness is computed from heartbeats). */
export type StoreStoredState = "up" | "offline" | "tombstone";

/** A store's state including liveness: what PD reports. */
export type StoreState = "up" | "disconnected" | "down" | "offline" | "tombstone";

/** What a store tells PD about itself when it registers. */
export interface StoreMeta {
  readonly id: number;
  /** `host:port` of its KV RPC service. */
  readonly address: string;
  /** `host:port` of its HTTP status server, or "". */
  readonly statusAddress: string;
  readonly version: string;
  readonly labels: Readonly<Record<string, string>>;
}

/** A store as PD reports it. */
export interface StoreInfoReply extends StoreMeta {
  readonly state: StoreState;
  /** Milliseconds since PD last heard from the store (`null`: never, since PD started). */
  readonly lastHeartbeatAgoMs: number | null;
  readonly stats: StoreStats | null;
}

export interface StoreStats {
  readonly capacityBytes: number;
  readonly availableBytes: number;
  readonly usedBytes: number;
  readonly shardCount: number;
  readonly leaderCount: number;
  readonly readBytesPerSec: number;
  readonly writeBytesPerSec: number;
}

export interface PutStoreRequest extends RequestWithHeader {
  readonly store: StoreMeta;
}

export interface StoreHeartbeatRequest extends RequestWithHeader {
  readonly storeId: number;
  readonly stats: StoreStats;
}

export interface StoreHeartbeatReply {
  /** The cluster's GC safe point, so stores learn it without asking. */
  readonly gcSafePoint: Timestamp;
}

export interface GetStoreRequest extends RequestWithHeader {
  readonly storeId: number;
}

export interface StoreReply {
  readonly store: StoreInfoReply;
}

export interface StoresReply {
  readonly stores: readonly StoreInfoReply[];
}

/** Conf version grows with membership changes, version with splits and merges. */
export interface ShardEpoch {
  readonly confVersion: number;
  readonly version: number;
}

export type PeerRole = "voter" | "learner";

export interface PeerMeta {
  readonly peerId: number;
  readonly storeId: number;
  readonly role: PeerRole;
}

/** A shard's durable description: range, epoch and peers. */
export interface ShardMeta {
  readonly id: number;
  /** Inclusive; empty is the start of the key space. */
  readonly startKey: Uint8Array;
  /** Exclusive; empty is the end of the key space. */
  readonly endKey: Uint8Array;
  readonly epoch: ShardEpoch;
  readonly peers: readonly PeerMeta[];
}

/** Load a shard's leader reports with each heartbeat. */
export interface ShardStats {
  readonly approximateSizeBytes: number;
  readonly approximateKeys: number;
  readonly readBytesPerSec: number;
  readonly readKeysPerSec: number;
  readonly writeBytesPerSec: number;
  readonly writeKeysPerSec: number;
  readonly queriesPerSec: number;
}

export interface ShardHeartbeatRequest extends RequestWithHeader {
  readonly shard: ShardMeta;
  /** The reporting leader; one of `shard.peers`. */
  readonly leaderPeerId: number;
  readonly pendingPeerIds: readonly number[];
  readonly stats: ShardStats;
}

/** One step PD asks a shard leader to take (the first step of a scheduling operator). */
export type ShardOperatorStep =
  | { readonly kind: "addLearner"; readonly storeId: number; readonly peerId: number }
  | { readonly kind: "promoteLearner"; readonly storeId: number; readonly peerId: number }
  | { readonly kind: "removePeer"; readonly storeId: number; readonly peerId: number }
  | { readonly kind: "transferLeader"; readonly fromStoreId: number; readonly toStoreId: number }
  | {
      readonly kind: "splitShard";
      readonly policy: "approximate" | "byKeys" | "loadBased";
      readonly keys?: readonly Uint8Array[];
    }
  | {
      readonly kind: "mergeShard";
      readonly sourceShardId: number;
      readonly targetShardId: number;
      readonly targetEpoch: ShardEpoch;
    };

export interface ShardHeartbeatReply {
  /** What the leader should do next, if anything. */
  readonly step: ShardOperatorStep | null;
}

/** A shard with its current leader, as routing lookups return it. */
export interface ShardRoute {
  readonly shard: ShardMeta;
  /** The leader peer as last reported, or `null` if no leader has reported yet. */
  readonly leader: PeerMeta | null;
}

export interface GetShardByKeyRequest extends RequestWithHeader {
  readonly key: Uint8Array;
}

export interface GetShardByIdRequest extends RequestWithHeader {
  readonly shardId: number;
}

export interface ShardReply {
  readonly route: ShardRoute | null;
}

export interface ScanShardsRequest extends RequestWithHeader {
  /** Shards overlapping `[startKey, endKey)` (empty end: to the end), in key order. */
  readonly startKey: Uint8Array;
  readonly endKey: Uint8Array;
  /** 1..`limits.pdScanShardsMax`. */
  readonly limit: number;
}

export interface ScanShardsReply {
  readonly routes: readonly ShardRoute[];
}

export interface BootstrapRequest extends RequestWithHeader {
  /** The first store. */
  readonly store: StoreMeta;
  /** The first shard: must cover the whole key space (empty start and end keys). */
  readonly shard: ShardMeta;
}

export interface IsBootstrappedReply {
  readonly bootstrapped: boolean;
}

export interface UpdateGcSafePointRequest extends RequestWithHeader {
  readonly safePoint: Timestamp;
}

export interface GcSafePointReply {
  /** The safe point now in force (the old one when a lower one was proposed). */
  readonly safePoint: Timestamp;
}

export interface UpdateServiceSafePointRequest extends RequestWithHeader {
  /** Who holds it: `[A-Za-z0-9._-]`, at most 128 characters (`sql-…`, `dump-…`). */
  readonly serviceId: string;
  /**
   * GC keeps every version a read at this ts needs. Refused (`PD:GC:SafePointTooOld`)
   * below the GC safe point in force, whose data may be collected already.
   */
  readonly safePoint: Timestamp;
  /**
   * Milliseconds it holds, by PD's clock, 0..`limits.pdServiceSafePointTtlMsMax`; 0
   * removes the service's safe point. Expired ones are ignored.
   */
  readonly ttlMs: number;
}

export interface ServiceSafePointReply {
  /** The lowest unexpired service safe point after the request, or null when none. */
  readonly minSafePoint: Timestamp | null;
  /** The service that holds it (null with it). */
  readonly minServiceId: string | null;
}

export interface CampaignRequest extends RequestWithHeader {
  /** The election (`ddl-owner`, `gc-worker`, `deadlock-detector`). */
  readonly election: string;
  /** Who is campaigning (`host:port` of the candidate). */
  readonly candidate: string;
  /** The lease the owner holds; it must renew within it. */
  readonly ttlMs: number;
}

export interface CampaignReply {
  /** True when `candidate` is (still) the owner. */
  readonly elected: boolean;
  /** The current owner, if any. */
  readonly owner: string | null;
  /** Milliseconds the owner's lease has left, by PD's clock (0 when not elected). */
  readonly leaseMs: number;
}

export interface OwnerLeaseRequest extends RequestWithHeader {
  readonly election: string;
  readonly candidate: string;
}

export interface GetOwnerRequest extends RequestWithHeader {
  readonly election: string;
}

export interface GetOwnerReply {
  readonly owner: string | null;
}

// ---------------------------------------------------------------------------------------
// Validators for untrusted bodies.

/** Keys PD accepts in requests: the storage engine's bound. */
const keyBytesMax = limits.engineKeyBytesMax;

function malformed(path: string, why: string): never {
  throw new TesseraError(ErrorCode.PdRequestMalformed, `malformed PD request: ${path} ${why}`, {
    details: { field: path },
  });
}

function record(value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return malformed(path, "must be an object");
  }
  if (value instanceof Uint8Array) return malformed(path, "must be an object");
  return value as Record<string, unknown>;
}

function integer(value: unknown, path: string, min: number, max: number): number {
  if (typeof value === "bigint" && value >= BigInt(min) && value <= BigInt(max)) {
    return Number(value);
  }
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min || value > max) {
    return malformed(path, `must be an integer in [${min}, ${max}]`);
  }
  return value;
}

function nonNegativeNumber(value: unknown, path: string): number {
  if (typeof value === "bigint" && value >= 0n && value <= BigInt(Number.MAX_SAFE_INTEGER)) {
    return Number(value);
  }
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    return malformed(path, "must be a non-negative number");
  }
  return value;
}

function uint64(value: unknown, path: string): bigint {
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) {
    return BigInt(value);
  }
  if (typeof value !== "bigint" || value < 0n || value > 0xffff_ffff_ffff_ffffn) {
    return malformed(path, "must be an unsigned 64-bit integer");
  }
  return value;
}

function text(value: unknown, path: string, maxLength: number): string {
  if (typeof value !== "string" || value.length > maxLength) {
    return malformed(path, `must be a string of at most ${maxLength} characters`);
  }
  return value;
}

function bytes(value: unknown, path: string): Uint8Array {
  if (!(value instanceof Uint8Array) || value.length > keyBytesMax) {
    return malformed(path, `must be bytes, at most ${keyBytesMax}`);
  }
  return value;
}

function address(value: unknown, path: string): string {
  const s = text(value, path, 300);
  if (!/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9._-]+):\d{1,5}$/.test(s)) {
    return malformed(path, `must be host:port, got ${JSON.stringify(s)}`);
  }
  return s;
}

function id(value: unknown, path: string): number {
  return integer(value, path, 1, Number.MAX_SAFE_INTEGER);
}

function list<T>(
  value: unknown,
  path: string,
  max: number,
  item: (v: unknown, p: string) => T,
): T[] {
  if (!Array.isArray(value) || value.length > max) {
    return malformed(path, `must be a list of at most ${max} items`);
  }
  return value.map((v, i) => item(v, `${path}[${i}]`));
}

/** Checks the header every request carries. */
export function parseHeader(body: unknown): RequestHeader {
  const header = record(record(body, "body")["header"], "header");
  return { clusterId: uint64(header["clusterId"], "header.clusterId") };
}

/** A body that is only a header. */
export function parseRequestWithHeader(body: unknown): RequestWithHeader {
  return { header: parseHeader(body) };
}

export function parseTsoRequest(body: unknown): TsoRequest {
  const r = record(body, "body");
  return { count: integer(r["count"], "count", 1, limits.pdTsoBatchTimestampsMax) };
}

export function parseTsoUnaryRequest(body: unknown): TsoUnaryRequest {
  return { header: parseHeader(body), ...parseTsoRequest(body) };
}

export function parseAllocIdsRequest(body: unknown): AllocIdsRequest {
  const r = record(body, "body");
  const count = integer(r["count"], "count", 1, limits.pdIdAllocCountMax);
  return { header: parseHeader(body), count };
}

function parseLabels(value: unknown, path: string): Record<string, string> {
  const r = record(value, path);
  const entries = Object.entries(r);
  if (entries.length > 64) malformed(path, "has more than 64 labels");
  const out: Record<string, string> = {};
  for (const [k, v] of entries) {
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(k)) malformed(`${path}.${k}`, "is not a label name");
    out[k] = text(v, `${path}.${k}`, 256);
  }
  return out;
}

export function parseStoreMeta(value: unknown, path = "store"): StoreMeta {
  const r = record(value, path);
  const statusAddress = text(r["statusAddress"] ?? "", `${path}.statusAddress`, 300);
  if (statusAddress !== "") address(statusAddress, `${path}.statusAddress`);
  return {
    id: id(r["id"], `${path}.id`),
    address: address(r["address"], `${path}.address`),
    statusAddress,
    version: text(r["version"] ?? "", `${path}.version`, 64),
    labels: parseLabels(r["labels"] ?? {}, `${path}.labels`),
  };
}

export function parsePutStoreRequest(body: unknown): PutStoreRequest {
  return { header: parseHeader(body), store: parseStoreMeta(record(body, "body")["store"]) };
}

function parseStoreStats(value: unknown, path: string): StoreStats {
  const r = record(value, path);
  const n = (k: string): number => nonNegativeNumber(r[k] ?? 0, `${path}.${k}`);
  return {
    capacityBytes: n("capacityBytes"),
    availableBytes: n("availableBytes"),
    usedBytes: n("usedBytes"),
    shardCount: n("shardCount"),
    leaderCount: n("leaderCount"),
    readBytesPerSec: n("readBytesPerSec"),
    writeBytesPerSec: n("writeBytesPerSec"),
  };
}

export function parseStoreHeartbeatRequest(body: unknown): StoreHeartbeatRequest {
  const r = record(body, "body");
  return {
    header: parseHeader(body),
    storeId: id(r["storeId"], "storeId"),
    stats: parseStoreStats(r["stats"] ?? {}, "stats"),
  };
}

export function parseGetStoreRequest(body: unknown): GetStoreRequest {
  return { header: parseHeader(body), storeId: id(record(body, "body")["storeId"], "storeId") };
}

function parseEpoch(value: unknown, path: string): ShardEpoch {
  const r = record(value, path);
  return {
    confVersion: integer(r["confVersion"], `${path}.confVersion`, 0, Number.MAX_SAFE_INTEGER),
    version: integer(r["version"], `${path}.version`, 0, Number.MAX_SAFE_INTEGER),
  };
}

function parsePeer(value: unknown, path: string): PeerMeta {
  const r = record(value, path);
  const role = r["role"] ?? "voter";
  if (role !== "voter" && role !== "learner") malformed(`${path}.role`, "must be voter|learner");
  return {
    peerId: id(r["peerId"], `${path}.peerId`),
    storeId: id(r["storeId"], `${path}.storeId`),
    role,
  };
}

/** Checks a shard description: a non-empty range, distinct peers on distinct stores. */
export function parseShardMeta(value: unknown, path = "shard"): ShardMeta {
  const r = record(value, path);
  const startKey = bytes(r["startKey"], `${path}.startKey`);
  const endKey = bytes(r["endKey"], `${path}.endKey`);
  if (endKey.length > 0 && compareBytes(startKey, endKey) >= 0) {
    malformed(`${path}.endKey`, "must be above startKey (or empty)");
  }
  const peers = list(r["peers"], `${path}.peers`, 16, parsePeer);
  if (new Set(peers.map((p) => p.peerId)).size !== peers.length) {
    malformed(`${path}.peers`, "has a peer id twice");
  }
  if (new Set(peers.map((p) => p.storeId)).size !== peers.length) {
    malformed(`${path}.peers`, "has two peers on one store");
  }
  return {
    id: id(r["id"], `${path}.id`),
    startKey,
    endKey,
    epoch: parseEpoch(r["epoch"], `${path}.epoch`),
    peers,
  };
}

function parseShardStats(value: unknown, path: string): ShardStats {
  const r = record(value, path);
  const n = (k: string): number => nonNegativeNumber(r[k] ?? 0, `${path}.${k}`);
  return {
    approximateSizeBytes: n("approximateSizeBytes"),
    approximateKeys: n("approximateKeys"),
    readBytesPerSec: n("readBytesPerSec"),
    readKeysPerSec: n("readKeysPerSec"),
    writeBytesPerSec: n("writeBytesPerSec"),
    writeKeysPerSec: n("writeKeysPerSec"),
    queriesPerSec: n("queriesPerSec"),
  };
}

export function parseShardHeartbeatRequest(body: unknown): ShardHeartbeatRequest {
  const r = record(body, "body");
  const shard = parseShardMeta(r["shard"]);
  const leaderPeerId = id(r["leaderPeerId"], "leaderPeerId");
  if (!shard.peers.some((p) => p.peerId === leaderPeerId)) {
    malformed("leaderPeerId", "is not one of the shard's peers");
  }
  return {
    header: parseHeader(body),
    shard,
    leaderPeerId,
    pendingPeerIds: list(r["pendingPeerIds"] ?? [], "pendingPeerIds", 16, id),
    stats: parseShardStats(r["stats"] ?? {}, "stats"),
  };
}

export function parseGetShardByKeyRequest(body: unknown): GetShardByKeyRequest {
  return { header: parseHeader(body), key: bytes(record(body, "body")["key"], "key") };
}

export function parseGetShardByIdRequest(body: unknown): GetShardByIdRequest {
  return { header: parseHeader(body), shardId: id(record(body, "body")["shardId"], "shardId") };
}

export function parseScanShardsRequest(body: unknown): ScanShardsRequest {
  const r = record(body, "body");
  return {
    header: parseHeader(body),
    startKey: bytes(r["startKey"], "startKey"),
    endKey: bytes(r["endKey"] ?? new Uint8Array(0), "endKey"),
    limit: integer(r["limit"] ?? limits.pdScanShardsMax, "limit", 1, limits.pdScanShardsMax),
  };
}

export function parseBootstrapRequest(body: unknown): BootstrapRequest {
  const r = record(body, "body");
  const shard = parseShardMeta(r["shard"]);
  if (shard.startKey.length !== 0 || shard.endKey.length !== 0) {
    malformed("shard", "must cover the whole key space");
  }
  return { header: parseHeader(body), store: parseStoreMeta(r["store"]), shard };
}

export function parseUpdateGcSafePointRequest(body: unknown): UpdateGcSafePointRequest {
  const r = record(body, "body");
  const safePoint = uint64(r["safePoint"], "safePoint") as Timestamp;
  return { header: parseHeader(body), safePoint };
}

function electionName(value: unknown, path: string): string {
  const s = text(value, path, 128);
  if (!/^[A-Za-z0-9._-]+$/.test(s)) malformed(path, "must be a name of [A-Za-z0-9._-]");
  return s;
}

export function parseUpdateServiceSafePointRequest(
  body: unknown,
): UpdateServiceSafePointRequest {
  const r = record(body, "body");
  return {
    header: parseHeader(body),
    serviceId: electionName(r["serviceId"], "serviceId"),
    safePoint: uint64(r["safePoint"], "safePoint") as Timestamp,
    ttlMs: integer(r["ttlMs"], "ttlMs", 0, limits.pdServiceSafePointTtlMsMax),
  };
}

export function parseCampaignRequest(body: unknown): CampaignRequest {
  const r = record(body, "body");
  return {
    header: parseHeader(body),
    election: electionName(r["election"], "election"),
    candidate: text(r["candidate"], "candidate", 300),
    ttlMs: integer(r["ttlMs"], "ttlMs", 1_000, 600_000),
  };
}

export function parseOwnerLeaseRequest(body: unknown): OwnerLeaseRequest {
  const r = record(body, "body");
  return {
    header: parseHeader(body),
    election: electionName(r["election"], "election"),
    candidate: text(r["candidate"], "candidate", 300),
  };
}

export function parseGetOwnerRequest(body: unknown): GetOwnerRequest {
  return {
    header: parseHeader(body),
    election: electionName(record(body, "body")["election"], "election"),
  };
}
