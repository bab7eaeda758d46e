/**
 * Starts a throwaway MariaDB server for tests and for `--mariadb` runs.
 *
 * `startMariadb` creates a data directory under the OS temp dir with
 * `mariadb-install-db`, starts `mariadbd` on a free loopback port (detached, in its own
 * process group, with durability traded for speed), and resolves once a client can
 * connect — polled, never slept on. `stop` kills the process group, waits for the exit
 * and deletes the directory. The caller owns the handle and must call `stop`, also on
 * failure (tests do it in `after()`). The root user has no password and is reachable
 * only on 127.0.0.1.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import mysql from "mysql2/promise";
import type { MysqlAddress } from "./session.ts";

const execFileAsync = promisify(execFile);

/** Paths searched for the server binaries (Debian installs them in /usr/sbin, /usr/bin). */
const searchPath = ["/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"];

/** A running temporary MariaDB. */
export interface MariadbHandle {
  readonly address: MysqlAddress;
  readonly pid: number;
  readonly dataDir: string;
  /** Kills the server's process group and removes its data directory. */
  stop(): Promise<void>;
}

/** The path of a MariaDB binary (`mariadbd`, `mariadb-install-db`), or null. */
export function findBinary(name: string): string | null {
  for (const dir of searchPath) {
    const path = join(dir, name);
    if (existsSync(path)) return path;
  }
  return null;
}

/** Why MariaDB cannot be started here, or null when it can. */
export function mariadbUnavailableReason(): string | null {
  if (findBinary("mariadbd") === null)
    return "mariadbd not installed (apt-get install mariadb-server)";
  if (findBinary("mariadb-install-db") === null) return "mariadb-install-db not installed";
  return null;
}

/** A TCP port that was free on 127.0.0.1 a moment ago. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Options of `startMariadb`. */
export interface StartMariadbOptions {
  /** Give up when the server does not accept connections within this time. */
  readonly startTimeoutMs?: number;
  /**
   * Run with MariaDB's default configuration (durable commits, default buffer pool), as
   * benchmarks compare against; by default the server trades durability for speed.
   */
  readonly defaults?: boolean;
}

/** Starts a temporary MariaDB; see the file comment. */
export async function startMariadb(options: StartMariadbOptions = {}): Promise<MariadbHandle> {
  const mariadbd = findBinary("mariadbd");
  const installDb = findBinary("mariadb-install-db");
  if (mariadbd === null || installDb === null) {
    throw new Error(mariadbUnavailableReason() ?? "MariaDB binaries missing");
  }
  const root = await mkdtemp(join(tmpdir(), "tessera-mariadb-"));
  const dataDir = join(root, "data");
  const asRoot = process.getuid?.() === 0;
  const userArgs = asRoot ? ["--user=root"] : [];
  try {
    await execFileAsync(installDb, [
      "--no-defaults",
      `--datadir=${dataDir}`,
      "--auth-root-authentication-method=normal",
      "--skip-test-db",
      ...userArgs,
    ]);
  } catch (error: unknown) {
    await rm(root, { recursive: true, force: true });
    throw new Error(`mariadb-install-db failed: ${String(error)}`, { cause: error });
  }

  const port = await freePort();
  const logFile = join(root, "error.log");
  const child = spawn(
    mariadbd,
    [
      "--no-defaults",
      `--datadir=${dataDir}`,
      `--socket=${join(root, "mysqld.sock")}`,
      `--pid-file=${join(root, "mysqld.pid")}`,
      `--log-error=${logFile}`,
      `--port=${port}`,
      "--bind-address=127.0.0.1",
      "--skip-log-bin",
      // A scratch server: speed over durability.
      ...(options.defaults === true ? [] : [
        "--innodb-flush-log-at-trx-commit=0",
        "--innodb-doublewrite=0",
        "--innodb-flush-method=nosync",
        "--innodb-file-per-table=0",
        "--innodb-buffer-pool-size=256M",
      ]),
      "--max-connections=200",
      ...userArgs,
    ],
    { detached: true, stdio: "ignore" },
  );
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const address: MysqlAddress = { host: "127.0.0.1", port, user: "root", password: "" };
  const handle: MariadbHandle = {
    address,
    pid: child.pid ?? -1,
    dataDir,
    stop: async () => {
      await killGroup(child, exited);
      await rm(root, { recursive: true, force: true });
    },
  };
  try {
    await waitUntilAccepting(address, child, options.startTimeoutMs ?? 60_000);
  } catch (error: unknown) {
    const log = await readFile(logFile, "utf8").catch((e: unknown) => `(no log: ${String(e)})`);
    await handle.stop();
    throw new Error(`${String(error)}\n--- mariadbd log ---\n${log.slice(-4000)}`, {
      cause: error,
    });
  }
  return handle;
}

async function killGroup(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, "SIGKILL");
  } catch (error: unknown) {
    if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
  }
  await exited;
}

/** Polls until a connection succeeds, the server exits, or `timeoutMs` passes. */
async function waitUntilAccepting(
  address: MysqlAddress,
  child: ChildProcess,
  timeoutMs: number,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let lastError: unknown = null;
  while (performance.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`mariadbd exited early (${child.exitCode ?? child.signalCode})`);
    }
    try {
      const connection = await mysql.createConnection({ ...address, connectTimeout: 2_000 });
      await connection.end();
      return;
    } catch (error: unknown) {
      lastError = error;
    }
    // Poll again after a short pause: the condition is the connection, not the pause.
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`mariadbd did not accept connections in ${timeoutMs} ms: ${String(lastError)}`);
}

/** Wraps `body` with a temporary MariaDB that is stopped however `body` ends. */
export async function withMariadb<T>(body: (handle: MariadbHandle) => Promise<T>): Promise<T> {
  const handle = await startMariadb();
  try {
    return await body(handle);
  } finally {
    await handle.stop();
  }
}
