/**
 * Tests of the launcher's start-up `Progress` display (plain lines off a terminal, a block
 * redrawn in place on one) and of `explainFailure`, which picks why a child failed.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Progress } from "./progress.ts";
import { explainFailure } from "./supervisor.ts";

const opts = { timeout: 10_000 };

test("Progress off a terminal prints one plain line per change", opts, () => {
  let out = "";
  const progress = new Progress({ write: (t) => (out += t), tty: false });
  progress.plan(["pd", "kv-1"]);
  progress.update("pd", "waiting", "starting");
  progress.update("pd", "ready", "127.0.0.1:2379");
  progress.interject("a log line\n");
  assert.equal(out, "[pd] waiting: starting\n[pd] ready: 127.0.0.1:2379\na log line\n");
});

test("Progress on a terminal redraws its block in place, log lines above it", opts, () => {
  let out = "";
  const progress = new Progress({ write: (t) => (out += t), tty: true });
  progress.plan(["pd", "kv-1"]);
  assert.equal(out, "  pd    pending\n  kv-1  pending\n");
  out = "";
  progress.update("kv-1", "waiting", "for PD");
  assert.equal(out, "\x1b[2A\r\x1b[J  pd    pending\n  kv-1  waiting  for PD\n");
  out = "";
  progress.interject("log\n");
  assert.equal(out, "\x1b[2A\r\x1b[Jlog\n  pd    pending\n  kv-1  waiting  for PD\n");
});

test("explainFailure prefers the CLI error, then an uncaught error, then a fatal log", opts,
  () => {
    assert.equal(explainFailure(["x", "error: PD HTTP cannot listen: EADDRINUSE"]),
      "PD HTTP cannot listen: EADDRINUSE");
    assert.equal(explainFailure(["    throw er;", "Error: listen EADDRINUSE: in use", "  at x",
      "Node.js v24"]), "Error: listen EADDRINUSE: in use");
    assert.equal(explainFailure(['{"level":30,"msg":"hi"}',
      '{"level":60,"msg":"invariant broken","error":"AssertionError: x"}']),
    "invariant broken: AssertionError: x");
    assert.equal(explainFailure([]), undefined);
  });
