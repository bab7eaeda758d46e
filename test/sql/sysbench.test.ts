/**
 * sysbench (the Debian package) against an in-process cluster: its own `prepare` of two
 * 1,000-row tables, then `run` of oltp_point_select, oltp_write_only, oltp_insert,
 * oltp_update_index, oltp_update_non_index and oltp_delete, each for a fixed number of
 * events on one thread, with zero errors (sysbench exits non-zero and prints FATAL on any
 * error outside its ignore list; the test also requires "ignored errors: 0"). The prepare
 * includes sysbench's `CREATE INDEX k_1 ON sbtestN(k)`, and oltp_update_index then updates
 * the indexed column. Outside CI a missing sysbench skips with a printed reason; under
 * CI=true it fails.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { after, before, test } from "node:test";
import { type SqlCluster, type SqlNodeHandle, startSqlCluster } from "./sql_cluster.ts";

const workloads = ["oltp_point_select", "oltp_write_only", "oltp_insert", "oltp_update_index",
  "oltp_update_non_index", "oltp_delete"];

let cluster: SqlCluster;
let node: SqlNodeHandle;
const children = new Set<number>();

before(async () => {
  cluster = await startSqlCluster();
  node = await cluster.startNode();
});

after(async () => {
  for (const pid of children) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // already exited
    }
  }
  await cluster.close();
});

/** How long one sysbench invocation may run before it is killed (a hang fails fast). */
const invocationTimeoutMs = 60_000;

/** Runs sysbench in its own process group; resolves with its exit code and output. */
function sysbench(args: readonly string[]): Promise<{ code: number | null; output: string }> {
  const child = spawn("sysbench", args, { detached: true, stdio: ["ignore", "pipe", "pipe"] });
  const pid = child.pid;
  if (pid !== undefined) children.add(pid);
  const watchdog = setTimeout(() => {
    output += `\nkilled: still running after ${invocationTimeoutMs} ms`;
    if (pid !== undefined) process.kill(-pid, "SIGKILL");
  }, invocationTimeoutMs);
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  return new Promise((resolve) => {
    child.on("error", (error) => resolve({ code: -1, output: `${output}\n${error.message}` }));
    child.on("exit", (code) => {
      clearTimeout(watchdog);
      if (pid !== undefined) children.delete(pid);
      resolve({ code, output });
    });
  });
}

test("sysbench prepare and six OLTP workloads with zero errors", { timeout: 240_000 },
  async (t) => {
    if (spawnSync("sysbench", ["--version"]).error !== undefined) {
      assert.notEqual(process.env.CI, "true", "the sysbench suite needs the sysbench package");
      console.log("skipping the sysbench suite: sysbench is not installed");
      t.skip("sysbench is not installed");
      return;
    }
    const conn = await node.connect();
    await conn.query("CREATE DATABASE sbtest");
    const common = ["--mysql-host=127.0.0.1", `--mysql-port=${node.server.port}`,
      "--mysql-user=root", "--mysql-db=sbtest", "--tables=2", "--table-size=1000",
      "--create_secondary=on"];
    const prepared = await sysbench(["oltp_point_select", ...common, "prepare"]);
    assert.equal(prepared.code, 0, prepared.output);
    assert.doesNotMatch(prepared.output, /FATAL/);
    const [counts] = await conn.query("SELECT COUNT(*) AS n FROM sbtest.sbtest2");
    assert.equal(Number((counts as { n: number }[])[0]!.n), 1000);
    const [indexes] = await conn.query("SHOW INDEX FROM sbtest.sbtest1");
    assert.deepEqual((indexes as { Key_name: string; Column_name: string }[])
      .map((r) => [r.Key_name, r.Column_name]), [["PRIMARY", "id"], ["k_1", "k"]]);

    for (const workload of workloads) {
      const run = await sysbench([workload, ...common, "--threads=1", "--time=0",
        "--events=300", "run"]);
      assert.equal(run.code, 0, `${workload}:\n${run.output}`);
      assert.doesNotMatch(run.output, /FATAL/, workload);
      assert.match(run.output, /ignored errors:\s+0\s/, workload);
      const events = /total number of events:\s+(\d+)/.exec(run.output);
      assert.equal(events?.[1], "300", `${workload}:\n${run.output}`);
    }
  });
