/**
 * Tests of `tessera cluster`: topology validation (errors name the key), and a real
 * 1 PD + 1 KV + 1 SQL cluster on free ports in a temporary directory, driven through the
 * CLI in child processes: start, status shows running, a query works, stop, status shows
 * stopped. Every pid the state file recorded is killed in after(), even on failure.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { type Server, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mysql from "mysql2/promise";
import { hasErrorCode, ErrorCode } from "../base/mod.ts";
import { isClusterProcess } from "./cluster.ts";
import { launcherScript } from "./supervisor.ts";
import { Children } from "./test_child.ts";
import { parseTopology } from "./topology.ts";

const opts = { timeout: 120_000 };
const children = new Children();
const root = mkdtempSync(join(tmpdir(), "tessera-cluster-"));
const statePath = join(root, "data", "cluster-state.json");

after(() => {
  children.killAll();
  if (existsSync(statePath)) {
    const state = JSON.parse(readFileSync(statePath, "utf8")) as { processes: { pid: number }[] };
    for (const { pid } of state.processes) {
      try {
        process.kill(pid, "SIGKILL");
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
      }
    }
  }
  rmSync(root, { recursive: true, force: true });
});

/** `count` ports free right now (held open together so they differ, then released). */
async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  for (let i = 0; i < count; i++) {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    servers.push(server);
  }
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

function invalidTopology(text: string, pattern: RegExp): void {
  assert.throws(() => parseTopology(text, "/x/topo.toml"),
    (e: unknown) => hasErrorCode(e, ErrorCode.ClusterTopologyInvalid) && pattern.test(e.message));
}

test("parseTopology fills defaults and refuses bad entries, naming the key", opts, () => {
  const topology = parseTopology("[[pd]]\n[[kv]]\n[[kv]]\n[[sql]]\n", "/x/topo.toml");
  assert.equal(topology.statePath, "/x/data/cluster/cluster-state.json");
  assert.deepEqual(topology.processes.map((p) => `${p.name} ${p.port} ${p.statusPort}`),
    ["pd-1 2379 2380", "kv-1 20160 20180", "kv-2 20161 20181", "sql-1 4000 10080"]);
  assert.equal(topology.processes[1]?.dataDir, "/x/data/cluster/kv-1");
  invalidTopology('[[pd]]\nhost = "10.0.0.7"\n[[kv]]\n', /pd\[0\]\.host: only 127\.0\.0\.1/);
  invalidTopology("[[pd]]\n[[kv]]\nprot = 1\n", /kv\[0\]\.prot: unknown key/);
  invalidTopology("[[pd]]\n[[kv]]\nport = 70000\n", /kv\[0\]\.port: must be a port/);
  invalidTopology("[[pd]]\n[[kv]]\nport = 2379\n", /kv-1\.port and pd-1\.port share port 2379/);
  invalidTopology("[[kv]]\n", /needs at least one \[\[pd\]\]/);
  invalidTopology("[[pd]]\n[[pd]]\n[[kv]]\n", /pd-1: several PD members .* etcd/);
  invalidTopology("[[pd]\n", /not valid TOML/);
  invalidTopology("[[tidb]]\n", /unknown key tidb/);
});

test("cluster start, status, a query, stop and status again on a 1+1+1 topology", opts,
  async () => {
    const [pd, pdStatus, kv, kvStatus, sql, sqlStatus] = await freePorts(6);
    const file = join(root, "topology.toml");
    writeFileSync(file, [
      "[global]", 'data_dir = "data"',
      "[[pd]]", `port = ${pd}`, `status_port = ${pdStatus}`,
      'extra_flags = ["--log-level", "warn"]',
      "[[kv]]", `port = ${kv}`, `status_port = ${kvStatus}`,
      'extra_flags = ["--log-level", "warn", "--raft-tick-interval", "100ms"]',
      "[[sql]]", `port = ${sql}`, `status_port = ${sqlStatus}`,
      "", ].join("\n"));
    const start = await children.run([launcherScript, "cluster", "start", file]);
    assert.equal(start.code, 0, start.stdout + start.stderr);
    assert.match(start.stdout, /ready {4}pd-1 .*\n(.*\n)*ready {4}kv-1 .*\n(.*\n)*ready {4}sql-1/);
    assert.match(start.stdout, new RegExp(`connect: mysql -h 127\\.0\\.0\\.1 -P ${sql} -u root`));
    const status = await children.run([launcherScript, "cluster", "status", file, "--json"]);
    assert.equal(status.code, 0, status.stderr);
    const rows = JSON.parse(status.stdout) as { name: string; state: string; version: string }[];
    assert.deepEqual(rows.map((r) => `${r.name} ${r.state}`),
      ["pd-1 running", "kv-1 running", "sql-1 running"]);
    assert.ok(rows.every((r) => /^\d+\.\d+\.\d+/.test(r.version)), status.stdout);
    const table = await children.run([launcherScript, "cluster", "status", file]);
    assert.match(table.stdout,
      /^name\s+component\s+port\s+statusPort\s+state\s+pid\s+version\s+uptime/);
    const again = await children.run([launcherScript, "cluster", "start", file]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already running/);
    const connection = await mysql.createConnection({ host: "127.0.0.1", port: sql!,
      user: "root" });
    try {
      await connection.query("CREATE DATABASE c");
      await connection.query("CREATE TABLE c.t (id INT PRIMARY KEY)");
      await connection.query("INSERT INTO c.t VALUES (7)");
      const [result] = await connection.query({ sql: "SELECT id FROM c.t", rowsAsArray: true });
      assert.deepEqual(result, [[7]]);
    } finally {
      await connection.end();
    }
    const stop = await children.run([launcherScript, "cluster", "stop", file]);
    assert.equal(stop.code, 0, stop.stderr);
    assert.match(stop.stdout,
      /stopped {2}sql-1 .*\n(.*\n)*stopped {2}kv-1 .*\n(.*\n)*stopped {2}pd-1/);
    const after = await children.run([launcherScript, "cluster", "status", file, "--json"]);
    const stopped = JSON.parse(after.stdout) as { state: string; pid: number | null }[];
    assert.deepEqual(stopped.map((r) => r.state), ["stopped", "stopped", "stopped"]);
    // Gone, or a zombie waiting for init to reap it (its command line is empty by then).
    const state = JSON.parse(readFileSync(statePath, "utf8")) as
      { processes: { pid: number; dataDir: string }[] };
    assert.equal(state.processes.length, 3);
    for (const { pid, dataDir } of state.processes) {
      assert.equal(isClusterProcess(pid, dataDir), false, `pid ${pid} still runs`);
    }
  });
