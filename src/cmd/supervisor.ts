/**
 * Starts and stops the child processes of a launcher (`tessera playground`): each child
 * is `tessera <component> …` on this same Node 24, and is ready once it prints the line
 * its component prints when serving (PD and KV print one line of JSON, SQL a block of
 * `name: value` lines). Stopping sends SIGTERM, waits for the exit up to a grace period,
 * then SIGKILL — children stop in reverse start order, as DESIGN.md's start order requires.
 *
 * A child's stderr (its log) is passed on line by line to `onStderr` (the launcher's
 * stderr by default), and its last lines are kept: when a child exits before it is ready,
 * the `Cmd:Child:StartFailed` error says why in the child's own words (`address already in
 * use`), not only its exit code.
 *
 * Children stay in the launcher's process group, so a test that kills the launcher's group
 * kills them with it. A Ctrl-C in the terminal reaches them too; they know their launcher
 * (`TESSERA_SUPERVISOR_PID`) and leave SIGINT to it, so they still stop in reverse start
 * order (lifecycle.ts).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { ErrorCode, TesseraError, limits } from "../base/mod.ts";
import { supervisorPidVariable } from "./lifecycle.ts";
import type { Logger } from "./logger.ts";

/** The `tessera` launcher script, which children run on this process's Node. */
export const launcherScript = join(import.meta.dirname, "..", "..", "bin", "tessera.js");

/** Lines of a child's stderr kept to explain why it failed to start. */
const stderrTailLines = 40;

/** A running child. */
export interface SupervisedChild {
  readonly name: string;
  readonly pid: number;
  /** The stdout line that said the child was ready. */
  readonly readyLine: string;
  /** Every stdout line up to and including `readyLine`. */
  readonly lines: readonly string[];
}

/**
 * The most telling line of a child's last stderr lines: the last `error: …` line the CLI
 * prints for a failed command, else the error line of an uncaught exception's report
 * (`Error: listen EADDRINUSE: …`), else the last error-level log line's message, else the
 * last line. Undefined when the child wrote nothing.
 */
export function explainFailure(tail: readonly string[]): string | undefined {
  const cliError = tail.findLast((line) => line.startsWith("error: "));
  if (cliError !== undefined) return cliError.slice("error: ".length);
  const uncaught = tail.findLast((line) => /^[A-Za-z]*Error( \[\w+\])?: /.test(line));
  if (uncaught !== undefined) return uncaught;
  for (const line of [...tail].reverse()) {
    let entry: unknown;
    try {
      entry = JSON.parse(line);
    } catch {
      continue; // Not a log line; the last plain line is the fallback below.
    }
    const record = entry as { level?: unknown; msg?: unknown; error?: unknown; err?: unknown };
    if (typeof record.level !== "number" || record.level < 50) continue;
    const cause = typeof record.error === "string"
      ? record.error
      : (record.err as { message?: unknown } | undefined)?.message;
    return typeof cause === "string" ? `${String(record.msg)}: ${cause}` : String(record.msg);
  }
  return tail.at(-1);
}

/** The children of one launcher. */
export class Supervisor {
  private readonly logger: Logger;
  private readonly onStderr: (name: string, line: string) => void;
  private readonly children: { name: string; process: ChildProcess; exited: Promise<void> }[] =
    [];

  constructor(options: {
    readonly logger: Logger;
    /** Receives every stderr line of every child; written to stderr when absent. */
    readonly onStderr?: (name: string, line: string) => void;
  }) {
    this.logger = options.logger;
    this.onStderr = options.onStderr ?? ((_name, line) => process.stderr.write(`${line}\n`));
  }

  /**
   * Starts `tessera <args…>` and resolves once a stdout line matches `ready`. Rejects with
   * `Cmd:Child:StartFailed` if the child exits first (with the reason from its stderr) or
   * is not ready within `readyMs`.
   */
  async start(
    name: string,
    args: readonly string[],
    options: { readonly ready: RegExp; readonly readyMs?: number },
  ): Promise<SupervisedChild> {
    const child = spawn(process.execPath, [launcherScript, ...args], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, [supervisorPidVariable]: String(process.pid) },
    });
    const exited = new Promise<void>((resolve) => child.once("close", () => resolve()));
    this.children.push({ name, process: child, exited });
    const tail: string[] = [];
    let stderrBuffered = "";
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
      stderrBuffered += chunk;
      const lines = stderrBuffered.split("\n");
      stderrBuffered = lines.pop() ?? "";
      for (const line of lines) {
        tail.push(line);
        if (tail.length > stderrTailLines) tail.shift();
        this.onStderr(name, line);
      }
    });
    const readyMs = options.readyMs ?? limits.childReadyMsMax;
    const seen: string[] = [];
    const line = await new Promise<string>((resolve, reject) => {
      let buffered = "";
      let settled = false;
      const fail = (why: string): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(new TesseraError(ErrorCode.ChildStartFailed, `${name}: ${why}`));
      };
      const timer = setTimeout(() => fail(`not ready within ${readyMs} ms`), readyMs);
      child.once("error", (error) => fail(error.message));
      // "close" rather than "exit": by then stderr is read to the end, so the tail is whole.
      child.once("close", (code, signal) => {
        if (stderrBuffered !== "") tail.push(stderrBuffered);
        const reason = explainFailure(tail);
        const how = `exited (code ${code}, signal ${signal})`;
        fail(reason === undefined ? how : `${how}: ${reason}`);
      });
      child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
        if (settled) return;
        buffered += chunk;
        const lines = buffered.split("\n");
        buffered = lines.pop() ?? "";
        for (const candidate of lines) {
          seen.push(candidate);
          if (!options.ready.test(candidate)) continue;
          settled = true;
          clearTimeout(timer);
          resolve(candidate);
          return;
        }
      });
    });
    child.once("exit", (code, signal) => {
      this.logger.warn({ child: name, code, signal }, "child process exited");
    });
    this.logger.info({ child: name, pid: child.pid }, "child process ready");
    return { name, pid: child.pid ?? 0, readyLine: line, lines: seen };
  }

  /** Stops every child, newest first: SIGTERM, then SIGKILL after the grace period. */
  async stopAll(): Promise<void> {
    for (const { name, process: child, exited } of [...this.children].reverse()) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      child.removeAllListeners("exit");
      child.kill("SIGTERM");
      let timer: NodeJS.Timeout | undefined;
      const killed = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          this.logger.warn({ child: name }, "child did not stop in time; killing it");
          child.kill("SIGKILL");
          resolve();
        }, limits.shutdownGraceMs);
      });
      await Promise.race([exited, killed]);
      clearTimeout(timer);
      await exited;
    }
    this.children.length = 0;
  }
}
