/**
 * Tests for server streams and bidirectional streams over real TCP on 127.0.0.1: flow
 * control bounds a fast sender by a slow consumer, both directions of a bidi stream,
 * cancellation from either side, deadlines, handler errors and lost connections.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";

import { ErrorCode, TesseraError, hasErrorCode, limits } from "../base/mod.ts";
import type { RpcClient } from "./client.ts";
import type { RpcAddress, RpcServer } from "./server.ts";
import { startClient, startServer, testEnv, waitFor } from "./test_support.ts";

const timeout = 20_000;
const env = testEnv();
const window = limits.rpcStreamWindowMessages;

/** What the `Count` handler saw: the most unacknowledged messages after any send. */
const countStats = { maxUnacknowledged: 0, window: 0, sent: 0 };
/** Abort reasons seen by `Forever` handlers, and how many started. */
const forever = { started: 0, aborts: [] as unknown[] };

function isCode(code: ErrorCode, ambiguous?: boolean): (error: unknown) => boolean {
  return (error) =>
    hasErrorCode(error, code) && (ambiguous === undefined || error.ambiguous === ambiguous);
}

/** Lets the event loop turn, so a consumer is slower than its producer. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function registerMethods(server: RpcServer): void {
  server.handleServerStream("Count", async (body, stream) => {
    assert.ok(typeof body === "number");
    countStats.window = stream.sendWindowMessages;
    for (let i = 0; i < body; i++) {
      await stream.send(i);
      countStats.sent += 1;
      countStats.maxUnacknowledged = Math.max(
        countStats.maxUnacknowledged,
        stream.unacknowledgedMessages,
      );
    }
  });
  server.handleServerStream("Forever", async (_body, stream) => {
    forever.started += 1;
    stream.signal.addEventListener("abort", () => forever.aborts.push(stream.signal.reason));
    for (let i = 0; !stream.signal.aborted; i++) {
      try {
        await stream.send(i);
      } catch (error) {
        if (stream.signal.aborted) return;
        throw error;
      }
    }
  });
  server.handleServerStream("CancelAfterThree", async (_body, stream) => {
    for (let i = 0; i < 3; i++) await stream.send(i);
    stream.cancel();
  });
  server.handleServerStream("FailAfterTwo", async (_body, stream) => {
    await stream.send("a");
    await stream.send("b");
    throw new TesseraError(ErrorCode.CodecCorrupt, "broken shard data");
  });
  server.handleBidiStream("Double", async (body, stream) => {
    assert.equal(body, "hello");
    for await (const value of stream) {
      assert.ok(typeof value === "number");
      await stream.send(value * 2);
    }
    await stream.send("done");
  });
}

async function collect(stream: AsyncIterable<unknown>): Promise<unknown[]> {
  const values: unknown[] = [];
  for await (const value of stream) values.push(value);
  return values;
}

describe("RpcClient and RpcServer: streams", () => {
  let server: RpcServer;
  let address: RpcAddress;
  let client: RpcClient;

  before(async () => {
    ({ server, address } = await startServer(env, { register: registerMethods }));
    ({ client } = startClient(env, address));
  });
  after(async () => {
    await client.close();
    await server.close();
  });

  it("a slow consumer bounds the sender of a server stream to the window", {
    timeout,
  }, async () => {
    countStats.maxUnacknowledged = 0;
    countStats.sent = 0;
    const total = window * 8;
    const stream = client.openServerStream("Count", total);
    const received: unknown[] = [];
    for await (const value of stream) {
      received.push(value);
      // The consumer takes a few event-loop turns per message; the sender takes none.
      for (let i = 0; i < 3; i++) await yieldToEventLoop();
      assert.ok(countStats.sent - received.length <= window, "receiver holds at most a window");
    }
    assert.deepEqual(received, Array.from({ length: total }, (_, i) => i));
    assert.equal(countStats.window, window);
    assert.ok(countStats.maxUnacknowledged <= window, `${countStats.maxUnacknowledged} > window`);
    assert.equal(countStats.maxUnacknowledged, window, "the sender was held back by credit");
    assert.equal(client.inFlight, 0);
  });

  it("a bidirectional stream carries messages both ways under flow control", {
    timeout,
  }, async () => {
    const stream = client.openBidiStream("Double", "hello");
    const total = window * 5;
    const replies = collect(stream);
    let maxUnacknowledged = 0;
    for (let i = 0; i < total; i++) {
      await stream.send(i);
      maxUnacknowledged = Math.max(maxUnacknowledged, stream.unacknowledgedMessages);
    }
    stream.end();
    assert.deepEqual(await replies, [...Array.from({ length: total }, (_, i) => i * 2), "done"]);
    assert.ok(maxUnacknowledged <= stream.sendWindowMessages);
    assert.equal(stream.sendWindowMessages, window);
    await assert.rejects(stream.send(1), isCode(ErrorCode.RpcStreamClosed));
  });

  it("cancel() from the client aborts the handler and ends the client's reads", {
    timeout,
  }, async () => {
    forever.aborts.length = 0;
    const stream = client.openServerStream("Forever", null);
    const iterator = stream[Symbol.asyncIterator]();
    for (let i = 0; i < 10; i++) assert.deepEqual(await iterator.next(), { value: i, done: false });
    stream.cancel();
    await assert.rejects(iterator.next(), isCode(ErrorCode.RpcStreamCancelled));
    await waitFor(() => forever.aborts.length === 1, { what: "the handler to see the cancel" });
    assert.ok(hasErrorCode(forever.aborts[0], ErrorCode.RpcStreamCancelled));
    await waitFor(() => client.inFlight === 0, { what: "the stream to be forgotten" });
  });

  it("leaving a for-await loop early cancels the server's handler", { timeout }, async () => {
    forever.aborts.length = 0;
    for await (const value of client.openServerStream("Forever", null)) {
      if (value === 5) break;
    }
    await waitFor(() => forever.aborts.length === 1, { what: "the handler to see the cancel" });
    assert.ok(hasErrorCode(forever.aborts[0], ErrorCode.RpcStreamCancelled));
  });

  it("cancel() from the handler fails the client's reads after what was sent", {
    timeout,
  }, async () => {
    const seen: unknown[] = [];
    await assert.rejects(async () => {
      for await (const value of client.openServerStream("CancelAfterThree", null)) {
        seen.push(value);
      }
    }, isCode(ErrorCode.RpcStreamCancelled));
    assert.deepEqual(seen, [0, 1, 2]);
  });

  it("a handler's TesseraError reaches the client with its code", { timeout }, async () => {
    const seen: unknown[] = [];
    await assert.rejects(async () => {
      for await (const value of client.openServerStream("FailAfterTwo", null)) seen.push(value);
    }, isCode(ErrorCode.CodecCorrupt));
    assert.deepEqual(seen, ["a", "b"]);
  });

  it("a stream to an unknown method fails with RPC:Call:UnknownMethod", { timeout }, async () => {
    await assert.rejects(
      collect(client.openServerStream("Nope", null)),
      isCode(ErrorCode.RpcUnknownMethod),
    );
    await assert.rejects(
      collect(client.openBidiStream("Count", 3)),
      isCode(ErrorCode.RpcUnknownMethod),
    );
  });

  it("a stream past its deadline fails and aborts the handler", { timeout }, async () => {
    forever.aborts.length = 0;
    const stream = client.openServerStream("Forever", null, { deadlineMs: 100 });
    await assert.rejects(
      (async () => {
        for await (const value of stream) if (value !== undefined) await yieldToEventLoop();
      })(),
      isCode(ErrorCode.RpcDeadlineExceeded, true),
    );
    await waitFor(() => forever.aborts.length === 1, { what: "the handler to be aborted" });
  });

  it("a lost connection fails open streams with RPC:Connection:Closed, ambiguous", {
    timeout,
  }, async () => {
    const own = await startServer(env, { register: registerMethods });
    const { client: ownClient } = startClient(env, own.address);
    const startedBefore = forever.started;
    const stream = ownClient.openServerStream("Forever", null);
    const reading = assert.rejects(collect(stream), isCode(ErrorCode.RpcConnectionClosed, true));
    await waitFor(() => forever.started === startedBefore + 1, { what: "the stream to open" });
    await own.server.close();
    await reading;
    await ownClient.close();
  });
});
