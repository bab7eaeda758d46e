/**
 * `ServerCall`: the `CallContext` of one call a server is serving.
 *
 * Its abort signal is made on first use: most handlers never look at it, and a server
 * answering tens of thousands of calls a second should not arm a deadline timer for each.
 * Once made, it aborts when the deadline passes (a timer on the `Env`), or when the
 * server calls `abort` (caller cancelled, connection lost, server closing), whichever is
 * first; after `finish` nothing aborts it any more.
 */
import { ErrorCode, TesseraError } from "../base/mod.ts";
import type { Timer } from "../env/mod.ts";
import type { CallContext, RpcEnv } from "./types.ts";

export interface ServerCallFields {
  readonly method: string;
  readonly remoteAddress: string;
  /** Absolute, on `env.clock.monotonicMs()`; `Infinity` for none. */
  readonly deadlineAtMs: number;
}

/** The context of one served call. */
export class ServerCall implements CallContext {
  readonly method: string;
  readonly remoteAddress: string;
  readonly deadlineAtMs: number;
  private readonly env: RpcEnv;
  private controller: AbortController | undefined;
  private timer: Timer | undefined;
  private reason: TesseraError | undefined;
  private done = false;

  constructor(env: RpcEnv, fields: ServerCallFields) {
    this.env = env;
    this.method = fields.method;
    this.remoteAddress = fields.remoteAddress;
    this.deadlineAtMs = fields.deadlineAtMs;
  }

  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.reason !== undefined) this.controller.abort(this.reason);
      else if (!this.done && Number.isFinite(this.deadlineAtMs)) this.armDeadline();
    }
    return this.controller.signal;
  }

  /** Aborts the signal with `reason`, unless the call already finished or was aborted. */
  abort(reason: TesseraError): void {
    if (this.done || this.reason !== undefined) return;
    this.reason = reason;
    this.timer?.cancel();
    this.timer = undefined;
    this.controller?.abort(reason);
  }

  /** The call is over: the deadline timer is cancelled and the signal never aborts. */
  finish(): void {
    this.done = true;
    this.timer?.cancel();
    this.timer = undefined;
  }

  private armDeadline(): void {
    const expire = (): void => {
      this.timer = undefined;
      this.abort(
        new TesseraError(ErrorCode.RpcDeadlineExceeded, `deadline of ${this.method} passed`),
      );
    };
    const remainingMs = this.deadlineAtMs - this.env.clock.monotonicMs();
    if (remainingMs <= 0) expire();
    else this.timer = this.env.timers.setTimeout(remainingMs, expire);
  }
}
