/**
 * TLS on the MySQL wire server: `mysql2` upgrading with an SSLRequest and logging in with
 * both password plugins (caching_sha2's full authentication in cleartext over TLS, then
 * its fast path), a raw client whose SSLRequest and ClientHello arrive in one segment, a
 * failed TLS handshake that closes only its connection, and TLS asked of a server without
 * a certificate. Servers listen on 127.0.0.1, port 0; connections are made to look
 * non-loopback where the loopback cleartext exception would otherwise hide what TLS does.
 */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import * as net from "node:net";
import { duplexPair } from "node:stream";
import * as tls from "node:tls";
import mysql from "mysql2/promise";
import type { RowDataPacket } from "mysql2/promise";
import { createNodeAuthCrypto, createNodeEnv, createSelfSignedCertificate } from
  "../../env/mod.ts";
import { type AuthCrypto, InMemoryUserStore, type UserAccount, type UserStore } from
  "./auth.ts";
import { Capability } from "./constants.ts";
import { PacketDecoder, framePacket } from "./packet.ts";
import { PayloadWriter } from "./payload.ts";
import { type MySqlServer, type MySqlServerOptions, createMySqlServer } from "./server.ts";
import { observedEnv, parseErr, rawClientCapabilities, scriptedSessions } from
  "./test_support.ts";

const opts = { timeout: 30_000 };
const baseEnv = createNodeEnv();
const certificate = createSelfSignedCertificate();
const serverTls = { cert: certificate.certPem, key: certificate.keyPem };
const servers: MySqlServer[] = [];
const clients: mysql.Connection[] = [];
const sockets: net.Socket[] = [];

after(async () => {
  for (const client of clients) client.destroy();
  for (const socket of sockets) socket.destroy();
  for (const server of servers) await server.close();
});

/** Counts of what authentication did: RSA work and cleartext password checks. */
interface AuthCounts {
  rsaDecrypts: number;
  rsaKeyPairs: number;
  passwordChecks: number;
}

/**
 * A server (with TLS unless `withTls` is false) whose connections look as if they came
 * from 10.1.2.3.
 */
async function startServer(
  overrides: Partial<MySqlServerOptions> = {},
  options: { readonly withTls?: boolean } = {},
): Promise<{
  server: MySqlServer; observed: ReturnType<typeof observedEnv>["tls"]; counts: AuthCounts;
}> {
  const counts: AuthCounts = { rsaDecrypts: 0, rsaKeyPairs: 0, passwordChecks: 0 };
  const real = createNodeAuthCrypto();
  const authCrypto: AuthCrypto = {
    sha1: (data) => real.sha1(data),
    sha256: (data) => real.sha256(data),
    generateRsaKeyPair: (bits) => {
      counts.rsaKeyPairs++;
      return real.generateRsaKeyPair(bits);
    },
    rsaDecryptOaep: (key, data) => {
      counts.rsaDecrypts++;
      return real.rsaDecryptOaep(key, data);
    },
  };
  const store = new InMemoryUserStore(authCrypto, [
    { user: "root", password: "" },
    { user: "alice", password: "s3cret", plugin: "caching_sha2_password" },
    { user: "bob", password: "hunter2", plugin: "mysql_native_password" },
  ]);
  const users: UserStore = {
    lookup: async (user, host): Promise<UserAccount | undefined> => {
      const account = await store.lookup(user, host);
      if (account === undefined) return undefined;
      return {
        ...account,
        verifyPassword: (password) => {
          counts.passwordChecks++;
          return account.verifyPassword(password);
        },
      };
    },
  };
  const { env, tls: observed } = observedEnv(baseEnv, { remoteHost: "10.1.2.3" });
  const server = await createMySqlServer({
    env, host: "127.0.0.1", port: 0, sessions: scriptedSessions().sessions, users,
    authCrypto, ...(options.withTls === false ? {} : { tls: serverTls }),
    onBug: (error) => assert.fail(`server bug: ${error.message}`),
    ...overrides,
  });
  servers.push(server);
  return { server, observed, counts };
}

async function connect(
  server: MySqlServer,
  options: mysql.ConnectionOptions,
): Promise<mysql.Connection> {
  const client = await mysql.createConnection({
    host: "127.0.0.1", port: server.port, ssl: { rejectUnauthorized: false }, ...options,
  });
  clients.push(client);
  return client;
}

async function selectOne(client: mysql.Connection): Promise<void> {
  const [rows] = await client.query<RowDataPacket[]>("SELECT 1");
  assert.deepEqual(rows.map((row) => Object.values(row)), [[1]]);
}

/** The connection's socket (mysql2 swaps in a TLSSocket when it upgrades). */
function isEncrypted(client: mysql.Connection): boolean {
  const stream = (client as unknown as { connection: { stream: unknown } }).connection.stream;
  return stream instanceof tls.TLSSocket;
}

/** Resolves with the next whole MySQL packet from `socket`. */
async function readPacket(socket: net.Socket | tls.TLSSocket, decoder: PacketDecoder):
  Promise<{ sequenceId: number; payload: Uint8Array }> {
  for (;;) {
    const result = decoder.next();
    if (result.kind === "packet") return result.packet;
    assert.equal(result.kind, "incomplete");
    const [chunk] = await once(socket, "data") as [Buffer];
    decoder.push(chunk);
  }
}

describe("MySQL over TLS", () => {
  test("mysql2 upgrades to TLS and logs in with mysql_native_password", opts, async () => {
    const { server, observed } = await startServer();
    const client = await connect(server, { user: "bob", password: "hunter2" });
    await selectOne(client);
    assert.ok(isEncrypted(client));
    assert.equal(observed.upgraded, 1);
  });

  test("caching_sha2_password takes the cleartext password over TLS, then the fast path",
    opts, async () => {
      const { server, observed, counts } = await startServer();
      // Full authentication: the cache is empty, the client sends the password in clear.
      const first = await connect(server, { user: "alice", password: "s3cret" });
      await selectOne(first);
      assert.deepEqual(counts, { rsaDecrypts: 0, rsaKeyPairs: 0, passwordChecks: 1 });
      // Fast path: the scramble is checked against the cache; no password is sent.
      const second = await connect(server, { user: "alice", password: "s3cret" });
      await selectOne(second);
      assert.deepEqual(counts, { rsaDecrypts: 0, rsaKeyPairs: 0, passwordChecks: 1 });
      assert.equal(observed.upgraded, 2);
      // A wrong password over TLS is still refused.
      await assert.rejects(connect(server, { user: "alice", password: "wrong" }),
        (error: { errno?: number }) => error.errno === 1045);
    });

  test("the same client without TLS must use RSA from a non-loopback address", opts,
    async () => {
      const { server, observed, counts } = await startServer();
      const client = await mysql.createConnection({
        host: "127.0.0.1", port: server.port, user: "alice", password: "s3cret",
      });
      clients.push(client);
      await selectOne(client);
      assert.equal(observed.upgraded, 0);
      assert.equal(counts.rsaDecrypts, 1);
    });

  test("an SSLRequest followed at once by the ClientHello is upgraded without losing bytes",
    opts, async () => {
      const { server, observed } = await startServer();
      const socket = net.connect({ host: "127.0.0.1", port: server.port });
      sockets.push(socket);
      const plainDecoder = new PacketDecoder({ payloadBytesMax: 1 << 20 });
      const greeting = await readPacket(socket, plainDecoder);
      assert.equal(greeting.sequenceId, 0);
      socket.pause();
      const capabilities = rawClientCapabilities | Capability.Ssl;
      const sslRequest = new PayloadWriter().uint32(capabilities).uint32(1 << 24).uint8(45)
        .zeros(23).finish();
      // The TLS client writes into one end of a pair; its first flight (the ClientHello)
      // is sent in the same write as the SSLRequest, then bytes are relayed both ways.
      const [inner, outer] = duplexPair();
      const secure = tls.connect({ socket: inner, rejectUnauthorized: false });
      sockets.push(secure as unknown as net.Socket);
      const [hello] = await once(outer, "data") as [Buffer];
      outer.pause();
      socket.write(Buffer.concat([...framePacket(sslRequest, 1).frames, hello]));
      outer.pipe(socket);
      socket.pipe(outer);
      outer.resume();
      await once(secure, "secureConnect");
      const response = new PayloadWriter().uint32(capabilities).uint32(1 << 24).uint8(45)
        .zeros(23).nulString("root").lenencInt(0).nulString("caching_sha2_password")
        .finish();
      for (const frame of framePacket(response, 2).frames) secure.write(frame);
      const ok = await readPacket(secure, new PacketDecoder({ payloadBytesMax: 1 << 20 }));
      assert.equal(ok.sequenceId, 3);
      assert.equal(ok.payload[0], 0x00);
      assert.equal(observed.upgraded, 1);
    });

  test("a failed TLS handshake closes only that connection", opts, async () => {
    const { server, observed } = await startServer();
    const healthy = await connect(server, { user: "root", password: "" });
    const socket = net.connect({ host: "127.0.0.1", port: server.port });
    sockets.push(socket);
    await readPacket(socket, new PacketDecoder({ payloadBytesMax: 1 << 20 }));
    const closed = once(socket, "close");
    const sslRequest = new PayloadWriter().uint32(rawClientCapabilities | Capability.Ssl)
      .uint32(1 << 24).uint8(45).zeros(23).finish();
    socket.write(Buffer.concat([...framePacket(sslRequest, 1).frames,
      Buffer.from("GET / HTTP/1.1\r\n\r\n")]));
    await closed;
    assert.equal(observed.failed, 1);
    await selectOne(healthy);
    await selectOne(await connect(server, { user: "bob", password: "hunter2" }));
  });

  test("a TLS handshake that never finishes is closed at the handshake timeout", opts,
    async () => {
      const { server, observed } = await startServer({ handshakeTimeoutMs: 200 });
      const socket = net.connect({ host: "127.0.0.1", port: server.port });
      sockets.push(socket);
      await readPacket(socket, new PacketDecoder({ payloadBytesMax: 1 << 20 }));
      const closed = once(socket, "close");
      const sslRequest = new PayloadWriter().uint32(rawClientCapabilities | Capability.Ssl)
        .uint32(1 << 24).uint8(45).zeros(23).finish();
      // One byte of a TLS record, then silence.
      socket.write(Buffer.concat([...framePacket(sslRequest, 1).frames, Buffer.from([0x16])]));
      await closed;
      assert.equal(observed.failed, 1);
      assert.equal(server.connectionCount, 0);
    });
});

describe("TLS asked of a server without a certificate", () => {
  test("mysql2 with ssl set refuses to continue in plain text", opts, async () => {
    const { server } = await startServer({}, { withTls: false });
    await assert.rejects(connect(server, { user: "root", password: "" }),
      (error: { code?: string }) => error.code === "HANDSHAKE_NO_SSL_SUPPORT");
  });

  test("an SSLRequest gets error 1043 (Bad handshake)", opts, async () => {
    const { server } = await startServer({}, { withTls: false });
    const socket = net.connect({ host: "127.0.0.1", port: server.port });
    sockets.push(socket);
    const decoder = new PacketDecoder({ payloadBytesMax: 1 << 20 });
    await readPacket(socket, decoder);
    const sslRequest = new PayloadWriter().uint32(rawClientCapabilities | Capability.Ssl)
      .uint32(1 << 24).uint8(45).zeros(23).finish();
    socket.write(Buffer.concat([...framePacket(sslRequest, 1).frames]));
    const reply = await readPacket(socket, decoder);
    assert.equal(parseErr(reply.payload)?.errno, 1043);
  });
});
