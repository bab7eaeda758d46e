/**
 * `EtcdMetaStore`: the `MetaStore` of a highly available PD, on a real etcd cluster through
 * the `etcd3` client (gRPC). Each method maps onto one etcd v3 request — range, put,
 * delete-range, txn, lease grant / keepalive / revoke, watch — so revisions, transactions,
 * leases and watches have etcd's own semantics; the conformance suite checks that the
 * embedded store matches them. Keys are namespaced under `options.namespace`.
 *
 * This file is the one place in `pd` that reaches the network other than through `Env`:
 * etcd's client library owns its gRPC connections. Time still comes from the `Env` (call
 * deadlines). Every unary call has a deadline (`callTimeoutMs`), so a partitioned etcd
 * fails calls with `PD:Meta:Unavailable` (ambiguous for writes) rather than hanging them.
 */
import { Etcd3, type IKeyValue, type IRequestOp, type ICompare, type Watcher } from "etcd3";
import { ErrorCode, TesseraError, describeError, limits } from "../../base/mod.ts";
import type { Env } from "../../env/mod.ts";
import type {
  LeaseId,
  MetaCompare,
  MetaKeyValue,
  MetaLease,
  MetaOp,
  MetaRange,
  MetaStore,
  MetaTxn,
  MetaTxnResult,
  MetaWatch,
  MetaWatchEvent,
} from "./meta_store.ts";

export interface EtcdMetaStoreOptions {
  /** Client URLs of the etcd members (`http://127.0.0.1:12379`). */
  readonly endpoints: readonly string[];
  /** Prefix of every key this store reads and writes ("" for none). */
  readonly namespace?: string;
  /** Deadline of each unary call (default 5 s). */
  readonly callTimeoutMs?: number;
}

const targets = {
  createRevision: "Create",
  modRevision: "Mod",
  version: "Version",
  value: "Value",
} as const;
const results = { "=": "Equal", "!=": "NotEqual", "<": "Less", ">": "Greater" } as const;

function unavailable(what: string, error: unknown, ambiguous: boolean): TesseraError {
  if (error instanceof TesseraError) return error;
  return new TesseraError(
    ErrorCode.PdMetaUnavailable,
    `etcd ${what} failed: ${describeError(error)}`,
    {
      cause: error,
      ambiguous,
    },
  );
}

function isLeaseNotFound(error: unknown): boolean {
  return error instanceof Error && /lease not found/i.test(error.message);
}

/** The etcd-backed store. */
export class EtcdMetaStore implements MetaStore {
  readonly kind = "etcd";
  private readonly env: Pick<Env, "clock">;
  private readonly client: Etcd3;
  private readonly namespace: string;
  private readonly callTimeoutMs: number;
  private readonly watchers = new Set<Watcher>();
  private closed = false;

  constructor(env: Pick<Env, "clock">, options: EtcdMetaStoreOptions) {
    this.env = env;
    this.namespace = options.namespace ?? "";
    this.callTimeoutMs = options.callTimeoutMs ?? 5_000;
    this.client = new Etcd3({
      hosts: [...options.endpoints],
      dialTimeout: this.callTimeoutMs,
    });
  }

  private callOptions(): { deadline: Date } {
    return { deadline: new Date(this.env.clock.wallMs() + this.callTimeoutMs) };
  }

  private k(key: string): Buffer {
    return Buffer.from(this.namespace + key);
  }

  private kv(raw: IKeyValue): MetaKeyValue {
    return {
      key: raw.key.toString().slice(this.namespace.length),
      value: new Uint8Array(raw.value),
      createRevision: Number(raw.create_revision),
      modRevision: Number(raw.mod_revision),
      version: Number(raw.version),
      leaseId: raw.lease === "" ? "0" : String(raw.lease),
    };
  }

  private check(): void {
    if (this.closed) throw new TesseraError(ErrorCode.PdMetaClosed, "metadata store is closed");
  }

  async get(key: string): Promise<MetaKeyValue | undefined> {
    this.check();
    try {
      const reply = await this.client.kv.range({ key: this.k(key) }, this.callOptions());
      const raw = reply.kvs[0];
      return raw === undefined ? undefined : this.kv(raw);
    } catch (error) {
      throw unavailable("get", error, false);
    }
  }

  async range(range: MetaRange): Promise<MetaKeyValue[]> {
    this.check();
    const limit = Math.min(range.limit ?? limits.pdMetaRangeKeysMax, limits.pdMetaRangeKeysMax);
    // An empty end means "to the end of this namespace".
    const end = range.end === "" ? this.namespaceEnd() : this.k(range.end);
    try {
      const reply = await this.client.kv.range(
        {
          key: this.k(range.start),
          range_end: end,
          limit,
          sort_order: "Ascend",
          sort_target: "Key",
        },
        this.callOptions(),
      );
      return reply.kvs.map((raw) => this.kv(raw));
    } catch (error) {
      throw unavailable("range", error, false);
    }
  }

  async put(key: string, value: Uint8Array, options: { leaseId?: LeaseId } = {}): Promise<number> {
    const result = await this.txn({
      compare: [],
      success: [{ kind: "put", key, value, ...options }],
    });
    return result.revision;
  }

  async delete(key: string): Promise<boolean> {
    this.check();
    try {
      const reply = await this.client.kv.deleteRange({ key: this.k(key) }, this.callOptions());
      return Number(reply.deleted) > 0;
    } catch (error) {
      throw unavailable("delete", error, true);
    }
  }

  async txn(txn: MetaTxn): Promise<MetaTxnResult> {
    this.check();
    for (const op of [...txn.success, ...(txn.failure ?? [])]) {
      if (op.kind === "put" && op.value.length > limits.pdMetaValueBytesMax) {
        throw new TesseraError(ErrorCode.PdMetaValueTooLarge, `value of ${op.key} is too large`, {
          details: { bytes: op.value.length, limit: limits.pdMetaValueBytesMax },
        });
      }
    }
    try {
      const reply = await this.client.kv.txn(
        {
          compare: txn.compare.map((c) => this.compare(c)),
          success: txn.success.map((op) => this.op(op)),
          failure: (txn.failure ?? []).map((op) => this.op(op)),
        },
        this.callOptions(),
      );
      const gets: (MetaKeyValue | undefined)[] = [];
      for (const response of reply.responses) {
        if (response.response_range !== undefined && response.response_range !== null) {
          const raw = response.response_range.kvs[0];
          gets.push(raw === undefined ? undefined : this.kv(raw));
        }
      }
      return { succeeded: reply.succeeded, revision: Number(reply.header.revision), gets };
    } catch (error) {
      if (isLeaseNotFound(error)) {
        throw new TesseraError(ErrorCode.PdMetaLeaseNotFound, "lease not found", { cause: error });
      }
      throw unavailable("txn", error, true);
    }
  }

  private compare(c: MetaCompare): ICompare {
    const base = { key: this.k(c.key), target: targets[c.target], result: results[c.op] };
    switch (c.target) {
      case "value":
        return { ...base, value: Buffer.from(c.operand) };
      case "createRevision":
        return { ...base, create_revision: c.operand };
      case "modRevision":
        return { ...base, mod_revision: c.operand };
      case "version":
        return { ...base, version: c.operand };
    }
  }

  private op(op: MetaOp): IRequestOp {
    switch (op.kind) {
      case "put":
        return {
          request_put: {
            key: this.k(op.key),
            value: Buffer.from(op.value),
            lease: op.leaseId ?? "0",
          },
        };
      case "delete":
        return { request_delete_range: { key: this.k(op.key) } };
      case "get":
        return { request_range: { key: this.k(op.key) } };
    }
  }

  async grantLease(ttlMs: number): Promise<MetaLease> {
    this.check();
    try {
      const reply = await this.client.leaseClient.leaseGrant(
        { TTL: Math.max(1, Math.ceil(ttlMs / 1000)) },
        this.callOptions(),
      );
      return { leaseId: String(reply.ID), ttlMs: Number(reply.TTL) * 1000 };
    } catch (error) {
      throw unavailable("lease grant", error, true);
    }
  }

  async keepAlive(leaseId: LeaseId): Promise<MetaLease> {
    this.check();
    let stream: Awaited<ReturnType<typeof this.client.leaseClient.leaseKeepAlive>>;
    try {
      stream = await this.client.leaseClient.leaseKeepAlive(this.callOptions());
    } catch (error) {
      throw unavailable("lease keepalive", error, false);
    }
    try {
      const ttlSeconds = await new Promise<number>((resolve, reject) => {
        stream.on("data", (reply) => resolve(Number(reply.TTL)));
        stream.on("error", reject);
        stream.on("end", () => reject(new Error("keepalive stream ended")));
        stream.write({ ID: leaseId });
      });
      if (ttlSeconds <= 0) {
        throw new TesseraError(ErrorCode.PdMetaLeaseNotFound, `lease ${leaseId} not found`);
      }
      return { leaseId, ttlMs: ttlSeconds * 1000 };
    } catch (error) {
      throw unavailable("lease keepalive", error, false);
    } finally {
      stream.cancel();
    }
  }

  async revokeLease(leaseId: LeaseId): Promise<void> {
    this.check();
    try {
      await this.client.leaseClient.leaseRevoke({ ID: leaseId }, this.callOptions());
    } catch (error) {
      if (isLeaseNotFound(error)) return;
      throw unavailable("lease revoke", error, true);
    }
  }

  async watch(
    prefix: string,
    listener: (events: readonly MetaWatchEvent[]) => void,
  ): Promise<MetaWatch> {
    this.check();
    if (this.watchers.size >= limits.pdMetaWatchersMax) {
      throw new TesseraError(ErrorCode.PdMetaWatchersFull, "too many watches", {
        details: { limit: limits.pdMetaWatchersMax },
      });
    }
    let watcher: Watcher;
    try {
      watcher = await this.client
        .watch()
        .prefix(this.namespace + prefix)
        .create();
    } catch (error) {
      throw unavailable("watch", error, false);
    }
    this.watchers.add(watcher);
    watcher.on("data", (response) => {
      const events = response.events.map((event): MetaWatchEvent => ({
        kind: event.type === "Put" ? "put" : "delete",
        key: event.kv.key.toString().slice(this.namespace.length),
        value: event.type === "Put" ? new Uint8Array(event.kv.value) : new Uint8Array(0),
        modRevision: Number(event.kv.mod_revision),
      }));
      if (events.length > 0) listener(events);
    });
    // The client reconnects a broken watch by itself, resuming after the last revision.
    watcher.on("error", () => undefined);
    return {
      cancel: async () => {
        if (!this.watchers.delete(watcher)) return;
        await watcher.cancel();
      },
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const watcher of [...this.watchers]) await watcher.cancel().catch(() => undefined);
    this.watchers.clear();
    this.client.close();
  }

  private namespaceEnd(): Buffer {
    if (this.namespace === "") return Buffer.from([0]);
    const bytes = Buffer.from(this.namespace);
    for (let i = bytes.length - 1; i >= 0; i--) {
      if ((bytes[i] as number) < 0xff) {
        const end = Buffer.from(bytes.subarray(0, i + 1));
        end[i] = (bytes[i] as number) + 1;
        return end;
      }
    }
    return Buffer.from([0]);
  }
}
