/**
 * A real-process fault run with skewed clocks (`--clock-offset-ms`): the bank workload
 * (`sim/sim_workloads.ts`, as the simulator and `real_nemesis.test.ts` run it) through
 * the transactional client against a `tessera pd` child process and three `tessera kv`
 * children on Raft, in both transaction modes, while the nemesis
 * - kills the leader of one shard with SIGKILL and restarts it with its clock 6 s ahead
 *   (it judges every lock's TTL against that clock, so it finds live locks expired);
 * - kills PD and restarts it on the same port with its clock 8 s behind: the TSO must go
 *   on from the high-water mark PD persisted, not from its clock, so its physical time
 *   stands still above that clock for a while (and meanwhile every new lock looks older
 *   to the KV nodes than it is);
 * - kills the leader of the other shard and restarts it with its clock 4 s behind.
 * One round by default; `JEPSEN_ROUNDS=N` runs N, where PD restarts alternately 5 s ahead
 * (the TSO jumps forward with it) and 8 s behind.
 * A monitor asks PD for a timestamp every few ms throughout (also across the PD
 * restart): each must be above the one before. Faults are paced by the workload's
 * progress, never by fixed sleeps, and the run stops by itself. Then the histories must
 * pass the bank checker (every snapshot sums to the total, no negative balance) and a
 * final read must show the total.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { Prng, type Timestamp, decomposeTimestamp } from "../../src/base/mod.ts";
import { PdClient, TxnClient } from "../../src/client/mod.ts";
import type { ShardRoute } from "../../src/proto/mod.ts";
import { fastRaftKvFlags } from "../client/raft_cluster.ts";
import { quietLogger } from "../client/test_cluster.ts";
import { KvNode, env, waitFor } from "../kv/cluster_harness.ts";
import { checkBank } from "./checker/bank.ts";
import { BankWorkload, bankAccounts, bankInitialBalance } from "./sim/sim_workloads.ts";

const launcher = join(import.meta.dirname, "..", "..", "bin", "tessera.js");
/** Rounds of faults; `npm run jepsen` runs more (`JEPSEN_ROUNDS`). */
const rounds = Number(process.env["JEPSEN_ROUNDS"] ?? 1);
const opts = { timeout: 120_000 * rounds };
const encoder = new TextEncoder();
/**
 * How far the restarted processes' clocks are off (ms). PD restarts behind in even rounds
 * (the first included) and ahead in odd ones, which pushes the TSO up by the offset.
 */
const skews = { kvAhead: 6_000, kvBehind: -4_000, pdBehind: -8_000, pdAhead: 5_000 };

/** What the TSO monitor saw around one PD restart. */
interface PdRestart {
  readonly clockOffsetMs: number;
  /** The last timestamp before the kill, and the first one after the restart. */
  readonly lastBefore: Timestamp;
  readonly firstAfter: Timestamp;
  /** The machine's wall clock when the first one arrived. */
  readonly atWallMs: number;
}

/** A `tessera pd` child in its own process group; `serving` has its printed addresses. */
class PdProcess {
  readonly process: ChildProcess;
  readonly serving: Promise<{ rpc: string; http: string }>;
  readonly exited: Promise<void>;
  private stderrText = "";

  constructor(args: readonly string[]) {
    this.process = spawn(process.execPath, [launcher, "pd", ...args],
      { detached: true, stdio: ["ignore", "pipe", "pipe"] });
    this.exited = new Promise((resolve) => this.process.once("close", () => resolve()));
    this.process.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
      this.stderrText = (this.stderrText + chunk).slice(-20_000);
    });
    let stdout = "";
    this.serving = new Promise((resolve, reject) => {
      this.process.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
        stdout += chunk;
        const line = stdout.split("\n").find((l) => l.includes('"rpc"'));
        if (line !== undefined) resolve(JSON.parse(line) as { rpc: string; http: string });
      });
      void this.exited.then(() => reject(new Error(`pd exited:\n${this.stderrText}`)));
    });
    this.serving.catch(() => undefined);
  }

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

let root: string;
let pd: PdProcess;
let pdAddress: string;
const pdProcesses: PdProcess[] = [];
const kvProcesses: KvNode[] = [];
/** The node of each store slot (replaced on restart) and its data dir. */
const slots: { node: KvNode; storeId: number; dataDir: string }[] = [];
let pdClient: PdClient;
let monitorClient: PdClient;
let client: TxnClient;

function startPd(port: number, clockOffsetMs: number): PdProcess {
  const started = new PdProcess([
    "--name", "pd-1", "--addr", `127.0.0.1:${port}`, "--status-addr", "127.0.0.1:0",
    "--data-dir", join(root, "pd"), "--lease-ttl", "1s", "--schedule-interval", "100ms",
    "--log-level", "error", `--clock-offset-ms=${clockOffsetMs}`,
  ]);
  pdProcesses.push(started);
  return started;
}

function startKv(dataDir: string, clockOffsetMs: number): KvNode {
  const node = new KvNode([
    "kv", "--pd", pdAddress, "--addr", "127.0.0.1:0", "--status-addr", "127.0.0.1:0",
    "--data-dir", dataDir, "--log-level", "error", `--clock-offset-ms=${clockOffsetMs}`,
    ...fastRaftKvFlags,
  ], dataDir);
  kvProcesses.push(node);
  return node;
}

async function pdHttp(method: string, path: string, body: unknown): Promise<unknown> {
  const { http } = await pd.serving;
  const response = await fetch(`http://${http}/pd/api/v1/${path}`,
    { method, body: JSON.stringify(body), headers: { "content-type": "application/json" } });
  const json: unknown = await response.json();
  assert.equal(response.status, 200, `${method} ${path}: ${JSON.stringify(json)}`);
  return json;
}

async function shards(): Promise<ShardRoute[]> {
  return pdClient.scanShards(new Uint8Array(0), new Uint8Array(0), 100);
}

async function shardsReady(count: number): Promise<ShardRoute[] | undefined> {
  const all = await shards().catch(() => []);
  return all.length === count && all.every((r) => r.leader !== null &&
    r.shard.peers.length === 3 && r.shard.peers.every((p) => p.role === "voter"))
    ? all : undefined;
}

before(async () => {
  root = mkdtempSync(join(tmpdir(), "tessera-clock-skew-"));
  pd = startPd(0, 0);
  pdAddress = (await pd.serving).rpc;
  // A silent store counts as disconnected after 1 s, so hibernating peers wake quickly.
  // PD serves HTTP before it has won its leadership (503 until then): wait for it.
  await waitFor("PD leadership", () => pdHttp("PUT", "config", { storeDisconnectTimeMs: 1_000 })
    .then(() => true, () => undefined));
  pdClient = new PdClient(env, { endpoints: [pdAddress], logger: quietLogger });
  monitorClient = new PdClient(env, { endpoints: [pdAddress], logger: quietLogger });
  for (let i = 0; i < 3; i++) {
    const dataDir = join(root, `kv-${i + 1}`);
    const node = startKv(dataDir, 0);
    slots.push({ node, storeId: (await node.serving).storeId, dataDir });
  }
  const [first] = await waitFor("shard 1 with three voters", () => shardsReady(1));
  assert.ok(first !== undefined);
  await pdHttp("POST", "operators", {
    kind: "split", shardId: first.shard.id, keys: [Buffer.from("bank/c").toString("hex")],
  });
  await waitFor("two shards with three voters", () => shardsReady(2));
  client = new TxnClient(env, { pd: pdClient, logger: quietLogger });
}, { timeout: 90_000 });

after(async () => {
  await client?.close();
  await pdClient?.close();
  await monitorClient?.close();
  for (const node of kvProcesses) node.kill("SIGKILL");
  for (const p of pdProcesses) p.kill("SIGKILL");
  await Promise.all([...kvProcesses.map((n) => n.exited), ...pdProcesses.map((p) => p.exited)]);
  if (root !== undefined) rmSync(root, { recursive: true, force: true });
}, { timeout: 30_000 });

/** The slot whose store leads the shard holding `key` now, preferring not `avoid`. */
async function leaderSlot(key: string, avoid?: (typeof slots)[number]):
  Promise<(typeof slots)[number]> {
  const encoded = encoder.encode(key);
  const route = (await shards()).find((r) =>
    Buffer.compare(r.shard.startKey, encoded) <= 0 &&
    (r.shard.endKey.length === 0 || Buffer.compare(encoded, r.shard.endKey) < 0));
  const slot = slots.find((s) => s.storeId === route?.leader?.storeId && s !== avoid);
  return slot ?? (slots.find((s) => s !== avoid) as (typeof slots)[number]);
}

/** Kills `slot`'s node with SIGKILL and restarts it on its data dir with a skewed clock. */
async function restartSkewed(slot: (typeof slots)[number], clockOffsetMs: number,
  log: string[]): Promise<void> {
  log.push(`SIGKILL store ${slot.storeId}`);
  slot.node.kill("SIGKILL");
  await slot.node.exited;
  slot.node = startKv(slot.dataDir, clockOffsetMs);
  await slot.node.serving;
  log.push(`restarted store ${slot.storeId} with clock ${clockOffsetMs} ms`);
}

/**
 * Kills PD with SIGKILL and restarts it on the same port and data dir with its clock
 * `clockOffsetMs` off; resolves once the monitor got a timestamp from it.
 */
async function restartPd(clockOffsetMs: number, monitor: TsoMonitor, log: string[]):
  Promise<PdRestart> {
  log.push("SIGKILL pd");
  pd.kill("SIGKILL");
  await pd.exited;
  const lastBefore = monitor.last;
  assert.ok(lastBefore !== undefined, "no timestamp before the PD restart");
  pd = startPd(Number(pdAddress.split(":")[1]), clockOffsetMs);
  await pd.serving;
  log.push(`restarted pd with clock ${clockOffsetMs} ms`);
  const count = monitor.seen.length;
  const first = await waitFor("a timestamp from the restarted PD", () =>
    monitor.seen.length > count ? monitor.seen[count] : undefined);
  return { clockOffsetMs, lastBefore, firstAfter: first.ts, atWallMs: first.atWallMs };
}

/** Asks PD for timestamps one at a time until stopped; each must exceed the last. */
class TsoMonitor {
  readonly seen: { ts: Timestamp; atWallMs: number }[] = [];
  readonly violations: string[] = [];
  private stopped = false;
  private readonly done: Promise<void>;

  constructor() {
    this.done = this.loop();
  }

  get last(): Timestamp | undefined {
    return this.seen.at(-1)?.ts;
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      try {
        const ts = await monitorClient.getTimestamp();
        const last = this.last;
        if (last !== undefined && ts <= last) this.violations.push(`${ts} after ${last}`);
        this.seen.push({ ts, atWallMs: Date.now() });
      } catch {
        // PD is down or electing: try again.
      }
      await env.timers.sleep(5);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }
}

test("bank workload with KV and PD restarts on clocks skewed ahead and behind", opts,
  async (t) => {
    let stop = false;
    const prng = new Prng(0xc10c);
    const context = (pessimistic: boolean) => ({
      client,
      prng,
      pessimistic,
      nowMs: () => env.clock.monotonicMs(),
      stopped: () => stop,
      think: () => env.timers.sleep(prng.nextInt(10)),
    });
    const optimistic = new BankWorkload(context(false));
    const pessimistic = new BankWorkload(context(true));
    await waitFor("the initial balances", async () =>
      (await optimistic.init().then(() => true, () => undefined)));
    const monitor = new TsoMonitor();
    const completed = (): number => [optimistic, pessimistic]
      .reduce((n, w) => n + w.recorder.events.filter((e) => e.type !== "invoke").length, 0);
    const running = Promise.all([optimistic.run(0, 3), pessimistic.run(10, 2)]);
    const log: string[] = [];
    const progress = async (count: number): Promise<void> => {
      const target = completed() + count;
      await waitFor(`${count} more operations`, () => (completed() >= target ? true : undefined));
    };
    const pdRestarts: PdRestart[] = [];
    try {
      for (let round = 0; round < rounds; round++) {
        await progress(30);
        const ahead = await leaderSlot("bank/a");
        await restartSkewed(ahead, skews.kvAhead, log);
        await progress(40);
        pdRestarts.push(await restartPd(round % 2 === 0 ? skews.pdBehind : skews.pdAhead,
          monitor, log));
        await progress(40);
        const behind = await leaderSlot("bank/d", ahead);
        await restartSkewed(behind, skews.kvBehind, log);
        await progress(40);
      }
    } finally {
      stop = true;
      await running;
      await monitor.stop();
    }
    const final = await waitFor("a final read", () => optimistic.read(99));
    const count = (w: BankWorkload, type: string): number =>
      w.recorder.events.filter((e) => e.type === type).length;
    const physical = (ts: Timestamp): number => decomposeTimestamp(ts).physicalMs;
    t.diagnostic(`faults: ${log.join(", ")}; optimistic ok/fail/info ` +
      `${count(optimistic, "ok")}/${count(optimistic, "fail")}/${count(optimistic, "info")}, ` +
      `pessimistic ${count(pessimistic, "ok")}/${count(pessimistic, "fail")}/` +
      `${count(pessimistic, "info")}; ${monitor.seen.length} TSO samples; first TSO after ` +
      `each PD restart, ms from the machine's clock: ${pdRestarts.map((r) =>
        physical(r.firstAfter) - r.atWallMs)}`);

    assert.deepEqual(monitor.violations, [], "TSO went backwards or repeated");
    for (const restart of pdRestarts) {
      assert.ok(restart.firstAfter > restart.lastBefore);
      // The case is real: a PD restarted behind had its clock below the last timestamp
      // handed out before, so only the persisted high-water mark kept the TSO going up.
      if (restart.clockOffsetMs < 0) {
        assert.ok(restart.atWallMs + restart.clockOffsetMs < physical(restart.lastBefore),
          "the restarted PD's clock was not behind the TSO");
      }
    }

    assert.equal(Object.values(final).reduce((a, v) => a + v, 0),
      bankAccounts.length * bankInitialBalance);
    for (const [name, workload] of [["optimistic", optimistic], ["pessimistic", pessimistic]] as
      const) {
      const events = workload.recorder.events;
      const result = checkBank(events, {
        accounts: bankAccounts,
        total: bankAccounts.length * bankInitialBalance,
      });
      assert.deepEqual(result.anomalies, [], `${name}: ${log.join(", ")}`);
      assert.ok(result.readsChecked > 0, `${name}: no read completed`);
      const ok = events.filter((e) => e.type === "ok" && e.f === "transfer").length;
      assert.ok(ok > 0, `${name}: no transfer committed`);
    }
  });
