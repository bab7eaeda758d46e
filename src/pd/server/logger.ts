/**
 * `PdLogger`: where the PD server logs. Shaped like pino's methods (fields object first),
 * so the process's pino logger fits without an adapter while `pd` itself does not import
 * pino (an I/O module). Tests pass a recorder.
 */

/** The logging methods the PD server uses. */
export interface PdLogger {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

/** A logger that drops everything (tests that do not look at logs). */
export const silentPdLogger: PdLogger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
