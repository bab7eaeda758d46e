/**
 * Small types shared by the RPC client and server: what they need from the `Env`, where
 * they log, and what a server handler learns about the call it serves.
 */
import type { Env } from "../env/mod.ts";

/** The parts of an `Env` the RPC layer uses. A whole `Env` fits. */
export type RpcEnv = Pick<Env, "net" | "timers" | "clock" | "buggify">;

/**
 * Where the RPC layer reports what it cannot hand to a caller: connections closed for bad
 * frames, failed accepts, dropped peers. Shaped like pino's methods (object first), so a
 * pino logger fits without an adapter; the RPC layer itself does not import pino.
 */
export interface RpcLogger {
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

/** What a server handler knows about the call it is serving. */
export interface CallContext {
  /** The method name the client called. */
  readonly method: string;
  /** `host:port` of the client. */
  readonly remoteAddress: string;
  /**
   * When the caller stops waiting, on this process's `clock.monotonicMs()`; `Infinity`
   * when the caller set no deadline.
   */
  readonly deadlineAtMs: number;
  /**
   * Aborts when the caller's deadline passes, the caller cancels (streams), the connection
   * closes or the server shuts down; `signal.reason` is the `TesseraError` saying which.
   * Created on first use, so handlers that never look cost no timer.
   */
  readonly signal: AbortSignal;
}
