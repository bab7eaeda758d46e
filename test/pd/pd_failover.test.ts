/**
 * Three `tessera pd` processes on a real three-member etcd cluster (started on free ports in
 * a temporary directory): TSO stays strictly increasing while the PD leader is SIGKILLed
 * and restarted, and while a leader is SIGSTOPped and resumed — the resumed old leader must
 * refuse to issue a single timestamp, even for a request that was waiting in its socket.
 * The unavailability after each fault is measured and printed. Skipped where etcd is not
 * installed, failing instead under CI=true.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { ErrorCode, type Timestamp } from "../../src/base/mod.ts";
import { TsoClient } from "../../src/client/mod.ts";
import { createNodeEnv } from "../../src/env/mod.ts";
import { PdMethod } from "../../src/proto/mod.ts";
import { RpcClient } from "../../src/rpc/mod.ts";
import {
  type EtcdCluster,
  etcdUnavailable,
  freePorts,
  killGroup,
  startEtcdCluster,
} from "../../src/pd/test_etcd_cluster.ts";

const why = etcdUnavailable();
if (why !== undefined) console.log(`skipping the PD failover test: ${why}`);
const env = createNodeEnv();
const logger = { warn: () => undefined, error: () => undefined };
const mainScript = join(import.meta.dirname, "..", "..", "src", "cmd", "main.ts");
let etcd: EtcdCluster | undefined;
const members: Member[] = [];

interface Member {
  readonly name: string;
  readonly rpc: string;
  readonly http: string;
  child: ChildProcess | undefined;
}

before(
  async () => {
    if (why !== undefined) return;
    etcd = await startEtcdCluster(3);
    const ports = await freePorts(6);
    for (let i = 0; i < 3; i++) {
      members.push({
        name: `pd-${i}`,
        rpc: `127.0.0.1:${ports[2 * i]}`,
        http: `127.0.0.1:${ports[2 * i + 1]}`,
        child: undefined,
      });
    }
    await Promise.all(members.map((m) => startMember(m)));
  },
  { timeout: 60_000 },
);

after(async () => {
  for (const m of members) {
    if (m.child !== undefined) {
      try {
        process.kill(-m.child.pid!, "SIGCONT");
      } catch {
        // Already gone.
      }
      await killGroup(m.child);
    }
  }
  await etcd?.stop();
});

async function startMember(m: Member): Promise<void> {
  const child = spawn(
    process.execPath,
    [
      mainScript,
      "pd",
      "--name",
      m.name,
      "--addr",
      m.rpc,
      "--status-addr",
      m.http,
      "--etcd",
      etcd!.endpoints.join(","),
      "--etcd-namespace",
      `/failover-${process.pid}`,
      "--lease-ttl",
      "2s",
      "--log-level",
      "warn",
    ],
    { detached: true, stdio: ["ignore", "pipe", "inherit"] },
  );
  m.child = child;
  await new Promise<void>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`${m.name} exited with ${code}`)));
    createInterface({ input: child.stdout! }).once("line", () => resolve());
  });
}

async function health(m: Member): Promise<{ isLeader: boolean } | undefined> {
  try {
    const r = await fetch(`http://${m.http}/pd/api/v1/health`, {
      signal: AbortSignal.timeout(500),
    });
    return (await r.json()) as { isLeader: boolean };
  } catch {
    return undefined;
  }
}

async function waitForLeader(except?: Member): Promise<Member> {
  const deadline = performance.now() + 20_000;
  for (;;) {
    for (const m of members) {
      if (m === except) continue;
      if ((await health(m))?.isLeader === true) return m;
    }
    if (performance.now() > deadline) throw new Error("no PD leader");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Runs one sequential caller until stopped, checking every timestamp is above the previous
 * one and recording the longest wait between successes around the fault.
 */
function startLoad(client: TsoClient) {
  const state = {
    last: 0n,
    count: 0,
    stop: false,
    lastOkMs: performance.now(),
    error: undefined as unknown,
  };
  const done = (async () => {
    while (!state.stop) {
      let ts: Timestamp;
      try {
        ts = await client.getTimestamp();
      } catch (error) {
        state.error = error;
        continue;
      }
      assert.ok(ts > state.last, `timestamp went backwards: ${ts} after ${state.last}`);
      state.last = ts;
      state.count++;
      state.lastOkMs = performance.now();
    }
  })();
  return { state, done };
}

/** Waits until the load made progress after `sinceMs`; returns the outage in ms. */
async function outageAfter(state: { lastOkMs: number; count: number }, sinceMs: number) {
  const countAt = state.count;
  const deadline = performance.now() + 20_000;
  while (!(state.count > countAt + 10 && state.lastOkMs > sinceMs)) {
    if (performance.now() > deadline) throw new Error("TSO did not come back");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return state.lastOkMs - sinceMs;
}

test(
  "TSO stays strictly increasing across a SIGKILL and a SIGSTOP of the PD leader",
  { timeout: 90_000 },
  async (t) => {
    if (why !== undefined) {
      t.skip(why);
      return;
    }
    const client = new TsoClient(env, {
      endpoints: members.map((m) => m.rpc),
      logger,
      requestTimeoutMs: 1_000,
    });
    const load = startLoad(client);
    try {
      const first = await waitForLeader();
      await outageAfter(load.state, performance.now());

      // 1. SIGKILL the leader.
      const killedAtMs = performance.now();
      await killGroup(first.child!);
      first.child = undefined;
      const killOutageMs = await outageAfter(load.state, killedAtMs);
      const second = await waitForLeader(first);
      console.log(`PD leader SIGKILL: TSO unavailable for ${killOutageMs.toFixed(0)} ms`);
      await startMember(first); // it rejoins as a follower
      assert.notEqual((await health(first))?.isLeader, true);

      // 2. SIGSTOP the new leader; queue a request in its socket; SIGCONT after failover.
      const direct = new RpcClient(env, {
        host: "127.0.0.1",
        port: Number(second.rpc.split(":")[1]),
        logger,
      });
      const members0 = (await direct.call(PdMethod.getMembers, { header: { clusterId: 0n } })) as {
        clusterId: bigint;
      };
      const stoppedAtMs = performance.now();
      process.kill(-second.child!.pid!, "SIGSTOP");
      const stopOutageMs = await outageAfter(load.state, stoppedAtMs);
      console.log(`PD leader SIGSTOP: TSO unavailable for ${stopOutageMs.toFixed(0)} ms`);
      const third = await waitForLeader(second);
      assert.notEqual(third, second);
      const seenBeforeResume = load.state.last;
      const late = direct.call(
        PdMethod.getTimestamp,
        { header: { clusterId: members0.clusterId }, count: 1 },
        { deadlineMs: 20_000 },
      );
      // Let the request reach the stopped process's socket before it resumes.
      await new Promise((resolve) => setTimeout(resolve, 200));
      process.kill(-second.child!.pid!, "SIGCONT");
      await assert.rejects(late, (error: unknown) => {
        assert.equal((error as { code?: string }).code, ErrorCode.PdNotLeader, String(error));
        return true;
      });
      await direct.close();
      await outageAfter(load.state, performance.now());
      assert.ok(load.state.last > seenBeforeResume);
      assert.notEqual((await health(second))?.isLeader, true, "the resumed member follows");
    } finally {
      load.state.stop = true;
      await load.done;
      await client.close();
    }
  },
);
