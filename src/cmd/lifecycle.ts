/**
 * Process lifecycle: graceful shutdown on SIGINT/SIGTERM and a fatal exit on bugs.
 *
 * Components register async stop hooks as they start things (`onStop("rpc", …)`); the
 * first SIGINT or SIGTERM runs them in reverse registration order — last started, first
 * stopped — within one deadline (`limits.shutdownGraceMs` by default), then exits 0, or 1
 * if a hook failed or the deadline passed (the hooks left are skipped and logged). A
 * second signal exits 1 at once: the operator has asked twice.
 *
 * A process a launcher supervises (`tessera playground` sets `TESSERA_SUPERVISOR_PID` in its
 * children's environment) does not act on SIGINT: a Ctrl-C in the terminal reaches the
 * whole process group at once, and the launcher then stops its children one by one, newest
 * first, with SIGTERM — SQL nodes before the KV nodes and PD they still need while they
 * stop. If no SIGTERM follows (the launcher died), the child stops by itself when it sees
 * its launcher gone or after `limits.supervisedSigintWaitMs`.
 *
 * An uncaught exception (an `AssertionError` above all) or an unhandled rejection logs a
 * fatal line and exits 1 without running the stop hooks: the process's state is suspect,
 * so it must not keep acting on it; durable state is crash-safe by design and recovers
 * from disk on restart.
 */
import { AssertionError, describeError, limits } from "../base/mod.ts";
import type { Logger } from "./logger.ts";

/** An async step of shutdown (close a listener, flush a log, stop Raft ticks). */
export type StopHook = () => Promise<void>;

/** Options of `Lifecycle`. */
export interface LifecycleOptions {
  /** Where shutdown progress and fatal errors are logged. */
  readonly logger: Logger;
  /** Deadline for all stop hooks together, in ms; `limits.shutdownGraceMs` when absent. */
  readonly graceMs?: number;
  /** Ends the process; `process.exit` when absent (tests pass a recorder). */
  readonly exit?: (code: number) => void;
  /**
   * The pid of the launcher supervising this process, which stops it with SIGTERM on a
   * Ctrl-C; absent: `TESSERA_SUPERVISOR_PID` from the environment, if set.
   */
  readonly supervisorPid?: number;
}

/** The environment variable a launcher sets to its pid in the children it supervises. */
export const supervisorPidVariable = "TESSERA_SUPERVISOR_PID";

/** How often a supervised process that got SIGINT checks that its launcher is alive. */
const supervisorPollMs = 200;

function supervisorFromEnv(): number | undefined {
  const text = process.env[supervisorPidVariable];
  const pid = text === undefined ? NaN : Number(text);
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error: unknown) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The shutdown sequence of one process. Create one, register hooks, `install()` it. */
export class Lifecycle {
  private readonly logger: Logger;
  private readonly graceMs: number;
  private readonly exit: (code: number) => void;
  private readonly supervisorPid: number | undefined;
  private readonly hooks: { readonly name: string; readonly hook: StopHook }[] = [];
  private stopping: Promise<number> | undefined;
  private installed: { readonly signal: () => void; readonly fatal: () => void } | undefined;

  constructor(options: LifecycleOptions) {
    this.logger = options.logger;
    this.graceMs = options.graceMs ?? limits.shutdownGraceMs;
    this.exit = options.exit ?? ((code) => process.exit(code));
    this.supervisorPid = options.supervisorPid ?? supervisorFromEnv();
  }

  /** Registers a stop hook; hooks run in reverse registration order. */
  onStop(name: string, hook: StopHook): void {
    this.hooks.push({ name, hook });
  }

  /**
   * Handles SIGINT and SIGTERM (graceful stop, then exit), uncaught exceptions and
   * unhandled rejections (fatal log, exit 1) for this process.
   */
  install(): void {
    if (this.installed !== undefined) return;
    let waitingForSupervisor: NodeJS.Timeout | undefined;
    const onSignal = (signal: NodeJS.Signals): void => {
      clearInterval(waitingForSupervisor);
      waitingForSupervisor = undefined;
      if (this.stopping !== undefined) {
        this.logger.warn({ signal }, "second signal during shutdown, exiting now");
        this.exit(1);
        return;
      }
      this.logger.info({ signal }, "signal received, shutting down");
      this.stop(signal).then(
        (code) => this.exit(code),
        (error: unknown) => this.fatal(error, "shutdown failed"),
      );
    };
    const onException = (error: unknown): void => {
      const what = error instanceof AssertionError ? "invariant broken" : "uncaught exception";
      this.fatal(error, what);
    };
    const onRejection = (reason: unknown): void => this.fatal(reason, "unhandled rejection");
    const supervisor = this.supervisorPid;
    const onInterrupt = (signal: NodeJS.Signals): void => {
      if (supervisor === undefined || this.stopping !== undefined) {
        onSignal(signal);
        return;
      }
      if (waitingForSupervisor !== undefined) return;
      this.logger.info({ signal, supervisor },
        "signal received; the launcher stops this process in order, waiting for its SIGTERM");
      const since = Date.now();
      waitingForSupervisor = setInterval(() => {
        if (processAlive(supervisor) && Date.now() - since < limits.supervisedSigintWaitMs) {
          return;
        }
        this.logger.warn({ signal, supervisor }, "no SIGTERM from the launcher, stopping");
        onSignal(signal);
      }, supervisorPollMs);
    };
    process.on("SIGINT", onInterrupt);
    process.on("SIGTERM", onSignal);
    process.on("uncaughtException", onException);
    process.on("unhandledRejection", onRejection);
    this.installed = {
      signal: () => {
        clearInterval(waitingForSupervisor);
        process.off("SIGINT", onInterrupt);
        process.off("SIGTERM", onSignal);
      },
      fatal: () => {
        process.off("uncaughtException", onException);
        process.off("unhandledRejection", onRejection);
      },
    };
  }

  /** Removes the handlers `install()` added (for tests and embedding). */
  uninstall(): void {
    this.installed?.signal();
    this.installed?.fatal();
    this.installed = undefined;
  }

  /**
   * Runs the stop hooks once, newest first, within the grace deadline. Resolves with the
   * exit code: 0 if every hook finished, 1 if one failed or the deadline passed. Later
   * calls return the first call's result.
   */
  stop(reason: string): Promise<number> {
    this.stopping ??= this.runHooks(reason);
    return this.stopping;
  }

  private async runHooks(reason: string): Promise<number> {
    const hooks = [...this.hooks].reverse();
    let code = 0;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<"deadline">((resolve) => {
      timer = setTimeout(() => resolve("deadline"), this.graceMs);
    });
    try {
      for (const [position, { name, hook }] of hooks.entries()) {
        let outcome: "done" | "deadline";
        try {
          outcome = await Promise.race([
            (async () => {
              await hook();
              return "done" as const;
            })(),
            deadline,
          ]);
        } catch (error) {
          this.logger.error({ err: error, hook: name }, "stop hook failed");
          code = 1;
          continue;
        }
        if (outcome === "deadline") {
          const skipped = hooks.slice(position + 1).map((entry) => entry.name);
          this.logger.error(
            { hook: name, graceMs: this.graceMs, skipped },
            "shutdown deadline passed, exiting without finishing",
          );
          return 1;
        }
        this.logger.debug({ hook: name }, "stop hook done");
      }
    } finally {
      clearTimeout(timer);
    }
    this.logger.info({ reason, code }, "shutdown complete");
    return code;
  }

  private fatal(error: unknown, message: string): void {
    // describeError keeps the line useful even when `error` is not an Error.
    this.logger.fatal({ err: error, error: describeError(error) }, message);
    this.exit(1);
  }
}
