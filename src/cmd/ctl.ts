/**
 * `tessera ctl`: inspect and operate a cluster (the pd-ctl / tikv-ctl counterpart).
 *
 * For now it has the offline subcommand `tso decode <timestamp>`, which splits a TSO
 * timestamp (`physicalMs << 18 | logical`) into its wall-clock time and logical counter.
 * Subcommands that talk to PD (stores, shards, schedulers, split, GC) join it when the
 * PD client exists.
 */
import { type Command, InvalidArgumentError } from "commander";
import {
  type Timestamp,
  asTimestamp,
  decomposeTimestamp,
  formatTimestamp,
  maxTimestamp,
} from "../base/mod.ts";
import type { CommandContext, RegisterCommand } from "./command.ts";

/**
 * Parses a TSO timestamp given on the command line: a decimal unsigned 64-bit integer.
 * Throws commander's `InvalidArgumentError`, so the CLI prints a usage error and exits 1.
 */
export function parseTimestampArgument(text: string): Timestamp {
  if (!/^\d+$/.test(text)) {
    throw new InvalidArgumentError(`expected a decimal TSO timestamp, got ${JSON.stringify(text)}`);
  }
  const value = BigInt(text);
  if (value > maxTimestamp) {
    throw new InvalidArgumentError(`${text} does not fit in 64 bits (max ${maxTimestamp})`);
  }
  return asTimestamp(value);
}

/** The text `tso decode` prints: the time and the logical counter, or one JSON object. */
export function describeTimestamp(ts: Timestamp, options: { readonly json: boolean }): string {
  const { physicalMs, logical } = decomposeTimestamp(ts);
  const physical = new Date(physicalMs).toISOString();
  if (options.json) {
    return `${JSON.stringify({ timestamp: ts.toString(), physical, physicalMs, logical })}\n`;
  }
  return [
    formatTimestamp(ts),
    `physical: ${physical} (${physicalMs} ms since the Unix epoch)`,
    `logical:  ${logical}`,
    "",
  ].join("\n");
}

/** Registers `tessera ctl` and its subcommands. */
export const registerCtlCommand: RegisterCommand = (program, context) => {
  const ctl = program.command("ctl").description("inspect and operate a Tessera cluster");
  const tso = ctl.command("tso").description("TSO timestamps");
  addTsoDecode(tso, context);
};

function addTsoDecode(tso: Command, context: CommandContext): void {
  tso
    .command("decode")
    .description("split a TSO timestamp into its physical time (UTC) and logical counter")
    .argument("<timestamp>", "timestamp as a decimal integer", parseTimestampArgument)
    .option("--json", "print one JSON object instead of text")
    .action((ts: Timestamp, options: { json?: boolean }) => {
      context.print(describeTimestamp(ts, { json: options.json === true }));
    });
}
