/**
 * The string, regexp, math and information built-ins end to end, through mysql2 against
 * an in-process cluster: REGEXP / RLIKE / NOT REGEXP and REGEXP_REPLACE over table rows,
 * POSITION(… IN …) and CHAR(… USING …) syntax, RAND(n) continuing over rows, FOUND_ROWS()
 * (also with SQL_CALC_FOUND_ROWS … LIMIT) and ROW_COUNT() across statements, MySQL's
 * regexp error and logarithm warning on the wire, and SLEEP() waiting until KILL QUERY.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type mysql from "mysql2/promise";
import { type TesseraServer, startTesseraServer } from "./sql_cluster.ts";

let server: TesseraServer;
const connections: mysql.Connection[] = [];

const opts = { timeout: 60_000 };

async function connect(): Promise<mysql.Connection> {
  const { default: mysql } = await import("mysql2/promise");
  const c = await mysql.createConnection({ host: server.host, port: server.port, user: "root",
    database: "fns" });
  connections.push(c);
  return c;
}

async function values(c: mysql.Connection, sql: string): Promise<unknown[][]> {
  const [rows] = await c.query({ sql, rowsAsArray: true });
  return rows as unknown[][];
}

before(async () => {
  server = await startTesseraServer();
  const { default: mysql } = await import("mysql2/promise");
  const c = await mysql.createConnection({ host: server.host, port: server.port, user: "root" });
  await c.query("CREATE DATABASE fns");
  await c.end();
  const setup = await connect();
  await setup.query("CREATE TABLE t (id INT PRIMARY KEY, s VARCHAR(20))");
  await setup.query("INSERT INTO t VALUES (1, 'apple'), (2, 'Avocado'), (3, 'banana'), " +
    "(4, NULL)");
}, { timeout: 120_000 });

after(async () => {
  for (const c of connections) c.destroy();
  await server.stop();
});

test("REGEXP, RLIKE and NOT REGEXP filter rows case-insensitively", opts, async () => {
  const c = await connect();
  assert.deepEqual(await values(c, "SELECT id FROM t WHERE s REGEXP '^a' ORDER BY id"),
    [[1], [2]]);
  assert.deepEqual(await values(c, "SELECT id FROM t WHERE s NOT REGEXP '^a' ORDER BY id"),
    [[3]]);
  assert.deepEqual(await values(c,
    "SELECT id FROM t WHERE REGEXP_LIKE(s, '^a', 'c') ORDER BY id"), [[1]]);
  assert.deepEqual(await values(c, "SELECT id FROM t WHERE s RLIKE 'an{1}a$'"), [[3]]);
  assert.deepEqual(await values(c,
    "SELECT REGEXP_REPLACE(s, '[aeiou]', '_'), REGEXP_INSTR(s, 'a', 1, 2) FROM t ORDER BY id"),
  [["_ppl_", 0], ["_v_c_d_", 5], ["b_n_n_", 4], [null, null]]);
});

test("POSITION(… IN …), CHAR(… USING …) and string functions over columns", opts,
  async () => {
    const c = await connect();
    assert.deepEqual(await values(c, "SELECT POSITION('an' IN s), LPAD(s, 8, '*'), " +
      "UPPER(SUBSTRING_INDEX(s, 'a', 1)), HEX(s) FROM t WHERE id = 3"),
    [[2, "**banana", "B", "62616E616E61"]]);
    assert.deepEqual(await values(c, "SELECT CHAR(226, 130, 172 USING utf8mb4), " +
      "GREATEST(s, 'b'), FIELD(s, 'x', 'BANANA') FROM t WHERE id = 3"),
    [["€", "banana", 2]]);
  });

test("RAND(3) gives MySQL's sequence row after row (checked on MariaDB)", opts, async () => {
  const c = await connect();
  const rows = await values(c, "SELECT RAND(3) FROM t ORDER BY id");
  assert.deepEqual(rows.map((r) => r[0]), [0.9057697559760601, 0.37307905813034536,
    0.14808605345719125, 0.6211931236285653]);
});

test("FOUND_ROWS and ROW_COUNT tell of the previous statement", opts, async () => {
  const c = await connect();
  await c.query("CREATE TABLE counted (id INT PRIMARY KEY, v INT)");
  await c.query("INSERT INTO counted VALUES (1, 1), (2, 2), (3, 3)");
  assert.deepEqual(await values(c, "SELECT ROW_COUNT()"), [[3]]);
  await c.query("UPDATE counted SET v = 10 WHERE id >= 2");
  assert.deepEqual(await values(c, "SELECT ROW_COUNT()"), [[2]]);
  await c.query("SELECT * FROM counted WHERE id < 3");
  assert.deepEqual(await values(c, "SELECT FOUND_ROWS()"), [[2]]);
  assert.deepEqual(await values(c, "SELECT ROW_COUNT()"), [[-1]]);
  const [limited] = await c.query({ sql: "SELECT SQL_CALC_FOUND_ROWS id FROM counted " +
    "ORDER BY id DESC LIMIT 1, 1", rowsAsArray: true });
  assert.deepEqual(limited, [[2]]);
  assert.deepEqual(await values(c, "SELECT FOUND_ROWS()"), [[3]]);
});

test("a bad pattern is MySQL's 3691, LN(0) is NULL with warning 3020", opts, async () => {
  const c = await connect();
  await assert.rejects(c.query("SELECT REGEXP_LIKE('a', '(')"), (e: { errno?: number;
    message?: string }) => {
    assert.equal(e.errno, 3691);
    assert.equal(e.message, "Mismatched parenthesis in regular expression.");
    return true;
  });
  assert.deepEqual(await values(c, "SELECT LN(0)"), [[null]]);
  assert.deepEqual(await values(c, "SHOW WARNINGS"),
    [["Warning", 3020, "Invalid argument for logarithm"]]);
  await assert.rejects(c.query("SELECT LPAD('a')"), { errno: 1582 });
});

test("SLEEP waits until KILL QUERY ends it", opts, async () => {
  const c = await connect();
  const killer = await connect();
  const running = c.query("SELECT SLEEP(600)").then(() => ({ errno: 0 }),
    (error: unknown) => error as { errno: number });
  // Wait (by condition) until the statement is running, then kill it.
  for (;;) {
    const info = await values(killer,
      `SELECT INFO FROM information_schema.PROCESSLIST WHERE ID = ${c.threadId}`);
    if (String(info[0]?.[0] ?? "").includes("SLEEP")) break;
    await new Promise((resolve) => setImmediate(resolve));
  }
  await killer.query(`KILL QUERY ${c.threadId}`);
  assert.equal((await running).errno, 1317);
  assert.deepEqual(await values(c, "SELECT SLEEP(0)"), [[0]]);
});
