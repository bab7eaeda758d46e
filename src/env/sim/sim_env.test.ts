/**
 * Tests of the simulated `Env` from `createSimEnv`: the shared conformance suites (time,
 * and the file system of a simulated process), with time passed by advancing the
 * scheduler, plus what only the simulator promises (virtual time that moves only when
 * told, exact deadlines, a configurable wall-clock start, processes spawned into one
 * simulation that reach each other over the simulated network).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ErrorCode, Prng, hasErrorCode } from "../../base/mod.ts";
import {
  registerFileSystemConformanceTests,
  registerTimeConformanceTests,
} from "../env_conformance.ts";
import { SimRandom } from "./random.ts";
import { createSimEnv } from "./sim_env.ts";

/** Lets promise reactions queued so far run (they include those of resolved sleeps). */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

registerTimeConformanceTests({
  name: "SimEnv",
  create: () => {
    const env = createSimEnv({ seed: 7 });
    return {
      ...env,
      passTime: async (ms: number): Promise<void> => {
        env.scheduler.advance(ms);
        await settle();
      },
    };
  },
  seeded: (seed) => new SimRandom(new Prng(seed)),
});

let fsCaseCount = 0;

registerFileSystemConformanceTests({
  name: "SimEnv.fs",
  create: async () => {
    const env = createSimEnv({ seed: 3 });
    const root = `/var/lib/tessera/case-${fsCaseCount++}`;
    await env.fs.mkdir(root);
    return { fs: env.fs, root };
  },
});

const timeout = { timeout: 5_000 };

test("SimEnv: createSimEnv() provides every part of an Env", timeout, () => {
  const env = createSimEnv({ seed: 1 });
  for (const part of [env.clock, env.timers, env.random, env.net, env.fs, env.crypto]) {
    assert.ok(part !== undefined && part !== null);
  }
  assert.equal(env.host, "127.0.0.1");
});

test("SimEnv.spawn() adds a process with its own disk on the same network", timeout,
  async () => {
    const first = createSimEnv({ seed: 1, host: "n1" });
    const second = first.spawn("n2");
    assert.equal(second.scheduler, first.scheduler);
    assert.equal(second.network, first.network);
    await first.fs.mkdir("/d");
    assert.equal(await second.fs.exists("/d"), false);
    let accepted = 0;
    const listening = second.net.listen({ host: "0.0.0.0", port: 1, onConnection: (c) => {
      accepted++;
      c.destroy();
    } });
    first.scheduler.advance(0);
    const listener = await listening;
    assert.equal(listener.host, "n2");
    const connecting = first.net.connect({ host: "n2", port: 1 });
    first.scheduler.advance(100);
    const connection = await connecting;
    assert.equal(connection.remoteAddress, "n2:1");
    assert.equal(accepted, 1);
  });

test("SimEnv: virtual time starts at 0 and moves only when the scheduler advances", timeout, () => {
  const { clock, scheduler } = createSimEnv({ seed: 1 });
  assert.equal(clock.monotonicMs(), 0);
  assert.equal(clock.monotonicMs(), 0);
  scheduler.advance(12.5);
  assert.equal(clock.monotonicMs(), 12.5);
});

test("SimEnv: wall time is wallStartMs plus virtual time", timeout, () => {
  const wallStartMs = Date.UTC(2030, 5, 1);
  const { clock, scheduler } = createSimEnv({ seed: 1, wallStartMs });
  assert.equal(clock.wallMs(), wallStartMs);
  scheduler.advance(1500);
  assert.equal(clock.wallMs(), wallStartMs + 1500);
});

test("SimEnv: wall time starts at 2025-01-01T00:00:00Z by default", timeout, () => {
  assert.equal(createSimEnv({ seed: 1 }).clock.wallMs(), Date.UTC(2025, 0, 1));
});

test("SimEnv: a timer's callback sees the clock at its exact deadline", timeout, () => {
  const { clock, timers, scheduler } = createSimEnv({ seed: 1 });
  const seen: number[] = [];
  timers.setTimeout(7, () => seen.push(clock.monotonicMs()));
  timers.setInterval(4, () => seen.push(clock.monotonicMs()));
  scheduler.advance(13);
  assert.deepEqual(seen, [4, 7, 8, 12]);
  assert.equal(clock.monotonicMs(), 13);
});

test("SimEnv: sleep resolves once advance reaches its deadline", timeout, async () => {
  const { timers, scheduler } = createSimEnv({ seed: 1 });
  let resolved = false;
  const sleeping = timers.sleep(10).then(() => (resolved = true));
  scheduler.advance(9);
  await settle();
  assert.equal(resolved, false);
  scheduler.advance(1);
  await sleeping;
  assert.equal(resolved, true);
});

test("SimEnv: an aborted sleep leaves no timer pending", timeout, async () => {
  const { timers, scheduler } = createSimEnv({ seed: 1 });
  const controller = new AbortController();
  const sleeping = timers.sleep(10, controller.signal);
  assert.equal(scheduler.pendingCount, 1);
  controller.abort();
  assert.equal(scheduler.pendingCount, 0);
  await assert.rejects(sleeping, (error: unknown) => hasErrorCode(error, ErrorCode.EnvCancelled));
});

test("SimEnv: the same seed gives the same random draws", timeout, () => {
  const draw = (seed: number): number[] => {
    const { random } = createSimEnv({ seed });
    return [random.uint32(), random.int(10), random.int(2 ** 50), random.float()];
  };
  assert.deepEqual(draw(99), draw(99));
  assert.notDeepEqual(draw(99), draw(100));
});
