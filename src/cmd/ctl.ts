/**
 * `tessera ctl`: inspect and operate a cluster (the pd-ctl counterpart), over the PD HTTP
 * API (`--pd-http host:port`, the PD's `--status-addr`; 127.0.0.1:2380 by default).
 *
 * Subcommands: `stores`, `store <id>`, `shards`, `shard <id>`, `shard --key <key>`,
 * `split <shardId> <key>`, `transfer-leader <shardId> <storeId>`, `schedulers`,
 * `scheduler add|remove <name>`, `operators`, `config show`, `config set key=value…`,
 * `gc safepoint`, and the offline `tso decode <timestamp>`, which splits a TSO timestamp
 * (`physicalMs << 18 | logical`) into its wall-clock time and logical counter. Output is
 * a table (lists) or `key: value` lines (one object) for people, one JSON line with
 * `--json` for scripts. A PD error is printed with PD's message and code, and exits 1
 * (`Cmd:Ctl:PdRequestFailed`); an unreachable PD likewise (`Cmd:Ctl:PdUnreachable`).
 */
import { type Command, InvalidArgumentError } from "commander";
import {
  ErrorCode,
  TesseraError,
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
  addPdCommands(ctl, context);
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

/** Options every PD subcommand takes. */
interface PdOptions {
  readonly pdHttp: string;
  readonly json?: boolean;
}

/** Longest wait for one PD HTTP request. */
const pdRequestTimeoutMs = 10_000;

/**
 * Sends one request to the PD HTTP API and returns its JSON body. Throws
 * `Cmd:Ctl:PdUnreachable` when PD does not answer and `Cmd:Ctl:PdRequestFailed` (with
 * PD's message and code) for an error status.
 */
export async function pdRequest(
  pdHttp: string,
  request: { readonly method: string; readonly path: string; readonly body?: unknown },
): Promise<unknown> {
  const url = `http://${pdHttp}/pd/api/v1/${request.path}`;
  let response: Response;
  try {
    response = await fetch(url, {
      method: request.method,
      signal: AbortSignal.timeout(pdRequestTimeoutMs),
      ...(request.body === undefined
        ? {}
        : { body: JSON.stringify(request.body), headers: { "content-type": "application/json" } }),
    });
  } catch (error) {
    const cause = (error as { cause?: { message?: string } }).cause?.message;
    throw new TesseraError(ErrorCode.CtlPdUnreachable,
      `cannot reach PD at http://${pdHttp}: ${cause ?? String(error)}`, { cause: error });
  }
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = { error: text };
  }
  if (!response.ok) {
    const { error, code } = body as { error?: unknown; code?: unknown };
    const detail = typeof code === "string" ? ` (${code})` : "";
    throw new TesseraError(ErrorCode.CtlPdRequestFailed,
      `PD refused ${request.method} ${request.path}: ${String(error ?? response.status)}${detail}`,
      { details: { status: response.status, pdCode: code } });
  }
  return body;
}

/** One table cell: peers as their store ids, other objects as compact JSON. */
function cell(value: unknown): string {
  if (value === null || value === undefined) return "-";
  if (typeof value !== "object") return value === "" ? "\"\"" : String(value);
  if (Array.isArray(value)) {
    return value
      .map((item) =>
        typeof item === "object" && item !== null && "storeId" in item
          ? String((item as { storeId: unknown }).storeId)
          : cell(item))
      .join(",");
  }
  if ("storeId" in value) return String((value as { storeId: unknown }).storeId);
  return JSON.stringify(value);
}

/**
 * A row with its nested objects (a store's `stats`, a shard's `epoch`) spread into columns
 * of their own, so a table stays readable; peers and leaders stay one cell.
 */
function flattenRow(row: Record<string, unknown>): Record<string, unknown> {
  const flat: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) {
    const nested = typeof value === "object" && value !== null && !Array.isArray(value) &&
      !("storeId" in value);
    if (!nested) {
      flat[key] = value;
      continue;
    }
    for (const [inner, innerValue] of Object.entries(value)) {
      flat[inner in row || inner in flat ? `${key}.${inner}` : inner] = innerValue;
    }
  }
  return flat;
}

/** A list of objects as an aligned text table, one column per key (first-seen order). */
export function formatTable(objects: readonly object[]): string {
  if (objects.length === 0) return "(none)\n";
  const rows = objects.map((o) => flattenRow(o as Record<string, unknown>));
  const columns = [...new Set(rows.flatMap((row) => Object.keys(row)))];
  const cells = rows.map((row) => columns.map((column) => cell(row[column])));
  const widths = columns.map((column, i) =>
    Math.max(column.length, ...cells.map((line) => line[i]?.length ?? 0)));
  const format = (line: readonly string[]): string =>
    `${line.map((text, i) => text.padEnd(widths[i] ?? 0)).join("  ").trimEnd()}\n`;
  return format(columns) + cells.map(format).join("");
}

/** One object as `key: value` lines. */
function formatObject(value: Record<string, unknown>): string {
  const width = Math.max(...Object.keys(value).map((key) => key.length));
  return Object.entries(value)
    .map(([key, v]) => `${`${key}:`.padEnd(width + 1)} ${cell(v)}\n`)
    .join("");
}

/**
 * A `--key` argument as hex: an even-length hex string (optionally `0x`-prefixed) is taken
 * as bytes, anything else as UTF-8 text; `asString` forces text.
 */
export function keyArgumentToHex(text: string, options: { readonly asString: boolean }): string {
  const hex = text.startsWith("0x") ? text.slice(2) : text;
  if (!options.asString && /^([0-9a-fA-F]{2})*$/.test(hex)) return hex.toLowerCase();
  return Buffer.from(text, "utf8").toString("hex");
}

/**
 * `config set` arguments (`key=value`, dotted keys for nested settings) as the JSON object
 * PD's config endpoint takes; values are JSON where they parse (`0`, `true`), else text.
 */
export function configAssignments(assignments: readonly string[]): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const assignment of assignments) {
    const at = assignment.indexOf("=");
    if (at <= 0) {
      throw new TesseraError(ErrorCode.ConfigBadValue, `expected key=value, got ${assignment}`);
    }
    const path = assignment.slice(0, at).split(".");
    const raw = assignment.slice(at + 1);
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      value = raw;
    }
    let target = result;
    for (const part of path.slice(0, -1)) {
      const next = target[part];
      if (typeof next === "object" && next !== null) target = next as Record<string, unknown>;
      else target = target[part] = {};
    }
    target[path.at(-1) ?? ""] = value;
  }
  return result;
}

function positiveIntArgument(text: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1 || !Number.isSafeInteger(Number(text))) {
    throw new InvalidArgumentError(`expected a positive integer, got ${JSON.stringify(text)}`);
  }
  return Number(text);
}

function addPdCommands(ctl: Command, context: CommandContext): void {
  // Every PD subcommand: its own --pd-http and --json, a request, then the output.
  const pdCommand = (parent: Command, name: string, description: string): Command =>
    parent
      .command(name)
      .description(description)
      .option("--pd-http <host:port>", "PD HTTP API address (its --status-addr)",
        "127.0.0.1:2380")
      .option("--json", "print one JSON line instead of text");
  const show = (options: PdOptions, value: unknown, listKey?: string): void => {
    if (options.json === true) {
      context.print(`${JSON.stringify(value)}\n`);
      return;
    }
    const list = listKey === undefined ? undefined : (value as Record<string, unknown>)[listKey];
    if (Array.isArray(list)) context.print(formatTable(list as Record<string, unknown>[]));
    else context.print(formatObject(value as Record<string, unknown>));
  };
  const get = (options: PdOptions, path: string): Promise<unknown> =>
    pdRequest(options.pdHttp, { method: "GET", path });
  pdCommand(ctl, "stores", "list the stores (KV nodes) PD knows")
    .action(async (options: PdOptions) => show(options, await get(options, "stores"), "stores"));
  pdCommand(ctl, "store", "show one store")
    .argument("<id>", "store id", positiveIntArgument)
    .action(async (id: number, options: PdOptions) =>
      show(options, await get(options, `stores/${id}`)));
  pdCommand(ctl, "shards", "list the shards (key ranges) and their peers")
    .option("--limit <n>", "at most this many shards", positiveIntArgument)
    .action(async (options: PdOptions & { limit?: number }) => {
      const query = options.limit === undefined ? "" : `?limit=${options.limit}`;
      show(options, await get(options, `shards${query}`), "shards");
    });
  pdCommand(ctl, "shard", "show one shard, by id or by a key it covers")
    .argument("[id]", "shard id", positiveIntArgument)
    .option("--key <key>", "a key: hex bytes (even-length hex) or else UTF-8 text")
    .option("--string", "take --key as UTF-8 text even if it looks like hex")
    .action(async (id: number | undefined,
      options: PdOptions & { key?: string; string?: boolean }) => {
      if ((id === undefined) === (options.key === undefined)) {
        throw new TesseraError(ErrorCode.ConfigBadValue, "shard: give a shard id or --key");
      }
      const path = id === undefined
        ? `shards/key/${keyArgumentToHex(options.key ?? "", { asString: options.string === true })}`
        : `shards/${id}`;
      show(options, await get(options, path));
    });
  pdCommand(ctl, "split", "split a shard at a key (an operator PD runs)")
    .argument("<shardId>", "shard id", positiveIntArgument)
    .argument("<key>", "split key: hex bytes (even-length hex) or else UTF-8 text")
    .option("--string", "take the key as UTF-8 text even if it looks like hex")
    .action(async (shardId: number, key: string, options: PdOptions & { string?: boolean }) => {
      const keys = [keyArgumentToHex(key, { asString: options.string === true })];
      show(options, await pdRequest(options.pdHttp,
        { method: "POST", path: "operators", body: { kind: "split", shardId, keys } }));
    });
  pdCommand(ctl, "transfer-leader", "move a shard's Raft leader to a store")
    .argument("<shardId>", "shard id", positiveIntArgument)
    .argument("<storeId>", "store to lead the shard", positiveIntArgument)
    .action(async (shardId: number, toStoreId: number, options: PdOptions) => {
      show(options, await pdRequest(options.pdHttp, {
        method: "POST",
        path: "operators",
        body: { kind: "transferLeader", shardId, toStoreId },
      }));
    });
  pdCommand(ctl, "schedulers", "list the schedulers and whether each runs")
    .action(async (options: PdOptions) =>
      show(options, await get(options, "schedulers"), "schedulers"));
  const scheduler = ctl.command("scheduler").description("turn a scheduler on or off");
  for (const [verb, method] of [["add", "POST"], ["remove", "DELETE"]] as const) {
    pdCommand(scheduler, verb, `${verb === "add" ? "enable" : "disable"} a scheduler`)
      .argument("<name>", "scheduler name (see `ctl schedulers`)")
      .action(async (name: string, options: PdOptions) => {
        const path = `schedulers/${encodeURIComponent(name)}`;
        show(options, await pdRequest(options.pdHttp, { method, path }), "schedulers");
      });
  }
  pdCommand(ctl, "operators", "list the operators in flight")
    .action(async (options: PdOptions) =>
      show(options, await get(options, "operators"), "operators"));
  const config = ctl.command("config").description("PD's scheduling config");
  pdCommand(config, "show", "show the config")
    .action(async (options: PdOptions) => show(options, await get(options, "config")));
  pdCommand(config, "set", "change settings (dotted keys for nested ones)")
    .argument("<key=value...>", "settings, e.g. maxStoreDownTimeMs=600000")
    .action(async (assignments: string[], options: PdOptions) => {
      const body = configAssignments(assignments);
      show(options, await pdRequest(options.pdHttp, { method: "PUT", path: "config", body }));
    });
  const gc = ctl.command("gc").description("garbage collection of old versions");
  pdCommand(gc, "safepoint", "show the GC safe point")
    .action(async (options: PdOptions) => show(options, await get(options, "gc/safepoint")));
}
