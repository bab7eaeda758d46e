/**
 * The bank workload against an in-process cluster (PD and two KV stores over real TCP,
 * `test/client/test_cluster.ts`): accounts on both shards, concurrent transfers and reads
 * through `TxnClient`, and the recorded history checked by `checkBank`. The same workload
 * and checker are meant to run against simulated clusters and real processes under faults
 * (issue T11, part 2).
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Prng } from "../../src/base/mod.ts";
import { type TestCluster, startTestCluster } from "../client/test_cluster.ts";
import { initBank, runBankWorkload } from "./bank_workload.ts";
import { checkBank } from "./checker/bank.ts";

let cluster: TestCluster | undefined;

before(async () => {
  cluster = await startTestCluster();
});

after(async () => {
  await cluster?.close();
});

for (const seed of [1, 2]) {
  test(`bank workload on an in-process cluster keeps the total (seed ${seed})`,
    { timeout: 30_000 }, async () => {
      assert.ok(cluster !== undefined);
      const client = cluster.client();
      // Accounts on both sides of the shard boundary "m", so transfers span two stores.
      const accounts = [`a${seed}`, `b${seed}`, `n${seed}`, `z${seed}`];
      const options = {
        accounts,
        initialBalance: 100,
        clients: 4,
        operationsPerClient: 15,
        transferAmountMax: 30,
        prng: new Prng(seed),
        nowMs: () => performance.now(),
      };
      await initBank(client, options);
      const events = await runBankWorkload(client, options);
      const result = checkBank(events, { accounts, total: 400 });
      assert.deepEqual(result.anomalies, []);
      assert.ok(result.readsChecked > 0, "some reads succeeded");
      const transfersOk = events.filter((e) => e.f === "transfer" && e.type === "ok").length;
      assert.ok(transfersOk > 0, "some transfers committed");
    });
}
