/**
 * Raft messages between stores over `src/rpc`. Each flush of a store's outbox for one
 * destination store becomes one unary `raft.Batch` call (TiKV's batched raft messages per
 * store pair; the RPC client multiplexes them on one connection). A snapshot message,
 * which carries the shard's data, goes on its own bidirectional `raft.Snapshot` stream in
 * chunks of at most `chunkBytes` (flow-controlled by the stream), and is handed to the
 * receiving store whole once the last chunk arrived. Failures are logged and dropped:
 * Raft retries (a lost snapshot is sent again after the follower keeps rejecting); the
 * host hears of each (`onUnreachable`) so it can wake groups and refresh the address.
 */
import { ErrorCode, TesseraError, describeError } from "../../base/mod.ts";
import {
  RpcClient,
  type RpcEnv,
  type RpcLogger,
  type RpcServer,
} from "../../rpc/mod.ts";
import { type RaftEnvelope, decode, encode } from "../shard/codec.ts";
import type { RaftReceiver, RaftTransport } from "./raft_transport.ts";

/** RPC method names of the Raft service between stores. */
export const RaftMethod = {
  /** Unary: `{ envelopes: Uint8Array }` (msgpack of `RaftEnvelope[]`) → `{}`. */
  batch: "raft.Batch",
  /** Bidi stream: messages `{ chunk: Uint8Array }`, then end; reply `{ ok: true }`. */
  snapshot: "raft.Snapshot",
} as const;

/** Default chunk size of a streamed snapshot: well below the RPC frame limit. */
export const snapshotChunkBytes = 1024 * 1024;
/** Largest snapshot a store accepts, so a bad peer cannot exhaust memory. */
export const snapshotBytesMax = 1024 * 1024 * 1024;

export interface RpcRaftTransportOptions {
  readonly logger: RpcLogger;
  /** The RPC address of a store, or `undefined` while unknown (messages are dropped). */
  readonly addressOf: (storeId: number) => { host: string; port: number } | undefined;
  readonly chunkBytes?: number;
  /**
   * A call to `storeId` failed (connection refused or lost, deadline): the host wakes the
   * groups with a peer there and refreshes the store's address.
   */
  readonly onUnreachable?: (storeId: number) => void;
}

/** Sends batches and snapshots to other stores' `raft.*` services. */
export class RpcRaftTransport implements RaftTransport {
  private readonly env: RpcEnv;
  private readonly options: RpcRaftTransportOptions;
  private readonly clients = new Map<number, { key: string; client: RpcClient }>();
  private closed = false;
  /** Calls that failed (logged and dropped). */
  failures = 0;

  constructor(env: RpcEnv, options: RpcRaftTransportOptions) {
    this.env = env;
    this.options = options;
  }

  send(toStoreId: number, envelopes: readonly RaftEnvelope[]): void {
    if (this.closed) return;
    // Fault points (simulation only): Raft must survive lost, duplicated and late batches.
    const buggify = this.env.buggify;
    if (buggify !== undefined) {
      if (buggify("raft.transport.dropBatch")) return;
      if (buggify("raft.transport.duplicateBatch")) this.sendNow(toStoreId, envelopes);
      if (buggify("raft.transport.delayBatch")) {
        this.env.timers.setTimeout(30, () => this.sendNow(toStoreId, envelopes));
        return;
      }
    }
    this.sendNow(toStoreId, envelopes);
  }

  private sendNow(toStoreId: number, envelopes: readonly RaftEnvelope[]): void {
    if (this.closed) return;
    const client = this.client(toStoreId);
    if (client === undefined) return;
    const plain = envelopes.filter((e) => e.message.kind !== "snapshot");
    if (plain.length > 0) {
      client.call(RaftMethod.batch, { envelopes: encode(plain) }).catch((error: unknown) => {
        this.failed(toStoreId, error);
      });
    }
    for (const envelope of envelopes) {
      if (envelope.message.kind === "snapshot") {
        this.sendSnapshot(client, envelope).catch((error: unknown) => {
          this.failed(toStoreId, error);
        });
      }
    }
  }

  private async sendSnapshot(client: RpcClient, envelope: RaftEnvelope): Promise<void> {
    const bytes = encode(envelope);
    const chunk = this.options.chunkBytes ?? snapshotChunkBytes;
    const stream = client.openBidiStream(RaftMethod.snapshot, { bytes: bytes.length });
    for (let offset = 0; offset < bytes.length; offset += chunk) {
      await stream.send({ chunk: bytes.subarray(offset, offset + chunk) });
    }
    stream.end();
    for await (const reply of stream) {
      if ((reply as { ok?: unknown }).ok === true) return;
    }
  }

  private client(storeId: number): RpcClient | undefined {
    const address = this.options.addressOf(storeId);
    if (address === undefined) return undefined;
    const key = `${address.host}:${address.port}`;
    const cached = this.clients.get(storeId);
    if (cached !== undefined && cached.key === key) return cached.client;
    if (cached !== undefined) void cached.client.close();
    const client = new RpcClient(this.env, { ...address, logger: this.options.logger });
    this.clients.set(storeId, { key, client });
    return client;
  }

  private failed(storeId: number, error: unknown): void {
    this.failures++;
    if (this.closed) return;
    const fields = { storeId, error: describeError(error) };
    this.options.logger.warn(fields, "raft message not delivered");
    this.options.onUnreachable?.(storeId);
  }

  async close(): Promise<void> {
    this.closed = true;
    const clients = [...this.clients.values()];
    this.clients.clear();
    for (const { client } of clients) await client.close();
  }
}

function malformed(what: string): TesseraError {
  return new TesseraError(ErrorCode.KvRequestMalformed, `raft service: ${what}`);
}

/** Serves `raft.Batch` and `raft.Snapshot` on `server`, handing envelopes to `receive`. */
export function serveRaft(server: RpcServer, receive: RaftReceiver): void {
  server.handleUnary(RaftMethod.batch, (body) => {
    const bytes = (body as { envelopes?: unknown } | null)?.envelopes;
    if (!(bytes instanceof Uint8Array)) return Promise.reject(malformed("envelopes missing"));
    receive(decode<RaftEnvelope[]>(bytes));
    return Promise.resolve({});
  });
  server.handleBidiStream(RaftMethod.snapshot, async (body, stream) => {
    const total = (body as { bytes?: unknown } | null)?.bytes;
    if (typeof total !== "number" || !Number.isSafeInteger(total) || total < 0 ||
      total > snapshotBytesMax) {
      throw malformed("bad snapshot size");
    }
    const bytes = new Uint8Array(total);
    let offset = 0;
    for await (const message of stream) {
      const chunk = (message as { chunk?: unknown } | null)?.chunk;
      if (!(chunk instanceof Uint8Array) || offset + chunk.length > total) {
        throw malformed("bad snapshot chunk");
      }
      bytes.set(chunk, offset);
      offset += chunk.length;
    }
    if (offset !== total) throw malformed("truncated snapshot");
    receive([decode<RaftEnvelope>(bytes)]);
    await stream.send({ ok: true });
  });
}
