/**
 * Tests of the launcher's `Supervisor`: a child that is ready is returned with its ready
 * line, one that exits or never becomes ready fails with `Cmd:Child:StartFailed`, and
 * `stopAll()` stops what is still running.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ErrorCode, hasErrorCode } from "../base/mod.ts";
import { createLogger } from "./logger.ts";
import { Supervisor } from "./supervisor.ts";

const opts = { timeout: 120_000 };
const logger = createLogger({ component: "supervisor-test", level: "silent" });
const supervisor = new Supervisor({ logger });
const dataDir = mkdtempSync(join(tmpdir(), "tessera-supervisor-"));

after(async () => {
  await supervisor.stopAll();
  rmSync(dataDir, { recursive: true, force: true });
});

test("Supervisor.start() resolves with the line that said the child is ready", opts,
  async () => {
    const pd = await supervisor.start("pd", [
      "pd", "--addr", "127.0.0.1:0", "--status-addr", "127.0.0.1:0",
      "--data-dir", join(dataDir, "pd"), "--log-level", "warn",
    ], { ready: /^\{"name":/ });
    const ready = JSON.parse(pd.readyLine) as { rpc: string };
    assert.match(ready.rpc, /^127\.0\.0\.1:\d+$/);
    assert.ok(pd.pid > 0);
    await supervisor.stopAll();
    assert.throws(() => process.kill(pd.pid, 0), { code: "ESRCH" });
  });

test("Supervisor.start() fails with Cmd:Child:StartFailed when the child exits first", opts,
  async () => {
    await assert.rejects(
      supervisor.start("ctl", ["ctl", "tso", "decode", "1"], { ready: /^never$/ }),
      (e: unknown) => hasErrorCode(e, ErrorCode.ChildStartFailed) && /exited/.test(e.message),
    );
  });

test("Supervisor.start() fails when the child is not ready in time", opts, async () => {
  await assert.rejects(
    supervisor.start("sql", [
      "sql", "--port", "0", "--status-port", "0", "--data-dir", join(dataDir, "sql"),
      "--log-level", "warn",
    ], { ready: /^never$/, readyMs: 3_000 }),
    (e: unknown) => hasErrorCode(e, ErrorCode.ChildStartFailed) && /not ready/.test(e.message),
  );
  await supervisor.stopAll();
});
