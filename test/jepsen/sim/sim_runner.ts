/**
 * One deterministic simulation run: `runSimulation({ seed, swarm, steps })` builds a
 * `SimCluster` (PD, three KV nodes on multi-Raft, a transactional client), splits the key
 * space into shards replicated on all three nodes, then runs the bank, list-append and
 * register workloads while a nemesis injects faults, then heals and checks.
 *
 * Faults (each a switch; without `swarm` all are on, with it each seed turns each on with
 * probability 1/2 — swarm testing): `partition` (a link cut, a node isolated, healed),
 * `crash` (a KV node or PD crashed, its unsynced disk writes lost and torn, restarted
 * later; at most one process down at a time), `delay` (slow links, 1–200 ms, which
 * reorders messages across connections), `drop` (connections reset per chunk with a small
 * probability: lost messages, retried requests and so duplicated deliveries), `skew` (a
 * node's wall clock offset by up to ±2 s and its rate drifting by up to ±1‰), and
 * `buggify` (the fault points in production code: Raft messages dropped, duplicated and
 * delayed, Raft flushes batched late, RPC handling delayed, commits stretched, lock
 * resolution acting on a stale ts).
 *
 * Checked continuously (every 100 virtual ms): Raft election safety (never two leaders of
 * one shard in one term), no applied index going backwards within a node's incarnation,
 * no fatal store error on a live node; and on every timestamp the client gets, TSO
 * linearizability (never at or below one already received). After `steps` nemesis steps:
 * every fault is healed, crashed nodes restarted, skew and buggify turned off, the
 * fault-phase operations must all finish, then each workload must make progress
 * (liveness), and the histories go through the checkers — bank totals, list-append
 * (Elle-style; snapshot isolation for optimistic runs; for pessimistic runs G-single and
 * G2 are allowed, lost updates are not), register linearizability. The transaction mode
 * is picked per seed.
 *
 * Determinism: every event runs from the one virtual scheduler, one callback at a time with
 * promise reactions settled in between, so the run is a function of the seed. The trace —
 * every history event, every fault with its virtual time, the final network counters — is
 * hashed (`traceHash`); the same seed must give the same hash.
 */
import { Prng } from "../../../src/base/mod.ts";
import { settleMicrotasks } from "../../../src/env/sim/test_sim_drive.ts";
import { checkBank } from "../checker/bank.ts";
import { checkListAppend, type AnomalyKind } from "../checker/list_append.ts";
import type { HistoryEvent } from "../checker/history.ts";
import { checkRegister } from "../checker/register.ts";
import { type SimCluster as Cluster, SimCluster } from "./sim_cluster.ts";
import {
  BankWorkload,
  ListAppendWorkload,
  RegisterWorkload,
  bankAccounts,
  bankInitialBalance,
  registerKeys,
} from "./sim_workloads.ts";

/** Virtual time the workloads get after the heal to show progress. */
const healedPhaseMs = Number(process.env["SIM_HEALED_MS"] ?? 10_000);

export const faultKinds = ["partition", "crash", "delay", "drop", "skew", "buggify"] as const;
export type FaultKind = (typeof faultKinds)[number];

export interface SimRunOptions {
  readonly seed: number;
  /** Each seed picks which faults are on (default: all on). */
  readonly swarm?: boolean;
  /** Nemesis steps in the fault phase (default 12); each lasts 0.5–3 virtual s. */
  readonly steps?: number;
  /** Progress lines (default: none). */
  readonly log?: (line: string) => void;
}

export interface SimRunResult {
  readonly seed: number;
  readonly faults: readonly FaultKind[];
  readonly mode: "optimistic" | "pessimistic";
  readonly traceHash: string;
  /** Everything found wrong; empty when the run passed. */
  readonly anomalies: readonly string[];
  readonly stats: {
    readonly virtualMs: number;
    readonly operations: Record<string, { ok: number; fail: number; info: number }>;
    readonly faultEvents: number;
    readonly crashes: number;
    readonly buggified: Record<string, number>;
  };
  readonly trace: readonly string[];
  /** The recorded histories (for debugging a failing seed). */
  readonly histories?: Readonly<Record<string, readonly HistoryEvent[]>>;
  /** Start and commit timestamps of bank operations by history index (debugging). */
  readonly bankTimestamps?: ReadonlyMap<number, { startTs: bigint; commitTs?: bigint;
    path?: string }>;
  /** Errors of failed bank transfers by history index (debugging). */
  readonly bankErrors?: ReadonlyMap<number, string>;
  /** Errors of failed list-append transactions by history index (debugging). */
  readonly listErrors?: ReadonlyMap<number, string>;
}

/** The command that replays `seed`. */
export function reproduceCommand(options: SimRunOptions): string {
  return `npm run sim -- --seed ${options.seed}${options.swarm === true ? " --swarm" : ""}` +
    (options.steps === undefined ? "" : ` --steps ${options.steps}`);
}

/** Thrown when the simulation cannot reach a state within its virtual-time budget. */
class Stuck extends Error {}

/**
 * Runs the scheduler one callback at a time, settling promise reactions after each, until
 * `done()` or `budgetMs` of virtual time pass (then `Stuck`).
 */
async function driveUntil(cluster: Cluster, done: () => boolean, what: string,
  budgetMs: number): Promise<void> {
  const { scheduler } = cluster;
  const untilMs = scheduler.monotonicMs() + budgetMs;
  await settleMicrotasks();
  while (!done()) {
    const next = scheduler.nextDeadlineMs();
    if (next === undefined || next > untilMs) {
      throw new Stuck(`stuck: ${what} not reached within ${budgetMs} virtual ms`);
    }
    scheduler.runNext();
    await settleMicrotasks();
  }
}

/** Drives the simulation until `promise` settles; returns its value or throws its error. */
async function drive<T>(cluster: Cluster, promise: Promise<T>, what: string,
  budgetMs = 60_000): Promise<T> {
  let settled = false;
  const tracked = promise.finally(() => (settled = true));
  tracked.catch(() => undefined);
  await driveUntil(cluster, () => settled, what, budgetMs);
  return tracked;
}

/** Retries `attempt` (driving the simulation) until it succeeds or the budget is spent. */
async function retry(cluster: Cluster, attempt: () => Promise<void>, what: string,
  budgetMs: number): Promise<void> {
  const deadline = cluster.scheduler.monotonicMs() + budgetMs;
  for (;;) {
    try {
      await drive(cluster, attempt(), what, budgetMs);
      return;
    } catch (error) {
      if (error instanceof Stuck || cluster.scheduler.monotonicMs() > deadline) throw error;
      await drive(cluster, cluster.clientEnv.timers.sleep(200), "a pause");
    }
  }
}

function threeVotersWithLeader(cluster: Cluster, count: number): boolean {
  const shards = cluster.shards();
  return shards.length === count && shards.every((r) =>
    r.leader !== null && r.shard.peers.length === 3 &&
    r.shard.peers.every((p) => p.role === "voter"));
}

/** Runs one seed; see the file comment. Never throws for a finding: it is in `anomalies`. */
export async function runSimulation(options: SimRunOptions): Promise<SimRunResult> {
  const log = options.log ?? ((): void => undefined);
  const steps = options.steps ?? 12;
  const choices = new Prng((options.seed * 2_654_435_761) >>> 0);
  const faults = faultKinds.filter(() => options.swarm !== true || choices.nextBool(0.5));
  const on = (kind: FaultKind): boolean => faults.includes(kind);
  const mode = choices.nextBool(0.5) ? "pessimistic" as const : "optimistic" as const;
  const cluster = new SimCluster({ seed: options.seed });
  const trace: string[] = [];
  const anomalies: string[] = [];
  const now = (): number => cluster.scheduler.monotonicMs();
  const note = (event: string): void => {
    trace.push(`${now().toFixed(3)} ${event}`);
    log(`[${(now() / 1000).toFixed(3)}s] ${event}`);
  };
  note(`seed ${options.seed} mode ${mode} faults ${faults.join(",") || "none"}`);

  // ---- continuous invariants ----
  const leaders = new Map<string, string>();
  const applied = new Map<string, number>();
  let fatalsSeen = 0;
  const checkInvariants = (): void => {
    for (const node of cluster.nodes) {
      const store = node.store;
      if (store === undefined) continue;
      for (const { shard } of store.shards()) {
        const status = store.status(shard.id);
        if (status === undefined) continue;
        if (status.role === "leader") {
          const key = `${shard.id}/${status.term}`;
          const holder = leaders.get(key);
          if (holder === undefined) leaders.set(key, node.name);
          else if (holder !== node.name) {
            anomalies.push(`election safety: shard ${shard.id} term ${status.term} led by ` +
              `${holder} and ${node.name}`);
          }
        }
        const appliedKey = `${node.name}#${node.crashes}/${shard.id}`;
        const before = applied.get(appliedKey) ?? 0;
        if (status.appliedIndex < before) {
          anomalies.push(`applied index of shard ${shard.id} on ${node.name} went back ` +
            `from ${before} to ${status.appliedIndex}`);
        }
        applied.set(appliedKey, status.appliedIndex);
      }
    }
    while (fatalsSeen < cluster.fatals.length) {
      anomalies.push(`fatal store error: ${String(cluster.fatals[fatalsSeen++])}`);
    }
  };

  const workloadPrng = new Prng((options.seed ^ 0x9e37_79b9) >>> 0);
  let stop = false;
  const client = cluster.client();
  const ctx = {
    client,
    prng: workloadPrng,
    pessimistic: mode === "pessimistic",
    nowMs: now,
    stopped: () => stop,
    think: () => cluster.clientEnv.timers.sleep(workloadPrng.nextInt(50)),
  };
  const bank = new BankWorkload(ctx);
  const lists = new ListAppendWorkload(ctx);
  const registers = new RegisterWorkload(ctx, 60);
  let invariantTimer: { cancel(): void } | undefined;
  try {
    // ---- build the cluster ----
    await drive(cluster, cluster.startPd(), "PD start");
    await driveUntil(cluster, () => cluster.pd.isLeader, "PD leadership", 30_000);
    for (const node of cluster.nodes) await drive(cluster, node.start(), `${node.name} start`);
    await driveUntil(cluster, () => threeVotersWithLeader(cluster, 1),
      "shard 1 with three voters", 60_000);
    const first = cluster.shards()[0];
    if (first === undefined) throw new Error("no shard");
    const enc = new TextEncoder();
    cluster.pd.addOperator({
      kind: "split",
      shardId: first.shard.id,
      policy: "byKeys",
      keys: ["bank/c", "list/", "list/3", "reg/"].map((k) => enc.encode(k)),
    });
    await driveUntil(cluster, () => threeVotersWithLeader(cluster, 5),
      "five shards with three voters", 60_000);
    note(`cluster formed: ${cluster.shards().length} shards`);
    invariantTimer = cluster.pdEnv.timers.setInterval(100, checkInvariants);
    await retry(cluster, () => bank.init(), "bank init", 60_000);

    // ---- fault phase ----
    const buggify = cluster.pdEnv.buggifyControl;
    buggify.enable(on("buggify"));
    const running = Promise.all([bank.run(0, 3), lists.run(10, 3), registers.run(20, 2)]);
    let runningDone = false;
    void running.finally(() => (runningDone = true));
    const names = cluster.nodes.map((n) => n.name);
    const nemesis = new Prng((options.seed ^ 0x6e65_6d65) >>> 0);
    let faultEvents = 0;
    for (let step = 0; step < steps; step++) {
      await drive(cluster, cluster.clientEnv.timers.sleep(nemesis.nextRange(500, 3_000)),
        "nemesis pause");
      const actions: (() => Promise<void> | void)[] = [];
      if (on("partition")) {
        actions.push(() => {
          const a = nemesis.pick([...names, "pd", "client"]);
          const b = nemesis.pick(names.filter((n) => n !== a));
          cluster.network.partition(a, b);
          note(`partition ${a} | ${b}`);
        }, () => {
          const a = nemesis.pick(names);
          cluster.network.isolate(a);
          note(`isolate ${a}`);
        }, () => {
          cluster.network.heal();
          note("heal network");
        });
      }
      if (on("crash")) {
        actions.push(async () => {
          if (!cluster.pdRunning) {
            note("restart pd");
            await drive(cluster, cluster.restartPd(), "PD restart");
            return;
          }
          const down = cluster.nodes.find((n) => !n.running);
          if (down === undefined && nemesis.nextBool(0.2)) {
            note("crash pd");
            cluster.crashPd();
            return;
          }
          if (down !== undefined) {
            if (down.starting) return;
            // In the background: start-up may wait for PD through a partition.
            note(`restart ${down.name}`);
            void down.start();
            return;
          }
          const victim = nemesis.pick(cluster.nodes);
          note(`crash ${victim.name}`);
          await drive(cluster, victim.crash(), `${victim.name} crash`);
        });
      }
      if (on("delay")) {
        actions.push(() => {
          const a = nemesis.pick(names);
          const b = nemesis.pick([...names, "pd", "client"].filter((n) => n !== a));
          const maxMs = nemesis.nextRange(5, 200);
          cluster.network.setDelay(a, b, { minMs: 1, maxMs });
          note(`delay ${a} - ${b} 1..${maxMs} ms`);
        });
      }
      if (on("drop")) {
        actions.push(() => {
          const a = nemesis.pick(names);
          const b = nemesis.pick([...names, "pd", "client"].filter((n) => n !== a));
          const p = nemesis.nextRange(1, 20) / 1000;
          cluster.network.setResetProbability(a, b, p);
          note(`drop ${a} - ${b} p=${p}`);
        });
      }
      if (on("skew")) {
        actions.push(() => {
          const node = nemesis.pick([...cluster.nodes.map((n) => n.env), cluster.pdEnv]);
          const offsetMs = nemesis.nextRange(-2_000, 2_000);
          const driftRate = nemesis.nextRange(-1_000, 1_000) / 1_000_000;
          node.clock.setSkew({ offsetMs, driftRate });
          note(`skew ${node.host} offset ${offsetMs} ms drift ${driftRate}`);
        });
      }
      if (actions.length === 0) continue;
      await nemesis.pick(actions)();
      faultEvents++;
    }

    // ---- heal ----
    note("heal all");
    buggify.enable(false);
    cluster.network.heal();
    const all = [...names, "pd", "client"];
    for (const a of all) {
      for (const b of all) {
        if (a >= b) continue;
        cluster.network.setResetProbability(a, b, 0);
        cluster.network.setDelay(a, b, { minMs: 0.5, maxMs: 2 });
      }
    }
    for (const env of [cluster.pdEnv, ...cluster.nodes.map((n) => n.env)]) {
      env.clock.setSkew({ offsetMs: env.clock.skew.offsetMs, driftRate: 0 });
    }
    if (!cluster.pdRunning) {
      note("restart pd");
      await drive(cluster, cluster.restartPd(), "PD restart after heal");
    }
    for (const node of cluster.nodes) {
      if (!node.running) {
        if (!node.starting) note(`restart ${node.name}`);
        await drive(cluster, node.start(), `${node.name} restart after heal`, 120_000);
      }
    }
    stop = true;
    try {
      await driveUntil(cluster, () => runningDone, "fault-phase operations to finish", 180_000);
    } catch (error) {
      if (!(error instanceof Stuck)) throw error;
      anomalies.push(`liveness: ${error.message}`);
    }

    // ---- liveness after heal ----
    if (runningDone) {
      const okBefore = okCounts(bank, lists, registers);
      stop = false;
      const healed = Promise.all([bank.run(0, 3), lists.run(10, 3)]);
      let healedDone = false;
      void healed.finally(() => (healedDone = true));
      await drive(cluster, cluster.clientEnv.timers.sleep(healedPhaseMs), "the healed phase");
      stop = true;
      try {
        await driveUntil(cluster, () => healedDone, "healed-phase operations to finish", 60_000);
      } catch (error) {
        if (!(error instanceof Stuck)) throw error;
        anomalies.push(`liveness: ${error.message}`);
      }
      const okAfter = okCounts(bank, lists, registers);
      if (okAfter.bank <= okBefore.bank) anomalies.push("liveness: no bank operation " +
        "succeeded in 10 virtual s after heal");
      if (okAfter.list <= okBefore.list) anomalies.push("liveness: no list-append " +
        "transaction succeeded in 10 virtual s after heal");
      const final = await drive(cluster, bank.read(99), "final read");
      if (final === undefined) anomalies.push("liveness: the final bank read failed");
      if (anomalies.some((a) => a.startsWith("liveness"))) note(diagnostics(cluster));
    }
    checkInvariants();
    anomalies.push(...cluster.tsoViolations().slice(0, 5));
    note(`buggified ${JSON.stringify(Object.fromEntries(buggify.fired))}`);
    note(`network ${JSON.stringify(cluster.network.stats)}`);

    // ---- checkers ----
    const bankResult = checkBank(bank.recorder.events, {
      accounts: bankAccounts,
      total: bankAccounts.length * bankInitialBalance,
    });
    for (const anomaly of bankResult.anomalies.slice(0, 5)) {
      anomalies.push(`bank: ${JSON.stringify(anomaly)}`);
    }
    const forbidden: AnomalyKind[] = ["G0", "G1a", "G1b", "G1c", "lost-update",
      "incompatible-order", "duplicate-elements"];
    if (mode === "optimistic") forbidden.push("G-single");
    const listResult = checkListAppend(lists.recorder.events, { forbidden });
    for (const anomaly of listResult.anomalies.filter((a) => forbidden.includes(a.kind))
      .slice(0, 5)) {
      anomalies.push(`list-append ${anomaly.kind}: ${anomaly.message}`);
    }
    for (const key of registerKeys) {
      const events = registers.recorders.get(key)?.events ?? [];
      const result = checkRegister(events, { operationsMax: 200, statesMax: 200_000 });
      if (result.valid === false) anomalies.push(`register ${key}: ${result.message}`);
      else if (result.valid === "unknown") note(`register ${key}: ${result.message}`);
    }
    const histories = [bank.recorder.events, lists.recorder.events,
      ...registerKeys.map((k) => registers.recorders.get(k)?.events ?? [])];
    for (const history of histories) {
      for (const e of history) {
        trace.push(`${e.timeMs.toFixed(3)} p${e.process} ${e.type} ${e.f} ` +
          JSON.stringify(e.value));
      }
    }
    return {
      seed: options.seed,
      faults,
      mode,
      traceHash: hashTrace(cluster, trace),
      anomalies,
      stats: {
        virtualMs: now(),
        operations: {
          bank: outcomes(bank.recorder.events),
          "list-append": outcomes(lists.recorder.events),
          register: outcomes(registerKeys.flatMap((k) => registers.recorders.get(k)?.events ?? [])),
        },
        faultEvents,
        crashes: cluster.nodes.reduce((n, node) => n + node.crashes, cluster.pdCrashes),
        buggified: Object.fromEntries(buggify.fired),
      },
      trace,
      bankTimestamps: bank.timestamps,
      bankErrors: bank.errors,
      listErrors: lists.errors,
      histories: {
        bank: bank.recorder.events,
        "list-append": lists.recorder.events,
        ...Object.fromEntries(registerKeys.map((k) => [k, registers.recorders.get(k)?.events ??
          []])),
      },
    };
  } catch (error) {
    anomalies.push(`run aborted: ${error instanceof Error ? error.stack ?? error.message
      : String(error)}`);
    return {
      seed: options.seed,
      faults,
      mode,
      traceHash: hashTrace(cluster, trace),
      anomalies,
      stats: { virtualMs: now(), operations: {}, faultEvents: 0, crashes: 0, buggified: {} },
      trace,
    };
  } finally {
    invariantTimer?.cancel();
    stop = true;
    await drive(cluster, cluster.close(), "close", 120_000).catch(() => undefined);
  }
}

/** What a stalled cluster looks like: PD, shard leaders per node, logged warnings. */
function diagnostics(cluster: Cluster): string {
  const pd = cluster.pdRunning ? JSON.stringify(cluster.pd.stats()) : "down";
  const nodes = cluster.nodes.map((n) => {
    const store = n.store;
    if (store === undefined) return `${n.name}: down`;
    const shards = store.shards();
    return `${n.name}: ${shards.length} shards, leads ${shards.filter((s) => s.isLeader)
      .map((s) => s.shard.id).join(",")}`;
  });
  return `diagnostics: pd ${pd}; ${nodes.join("; ")}; warnings ${cluster.log.warnings}, ` +
    `errors ${cluster.log.errors}`;
}

function outcomes(events: readonly { type: string }[]): { ok: number; fail: number;
  info: number } {
  const counts = { ok: 0, fail: 0, info: 0 };
  for (const e of events) if (e.type !== "invoke") counts[e.type as "ok" | "fail" | "info"]++;
  return counts;
}

function okCounts(bank: BankWorkload, lists: ListAppendWorkload,
  _registers: RegisterWorkload): { bank: number; list: number } {
  return {
    bank: bank.recorder.events.filter((e) => e.type === "ok" && e.f === "transfer").length,
    list: lists.recorder.events.filter((e) => e.type === "ok").length,
  };
}

function hashTrace(cluster: Cluster, trace: readonly string[]): string {
  const digest = cluster.pdEnv.crypto.sha256(new TextEncoder().encode(trace.join("\n")));
  return [...digest.subarray(0, 12)].map((x) => x.toString(16).padStart(2, "0")).join("");
}
