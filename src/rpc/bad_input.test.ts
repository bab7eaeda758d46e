/**
 * Tests that a broken or hostile peer costs only its own connection. On the server: an
 * oversized frame, an undecodable body, a message of the wrong shape, a reused call id
 * and stream messages for a unary call each close the offending connection with a logged
 * error, and a peer that never reads its replies is cut off at the write bound, while a
 * well-behaved client keeps being served. On the client: garbage from a server fails its
 * calls as ambiguous, and a server that never reads makes it refuse new calls. Finally a
 * fast-check fuzz run (fixed seed) throws random chunks, frames and message-like arrays at
 * the server over raw sockets, checking after each run that it still answers.
 */
import assert from "node:assert/strict";
import * as net from "node:net";
import { after, before, describe, it } from "node:test";

import fc from "fast-check";

import { ErrorCode, hasErrorCode, limits } from "../base/mod.ts";
import type { RpcClient } from "./client.ts";
import { MessageKind, encodeValue } from "./messages.ts";
import type { RpcAddress, RpcServer } from "./server.ts";
import {
  type LogEntry,
  startClient,
  startServer,
  testEnv,
  waitFor,
} from "./test_support.ts";

const timeout = 30_000;
const env = testEnv();

/** A frame around `body`, with `length` overriding the real body length. */
function frame(body: Uint8Array, length = body.length): Uint8Array {
  const out = new Uint8Array(4 + body.length);
  new DataView(out.buffer).setUint32(0, length);
  out.set(body, 4);
  return out;
}

/**
 * Connects a raw socket, writes `chunks`, and resolves once the server has closed the
 * connection. With `halfClose` the socket ends its side after writing, so a server that
 * is merely waiting for more bytes closes too; without it, only a server that gave up on
 * the connection does.
 */
function rawSession(
  address: RpcAddress,
  chunks: readonly Uint8Array[],
  options: { readonly halfClose: boolean },
): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: address.host, port: address.port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error("the server did not close the raw connection"));
    }, 10_000);
    socket.on("error", () => undefined);
    socket.on("data", () => undefined);
    socket.on("close", () => {
      clearTimeout(timer);
      resolve();
    });
    socket.on("connect", () => {
      for (const chunk of chunks) socket.write(chunk);
      if (options.halfClose) socket.end();
    });
  });
}

function errorCodes(entries: readonly LogEntry[]): unknown[] {
  return entries.filter((entry) => entry.level === "error").map((entry) => entry.fields["code"]);
}

describe("RpcServer under bad input", () => {
  let server: RpcServer;
  let address: RpcAddress;
  let logs: LogEntry[];
  let client: RpcClient;

  before(async () => {
    const started = await startServer(env, {
      register: (s) => {
        s.handleUnary("Echo", async (body) => body);
        s.handleServerStream("Count", async (body, stream) => {
          const count = typeof body === "number" ? Math.min(body, 10) : 1;
          for (let i = 0; i < count; i++) await stream.send(i);
        });
        s.handleUnary(
          "Hold",
          (_body, context) =>
            new Promise((resolve) => context.signal.addEventListener("abort", resolve)),
        );
        s.handleUnary("Big", async () => new Uint8Array(8 * 1024 * 1024));
        s.handleBidiStream("Chat", async (_body, stream) => {
          for await (const value of stream) await stream.send(value);
        });
      },
    });
    ({ server, address } = started);
    logs = started.logger.entries;
    ({ client } = startClient(env, address));
    // The good client's connection exists before any bad one arrives.
    assert.equal(await client.call("Echo", "warm"), "warm");
  });
  after(async () => {
    await client.close();
    await server.close();
  });

  it("an oversized frame closes that connection; others keep working", { timeout }, async () => {
    const before = logs.length;
    const header = frame(new Uint8Array(0), limits.rpcFrameBytesMax + 1);
    await rawSession(address, [header], { halfClose: false });
    assert.deepEqual(errorCodes(logs.slice(before)), [ErrorCode.RpcFrameTooLarge]);
    assert.equal(await client.call("Echo", "still here"), "still here");
    await waitFor(() => server.connectionCount === 1, { what: "the bad connection to go" });
  });

  it("an undecodable frame closes that connection; others keep working", { timeout }, async () => {
    const before = logs.length;
    await rawSession(address, [frame(new Uint8Array([0xc1, 0xff, 0x00]))], { halfClose: false });
    assert.deepEqual(errorCodes(logs.slice(before)), [ErrorCode.RpcFrameMalformed]);
    assert.equal(await client.call("Echo", "still here"), "still here");
  });

  it("a message of the wrong shape closes that connection; others keep working", {
    timeout,
  }, async () => {
    const before = logs.length;
    const wrongShape = frame(encodeValue([MessageKind.request, 1, "Echo"]));
    await rawSession(address, [wrongShape], { halfClose: false });
    assert.deepEqual(errorCodes(logs.slice(before)), [ErrorCode.RpcFrameMalformed]);
    const serverOnly = frame(encodeValue([MessageKind.reply, 1, null]));
    await rawSession(address, [serverOnly], { halfClose: false });
    assert.equal(await client.call("Echo", "still here"), "still here");
  });

  it("a call id reused while in flight closes that connection", { timeout }, async () => {
    const before = logs.length;
    const hold = frame(encodeValue([MessageKind.request, 7, "Hold", null, 0]));
    await rawSession(address, [hold, hold], { halfClose: false });
    assert.deepEqual(errorCodes(logs.slice(before)), [ErrorCode.RpcFrameMalformed]);
    assert.equal(await client.call("Echo", "still here"), "still here");
  });

  it("stream messages for a unary call close that connection", { timeout }, async () => {
    const before = logs.length;
    await rawSession(
      address,
      [
        frame(encodeValue([MessageKind.request, 8, "Hold", null, 0])),
        frame(encodeValue([MessageKind.data, 8, "not a stream"])),
      ],
      { halfClose: false },
    );
    assert.deepEqual(errorCodes(logs.slice(before)), [ErrorCode.RpcFrameMalformed]);
  });

  it("a peer that does not read its replies is disconnected past the write bound", {
    timeout,
  }, async () => {
    const before = logs.length;
    const count = Math.ceil(limits.rpcWriteBufferBytesMax / (8 * 1024 * 1024)) + 4;
    const requests = Array.from({ length: count }, (_, i) =>
      frame(encodeValue([MessageKind.request, i + 1, "Big", null, 0])),
    );
    // The raw socket never reads (so it cannot see the close either): replies pile up in
    // the server's write buffer until the server gives up on the connection.
    const socket = net.connect({ host: address.host, port: address.port });
    socket.on("error", () => undefined);
    socket.on("connect", () => {
      for (const request of requests) socket.write(request);
    });
    try {
      await waitFor(() => logs.length > before, { what: "the server to give up" });
      await waitFor(() => server.connectionCount === 1, { what: "the connection to close" });
    } finally {
      socket.destroy();
    }
    const warnings = logs.slice(before);
    assert.deepEqual(
      warnings.map((entry) => [entry.level, entry.message]),
      [["warn", "closing RPC connection: peer is not reading its replies"]],
    );
    assert.equal(await client.call("Echo", "still here"), "still here");
  });

  it("a server that sends garbage fails the client's calls as ambiguous, logged", {
    timeout,
  }, async () => {
    const garbageServer = net.createServer((socket) => {
      socket.on("error", () => undefined);
      socket.on("data", () => socket.write(frame(new Uint8Array([0xc1]))));
    });
    await new Promise<void>((resolve) => garbageServer.listen(0, "127.0.0.1", resolve));
    const port = (garbageServer.address() as net.AddressInfo).port;
    const { client: victim, logger } = startClient(env, { host: "127.0.0.1", port });
    try {
      await assert.rejects(victim.call("Echo", 1), (error) => {
        assert.ok(hasErrorCode(error, ErrorCode.RpcConnectionClosed));
        assert.equal(error.ambiguous, true);
        return true;
      });
      assert.deepEqual(errorCodes(logger.entries), [ErrorCode.RpcFrameMalformed]);
    } finally {
      await victim.close();
      await new Promise((resolve) => garbageServer.close(resolve));
    }
  });

  it("a client refuses new calls while its write buffer is over the bound", {
    timeout,
  }, async () => {
    // A server that accepts and never reads: the client's bytes pile up on its side.
    const sockets: net.Socket[] = [];
    const deafServer = net.createServer((socket) => {
      socket.on("error", () => undefined);
      socket.pause();
      sockets.push(socket);
    });
    await new Promise<void>((resolve) => deafServer.listen(0, "127.0.0.1", resolve));
    const port = (deafServer.address() as net.AddressInfo).port;
    const { client: talker } = startClient(env, { host: "127.0.0.1", port });
    const calls: Promise<unknown>[] = [];
    try {
      const body = new Uint8Array(8 * 1024 * 1024);
      const outcomes: unknown[] = [];
      const call = (): void => {
        calls.push(talker.call("Echo", body).catch((error: unknown) => outcomes.push(error)));
      };
      call();
      await waitFor(() => sockets.length > 0, { what: "the connection" });
      let refusal: unknown;
      for (let i = 0; i < 40 && refusal === undefined; i++) {
        await new Promise((resolve) => setImmediate(resolve));
        call();
        await new Promise((resolve) => setImmediate(resolve));
        refusal = outcomes.find((error) => hasErrorCode(error, ErrorCode.RpcWriteBufferFull));
      }
      assert.ok(hasErrorCode(refusal, ErrorCode.RpcWriteBufferFull), String(refusal));
    } finally {
      await talker.close();
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => deafServer.close(resolve));
      await Promise.all(calls);
    }
  });

  it("survives random chunks, frames and message-like values, and keeps answering", {
    timeout,
  }, async () => {
    // Well-shaped messages with a few small ids, so that sessions get deep into the protocol:
    // streams opened, data, credit, ends and errors in every order.
    const id = fc.constantFrom(1, 2, 3);
    const wellShaped = fc.oneof(
      fc.tuple(
        fc.constant(MessageKind.request),
        id,
        fc.constantFrom("Echo", "Hold", "Chat", "Nope"),
        fc.anything(),
        fc.nat({ max: 1000 }),
      ),
      fc.tuple(
        fc.constant(MessageKind.open),
        id,
        fc.constantFrom("Count", "Chat", "Echo"),
        fc.oneof(fc.nat({ max: 20 }), fc.anything()),
        fc.nat({ max: 1000 }),
        fc.constantFrom(0, 1),
        fc.integer({ min: 1, max: 8 }),
      ),
      fc.tuple(fc.constant(MessageKind.data), id, fc.anything()),
      fc.tuple(fc.constant(MessageKind.credit), id, fc.integer({ min: 1, max: 10 })),
      fc.tuple(fc.constant(MessageKind.end), id),
      fc.tuple(
        fc.constant(MessageKind.error),
        id,
        fc.constantFrom(ErrorCode.RpcStreamCancelled, "Unknown:Code"),
        fc.string(),
        fc.boolean(),
        fc.dictionary(fc.string(), fc.anything()),
      ),
    );
    // Anything else: wrong kinds, ids and shapes, raw bytes, lengths that lie.
    const wild = fc.oneof(
      fc.tuple(fc.integer({ min: -1, max: 10 }), fc.oneof(fc.nat(), fc.double(), fc.string())),
      fc.tuple(fc.constant(MessageKind.accept), id, fc.integer({ min: -2, max: 10 })),
      fc.tuple(fc.constant(MessageKind.credit), id, fc.integer({ min: -2, max: 0 })),
      fc.anything(),
    );
    const chunk = fc.oneof(
      { arbitrary: wellShaped.map((value) => frame(encodeValue(value))), weight: 12 },
      { arbitrary: wild.map((value) => frame(encodeValue(value))), weight: 1 },
      { arbitrary: fc.uint8Array({ maxLength: 64 }), weight: 1 },
      {
        arbitrary: fc
          .tuple(fc.uint8Array({ maxLength: 16 }), fc.nat({ max: 100 }))
          .map(([body, extra]) => frame(body, body.length + extra)),
        weight: 1,
      },
    );
    await fc.assert(
      fc.asyncProperty(fc.array(chunk, { minLength: 1, maxLength: 16 }), async (chunks) => {
        await rawSession(address, chunks, { halfClose: true });
        assert.equal(await client.call("Echo", "alive"), "alive");
      }),
      { seed: 424242, numRuns: 300 },
    );
    await waitFor(() => server.connectionCount === 1, { what: "fuzz connections to close" });
  });
});
