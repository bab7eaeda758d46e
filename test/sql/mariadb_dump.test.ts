/**
 * mariadb-dump 10.11 (Debian's mariadb-client) against an in-process cluster: tables with
 * rows of several types, a foreign key, a CHECK constraint and a view over a join are
 * dumped with the tool's default options (no errors on its stderr), the dump is loaded
 * back with the `mysql` client into another database, and both databases must hold the
 * same rows and definitions. The dump exercises what the tool sends (its `/*M!…*\/` and
 * `/*!40101 SET …*\/` lines, SHOW CREATE TABLE, SHOW TABLE STATUS, SHOW TRIGGERS, SHOW
 * FIELDS (also of a view), LOCK TABLES,
 * `SELECT /*!40001 SQL_NO_CACHE *\/ *`, SET SQL_QUOTE_SHOW_CREATE, information_schema
 * queries) and the load what the dump contains (ALTER TABLE … DISABLE KEYS, LOCK TABLES …
 * WRITE, multi-row INSERT). Outside CI a missing client skips with a printed reason; under
 * CI=true it fails.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { after, before, test } from "node:test";
import { type SqlCluster, type SqlNodeHandle, startSqlCluster } from "./sql_cluster.ts";
import { ClientProcesses } from "./test_sql_helpers.ts";

let cluster: SqlCluster;
let node: SqlNodeHandle;
const clients = new ClientProcesses();

before(async () => {
  cluster = await startSqlCluster();
  node = await cluster.startNode();
});

after(async () => {
  clients.killAll();
  await cluster.close();
});

const tables = ["kinds", "texts", "empty_one", "child"];
const views = ["kinds_view"];

test("mariadb-dump dumps a database and the dump loads back into another", { timeout: 60_000 },
  async (t) => {
    const missing = ["mariadb-dump", "mysql"].find((c) =>
      spawnSync(c, ["--version"]).error !== undefined);
    if (missing !== undefined) {
      assert.notEqual(process.env.CI, "true", `the dump suite needs ${missing}`);
      console.log(`skipping the mariadb-dump suite: ${missing} is not installed`);
      t.skip(`${missing} is not installed`);
      return;
    }
    const conn = await node.connect();
    await conn.query("CREATE DATABASE src");
    await conn.query("CREATE DATABASE dst");
    await conn.query("USE src");
    await conn.query("CREATE TABLE kinds (id INT PRIMARY KEY AUTO_INCREMENT, " +
      "small TINYINT, big BIGINT UNSIGNED NOT NULL DEFAULT 7, amount DECIMAL(12,3), " +
      "ratio DOUBLE, created DATETIME, day DATE, UNIQUE KEY u_small (small))");
    await conn.query("INSERT INTO kinds (small, big, amount, ratio, created, day) VALUES " +
      "(1, 18446744073709551615, 12.5, 1.25, '2024-01-02 03:04:05', '2024-02-29'), " +
      "(NULL, 0, -3.001, -1e10, NULL, '1000-01-01'), " +
      "(-128, 42, NULL, NULL, '1999-12-31 23:59:59', NULL)");
    await conn.query("CREATE TABLE texts (k VARCHAR(20) PRIMARY KEY, body TEXT, " +
      "raw VARBINARY(16), fixed CHAR(5) NOT NULL DEFAULT 'x')");
    await conn.query("INSERT INTO texts VALUES ('quote', 'it''s \"quoted\"', 'ab', 'y'), " +
      "('newline', 'line\\none\\ttab \\\\ back', NULL, 'z'), ('unicode', 'é✓ 漢字', '', ''), " +
      "('nulls', NULL, NULL, DEFAULT)");
    await conn.query("CREATE TABLE empty_one (a INT, b VARCHAR(3))");
    await conn.query("CREATE TABLE child (id INT PRIMARY KEY, kind INT, qty INT, " +
      "CONSTRAINT fk_kind FOREIGN KEY (kind) REFERENCES kinds (id) ON DELETE CASCADE, " +
      "CONSTRAINT positive CHECK (qty > 0))");
    await conn.query("INSERT INTO child VALUES (1, 1, 5), (2, 3, 7), (3, NULL, 1)");
    await conn.query("CREATE VIEW kinds_view AS SELECT k.id, k.small, c.qty * 2 AS twice " +
      "FROM kinds k JOIN child c ON c.kind = k.id");

    const connArgs = ["-h", "127.0.0.1", "-P", String(node.server.port), "-u", "root"];
    const dump = await clients.run("mariadb-dump", [...connArgs, "src"]);
    assert.equal(dump.code, 0, dump.stderr);
    assert.equal(dump.stderr, "");
    assert.match(dump.stdout, /^\/\*M!999999\\- enable the sandbox mode \*\//);
    assert.match(dump.stdout, /CREATE TABLE `kinds`/);
    assert.match(dump.stdout, /LOCK TABLES `texts` WRITE/);
    assert.match(dump.stdout, /-- Dump completed/);

    const load = await clients.run("mysql", [...connArgs, "dst"], dump.stdout);
    assert.equal(load.code, 0, load.stderr);
    assert.equal(load.stderr, "");

    const [listed] = await conn.query("SHOW TABLES FROM dst");
    assert.deepEqual((listed as Record<string, string>[]).map((r) => r["Tables_in_dst"]),
      [...tables, ...views].sort());
    for (const table of [...tables, ...views]) {
      const [before] = await conn.query({ sql: `SELECT * FROM src.${table}`, rowsAsArray: true });
      const [loaded] = await conn.query({ sql: `SELECT * FROM dst.${table}`, rowsAsArray: true });
      const sorted = (rows: unknown): string[] =>
        (rows as unknown[][]).map((r) => JSON.stringify(r)).sort();
      assert.deepEqual(sorted(loaded), sorted(before), table);
      const [createSrc] = await conn.query(`SHOW CREATE TABLE src.${table}`);
      const [createDst] = await conn.query(`SHOW CREATE TABLE dst.${table}`);
      const text = (rows: unknown): string | undefined => {
        const row = (rows as Record<string, string>[])[0]!;
        return row["Create Table"] ?? row["Create View"];
      };
      assert.ok(text(createSrc) !== undefined, table);
      assert.equal(text(createDst), text(createSrc), table);
    }
  });
