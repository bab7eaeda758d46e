/**
 * StatementsSummary: per-digest aggregation (count, errors, latency sum/min/max), the
 * bound on kept digests (least recently seen evicted) and on sample length; NodeStatus
 * counters.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { parse } from "../parser/parse.ts";
import { StatementsSummary, type StatementSample } from "./summary.ts";
import { NodeStatus } from "./status.ts";

function sample(digest: string, latencyMs: number, extra: Partial<StatementSample> = {}):
  StatementSample {
  return { digest, normalized: `n-${digest}`, text: `text ${digest}`, stmtType: "Select",
    schema: "db", user: "root", latencyMs, error: false, warnings: 0, affectedRows: 0,
    nowMs: 1000 + latencyMs, ...extra };
}

test("a digest's executions are aggregated", { timeout: 10_000 }, () => {
  const summary = new StatementsSummary();
  summary.record(sample("a", 4));
  summary.record(sample("a", 2, { error: true, warnings: 3, text: "last" }));
  summary.record(sample("a", 9));
  const [entry] = summary.list();
  assert.equal(summary.size, 1);
  assert.equal(entry!.execCount, 3);
  assert.equal(entry!.sumErrors, 1);
  assert.equal(entry!.sumWarnings, 3);
  assert.equal(entry!.sumLatencyMs, 15);
  assert.equal(entry!.minLatencyMs, 2);
  assert.equal(entry!.maxLatencyMs, 9);
  assert.equal(entry!.firstSeenMs, 1004);
  assert.equal(entry!.lastSeenMs, 1009);
  assert.equal(entry!.sampleText, "text a");
});

test("the same digest in two databases is kept apart", { timeout: 10_000 }, () => {
  const summary = new StatementsSummary();
  summary.record(sample("a", 1, { schema: "x" }));
  summary.record(sample("a", 1, { schema: "y" }));
  assert.equal(summary.size, 2);
});

test("the summary keeps at most maxDigests, evicting the least recently seen", {
  timeout: 10_000 }, () => {
  const summary = new StatementsSummary({ maxDigests: 3, maxSampleChars: 20 });
  for (const d of ["a", "b", "c"]) summary.record(sample(d, 1));
  summary.record(sample("a", 1));
  summary.record(sample("d", 1, { text: "x".repeat(100) }));
  assert.deepEqual(summary.list().map((e) => e.digest), ["c", "a", "d"]);
  assert.equal(summary.list()[2]!.sampleText.length, 20);
  for (let k = 0; k < 50; k++) summary.record(sample(`z${k}`, 1));
  assert.equal(summary.size, 3);
});

test("NodeStatus counts statements by kind and digests them once per statement", {
  timeout: 10_000 }, () => {
  const status = new NodeStatus(0);
  const parsed = parse("SELECT a FROM t WHERE id = 5");
  assert.equal(parsed.kind, "ok");
  if (parsed.kind !== "ok") return;
  const statement = parsed.statements[0]!;
  for (let k = 0; k < 3; k++) {
    status.record({ parsed: statement, schema: "db", user: "root", startMs: k, endMs: k + 2,
      error: false, warnings: 0, affectedRows: 0 });
  }
  const rows = new Map(status.statusRows(5000, 2));
  assert.equal(rows.get("Com_select"), "3");
  assert.equal(rows.get("Questions"), "3");
  assert.equal(rows.get("Uptime"), "5");
  assert.equal(rows.get("Threads_connected"), "2");
  const [entry] = status.summary.list();
  assert.equal(entry!.execCount, 3);
  assert.equal(entry!.stmtType, "Select");
  assert.match(entry!.normalized, /where id = \?/i);
});
