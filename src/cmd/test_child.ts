/**
 * Test helper: child processes for tests of the CLI and of process lifecycle.
 *
 * Children run `process.execPath` (Node 24) in their own process group (`detached`), and
 * every child a `Children` set spawned is killed, group and all, by `killAll()`, which
 * tests call from `after()` so nothing outlives a failing test. Waiting is on conditions
 * (a line on stdout, the exit) with a generous deadline, never on fixed sleeps.
 */
import { type ChildProcess, spawn } from "node:child_process";

/** How a child ended. */
export interface ChildExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A running child and what it printed so far. */
export interface Child {
  readonly process: ChildProcess;
  /** Everything written to stdout / stderr so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves with the first complete stdout (or `stream`) line matching `pattern`. */
  waitForLine(pattern: RegExp, stream?: "stdout" | "stderr"): Promise<string>;
  /** Resolves when the child has exited and its output is closed. */
  readonly exited: Promise<ChildExit>;
}

/** Longest wait for any condition on a child: generous, so a loaded machine passes. */
export const childDeadlineMs = 60_000;

/** The children of one test file. */
export class Children {
  private readonly running = new Set<ChildProcess>();

  /** Spawns `process.execPath` (or `command`) with `args` in its own process group. */
  spawn(args: readonly string[], options: { readonly command?: string;
    readonly env?: Readonly<Record<string, string>> } = {}): Child {
    const child = spawn(options.command ?? process.execPath, args, {
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, ...options.env },
    });
    this.running.add(child);
    let stdout = "";
    let stderr = "";
    const waiters: { pattern: RegExp; stream: "stdout" | "stderr";
      resolve: (line: string) => void }[] = [];
    const checkWaiters = (): void => {
      const lines = { stdout: stdout.split("\n").slice(0, -1),
        stderr: stderr.split("\n").slice(0, -1) };
      for (const waiter of [...waiters]) {
        const line = lines[waiter.stream].find((candidate) => waiter.pattern.test(candidate));
        if (line !== undefined) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(line);
        }
      }
    };
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
      checkWaiters();
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
      checkWaiters();
    });
    const exited = new Promise<ChildExit>((resolve, reject) => {
      child.once("error", reject);
      child.once("close", (code, signal) => {
        this.running.delete(child);
        resolve({ code, signal });
      });
    });
    const describe = (): string => `stdout:\n${stdout}\nstderr:\n${stderr}`;
    return {
      process: child,
      stdout: () => stdout,
      stderr: () => stderr,
      exited,
      waitForLine: (pattern, stream = "stdout") =>
        withDeadline(
          Promise.race([
            new Promise<string>((resolve) => {
              waiters.push({ pattern, stream, resolve });
              checkWaiters();
            }),
            exited.then((exit) => {
              const how = JSON.stringify(exit);
              throw new Error(`child exited (${how}) before ${pattern}\n${describe()}`);
            }),
          ]),
          () => `no line matching ${pattern} in time\n${describe()}`,
        ),
    };
  }

  /** Spawns, waits for the exit, and returns the status with everything printed. */
  async run(
    args: readonly string[],
    options: { readonly command?: string } = {},
  ): Promise<ChildExit & { readonly stdout: string; readonly stderr: string }> {
    const child = this.spawn(args, options);
    const exit = await withDeadline(child.exited, () => `child did not exit: ${args.join(" ")}`);
    return { ...exit, stdout: child.stdout(), stderr: child.stderr() };
  }

  /** Kills every child still running, with its whole process group. */
  killAll(): void {
    for (const child of this.running) {
      if (child.pid === undefined) continue;
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch (error) {
        // ESRCH: the group is already gone, which is what we want.
        if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
      }
    }
    this.running.clear();
  }
}

/** Waits for `promise` or fails after `childDeadlineMs` with `message()`. */
export async function withDeadline<T>(promise: Promise<T>, message: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(message())), childDeadlineMs);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
