/**
 * The `mysql` command-line client (Debian `mariadb-client`) against the wire server: a
 * query with `-e`, in batch and table output, an error's exit status and message, and
 * login with a password, and the same over TLS (`--ssl`) against a server with a
 * self-signed certificate. Skipped with a printed reason when the client is not installed,
 * except in CI (`CI=true`), where its absence is a failure.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createNodeAuthCrypto, createNodeEnv, createSelfSignedCertificate } from
  "../../env/mod.ts";
import { InMemoryUserStore } from "./auth.ts";
import { type MySqlServer, createMySqlServer } from "./server.ts";
import { type TlsObservations, observedEnv, scriptedSessions } from "./test_support.ts";

const opts = { timeout: 30_000 };
const cliPath = ["/usr/bin/mysql", "/usr/bin/mariadb"].find((p) => existsSync(p));
const skip = cliPath === undefined && process.env["CI"] !== "true"
  ? "the mysql client is not installed (apt-get install mariadb-client)"
  : false;
if (skip !== false) console.log(`# skipping mysql CLI tests: ${skip}`);

const env = createNodeEnv();
const authCrypto = createNodeAuthCrypto();
let server: MySqlServer;
/** A server with TLS, and the upgrades it saw. */
let tlsServer: MySqlServer;
let tlsObserved: TlsObservations;
/** The TLS server's certificate as a file, for `--ssl-ca`. */
let tempDir = "";
let caPath = "";
const children = new Set<number>();

before(async () => {
  server = await createMySqlServer({
    env, host: "127.0.0.1", port: 0, sessions: scriptedSessions().sessions, authCrypto,
    users: new InMemoryUserStore(authCrypto, [
      { user: "root", password: "" },
      { user: "carol", password: "pw", plugin: "caching_sha2_password" },
      { user: "dave", password: "pw", plugin: "mysql_native_password" },
    ]),
  });
  const certificate = createSelfSignedCertificate();
  tempDir = mkdtempSync(join(tmpdir(), "tessera-cli-tls-"));
  caPath = join(tempDir, "ca.pem");
  writeFileSync(caPath, certificate.certPem);
  const observed = observedEnv(env);
  tlsObserved = observed.tls;
  tlsServer = await createMySqlServer({
    env: observed.env, host: "127.0.0.1", port: 0, sessions: scriptedSessions().sessions,
    authCrypto, tls: { cert: certificate.certPem, key: certificate.keyPem },
    users: new InMemoryUserStore(authCrypto, [
      { user: "root", password: "" },
      { user: "carol", password: "pw", plugin: "caching_sha2_password" },
      { user: "dave", password: "pw", plugin: "mysql_native_password" },
    ]),
  });
});

after(async () => {
  for (const pid of children) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch (error: unknown) {
      // Already exited: nothing left to kill.
      if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
    }
  }
  await server.close();
  await tlsServer.close();
  if (tempDir !== "") rmSync(tempDir, { recursive: true, force: true });
});

/** Runs the client with `args`; resolves with its exit code and output. */
function runCli(args: readonly string[], target: MySqlServer = server): Promise<{
  code: number | null; stdout: string; stderr: string }> {
  assert.ok(cliPath !== undefined, "the mysql client must be installed in CI");
  const child = spawn(cliPath, ["--no-defaults", "-h", "127.0.0.1", "-P", String(target.port),
    "--protocol=tcp", ...args], { detached: true, stdio: ["ignore", "pipe", "pipe"] });
  if (child.pid !== undefined) children.add(child.pid);
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString("utf8");
  });
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString("utf8");
  });
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => {
      if (child.pid !== undefined) children.delete(child.pid);
      resolve({ code, stdout, stderr });
    });
  });
}

test("mysql -e runs a query and prints the result in batch mode", { ...opts, skip },
  async () => {
    const result = await runCli(["-u", "root", "--batch", "-e", "SELECT typed"]);
    assert.equal(result.code, 0, result.stderr);
    const [header, row] = result.stdout.trimEnd().split("\n");
    assert.equal(header?.split("\t")[0], "tiny");
    assert.deepEqual(row?.split("\t").slice(0, 9), ["-5", "300", "-70000",
      "1152921504606846976", "18446744073709551615", "1.5", "3.25", "12.50", "héllo"]);
    assert.ok(row?.includes("2024-02-29 13:14:15.123456"));
    assert.ok(row?.includes("-25:01:02"));
    assert.ok(row?.includes("NULL"));
  });

test("mysql draws a table for a multi-statement batch", { ...opts, skip }, async () => {
  const result = await runCli(["-u", "root", "--table", "-e", "SELECT 1; SELECT rows 2"]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /\| 1 \|/);
  assert.match(result.stdout, /\| n +\|/);
});

test("mysql reads an OK packet with an info message (UPDATE's Rows matched)", { ...opts, skip },
  async () => {
    const result = await runCli(["-u", "root", "-vvv", "-e", "UPDATE t SET v = 1"]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /Query OK, 1 row affected/);
    assert.match(result.stdout, /Rows matched: 1 {2}Changed: 1 {2}Warnings: 0/);
  });

test("mysql reports an error with its number and SQLSTATE", { ...opts, skip }, async () => {
  const result = await runCli(["-u", "root", "-e", "SELECT * FROM missing"]);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /ERROR 1146 \(42S02\).*Table 'test.missing' doesn't exist/);
});

test("mysql logs in with a password over both plugins, and is refused a wrong one",
  { ...opts, skip }, async () => {
    for (const user of ["carol", "dave"]) {
      const ok = await runCli(["-u", user, "-ppw", "--batch", "-e", "SELECT 1"]);
      assert.equal(ok.code, 0, `${user}: ${ok.stderr}`);
    }
    const denied = await runCli(["-u", "dave", "-pwrong", "-e", "SELECT 1"]);
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /ERROR 1045 \(28000\): Access denied for user 'dave'/);
  });

/** Client flags for TLS without verifying the self-signed certificate. */
const sslArgs = ["--ssl", "--ssl-verify-server-cert=0"];

test("mysql --ssl runs a query over TLS, logging in with both plugins", { ...opts, skip },
  async () => {
    const before = tlsObserved.upgraded;
    const root = await runCli([...sslArgs, "-u", "root", "--batch", "-e", "SELECT 1"],
      tlsServer);
    assert.equal(root.code, 0, root.stderr);
    assert.equal(root.stdout, "1\n1\n");
    for (const user of ["carol", "dave"]) {
      const ok = await runCli([...sslArgs, "-u", user, "-ppw", "--batch", "-e", "SELECT 1"],
        tlsServer);
      assert.equal(ok.code, 0, `${user}: ${ok.stderr}`);
    }
    assert.equal(tlsObserved.upgraded - before, 3);
    assert.equal(tlsObserved.failed, 0);
  });

test("mysql verifies the generated certificate for 127.0.0.1 against itself as the CA",
  { ...opts, skip }, async () => {
    const before = tlsObserved.upgraded;
    const result = await runCli(["--ssl-ca", caPath, "--ssl-verify-server-cert", "-u", "root",
      "--batch", "-e", "SELECT 1"], tlsServer);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(tlsObserved.upgraded - before, 1);
  });

test("mysql requiring TLS of a server without it fails rather than continuing in plain text",
  { ...opts, skip }, async () => {
    // MariaDB's client treats `--ssl` alone as opportunistic; verifying the server's
    // certificate makes TLS mandatory.
    const result = await runCli(["--ssl-ca", caPath, "--ssl-verify-server-cert", "-u", "root",
      "-e", "SELECT 1"]);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /SSL/);
  });
