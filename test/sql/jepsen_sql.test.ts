/**
 * Jepsen-style checks through SQL ([T11] part 2 on the in-process cluster): the bank and
 * list-append workloads (`test_sql_workloads.ts`) run on two SQL nodes in both
 * transaction modes with fixed seeds, and each history is checked against its mode's
 * contract:
 * - optimistic: snapshot isolation — every bank read sums to the total, and list-append
 *   shows no G0, G1a/b/c, G-single, lost update, incompatible order or duplicates (write
 *   skew, G2-item, is allowed);
 * - pessimistic: plain reads see consistent snapshots (bank sums), transfers through
 *   FOR UPDATE and `bal = bal - x` lose no update (the final total is exact), and
 *   list-append transactions whose reads lock are serializable: no anomaly at all.
 * Each run also checks that operations mostly succeeded and failed only with the errors
 * the mode allows.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type mysql from "mysql2/promise";
import { Prng } from "../../src/base/mod.ts";
import { checkBank } from "../jepsen/checker/bank.ts";
import { type AnomalyKind, allAnomalies, checkListAppend } from "../jepsen/checker/list_append.ts";
import { type SqlCluster, startSqlCluster } from "./sql_cluster.ts";
import { type ErrnoCounts, type TxnMode, initSqlBank, initSqlLists, runSqlBank,
  runSqlListAppend } from "./test_sql_workloads.ts";

const clients = 5;
let cluster: SqlCluster;
let connections: mysql.Connection[] = [];

before(async () => {
  cluster = await startSqlCluster();
  const nodes = [await cluster.startNode(), await cluster.startNode()];
  connections = await Promise.all(Array.from({ length: clients }, (_, i) =>
    nodes[i % nodes.length]!.connect("test")));
}, { timeout: 30_000 });

after(async () => {
  await cluster.close();
}, { timeout: 30_000 });

const seeds: Record<TxnMode, number> = { pessimistic: 8101, optimistic: 8102 };

function okCount(history: readonly { readonly type: string }[]): number {
  return history.filter((e) => e.type === "ok").length;
}

for (const mode of ["pessimistic", "optimistic"] as const) {
  describe(`SQL ${mode} transactions against the Jepsen checkers`, { timeout: 60_000 }, () => {
    it(`bank: every read sums to the total and the final total is exact (${mode})`,
      async () => {
        const accounts = 5;
        const initial = 100;
        const table = `bank_${mode}`;
        await initSqlBank(connections[0]!, table, accounts, initial);
        const counts: ErrnoCounts = new Map();
        const history = await runSqlBank({
          connections, mode, table, prng: new Prng(seeds[mode]), operationsPerClient: 30,
          nowMs: () => performance.now(),
        }, { accounts, amountMax: 30, counts });
        const names = Array.from({ length: accounts }, (_, i) => String(i));
        const result = checkBank(history, { accounts: names, total: accounts * initial });
        assert.deepEqual(result.anomalies, []);
        assert.ok(result.readsChecked > 10, `only ${result.readsChecked} reads succeeded`);
        assert.ok(okCount(history) > history.length / 4, `too few successes: ${[...counts]}`);
        const [final] = (await connections[0]!.query(
          `SELECT SUM(bal) AS s, MIN(bal) AS m FROM ${table}`))[0] as
          { s: unknown; m: unknown }[];
        assert.equal(Number(final!.s), accounts * initial);
        assert.ok(Number(final!.m) >= 0);
      });

    it(`list-append: the history meets the ${mode} contract`, async () => {
      const table = `lists_${mode}`;
      await initSqlLists(connections[0]!, table, 6);
      const counts: ErrnoCounts = new Map();
      const history = await runSqlListAppend({
        connections, mode, table, prng: new Prng(seeds[mode] + 10), operationsPerClient: 30,
        nowMs: () => performance.now(),
      }, { keys: 6, counts });
      const forbidden: readonly AnomalyKind[] = mode === "pessimistic" ? allAnomalies
        : allAnomalies.filter((k) => k !== "G2-item");
      const result = checkListAppend(history, { forbidden });
      assert.deepEqual(result.anomalies.filter((a) => forbidden.includes(a.kind)), []);
      assert.ok(result.valid);
      assert.ok(okCount(history) > history.length / 4, `too few successes: ${[...counts]}`);
    });
  });
}
