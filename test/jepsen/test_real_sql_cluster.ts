/**
 * Test support for real-process fault runs through SQL: a cluster of child processes —
 * `tessera pd`, three `tessera kv` and two `tessera sql` — whose every inter-process link
 * passes through a `TcpProxy` the test controls:
 * - each KV and SQL process reaches PD through a proxy of its own (`--pd`), so one
 *   process's PD link can be cut alone;
 * - each KV node advertises a proxy in front of its RPC port (`--advertise-addr`), so
 *   every connection to it — Raft and the deadlock detector from the other KV nodes,
 *   KV requests from the SQL nodes — passes that proxy: cutting it and the node's PD link
 *   isolates the node from everyone (its own outgoing connections still reach the others,
 *   as after an asymmetric cut);
 * - clients reach the SQL nodes directly (a killed SQL node is the client-side fault).
 * Processes can be paused (SIGSTOP/SIGCONT), killed with SIGKILL and restarted on the
 * same data dir and proxies, optionally with a skewed clock (`--clock-offset-ms`).
 *
 * Every child runs in its own process group (`Children` of `src/cmd/test_child.ts`);
 * `close()` kills every group still running, heals nothing and removes the files, so
 * callers put it in `after()`. Waiting is on conditions (a printed line, an exit, a
 * file), never on fixed sleeps; every port is 0 on 127.0.0.1.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TableId } from "../../src/base/mod.ts";
import { PdClient, TxnClient } from "../../src/client/mod.ts";
import { decodeRowKey, encodeRowKey, tablePrefix } from "../../src/codec/mod.ts";
import { type Child, Children } from "../../src/cmd/test_child.ts";
import type { ShardRoute } from "../../src/proto/mod.ts";
import { fastRaftKvFlags } from "../client/raft_cluster.ts";
import { quietLogger } from "../client/test_cluster.ts";
import { env, waitFor } from "../kv/cluster_harness.ts";
import { TcpProxy } from "./test_tcp_proxy.ts";

const launcher = join(import.meta.dirname, "..", "..", "bin", "tessera.js");

/** `host:port` as the proxy wants it. */
function hostPort(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(":");
  return { host: address.slice(0, colon), port: Number(address.slice(colon + 1)) };
}

/** One child process of the cluster, signalled as a whole process group. */
export class ClusterProcess {
  readonly child: Child;
  readonly clockOffsetMs: number;

  constructor(children: Children, args: readonly string[], clockOffsetMs: number) {
    this.clockOffsetMs = clockOffsetMs;
    this.child = children.spawn([launcher, ...args, `--clock-offset-ms=${clockOffsetMs}`]);
  }

  get running(): boolean {
    const p = this.child.process;
    return p.exitCode === null && p.signalCode === null;
  }

  /** Sends `signal` to the process group (no-op once it is gone). */
  signal(signal: NodeJS.Signals): void {
    const pid = this.child.process.pid;
    if (pid === undefined || !this.running) return;
    try {
      process.kill(-pid, signal);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
    }
  }

  /** SIGKILL, resolved once the process has exited. */
  async kill(): Promise<void> {
    this.signal("SIGKILL");
    this.signal("SIGCONT");
    await this.child.exited;
  }
}

/** A KV slot: its current process, data dir, store id and proxies. */
export interface KvSlot {
  readonly index: number;
  readonly dataDir: string;
  /** In front of the node's RPC port: what PD and everyone else know as its address. */
  readonly inbound: TcpProxy;
  /** The node's link to PD. */
  readonly pdLink: TcpProxy;
  process: ClusterProcess;
  storeId: number;
  paused: boolean;
}

/** A SQL slot: its current process (undefined while down), data dir and PD link. */
export interface SqlSlot {
  readonly index: number;
  readonly dataDir: string;
  readonly pdLink: TcpProxy;
  process: ClusterProcess | undefined;
  /** The MySQL address while serving. */
  mysql: { host: string; port: number } | undefined;
}

/** The cluster; see the file comment. */
export class RealSqlCluster {
  readonly root: string;
  readonly kv: KvSlot[] = [];
  readonly sql: SqlSlot[] = [];
  private readonly children = new Children();
  /** Every process ever started, to wait for their exits on `close`. */
  private readonly started: ClusterProcess[] = [];
  private readonly proxies: TcpProxy[] = [];
  private pd: ClusterProcess | undefined;
  private pdAddress = "";
  private pdHttpAddress = "";
  private pdClientOf: PdClient | undefined;

  constructor() {
    this.root = mkdtempSync(join(tmpdir(), "tessera-real-sql-"));
  }

  /** The test's own PD client (direct, not proxied). */
  get pdClient(): PdClient {
    if (this.pdClientOf === undefined) throw new Error("PD not started");
    return this.pdClientOf;
  }

  private spawn(args: readonly string[], clockOffsetMs: number): ClusterProcess {
    const started = new ClusterProcess(this.children, args, clockOffsetMs);
    this.started.push(started);
    return started;
  }

  private async proxy(target: string): Promise<TcpProxy> {
    const proxy = await TcpProxy.start(hostPort(target));
    this.proxies.push(proxy);
    return proxy;
  }

  /** Starts PD, `kvCount` KV nodes (until every shard has that many voters) and SQL nodes. */
  async start(options: { readonly kvCount: number; readonly sqlCount: number }): Promise<void> {
    this.pd = this.spawn([
      "pd", "--name", "pd-1", "--addr", "127.0.0.1:0", "--status-addr", "127.0.0.1:0",
      "--data-dir", join(this.root, "pd"), "--lease-ttl", "1s", "--schedule-interval", "100ms",
      "--log-level", "error",
    ], 0);
    const serving = JSON.parse(await this.pd.child.waitForLine(/"rpc"/)) as
      { rpc: string; http: string };
    this.pdAddress = serving.rpc;
    this.pdHttpAddress = serving.http;
    // A silent store counts as disconnected after 1 s, so hibernating peers wake quickly.
    await waitFor("PD leadership", () => this.pdHttp("PUT", "config",
      { storeDisconnectTimeMs: 1_000 }).then(() => true, () => undefined));
    this.pdClientOf = new PdClient(env, { endpoints: [this.pdAddress], logger: quietLogger });
    for (let index = 0; index < options.kvCount; index++) {
      // The placeholder target refuses until the node's port is known (`startKv`).
      const slot: KvSlot = {
        index,
        dataDir: join(this.root, `kv-${index + 1}`),
        inbound: await this.proxy("127.0.0.1:1"),
        pdLink: await this.proxy(this.pdAddress),
        process: undefined as unknown as ClusterProcess,
        storeId: 0,
        paused: false,
      };
      this.kv.push(slot);
      await this.startKv(slot, 0);
    }
    await waitFor(`shards with ${options.kvCount} voters`, () => this.shardsReady(options.kvCount));
    for (let index = 0; index < options.sqlCount; index++) {
      this.sql.push({ index, dataDir: join(this.root, `sql-${index + 1}`),
        pdLink: await this.proxy(this.pdAddress), process: undefined, mysql: undefined });
    }
    await Promise.all(this.sql.map((slot) => this.startSql(slot, 0)));
  }

  private async pdHttp(method: string, path: string, body: unknown): Promise<unknown> {
    const response = await fetch(`http://${this.pdHttpAddress}/pd/api/v1/${path}`,
      { method, body: JSON.stringify(body), headers: { "content-type": "application/json" } });
    const json: unknown = await response.json();
    if (response.status !== 200) {
      throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(json)}`);
    }
    return json;
  }

  /** Every shard, or undefined unless each has `voters` voters and a leader. */
  async shardsReady(voters: number): Promise<ShardRoute[] | undefined> {
    const all = await this.shards().catch(() => []);
    return all.length > 0 && all.every((r) => r.leader !== null &&
      r.shard.peers.length === voters && r.shard.peers.every((p) => p.role === "voter"))
      ? all : undefined;
  }

  async shards(): Promise<ShardRoute[]> {
    return this.pdClient.scanShards(new Uint8Array(0), new Uint8Array(0), 1_000);
  }

  /** (Re)starts the slot's KV node on its data dir and proxies; resolves once serving. */
  async startKv(slot: KvSlot, clockOffsetMs: number): Promise<void> {
    slot.process = this.spawn([
      "kv", "--pd", slot.pdLink.address, "--addr", "127.0.0.1:0",
      "--advertise-addr", slot.inbound.address, "--status-addr", "127.0.0.1:0",
      "--data-dir", slot.dataDir, "--log-level", "error", ...fastRaftKvFlags,
    ], clockOffsetMs);
    const identPath = join(slot.dataDir, "store.json");
    const node = slot.process;
    // The node records its bound port before it registers with PD: point the proxy there.
    const bound = await waitFor(`kv-${slot.index + 1}'s bound address`, () => {
      if (!node.running) throw new Error(`kv-${slot.index + 1} exited:\n${node.child.stderr()}`);
      if (!existsSync(identPath)) return undefined;
      try {
        return (JSON.parse(readFileSync(identPath, "utf8")) as { address?: string }).address;
      } catch {
        return undefined; // being written
      }
    });
    slot.inbound.retarget(hostPort(bound));
    const serving = JSON.parse(await node.child.waitForLine(/"storeId"/)) as
      { storeId: number };
    slot.storeId = serving.storeId;
    slot.paused = false;
  }

  /** (Re)starts the slot's SQL node; resolves once its MySQL port is known. */
  async startSql(slot: SqlSlot, clockOffsetMs: number): Promise<void> {
    const node = this.spawn([
      "sql", "--host", "127.0.0.1", "--port", "0", "--status-port", "0",
      "--pd", slot.pdLink.address, "--data-dir", slot.dataDir, "--log-level", "error",
    ], clockOffsetMs);
    slot.process = node;
    const line = await node.child.waitForLine(/mysql:\s+\S+:\d+/);
    slot.mysql = hostPort(/mysql:\s+(\S+:\d+)/.exec(line)![1]!);
  }

  /** SIGKILLs the slot's SQL node; its address is gone until `startSql`. */
  async killSql(slot: SqlSlot): Promise<void> {
    slot.mysql = undefined;
    await slot.process?.kill();
  }

  /**
   * Splits the shards at the start of every table with rows and at its middle row, so
   * that transactions span shards (and PD spreads their leaders); resolves once every
   * shard has `voters` voters and a leader.
   */
  async splitTables(voters: number): Promise<void> {
    const client = new TxnClient(env, { pd: this.pdClient, logger: quietLogger });
    const handles = new Map<TableId, bigint[]>();
    try {
      const txn = await client.begin();
      for (const pair of await txn.scan(Uint8Array.of(0x74), Uint8Array.of(0x75))) {
        try {
          const row = decodeRowKey(pair.key);
          handles.set(row.tableId, [...(handles.get(row.tableId) ?? []), row.handle]);
        } catch {
          // An index key: tables are split by their rows.
        }
      }
      await txn.rollback();
    } finally {
      await client.close();
    }
    const keys = [...handles].flatMap(([id, rows]) => [tablePrefix(id),
      encodeRowKey(id, rows[rows.length >> 1]!)]);
    for (const key of keys) {
      const hex = Buffer.from(key).toString("hex");
      let askedMs = -Infinity;
      await waitFor(`a shard starting at ${hex}`, async () => {
        const routes = await this.shards();
        if (routes.some((r) => Buffer.compare(r.shard.startKey, key) === 0)) return true;
        const route = routes.find((r) => Buffer.compare(r.shard.startKey, key) < 0 &&
          (r.shard.endKey.length === 0 || Buffer.compare(key, r.shard.endKey) < 0));
        if (route !== undefined && performance.now() - askedMs > 1_000) {
          askedMs = performance.now();
          await this.pdHttp("POST", "operators",
            { kind: "split", shardId: route.shard.id, keys: [hex] }).catch(() => undefined);
        }
        return undefined;
      });
    }
    await waitFor(`shards with ${voters} voters`, () => this.shardsReady(voters));
  }

  /** `leaders store:count … none:count`, for diagnostics. */
  async leaderCounts(): Promise<string> {
    const routes = await this.shards().catch(() => []);
    const count = (store: number | undefined): number =>
      routes.filter((r) => r.leader?.storeId === store).length;
    return `leaders ${this.kv.map((s) => `s${s.storeId}:${count(s.storeId)}`).join(" ")} ` +
      `none:${count(undefined)}`;
  }

  /**
   * A KV slot whose store leads the most shards now (`pick` chooses among ties), and how
   * many it leads.
   */
  async busiestLeader(pick: (slots: readonly KvSlot[]) => KvSlot):
    Promise<{ slot: KvSlot; leads: number }> {
    const led = new Map<number, number>();
    for (const route of await this.shards()) {
      const store = route.leader?.storeId;
      if (store !== undefined) led.set(store, (led.get(store) ?? 0) + 1);
    }
    const leads = Math.max(...this.kv.map((s) => led.get(s.storeId) ?? 0));
    return { slot: pick(this.kv.filter((s) => (led.get(s.storeId) ?? 0) === leads)), leads };
  }

  /** Resumes every paused process and heals every link. */
  healAll(): void {
    for (const slot of this.kv) {
      slot.process.signal("SIGCONT");
      slot.paused = false;
    }
    for (const proxy of this.proxies) proxy.heal();
  }

  /** The forwarded connection count of every proxy, for diagnostics. */
  linkCounts(): string {
    return [
      ...this.kv.map((s) => `kv-${s.index + 1} in ${s.inbound.forwarded}/pd ${s.pdLink.forwarded}`),
      ...this.sql.map((s) => `sql-${s.index + 1} pd ${s.pdLink.forwarded}`),
    ].join(", ");
  }

  /** Kills every process group still running, closes the proxies, removes the files. */
  async close(): Promise<void> {
    this.children.killAll();
    await Promise.all(this.started.map((p) => p.child.exited.catch(() => undefined)));
    await this.pdClientOf?.close();
    for (const proxy of this.proxies) await proxy.close();
    rmSync(this.root, { recursive: true, force: true });
  }
}
