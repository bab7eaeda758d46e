/**
 * Tests for unary calls between `RpcClient` and `RpcServer` over real TCP on 127.0.0.1:
 * round trips, multiplexing, deadlines, error codes, bounds, reconnects, ambiguity of
 * calls cut off by a lost connection, `close`, and TLS.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";

import {
  ErrorCode,
  TesseraError,
  hasErrorCode,
  limits,
  maxTimestamp,
} from "../base/mod.ts";
import { RpcClient } from "./client.ts";
import type { RpcAddress, RpcServer } from "./server.ts";
import {
  recordingLogger,
  selfSignedCertificate,
  startClient,
  startServer,
  testEnv,
  waitFor,
} from "./test_support.ts";
import type { CallContext } from "./types.ts";

const timeout = 20_000;
const env = testEnv();

/** Calls parked in the `Hold` handler until the test releases them. */
const held: { context: CallContext; release: (reply: unknown) => void }[] = [];
/** Abort reasons seen by `Hold` handlers. */
const aborts: unknown[] = [];

function registerMethods(server: RpcServer): void {
  server.handleUnary("Echo", async (body) => body);
  server.handleUnary("Fail", async () => {
    throw new TesseraError(ErrorCode.CodecCorrupt, "bad row", {
      ambiguous: true,
      details: { key: "t1_r5", ts: 42n },
    });
  });
  server.handleUnary("Crash", async () => {
    throw new RangeError("not a TesseraError");
  });
  server.handleUnary("Hold", (_body, context) => {
    context.signal.addEventListener("abort", () => aborts.push(context.signal.reason));
    return new Promise((release) => held.push({ context, release }));
  });
  server.handleUnary("Huge", async () => new Uint8Array(limits.rpcFrameBytesMax + 1));
  server.handleUnary("ThrowAtOnce", () => {
    throw new TesseraError(ErrorCode.CodecUnsupported, "thrown before any promise");
  });
  server.handleUnary("OddDetails", async () => {
    throw new TesseraError(ErrorCode.CodecCorrupt, "details cannot travel", {
      details: { symbol: Symbol("local only") },
    });
  });
  server.handleServerStream("Stream", async () => undefined);
}

function releaseAll(): void {
  for (const call of held.splice(0)) call.release("released");
}

function isCode(code: ErrorCode, ambiguous?: boolean): (error: unknown) => boolean {
  return (error) =>
    hasErrorCode(error, code) && (ambiguous === undefined || error.ambiguous === ambiguous);
}

describe("RpcClient and RpcServer: unary calls", () => {
  let server: RpcServer;
  let address: RpcAddress;
  let client: RpcClient;
  const cleanups: (() => Promise<void>)[] = [];

  before(async () => {
    ({ server, address } = await startServer(env, { register: registerMethods }));
    ({ client } = startClient(env, address));
  });
  after(async () => {
    releaseAll();
    await client.close();
    for (const cleanup of cleanups) await cleanup();
    await server.close();
  });

  it("round-trips a call", { timeout }, async () => {
    assert.deepEqual(await client.call("Echo", { hello: "world", n: [1, 2] }), {
      hello: "world",
      n: [1, 2],
    });
  });

  it("round-trips bigints exactly", { timeout }, async () => {
    const body = { startTs: maxTimestamp, commitTs: (1n << 18n) | 3n, small: 0n, neg: -5n };
    assert.deepEqual(await client.call("Echo", body), body);
  });

  it("multiplexes many concurrent calls on one connection", { timeout }, async () => {
    const count = 2000;
    const replies = await Promise.all(
      Array.from({ length: count }, (_, i) => client.call("Echo", { i })),
    );
    assert.deepEqual(
      replies,
      Array.from({ length: count }, (_, i) => ({ i })),
    );
    assert.equal(server.connectionCount, 1);
  });

  it("fails a call past its deadline as ambiguous and aborts the handler", {
    timeout,
  }, async () => {
    aborts.length = 0;
    await assert.rejects(
      client.call("Hold", null, { deadlineMs: 50 }),
      isCode(ErrorCode.RpcDeadlineExceeded, true),
    );
    await waitFor(() => aborts.length === 1, { what: "the handler's signal to abort" });
    assert.ok(hasErrorCode(aborts[0], ErrorCode.RpcDeadlineExceeded));
    releaseAll();
  });

  it("answers an unknown method with RPC:Call:UnknownMethod", { timeout }, async () => {
    await assert.rejects(client.call("NoSuchMethod", 1), isCode(ErrorCode.RpcUnknownMethod));
    await assert.rejects(client.call("Stream", 1), isCode(ErrorCode.RpcUnknownMethod));
  });

  it("preserves a handler's TesseraError code, ambiguity and details", { timeout }, async () => {
    await assert.rejects(client.call("Fail", null), (error) => {
      assert.ok(hasErrorCode(error, ErrorCode.CodecCorrupt));
      assert.equal(error.message, "bad row");
      assert.equal(error.ambiguous, true);
      assert.deepEqual(error.details, { key: "t1_r5", ts: 42n });
      return true;
    });
  });

  it("answers a handler that throws synchronously like one that rejects", { timeout }, async () => {
    await assert.rejects(client.call("ThrowAtOnce", null), isCode(ErrorCode.CodecUnsupported));
  });

  it("sends an error whose details cannot be encoded without them", { timeout }, async () => {
    await assert.rejects(client.call("OddDetails", null), (error) => {
      assert.ok(hasErrorCode(error, ErrorCode.CodecCorrupt));
      assert.deepEqual(error.details, {});
      return true;
    });
  });

  it("refuses calls past the server's per-connection in-flight bound", { timeout }, async () => {
    const bounded = await startServer(env, {
      register: registerMethods,
      server: { inFlightMax: 2 },
    });
    const { client: eager } = startClient(env, bounded.address);
    cleanups.push(async () => {
      await eager.close();
      await bounded.server.close();
    });
    const heldBefore = held.length;
    const first = eager.call("Hold", 1);
    const second = eager.call("Hold", 2);
    await waitFor(() => held.length === heldBefore + 2, { what: "two calls to arrive" });
    await assert.rejects(eager.call("Echo", 3), isCode(ErrorCode.RpcTooManyInFlight));
    releaseAll();
    assert.deepEqual(await Promise.all([first, second]), ["released", "released"]);
  });

  it("closes connections past the server's connection bound, with a warning", {
    timeout,
  }, async () => {
    const bounded = await startServer(env, {
      register: registerMethods,
      server: { connectionsMax: 1 },
    });
    const { client: firstClient } = startClient(env, bounded.address);
    const { client: secondClient } = startClient(env, bounded.address);
    cleanups.push(async () => {
      await firstClient.close();
      await secondClient.close();
      await bounded.server.close();
    });
    assert.equal(await firstClient.call("Echo", 1), 1);
    await assert.rejects(secondClient.call("Echo", 2), isCode(ErrorCode.RpcConnectionClosed));
    assert.equal(bounded.logger.entries[0]?.level, "warn");
    assert.match(bounded.logger.entries[0]?.message ?? "", /too many connections/);
    assert.equal(await firstClient.call("Echo", 3), 3);
  });

  it("answers any other throw with RPC:Call:RemoteError and logs it", { timeout }, async () => {
    const { server: own, address: ownAddress, logger } = await startServer(env, {
      register: registerMethods,
    });
    const { client: ownClient } = startClient(env, ownAddress);
    cleanups.push(async () => {
      await ownClient.close();
      await own.close();
    });
    await assert.rejects(ownClient.call("Crash", null), (error) => {
      assert.ok(hasErrorCode(error, ErrorCode.RpcRemoteError));
      assert.match(error.message, /RangeError: not a TesseraError/);
      return true;
    });
    assert.equal(logger.entries.length, 1);
    assert.equal(logger.entries[0]?.level, "error");
  });

  it("refuses a call past the in-flight bound at once", { timeout }, async () => {
    const calls = Array.from({ length: limits.rpcInFlightMax }, () => client.call("Hold", null));
    assert.equal(client.inFlight, limits.rpcInFlightMax);
    await assert.rejects(client.call("Echo", 1), isCode(ErrorCode.RpcTooManyInFlight, false));
    await waitFor(() => held.length === limits.rpcInFlightMax, { what: "all calls to arrive" });
    releaseAll();
    assert.ok((await Promise.all(calls)).every((reply) => reply === "released"));
    assert.equal(await client.call("Echo", "after"), "after");
  });

  it("refuses to send a body over the frame limit, and stays usable", { timeout }, async () => {
    await assert.rejects(
      client.call("Echo", new Uint8Array(limits.rpcFrameBytesMax + 1)),
      isCode(ErrorCode.RpcFrameTooLarge),
    );
    assert.equal(await client.call("Echo", "still fine"), "still fine");
  });

  it("answers with RPC:Frame:TooLarge when a reply is over the frame limit", {
    timeout,
  }, async () => {
    await assert.rejects(client.call("Huge", null), isCode(ErrorCode.RpcFrameTooLarge));
    assert.equal(await client.call("Echo", "still fine"), "still fine");
  });

  it("fails calls to a port nobody listens on with ConnectFailed, not ambiguous", {
    timeout,
  }, async () => {
    const { server: gone, address: goneAddress } = await startServer(env, {
      register: registerMethods,
    });
    await gone.close();
    const { client: lonely } = startClient(env, goneAddress);
    cleanups.push(() => lonely.close());
    await assert.rejects(lonely.call("Echo", 1), isCode(ErrorCode.RpcConnectFailed, false));
    // The second attempt waits out the backoff, then fails the same way.
    await assert.rejects(lonely.call("Echo", 2), isCode(ErrorCode.RpcConnectFailed, false));
  });

  it("a call that expires while its connection is still being made is not ambiguous", {
    timeout,
  }, async () => {
    // A network whose connects hang until the test lets them fail.
    const hanging: ((error: Error) => void)[] = [];
    const stalledEnv = {
      ...env,
      net: {
        listen: env.net.listen.bind(env.net),
        connect: () => new Promise<never>((_resolve, reject) => hanging.push(reject)),
      },
    };
    const patient = new RpcClient(stalledEnv, { ...address, logger: recordingLogger() });
    await assert.rejects(
      patient.call("Echo", 1, { deadlineMs: 20 }),
      isCode(ErrorCode.RpcDeadlineExceeded, false),
    );
    assert.equal(patient.inFlight, 0);
    assert.equal(hanging.length, 1);
    for (const reject of hanging) reject(new TesseraError(ErrorCode.RpcConnectFailed, "gave up"));
    await patient.close();
  });

  it("fails sent calls with RPC:Connection:Closed, ambiguous, when the connection drops", {
    timeout,
  }, async () => {
    const { server: doomed, address: doomedAddress } = await startServer(env, {
      register: registerMethods,
    });
    const { client: victim } = startClient(env, doomedAddress);
    cleanups.push(() => victim.close());
    const heldBefore = held.length;
    const call = assert.rejects(
      victim.call("Hold", null),
      isCode(ErrorCode.RpcConnectionClosed, true),
    );
    await waitFor(() => held.length === heldBefore + 1, { what: "the call to arrive" });
    await doomed.close();
    await call;
    releaseAll();
  });

  it("reconnects after the server restarts on the same port", { timeout }, async () => {
    const first = await startServer(env, { register: registerMethods });
    const { client: loyal } = startClient(env, first.address);
    cleanups.push(() => loyal.close());
    assert.equal(await loyal.call("Echo", "before"), "before");
    await first.server.close();
    // While the server is down, calls fail with typed errors; wait for a refused connect.
    for (let attempt = 0; ; attempt++) {
      assert.ok(attempt < 1000, "the client never noticed the server was down");
      const error: unknown = await loyal.call("Echo", "down").then(
        () => assert.fail("a call succeeded while the server was down"),
        (failure: unknown) => failure,
      );
      if (hasErrorCode(error, ErrorCode.RpcConnectFailed)) break;
      assert.ok(hasErrorCode(error, ErrorCode.RpcConnectionClosed), String(error));
    }
    const second = await startServer(env, {
      register: registerMethods,
      port: first.address.port,
    });
    cleanups.push(() => second.server.close());
    assert.equal(second.address.port, first.address.port);
    // The client finds the server again once its backoff has passed.
    let reply: unknown;
    for (let attempt = 0; reply === undefined; attempt++) {
      assert.ok(attempt < 1000, "reconnect never succeeded");
      try {
        reply = await loyal.call("Echo", "after");
      } catch (error) {
        assert.ok(
          hasErrorCode(error, ErrorCode.RpcConnectionClosed) ||
            hasErrorCode(error, ErrorCode.RpcConnectFailed),
          `unexpected error ${String(error)}`,
        );
      }
    }
    assert.equal(reply, "after");
  });

  it("close() fails pending calls with RPC:Client:Closed, and later ones too", {
    timeout,
  }, async () => {
    const { client: closing } = startClient(env, address);
    const heldBefore = held.length;
    const call = assert.rejects(
      closing.call("Hold", null),
      isCode(ErrorCode.RpcClientClosed, true),
    );
    await waitFor(() => held.length === heldBefore + 1, { what: "the call to arrive" });
    await closing.close();
    await call;
    await assert.rejects(closing.call("Echo", 1), isCode(ErrorCode.RpcClientClosed, false));
    releaseAll();
  });

  it("calls over TLS", { timeout }, async (t) => {
    const certificate = selfSignedCertificate();
    if (typeof certificate === "string") {
      if (process.env["CI"] === "true") assert.fail(certificate);
      console.log(`skipping RPC over TLS: ${certificate}`);
      t.skip(certificate);
      return;
    }
    const secure = await startServer(env, {
      register: registerMethods,
      server: { tls: certificate },
    });
    const { client: secureClient } = startClient(env, secure.address, {
      tls: { ca: certificate.cert, serverName: "localhost" },
    });
    cleanups.push(async () => {
      await secureClient.close();
      await secure.server.close();
    });
    assert.deepEqual(await secureClient.call("Echo", { ts: maxTimestamp }), { ts: maxTimestamp });
  });
});
