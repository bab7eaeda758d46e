/**
 * Tests of `tessera playground` through the real launcher in a child process: it starts,
 * prints where its status server and SQL node listen, serves `/status`, answers a query
 * over the MySQL protocol, and stops cleanly on SIGTERM; the done-when test (a
 * clean start, a table written and read, a stop, a second start that finds the data); and
 * a start that fails on a taken port, names the component and stops the rest.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { type Server, createServer } from "node:net";
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

/** The playground's flags for free ports everywhere, data in `dataDir`, quiet logs. */
function freePortArgs(dataDir: string, extra: readonly string[] = []): string[] {
  return [
    launcher, "playground", "--status-port", "0", "--sql-port", "0", "--pd-port", "0",
    "--pd-status-port", "0", "--kv-port", "0", "--kv-status-port", "0",
    "--data-dir", dataDir, "--log-level", "warn", ...extra,
  ];
}

/** The MySQL ports the playground printed, first node first. */
async function mysqlPorts(child: ReturnType<Children["spawn"]>): Promise<number[]> {
  await child.waitForLine(/connect: mysql -h/);
  return [...child.stdout().matchAll(/^ {2}mysql:\s+\S+:(\d+)$/gm)].map((m) => Number(m[1]));
}

/** True while any process of the process group `pgid` is alive. */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ESRCH") return false;
    throw error;
  }
}

test("playground keeps its data over a Ctrl-C: a second start on the same data dir finds it",
  opts,
  async () => {
    const dataDir = join(dataRoot, "reuse");
    const first = children.spawn(freePortArgs(dataDir, ["--clean", "--sql", "2"]));
    const ports = await mysqlPorts(first);
    assert.equal(ports.length, 2, first.stdout());
    assert.match(first.stdout(), /Removing \S+ \(--clean\)/);
    assert.match(first.stdout(), /^\[sql-2\] ready: /m);
    const one = await mysql.createConnection({ host: "127.0.0.1", port: ports[0]!, user: "root" });
    try {
      await one.query("CREATE DATABASE keep");
      await one.query("CREATE TABLE keep.t (id INT PRIMARY KEY, v VARCHAR(20))");
      await one.query("INSERT INTO keep.t VALUES (1, 'one'), (2, 'two')");
    } finally {
      await one.end();
    }
    // The second SQL node (a child process) shares the cluster and sees the same rows.
    const two = await mysql.createConnection({ host: "127.0.0.1", port: ports[1]!, user: "root" });
    try {
      const [rows] = await two.query({ sql: "SELECT id, v FROM keep.t", rowsAsArray: true });
      assert.deepEqual(rows, [[1, "one"], [2, "two"]]);
    } finally {
      await two.end();
    }
    // Ctrl-C in a terminal: SIGINT to the whole process group. The children leave it to
    // the playground, which stops them in order (SQL before KV before PD) within its grace.
    process.kill(-first.process.pid!, "SIGINT");
    assert.deepEqual(await withDeadline(first.exited, () => "playground did not stop"),
      { code: 0, signal: null }, first.stderr());
    assert.doesNotMatch(first.stderr(), /shutdown deadline passed|did not stop in time/);
    assert.equal(groupAlive(first.process.pid!), false, "a child outlived the playground");

    const second = children.spawn(freePortArgs(dataDir));
    const [port] = await mysqlPorts(second);
    assert.match(second.stdout(), /Reusing the data in /);
    const again = await mysql.createConnection({ host: "127.0.0.1", port: port!, user: "root" });
    try {
      const [rows] = await again.query({ sql: "SELECT v FROM keep.t WHERE id = 2",
        rowsAsArray: true });
      assert.deepEqual(rows, [["two"]]);
    } finally {
      await again.end();
    }
    // SIGTERM to the whole process group (`kill -TERM -pgid`, systemd's KillMode): every
    // node stops at once, so the SQL node cannot deregister from the stopped PD; it must
    // give up on that within a bound instead of hanging until the shutdown deadline.
    process.kill(-second.process.pid!, "SIGTERM");
    assert.deepEqual(await withDeadline(second.exited, () => "playground did not stop"),
      { code: 0, signal: null }, second.stderr());
    assert.doesNotMatch(second.stderr(), /shutdown deadline passed|did not stop in time/);
    assert.equal(groupAlive(second.process.pid!), false, "a child outlived the playground");
  });

test("playground names the component whose port is taken and stops the ones started", opts,
  async () => {
    const squatter: Server = createServer();
    await new Promise<void>((resolve) => squatter.listen(0, "127.0.0.1", resolve));
    const taken = (squatter.address() as { port: number }).port;
    try {
      const dataDir = join(dataRoot, "taken");
      const child = children.spawn(
        [...freePortArgs(dataDir, ["--kv", "1"]), "--kv-port", String(taken)]);
      const exit = await withDeadline(child.exited, () => "playground did not exit");
      assert.equal(exit.code, 1, child.stdout() + child.stderr());
      assert.match(child.stdout(), /^\[pd\] ready: /m);
      assert.match(child.stdout(), /^\[kv-1\] failed: .*(EADDRINUSE|in use)/m);
      assert.match(child.stderr(),
        /error: playground: kv-1 failed to start: .*(EADDRINUSE|in use)/);
      assert.doesNotMatch(child.stdout(), /connect: mysql/);
      // PD was stopped with the playground: nothing of its process group is left.
      assert.equal(groupAlive(child.process.pid!), false, "PD outlived the failed start");
      assert.ok(existsSync(join(dataDir, "pd")));
    } finally {
      await new Promise<void>((resolve) => squatter.close(() => resolve()));
    }
  });
