/**
 * Tests of `tessera playground` through the real launcher in a child process: it starts,
 * prints where its status server and SQL node listen, serves `/status`, answers a query
 * over the MySQL protocol, and stops cleanly on SIGTERM.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import mysql from "mysql2/promise";
import { Children, withDeadline } from "./test_child.ts";

const opts = { timeout: 120_000 };
const launcher = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "bin", "tessera.js");
const children = new Children();
const dataRoot = mkdtempSync(join(tmpdir(), "tessera-playground-"));

after(() => {
  children.killAll();
  rmSync(dataRoot, { recursive: true, force: true });
});

test("playground starts PD and the SQL node, serves /status, exits 0 on SIGTERM", opts,
  async () => {
  const dataDir = join(dataRoot, "pg");
  const child = children.spawn([
    launcher,
    "playground",
    "--status-port",
    "0",
    "--sql-port",
    "0",
    "--pd-port",
    "0",
    "--pd-status-port",
    "0",
    "--kv-port",
    "0",
    "--kv-status-port",
    "0",
    "--data-dir",
    dataDir,
    "--log-level",
    "warn",
  ]);
  const line = await child.waitForLine(/status:\s+http:\/\/\S+\/status/);
  const url = /http:\/\/\S+\/status/.exec(line)?.[0];
  assert.ok(url !== undefined, line);
  const response = await fetch(url);
  assert.equal(response.status, 200);
  const body = (await response.json()) as Record<string, unknown>;
  assert.equal(body["component"], "playground");
  assert.equal(body["status"], "ok");
  assert.equal(body["dataDir"], dataDir);
  assert.ok(statSync(dataDir).isDirectory());
  const pdLine = await child.waitForLine(/pd:\s+\S+ \(HTTP API http:\/\/\S+\)/);
  const pdHealth = /http:\/\/\S+health/.exec(pdLine)?.[0];
  assert.ok(pdHealth !== undefined, pdLine);
  const health = await fetch(pdHealth);
  assert.equal(health.status, 200, await health.text());
  const mysqlLine = await child.waitForLine(/mysql:\s+\S+:\d+/);
  const port = Number(/:(\d+)\s*$/.exec(mysqlLine)?.[1]);
  assert.match(child.stdout(), /connect: mysql -h 127\.0\.0\.1 -P \d+ -u root/);
  assert.match(child.stdout(), /Try: CREATE DATABASE/);
  const kvStatus = [...child.stdout().matchAll(/kv: .*status (http:\/\/\S+\/status)/g)];
  assert.equal(kvStatus.length, 3, child.stdout());
  for (const [, url] of kvStatus) {
    const kvResponse = await fetch(url as string);
    assert.equal(kvResponse.status, 200);
  }
  const connection = await mysql.createConnection({ host: "127.0.0.1", port, user: "root" });
  try {
    const [rows] = await connection.query({ sql: "SELECT 1+1", rowsAsArray: true });
    assert.deepEqual(rows, [[2]]);
    // Tables live in the playground's KV nodes.
    await connection.query("CREATE DATABASE pg");
    await connection.query("CREATE TABLE pg.t (id INT PRIMARY KEY, v VARCHAR(20))");
    await connection.query("INSERT INTO pg.t VALUES (1, 'one'), (2, 'two')");
    const [table] = await connection.query({
      sql: "SELECT v FROM pg.t WHERE id = 2",
      rowsAsArray: true,
    });
    assert.deepEqual(table, [["two"]]);
  } finally {
    await connection.end();
  }
  child.process.kill("SIGTERM");
  const exit = await withDeadline(child.exited, () => "playground did not stop");
  assert.deepEqual(exit, { code: 0, signal: null });
  // PD and the KV nodes were stopped with the playground: their ports no longer answer.
  await assert.rejects(fetch(pdHealth));
  for (const [, url] of kvStatus) await assert.rejects(fetch(url as string));
});

test("playground refuses a bad option value with exit code 1 and names it", opts, async () => {
  const result = await children.run([launcher, "playground", "--status-port", "70000"]);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /--status-port/);
});
