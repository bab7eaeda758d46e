/**
 * A real-process fault run through SQL ([T11] part 2): `tessera pd`, three `tessera kv`
 * and two `tessera sql` child processes, every link between them through a `TcpProxy`
 * (`test_real_sql_cluster.ts`), and clients on mysql2 connected to both SQL nodes
 * (`test_sql_fault_workloads.ts`). The tables are split so that transactions span shards.
 * Four workloads run at once — bank and list-append, each in pessimistic and in
 * optimistic mode (`tidb_txn_mode`) — while a nemesis driven by a seed injects, in a
 * seeded order:
 * - SIGSTOP of the KV node leading the most shards, SIGCONT after more operations;
 * - isolation of a KV node (the busiest leader or any): its inbound proxy (Raft, detector
 *   and SQL traffic to it) and its PD link cut, then healed;
 * - SIGKILL of a KV node, restarted on its data dir with its clock 2-5 s ahead or behind;
 * - SIGKILL of a SQL node (its clients reconnect to the other), restarted with its clock
 *   2-5 s ahead or behind;
 * - a SQL node's PD link cut (no timestamps), then healed.
 * Faults are paced by the workloads' progress: before each fault the cluster must commit
 * more transactions (liveness), while it lasts more operations must complete (ok, fail or
 * info). An operation is `info` when its connection dropped, or the server answered
 * anything but a definite abort, during COMMIT.
 *
 * Then the histories must pass the shared checkers: bank — every read sums to the
 * total, no negative balance, and a final read shows the exact total; list-append — the
 * pessimistic history is serializable (no anomaly at all: appending transactions lock
 * their reads), the optimistic one meets snapshot isolation (G2-item allowed). Only the
 * errors the faults explain may occur. One round (one seed) in `npm test`;
 * `JEPSEN_ROUNDS=N` (`npm run jepsen`) runs N seeds in a row from `JEPSEN_SEED` (default
 * 0x5e1ec7). A failure names the seeds and the faults with their times.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import mysql from "mysql2/promise";
import { Prng } from "../../src/base/mod.ts";
import { waitFor } from "../kv/cluster_harness.ts";
import { checkBank } from "./checker/bank.ts";
import { type AnomalyKind, allAnomalies, checkListAppend } from "./checker/list_append.ts";
import { type KvSlot, RealSqlCluster, type SqlSlot } from "./test_real_sql_cluster.ts";
import {
  type ClientContext,
  FaultClient,
  type TxnMode,
  type Workload,
  bankWorkload,
  createBankTable,
  createListTable,
  listAppendWorkload,
  readBalances,
  readLists,
} from "./test_sql_fault_workloads.ts";

/** Rounds of faults, one seed each; `npm run jepsen` runs more (`JEPSEN_ROUNDS`). */
const rounds = Number(process.env["JEPSEN_ROUNDS"] ?? 1);
const firstSeed = Number(process.env["JEPSEN_SEED"] ?? 0x5e_1ec7);
const seeds = Array.from({ length: rounds }, (_, i) => firstSeed + i);
const modes: readonly TxnMode[] = ["pessimistic", "optimistic"];
const accounts = 5;
const initialBalance = 100;
const listKeys = 6;
/** Transactions committed before each fault; operations completed while it lasts. */
const okBeforeFault = 15;
const completedDuringFault = 20;

const cluster = new RealSqlCluster();

before(async () => {
  await cluster.start({ kvCount: 3, sqlCount: 2 });
  const address = cluster.sql[0]!.mysql!;
  const c = await mysql.createConnection({ ...address, user: "root", database: "test" });
  try {
    for (const mode of modes) {
      await createBankTable(c, `bank_${mode}`, accounts, initialBalance);
      await createListTable(c, `lists_${mode}`, listKeys);
    }
  } finally {
    await c.end();
  }
  // More shards: transfers and appends across two of them commit in two phases.
  await cluster.splitTables(3);
}, { timeout: 90_000 });

after(async () => {
  await cluster.close();
}, { timeout: 30_000 });

type AnyWorkload = Workload<string, unknown>;

/** The nemesis: one round of the five faults in the order `seed` draws. */
async function nemesisRound(seed: number, workloads: readonly AnyWorkload[], log: string[]):
  Promise<void> {
  const prng = new Prng(seed);
  const note = (what: string): void => {
    log.push(`${(performance.now() / 1_000).toFixed(1)}s ${what}`);
  };
  const ok = (): number => workloads.reduce((n, w) =>
    n + w.recorder.events.filter((e) => e.type === "ok").length, 0);
  const completed = (): number => workloads.reduce((n, w) => n + w.completed(), 0);
  const more = async (what: string, count: () => number, n: number): Promise<void> => {
    const target = count() + n;
    await waitFor(`${n} more ${what} (seed ${seed}; ${log.join(", ")})`,
      () => (count() >= target ? true : undefined));
  };
  const committed = (): Promise<void> => more("commits", ok, okBeforeFault);
  const during = (): Promise<void> => more("operations", completed, completedDuringFault);
  const skew = (sign: number): number => sign * (2_000 + 500 * prng.nextInt(7));
  const kvName = (slot: KvSlot): string => `kv-${slot.index + 1} (store ${slot.storeId})`;
  const sqlName = (slot: SqlSlot): string => `sql-${slot.index + 1}`;
  const faults: Record<string, () => Promise<void>> = {
    "pause-kv": async () => {
      const { slot, leads } = await cluster.busiestLeader((slots) => prng.pick(slots));
      note(`SIGSTOP ${kvName(slot)}, leader of ${leads}`);
      slot.process.signal("SIGSTOP");
      slot.paused = true;
      await during();
      slot.process.signal("SIGCONT");
      slot.paused = false;
      note(`SIGCONT ${kvName(slot)}`);
    },
    "isolate-kv": async () => {
      // Half the time the busiest leader (its shards elect anew), else any node.
      const slot = prng.nextBool() ? prng.pick(cluster.kv)
        : (await cluster.busiestLeader((slots) => prng.pick(slots))).slot;
      note(`isolate ${kvName(slot)}`);
      slot.inbound.partition();
      slot.pdLink.partition();
      await during();
      slot.inbound.heal();
      slot.pdLink.heal();
      note(`heal ${kvName(slot)}`);
    },
    "kill-kv": async () => {
      const { slot, leads } = await cluster.busiestLeader((slots) => prng.pick(slots));
      note(`SIGKILL ${kvName(slot)}, leader of ${leads}`);
      await slot.process.kill();
      await during();
      const offset = skew(prng.nextBool() ? 1 : -1);
      await cluster.startKv(slot, offset);
      note(`restarted ${kvName(slot)} clock ${offset} ms`);
    },
    "kill-sql": async () => {
      const slot = prng.pick(cluster.sql);
      note(`SIGKILL ${sqlName(slot)}`);
      await cluster.killSql(slot);
      await during();
      const offset = skew(prng.nextBool() ? 1 : -1);
      await cluster.startSql(slot, offset);
      note(`restarted ${sqlName(slot)} clock ${offset} ms`);
    },
    "cut-sql-pd": async () => {
      const slot = prng.pick(cluster.sql);
      note(`cut ${sqlName(slot)} | pd`);
      slot.pdLink.partition();
      await during();
      slot.pdLink.heal();
      note(`heal ${sqlName(slot)} | pd`);
    },
  };
  for (const name of prng.shuffle(Object.keys(faults))) {
    await committed();
    note(await cluster.leaderCounts());
    await faults[name]!();
  }
  await committed();
}

function outcomes(workload: AnyWorkload): string {
  const count = (type: string): number =>
    workload.recorder.events.filter((e) => e.type === type).length;
  return `${workload.name} ok/fail/info ${count("ok")}/${count("fail")}/${count("info")}`;
}

/** Errors the faults explain: aborts, lock waits, unavailable storage, lost connections. */
function explained(key: string): boolean {
  if (key.startsWith("connection: ")) return true;
  const errno = Number(key.slice(0, key.indexOf(":")));
  return [1105, 1205, 1213, 1317, 8027, 8028, 9007].includes(errno) ||
    (errno >= 9001 && errno <= 9010);
}

test("bank and list-append through SQL under kills, pauses, cut links and skewed clocks",
  { timeout: 150_000 * rounds }, async (t) => {
    const startedMs = performance.now();
    let stop = false;
    const errors = new Map<string, number>();
    const timedOut: string[] = [];
    const context = (mode: TxnMode): ClientContext => ({
      addresses: () => cluster.sql.map((s) => s.mysql),
      mode,
      stopped: () => stop,
      nowMs: () => performance.now(),
      errors,
      statementTimeoutMs: 15_000,
      timedOut,
    });
    const banks = modes.map((mode, i) => bankWorkload(context(mode), {
      table: `bank_${mode}`, accounts, clients: 2, seed: firstSeed + i, processBase: 10 * i,
    }));
    const lists = modes.map((mode, i) => listAppendWorkload(context(mode), {
      table: `lists_${mode}`, keys: listKeys, clients: 2, seed: firstSeed + 2 + i,
      processBase: 100 + 10 * i,
    }));
    const workloads = [...banks, ...lists] as AnyWorkload[];
    const running = Promise.all(workloads.map((w) => w.run()));
    const log: string[] = [];
    const where = (): string => `seeds ${seeds.join(",")}; faults: ${log.join(", ")}`;
    try {
      for (const seed of seeds) {
        log.push(`[seed ${seed}]`);
        await nemesisRound(seed, workloads, log);
      }
    } catch (error) {
      throw new Error(`nemesis failed (${where()}): ${String(error)}`, { cause: error });
    } finally {
      stop = true;
      cluster.healAll();
      await running;
    }

    // A final read of each table, recorded as one more operation of its history.
    const finalContext = { ...context("pessimistic"), stopped: () => false };
    for (const [i, mode] of modes.entries()) {
      const reader = new FaultClient(finalContext, 999, 0);
      await waitFor(`a final read of bank_${mode} (${where()})`, async () => {
        await reader.ready();
        const op = banks[i]!.recorder.invoke(999, "read", null);
        const outcome = await reader.transaction((tx) => readBalances(tx, `bank_${mode}`));
        if (outcome.type !== "ok") {
          op.fail();
          return undefined;
        }
        op.ok(outcome.value);
        return true;
      });
      await waitFor(`a final read of lists_${mode} (${where()})`, async () => {
        await reader.ready();
        const op = lists[i]!.recorder.invoke(999, "txn", []);
        const outcome = await reader.transaction((tx) => readLists(tx, `lists_${mode}`));
        if (outcome.type !== "ok") {
          op.fail();
          return undefined;
        }
        op.ok(outcome.value);
        return true;
      });
      reader.close();
    }

    const elapsedS = ((performance.now() - startedMs) / 1_000).toFixed(1);
    t.diagnostic(`${where()}; ${workloads.map(outcomes).join("; ")}; reconnects ${
      workloads.flatMap((w) => w.clients.map((c) => c.connects - 1))}; links ${
      cluster.linkCounts()}; ${elapsedS} s`);
    t.diagnostic(`errors: ${[...errors].map(([k, n]) => `${n}× ${k}`).join(" | ")}`);
    if (timedOut.length > 0) t.diagnostic(`statements past the deadline: ${timedOut.join(" | ")}`);

    for (const [i, mode] of modes.entries()) {
      const history = banks[i]!.recorder.events;
      const result = checkBank(history, { accounts: Array.from({ length: accounts },
        (_, a) => String(a)), total: accounts * initialBalance });
      assert.deepEqual(result.anomalies, [], `bank ${mode} (${where()})`);
      assert.ok(result.readsChecked > 1, `bank ${mode}: no read completed (${where()})`);
      assert.ok(history.some((e) => e.type === "ok" && e.f === "transfer"),
        `bank ${mode}: no transfer committed (${where()})`);
      // The final read (the last event) shows the exact total.
      const final = history.at(-1)!;
      assert.equal(final.type, "ok");
      assert.equal(Object.values(final.value as Record<string, number>)
        .reduce((a, v) => a + v, 0), accounts * initialBalance, `bank ${mode} (${where()})`);

      const forbidden: readonly AnomalyKind[] = mode === "pessimistic" ? allAnomalies
        : allAnomalies.filter((k) => k !== "G2-item");
      const listResult = checkListAppend(lists[i]!.recorder.events, { forbidden });
      assert.deepEqual(listResult.anomalies.filter((a) => forbidden.includes(a.kind)), [],
        `list-append ${mode} (${where()})`);
      assert.ok(lists[i]!.recorder.events.some((e) => e.type === "ok"),
        `list-append ${mode}: nothing committed (${where()})`);
    }
    t.diagnostic(`checked in ${((performance.now() - startedMs) / 1_000).toFixed(1)} s`);
    const unexplained = [...errors.keys()].filter((k) => !explained(k));
    assert.deepEqual(unexplained, [], `errors no fault explains (${where()})`);
  });
