/**
 * The point-get fast path and its plan cache (src/sql/plan/point_get_cache.ts), end to end
 * through mysql2, text and binary protocol: every result (rows and column metadata) must
 * be what the planner gives for the same query — compared with the same query made
 * planner-bound by an `ORDER BY` of the key, which changes no result — over every column
 * type, with a session time zone, NULLs, missing rows, duplicate and unordered IN lists,
 * keys that need a conversion (a string, a decimal) and negative keys of an unsigned key;
 * an autocommit point get reads the latest committed version without fetching a start ts;
 * unique indexes (one column or several, integer and string keys, case-insensitive);
 * `@@last_plan_from_cache` tells a cached plan; an ALTER TABLE re-plans; two databases
 * with a table `t` never share a plan; switched off, no plan is cached.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import mysql from "mysql2/promise";
import { type SqlCluster, type SqlNodeHandle, startSqlCluster } from "./sql_cluster.ts";

let cluster: SqlCluster;
let node: SqlNodeHandle;
const connections: mysql.Connection[] = [];

before(async () => {
  cluster = await startSqlCluster();
  node = await cluster.startNode();
  const setup = await node.connect();
  await setup.query("CREATE DATABASE pg1");
  await setup.query("CREATE DATABASE pg2");
}, { timeout: 60_000 });

after(async () => {
  for (const c of connections) c.destroy();
  await cluster.close();
}, { timeout: 30_000 });

/** A connection that keeps every value as the server's text (dates, big numbers). */
async function connect(database: string): Promise<mysql.Connection> {
  const c = await mysql.createConnection({ host: "127.0.0.1", port: node.server.port,
    user: "root", database, dateStrings: true, supportBigNumbers: true,
    bigNumberStrings: true });
  connections.push(c);
  return c;
}

/** Rows and the column metadata a client sees. */
function resultOf(out: [unknown, mysql.FieldPacket[]]): unknown {
  const [rows, fields] = out;
  return { rows, fields: fields.map((f) => ({ name: f.name, type: f.columnType,
    length: f.columnLength, flags: f.flags, decimals: f.decimals, table: f.table,
    orgTable: f.orgTable, orgName: f.orgName, db: f.db })) };
}

/** `SELECT @@last_plan_from_cache` as a number. */
async function fromCache(c: mysql.Connection): Promise<number> {
  const [rows] = await c.query("SELECT @@last_plan_from_cache AS v");
  return Number((rows as { v: unknown }[])[0]!.v);
}

/** Runs `sql` (text and prepared) and its planner-bound twin; asserts equal results. */
async function same(c: mysql.Connection, sql: string, orderBy: string,
  params: (string | number)[] = []): Promise<unknown> {
  const text = params.length === 0 ? sql : mysql.format(sql, params);
  const fast = resultOf(await c.query(text));
  const slow = resultOf(await c.query(`${text} ORDER BY ${orderBy}`));
  assert.deepEqual(fast, slow, text);
  const preparedFast = resultOf(await c.execute(sql, params));
  const preparedSlow = resultOf(await c.execute(`${sql} ORDER BY ${orderBy}`, params));
  assert.deepEqual(preparedFast, preparedSlow, `prepared ${sql}`);
  return (fast as { rows: unknown }).rows;
}

describe("point-get fast path and plan cache", { timeout: 120_000 }, () => {
  it("gives the planner's rows and columns for every type", async () => {
    const c = await connect("pg1");
    await c.query(`CREATE TABLE types (id BIGINT PRIMARY KEY, ti TINYINT, u INT UNSIGNED,
      d DECIMAL(10,3), f FLOAT, db DOUBLE, ch CHAR(5), vc VARCHAR(20), tx TEXT, bl BLOB,
      dt DATE, tm TIME(3), dtt DATETIME(2), ts TIMESTAMP(6) NULL, y YEAR,
      e ENUM('small','large'), st SET('x','y','z'), j JSON, bt BIT(5), n INT)`);
    await c.query(`INSERT INTO types VALUES
      (1, -5, 7, 12.345, 1.5, 2.25, 'ab', 'hello', 'long text', 'blob', '2024-02-29',
        '-12:30:00.125', '2024-01-02 03:04:05.67', '2024-06-01 12:00:00.123456', 2024,
        'large', 'x,z', '{"a": [1, 2]}', b'10101', NULL),
      (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
        NULL, NULL, NULL, NULL, NULL, 3),
      (-7, 1, 0, 0, 0, 0, '', '', '', '', '1000-01-01', '00:00:00', '1000-01-01 00:00:00',
        '1970-01-01 00:00:01', 1901, 'small', '', '[]', b'0', -1)`);
    for (const zone of ["+00:00", "+05:30", "America/New_York"]) {
      await c.query(`SET time_zone = '${zone}'`);
      const rows = await same(c, "SELECT * FROM types WHERE id = ?", "id", [1]);
      assert.equal((rows as unknown[]).length, 1);
      await same(c, "SELECT ts, id, e, st, tm, dtt FROM types WHERE id = ?", "id", [1]);
      await same(c, "SELECT * FROM types WHERE id = ?", "id", [2]);
      await same(c, "SELECT * FROM types WHERE id = ?", "id", [-7]);
    }
    await same(c, "SELECT * FROM types WHERE id = 1", "id");
    await same(c, "SELECT * FROM types WHERE 2 = id", "id");
    await same(c, "SELECT types.vc, t2x AS renamed FROM types WHERE types.id = 1".replace(
      "t2x", "ch"), "id");
    await same(c, "SELECT x.vc AS v, x.ID FROM pg1.types x WHERE x.id = 1", "x.id");
    await same(c, "SELECT vc FROM types WHERE id IN (2, 1, -7, 1, 99)", "id");
    await same(c, "SELECT vc FROM types WHERE id IN (?, ?, ?)", "id", [1, 1, 2]);
    // No such row; a key needing a conversion; a key past BIGINT.
    assert.deepEqual(await same(c, "SELECT * FROM types WHERE id = ?", "id", [42]), []);
    assert.equal((await same(c, "SELECT vc FROM types WHERE id = ?", "id", ["1"]) as
      unknown[]).length, 1);
    assert.equal((await same(c, "SELECT vc FROM types WHERE id = 1.0", "id") as
      unknown[]).length, 1);
    assert.deepEqual(await same(c, "SELECT vc FROM types WHERE id = 99999999999999999999",
      "id"), []);
    assert.deepEqual(await same(c, "SELECT vc FROM types WHERE id = NULL", "id"), []);
  });

  it("reads by unique index as the planner does", async () => {
    const c = await connect("pg1");
    await c.query(`CREATE TABLE users (id INT PRIMARY KEY, email VARCHAR(40) NOT NULL,
      code INT UNSIGNED, a INT, b VARCHAR(10), nick VARCHAR(10) COLLATE utf8mb4_bin,
      UNIQUE KEY (email), UNIQUE KEY (code), UNIQUE KEY ab (a, b), UNIQUE KEY (nick))`);
    await c.query(`INSERT INTO users VALUES (3, 'alice@x', 7, 1, 'p', 'Al'),
      (1, 'bob@x', 4000000000, 1, 'q', 'Bo'), (2, 'carol@x', NULL, 2, 'p', NULL),
      (4, 'dave@x', 0, NULL, NULL, 'da ')`);
    for (const [sql, params] of [
      ["SELECT * FROM users WHERE email = ?", ["alice@x"]],
      ["SELECT id FROM users WHERE email = ?", ["ALICE@X"]],
      ["SELECT id FROM users WHERE email = ?", ["alice@x   "]],
      ["SELECT id FROM users WHERE email = 'Bob@x'", []],
      ["SELECT id, email FROM users WHERE email IN (?, ?, ?)", ["carol@x", "bob@x", "nobody"]],
      ["SELECT id FROM users WHERE code = ?", [4000000000]],
      ["SELECT id FROM users WHERE code = ?", [-1]],
      ["SELECT id FROM users WHERE code = ?", ["7"]],
      ["SELECT id FROM users WHERE code IN (0, 7)", []],
      ["SELECT id FROM users WHERE a = ? AND b = ?", [1, "Q"]],
      ["SELECT id FROM users WHERE b = ? AND a = ?", ["p", 2]],
      ["SELECT id FROM users WHERE a = ? AND b = ?", [3, "p"]],
      ["SELECT id FROM users WHERE nick = ?", ["al"]],
      ["SELECT id FROM users WHERE nick = ?", ["da"]],
      ["SELECT id FROM users WHERE email = ?", [5]],
    ] as const) {
      await same(c, sql, "id", [...params]);
    }
    // A cached plan over a unique index.
    await c.execute("SELECT id FROM users WHERE email = ?", ["bob@x"]);
    const [rows] = await c.execute("SELECT id FROM users WHERE email = ?", ["bob@x"]);
    assert.deepEqual(rows, [{ id: 1 }]);
    assert.equal(await fromCache(c), 1);
  });

  it("finds no row for a negative key of an unsigned key", async () => {
    const c = await connect("pg1");
    await c.query("CREATE TABLE uns (id BIGINT UNSIGNED PRIMARY KEY, v INT)");
    await c.query("INSERT INTO uns VALUES (18446744073709551615, 1), (5, 2)");
    assert.deepEqual(await same(c, "SELECT v FROM uns WHERE id = ?", "id", [-1]), []);
    assert.deepEqual(await same(c, "SELECT v FROM uns WHERE id = ?", "id", [5]), [{ v: 2 }]);
    assert.deepEqual(await same(c, "SELECT v FROM uns WHERE id = 18446744073709551615", "id"),
      [{ v: 1 }]);
  });

  it("reads the transaction's own writes", async () => {
    const c = await connect("pg1");
    await c.query("CREATE TABLE own (id INT PRIMARY KEY, v VARCHAR(10))");
    await c.query("BEGIN");
    await c.query("INSERT INTO own VALUES (1, 'mine')");
    const [rows] = await c.execute("SELECT v FROM own WHERE id = ?", [1]);
    assert.deepEqual(rows, [{ v: "mine" }]);
    await c.query("ROLLBACK");
    const [after] = await c.execute("SELECT v FROM own WHERE id = ?", [1]);
    assert.deepEqual(after, []);
  });

  it("reads one key's latest committed version without a start ts", async () => {
    const c = await connect("pg1");
    const writer = await connect("pg1");
    await c.query("CREATE TABLE latest (id INT PRIMARY KEY, v INT)");
    await c.query("INSERT INTO latest VALUES (1, 10), (2, 20)");
    const before = node.storage.client.timestampFetches;
    for (let i = 0; i < 50; i++) {
      const [rows] = await c.execute("SELECT v FROM latest WHERE id = ?", [1]);
      assert.deepEqual(rows, [{ v: 10 }]);
    }
    // The schema lease's reloads may fetch a few; the 50 statements fetched none.
    const fetched = node.storage.client.timestampFetches - before;
    assert.ok(fetched < 10, `${fetched} timestamps for 50 autocommit point gets`);
    // A row locked by a live transaction reads as last committed, at once; its commit
    // shows in the next read; two keys are one snapshot (a start ts again).
    await writer.query("BEGIN");
    await writer.query("UPDATE latest SET v = 11 WHERE id = 1");
    await writer.query("UPDATE latest SET v = 19 WHERE id = 2");
    const [locked] = await c.execute("SELECT v FROM latest WHERE id = ?", [1]);
    assert.deepEqual(locked, [{ v: 10 }]);
    await writer.query("COMMIT");
    const [committed] = await c.execute("SELECT v FROM latest WHERE id = ?", [1]);
    assert.deepEqual(committed, [{ v: 11 }]);
    const [both] = await c.query("SELECT v FROM latest WHERE id IN (1, 2)");
    assert.deepEqual(both, [{ v: 11 }, { v: 19 }]);
    // Inside a transaction, point gets read its snapshot.
    await c.query("BEGIN");
    const [snapshot] = await c.execute("SELECT v FROM latest WHERE id = ?", [2]);
    await writer.query("UPDATE latest SET v = 30 WHERE id = 2");
    const [again] = await c.execute("SELECT v FROM latest WHERE id = ?", [2]);
    assert.deepEqual(again, snapshot);
    await c.query("COMMIT");
    const [after] = await c.execute("SELECT v FROM latest WHERE id = ?", [2]);
    assert.deepEqual(after, [{ v: 30 }]);
    // A key needing a conversion takes the planner, on a start ts.
    const [converted] = await c.execute("SELECT v FROM latest WHERE id = ?", ["2"]);
    assert.deepEqual(converted, [{ v: 30 }]);
  });

  it("reports a cached plan and re-plans after ALTER TABLE", async () => {
    const c = await connect("pg1");
    await c.query("CREATE TABLE cached (id INT PRIMARY KEY, v INT)");
    await c.query("INSERT INTO cached VALUES (1, 10)");
    const sql = "SELECT * FROM cached WHERE id = ?";
    await c.execute(sql, [1]);
    const first = await fromCache(c);
    await c.execute(sql, [1]);
    assert.equal(await fromCache(c), 1);
    assert.equal(first, 0);
    // A statement of another shape, or a write, is no cached plan.
    await c.query("SELECT * FROM cached WHERE v = 10");
    assert.equal(await fromCache(c), 0);
    await c.query("ALTER TABLE cached ADD COLUMN w INT DEFAULT 7");
    const [rows] = await c.execute(sql, [1]);
    assert.deepEqual(rows, [{ id: 1, v: 10, w: 7 }]);
    assert.equal(await fromCache(c), 0);
    await c.execute(sql, [1]);
    assert.equal(await fromCache(c), 1);
    // Non-prepared statements share the plan of their shape, whatever the literal.
    await c.query("SELECT v FROM cached WHERE id = 1");
    await c.query("SELECT v FROM cached WHERE id = 2");
    assert.equal(await fromCache(c), 1);
    // A setting that changes a statement's meaning is part of the key.
    await c.query("SET sql_mode = 'ANSI_QUOTES'");
    await c.query("SELECT v FROM cached WHERE id = 1");
    assert.equal(await fromCache(c), 0);
  });

  it("never shares a plan between two databases with a table t", async () => {
    const c = await connect("pg1");
    await c.query("CREATE TABLE pg1.t (id INT PRIMARY KEY, a VARCHAR(5), b INT)");
    await c.query("CREATE TABLE pg2.t (id INT PRIMARY KEY, b INT, a VARCHAR(5))");
    await c.query("INSERT INTO pg1.t VALUES (1, 'one', 11)");
    await c.query("INSERT INTO pg2.t VALUES (1, 22, 'two')");
    for (let round = 0; round < 2; round++) {
      await c.query("USE pg1");
      const [one] = await c.execute("SELECT * FROM t WHERE id = ?", [1]);
      assert.deepEqual(one, [{ id: 1, a: "one", b: 11 }]);
      await c.query("USE pg2");
      const [two] = await c.execute("SELECT * FROM t WHERE id = ?", [1]);
      assert.deepEqual(two, [{ id: 1, b: 22, a: "two" }]);
      const [text] = await c.query("SELECT a FROM t WHERE id = 1");
      assert.deepEqual(text, [{ a: "two" }]);
    }
  });

  it("caches nothing when switched off", async () => {
    const c = await connect("pg1");
    await c.query("CREATE TABLE off_t (id INT PRIMARY KEY, v INT)");
    await c.query("INSERT INTO off_t VALUES (1, 5)");
    await c.query("SET tidb_enable_prepared_plan_cache = 0");
    await c.query("SET tidb_enable_non_prepared_plan_cache = OFF");
    for (let i = 0; i < 3; i++) {
      const [rows] = await c.execute("SELECT v FROM off_t WHERE id = ?", [1]);
      assert.deepEqual(rows, [{ v: 5 }]);
      assert.equal(await fromCache(c), 0);
      await c.query("SELECT v FROM off_t WHERE id = 1");
      assert.equal(await fromCache(c), 0);
    }
    await assert.rejects(c.query("SET last_plan_from_cache = 1"),
      (e: { errno?: number }) => e.errno === 1238);
  });
});
