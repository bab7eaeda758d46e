/**
 * The RPC layer, unchanged, on the simulator: an `RpcServer` on host `server` and an
 * `RpcClient` on host `client` of one simulation talk over the simulated network. The
 * scenario — unary calls, a partition that makes a call miss its deadline (measured in
 * virtual time), a reset while partitioned that makes reconnecting fail, a heal after
 * which the client reconnects — is recorded as an event trace with virtual timestamps;
 * the same seed must give the same trace, which is what makes a failing seed replayable.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ErrorCode, TesseraError } from "../../src/base/mod.ts";
import { createSimEnv } from "../../src/env/mod.ts";
import { runFor, runUntilSettled } from "../../src/env/sim/test_sim_drive.ts";
import { RpcClient, RpcServer } from "../../src/rpc/mod.ts";

const quiet = { warn: () => undefined, error: () => undefined };
const seeds = [1, 2, 3, 42, 1337];

/** Runs the scenario for `seed` and returns its trace. */
async function scenario(seed: number): Promise<string[]> {
  const serverEnv = createSimEnv({ seed, host: "server" });
  const clientEnv = serverEnv.spawn("client");
  const { scheduler, network } = serverEnv;
  const trace: string[] = [];
  const log = (event: string): void => {
    trace.push(`${scheduler.monotonicMs().toFixed(3)} ${event}`);
  };

  const server = new RpcServer(serverEnv, { logger: quiet });
  let served = 0;
  server.handleUnary("add", async (body) => {
    served++;
    const { a, b } = body as { a: number; b: number };
    // Some work in virtual time, so replies interleave with other events.
    await serverEnv.timers.sleep(serverEnv.random.int(5));
    return a + b;
  });
  await runUntilSettled(scheduler, server.listen({ host: "server", port: 9000 }),
    { what: "listen" });
  const client = new RpcClient(clientEnv, {
    host: "server",
    port: 9000,
    logger: quiet,
    connectTimeoutMs: 500,
  });
  /** Makes a call and records its outcome and when it came. */
  const call = async (a: number, deadlineMs: number): Promise<unknown> => {
    const startMs = scheduler.monotonicMs();
    const outcome = client.call("add", { a, b: 1 }, { deadlineMs }).then(
      (reply) => ({ reply }),
      (error: unknown) => ({ error }),
    );
    const result = await runUntilSettled(scheduler, outcome, { what: `add(${a})` });
    const tookMs = (scheduler.monotonicMs() - startMs).toFixed(3);
    if ("reply" in result) {
      log(`add(${a}) = ${String(result.reply)} in ${tookMs} ms`);
      return result.reply;
    }
    const error = result.error as TesseraError;
    log(`add(${a}) failed ${error.code} ambiguous=${error.ambiguous} in ${tookMs} ms`);
    return error;
  };

  // Healthy: concurrent unary calls.
  const batch = [1, 2, 3, 4, 5].map((a) =>
    client.call("add", { a, b: 10 }).then((reply) => log(`batch add(${a}) = ${String(reply)}`)));
  await runUntilSettled(scheduler, Promise.all(batch), { what: "the batch" });
  await call(100, 1_000);

  // Partitioned: the request stalls, the deadline passes on the virtual clock.
  network.partition("client", "server");
  log("partition");
  const stalled = await call(200, 300);
  assert.ok(stalled instanceof TesseraError && stalled.code === ErrorCode.RpcDeadlineExceeded);
  // TCP gives up on the connection; reconnecting cannot get through the partition.
  log(`reset ${network.resetConnections("client", "server")} connection(s)`);
  await runFor(scheduler, 100);
  const refused = await call(300, 2_000);
  assert.ok(refused instanceof TesseraError && refused.code === ErrorCode.RpcConnectFailed);

  // Healed: after its backoff the client reconnects and calls succeed again.
  network.heal();
  log("heal");
  await runFor(scheduler, 3_000);
  assert.equal(await call(400, 1_000), 401);
  assert.equal(await call(500, 1_000), 501);
  log(`served ${served}, stats ${JSON.stringify(network.stats)}`);

  await runUntilSettled(scheduler, Promise.all([client.close(), server.close()]),
    { what: "close" });
  return trace;
}

test("RPC on the simulator: calls, deadline under partition, reconnect after heal",
  { timeout: 20_000 }, async () => {
    const trace = await scenario(7);
    const text = trace.join("\n");
    assert.match(text, /add\(100\) = 101/);
    assert.match(text, /add\(200\) failed RPC:Call:DeadlineExceeded ambiguous=true in 300\.000 ms/);
    assert.match(text, /add\(300\) failed RPC:Connection:ConnectFailed ambiguous=false/);
    assert.match(text, /add\(400\) = 401/);
    // The stalled add(200) never reached the server: the reset discarded its bytes, which
    // is why the client must treat it as ambiguous rather than as failed.
    assert.match(text, /served 8,/);
  });

test("RPC on the simulator: the same seed gives the same trace", { timeout: 30_000 },
  async () => {
    const traces = new Map<number, string>();
    for (const seed of seeds) {
      const first = (await scenario(seed)).join("\n");
      assert.equal((await scenario(seed)).join("\n"), first, `seed ${seed} diverged`);
      traces.set(seed, first);
    }
    // Different seeds draw different delays, so their traces differ.
    assert.ok(new Set(traces.values()).size > 1);
  });
