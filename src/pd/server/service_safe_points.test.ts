/**
 * Service safe points in the PD leader's `Cluster`, on a hand-driven wall clock and the
 * embedded metadata store: a table of steps (update, remove, advance the clock, reload as
 * the next leader would) with the lowest safe point in force expected after each, then
 * the refusals (below the GC safe point, a full table) and the RPC methods over a real
 * `PdServer`.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ErrorCode, hasErrorCode, limits } from "../../base/mod.ts";
import { createNodeEnv } from "../../env/mod.ts";
import { PdMethod } from "../../proto/mod.ts";
import { RpcClient } from "../../rpc/mod.ts";
import { EmbeddedMetaStore } from "../meta/embedded_store.ts";
import {
  Cluster,
  type MinServiceSafePoint,
  defaultClusterConfig,
  metaKeys,
} from "./cluster.ts";
import { silentPdLogger } from "./logger.ts";
import { PdServer } from "./pd_server.ts";

const opts = { timeout: 20_000 };
const nodeEnv = createNodeEnv();
let root = "";
let counter = 0;
const cleanups: (() => Promise<void>)[] = [];

before(() => {
  root = mkdtempSync(join(tmpdir(), "tessera-ssp-"));
});

after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  if (root !== "") rmSync(root, { recursive: true, force: true });
});

async function harness() {
  const clock = { nowMs: 1_000_000 };
  const env = { clock: { monotonicMs: () => clock.nowMs, wallMs: () => clock.nowMs } };
  const meta = await EmbeddedMetaStore.open(nodeEnv, { dir: join(root, `c-${++counter}`) });
  cleanups.push(() => meta.close());
  const load = () => Cluster.load(env, meta, { config: defaultClusterConfig, guard: () => [] });
  return { clock, load, meta };
}

type Step =
  | { readonly update: string; readonly safePoint: bigint; readonly ttlMs: number }
  | { readonly advanceMs: number }
  | { readonly reload: true };

interface Case {
  readonly name: string;
  readonly steps: readonly Step[];
  /** The min after each step: `[safePoint, serviceId]`, or null when none is in force. */
  readonly mins: readonly ([bigint, string] | null)[];
}

const cases: readonly Case[] = [
  {
    name: "the lowest of several services is the min; raising it moves the min",
    steps: [
      { update: "sql-a", safePoint: 300n, ttlMs: 10_000 },
      { update: "dump-1", safePoint: 200n, ttlMs: 10_000 },
      { update: "sql-b", safePoint: 250n, ttlMs: 10_000 },
      { update: "dump-1", safePoint: 400n, ttlMs: 10_000 },
    ],
    mins: [[300n, "sql-a"], [200n, "dump-1"], [200n, "dump-1"], [250n, "sql-b"]],
  },
  {
    name: "TTL 0 removes a service; removing an unknown one changes nothing",
    steps: [
      { update: "sql-a", safePoint: 100n, ttlMs: 10_000 },
      { update: "sql-b", safePoint: 150n, ttlMs: 10_000 },
      { update: "sql-a", safePoint: 0n, ttlMs: 0 },
      { update: "nobody", safePoint: 0n, ttlMs: 0 },
      { update: "sql-b", safePoint: 0n, ttlMs: 0 },
    ],
    mins: [[100n, "sql-a"], [100n, "sql-a"], [150n, "sql-b"], [150n, "sql-b"], null],
  },
  {
    name: "an expired service counts for nothing; a refresh before expiry keeps it",
    steps: [
      { update: "import-1", safePoint: 100n, ttlMs: 5_000 },
      { update: "sql-a", safePoint: 500n, ttlMs: 60_000 },
      { advanceMs: 4_999 },
      { update: "sql-a", safePoint: 500n, ttlMs: 60_000 },
      { advanceMs: 1 },
      { update: "import-2", safePoint: 120n, ttlMs: 1_000 },
      { advanceMs: 2_000 },
    ],
    mins: [
      [100n, "import-1"],
      [100n, "import-1"],
      [100n, "import-1"],
      [100n, "import-1"],
      [500n, "sql-a"],
      [120n, "import-2"],
      [500n, "sql-a"],
    ],
  },
  {
    name: "service safe points and their expiry survive a change of leader",
    steps: [
      { update: "dump-1", safePoint: 70n, ttlMs: 3_000 },
      { update: "sql-a", safePoint: 90n, ttlMs: 60_000 },
      { reload: true },
      { advanceMs: 3_000 },
      { reload: true },
    ],
    mins: [[70n, "dump-1"], [70n, "dump-1"], [70n, "dump-1"], [90n, "sql-a"], [90n, "sql-a"]],
  },
];

const show = (min: MinServiceSafePoint): [bigint, string] | null =>
  min.minSafePoint === null ? null : [min.minSafePoint, min.minServiceId as string];

for (const c of cases) {
  test(`Cluster service safe points: ${c.name}`, opts, async () => {
    const h = await harness();
    let cluster = await h.load();
    const got: ([bigint, string] | null)[] = [];
    for (const step of c.steps) {
      if ("update" in step) {
        const { update, safePoint, ttlMs } = step;
        got.push(show(await cluster.updateServiceSafePoint(update, safePoint, ttlMs)));
        continue;
      }
      if ("advanceMs" in step) h.clock.nowMs += step.advanceMs;
      else cluster = await h.load();
      got.push(show(cluster.minServiceSafePoint()));
    }
    assert.deepEqual(got, c.mins);
  });
}

test("Cluster refuses a service safe point below the GC safe point", opts, async () => {
  const h = await harness();
  const cluster = await h.load();
  await cluster.updateGcSafePoint(1_000n);
  await assert.rejects(
    cluster.updateServiceSafePoint("dump-1", 999n, 10_000),
    (e: unknown) => hasErrorCode(e, ErrorCode.PdGcSafePointTooOld),
  );
  assert.deepEqual(show(await cluster.updateServiceSafePoint("dump-1", 1_000n, 10_000)), [
    1_000n,
    "dump-1",
  ]);
});

test("Cluster refuses a new service when the table is full of unexpired ones", opts,
  async () => {
    const h = await harness();
    const cluster = await h.load();
    const max = limits.pdServiceSafePointsMax;
    for (let i = 0; i < max; i++) {
      await cluster.updateServiceSafePoint(`s-${i}`, 100n + BigInt(i), i === 0 ? 1_000 : 60_000);
    }
    // A known service may still refresh; a new one waits for an expiry, which frees a slot.
    await cluster.updateServiceSafePoint("s-1", 500n, 60_000);
    await assert.rejects(
      cluster.updateServiceSafePoint("new", 600n, 60_000),
      (e: unknown) => hasErrorCode(e, ErrorCode.PdGcServiceSafePointsFull),
    );
    h.clock.nowMs += 1_000;
    await cluster.updateServiceSafePoint("new", 600n, 60_000);
    // The expired s-0 was deleted to make room; the next leader sees the rest.
    const reloaded = await h.load();
    assert.deepEqual(show(reloaded.minServiceSafePoint()), [102n, "s-2"]);
    assert.equal(await h.meta.get(`${metaKeys.serviceSafePointPrefix}s-0`), undefined);
    assert.notEqual(await h.meta.get(`${metaKeys.serviceSafePointPrefix}s-1`), undefined);
  });

test("PdServer serves UpdateServiceSafePoint and GetMinServiceSafePoint", opts, async () => {
  const meta = await EmbeddedMetaStore.open(nodeEnv, { dir: join(root, `pd-${++counter}`) });
  cleanups.push(() => meta.close());
  const pd = await PdServer.start(nodeEnv, {
    name: "pd-1",
    host: "127.0.0.1",
    port: 0,
    store: meta,
    logger: silentPdLogger,
    leaseTtlMs: 1_000,
  });
  cleanups.push(() => pd.stop());
  const logger = { warn: () => undefined, error: () => undefined };
  const client = new RpcClient(nodeEnv, { host: "127.0.0.1", port: pd.address.port, logger });
  cleanups.push(() => client.close());
  for (let i = 0; i < 3_000 && !pd.isLeader; i++) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const header = { clusterId: pd.clusterId };
  const update = (serviceId: string, safePoint: bigint, ttlMs: number) =>
    client.call(PdMethod.updateServiceSafePoint, { header, serviceId, safePoint, ttlMs });
  assert.deepEqual(await update("sql-a", 50n, 60_000), {
    minSafePoint: 50n,
    minServiceId: "sql-a",
  });
  assert.deepEqual(await update("sql-b", 40n, 60_000), {
    minSafePoint: 40n,
    minServiceId: "sql-b",
  });
  await update("sql-b", 0n, 0);
  assert.deepEqual(await client.call(PdMethod.getMinServiceSafePoint, { header }), {
    minSafePoint: 50n,
    minServiceId: "sql-a",
  });
  await assert.rejects(update("bad/id", 1n, 1), (e: unknown) =>
    hasErrorCode(e, ErrorCode.PdRequestMalformed),
  );
});
