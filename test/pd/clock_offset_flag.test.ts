/**
 * End-to-end test of `--clock-offset-ms`: `tessera sql` (table-less, `--port 0`) started
 * with its clock an hour behind answers `NOW()` an hour before a node started after it
 * without the flag, and a fractional offset is refused as a bad config value naming the
 * flag. `tessera pd` on etcd with its clock 8 s behind must still reach etcd and serve
 * timestamps (gRPC deadlines are absolute times on the system clock; etcd is skipped with
 * a printed reason where not installed, failing under CI=true). PD and KV processes on the
 * embedded store with skewed clocks run in `test/jepsen/real_clock_skew.test.ts`.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import mysql from "mysql2/promise";
import { etcdUnavailable, startEtcdCluster } from "../../src/pd/test_etcd_cluster.ts";
import { Children, withDeadline } from "../../src/cmd/test_child.ts";

const opts = { timeout: 60_000 };
const launcher = join(import.meta.dirname, "..", "..", "bin", "tessera.js");
const children = new Children();
const dataDir = mkdtempSync(join(tmpdir(), "tessera-clock-"));
const hourMs = 3_600_000;
const etcdMissing = etcdUnavailable();
if (etcdMissing !== undefined) console.log(`# skipping the PD-on-etcd clock test: ${etcdMissing}`);

after(() => {
  children.killAll();
  rmSync(dataDir, { recursive: true, force: true });
});

/** Starts `tessera sql` with `flags` and resolves with what `NOW()` gave (ms, as parsed). */
async function nowOfSqlNode(flags: readonly string[]): Promise<number> {
  const node = children.spawn([launcher, "sql", "--port", "0", "--status-port", "0",
    "--log-level", "error", "--data-dir", dataDir, ...flags]);
  const line = await withDeadline(node.waitForLine(/mysql:\s+\S+:\d+/),
    () => `no port line: ${node.stdout()} ${node.stderr()}`);
  const port = Number(/:(\d+)\s*$/.exec(line)?.[1]);
  const connection = await mysql.createConnection({ host: "127.0.0.1", port, user: "root" });
  try {
    const [rows] = await connection.query("SELECT NOW() AS t");
    return Number((rows as { t: unknown }[])[0]?.t);
  } finally {
    await connection.end();
    node.process.kill("SIGTERM");
    await withDeadline(node.exited, () => "tessera sql did not stop");
  }
}

test("tessera sql --clock-offset-ms skews the node's wall clock", opts, async () => {
  const skewed = await nowOfSqlNode([`--clock-offset-ms=${-hourMs}`]);
  const plain = await nowOfSqlNode([]);
  // Both are whole seconds in the same time zone; the second node started after the first
  // (a minute covers a slow start).
  const gapMs = plain - skewed;
  assert.ok(gapMs >= hourMs - 1_000 && gapMs <= hourMs + 60_000,
    `NOW() ${new Date(skewed).toISOString()} skewed, ${new Date(plain).toISOString()} not`);
});

test("a fractional --clock-offset-ms is a bad config value", opts, async () => {
  const result = await children.run([launcher, "sql", "--port", "0", "--status-port", "0",
    "--data-dir", dataDir, "--clock-offset-ms", "1.5"]);
  assert.notEqual(result.code, 0);
  assert.match(result.stderr, /--clock-offset-ms/);
});

test("tessera pd on etcd with its clock 8 s behind reaches etcd and serves timestamps",
  { ...opts, skip: etcdMissing ?? false }, async () => {
    const etcd = await startEtcdCluster(1);
    try {
      const pd = children.spawn([launcher, "pd", "--etcd", etcd.endpoints.join(","),
        "--name", "pd-skewed", "--addr", "127.0.0.1:0", "--status-addr", "127.0.0.1:0",
        "--log-level", "error", "--clock-offset-ms=-8000"]);
      const line = await pd.waitForLine(/"rpc"/);
      const { http } = JSON.parse(line) as { http: string };
      // The member serves once it won the election; poll until then.
      const deadline = performance.now() + 30_000;
      for (;;) {
        const reply = await fetch(`http://${http}/pd/api/v1/tso`);
        const text = await reply.text();
        if (reply.status === 200) break;
        assert.ok(performance.now() < deadline, `no timestamp: ${reply.status} ${text}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      pd.process.kill("SIGTERM");
      await withDeadline(pd.exited, () => "tessera pd did not stop");
    } finally {
      await etcd.stop();
    }
  });
