/**
 * Unit tests for `RpcStream` flow control and lifecycle, without a network: two stream
 * ends (client and server) are wired through in-memory queues that the test delivers
 * explicitly, so every credit and message is visible and the order is deterministic.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { ErrorCode, TesseraError, hasErrorCode, limits } from "../base/mod.ts";
import { MessageKind, type RpcMessage, type StreamMessage, StreamKind } from "./messages.ts";
import { RpcStream, type StreamTransport } from "./stream.ts";

const timeout = 10_000;
const window = 8;

/** One side's outbox, and whether the owner was told the stream finished. */
interface Side {
  readonly sent: RpcMessage[];
  finished: boolean;
  readonly transport: StreamTransport;
}

function side(): Side {
  const result: Side = {
    sent: [],
    finished: false,
    transport: {
      transmit: (message) => result.sent.push(message),
      finished: () => {
        result.finished = true;
      },
    },
  };
  return result;
}

/** A client and a server end of one stream, with explicit delivery. */
function pair(kind: StreamKind): {
  client: RpcStream;
  server: RpcStream;
  clientSide: Side;
  serverSide: Side;
  /** Delivers everything queued in both directions until quiet; returns violations. */
  deliver: () => string[];
} {
  const clientSide = side();
  const serverSide = side();
  const client = new RpcStream({
    id: 1,
    role: "client",
    kind,
    transport: clientSide.transport,
    receiveWindowMessages: window,
    sendWindowMessages: 0,
  });
  const server = new RpcStream({
    id: 1,
    role: "server",
    kind,
    transport: serverSide.transport,
    receiveWindowMessages: window,
    sendWindowMessages: window,
  });
  if (kind === StreamKind.bidi) serverSide.sent.push([MessageKind.accept, 1, window]);
  const deliver = (): string[] => {
    const violations: string[] = [];
    while (clientSide.sent.length > 0 || serverSide.sent.length > 0) {
      for (const message of serverSide.sent.splice(0)) {
        const violation = client.receive(message as StreamMessage);
        if (violation !== undefined) violations.push(violation);
      }
      for (const message of clientSide.sent.splice(0)) {
        const violation = server.receive(message as StreamMessage);
        if (violation !== undefined) violations.push(violation);
      }
    }
    return violations;
  };
  return { client, server, clientSide, serverSide, deliver };
}

function isCancelled(error: unknown): boolean {
  return hasErrorCode(error, ErrorCode.RpcStreamCancelled);
}

/** Lets promise callbacks run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

describe("RpcStream", () => {
  it("a sender has at most a window of unacknowledged messages", { timeout }, async () => {
    const { client, server, deliver } = pair(StreamKind.server);
    const sends: Promise<void>[] = [];
    let resolved = 0;
    for (let i = 0; i < window + 3; i++) {
      sends.push(server.send(i).then(() => void resolved++));
      assert.ok(server.unacknowledgedMessages <= window);
    }
    await settle();
    assert.equal(resolved, window, "sends beyond the window wait");
    assert.equal(server.unacknowledgedMessages, window);
    deliver();
    // The consumer reads half a window: that earns one credit message of that size.
    for (let i = 0; i < window / 2; i++) {
      assert.deepEqual(await client.next(), { value: i, done: false });
    }
    deliver();
    await settle();
    assert.equal(resolved, window + 3);
    assert.equal(server.unacknowledgedMessages, window - window / 2 + 3);
    await Promise.all(sends);
  });

  it("grants credit in batches of half a window as the consumer reads", { timeout }, async () => {
    const { client, server, serverSide, clientSide, deliver } = pair(StreamKind.server);
    for (let i = 0; i < window; i++) await server.send(i);
    assert.equal(serverSide.sent.length, window);
    deliver();
    for (let i = 0; i < window / 2 - 1; i++) await client.next();
    assert.deepEqual(clientSide.sent, []);
    await client.next();
    assert.deepEqual(clientSide.sent, [[MessageKind.credit, 1, window / 2]]);
  });

  it("data beyond the announced window is a protocol violation", { timeout }, () => {
    const { client } = pair(StreamKind.server);
    for (let i = 0; i < window; i++) {
      assert.equal(client.receive([MessageKind.data, 1, i]), undefined);
    }
    assert.match(client.receive([MessageKind.data, 1, "extra"]) ?? "", /window/);
  });

  it("credit for messages never sent is a protocol violation", { timeout }, async () => {
    const { server } = pair(StreamKind.server);
    await server.send("one");
    assert.match(server.receive([MessageKind.credit, 1, 2]) ?? "", /never sent/);
  });

  it("data toward a side that cannot receive is a protocol violation", { timeout }, () => {
    const { server } = pair(StreamKind.server);
    assert.notEqual(server.receive([MessageKind.data, 1, "x"]), undefined);
    assert.notEqual(server.receive([MessageKind.end, 1]), undefined);
  });

  it("a bidi client waits for the server's accept before sending", { timeout }, async () => {
    const { client, server, clientSide, deliver } = pair(StreamKind.bidi);
    const sent = client.send("hello");
    assert.equal(clientSide.sent.length, 0);
    assert.deepEqual(deliver(), []);
    await sent;
    assert.deepEqual(await server.next(), { value: "hello", done: false });
  });

  it("the client's end half-closes: the server reads to the end and still sends", {
    timeout,
  }, async () => {
    const { client, server, deliver } = pair(StreamKind.bidi);
    deliver();
    await client.send(1);
    client.end();
    deliver();
    assert.deepEqual(await server.next(), { value: 1, done: false });
    assert.deepEqual(await server.next(), { value: undefined, done: true });
    await server.send("reply");
    deliver();
    assert.deepEqual(await client.next(), { value: "reply", done: false });
    await assert.rejects(client.send(2), (error) => hasErrorCode(error, ErrorCode.RpcStreamClosed));
  });

  it("the server's end finishes the call and fails the client's waiting sends", {
    timeout,
  }, async () => {
    const { client, server, clientSide, deliver } = pair(StreamKind.bidi);
    deliver();
    for (let i = 0; i < window; i++) await client.send(i);
    const waiting = client.send("waits for credit");
    server.end();
    // Deliver the server's end without the client's data reaching the server.
    clientSide.sent.length = 0;
    deliver();
    await assert.rejects(waiting, (error) => hasErrorCode(error, ErrorCode.RpcStreamClosed));
    assert.equal(client.finished, true);
    assert.deepEqual(await client.next(), { value: undefined, done: true });
  });

  it("cancel tells the peer and fails local reads and sends at once", { timeout }, async () => {
    const { client, server, clientSide, serverSide, deliver } = pair(StreamKind.bidi);
    deliver();
    const reading = client.next();
    client.cancel();
    assert.equal(clientSide.finished, true);
    await assert.rejects(reading, isCancelled);
    await assert.rejects(client.send(1), isCancelled);
    deliver();
    assert.equal(server.failure?.code, ErrorCode.RpcStreamCancelled);
    assert.equal(serverSide.finished, true);
    await assert.rejects(server.send(1), isCancelled);
  });

  it("delivers messages that arrived before a remote error, then throws it", {
    timeout,
  }, async () => {
    const { client, server, deliver } = pair(StreamKind.server);
    await server.send("a");
    await server.send("b");
    server.abort(new TesseraError(ErrorCode.RpcRemoteError, "handler broke"));
    deliver();
    const seen: unknown[] = [];
    await assert.rejects(
      (async () => {
        for await (const value of client) seen.push(value);
      })(),
      (error) => hasErrorCode(error, ErrorCode.RpcRemoteError),
    );
    assert.deepEqual(seen, ["a", "b"]);
  });

  it("leaving a for-await loop early cancels the stream", { timeout }, async () => {
    const { client, server, clientSide, deliver } = pair(StreamKind.server);
    await server.send("first");
    await server.send("second");
    deliver();
    for await (const value of client) {
      assert.equal(value, "first");
      break;
    }
    assert.equal(clientSide.finished, true);
    deliver();
    assert.equal(server.failure?.code, ErrorCode.RpcStreamCancelled);
  });

  it("refuses sends beyond a window's worth of waiting ones", { timeout }, async () => {
    const { server } = pair(StreamKind.server);
    const pending: Promise<void>[] = [];
    // `window` go out at once; the queue behind them holds limits.rpcStreamWindowMessages.
    for (let i = 0; i < window + limits.rpcStreamWindowMessages; i++) pending.push(server.send(i));
    await assert.rejects(server.send("one too many"), (error) =>
      hasErrorCode(error, ErrorCode.RpcTooManyInFlight),
    );
    server.failLocally(new TesseraError(ErrorCode.RpcConnectionClosed, "test over"));
    const outcomes = await Promise.allSettled(pending);
    assert.equal(outcomes.filter((outcome) => outcome.status === "fulfilled").length, window);
  });
});
