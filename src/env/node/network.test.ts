/**
 * Tests for `NodeNetwork`: listening on an ephemeral port, echo round trips over TCP and
 * TLS, data sent before `setHandlers` is kept, connect failures are typed errors, and the
 * server side of STARTTLS (`Connection.startTls`): an upgrade after a plain-text preamble
 * with the client's hello already partly read, a failed handshake, an aborted one.
 *
 * Certificates come from `createSelfSignedCertificate`.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import * as net from "node:net";
import { after, describe, it } from "node:test";
import * as tls from "node:tls";

import { ErrorCode, hasErrorCode } from "../../base/mod.ts";
import type { Connection, Listener, TlsOptions } from "../env.ts";
import { NodeNetwork } from "./network.ts";
import { createSelfSignedCertificate } from "./self_signed.ts";

const timeout = 20_000;

/** Collects everything a connection receives, and resolves when `bytes` have arrived. */
function collect(connection: Connection): {
  received: () => Buffer;
  waitFor: (bytes: number) => Promise<Buffer>;
  closed: Promise<Error | undefined>;
} {
  const chunks: Buffer[] = [];
  let total = 0;
  const waiters: { bytes: number; resolve: (data: Buffer) => void }[] = [];
  let onClosed: (error: Error | undefined) => void = () => undefined;
  const closed = new Promise<Error | undefined>((resolve) => {
    onClosed = resolve;
  });
  connection.setHandlers({
    onData(chunk) {
      chunks.push(Buffer.from(chunk));
      total += chunk.length;
      for (const waiter of waiters.splice(0)) {
        if (total >= waiter.bytes) waiter.resolve(Buffer.concat(chunks));
        else waiters.push(waiter);
      }
    },
    onDrain() {},
    onClose(error) {
      onClosed(error);
    },
  });
  return {
    received: () => Buffer.concat(chunks),
    waitFor: (bytes) =>
      new Promise((resolve) => {
        if (total >= bytes) resolve(Buffer.concat(chunks));
        else waiters.push({ bytes, resolve });
      }),
    closed,
  };
}

/** Starts an echo server; returns it with its listener. */
async function startEcho(
  network: NodeNetwork,
  tlsOptions?: TlsOptions,
): Promise<{ listener: Listener; connections: Connection[] }> {
  const connections: Connection[] = [];
  const listener = await network.listen({
    host: "127.0.0.1",
    port: 0,
    ...(tlsOptions === undefined ? {} : { tls: tlsOptions }),
    onConnection(connection) {
      connections.push(connection);
      connection.setHandlers({
        onData(chunk) {
          connection.write(chunk);
        },
        onDrain() {},
        onClose() {},
      });
    },
  });
  return { listener, connections };
}

const certificate = createSelfSignedCertificate();
const serverTls: TlsOptions = { cert: certificate.certPem, key: certificate.keyPem };

/** The plain-text request a STARTTLS client sends before its TLS hello. */
const preamble = Buffer.from("STARTTLS\n");

/**
 * A plain listener whose connections wait for `preamble` plus at least `extraBytes` more
 * (the start of the client's hello), then call `startTls` with those extra bytes; each
 * upgrade's outcome is pushed to `upgrades`, and upgraded connections echo.
 */
async function startTlsServer(
  network: NodeNetwork,
  options: { extraBytes: number; onPlain?: (connection: Connection) => void },
): Promise<{ listener: Listener; upgrades: Promise<Connection>[]; plain: Connection[];
  upgraded: Promise<void> }> {
  const upgrades: Promise<Connection>[] = [];
  const plain: Connection[] = [];
  let onUpgrade: () => void = () => undefined;
  const upgraded = new Promise<void>((resolve) => {
    onUpgrade = resolve;
  });
  const listener = await network.listen({
    host: "127.0.0.1",
    port: 0,
    onConnection(connection) {
      plain.push(connection);
      const chunks: Buffer[] = [];
      let started = false;
      connection.setHandlers({
        onData(chunk) {
          if (started) return;
          chunks.push(Buffer.from(chunk));
          const received = Buffer.concat(chunks);
          if (received.length < preamble.length + options.extraBytes) return;
          assert.deepEqual(received.subarray(0, preamble.length), preamble);
          started = true;
          assert.ok(connection.startTls !== undefined);
          const upgrade = connection.startTls(serverTls, received.subarray(preamble.length));
          upgrades.push(upgrade);
          onUpgrade();
          options.onPlain?.(connection);
          upgrade.then((secure) => {
            secure.setHandlers({
              onData(data) {
                secure.write(data);
              },
              onDrain() {},
              onClose() {},
            });
          }, () => undefined);
        },
        onDrain() {},
        onClose() {},
      });
    },
  });
  return { listener, upgrades, plain, upgraded };
}

/** A raw TCP client that has sent `preamble`. */
async function plainClient(port: number): Promise<net.Socket> {
  const socket = net.connect({ host: "127.0.0.1", port });
  await once(socket, "connect");
  socket.write(preamble);
  return socket;
}

describe("NodeNetwork", () => {
  const network = new NodeNetwork();
  const cleanups: (() => Promise<void> | void)[] = [];
  after(async () => {
    for (const cleanup of cleanups) await cleanup();
  });

  it("listen() on port 0 reports the port the system bound", { timeout }, async () => {
    const { listener } = await startEcho(network);
    cleanups.push(() => listener.close());
    assert.equal(listener.host, "127.0.0.1");
    assert.ok(listener.port > 0 && listener.port < 65536);
  });

  it("echoes bytes over TCP and reports write backpressure as a boolean", { timeout }, async () => {
    const { listener, connections } = await startEcho(network);
    const client = await network.connect({ host: "127.0.0.1", port: listener.port });
    cleanups.push(() => {
      client.destroy();
      for (const connection of connections) connection.destroy();
      return listener.close();
    });
    assert.equal(client.remoteAddress, `127.0.0.1:${listener.port}`);
    const sink = collect(client);
    const payload = Buffer.alloc(256 * 1024, 7);
    assert.equal(typeof client.write(payload.subarray(0, 1000)), "boolean");
    client.write(payload.subarray(1000));
    assert.ok(client.bufferedBytes >= 0);
    const echoed = await sink.waitFor(payload.length);
    assert.deepEqual(echoed, payload);
  });

  it("keeps data that arrives before setHandlers", { timeout }, async () => {
    let accepted: (connection: Connection) => void = () => undefined;
    const acceptedPromise = new Promise<Connection>((resolve) => {
      accepted = resolve;
    });
    const listener = await network.listen({
      host: "127.0.0.1",
      port: 0,
      onConnection: (connection) => accepted(connection),
    });
    const client = await network.connect({ host: "127.0.0.1", port: listener.port });
    const clientSink = collect(client);
    client.write(Buffer.from("early bytes"));
    const server = await acceptedPromise;
    cleanups.push(() => {
      client.destroy();
      server.destroy();
      return listener.close();
    });
    // Give the bytes a chance to land in the unattached socket before handlers go on.
    await new Promise((resolve) => setImmediate(resolve));
    const serverSink = collect(server);
    assert.equal((await serverSink.waitFor(11)).toString(), "early bytes");
    server.end();
    assert.equal(await clientSink.closed, undefined);
  });

  it("closing the listener leaves accepted connections open", { timeout }, async () => {
    const { listener, connections } = await startEcho(network);
    const client = await network.connect({ host: "127.0.0.1", port: listener.port });
    cleanups.push(() => {
      client.destroy();
      for (const connection of connections) connection.destroy();
    });
    const sink = collect(client);
    await listener.close();
    client.write(Buffer.from("still here"));
    assert.equal((await sink.waitFor(10)).toString(), "still here");
    await assert.rejects(
      network.connect({ host: "127.0.0.1", port: listener.port, timeoutMs: 5_000 }),
      (error) => hasErrorCode(error, ErrorCode.RpcConnectFailed),
    );
  });

  it("connect() to a closed port rejects with ConnectFailed", { timeout }, async () => {
    const { listener } = await startEcho(network);
    const port = listener.port;
    await listener.close();
    await assert.rejects(
      network.connect({ host: "127.0.0.1", port, timeoutMs: 5_000 }),
      (error) =>
        hasErrorCode(error, ErrorCode.RpcConnectFailed) && error.message.includes(`${port}`),
    );
  });

  it("destroy() reports its error to onClose of the destroyed side", { timeout }, async () => {
    const { listener, connections } = await startEcho(network);
    cleanups.push(() => {
      for (const connection of connections) connection.destroy();
      return listener.close();
    });
    const client = await network.connect({ host: "127.0.0.1", port: listener.port });
    const sink = collect(client);
    const reason = new Error("going away");
    client.destroy(reason);
    assert.equal(await sink.closed, reason);
  });

  it("echoes bytes over TLS with a self-signed certificate", { timeout }, async () => {
    const { listener, connections } = await startEcho(network, serverTls);
    const client = await network.connect({
      host: "127.0.0.1",
      port: listener.port,
      tls: { ca: certificate.certPem, serverName: "localhost" },
    });
    cleanups.push(() => {
      client.destroy();
      for (const connection of connections) connection.destroy();
      return listener.close();
    });
    assert.equal(client.secure, true);
    const sink = collect(client);
    client.write(Buffer.from("secret"));
    assert.equal((await sink.waitFor(6)).toString(), "secret");
    assert.equal(connections[0]?.secure, true);
    // A client that does not trust the certificate fails to connect, with the typed error.
    await assert.rejects(
      network.connect({ host: "127.0.0.1", port: listener.port, tls: { serverName: "localhost" } }),
      (error) => hasErrorCode(error, ErrorCode.RpcConnectFailed),
    );
  });

  it("startTls() upgrades a plain connection after a preamble, keeping bytes already read",
    { timeout }, async () => {
      // The server waits for 5 bytes past the preamble, so `buffered` holds the start of
      // the ClientHello and the handshake only works if those bytes are fed to TLS first.
      const server = await startTlsServer(network, { extraBytes: 5 });
      const socket = await plainClient(server.listener.port);
      const client = tls.connect({ socket, ca: certificate.certPem, servername: "localhost" });
      cleanups.push(() => {
        client.destroy();
        for (const connection of server.plain) connection.destroy();
        return server.listener.close();
      });
      await once(client, "secureConnect");
      const plain = server.plain[0];
      assert.ok(plain !== undefined);
      assert.equal(plain.secure, false);
      const secure = await server.upgrades[0];
      assert.ok(secure !== undefined);
      assert.equal(secure.secure, true);
      assert.equal(secure.remoteAddress, plain.remoteAddress);
      // The old connection is inert: its writes go nowhere.
      assert.equal(plain.write(Buffer.from("plain")), false);
      client.write("over tls");
      const [echoed] = await once(client, "data") as [Buffer];
      assert.equal(echoed.toString(), "over tls");
    });

  it("startTls() rejects with Env:TlsFailed and closes when the client does not speak TLS",
    { timeout }, async () => {
      const server = await startTlsServer(network, { extraBytes: 1 });
      const socket = await plainClient(server.listener.port);
      cleanups.push(() => {
        socket.destroy();
        return server.listener.close();
      });
      const closed = once(socket, "close");
      socket.write("this is not a TLS ClientHello\r\n\r\n");
      await server.upgraded;
      const upgrade = server.upgrades[0];
      assert.ok(upgrade !== undefined);
      await assert.rejects(upgrade, (error) => hasErrorCode(error, ErrorCode.EnvTlsFailed));
      await closed;
    });

  it("destroy() on the old connection aborts a handshake still running", { timeout },
    async () => {
      // The client sends one byte of a hello and then nothing: the handshake would hang.
      const server = await startTlsServer(network, {
        extraBytes: 1,
        onPlain: (connection) => connection.destroy(),
      });
      const socket = await plainClient(server.listener.port);
      cleanups.push(() => {
        socket.destroy();
        return server.listener.close();
      });
      const closed = once(socket, "close");
      socket.write(Buffer.from([0x16]));
      await server.upgraded;
      const upgrade = server.upgrades[0];
      assert.ok(upgrade !== undefined);
      await assert.rejects(upgrade, (error) => hasErrorCode(error, ErrorCode.EnvTlsFailed));
      await closed;
    });

  it("startTls() on a connection the client already closed rejects at once", { timeout },
    async () => {
      const closedConnections: Connection[] = [];
      let onClosed: () => void = () => undefined;
      const serverClosed = new Promise<void>((resolve) => {
        onClosed = resolve;
      });
      const listener = await network.listen({
        host: "127.0.0.1",
        port: 0,
        onConnection(connection) {
          closedConnections.push(connection);
          connection.setHandlers({ onData() {}, onDrain() {}, onClose: () => onClosed() });
        },
      });
      cleanups.push(() => listener.close());
      const socket = await plainClient(listener.port);
      socket.destroy();
      await serverClosed;
      const connection = closedConnections[0];
      assert.ok(connection?.startTls !== undefined);
      await assert.rejects(connection.startTls(serverTls, new Uint8Array()),
        (error) => hasErrorCode(error, ErrorCode.EnvTlsFailed));
    });
});
