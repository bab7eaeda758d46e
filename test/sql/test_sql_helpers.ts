/**
 * Small helpers the SQL test suites share: run a query and get its rows or its OK packet,
 * assert that a statement fails with a MySQL error number (and message), read the
 * warnings of the last statement, and run command-line clients (mysql, mariadb-dump) in
 * their own process groups. Each suite keeps its own cluster set-up.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import type mysql from "mysql2/promise";

/** Result rows as objects keyed by column name. */
export type Rows = Record<string, unknown>[];

/** The rows of `sql` (with `?` parameters bound from `params`). */
export async function rows(c: mysql.Connection, sql: string, params: unknown[] = []):
  Promise<Rows> {
  const [result] = await c.query(sql, params);
  return result as Rows;
}

/** A new connection of `node` using a database `name` it creates (one per test). */
export async function freshDatabase(node: { connect(): Promise<mysql.Connection> },
  name: string): Promise<mysql.Connection> {
  const c = await node.connect();
  await c.query(`CREATE DATABASE ${name}`);
  await c.query(`USE ${name}`);
  return c;
}

/** The OK packet of a statement that returns no rows. */
export async function ok(c: mysql.Connection, sql: string): Promise<mysql.ResultSetHeader> {
  const [result] = await c.query(sql);
  return result as mysql.ResultSetHeader;
}

/**
 * Asserts that `promise` fails with MySQL error `errno`; a string `message` must equal
 * the error's message, a RegExp must match it.
 */
export async function rejects(promise: Promise<unknown>, errno: number,
  message?: string | RegExp): Promise<void> {
  await assert.rejects(promise, (error: { errno?: number; message?: string }) => {
    assert.equal(error.errno, errno, error.message);
    if (typeof message === "string") assert.equal(error.message, message);
    else if (message !== undefined) assert.match(error.message ?? "", message);
    return true;
  });
}

/** The error number `sql` fails with, or undefined when it succeeds. */
export async function errnoOf(c: mysql.Connection, sql: string): Promise<number | undefined> {
  try {
    await c.query(sql);
  } catch (error: unknown) {
    return (error as { errno?: number }).errno;
  }
  return undefined;
}

/** SHOW WARNINGS as [level, code, message] triples. */
export async function warnings(c: mysql.Connection): Promise<[string, number, string][]> {
  return (await rows(c, "SHOW WARNINGS")).map((w) =>
    [String(w.Level), Number(w.Code), String(w.Message)]);
}

/** How a client process ended and what it printed. */
export interface ClientRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Client processes of one suite, each in its own process group; `killAll()` (in after())
 * kills those still running.
 */
export class ClientProcesses {
  private readonly pids = new Set<number>();

  /** Runs `command`, feeding `input` on stdin; a spawn failure is code -1. */
  run(command: string, args: readonly string[], input = ""): Promise<ClientRun> {
    const child = spawn(command, args, { detached: true, stdio: ["pipe", "pipe", "pipe"] });
    const pid = child.pid;
    if (pid !== undefined) this.pids.add(pid);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.stdin.end(input);
    return new Promise((resolve) => {
      child.on("error", (error) => resolve({ code: -1, stdout, stderr: error.message }));
      child.on("exit", (code) => {
        if (pid !== undefined) this.pids.delete(pid);
        resolve({ code, stdout, stderr });
      });
    });
  }

  /** Kills the process group of every client still running. */
  killAll(): void {
    for (const pid of this.pids) {
      try {
        process.kill(-pid, "SIGKILL");
      } catch {
        // already exited
      }
    }
  }
}
