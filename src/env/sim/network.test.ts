/**
 * Tests of `SimNetwork`: the shared `Network` conformance suite on virtual time, then what
 * only the simulator does — partitions that stall traffic until healed, connects that time
 * out across a partition, isolation, loss modelled as resets, host crashes, link delays
 * measured in virtual time, receiver backpressure, the STARTTLS pass-through, and the same
 * trace for the same seed.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ErrorCode, hasErrorCode } from "../../base/mod.ts";
import type { Connection } from "../env.ts";
import { registerNetworkConformanceTests } from "../env_conformance.ts";
import { type SimEnv, createSimEnv } from "./sim_env.ts";
import { runFor, runUntilSettled } from "./test_sim_drive.ts";

registerNetworkConformanceTests({
  name: "SimNetwork",
  create: () => {
    const env = createSimEnv({ seed: 11 });
    return { net: env.net, host: env.host, passTime: (ms) => runFor(env.scheduler, ms) };
  },
});

const timeout = { timeout: 10_000 };
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array): string => new TextDecoder().decode(b);

interface Recorder {
  data: string;
  drains: number;
  closed: { error: Error | undefined } | undefined;
}

function record(connection: Connection, options: { echo?: boolean } = {}): Recorder {
  const r: Recorder = { data: "", drains: 0, closed: undefined };
  connection.setHandlers({
    onData: (chunk) => {
      r.data += text(chunk);
      if (options.echo === true) connection.write(chunk);
    },
    onDrain: () => r.drains++,
    onClose: (error) => (r.closed = { error }),
  });
  return r;
}

/** A server process `server` listening on port 7000 and a client process `client`. */
async function twoHosts(seed: number): Promise<{
  server: SimEnv;
  client: SimEnv;
  accepted: Connection[];
  connect: () => Promise<Connection>;
}> {
  const server = createSimEnv({ seed, host: "server" });
  const client = server.spawn("client");
  const accepted: Connection[] = [];
  await runUntilSettled(server.scheduler, server.net.listen({
    host: "0.0.0.0",
    port: 7000,
    onConnection: (connection) => accepted.push(connection),
  }), { what: "listen" });
  const connect = (): Promise<Connection> => runUntilSettled(server.scheduler,
    client.net.connect({ host: "server", port: 7000, timeoutMs: 1_000 }), { what: "connect" });
  return { server, client, accepted, connect };
}

test("SimNetwork: a partition stalls bytes in order; heal delivers them", timeout, async () => {
  const { server, accepted, connect } = await twoHosts(1);
  const connection = await connect();
  assert.equal(connection.localAddress.startsWith("client:"), true);
  assert.equal(connection.remoteAddress, "server:7000");
  const client = record(connection);
  await runFor(server.scheduler, 10);
  const peer = record(accepted[0] as Connection, { echo: true });
  server.network.partition("client", "server");
  assert.equal(server.network.isBlocked("server", "client"), true);
  for (const word of ["one ", "two ", "three"]) connection.write(utf8(word));
  await runFor(server.scheduler, 10_000);
  assert.equal(peer.data, "");
  assert.equal(client.closed, undefined, "a stall is not a close");
  server.network.heal();
  await runFor(server.scheduler, 50);
  assert.equal(peer.data, "one two three");
  assert.equal(client.data, "one two three");
});

test("SimNetwork: a connect across a partition fails at its timeout, in virtual time",
  timeout, async () => {
    const { server, client } = await twoHosts(2);
    server.network.isolate("server");
    const startMs = server.scheduler.monotonicMs();
    let failedAtMs = 0;
    const connecting = client.net.connect({ host: "server", port: 7000, timeoutMs: 750 });
    const outcome = connecting.catch((error: unknown) => {
      failedAtMs = server.scheduler.monotonicMs();
      return error;
    });
    const error = await runUntilSettled(server.scheduler, outcome, { what: "connect" });
    assert.ok(hasErrorCode(error, ErrorCode.RpcConnectFailed), String(error));
    assert.equal(failedAtMs - startMs, 750);
    // After healing, the late SYN is ignored and a new connect works.
    server.network.heal("server");
    const connection = await runUntilSettled(server.scheduler,
      client.net.connect({ host: "server", port: 7000 }), { what: "connect after heal" });
    connection.destroy();
  });

test("SimNetwork: isolate() blocks every link of a host but its loopback", timeout, () => {
  const env = createSimEnv({ seed: 3, host: "a" });
  env.network.isolate("a");
  assert.equal(env.network.isBlocked("a", "b"), true);
  assert.equal(env.network.isBlocked("c", "a"), true);
  assert.equal(env.network.isBlocked("a", "a"), false);
  assert.equal(env.network.isBlocked("b", "c"), false);
  env.network.partition("b", "c");
  env.network.heal("a");
  assert.equal(env.network.isBlocked("a", "b"), false);
  assert.equal(env.network.isBlocked("b", "c"), true);
  env.network.heal("b", "c");
  assert.equal(env.network.isBlocked("b", "c"), false);
});

test("SimNetwork: loss resets the connection on both sides with ECONNRESET", timeout,
  async () => {
    const { server, accepted, connect } = await twoHosts(4);
    const connection = await connect();
    const client = record(connection);
    await runFor(server.scheduler, 10);
    const peer = record(accepted[0] as Connection);
    server.network.setResetProbability("client", "server", 1);
    connection.write(utf8("doomed"));
    await runFor(server.scheduler, 10);
    assert.equal((client.closed?.error as NodeJS.ErrnoException | undefined)?.code,
      "ECONNRESET");
    assert.equal((peer.closed?.error as NodeJS.ErrnoException | undefined)?.code, "ECONNRESET");
    assert.equal(peer.data, "");
    assert.equal(server.network.stats.resets, 1);
  });

test("SimNetwork.resetConnections() resets every connection between two hosts", timeout,
  async () => {
    const { server, accepted, connect } = await twoHosts(5);
    const recorders = [record(await connect()), record(await connect())];
    await runFor(server.scheduler, 10);
    for (const connection of accepted) record(connection);
    assert.equal(server.network.resetConnections("server", "client"), 2);
    await runFor(server.scheduler, 10);
    for (const r of recorders) assert.ok(r.closed?.error !== undefined);
  });

test("SimNetwork.crashHost() resets peers and removes the host's listeners", timeout,
  async () => {
    const { server, client, connect } = await twoHosts(6);
    const recorder = record(await connect());
    server.network.crashHost("server");
    await runFor(server.scheduler, 10);
    assert.equal((recorder.closed?.error as NodeJS.ErrnoException | undefined)?.code,
      "ECONNRESET");
    await assert.rejects(runUntilSettled(server.scheduler,
      client.net.connect({ host: "server", port: 7000 }), { what: "connect" }),
    (error: unknown) => hasErrorCode(error, ErrorCode.RpcConnectFailed));
  });

test("SimNetwork: a chunk takes its link's delay, measured in virtual time", timeout,
  async () => {
    const { server, accepted, connect } = await twoHosts(7);
    server.network.setDelay("client", "server", { minMs: 40, maxMs: 60 });
    const connection = await connect();
    await runFor(server.scheduler, 200);
    const arrivals: number[] = [];
    (accepted[0] as Connection).setHandlers({
      onData: () => arrivals.push(server.scheduler.monotonicMs()),
      onDrain: () => undefined,
      onClose: () => undefined,
    });
    await runFor(server.scheduler, 1);
    const sentAtMs = server.scheduler.monotonicMs();
    connection.write(utf8("x"));
    await runFor(server.scheduler, 100);
    assert.equal(arrivals.length, 1);
    const delayMs = (arrivals[0] as number) - sentAtMs;
    assert.ok(delayMs >= 40 && delayMs <= 60, `delay ${delayMs}`);
  });

test("SimNetwork: a paused receiver keeps the sender above its high-water mark", timeout,
  async () => {
    const { server, accepted, connect } = await twoHosts(8);
    const connection = await connect();
    const client = record(connection);
    await runFor(server.scheduler, 10);
    const peerConnection = accepted[0] as Connection;
    peerConnection.pause(true);
    const peer = record(peerConnection);
    assert.equal(connection.write(new Uint8Array(64 * 1024)), false);
    await runFor(server.scheduler, 1_000);
    assert.equal(client.drains, 0);
    assert.equal(connection.bufferedBytes, 64 * 1024);
    peerConnection.pause(false);
    await runFor(server.scheduler, 10);
    assert.equal(client.drains, 1);
    assert.equal(connection.bufferedBytes, 0);
    assert.equal(peer.data.length, 64 * 1024);
  });

test("SimNetwork: listening twice on one port rejects with Env:ListenFailed (EADDRINUSE)",
  timeout, async () => {
    const { server } = await twoHosts(9);
    const again = server.net.listen({ host: "server", port: 7000, onConnection: () => undefined });
    await assert.rejects(runUntilSettled(server.scheduler, again, { what: "listen" }),
      { code: "Env:ListenFailed", details: { address: "server:7000", errno: "EADDRINUSE" } });
  });

test("SimNetwork: startTls() hands the stream to a secure connection, buffered bytes first",
  timeout, async () => {
    const { server, accepted, connect } = await twoHosts(10);
    const connection = await connect();
    const client = record(connection);
    connection.write(utf8("STARTTLS\nhel"));
    await runFor(server.scheduler, 10);
    const plain = accepted[0] as Connection;
    let preamble = "";
    plain.setHandlers({ onData: (c) => (preamble += text(c)), onDrain: () => undefined,
      onClose: () => undefined });
    await runFor(server.scheduler, 10);
    assert.equal(preamble, "STARTTLS\nhel");
    assert.ok(plain.startTls !== undefined);
    const upgrading = plain.startTls({}, utf8("hel"));
    const secure = await runUntilSettled(server.scheduler, upgrading, { what: "startTls" });
    assert.equal(secure.secure, true);
    assert.equal(plain.write(utf8("ignored")), false);
    const upgraded = record(secure, { echo: true });
    connection.write(utf8("lo"));
    await runFor(server.scheduler, 20);
    assert.equal(upgraded.data, "hello");
    assert.equal(client.data, "hello");
  });

test("SimNetwork: the same seed gives the same trace; another seed another", timeout,
  async () => {
    const trace = async (seed: number): Promise<string[]> => {
      const { server, accepted, connect } = await twoHosts(seed);
      const events: string[] = [];
      const connections = [await connect(), await connect()];
      await runFor(server.scheduler, 5);
      for (const [i, connection] of accepted.entries()) {
        connection.setHandlers({
          onData: (chunk) =>
            events.push(`${server.scheduler.monotonicMs().toFixed(3)} s${i} ${text(chunk)}`),
          onDrain: () => undefined,
          onClose: () => events.push(`${server.scheduler.monotonicMs().toFixed(3)} s${i} close`),
        });
      }
      for (let round = 0; round < 20; round++) {
        for (const [i, connection] of connections.entries()) {
          connection.write(utf8(`c${i}r${round};`));
        }
        await runFor(server.scheduler, 1);
      }
      for (const connection of connections) connection.end();
      await runFor(server.scheduler, 50);
      return events;
    };
    const first = await trace(21);
    assert.deepEqual(await trace(21), first);
    assert.notDeepEqual(await trace(22), first);
  });
