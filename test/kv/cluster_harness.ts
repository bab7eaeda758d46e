/**
 * Test and benchmark support: a real cluster on loopback — an in-process PD (embedded
 * metadata store, 127.0.0.1 port 0, fast scheduling) and `tessera kv` child processes —
 * plus a small KV router that sends each request to the leader of the key's shard as PD
 * reports it, retrying routing errors and dead stores with a bound.
 *
 * Children run `process.execPath bin/tessera.js kv …` in their own process group
 * (`detached`); `LoopbackCluster.close()` kills every group still running, so callers
 * put it in `after()` and nothing outlives a failed test. Waiting is on conditions with
 * generous deadlines, never on fixed sleeps.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Timestamp } from "../../src/base/mod.ts";
import { PdClient } from "../../src/client/mod.ts";
import { createNodeEnv } from "../../src/env/mod.ts";
import {
  EmbeddedMetaStore,
  PdServer,
  type SchedulerConfig,
  silentPdLogger,
} from "../../src/pd/mod.ts";
import {
  type CommitReply,
  type GetReply,
  KvMethod,
  type KvReply,
  type PrewriteReply,
  type ShardRoute,
} from "../../src/proto/mod.ts";
import { RpcClient, type RpcLogger } from "../../src/rpc/mod.ts";

const launcher = join(import.meta.dirname, "..", "..", "bin", "tessera.js");
export const env = createNodeEnv();
const quiet: RpcLogger = { warn: () => undefined, error: () => undefined };

/** Longest wait for any condition: generous, so a loaded machine passes. */
export const conditionDeadlineMs = 60_000;

/** Polls `probe` until it returns a value (not `undefined`) or the deadline passes. */
export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  options: { readonly deadlineMs?: number } = {},
): Promise<T> {
  const deadline = performance.now() + (options.deadlineMs ?? conditionDeadlineMs);
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** What a KV node prints once serving. */
export interface Serving {
  readonly storeId: number;
  readonly rpc: string;
  readonly status: string;
  readonly clusterId: string;
}

/** One running `tessera kv` child. */
export class KvNode {
  readonly dataDir: string;
  readonly process: ChildProcess;
  readonly serving: Promise<Serving>;
  readonly exited: Promise<{ code: number | null; signal: string | null }>;
  private stderrText = "";

  constructor(args: readonly string[], dataDir: string) {
    this.dataDir = dataDir;
    this.process = spawn(process.execPath, [launcher, ...args], {
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.exited = new Promise((resolve) => {
      this.process.once("close", (code, signal) => resolve({ code, signal }));
    });
    this.process.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
      this.stderrText = (this.stderrText + chunk).slice(-20_000);
    });
    let stdout = "";
    this.serving = new Promise((resolve, reject) => {
      this.process.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
        stdout += chunk;
        const line = stdout.split("\n").find((l) => l.includes('"storeId"'));
        if (line !== undefined) resolve(JSON.parse(line) as Serving);
      });
      void this.exited.then((exit) => {
        reject(new Error(`kv node exited (${JSON.stringify(exit)}):\n${this.stderrText}`));
      });
    });
    this.serving.catch(() => undefined);
  }

  stderr(): string {
    return this.stderrText;
  }

  /** Sends `signal` to the node's whole process group (no-op once it is gone). */
  kill(signal: NodeJS.Signals): void {
    const pid = this.process.pid;
    if (pid === undefined || this.process.exitCode !== null || this.process.signalCode !== null) {
      return;
    }
    try {
      process.kill(-pid, signal);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
    }
  }
}

/** Options of `LoopbackCluster.start`. */
export interface LoopbackClusterOptions {
  /** Scheduler settings over PD's defaults. */
  readonly schedulerConfig?: Partial<SchedulerConfig>;
  readonly scheduleIntervalMs?: number;
  /** Extra flags for every KV node. */
  readonly kvFlags?: readonly string[];
  readonly logLevel?: string;
}

/** An in-process PD and KV child processes in a temporary directory. */
export class LoopbackCluster {
  readonly root: string;
  readonly pd: PdServer;
  readonly pdAddress: string;
  readonly pdClient: PdClient;
  readonly nodes: KvNode[] = [];
  private readonly meta: EmbeddedMetaStore;
  private readonly options: LoopbackClusterOptions;

  private constructor(
    parts: { root: string; pd: PdServer; meta: EmbeddedMetaStore },
    options: LoopbackClusterOptions,
  ) {
    this.root = parts.root;
    this.pd = parts.pd;
    this.meta = parts.meta;
    this.options = options;
    this.pdAddress = `${parts.pd.address.host}:${parts.pd.address.port}`;
    this.pdClient = new PdClient(env, { endpoints: [this.pdAddress], logger: quiet });
  }

  static async start(options: LoopbackClusterOptions = {}): Promise<LoopbackCluster> {
    const root = mkdtempSync(join(tmpdir(), "tessera-kv-cluster-"));
    const meta = await EmbeddedMetaStore.open(env, { dir: join(root, "pd") });
    const pd = await PdServer.start(env, {
      name: "pd-1",
      host: "127.0.0.1",
      port: 0,
      store: meta,
      logger: silentPdLogger,
      leaseTtlMs: 1_000,
      scheduleIntervalMs: options.scheduleIntervalMs ?? 100,
      ...(options.schedulerConfig === undefined
        ? {}
        : { schedulerConfig: options.schedulerConfig }),
    });
    const cluster = new LoopbackCluster({ root, pd, meta }, options);
    await waitFor("PD leadership", () => (pd.isLeader ? true : undefined));
    return cluster;
  }

  /** Starts a KV node on `dataDir` (`kv-N` under the root by default). */
  startNode(options: { readonly dataDir?: string; readonly addr?: string } = {}): KvNode {
    const dataDir = options.dataDir ?? join(this.root, `kv-${this.nodes.length + 1}`);
    const node = new KvNode(
      [
        "kv", "--pd", this.pdAddress, "--addr", options.addr ?? "127.0.0.1:0",
        "--status-addr", "127.0.0.1:0", "--data-dir", dataDir,
        "--log-level", this.options.logLevel ?? "warn",
        ...(this.options.kvFlags ?? []),
      ],
      dataDir,
    );
    this.nodes.push(node);
    return node;
  }

  /** The shard holding `key` as PD's leader knows it now (no cache). */
  route(key: Uint8Array): ShardRoute | null {
    return this.pd.leaderCluster().getShardByKey(key);
  }

  /** Kills every node still running (process groups) and stops PD; removes the files. */
  async close(): Promise<void> {
    for (const node of this.nodes) node.kill("SIGKILL");
    await Promise.all(this.nodes.map((n) => n.exited));
    await this.pdClient.close();
    await this.pd.stop();
    await this.meta.close();
    rmSync(this.root, { recursive: true, force: true });
  }
}

function show(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v));
}

/** Why a routed request gave up. */
export class RouteGaveUp extends Error {}

/**
 * Sends KV requests to the leader of the key's shard as PD reports it; a routing error
 * or an unreachable store is retried (fresh route from PD) up to `attemptsMax` times.
 */
export class KvRouter {
  private readonly cluster: LoopbackCluster;
  private readonly clients = new Map<string, RpcClient[]>();
  private readonly connections: number;
  private next = 0;
  /** Requests retried after a routing error or a failed call. */
  retries = 0;

  constructor(cluster: LoopbackCluster, options: { readonly connections?: number } = {}) {
    this.cluster = cluster;
    this.connections = options.connections ?? 1;
  }

  /** Calls `method` for `key`'s shard with `body`; resolves with a reply free of route errors. */
  async call<R extends KvReply>(
    method: string,
    key: Uint8Array,
    body: Record<string, unknown>,
    options: { readonly attemptsMax?: number } = {},
  ): Promise<R> {
    const attemptsMax = options.attemptsMax ?? 500;
    let last = "";
    for (let attempt = 0; attempt < attemptsMax; attempt++) {
      if (attempt > 0) {
        this.retries++;
        await new Promise((resolve) => setTimeout(resolve, Math.min(100, 5 * attempt)));
      }
      let route: ShardRoute | null;
      let address: string;
      try {
        route = this.cluster.route(key);
        if (route === null || route.leader === null) {
          last = "no leader known";
          continue;
        }
        address = this.cluster.pd.leaderCluster().getStore(route.leader.storeId).address;
      } catch (error) {
        last = String(error);
        continue;
      }
      const request = {
        header: { clusterId: this.cluster.pd.clusterId },
        context: { shardId: route.shard.id, epoch: route.shard.epoch },
        ...body,
      };
      let reply: R;
      try {
        reply = (await this.client(address).call(method, request, { deadlineMs: 5_000 })) as R;
      } catch (error) {
        last = String(error);
        continue;
      }
      if (reply.routeError !== undefined) {
        last = reply.routeError.kind;
        continue;
      }
      return reply;
    }
    throw new RouteGaveUp(`${method}: gave up after ${attemptsMax} attempts (${last})`);
  }

  private client(address: string): RpcClient {
    let list = this.clients.get(address);
    if (list === undefined) {
      const [host, port] = address.split(":") as [string, string];
      list = Array.from(
        { length: this.connections },
        () => new RpcClient(env, { host, port: Number(port), logger: quiet }),
      );
      this.clients.set(address, list);
    }
    return list[this.next++ % list.length] as RpcClient;
  }

  /** Writes `key = value` in its own transaction (prewrite, then commit); the commit ts. */
  async put(key: Uint8Array, value: Uint8Array, tso: () => Promise<Timestamp>): Promise<Timestamp> {
    const startTs = await tso();
    const pre = await this.call<PrewriteReply>(KvMethod.prewrite, key, {
      mutations: [{ kind: "put", key, value }],
      primary: key,
      startTs,
      lockTtlMs: 3_000,
    });
    if (pre.keyError !== undefined) throw new Error(`prewrite: ${show(pre.keyError)}`);
    const commitTs = await tso();
    const done = await this.call<CommitReply>(KvMethod.commit, key, {
      keys: [key],
      startTs,
      commitTs,
    });
    if (done.keyError !== undefined) throw new Error(`commit: ${show(done.keyError)}`);
    return commitTs;
  }

  /** The value of `key` at `version` (null if none). */
  async get(key: Uint8Array, version: Timestamp): Promise<Uint8Array | null> {
    const reply = await this.call<GetReply>(KvMethod.get, key, { key, version });
    if (reply.keyError !== undefined) throw new Error(`get: ${show(reply.keyError)}`);
    return reply.value;
  }

  async close(): Promise<void> {
    const all = [...this.clients.values()].flat();
    this.clients.clear();
    await Promise.all(all.map((c) => c.close()));
  }
}
