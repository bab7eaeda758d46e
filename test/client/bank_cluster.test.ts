/**
 * The bank workload of [T6]'s "done when" against a real cluster on loopback: an in-process
 * PD and three `tessera kv` child processes on Raft, the key space split at "m" so that
 * accounts live in two shards. Four workers make a fixed number of seeded random transfers
 * (optimistic and pessimistic, funds checked, some with async commit off so 2PC runs too)
 * plus single-account rewrites (1PC on purpose); two readers sum every balance in one
 * snapshot transaction each. Midway the leader of one shard is killed with SIGKILL, the
 * workload keeps running, and the node restarts on its data dir.
 *
 * The invariant is the total: every snapshot sum and the final sum equal the initial one,
 * whatever happened to individual transfers. A transfer that fails with a typed error is
 * counted as failed; one that ends in `CLIENT:Txn:CommitResultUnknown` is counted as
 * unknown, neither done nor failed, and not retried. Any other error fails the test.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { ErrorCode, Prng, TesseraError } from "../../src/base/mod.ts";
import { type CommitPath, type Transaction, TxnClient } from "../../src/client/mod.ts";
import {
  type KvNode,
  type LoopbackCluster,
  type Serving,
  env,
  waitFor,
} from "../kv/cluster_harness.ts";
import { allShards, formShards, startRaftCluster } from "./raft_cluster.ts";
import { b, quietLogger, str } from "./test_cluster.ts";

const opts = { timeout: 90_000 };
const accountCount = 8;
const initialBalance = 100;
const total = accountCount * initialBalance;
const transfersTotal = 150;
const workerCount = 4;
const readerCount = 2;
/** Attempts of one transfer on retryable errors before it counts as failed. */
const attemptsMax = 8;
/** Finished transfers before the kill, and before the restart. */
const killAfterFinished = 40;
const restartAfterFinished = 80;

/** Accounts 0-3 below the split key "m" (first shard), 4-7 above it (second shard). */
const accounts = Array.from({ length: accountCount }, (_, i) =>
  b(i < accountCount / 2 ? `acct-${i}` : `zacct-${i}`),
);
const shardOfAccount = (i: number): number => (i < accountCount / 2 ? 0 : 1);

/** Errors a transfer may meet while a store dies and its shard elects a new leader. */
const retryableCodes = new Set<string>([
  ErrorCode.KvTxnWriteConflict,
  ErrorCode.KvTxnDeadlock,
  ErrorCode.KvTxnLockWaitTimeout,
  ErrorCode.KvTxnTxnLockNotFound,
  ErrorCode.KvTxnPessimisticLockNotFound,
  ErrorCode.KvTxnCommitTsExpired,
  ErrorCode.KvSchedulerBusy,
  ErrorCode.ClientRouteRetriesExhausted,
  ErrorCode.ClientTxnLockResolveTimeout,
  ErrorCode.RpcConnectFailed,
  ErrorCode.RpcConnectionClosed,
  ErrorCode.RpcDeadlineExceeded,
  ErrorCode.PdUnavailable,
]);

let cluster: LoopbackCluster;
let servings: Map<KvNode, Serving>;
let client: TxnClient;

before(async () => {
  cluster = await startRaftCluster();
  servings = await formShards(cluster, { splitKeys: [b("m")] });
  client = new TxnClient(env, { pd: cluster.pdClient, logger: quietLogger });
});

after(async () => {
  await client?.close();
  await cluster?.close();
});

/** What the workload saw; printed as a diagnostic and asserted on. */
interface Tally {
  committed: number;
  failed: number;
  unknown: number;
  insufficientFunds: number;
  /** Failed attempts by error code (each retried, up to `attemptsMax`). */
  errors: Map<string, number>;
  /** Commit paths by kind of transaction: "cross-shard", "same-shard", "single". */
  paths: Map<string, number>;
  committedAfterKill: number;
  committedAfterRestart: number;
  unexpected: unknown[];
  /** Per account, the sum of the committed transfers' amounts (in minus out). */
  ledger: number[];
  /** The transfers whose outcome is unknown: each happened or did not. */
  unknownSteps: { from: number; to: number; amount: number }[];
}

function bump(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

function balanceOf(value: Uint8Array | null): number {
  assert.ok(value !== null, "every account exists");
  return Number(str(value));
}

/** The code of a retryable error, or undefined for one that is not. */
function retryableCode(error: unknown): string | undefined {
  return error instanceof TesseraError && retryableCodes.has(error.code) && !error.ambiguous
    ? error.code
    : undefined;
}

function isUnknown(error: unknown): boolean {
  return error instanceof TesseraError && error.code === ErrorCode.ClientTxnCommitResultUnknown;
}

/** Releases an unfinished transaction's locks; a failure there is tallied, not hidden. */
async function abandon(txn: Transaction, tally: Tally): Promise<void> {
  try {
    await txn.rollback();
  } catch (error) {
    if (!(error instanceof TesseraError && error.code === ErrorCode.ClientTxnFinished)) {
      bump(tally.errors, `rollback:${retryableCode(error) ?? "other"}`);
    }
  }
}

type Outcome = "committed" | "insufficientFunds" | CommitPath;

/**
 * One attempt: moves `amount` from account `from` to `to` (both the same for a
 * single-account rewrite) if the funds allow. Resolves with the commit path taken, or
 * "insufficientFunds" (nothing written).
 */
async function attempt(
  step: { from: number; to: number; amount: number },
  txnOptions: { pessimistic: boolean; enableAsyncCommit: boolean },
  tally: Tally,
): Promise<Outcome> {
  const txn = await client.begin(txnOptions);
  const keys = step.from === step.to
    ? [accounts[step.from] as Uint8Array]
    : [accounts[step.from] as Uint8Array, accounts[step.to] as Uint8Array];
  let committing = false;
  try {
    // Pessimistic: a current read under locks; optimistic: a snapshot read whose keys
    // join the commit as locks, so a concurrent writer conflicts at prewrite.
    const values = await txn.lockKeys(keys, { returnValues: true, waitTimeoutMs: 5_000 });
    const balances = values.map(balanceOf);
    if (step.from === step.to) {
      txn.set(keys[0] as Uint8Array, b(String(balances[0])));
    } else {
      if ((balances[0] as number) < step.amount) {
        await txn.rollback();
        return "insufficientFunds";
      }
      txn.set(keys[0] as Uint8Array, b(String((balances[0] as number) - step.amount)));
      txn.set(keys[1] as Uint8Array, b(String((balances[1] as number) + step.amount)));
    }
    committing = true;
    await txn.commit();
    assert.ok(txn.commitPath !== undefined, "a committed write has a commit path");
    return txn.commitPath;
  } catch (error) {
    if (!committing) await abandon(txn, tally);
    throw error;
  }
}

test("a bank workload keeps the total while a shard leader is SIGKILLed and restarted",
  opts, async () => {
    const setup = await client.begin();
    for (const account of accounts) setup.set(account, b(String(initialBalance)));
    await setup.commit();

    const tally: Tally = {
      committed: 0,
      failed: 0,
      unknown: 0,
      insufficientFunds: 0,
      errors: new Map(),
      paths: new Map(),
      committedAfterKill: 0,
      committedAfterRestart: 0,
      unexpected: [],
      ledger: new Array<number>(accountCount).fill(0),
      unknownSteps: [],
    };
    let killed = false;
    let restarted = false;
    let finished = 0;
    let next = 0;
    const prng = new Prng(0x7e55e7a);

    const worker = async (): Promise<void> => {
      for (let i = next++; i < transfersTotal; i = next++) {
        // Every fifth step rewrites one account (1PC); the rest move money between two.
        const from = prng.nextInt(accountCount);
        const to = i % 5 === 0
          ? from
          : (from + 1 + prng.nextInt(accountCount - 1)) % accountCount;
        const step = { from, to, amount: prng.nextRange(1, 25) };
        const txnOptions = { pessimistic: prng.nextBool(), enableAsyncCommit: i % 4 !== 1 };
        const kind = from === to
          ? "single"
          : shardOfAccount(from) === shardOfAccount(to) ? "same-shard" : "cross-shard";
        let outcome: "committed" | "failed" | "unknown" | "insufficientFunds" = "failed";
        for (let a = 0; a < attemptsMax; a++) {
          try {
            const result = await attempt(step, txnOptions, tally);
            if (result === "insufficientFunds") {
              outcome = "insufficientFunds";
            } else {
              outcome = "committed";
              bump(tally.paths, `${kind}:${result}`);
            }
            break;
          } catch (error) {
            if (isUnknown(error)) {
              outcome = "unknown";
              break;
            }
            const code = retryableCode(error);
            if (code === undefined) {
              tally.unexpected.push(error);
              break;
            }
            bump(tally.errors, code);
          }
        }
        switch (outcome) {
          case "committed":
            tally.committed++;
            tally.ledger[from] = (tally.ledger[from] ?? 0) - (from === to ? 0 : step.amount);
            tally.ledger[to] = (tally.ledger[to] ?? 0) + (from === to ? 0 : step.amount);
            if (killed) tally.committedAfterKill++;
            if (restarted) tally.committedAfterRestart++;
            break;
          case "failed":
            tally.failed++;
            break;
          case "unknown":
            tally.unknown++;
            tally.unknownSteps.push(step);
            break;
          case "insufficientFunds":
            tally.insufficientFunds++;
            break;
          default:
            outcome satisfies never;
        }
        finished++;
      }
    };

    const sums: number[] = [];
    const negative: number[][] = [];
    let readErrors = 0;
    let workersDone = false;
    const reader = async (): Promise<void> => {
      while (!workersDone) {
        try {
          const txn = await client.begin();
          const balances = (await txn.batchGet(accounts)).map(balanceOf);
          await txn.commit();
          sums.push(balances.reduce((x, y) => x + y, 0));
          if (balances.some((n) => n < 0)) negative.push(balances);
        } catch (error) {
          if (retryableCode(error) === undefined) tally.unexpected.push(error);
          readErrors++;
        }
      }
    };

    const workers = Promise.all(Array.from({ length: workerCount }, worker)).finally(() => {
      workersDone = true;
    });
    const readers = Promise.all(Array.from({ length: readerCount }, reader));

    // Midway: SIGKILL the process leading the shard of the "z" accounts.
    let victimStore = 0;
    try {
      await waitFor("transfers before the kill", () =>
        finished >= killAfterFinished ? true : undefined,
      );
      const target = allShards(cluster).find((r) => r.shard.startKey.length > 0);
      assert.ok(target?.leader, "the second shard has a leader");
      victimStore = target.leader.storeId;
      const victim = [...servings].find(([, s]) => s.storeId === victimStore)?.[0];
      assert.ok(victim !== undefined);
      victim.kill("SIGKILL");
      killed = true;
      await victim.exited;
      await waitFor("a new leader of the killed shard", () => {
        const r = allShards(cluster).find((s) => s.shard.id === target.shard.id);
        return r?.leader != null && r.leader.storeId !== victimStore ? true : undefined;
      });
      await waitFor("transfers before the restart", () =>
        finished >= restartAfterFinished ? true : undefined,
      );
      servings.delete(victim);
      const node = cluster.startNode({ dataDir: victim.dataDir });
      const serving = await node.serving;
      servings.set(node, serving);
      assert.equal(serving.storeId, victimStore);
      restarted = true;
    } finally {
      await workers;
      await readers;
    }
    await client.drain();

    const check = await client.begin();
    const final = (await check.batchGet(accounts)).map(balanceOf);
    await check.commit();
    const report = {
      ...tally,
      errors: Object.fromEntries(tally.errors),
      paths: Object.fromEntries(tally.paths),
      unexpected: tally.unexpected.map(String),
      reads: sums.length,
      readErrors,
      final,
      victimStore,
      kv: client.kv.stats,
      resolver: client.resolver.stats,
    };
    console.log(`bank: ${JSON.stringify(report)}`);

    assert.deepEqual(tally.unexpected, [], "only typed retryable or unknown outcomes");
    assert.equal(
      tally.committed + tally.failed + tally.unknown + tally.insufficientFunds,
      transfersTotal,
    );
    assert.equal(final.reduce((x, y) => x + y, 0), total, "the final balances keep the total");
    assert.ok(final.every((n) => n >= 0), `no negative balance: ${String(final)}`);
    // Exactly the committed transfers (and some subset of the unknown ones) happened: a
    // transfer reported as failed that did commit would break this, not the total.
    assert.ok(tally.unknownSteps.length <= 12, "few enough unknowns to try every subset");
    const explained = Array.from({ length: 2 ** tally.unknownSteps.length }, (_, mask) => {
      const expected = tally.ledger.map((d) => initialBalance + d);
      tally.unknownSteps.forEach((u, i) => {
        if ((mask >> i) % 2 === 1 && u.from !== u.to) {
          expected[u.from] = (expected[u.from] ?? 0) - u.amount;
          expected[u.to] = (expected[u.to] ?? 0) + u.amount;
        }
      });
      return expected.every((n, i) => n === final[i]);
    }).some(Boolean);
    assert.ok(explained, `final ${String(final)} is initial + committed transfers`);
    assert.deepEqual(negative, [], "no reader saw a negative balance");
    assert.ok(sums.length >= 10, `readers read (${sums.length})`);
    assert.deepEqual(sums.filter((n) => n !== total), [], "every snapshot sum is the total");
    // The client met the dead leader (a refused connection or a stale route) and recovered.
    const kv = client.kv.stats;
    assert.ok(kv.transportErrors + kv.notLeader > 0, `the kill was felt: ${JSON.stringify(kv)}`);
    assert.ok(tally.committedAfterKill > 0, "transfers commit after the kill");
    assert.ok(tally.committedAfterRestart > 0, "transfers commit after the restart");
    // Single-account rewrites and same-shard transfers commit in one phase; cross-shard
    // transfers take async commit, or 2PC where it was turned off.
    assert.ok((tally.paths.get("single:onePc") ?? 0) > 0, "1PC seen");
    assert.ok((tally.paths.get("cross-shard:asyncCommit") ?? 0) > 0, "async commit seen");
    assert.ok((tally.paths.get("cross-shard:twoPc") ?? 0) > 0, "2PC seen");
    for (const key of tally.paths.keys()) {
      const [kind, path] = key.split(":");
      assert.ok(kind !== "cross-shard" || path !== "onePc", "a cross-shard commit is never 1PC");
      assert.ok(kind === "cross-shard" || path === "onePc", `${key}: one shard commits in 1PC`);
    }
  });
