/**
 * End-to-end tests of the MySQL wire server against `mysql2` (npm) and a raw protocol
 * client: handshake and both password plugins, text and binary result sets of every
 * common type, multi-statements, large and oversized packets, limits, prepared statements
 * with cursors and long data, LOAD DATA LOCAL INFILE, KILL and the small commands. Each
 * test runs against a scripted session (`test_support.ts`) on 127.0.0.1, port 0.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import mysql from "mysql2/promise";
import type { FieldPacket, RowDataPacket } from "mysql2/promise";
import { createNodeAuthCrypto, createNodeEnv } from "../../env/mod.ts";
import { ER } from "../mysql_errors.ts";
import { InMemoryUserStore } from "./auth.ts";
import { Capability, Command, CursorType, MySqlType, ServerStatus } from "./constants.ts";
import { type MySqlServer, type MySqlServerOptions, createMySqlServer } from "./server.ts";
import {
  RawClient,
  commandPacket,
  parseErr,
  rawLogin,
  scriptedSessions,
} from "./test_support.ts";
import { PayloadReader, PayloadWriter } from "./payload.ts";

const opts = { timeout: 30_000 };
const env = createNodeEnv();
const authCrypto = createNodeAuthCrypto();
/** One RSA key pair for every server in this file: generating one costs tens of ms. */
const rsaKeyPair = authCrypto.generateRsaKeyPair(2048);

const servers: MySqlServer[] = [];
const clients: mysql.Connection[] = [];

async function startServer(
  overrides: Partial<MySqlServerOptions> = {},
): Promise<{ server: MySqlServer; log: ReturnType<typeof scriptedSessions>["log"] }> {
  const { sessions, log } = scriptedSessions();
  const users = new InMemoryUserStore(authCrypto, [
    { user: "root", password: "" },
    { user: "alice", password: "s3cret", plugin: "caching_sha2_password" },
    { user: "bob", password: "hunter2", plugin: "mysql_native_password" },
  ]);
  const server = await createMySqlServer({
    env, host: "127.0.0.1", port: 0, sessions, users, authCrypto, rsaKeyPair,
    onBug: (error) => assert.fail(`server bug: ${error.message}`),
    ...overrides,
  });
  servers.push(server);
  return { server, log };
}

async function connect(
  server: MySqlServer,
  options: mysql.ConnectionOptions = {},
): Promise<mysql.Connection> {
  const client = await mysql.createConnection({
    host: "127.0.0.1", port: server.port, user: "root", password: "",
    dateStrings: true, supportBigNumbers: true, bigNumberStrings: true,
    ...options,
  });
  clients.push(client);
  return client;
}

/** The rejection of `promise`, which must reject with a mysql2 error. */
async function mysqlFailure(promise: Promise<unknown>): Promise<{ errno: number;
  sqlState: string; sqlMessage: string; code: string }> {
  try {
    await promise;
  } catch (error: unknown) {
    return error as { errno: number; sqlState: string; sqlMessage: string; code: string };
  }
  return assert.fail("expected a failure");
}

after(async () => {
  for (const client of clients) client.destroy();
  for (const server of servers) await server.close();
});

describe("handshake and authentication", () => {
  let server: MySqlServer;
  before(async () => {
    ({ server } = await startServer());
  });

  test("root with an empty password logs in over caching_sha2_password", opts, async () => {
    const client = await connect(server);
    const [rows] = await client.query<RowDataPacket[]>("SELECT 1");
    assert.deepEqual(rows, [{ 1: "1" }]);
  });

  test("the handshake announces the server version and a connection id", opts, async () => {
    const raw = await RawClient.connect(env, server.port);
    const handshake = await raw.read();
    assert.ok(handshake !== undefined);
    const r = new PayloadReader(handshake.payload);
    assert.equal(r.uint8(), 10);
    assert.equal(r.nulString(), "8.0.11-Tessera-0.1.0");
    assert.ok(r.uint32() > 0);
    raw.destroy();
  });

  test("caching_sha2_password: full auth by RSA, then the fast path", opts, async () => {
    const first = await connect(server, { user: "alice", password: "s3cret" });
    const [rows] = await first.query<RowDataPacket[]>("SELECT 1");
    assert.equal(rows.length, 1);
    const second = await connect(server, { user: "alice", password: "s3cret" });
    await second.query("SELECT 1");
  });

  test("caching_sha2_password: a wrong password gets 1045 with using password YES",
    opts, async () => {
      const error = await mysqlFailure(connect(server, { user: "alice", password: "nope" }));
      assert.equal(error.errno, 1045);
      assert.equal(error.sqlState, "28000");
      assert.equal(error.sqlMessage,
        "Access denied for user 'alice'@'127.0.0.1' (using password: YES)");
    });

  test("mysql_native_password: the right password logs in after an auth switch",
    opts, async () => {
      const client = await connect(server, { user: "bob", password: "hunter2" });
      await client.query("SELECT 1");
    });

  test("mysql_native_password: a wrong password gets 1045", opts, async () => {
    const error = await mysqlFailure(connect(server, { user: "bob", password: "hunter3" }));
    assert.equal(error.errno, 1045);
  });

  test("a missing password for a protected account says using password: NO",
    opts, async () => {
      const error = await mysqlFailure(connect(server, { user: "bob", password: "" }));
      assert.equal(error.sqlMessage,
        "Access denied for user 'bob'@'127.0.0.1' (using password: NO)");
    });

  test("an unknown user gets 1045", opts, async () => {
    const error = await mysqlFailure(connect(server, { user: "mallory", password: "x" }));
    assert.equal(error.errno, 1045);
  });

  test("a database in the handshake is selected, an unknown one is refused with 1049",
    opts, async () => {
      await connect(server, { database: "test" });
      const error = await mysqlFailure(connect(server, { database: "missing" }));
      assert.equal(error.errno, 1049);
      assert.equal(error.sqlMessage, "Unknown database 'missing'");
    });

  test("a server announcing mysql_native_password logs in both kinds of account",
    opts, async () => {
      const { server: native } = await startServer({ defaultAuthPlugin: "mysql_native_password" });
      await (await connect(native, { user: "bob", password: "hunter2" })).query("SELECT 1");
      await (await connect(native, { user: "alice", password: "s3cret" })).query("SELECT 1");
    });

  test("a client asking for TLS is refused with a handshake error", opts, async () => {
    const raw = await RawClient.connect(env, server.port);
    await raw.read();
    raw.send(new PayloadWriter().uint32(Capability.Protocol41 | Capability.Ssl)
      .uint32(0).uint8(45).zeros(23).finish(), 1);
    const packets = await raw.readUntilClosed();
    assert.equal(parseErr(packets[0]?.payload ?? new Uint8Array())?.errno, 1043);
  });
});

describe("text protocol", () => {
  let server: MySqlServer;
  let client: mysql.Connection;
  before(async () => {
    ({ server } = await startServer());
    client = await connect(server, { multipleStatements: true });
  });

  test("every common type round-trips with its column definition", opts, async () => {
    const [rows, fields] = await client.query<RowDataPacket[]>("SELECT typed");
    assert.deepEqual({ ...rows[0] }, {
      tiny: -5, short: 300, long: -70000, longlong: "1152921504606846976",
      ulonglong: "18446744073709551615", float: 1.5, double: 3.25, decimal: "12.50",
      text: "héllo", blob: Buffer.from([0, 1, 2, 255]), date: "2024-02-29",
      datetime: "2024-02-29 13:14:15.123456", time: "-25:01:02", year: 2024,
      nothing: null, json: { a: 1 },
    });
    const byName = new Map(fields.map((f: FieldPacket) => [f.name, f]));
    assert.equal(byName.get("text")?.characterSet, 255);
    assert.equal(byName.get("blob")?.characterSet, 63);
    assert.equal(byName.get("decimal")?.decimals, 2);
    assert.equal(byName.get("double")?.decimals, 31);
    assert.equal(byName.get("datetime")?.columnType, MySqlType.DateTime);
  });

  test("an OK reports affected rows, insert id and warnings", opts, async () => {
    const [ok] = await client.query<mysql.ResultSetHeader>("INSERT INTO t VALUES (1)");
    assert.equal(ok.affectedRows, 2);
    assert.equal(ok.insertId, 5);
    assert.equal(ok.warningStatus, 1);
  });

  test("an error result is an ERR packet with MySQL's number, state and text",
    opts, async () => {
      const error = await mysqlFailure(client.query("SELECT * FROM missing"));
      assert.equal(error.errno, 1146);
      assert.equal(error.sqlState, "42S02");
      assert.equal(error.sqlMessage, "Table 'test.missing' doesn't exist");
    });

  test("a syntax error is 1064 with MySQL's message", opts, async () => {
    const error = await mysqlFailure(client.query("SELEKT 1"));
    assert.equal(error.errno, 1064);
    assert.equal(error.sqlMessage, "You have an error in your SQL syntax; check the manual " +
      "that corresponds to your MySQL server version for the right syntax to use near " +
      "'SELEKT 1' at line 1");
  });

  test("a session that throws a plain error gives 1105 and the connection lives on",
    opts, async () => {
      const error = await mysqlFailure(client.query("BOOM"));
      assert.equal(error.errno, 1105);
      await client.query("SELECT 1");
    });

  test("multi-statements return every result set in order", opts, async () => {
    const [results] = await client.query<RowDataPacket[][]>(
      "SELECT 1; SELECT rows 3; INSERT x; ECHO done");
    assert.equal(results.length, 4);
    assert.deepEqual(results[0], [{ 1: "1" }]);
    assert.deepEqual(results[1]?.map((r) => r["n"]), ["1", "2", "3"]);
    assert.equal((results[2] as unknown as mysql.ResultSetHeader).affectedRows, 2);
    assert.deepEqual(results[3], [{ echo: "done" }]);
  });

  test("an error in a multi-statement batch ends it", opts, async () => {
    const error = await mysqlFailure(client.query("SELECT 1; SELECT * FROM missing; SELECT 1"));
    assert.equal(error.errno, 1146);
    await client.query("SELECT 1");
  });

  test("without CLIENT_MULTI_STATEMENTS a second statement is a syntax error",
    opts, async () => {
      const single = await connect(server);
      const error = await mysqlFailure(single.query("SELECT 1; SELECT 1"));
      assert.equal(error.errno, 1064);
    });

  test("a result of many rows streams through", opts, async () => {
    const [rows] = await client.query<RowDataPacket[]>("SELECT rows 20000");
    assert.equal(rows.length, 20_000);
    assert.equal(rows[19_999]?.["n"], "20000");
  });

  test("a query larger than 16 MiB and its result round-trip", opts, async () => {
    const big = "x".repeat(17 * 1024 * 1024);
    const [rows] = await client.query<RowDataPacket[]>(`ECHO ${big}`);
    assert.equal(rows[0]?.["echo"].length, big.length);
  });

  test("COM_PING and COM_INIT_DB answer OK; an unknown database gives 1049",
    opts, async () => {
      await client.ping();
      const raw = await RawClient.connect(env, server.port);
      await rawLogin(raw);
      raw.send(commandPacket(Command.InitDb, "test"), 0);
      assert.equal((await raw.read())?.payload[0], 0x00);
      raw.send(commandPacket(Command.InitDb, "missing"), 0);
      assert.equal(parseErr((await raw.read())?.payload ?? new Uint8Array())?.errno, 1049);
      raw.destroy();
    });
});

describe("raw protocol", () => {
  let server: MySqlServer;
  before(async () => {
    ({ server } = await startServer());
  });

  async function login(extra = 0): Promise<RawClient> {
    const raw = await RawClient.connect(env, server.port);
    await rawLogin(raw, { extraCapabilities: extra });
    return raw;
  }

  test("an unknown command gets 1047 and the connection stays usable", opts, async () => {
    const raw = await login();
    raw.send(commandPacket(0x63), 0);
    const err = parseErr((await raw.read())?.payload ?? new Uint8Array());
    assert.deepEqual(err, { errno: 1047, sqlState: "08S01", message: "Unknown command" });
    raw.send(commandPacket(Command.Ping), 0);
    assert.equal((await raw.read())?.payload[0], 0x00);
    raw.destroy();
  });

  test("with CLIENT_DEPRECATE_EOF a result set ends with a 0xfe OK, no EOF after columns",
    opts, async () => {
      const raw = await login(Capability.DeprecateEof);
      raw.send(commandPacket(Command.Query, "SELECT rows 2"), 0);
      const packets = [];
      for (let i = 0; i < 5; i++) packets.push(await raw.read());
      const [count, column, row1, row2, end] = packets;
      assert.deepEqual([...(count?.payload ?? [])], [1]);
      assert.equal(column?.payload[0], 3, "a column definition starts with lenenc 'def'");
      assert.deepEqual([...(row1?.payload ?? [])], [1, 0x31]);
      assert.deepEqual([...(row2?.payload ?? [])], [1, 0x32]);
      const r = new PayloadReader(end?.payload ?? new Uint8Array());
      assert.equal(r.uint8(), 0xfe);
      assert.equal(r.lenencInt(), 0);
      assert.equal(r.lenencInt(), 0);
      assert.equal(r.uint16() & ServerStatus.Autocommit, ServerStatus.Autocommit);
      assert.equal(r.uint16(), 3, "warnings of the result set");
      assert.deepEqual(packets.map((p) => p?.sequenceId), [1, 2, 3, 4, 5]);
      raw.destroy();
    });

  test("COM_FIELD_LIST lists columns with defaults, then EOF", opts, async () => {
    const raw = await login();
    raw.send(commandPacket(Command.FieldList, new Uint8Array([0x74, 0])), 0);
    const first = await raw.read();
    const second = await raw.read();
    const end = await raw.read();
    const r = new PayloadReader(first?.payload ?? new Uint8Array());
    for (let i = 0; i < 4; i++) r.lenencString();
    assert.equal(r.lenencString(), "id");
    r.lenencString();
    r.skip(13);
    assert.equal(r.lenencString(), "0");
    assert.equal(second?.payload.at(-1), 0xfb, "no default value");
    assert.equal(end?.payload[0], 0xfe);
    raw.send(commandPacket(Command.FieldList, new Uint8Array([0x75, 0])), 0);
    assert.equal(parseErr((await raw.read())?.payload ?? new Uint8Array())?.errno, 1146);
    raw.destroy();
  });

  test("COM_STATISTICS answers a status line", opts, async () => {
    const raw = await login();
    raw.send(commandPacket(Command.Statistics), 0);
    const text = new TextDecoder().decode((await raw.read())?.payload);
    assert.match(text, /^Uptime: \d+ {2}Threads: \d+ {2}Questions: \d+/);
    raw.destroy();
  });

  test("COM_SET_OPTION turns multi-statements off and on", opts, async () => {
    const raw = await login();
    raw.send(commandPacket(Command.SetOption, new Uint8Array([1, 0])), 0);
    assert.equal((await raw.read())?.payload[0], 0xfe);
    raw.send(commandPacket(Command.Query, "SELECT 1; SELECT 1"), 0);
    assert.equal(parseErr((await raw.read())?.payload ?? new Uint8Array())?.errno, 1064);
    raw.send(commandPacket(Command.SetOption, new Uint8Array([0, 0])), 0);
    assert.equal((await raw.read())?.payload[0], 0xfe);
    raw.send(commandPacket(Command.SetOption, new Uint8Array([7, 0])), 0);
    assert.equal(parseErr((await raw.read())?.payload ?? new Uint8Array())?.errno, 1047);
    raw.destroy();
  });

  test("COM_QUIT closes the connection and the session", opts, async () => {
    const { server: own, log } = await startServer();
    const raw = await RawClient.connect(env, own.port);
    await rawLogin(raw);
    raw.send(commandPacket(Command.Quit), 0);
    assert.deepEqual(await raw.readUntilClosed(), []);
    await own.close();
    assert.equal(log.closed, 1);
  });

  test("a command packet with the wrong sequence id gets 1156 and a close", opts, async () => {
    const raw = await login();
    raw.send(commandPacket(Command.Ping), 3);
    const packets = await raw.readUntilClosed();
    assert.equal(parseErr(packets[0]?.payload ?? new Uint8Array())?.errno, 1156);
  });

  test("a truncated command body gets 1835 malformed packet", opts, async () => {
    const raw = await login();
    raw.send(commandPacket(Command.ProcessKill, new Uint8Array([1])), 0);
    assert.equal(parseErr((await raw.read())?.payload ?? new Uint8Array())?.errno, 1835);
    raw.destroy();
  });

  test("pipelined commands are answered in order, past the read-pause bound",
    opts, async () => {
      const raw = await login();
      const count = 500;
      const batch = [];
      for (let i = 0; i < count; i++) batch.push(commandPacket(Command.Query, `ECHO ${i}`));
      for (const packet of batch) raw.send(packet, 0);
      for (let i = 0; i < count; i++) {
        await raw.read();
        await raw.read();
        await raw.read();
        const row = await raw.read();
        assert.equal(new TextDecoder().decode(row?.payload.subarray(1)), String(i));
        await raw.read();
      }
      raw.destroy();
    });

  test("COM_PROCESS_KILL of an unknown id gets 1094", opts, async () => {
    const raw = await login();
    raw.send(commandPacket(Command.ProcessKill, new Uint8Array([0xff, 0xff, 0, 0])), 0);
    assert.deepEqual(parseErr((await raw.read())?.payload ?? new Uint8Array()),
      { errno: 1094, sqlState: "HY000", message: "Unknown thread id: 65535" });
    raw.destroy();
  });
});

describe("limits", () => {
  test("a packet over max_allowed_packet gets 1153 and a close", opts, async () => {
    const { server } = await startServer({ packetBytesMax: 1024 * 1024 });
    const client = await connect(server);
    const error = await mysqlFailure(client.query(`ECHO ${"y".repeat(1024 * 1024 + 1)}`));
    assert.equal(error.errno, 1153);
    assert.equal(error.sqlMessage, "Got a packet bigger than 'max_allowed_packet' bytes");
  });

  test("past the connection limit a client gets 1040", opts, async () => {
    const { server } = await startServer({ connectionsMax: 2 });
    await connect(server);
    await connect(server);
    const error = await mysqlFailure(connect(server));
    assert.equal(error.errno, 1040);
    assert.equal(error.sqlMessage, "Too many connections");
  });

  test("an idle connection is closed after wait_timeout with 4031", opts, async () => {
    const { server } = await startServer({ idleTimeoutMs: 50 });
    const raw = await RawClient.connect(env, server.port);
    await rawLogin(raw);
    const packets = await raw.readUntilClosed();
    assert.equal(parseErr(packets[0]?.payload ?? new Uint8Array())?.errno, 4031);
  });

  test("a client that never answers the handshake is dropped", opts, async () => {
    const { server } = await startServer({ handshakeTimeoutMs: 50 });
    const raw = await RawClient.connect(env, server.port);
    const packets = await raw.readUntilClosed();
    assert.equal(packets.length, 1, "only the handshake");
  });

  test("past the prepared statement limit PREPARE gets 1461", opts, async () => {
    const { server } = await startServer({ preparedStatementsMax: 1 });
    const client = await connect(server);
    await client.prepare("SELECT 1");
    const error = await mysqlFailure(client.prepare("SELECT rows 1"));
    assert.equal(error.errno, ER.MAX_PREPARED_STMT_COUNT_REACHED.errno);
  });
});

describe("prepared statements", () => {
  let server: MySqlServer;
  let log: ReturnType<typeof scriptedSessions>["log"];
  let client: mysql.Connection;
  before(async () => {
    ({ server, log } = await startServer());
    client = await connect(server);
  });

  test("a binary result set carries every common type", opts, async () => {
    const [rows] = await client.execute<RowDataPacket[]>("SELECT typed");
    assert.deepEqual({ ...rows[0] }, {
      tiny: -5, short: 300, long: -70000, longlong: "1152921504606846976",
      ulonglong: "18446744073709551615", float: 1.5, double: 3.25, decimal: "12.50",
      text: "héllo", blob: Buffer.from([0, 1, 2, 255]), date: "2024-02-29",
      datetime: "2024-02-29 13:14:15.123456", time: "-25:01:02", year: 2024,
      nothing: null, json: { a: 1 },
    });
  });

  test("parameters of every type mysql2 sends are decoded and echoed", opts, async () => {
    const date = new Date(2024, 1, 29, 13, 14, 15, 123);
    const [rows] = await client.execute<RowDataPacket[]>(
      "SELECT ?, ?, ?, ?, ?, ?, ?, ?",
      [7, -2.5, "4611686018427387904", "text ü", Buffer.from([9, 8, 0]), null, true, date]);
    const params = log.executes.at(-1);
    assert.ok(params !== undefined);
    // mysql2 binds every JS number as DOUBLE and a bigint as a string.
    assert.deepEqual(params.map((p) => p.type), [
      MySqlType.Double, MySqlType.Double, MySqlType.VarString, MySqlType.VarString,
      MySqlType.Blob, MySqlType.Null, MySqlType.Tiny, MySqlType.DateTime]);
    assert.deepEqual(params.map((p) => p.value).slice(0, 7),
      [7, -2.5, "4611686018427387904", "text ü", new Uint8Array([9, 8, 0]), null, 1]);
    assert.deepEqual(params[7]?.value, { kind: "datetime", year: 2024, month: 2, day: 29,
      hour: 13, minute: 14, second: 15, microsecond: 123_000 });
    assert.deepEqual({ ...rows[0] }, {
      p0: 7, p1: -2.5, p2: "4611686018427387904", p3: "text ü", p4: Buffer.from([9, 8, 0]),
      p5: null, p6: 1, p7: "2024-02-29 13:14:15.123000",
    });
  });

  test("re-executing reuses the bound types (new-params-bound = 0)", opts, async () => {
    const statement = await client.prepare("SELECT ?");
    const [first] = await statement.execute([1]) as [RowDataPacket[], FieldPacket[]];
    const [second] = await statement.execute([2]) as [RowDataPacket[], FieldPacket[]];
    assert.deepEqual([first[0]?.["p0"], second[0]?.["p0"]], [1, 2]);
    await statement.close();
  });

  test("a prepare error is reported with its number", opts, async () => {
    const error = await mysqlFailure(client.prepare("SELECT * FROM missing"));
    assert.equal(error.errno, 1146);
  });

  test("executing an unknown statement id gets 1243", opts, async () => {
    const raw = await RawClient.connect(env, server.port);
    await rawLogin(raw);
    raw.send(commandPacket(Command.StmtExecute,
      new PayloadWriter().uint32(77).uint8(0).uint32(1).finish()), 0);
    assert.deepEqual(parseErr((await raw.read())?.payload ?? new Uint8Array()), {
      errno: 1243, sqlState: "HY000",
      message: "Unknown prepared statement handler (77) given to mysqld_stmt_execute" });
    raw.destroy();
  });
});

/** Prepares `sql` over a raw connection; returns the statement id. */
async function rawPrepare(raw: RawClient, sql: string, deprecateEof: boolean): Promise<number> {
  raw.send(commandPacket(Command.StmtPrepare, sql), 0);
  const ok = await raw.read();
  const r = new PayloadReader(ok?.payload ?? new Uint8Array());
  assert.equal(r.uint8(), 0);
  const id = r.uint32();
  const columns = r.uint16();
  const params = r.uint16();
  const eofs = deprecateEof ? 0 : (columns > 0 ? 1 : 0) + (params > 0 ? 1 : 0);
  for (let i = 0; i < columns + params + eofs; i++) await raw.read();
  return id;
}

describe("cursors and long data", () => {
  let server: MySqlServer;
  let log: ReturnType<typeof scriptedSessions>["log"];
  before(async () => {
    ({ server, log } = await startServer());
  });

  for (const deprecateEof of [false, true]) {
    test(`a read-only cursor is fetched in pieces (DEPRECATE_EOF ${deprecateEof})`,
      opts, async () => {
        const raw = await RawClient.connect(env, server.port);
        await rawLogin(raw, { extraCapabilities: deprecateEof ? Capability.DeprecateEof : 0 });
        const id = await rawPrepare(raw, "SELECT rows 5", deprecateEof);
        raw.send(commandPacket(Command.StmtExecute, new PayloadWriter().uint32(id)
          .uint8(CursorType.ReadOnly).uint32(1).finish()), 0);
        assert.deepEqual([...((await raw.read())?.payload ?? [])], [1]);
        await raw.read();
        const end = await raw.read();
        // EOF: 0xfe, warnings, status. The 0xfe OK: 0xfe, 0, 0, status, warnings.
        const status = (p: Uint8Array | undefined): number =>
          (p?.[3] ?? 0) | ((p?.[4] ?? 0) << 8);
        assert.equal(end?.payload[0], 0xfe);
        assert.ok((status(end?.payload) & ServerStatus.CursorExists) !== 0);
        const fetched: bigint[] = [];
        for (;;) {
          raw.send(commandPacket(Command.StmtFetch,
            new PayloadWriter().uint32(id).uint32(2).finish()), 0);
          let done: boolean;
          for (;;) {
            const packet = await raw.read();
            assert.ok(packet !== undefined);
            if (packet.payload[0] === 0xfe && packet.payload.length < 9) {
              done = (status(packet.payload) & ServerStatus.LastRowSent) !== 0;
              break;
            }
            const r = new PayloadReader(packet.payload, 2);
            fetched.push(r.int64());
          }
          if (done) break;
        }
        assert.deepEqual(fetched, [1n, 2n, 3n, 4n, 5n]);
        raw.send(commandPacket(Command.StmtFetch,
          new PayloadWriter().uint32(id).uint32(2).finish()), 0);
        assert.equal(parseErr((await raw.read())?.payload ?? new Uint8Array())?.errno, 1421);
        raw.destroy();
      });
  }

  test("COM_STMT_SEND_LONG_DATA chunks become the parameter's value", opts, async () => {
    const raw = await RawClient.connect(env, server.port);
    await rawLogin(raw);
    const id = await rawPrepare(raw, "SELECT ?", false);
    for (const part of ["long ", "data"]) {
      raw.send(commandPacket(Command.StmtSendLongData,
        new PayloadWriter().uint32(id).uint16(0).string(part).finish()), 0);
    }
    raw.send(commandPacket(Command.StmtExecute, new PayloadWriter().uint32(id).uint8(0)
      .uint32(1).uint8(0).uint8(1).uint8(MySqlType.Blob).uint8(0).finish()), 0);
    assert.deepEqual([...((await raw.read())?.payload ?? [])], [1]);
    assert.deepEqual(log.executes.at(-1)?.[0]?.value, new TextEncoder().encode("long data"));
    raw.send(commandPacket(Command.StmtReset, new PayloadWriter().uint32(id).finish()), 0);
    raw.destroy();
  });

  test("a malformed parameter block gets 1210", opts, async () => {
    const raw = await RawClient.connect(env, server.port);
    await rawLogin(raw);
    const id = await rawPrepare(raw, "SELECT ?", false);
    raw.send(commandPacket(Command.StmtExecute, new PayloadWriter().uint32(id).uint8(0)
      .uint32(1).uint8(0).uint8(1).uint8(MySqlType.LongLong).uint8(0).uint8(1).finish()), 0);
    assert.deepEqual(parseErr((await raw.read())?.payload ?? new Uint8Array()), {
      errno: 1210, sqlState: "HY000",
      message: "Incorrect arguments to mysqld_stmt_execute" });
    raw.destroy();
  });
});

describe("LOAD DATA LOCAL INFILE and KILL", () => {
  let server: MySqlServer;
  let log: ReturnType<typeof scriptedSessions>["log"];
  before(async () => {
    ({ server, log } = await startServer());
  });

  test("the file named by the session is streamed from mysql2's infileStreamFactory",
    opts, async () => {
      const content = "1,a\n2,b\n".repeat(50_000);
      let asked = "";
      const client = await connect(server);
      const [ok] = await client.query<mysql.ResultSetHeader>({
        sql: "LOAD DATA LOCAL INFILE 'data.csv' INTO TABLE t",
        infileStreamFactory: (path: string) => {
          asked = path;
          return Readable.from([Buffer.from(content)]);
        },
      });
      assert.equal(asked, "data.csv");
      assert.equal(ok.affectedRows, content.length);
      assert.equal(new TextDecoder().decode(log.files.at(-1)), content);
      await client.query("SELECT 1");
    });

  test("without CLIENT_LOCAL_FILES the statement fails with 3948", opts, async () => {
    const raw = await RawClient.connect(env, server.port);
    const handshake = await raw.read();
    assert.ok(handshake !== undefined);
    raw.send(new PayloadWriter().uint32(Capability.Protocol41 | Capability.SecureConnection |
      Capability.PluginAuth | Capability.PluginAuthLenencClientData).uint32(1 << 24).uint8(45)
      .zeros(23).nulString("root").lenencInt(0).nulString("caching_sha2_password")
      .finish(), 1);
    assert.equal((await raw.read())?.payload[0], 0);
    raw.send(commandPacket(Command.Query, "LOAD DATA LOCAL INFILE 'x' INTO TABLE t"), 0);
    assert.equal(parseErr((await raw.read())?.payload ?? new Uint8Array())?.errno, 3948);
    raw.destroy();
  });

  test("KILL QUERY interrupts a running statement with 1317", opts, async () => {
    const victim = await connect(server);
    const victimId = victim.threadId;
    assert.ok(victimId !== null);
    const started = new Promise<void>((resolve) => log.sleeping.set(victimId, resolve));
    const running = mysqlFailure(victim.query("SLEEP"));
    await started;
    const killer = await connect(server);
    await killer.query(`KILL QUERY ${victimId}`);
    const error = await running;
    assert.equal(error.errno, 1317);
    assert.equal(error.sqlMessage, "Query execution was interrupted");
    await victim.query("SELECT 1");
  });

  test("KILL of a connection closes it; an unknown id gets 1094", opts, async () => {
    const victim = await connect(server);
    const closed = new Promise<void>((resolve) => victim.on("error", () => resolve()));
    const killer = await connect(server);
    await killer.query(`KILL ${victim.threadId ?? 0}`);
    await closed;
    const error = await mysqlFailure(killer.query("KILL 999999"));
    assert.equal(error.errno, 1094);
  });
});
