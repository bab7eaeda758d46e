/**
 * The PD HTTP API as a pure router: `(method, path, query, body) → (status, JSON value)`.
 * The process (`cmd/pd.ts`) owns the HTTP server and only moves bytes; everything PD
 * answers is decided here, so it is tested without sockets.
 *
 * Routes (all JSON; keys in paths and queries are hex; timestamps and the cluster id are
 * decimal strings):
 * - `GET  /pd/api/v1/health` — this member: name, leader, serving.
 * - `GET  /pd/api/v1/members` — this member and the leader it knows.
 * - `GET  /pd/api/v1/cluster` — cluster id, bootstrap flag, counts, metadata store kind.
 * - `GET  /pd/api/v1/config` — the scheduler config; `PUT` (or `POST`) a JSON object of
 *   the settings to change (`{"maxStoreDownTimeMs": 600000, "scheduleLimits": {"merge": 0}}`).
 * - `GET  /pd/api/v1/schedulers` — every scheduler and whether it runs;
 *   `POST /pd/api/v1/schedulers/{name}` enables one, `DELETE` disables it.
 * - `GET  /pd/api/v1/operators` — operators in flight; `POST` adds one by hand:
 *   `{"kind":"transferLeader","shardId":N,"toStoreId":M}` or
 *   `{"kind":"split","shardId":N,"keys":["hex",…]}` (no keys: split at the middle).
 * - `GET  /pd/api/v1/stores`, `GET /pd/api/v1/stores/{id}`.
 * - `POST /pd/api/v1/stores/{id}/state` `{"state":"offline"|"up"|"tombstone"}`.
 * - `GET  /pd/api/v1/shards?start=&end=&limit=`, `GET /pd/api/v1/shards/{id}`,
 *   `GET /pd/api/v1/shards/key/{hex}`.
 * - `GET  /pd/api/v1/tso` — a fresh timestamp; `GET /pd/api/v1/tso/decode/{ts}`.
 * - `GET  /pd/api/v1/gc/safepoint`.
 * Errors: 400 for malformed input (`PD:Request:Malformed`, bad JSON, a config out of
 * range, a bad split key), 404 for unknown routes and objects, 405 for a wrong method,
 * 409 for a refused operation (an operator the controller rejects), 503 on a follower
 * (with the leader's address), each as `{ "error": message, "code": code }`.
 */
import {
  ErrorCode,
  TesseraError,
  asTimestamp,
  decomposeTimestamp,
  describeError,
  formatTimestamp,
  limits,
} from "../../base/mod.ts";
import type { ShardRoute, StoreStoredState } from "../../proto/mod.ts";
import { describeStep } from "../schedule/operator.ts";
import type { Operator } from "../schedule/types.ts";
import type { PdServer } from "./pd_server.ts";
import type { ManualOperatorSpec } from "./scheduling.ts";

/** One HTTP request as the router sees it. */
export interface HttpApiRequest {
  readonly method: string;
  /** The path without the query string. */
  readonly path: string;
  readonly query: ReadonlyMap<string, string>;
  /** The body as text ("" for none). */
  readonly body: string;
}

export interface HttpApiResponse {
  readonly status: number;
  /** A JSON-encodable value (no bigints, no byte arrays). */
  readonly json: unknown;
}

const prefix = "/pd/api/v1";

function fail(status: number, code: string, message: string): HttpApiResponse {
  return { status, json: { error: message, code } };
}

function bad(message: string): TesseraError {
  return new TesseraError(ErrorCode.PdRequestMalformed, message);
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("hex");
}

function fromHex(text: string, what: string): Uint8Array {
  if (!/^([0-9a-fA-F]{2})*$/.test(text) || text.length / 2 > limits.engineKeyBytesMax) {
    throw bad(`${what} must be hex bytes`);
  }
  return Uint8Array.from(Buffer.from(text, "hex"));
}

function positiveInt(text: string | undefined, what: string): number {
  const n = Number(text);
  if (text === undefined || !/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < 1) {
    throw bad(`${what} must be a positive integer`);
  }
  return n;
}

function routeJson(route: ShardRoute | null): unknown {
  if (route === null) return null;
  const { shard, leader } = route;
  return {
    id: shard.id,
    startKey: hex(shard.startKey),
    endKey: hex(shard.endKey),
    epoch: shard.epoch,
    peers: shard.peers,
    leader,
  };
}

/** Answers one request; never throws. */
export async function handlePdHttp(
  pd: PdServer,
  request: HttpApiRequest,
): Promise<HttpApiResponse> {
  try {
    return await dispatch(pd, request);
  } catch (error) {
    if (error instanceof TesseraError) {
      switch (error.code) {
        case ErrorCode.PdRequestMalformed:
        case ErrorCode.PdScheduleConfigInvalid:
        case ErrorCode.PdScheduleBadSplitKey:
          return fail(400, error.code, error.message);
        case ErrorCode.PdStoreUnknown:
        case ErrorCode.PdShardUnknown:
        case ErrorCode.PdSchedulerUnknown:
          return fail(404, error.code, error.message);
        case ErrorCode.PdNotLeader:
          return {
            status: 503,
            json: { error: error.message, code: error.code, leader: pd.leader?.address ?? null },
          };
        default:
          return fail(409, error.code, error.message);
      }
    }
    return fail(500, ErrorCode.RpcRemoteError, describeError(error));
  }
}

async function dispatch(pd: PdServer, request: HttpApiRequest): Promise<HttpApiResponse> {
  const path = request.path.replace(/\/+$/, "");
  if (!path.startsWith(`${prefix}/`)) return fail(404, "NotFound", `no route ${request.path}`);
  const parts = path.slice(prefix.length + 1).split("/");
  const get = request.method === "GET" || request.method === "HEAD";
  const ok = (json: unknown): HttpApiResponse => ({ status: 200, json });
  const wrongMethod = (): HttpApiResponse =>
    fail(405, "MethodNotAllowed", `${request.method} not allowed on ${path}`);
  const [head, second, third, fourth] = parts;
  switch (head) {
    case "health":
      if (!get) return wrongMethod();
      return ok({
        name: pd.name,
        leader: pd.leader?.name ?? null,
        isLeader: pd.isLeader,
        status: pd.isLeader || pd.leader !== undefined ? "ok" : "no-leader",
      });
    case "members":
      if (!get) return wrongMethod();
      return ok({ self: pd.self, leader: pd.leader ?? null, clusterId: String(pd.clusterId) });
    case "cluster": {
      if (!get) return wrongMethod();
      const cluster = pd.leaderCluster();
      return ok({
        clusterId: String(pd.clusterId),
        bootstrapped: cluster.isBootstrapped,
        stores: cluster.storeCount,
        shards: cluster.shardCount,
        metaStore: pd.metaStoreKind,
      });
    }
    case "config":
      if (second !== undefined) break;
      if (get) return ok(pd.schedulerConfig);
      if (request.method !== "PUT" && request.method !== "POST") return wrongMethod();
      return ok(await pd.updateSchedulerConfig(parseJson(request.body)));
    case "schedulers":
      if (second === undefined) {
        return get ? ok({ schedulers: pd.schedulerList() }) : wrongMethod();
      }
      if (third !== undefined) break;
      if (request.method !== "POST" && request.method !== "DELETE") return wrongMethod();
      await pd.setSchedulerEnabled(second, request.method === "POST");
      return ok({ schedulers: pd.schedulerList() });
    case "operators": {
      if (second !== undefined) break;
      if (get) {
        const { running, nowMs } = pd.operators();
        return ok({
          operators: running.map((r) => ({
            ...operatorJson(r.operator, nowMs),
            stepIndex: r.stepIndex,
          })),
        });
      }
      if (request.method !== "POST") return wrongMethod();
      const operator = pd.addOperator(parseOperatorBody(request.body));
      return ok(operatorJson(operator, operator.createdAtMs));
    }
    case "stores": {
      const cluster = pd.leaderCluster();
      if (second === undefined) return get ? ok({ stores: cluster.allStores() }) : wrongMethod();
      const storeId = positiveInt(second, "store id");
      if (third === undefined) return get ? ok(cluster.getStore(storeId)) : wrongMethod();
      if (third === "state" && fourth === undefined) {
        if (request.method !== "POST") return wrongMethod();
        const state = parseStateBody(request.body);
        await cluster.setStoreState(storeId, state);
        return ok(cluster.getStore(storeId));
      }
      break;
    }
    case "shards": {
      if (!get) return wrongMethod();
      const cluster = pd.leaderCluster();
      if (second === undefined) {
        const start = fromHex(request.query.get("start") ?? "", "start");
        const end = fromHex(request.query.get("end") ?? "", "end");
        const limitText = request.query.get("limit");
        const limit = Math.min(
          limitText === undefined ? 1000 : positiveInt(limitText, "limit"),
          limits.pdScanShardsMax,
        );
        return ok({ shards: cluster.scanShards(start, end, limit).map(routeJson) });
      }
      if (second === "key" && third !== undefined && fourth === undefined) {
        const route = cluster.getShardByKey(fromHex(third, "key"));
        if (route === null) return fail(404, ErrorCode.PdShardUnknown, "no shard covers the key");
        return ok(routeJson(route));
      }
      if (third === undefined) {
        const route = cluster.getShardById(positiveInt(second, "shard id"));
        if (route === null) return fail(404, ErrorCode.PdShardUnknown, `no shard ${second}`);
        return ok(routeJson(route));
      }
      break;
    }
    case "tso": {
      if (!get) return wrongMethod();
      if (second === undefined) {
        const { firstTs } = await pd.getTimestamps(1);
        return ok(decodeTs(firstTs));
      }
      if (second === "decode" && third !== undefined && fourth === undefined) {
        if (!/^\d{1,20}$/.test(third)) throw bad("timestamp must be a decimal integer");
        let ts;
        try {
          ts = asTimestamp(BigInt(third));
        } catch {
          throw bad("timestamp must fit in 64 bits");
        }
        return ok(decodeTs(ts));
      }
      break;
    }
    case "gc":
      if (second === "safepoint" && third === undefined) {
        if (!get) return wrongMethod();
        return ok(decodeTs(asTimestamp(pd.leaderCluster().gcSafePointTs)));
      }
      break;
    default:
      break;
  }
  return fail(404, "NotFound", `no route ${request.path}`);
}

function decodeTs(ts: bigint): unknown {
  const timestamp = asTimestamp(ts);
  const { physicalMs, logical } = decomposeTimestamp(timestamp);
  return { ts: String(ts), physicalMs, logical, time: formatTimestamp(timestamp) };
}

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body) as unknown;
  } catch (error) {
    throw bad(`body is not JSON: ${describeError(error)}`);
  }
}

function operatorJson(op: Operator, nowMs: number): Record<string, unknown> {
  return {
    id: op.id,
    shardId: op.shardId,
    kind: op.kind,
    description: op.description,
    priority: op.priority,
    ageMs: nowMs - op.createdAtMs,
    timeoutMs: op.timeoutMs,
    epoch: op.epoch,
    steps: op.steps.map(describeStep),
  };
}

function parseOperatorBody(body: string): ManualOperatorSpec {
  const parsed = parseJson(body);
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw bad("body must be a JSON object");
  }
  const r = parsed as Record<string, unknown>;
  const int = (key: string): number => {
    const v = r[key];
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 1) {
      throw bad(`${key} must be a positive integer`);
    }
    return v;
  };
  switch (r["kind"]) {
    case "transferLeader":
      return { kind: "transferLeader", shardId: int("shardId"), toStoreId: int("toStoreId") };
    case "split": {
      const keys = r["keys"] ?? [];
      if (!Array.isArray(keys) || keys.length > limits.pdOperatorSplitKeysMax) {
        throw bad(`keys must be a list of at most ${limits.pdOperatorSplitKeysMax} hex keys`);
      }
      const decoded = keys.map((k: unknown, i) => {
        if (typeof k !== "string") throw bad(`keys[${i}] must be a hex string`);
        return fromHex(k, `keys[${i}]`);
      });
      return {
        kind: "split",
        shardId: int("shardId"),
        policy: decoded.length === 0 ? "approximate" : "byKeys",
        keys: decoded,
      };
    }
    default:
      throw bad('kind must be "transferLeader" or "split"');
  }
}

function parseStateBody(body: string): StoreStoredState {
  const parsed = parseJson(body);
  const state = (parsed as { state?: unknown } | null)?.state;
  if (state !== "up" && state !== "offline" && state !== "tombstone") {
    throw bad('body must be {"state": "up" | "offline" | "tombstone"}');
  }
  return state;
}
