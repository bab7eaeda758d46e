/**
 * Starts and stops the child processes of a launcher (`tessera playground`, later
 * `tessera cluster`): each child is `tessera <component> …` on this same Node 24, and is
 * ready once it prints the line its component prints when serving (PD prints one line of
 * JSON). Stopping sends SIGTERM, waits for the exit up to a grace period, then SIGKILL —
 * children stop in reverse start order, as DESIGN.md's start order requires.
 *
 * Children stay in the launcher's process group, so a Ctrl-C in the terminal reaches them
 * too, and a test that kills the launcher's group kills them with it.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { ErrorCode, TesseraError, limits } from "../base/mod.ts";
import type { Logger } from "./logger.ts";

/** The `tessera` launcher script, which children run on this process's Node. */
const launcher = join(import.meta.dirname, "..", "..", "bin", "tessera.js");

/** A running child. */
export interface SupervisedChild {
  readonly name: string;
  readonly pid: number;
  /** The stdout line that said the child was ready. */
  readonly readyLine: string;
}

/** The children of one launcher. */
export class Supervisor {
  private readonly logger: Logger;
  private readonly children: { name: string; process: ChildProcess; exited: Promise<void> }[] =
    [];

  constructor(options: { readonly logger: Logger }) {
    this.logger = options.logger;
  }

  /**
   * Starts `tessera <args…>` and resolves once a stdout line matches `ready`. Rejects with
   * `Cmd:Child:StartFailed` if the child exits first or is not ready within `readyMs`.
   */
  async start(
    name: string,
    args: readonly string[],
    options: { readonly ready: RegExp; readonly readyMs?: number },
  ): Promise<SupervisedChild> {
    const child = spawn(process.execPath, [launcher, ...args], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const exited = new Promise<void>((resolve) => child.once("close", () => resolve()));
    this.children.push({ name, process: child, exited });
    const readyMs = options.readyMs ?? limits.childReadyMsMax;
    const line = await new Promise<string>((resolve, reject) => {
      let buffered = "";
      const fail = (why: string): void => {
        clearTimeout(timer);
        reject(new TesseraError(ErrorCode.ChildStartFailed, `${name}: ${why}`));
      };
      const timer = setTimeout(() => fail(`not ready within ${readyMs} ms`), readyMs);
      child.once("error", (error) => fail(error.message));
      child.once("exit", (code, signal) => fail(`exited (code ${code}, signal ${signal})`));
      child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
        buffered += chunk;
        const lines = buffered.split("\n");
        buffered = lines.pop() ?? "";
        const match = lines.find((l) => options.ready.test(l));
        if (match !== undefined) {
          clearTimeout(timer);
          child.removeAllListeners("exit");
          resolve(match);
        }
      });
    });
    child.once("exit", (code, signal) => {
      this.logger.warn({ child: name, code, signal }, "child process exited");
    });
    this.logger.info({ child: name, pid: child.pid }, "child process ready");
    return { name, pid: child.pid ?? 0, readyLine: line };
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
