/**
 * End-to-end test of `tessera sql`: the real launcher in a child process with `--port 0`
 * prints its MySQL port, the `mysql` command-line client (Debian `mariadb-client`) runs
 * `SELECT 1+1, 'x', NULL, 1.5` against it, over plain TCP and over TLS with the node's
 * generated certificate, errors come back with MySQL's numbers, and the node stops cleanly
 * on SIGTERM. Skipped with a printed reason when the client is not
 * installed, except in CI (`CI=true`), where its absence is a failure.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Children, withDeadline } from "./test_child.ts";

const opts = { timeout: 120_000 };
const launcher = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "bin", "tessera.js");
const cliPath = ["/usr/bin/mysql", "/usr/bin/mariadb"].find((p) => existsSync(p));
const skip = cliPath === undefined && process.env["CI"] !== "true"
  ? "the mysql client is not installed (apt-get install mariadb-client)"
  : false;
if (skip !== false) console.log(`# skipping tessera sql CLI test: ${skip}`);
const children = new Children();
const dataDir = mkdtempSync(join(tmpdir(), "tessera-sql-"));

after(() => {
  children.killAll();
  rmSync(dataDir, { recursive: true, force: true });
});

test("tessera sql on a port in use says which and exits 1 instead of lingering", opts,
  async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    try {
      const port = (blocker.address() as AddressInfo).port;
      const result = await children.run([launcher, "sql", "--port", String(port),
        "--status-port", "0", "--log-level", "warn", "--data-dir", dataDir]);
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, new RegExp(`error: cannot listen on 127\\.0\\.0\\.1:${port}: ` +
        "EADDRINUSE"));
      assert.doesNotMatch(result.stderr, /^\s+at /m);
    } finally {
      blocker.close();
    }
  });

test("tessera sql --port 0 serves the mysql CLI and stops on SIGTERM", { ...opts, skip },
  async () => {
    assert.ok(cliPath !== undefined, "the mysql client must be installed in CI");
    const node = children.spawn([launcher, "sql", "--port", "0", "--status-port", "0",
      "--log-level", "warn", "--data-dir", dataDir]);
    const line = await withDeadline(node.waitForLine(/mysql:\s+\S+:\d+/),
      () => `no port line: ${node.stdout()} ${node.stderr()}`);
    const port = /:(\d+)\s*$/.exec(line)?.[1];
    assert.ok(port !== undefined, line);
    const cli = (sql: string): ReturnType<Children["run"]> => children.run(
      ["--no-defaults", "-h", "127.0.0.1", "-P", port, "--protocol=tcp", "-u", "root",
        "--batch", "-e", sql], { command: cliPath });
    const result = await cli("SELECT 1+1, 'x', NULL, 1.5");
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, "1+1\tx\tNULL\t1.5\n2\tx\tNULL\t1.5\n");
    const vars = await cli("SELECT @@version_comment, DATABASE(), 1/3");
    assert.equal(vars.code, 0, vars.stderr);
    assert.match(vars.stdout, /Tessera.*\tNULL\t0\.3333\n$/);
    // TLS with the generated certificate, verified: the client refuses to fall back.
    const tls = await children.run(
      ["--no-defaults", "-h", "127.0.0.1", "-P", port, "--protocol=tcp", "-u", "root",
        "--ssl-ca", join(dataDir, "tls", "cert.pem"), "--ssl-verify-server-cert",
        "--batch", "-e", "SELECT 1+1"], { command: cliPath });
    assert.equal(tls.code, 0, tls.stderr);
    assert.equal(tls.stdout, "1+1\n2\n");
    const error = await cli("SELECT * FROM t");
    assert.equal(error.code, 1);
    assert.match(error.stderr, /ERROR 1046 \(3D000\).*No database selected/);
    node.process.kill("SIGTERM");
    const exit = await withDeadline(node.exited, () => "tessera sql did not stop");
    assert.deepEqual(exit, { code: 0, signal: null });
  });
