/**
 * Tests for `NodeNetwork`: listening on an ephemeral port, echo round trips over TCP and
 * TLS, data sent before `setHandlers` is kept, and connect failures are typed errors.
 *
 * The TLS test needs a certificate. Node cannot generate one, so the test asks the
 * `openssl` command for a throwaway self-signed certificate; without `openssl` it is
 * skipped with a reason, except in CI (`CI=true`), where a missing `openssl` fails it.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";

import { ErrorCode, hasErrorCode } from "../../base/mod.ts";
import type { Connection, Listener, TlsOptions } from "../env.ts";
import { NodeNetwork } from "./network.ts";

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

/** A self-signed certificate for `localhost` and 127.0.0.1, or the reason there is none. */
function selfSignedCertificate(): { cert: string; key: string } | string {
  const dir = mkdtempSync(join(tmpdir(), "tessera-tls-"));
  try {
    execFileSync(
      "openssl",
      [
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
        "-nodes", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"),
        "-days", "1", "-subj", "/CN=localhost",
        "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
      ],
      { stdio: "pipe" },
    );
    return {
      cert: readFileSync(join(dir, "cert.pem"), "utf8"),
      key: readFileSync(join(dir, "key.pem"), "utf8"),
    };
  } catch (error) {
    return `openssl could not make a certificate: ${String(error)}`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
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

  it("echoes bytes over TLS with a self-signed certificate", { timeout }, async (t) => {
    const certificate = selfSignedCertificate();
    if (typeof certificate === "string") {
      if (process.env["CI"] === "true") assert.fail(certificate);
      console.log(`skipping TLS round trip: ${certificate}`);
      t.skip(certificate);
      return;
    }
    const { listener, connections } = await startEcho(network, certificate);
    const client = await network.connect({
      host: "127.0.0.1",
      port: listener.port,
      tls: { ca: certificate.cert, serverName: "localhost" },
    });
    cleanups.push(() => {
      client.destroy();
      for (const connection of connections) connection.destroy();
      return listener.close();
    });
    const sink = collect(client);
    client.write(Buffer.from("secret"));
    assert.equal((await sink.waitFor(6)).toString(), "secret");
    // A client that does not trust the certificate fails to connect, with the typed error.
    await assert.rejects(
      network.connect({ host: "127.0.0.1", port: listener.port, tls: { serverName: "localhost" } }),
      (error) => hasErrorCode(error, ErrorCode.RpcConnectFailed),
    );
  });
});
