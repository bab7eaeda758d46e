/**
 * The SQL session through the real MySQL server and `mysql2`: constant SELECTs with their
 * values and column types (text protocol and server-side prepared statements), variables,
 * SHOW, transactions statements, multi-statements, and the MySQL errors for everything
 * that needs tables, storage or a construct not evaluated yet.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import mysql from "mysql2/promise";
import { createNodeEnv } from "../../env/mod.ts";
import { type MySqlServer, createMySqlServer } from "../wire/server.ts";
import { MySqlType } from "../wire/constants.ts";
import { createSessionFactory } from "./session.ts";

const opts = { timeout: 20_000 };
const env = createNodeEnv();
let server: MySqlServer;
const connections: mysql.Connection[] = [];

before(async () => {
  server = await createMySqlServer({
    env, host: "127.0.0.1", port: 0,
    sessions: createSessionFactory({
      wallMs: () => Date.UTC(2024, 1, 29, 13, 14, 15, 250),
      version: "8.0.11-Tessera-test",
    }),
  });
});

after(async () => {
  for (const c of connections) c.destroy();
  await server.close();
});

async function connect(options: { multipleStatements?: boolean } = {}):
  Promise<mysql.Connection> {
  const connection = await mysql.createConnection({
    host: "127.0.0.1", port: server.port, user: "root", password: "",
    supportBigNumbers: true, bigNumberStrings: false, decimalNumbers: false,
    dateStrings: true, multipleStatements: options.multipleStatements ?? false,
  });
  connections.push(connection);
  return connection;
}

async function rejects(promise: Promise<unknown>, errno: number, message: RegExp):
  Promise<void> {
  await assert.rejects(promise, (error: { errno?: number; message?: string }) => {
    assert.equal(error.errno, errno, error.message);
    assert.match(error.message ?? "", message);
    return true;
  });
}

test("SELECT 1+1, 'x', NULL, 1.5 returns values with MySQL's names and types", opts, async () => {
  const c = await connect();
  const [rows, fields] = await c.query({ sql: "SELECT 1+1, 'x', NULL, 1.5", rowsAsArray: true });
  assert.deepEqual(rows, [[2, "x", null, "1.5"]]);
  assert.deepEqual(fields.map((f) => f.name), ["1+1", "x", "NULL", "1.5"]);
  assert.deepEqual(fields.map((f) => f.columnType), [MySqlType.LongLong, MySqlType.VarString,
    MySqlType.Null, MySqlType.NewDecimal]);
  assert.equal(fields[3]!.decimals, 1);
  assert.equal(fields[3]!.columnLength, 4);
  assert.equal((fields[0]!.flags as number) & 0x1, 0x1, "1+1 is NOT NULL");
});

test("execute() binds parameters into the expression (binary protocol)", opts, async () => {
  const c = await connect();
  const [rows, fields] = await c.execute({ sql: "SELECT ?+1 AS a, CONCAT(?, 'b') AS b, ? / 4",
    rowsAsArray: true }, [41, "a", 2]);
  assert.deepEqual((rows as unknown[][])[0]!.slice(0, 2).map(String), ["42", "ab"]);
  assert.equal(Number((rows as unknown[][])[0]![2]), 0.5);
  assert.deepEqual(fields.map((f) => f.name), ["a", "b", "? / 4"]);
  const [constant] = await c.execute({ sql: "SELECT 1.50 AS d, 7 DIV 2 AS q", rowsAsArray: true });
  assert.deepEqual(constant, [["1.50", 3]]);
});

test("bit operators work on unsigned 64-bit integers, as MySQL's", opts, async () => {
  const c = await connect();
  // Expected values are MySQL's (checked on MariaDB 10.11).
  const cases: [string, string | null][] = [
    ["5 | 2", "7"], ["6 & 3", "2"], ["6 ^ 3", "5"], ["1 << 3", "8"], ["256 >> 4", "16"],
    ["~0", "18446744073709551615"], ["~5", "18446744073709551610"],
    ["-1 | 0", "18446744073709551615"], ["-1 >> 60", "15"], ["1 << 64", "0"],
    ["1 << 63", "9223372036854775808"], ["1 << -1", "0"], ["2.5 | 0", "3"], ["1.4 | 0", "1"],
    ["'12' & 15", "12"], ["1e20 | 0", "18446744073709551615"],
    ["-1e20 | 0", "9223372036854775808"], ["-2.5 | 0", "18446744073709551613"],
    ["NULL | 1", null], ["~NULL", null], ["1 + 2 << 1", "6"], ["1 | 2 & 3", "3"],
  ];
  for (const [sql, expected] of cases) {
    const [rows] = await c.query({ sql: `SELECT ${sql}`, rowsAsArray: true });
    const got = (rows as unknown[][])[0]![0];
    assert.equal(got === null ? null : String(got), expected, sql);
  }
  const [, fields] = await c.query("SELECT 5 | 2 AS b");
  assert.equal(fields[0]!.columnType, MySqlType.LongLong);
  assert.equal((fields[0]!.flags as number) & 0x20, 0x20, "UNSIGNED");
});

test("arithmetic follows MySQL: decimal division, overflow, division by zero", opts,
  async () => {
    const c = await connect();
    const [rows, fields] = await c.query({ sql: "SELECT 1/3, 1/0, 2.5*2, 'abc' = 0, 7 % 3",
      rowsAsArray: true });
    assert.deepEqual(rows, [["0.3333", null, "5.0", 1, 1]]);
    assert.equal(fields[0]!.decimals, 4);
    const [warnings] = await c.query({ sql: "SHOW WARNINGS", rowsAsArray: true });
    assert.deepEqual(warnings, [
      ["Warning", 1365, "Division by 0"],
      ["Warning", 1292, "Truncated incorrect DOUBLE value: 'abc'"],
    ]);
    await rejects(c.query("SELECT 1+9223372036854775807"), 1690,
      /^BIGINT value is out of range in '\(1 \+ 9223372036854775807\)'$/);
  });

test("system variables read with their scopes; unknown ones are 1193", opts, async () => {
  const c = await connect();
  const [rows] = await c.query({ sql: "select @@version_comment limit 1", rowsAsArray: true });
  assert.match(String((rows as unknown[][])[0]![0]), /Tessera/);
  const [vars] = await c.query({ sql: "SELECT @@autocommit, @@session.sql_mode, " +
    "@@global.max_allowed_packet, @@tx_isolation, @@transaction_isolation, " +
    "@@character_set_client, @@collation_connection, @@time_zone, @@lower_case_table_names, " +
    "@@version", rowsAsArray: true });
  const row = (vars as unknown[][])[0]!;
  assert.equal(row[0], 1);
  assert.match(String(row[1]), /STRICT_TRANS_TABLES/);
  assert.equal(row[2], 64 * 1024 * 1024);
  assert.deepEqual(row.slice(3, 8), ["REPEATABLE-READ", "REPEATABLE-READ", "utf8mb4",
    "utf8mb4_general_ci", "SYSTEM"]);
  assert.equal(row[9], "8.0.11-Tessera-test");
  await rejects(c.query("SELECT @@no_such_var"), 1193, /Unknown system variable 'no_such_var'/);
  await rejects(c.query("SELECT @@session.version"), 1238, /is a GLOBAL variable/);
  await rejects(c.query("SET version = 'x'"), 1238, /read only/);
});

test("SET changes session and user variables; SHOW VARIABLES shows them", opts, async () => {
  const c = await connect();
  await c.query("SET autocommit = 0, @a = 1.5, SESSION transaction_isolation = 'READ-COMMITTED'");
  await c.query("SET NAMES utf8mb4 COLLATE utf8mb4_bin");
  const [rows] = await c.query({ sql: "SELECT @@autocommit, @a, @a + 1, @b, @@tx_isolation, " +
    "@@collation_connection, @c := 7, @c", rowsAsArray: true });
  assert.deepEqual(rows, [[0, "1.5", "2.5", null, "READ-COMMITTED", "utf8mb4_bin", 7, null]]);
  const [shown] = await c.query({ sql: "SHOW VARIABLES LIKE 'autocommit'", rowsAsArray: true });
  assert.deepEqual(shown, [["autocommit", "OFF"]]);
  const [where] = await c.query({ sql: "SHOW SESSION VARIABLES WHERE Variable_name IN " +
    "('tx_isolation', 'wait_timeout')", rowsAsArray: true });
  assert.deepEqual(where, [["tx_isolation", "READ-COMMITTED"], ["wait_timeout", "28800"]]);
  await rejects(c.query("SET autocommit = 'maybe'"), 1231, /can't be set to the value/);
  await rejects(c.query("SET transaction_isolation = 'SERIALIZABLE'"), 1235, /SERIALIZABLE/);
  await rejects(c.query("SET NAMES latin7"), 1115, /Unknown character set/);
});

test("without a catalog, tables and databases give MySQL's errors", opts, async () => {
  const c = await connect();
  await rejects(c.query("SELECT * FROM t"), 1046, /No database selected/);
  await rejects(c.query("CREATE TABLE t (a INT)"), 1046, /No database selected/);
  await rejects(c.query("INSERT INTO test.t VALUES (1)"), 1146, /Table 'test.t' doesn't exist/);
  await rejects(c.query("USE test"), 1049, /Unknown database 'test'/);
  await rejects(c.query("SELECT *"), 1096, /No tables used/);
  await rejects(c.query("SELECT nosuch"), 1054, /Unknown column 'nosuch' in 'field list'/);
  await rejects(c.query("SELECT COUNT(*)"), 1235, /aggregate functions/);
  await rejects(c.query("SELECT no_such_fn(1)"), 1046, /No database selected/);
  await rejects(c.query("SELECT concat_ws('x')"), 1582, /concat_ws/);
  await c.query("USE information_schema");
  const [db] = await c.query({ sql: "SELECT DATABASE()", rowsAsArray: true });
  assert.deepEqual(db, [["information_schema"]]);
  await rejects(c.query("SELECT * FROM t"), 1146, /Table 'information_schema.t' doesn't exist/);
  const [tables] = await c.query("SHOW TABLES");
  assert.deepEqual(tables, []);
  const [databases] = await c.query({ sql: "SHOW DATABASES", rowsAsArray: true });
  assert.deepEqual(databases, [["information_schema"]]);
});

test("syntax errors are 1064 with the parser's message", opts, async () => {
  const c = await connect();
  await rejects(c.query("SELECT 1 +"), 1064, /right syntax to use near '' at line 1$/);
  await rejects(c.query("SELEC 1"), 1064, /near 'SELEC 1' at line 1/);
  await rejects(c.query("SELECT 1; SELECT 2"), 1064, /near 'SELECT 2' at line 1/);
});

test("multi-statements return one result per statement and stop at an error", opts,
  async () => {
    const c = await connect({ multipleStatements: true });
    const [results] = await c.query("SET @x = 2; SELECT @x * 3 AS y; BEGIN; COMMIT");
    const list = results as unknown[];
    assert.equal(list.length, 4);
    assert.deepEqual(list[1], [{ y: 6 }]);
    await rejects(c.query("SELECT 1; SELECT * FROM t; SELECT 3"), 1046, /No database/);
  });

test("transactions statements are accepted and tracked", opts, async () => {
  const c = await connect();
  await c.query("BEGIN");
  await c.query("SAVEPOINT s1");
  await c.query("ROLLBACK TO SAVEPOINT s1");
  await c.query("COMMIT");
  await c.query("START TRANSACTION");
  await c.query("ROLLBACK");
  await rejects(c.query("RELEASE SAVEPOINT nope"), 1305, /SAVEPOINT nope does not exist/);
});

test("SQL-level PREPARE and EXECUTE bind user variables", opts, async () => {
  const c = await connect();
  await c.query("PREPARE s FROM 'SELECT ? * 2 AS v'");
  await c.query("SET @n = 21");
  const [rows] = await c.query("EXECUTE s USING @n");
  assert.deepEqual(rows, [{ v: 42 }]);
  await c.query("DEALLOCATE PREPARE s");
  await rejects(c.query("EXECUTE s USING @n"), 1243, /Unknown prepared statement handler/);
});

test("context functions: NOW() from the statement time, CONNECTION_ID, USER", opts,
  async () => {
    const c = await connect();
    const [rows, fields] = await c.query({ sql: "SELECT NOW(), NOW(3), CONNECTION_ID() > 0, " +
      "USER(), CURRENT_USER(), VERSION(), LAST_INSERT_ID()", rowsAsArray: true });
    assert.deepEqual(rows, [["2024-02-29 13:14:15", "2024-02-29 13:14:15.250", 1,
      "root@127.0.0.1", "root@%", "8.0.11-Tessera-test", 0]]);
    assert.equal(fields[0]!.columnType, MySqlType.DateTime);
    await c.query("SET time_zone = '+08:00'");
    const [shifted] = await c.query({ sql: "SELECT NOW()", rowsAsArray: true });
    assert.deepEqual(shifted, [["2024-02-29 21:14:15"]]);
  });
