/**
 * The clock option every server process declares (spread into its config schema, as
 * `logConfig` is): `--clock-offset-ms N` (or `clock-offset-ms = N` in the TOML file) runs
 * the process with its wall clock N ms ahead of the machine's (behind when negative).
 * It exists for fault runs that skew one process's clock without touching the system
 * clock; see `NodeClock` in `env/node/clock.ts`.
 */
import { clockOffsetMsMax } from "../env/mod.ts";
import { defineConfig } from "./config.ts";

/** The clock options of `tessera pd`, `tessera kv` and `tessera sql`. */
export const clockConfig = defineConfig({
  clockOffsetMs: {
    type: "int",
    default: 0,
    min: -clockOffsetMsMax,
    max: clockOffsetMsMax,
    description: "skew this process's wall clock by this many ms (fault testing; may be < 0)",
  },
});

/** Logs a warning at start-up when the process runs with a skewed clock. */
export function warnIfClockSkewed(
  logger: { warn(details: object, message: string): void },
  clockOffsetMs: number,
): void {
  if (clockOffsetMs !== 0) logger.warn({ clockOffsetMs }, "wall clock skewed on purpose");
}
