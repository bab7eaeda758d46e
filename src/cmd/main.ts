/**
 * The `tessera` command-line program: one binary, one subcommand per component.
 *
 * `main()` builds the commander program, registers every subcommand listed in
 * `commandRegistry`, and runs it. Usage errors (unknown command, bad argument) are
 * commander's: a message on stderr and exit code 1. A `TesseraError` escaping a command
 * (a bad config file, say) prints `error: <message>` and exits 1. Anything else is a bug
 * and propagates to Node (or to the `Lifecycle` fatal handler of a running server).
 *
 * Runnable directly (`node src/cmd/main.ts --help`) and through `bin/tessera.js`.
 */
import { Command } from "commander";
import { TesseraError } from "../base/mod.ts";
import { setDagExecutor } from "../expr/mod.ts";
import { registerClusterCommand } from "./cluster.ts";
import type { CommandContext, RegisterCommand } from "./command.ts";
import { registerCtlCommand } from "./ctl.ts";
import { registerKvCommand } from "./kv.ts";
import { registerPdCommand } from "./pd.ts";
import { registerPlaygroundCommand } from "./playground.ts";
import { registerSqlCommand } from "./sql.ts";
import { tesseraVersion } from "./version.ts";

/**
 * Every subcommand, in the order `--help` lists them. Components add theirs here as they
 * land: `pd`, `kv`, `pump`, `sql`, `drainer` (start order), then `playground`, `cluster`,
 * `dump`, `import`.
 */
export const commandRegistry: readonly RegisterCommand[] = [
  registerPdCommand,
  registerKvCommand,
  registerSqlCommand,
  registerPlaygroundCommand,
  registerClusterCommand,
  registerCtlCommand,
];

/** Adds every registered subcommand to `program`. */
export function registerCommands(program: Command, context: CommandContext): void {
  for (const register of commandRegistry) register(program, context);
}

/** The `tessera` program with `--version`, `--help` and every registered subcommand. */
export function buildProgram(context: CommandContext): Command {
  const program = new Command("tessera")
    .description("Tessera: a distributed, MySQL-compatible SQL database")
    .version(context.version, "-V, --version", "print the version")
    .helpOption("-h, --help", "show help")
    .showHelpAfterError("(run with --help for usage)");
  registerCommands(program, context);
  return program;
}

/**
 * Runs `program` on `argv` and resolves with the exit code for a `TesseraError` escaping
 * a command (1, after writing `error: <message>`), or 0. Other errors reject: they are bugs.
 */
export async function runProgram(
  program: Command,
  argv: readonly string[],
  options: { readonly from: "node" | "user"; readonly writeErr: (text: string) => void },
): Promise<number> {
  try {
    await program.parseAsync(argv, { from: options.from });
    return 0;
  } catch (error) {
    if (!(error instanceof TesseraError)) throw error;
    options.writeErr(`error: ${error.message}\n`);
    return 1;
  }
}

/** Runs the `tessera` program on `argv` (`process.argv` shape: node, script, arguments…). */
export async function main(argv: readonly string[]): Promise<void> {
  // KV nodes run pushed-down DAG requests on the vectorized executor unless
  // TESSERA_COPR_EXECUTOR=row picks the reference row executor (src/expr/batch).
  if (process.env["TESSERA_COPR_EXECUTOR"] === "row") setDagExecutor("row");
  const program = buildProgram({
    version: tesseraVersion,
    print: (text) => process.stdout.write(text),
  });
  const code = await runProgram(program, argv, {
    from: "node",
    writeErr: (text) => process.stderr.write(text),
  });
  // A command that failed with a TesseraError may have opened servers, timers or files
  // before the failure (a server whose port is taken): exit instead of lingering. Writes
  // to stdout/stderr are synchronous on Linux for files, pipes and terminals, so nothing
  // printed is lost.
  if (code !== 0) process.exit(code);
}

if (import.meta.main) await main(process.argv);
