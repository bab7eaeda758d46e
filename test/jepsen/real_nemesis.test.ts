/**
 * A real-process fault run: the bank workload (`sim/sim_workloads.ts`, the same workload
 * and checker the simulator uses) through the transactional client against an in-process
 * PD and three `tessera kv` child processes on Raft, while a nemesis pauses processes
 * (SIGSTOP/SIGCONT), cuts the link between a KV node and PD (each node reaches PD through
 * its own `TcpProxy`), and kills a node with SIGKILL and restarts it on its data dir.
 * Faults are paced by the workload's progress (so many more operations completed), never
 * by fixed sleeps, and the run stops by itself. Then everything is healed: a final read
 * must succeed, and the histories must pass the bank checker (every snapshot sums to the
 * initial total, no negative balance), in both transaction modes.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { Prng } from "../../src/base/mod.ts";
import { TxnClient } from "../../src/client/mod.ts";
import { KvNode, type LoopbackCluster, env, waitFor } from "../kv/cluster_harness.ts";
import { allShards, fastRaftKvFlags, startRaftCluster } from "../client/raft_cluster.ts";
import { quietLogger } from "../client/test_cluster.ts";
import { checkBank } from "./checker/bank.ts";
import { BankWorkload, bankAccounts, bankInitialBalance } from "./sim/sim_workloads.ts";
import { TcpProxy } from "./test_tcp_proxy.ts";

/** Rounds of faults; `npm run jepsen` runs more (`JEPSEN_ROUNDS`). */
const rounds = Number(process.env["JEPSEN_ROUNDS"] ?? 1);
const opts = { timeout: 120_000 * rounds };
const encoder = new TextEncoder();

let cluster: LoopbackCluster;
const proxies: TcpProxy[] = [];
/** The node of each store slot (replaced on restart), with its data dir and proxy. */
const slots: { node: KvNode; storeId: number; dataDir: string; proxy: TcpProxy }[] = [];
let client: TxnClient;

function startNode(dataDir: string, proxy: TcpProxy): KvNode {
  const node = new KvNode([
    "kv", "--pd", proxy.address, "--addr", "127.0.0.1:0", "--status-addr", "127.0.0.1:0",
    "--data-dir", dataDir, "--log-level", "error", ...fastRaftKvFlags,
  ], dataDir);
  cluster.nodes.push(node);
  return node;
}

function shardsReady(count: number): boolean {
  const shards = allShards(cluster);
  return shards.length === count && shards.every((r) => r.leader !== null &&
    r.shard.peers.length === 3 && r.shard.peers.every((p) => p.role === "voter"));
}

before(async () => {
  cluster = await startRaftCluster();
  const [host, port] = cluster.pdAddress.split(":") as [string, string];
  for (let i = 0; i < 3; i++) {
    const proxy = await TcpProxy.start({ host, port: Number(port) });
    proxies.push(proxy);
    const dataDir = join(cluster.root, `kv-${i + 1}`);
    const node = startNode(dataDir, proxy);
    slots.push({ node, storeId: (await node.serving).storeId, dataDir, proxy });
  }
  await waitFor("shard 1 with three voters", () => (shardsReady(1) ? true : undefined));
  const first = allShards(cluster)[0];
  assert.ok(first !== undefined);
  cluster.pd.addOperator({
    kind: "split", shardId: first.shard.id, policy: "byKeys", keys: [encoder.encode("bank/c")],
  });
  await waitFor("two shards with three voters", () => (shardsReady(2) ? true : undefined));
  client = new TxnClient(env, { pd: cluster.pdClient, logger: quietLogger });
});

after(async () => {
  await client?.close();
  await cluster?.close();
  for (const proxy of proxies) await proxy.close();
});

/** The slot whose store leads the shard holding `key` now. */
function leaderSlot(key: string): (typeof slots)[number] {
  const route = cluster.route(encoder.encode(key));
  const slot = slots.find((s) => s.storeId === route?.leader?.storeId);
  return slot ?? (slots[0] as (typeof slots)[number]);
}

/**
 * One round of faults, each paced by the workload's progress: a paused leader (its lease
 * must run out before another store serves reads), the other shard's leader cut off from
 * PD and healed, a leader killed and restarted on its data dir.
 */
async function nemesisRound(progress: (count: number) => Promise<void>, log: string[]):
  Promise<void> {
  await progress(40);
  const paused = leaderSlot("bank/a");
  log.push(`SIGSTOP store ${paused.storeId}`);
  paused.node.kill("SIGSTOP");
  await progress(20);
  paused.node.kill("SIGCONT");
  log.push(`SIGCONT store ${paused.storeId}`);
  await progress(30);
  const cut = leaderSlot("bank/d");
  log.push(`partition store ${cut.storeId} | pd`);
  cut.proxy.partition();
  await progress(30);
  cut.proxy.heal();
  log.push(`heal store ${cut.storeId} | pd`);
  await progress(30);
  const killed = leaderSlot("bank/a");
  log.push(`SIGKILL store ${killed.storeId}`);
  killed.node.kill("SIGKILL");
  await killed.node.exited;
  await progress(20);
  killed.node = startNode(killed.dataDir, killed.proxy);
  await killed.node.serving;
  log.push(`restarted store ${killed.storeId}`);
  await progress(40);
}

test("bank workload under SIGSTOP/SIGCONT, a cut PD link and SIGKILL + restart", opts,
  async (t) => {
    let stop = false;
    const prng = new Prng(0xba_4c);
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
    const completed = (): number => [optimistic, pessimistic]
      .reduce((n, w) => n + w.recorder.events.filter((e) => e.type !== "invoke").length, 0);
    const running = Promise.all([optimistic.run(0, 3), pessimistic.run(10, 2)]);
    const log: string[] = [];
    /** Waits until `count` more operations completed (ok, failed or unknown). */
    const progress = async (count: number): Promise<void> => {
      const target = completed() + count;
      await waitFor(`${count} more operations`, () => (completed() >= target ? true : undefined));
    };
    try {
      for (let round = 0; round < rounds; round++) await nemesisRound(progress, log);
    } finally {
      stop = true;
      for (const slot of slots) {
        slot.node.kill("SIGCONT");
        slot.proxy.heal();
      }
      await running;
    }
    const final = await waitFor("a final read", () => optimistic.read(99));
    const count = (w: BankWorkload, type: string): number =>
      w.recorder.events.filter((e) => e.type === type).length;
    t.diagnostic(`faults: ${log.join(", ")}; optimistic ok/fail/info ` +
      `${count(optimistic, "ok")}/${count(optimistic, "fail")}/${count(optimistic, "info")}, ` +
      `pessimistic ${count(pessimistic, "ok")}/${count(pessimistic, "fail")}/` +
      `${count(pessimistic, "info")}; PD link connections ${proxies.map((p) => p.forwarded)}`);
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
