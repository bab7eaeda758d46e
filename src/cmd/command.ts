/**
 * The shape every `tessera` subcommand plugs into.
 *
 * Each component's subcommand lives in its own file (`ctl.ts` now; `pd.ts`, `kv.ts`,
 * `sql.ts`, `pump.ts`, `drainer.ts`, `playground.ts`, `cluster.ts`, `dump.ts`, `import.ts`
 * as their components land) and exports one `RegisterCommand`, which `main.ts` lists in
 * `commandRegistry`. A command reads its options through `config.ts`, logs through
 * `logger.ts`, serves `/metrics` and `/status` through `status_server.ts` and stops through
 * `lifecycle.ts`; what it prints for people or scripts goes through `context.print`.
 */
import type { Command } from "commander";

/** What `main.ts` hands every command when it registers it. */
export interface CommandContext {
  /** This build's version (`package.json`). */
  readonly version: string;
  /** Writes a command's output (stdout in the real program; a buffer in tests). */
  readonly print: (text: string) => void;
}

/** Adds one subcommand (and its own subcommands) to the `tessera` program. */
export type RegisterCommand = (program: Command, context: CommandContext) => void;
