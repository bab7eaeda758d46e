/**
 * Structured logs for Tessera processes: pino JSON lines on stderr.
 *
 * Every process makes one root logger with `createLogger`, bound to its component name
 * (`pd`, `kv`, …) and to the level chosen by `--log-level`; modules take child loggers
 * with `childLogger` so each line carries where it came from (`{ "shard": 12 }`). Lines
 * are written synchronously: a fatal line logged just before `process.exit` must not be
 * lost in a buffer, and Tessera logs events, not per-request traces.
 */
import pino from "pino";
import { defineConfig } from "./config.ts";

/** A pino logger; the only logger type Tessera code passes around. */
export type Logger = pino.Logger;

/** The levels `--log-level` accepts, most verbose first. */
export const logLevels = ["trace", "debug", "info", "warn", "error", "fatal", "silent"] as const;

/** A log level name. */
export type LogLevel = (typeof logLevels)[number];

/** The logging options every process declares (spread into its config schema). */
export const logConfig = defineConfig({
  logLevel: {
    type: "string",
    default: "info",
    choices: logLevels,
    description: "least severe level that is logged",
  },
});

/** Options of `createLogger`. */
export interface CreateLoggerOptions {
  /** The component this process runs (`pd`, `kv`, `sql`, …); bound as `component`. */
  readonly component: string;
  /** Least severe level logged. */
  readonly level: string;
  /** Where lines go; stderr when absent (tests pass a stream to read them back). */
  readonly destination?: pino.DestinationStream;
}

/** The root logger of a process: JSON lines with `time` (ISO), `level` (name), `component`. */
export function createLogger(options: CreateLoggerOptions): Logger {
  const destination = options.destination ?? pino.destination({ dest: 2, sync: true });
  return pino(
    {
      level: options.level,
      base: { pid: process.pid, component: options.component },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}

/** A logger that adds `bindings` (such as `{ module: "tso" }`) to every line of `parent`. */
export function childLogger(parent: Logger, bindings: Readonly<Record<string, unknown>>): Logger {
  return parent.child(bindings);
}
