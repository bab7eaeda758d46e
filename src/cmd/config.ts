/**
 * Typed configuration for Tessera processes, declared once per component.
 *
 * A component lists its options in one schema (`defineConfig`): name, type, default,
 * description and an optional range. From that single declaration `addConfigOptions` adds
 * the command-line flags (`--kebab-case`, plus `--config <file>`) and `loadConfig` builds
 * the typed, frozen config: defaults, overridden by the TOML file, overridden by flags.
 * Every value goes through the same parser whatever its source, so `"3s"` means the same
 * in a file and on the command line. An unknown key or a bad value is a `TesseraError`
 * that names the key and where it came from; nothing is ignored and nothing is guessed.
 *
 * Byte sizes follow SI and IEC: `KB`/`MB`/`GB` are powers of 1000, `KiB`/`MiB`/`GiB`
 * powers of 1024, a bare integer is bytes. Durations are sums of `<number><unit>` with
 * units `ms`, `s`, `m`, `h` (`"1m30s"`, `"500ms"`); a bare integer is milliseconds. Both
 * must come out as whole numbers (of bytes, of milliseconds).
 */
import { open } from "node:fs/promises";
import { resolve } from "node:path";
import { type Command, Option } from "commander";
import { TomlError, parse as parseToml } from "smol-toml";
import { ErrorCode, TesseraError, assert, limits } from "../base/mod.ts";

/** The kinds of value an option can hold. */
export type OptionType = "string" | "int" | "bool" | "duration-ms" | "bytes" | "address";

interface OptionCommon {
  /** One sentence for `--help`. */
  readonly description: string;
  /**
   * TOML table holding the key (`[raft]` → `election-timeout-ms` inside it); the flag is
   * then prefixed with the section (`--raft-election-timeout-ms`). Top level if absent.
   */
  readonly section?: string;
}

/** Inclusive bounds for numeric options, in the option's unit (ms, bytes). */
interface NumericBounds {
  readonly min?: number;
  readonly max?: number;
}

/** One option of a component: its type decides the type of `default` and of the value. */
export type OptionSpec =
  | (OptionCommon & {
      readonly type: "string";
      readonly default: string;
      /** When set, the value must be one of these. */
      readonly choices?: readonly string[];
    })
  | (OptionCommon & NumericBounds & { readonly type: "int"; readonly default: number })
  | (OptionCommon & { readonly type: "bool"; readonly default: boolean })
  | (OptionCommon & NumericBounds & { readonly type: "duration-ms"; readonly default: number })
  | (OptionCommon & NumericBounds & { readonly type: "bytes"; readonly default: number })
  | (OptionCommon & { readonly type: "address"; readonly default: string });

/** A component's options, keyed by camelCase name (`dataDir` → `--data-dir`, `data-dir`). */
export type ConfigSchema = Readonly<Record<string, OptionSpec>>;

type ValueOf<S extends OptionSpec> = S["type"] extends "bool"
  ? boolean
  : S["type"] extends "string" | "address"
    ? string
    : number;

/** The parsed config of a schema: durations in ms, sizes in bytes, addresses `host:port`. */
export type ConfigOf<S extends ConfigSchema> = { readonly [K in keyof S]: ValueOf<S[K]> };

/** Raw values by option name, before defaults are applied. */
type PartialValues = Record<string, string | number | boolean>;

/** Where a raw value came from, for error messages and details. */
interface Origin {
  /** `config file /abs/pd.toml` or `command line`. */
  readonly label: string;
  readonly file?: string;
}

/** Option names that `addConfigOptions` or commander itself already use. */
const reservedNames = new Set(["config", "help", "version"]);

/**
 * Declares a component's options. Checks the declaration (names, defaults within range,
 * no two options with the same flag or key): a bad schema is a bug, so it asserts.
 */
export function defineConfig<S extends ConfigSchema>(schema: S): S {
  const flags = new Set<string>();
  const topLevelKeys = new Set<string>();
  const sections = new Set<string>();
  for (const [name, spec] of Object.entries(schema)) {
    assert(/^[a-z][a-zA-Z0-9]*$/.test(name), `config option name must be camelCase: ${name}`);
    assert(!reservedNames.has(name), `config option name is reserved: ${name}`);
    if (spec.section !== undefined) {
      assert(/^[a-z][a-zA-Z0-9]*$/.test(spec.section), `bad section name: ${spec.section}`);
      sections.add(kebabCase(spec.section));
    } else {
      topLevelKeys.add(kebabCase(name));
    }
    const flag = flagName(name, spec);
    assert(!flags.has(flag), `two config options have the flag --${flag}`);
    flags.add(flag);
    const checked = checkValue(spec, spec.default);
    assert(typeof checked === "object", `default of config option ${name}: ${String(checked)}`);
  }
  for (const section of sections) {
    assert(!topLevelKeys.has(section), `config section ${section} is also a top-level key`);
  }
  return schema;
}

/**
 * Adds `--config <file>` and one flag per option to `command`. Flags carry no commander
 * default, so `loadConfig` can tell "not given" from "given the default value".
 */
export function addConfigOptions(command: Command, schema: ConfigSchema): Command {
  command.option("--config <file>", "TOML config file; flags override its values");
  for (const [name, spec] of Object.entries(schema)) {
    for (const option of commanderOptions(name, spec)) command.addOption(option);
  }
  return command;
}

/**
 * The config for `command`'s invocation: defaults < the `--config` file < flags.
 * Throws a `TesseraError` (`Config:*`) for an unreadable, oversized or malformed file, an
 * unknown key or a bad value.
 */
export async function loadConfig<S extends ConfigSchema>(
  schema: S,
  command: Command,
): Promise<ConfigOf<S>> {
  const given = command.opts();
  const configFile = given["config"];
  const fileValues = typeof configFile === "string" ? await readConfigFile(schema, configFile) : {};
  const flagValues: PartialValues = {};
  for (const [name, spec] of Object.entries(schema)) {
    const raw: unknown = given[commanderOptions(name, spec)[0]!.attributeName()];
    if (raw === undefined) continue;
    flagValues[name] = parseValue(spec, raw, {
      origin: { label: "command line" },
      key: `--${flagName(name, spec)}`,
    });
  }
  return resolveConfig(schema, { fileValues, flagValues });
}

/** Reads and parses a TOML config file; see `parseConfigText`. */
export async function readConfigFile(schema: ConfigSchema, path: string): Promise<PartialValues> {
  const file = resolve(path);
  const origin: Origin = { label: `config file ${file}`, file };
  let bytes: Uint8Array;
  try {
    const handle = await open(file, "r");
    try {
      // Read one byte past the limit rather than trusting a size from stat: the file may
      // be a pipe or may grow while we read it.
      const buffer = new Uint8Array(limits.configFileBytesMax + 1);
      let length = 0;
      for (;;) {
        const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
        if (bytesRead === 0) break;
        length += bytesRead;
        if (length === buffer.length) break;
      }
      bytes = buffer.subarray(0, length);
    } finally {
      await handle.close();
    }
  } catch (error) {
    throw new TesseraError(
      ErrorCode.ConfigFileUnreadable,
      `${origin.label}: cannot read: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error, details: { file } },
    );
  }
  if (bytes.length > limits.configFileBytesMax) {
    throw new TesseraError(
      ErrorCode.ConfigFileTooLarge,
      `${origin.label}: larger than ${limits.configFileBytesMax} bytes`,
      { details: { file, limit: limits.configFileBytesMax } },
    );
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch (error) {
    throw new TesseraError(ErrorCode.ConfigParse, `${origin.label}: not valid UTF-8`, {
      cause: error,
      details: { file },
    });
  }
  return parseConfigTextAt(schema, text, origin);
}

/**
 * Parses the text of a TOML config file into raw option values (no defaults applied).
 * `file` names the file in error messages.
 */
export function parseConfigText(schema: ConfigSchema, text: string, file: string): PartialValues {
  return parseConfigTextAt(schema, text, { label: `config file ${file}`, file });
}

/** Merges defaults, file values and flag values, in that order of precedence. */
export function resolveConfig<S extends ConfigSchema>(
  schema: S,
  sources: { readonly fileValues?: PartialValues; readonly flagValues?: PartialValues },
): ConfigOf<S> {
  const config: Record<string, string | number | boolean> = {};
  for (const [name, spec] of Object.entries(schema)) {
    config[name] = sources.flagValues?.[name] ?? sources.fileValues?.[name] ?? spec.default;
  }
  return Object.freeze(config) as ConfigOf<S>;
}

/**
 * Parses a duration (`"3s"`, `"500ms"`, `"1m30s"`, `"1.5h"`, or a bare integer of ms)
 * into whole milliseconds. Returns an error string instead of throwing.
 */
export function parseDurationMs(text: string): number | string {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) return toSafeInteger(BigInt(trimmed), "duration");
  const part = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  const unitMs: Record<string, bigint> = { ms: 1n, s: 1000n, m: 60_000n, h: 3_600_000n };
  let total = 0n;
  let end = 0;
  for (let match = part.exec(trimmed); match !== null; match = part.exec(trimmed)) {
    const scaled = scaleDecimal(match[1]!, unitMs[match[2]!]!);
    if (scaled === undefined) return `${match[0]} is not a whole number of milliseconds`;
    total += scaled;
    end = part.lastIndex;
  }
  if (end === 0 || end !== trimmed.length) {
    return `expected a duration like "500ms", "3s", "1m30s", got ${JSON.stringify(text)}`;
  }
  return toSafeInteger(total, "duration");
}

/**
 * Parses a byte size (`"64MiB"`, `"1GB"`, `"1.5 KiB"`, or a bare integer of bytes) into
 * whole bytes. Returns an error string instead of throwing.
 */
export function parseBytes(text: string): number | string {
  const match = /^(\d+(?:\.\d+)?)\s*([a-zA-Z]*)$/.exec(text.trim());
  const unit = match?.[2] === undefined ? undefined : byteUnits.get(match[2].toLowerCase());
  if (match === null || unit === undefined) {
    return `expected a size like "512KiB", "64MiB", "1GB", got ${JSON.stringify(text)}`;
  }
  const scaled = scaleDecimal(match[1]!, unit);
  if (scaled === undefined) return `${JSON.stringify(text)} is not a whole number of bytes`;
  return toSafeInteger(scaled, "size");
}

/**
 * Splits a `host:port` address (`127.0.0.1:2379`, `localhost:0`, `[::1]:4000`) into its
 * parts, without the IPv6 brackets. Returns an error string instead of throwing.
 */
export function splitAddress(text: string): { host: string; port: number } | string {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9._-]+)):(\d{1,5})$/.exec(text);
  const port = Number(match?.[3]);
  if (match === null || port > 65535) {
    return `expected host:port (port 0..65535), got ${JSON.stringify(text)}`;
  }
  return { host: match[1] ?? match[2]!, port };
}

/** Formats a byte count with the largest IEC unit that divides it (`64MiB`). */
export function formatBytes(bytes: number): string {
  for (const [unit, size] of [["TiB", 2 ** 40], ["GiB", 2 ** 30], ["MiB", 2 ** 20]] as const) {
    if (bytes !== 0 && bytes % size === 0) return `${bytes / size}${unit}`;
  }
  if (bytes !== 0 && bytes % 1024 === 0) return `${bytes / 1024}KiB`;
  return `${bytes}B`;
}

/** Formats milliseconds with the largest unit that divides them (`3s`, `1500ms`). */
export function formatDurationMs(ms: number): string {
  for (const [unit, size] of [["h", 3_600_000], ["m", 60_000], ["s", 1000]] as const) {
    if (ms !== 0 && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

const byteUnits = new Map<string, bigint>([
  ["", 1n],
  ["b", 1n],
  ["kb", 1000n],
  ["mb", 1000n ** 2n],
  ["gb", 1000n ** 3n],
  ["tb", 1000n ** 4n],
  ["pb", 1000n ** 5n],
  ["kib", 1024n],
  ["mib", 1024n ** 2n],
  ["gib", 1024n ** 3n],
  ["tib", 1024n ** 4n],
  ["pib", 1024n ** 5n],
]);

/** `digits` (a decimal like "1.5") times `unit`, exactly; undefined if not a whole number. */
function scaleDecimal(digits: string, unit: bigint): bigint | undefined {
  const [whole, fraction = ""] = digits.split(".");
  const denominator = 10n ** BigInt(fraction.length);
  const numerator = BigInt(`${whole}${fraction}`) * unit;
  if (numerator % denominator !== 0n) return undefined;
  return numerator / denominator;
}

function toSafeInteger(value: bigint, what: string): number | string {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) return `${what} is too large`;
  return Number(value);
}

function kebabCase(name: string): string {
  return name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
}

function flagName(name: string, spec: OptionSpec): string {
  const key = kebabCase(name);
  return spec.section === undefined ? key : `${kebabCase(spec.section)}-${key}`;
}

/** The key of an option in the TOML file, qualified by its section for messages. */
function qualifiedKey(name: string, spec: OptionSpec): string {
  const key = kebabCase(name);
  return spec.section === undefined ? key : `${kebabCase(spec.section)}.${key}`;
}

/** The commander options for one config option; the first one holds its value. */
function commanderOptions(name: string, spec: OptionSpec): Option[] {
  const flag = flagName(name, spec);
  const description = `${spec.description} (default: ${formatDefault(spec)})`;
  switch (spec.type) {
    case "bool":
      return [
        new Option(`--${flag}`, description),
        new Option(`--no-${flag}`, `turn off --${flag}`),
      ];
    case "string": {
      const option = new Option(`--${flag} <string>`, description);
      return [spec.choices === undefined ? option : option.choices(spec.choices)];
    }
    case "int":
      return [new Option(`--${flag} <int>`, description)];
    case "duration-ms":
      return [new Option(`--${flag} <duration>`, description)];
    case "bytes":
      return [new Option(`--${flag} <bytes>`, description)];
    case "address":
      return [new Option(`--${flag} <host:port>`, description)];
  }
}

function formatDefault(spec: OptionSpec): string {
  switch (spec.type) {
    case "duration-ms":
      return formatDurationMs(spec.default);
    case "bytes":
      return formatBytes(spec.default);
    case "string":
    case "address":
      return JSON.stringify(spec.default);
    case "int":
    case "bool":
      return String(spec.default);
  }
}

function parseConfigTextAt(schema: ConfigSchema, text: string, origin: Origin): PartialValues {
  let document: Record<string, unknown>;
  try {
    document = parseToml(text);
  } catch (error) {
    if (!(error instanceof TomlError)) throw error;
    // smol-toml's message is "Invalid TOML document: <reason>\n\n<code excerpt>".
    const reason = error.message.split("\n")[0]!.replace(/^Invalid TOML document: /, "");
    throw new TesseraError(
      ErrorCode.ConfigParse,
      `${origin.label}: line ${error.line}, column ${error.column}: ${reason}`,
      { cause: error, details: { file: origin.file, line: error.line, column: error.column } },
    );
  }
  const byKey = new Map<string, [string, OptionSpec]>();
  const sections = new Set<string>();
  for (const [name, spec] of Object.entries(schema)) {
    byKey.set(qualifiedKey(name, spec), [name, spec]);
    if (spec.section !== undefined) sections.add(kebabCase(spec.section));
  }
  const values: PartialValues = {};
  const visit = (table: Record<string, unknown>, prefix: string): void => {
    for (const [key, raw] of Object.entries(table)) {
      const qualified = `${prefix}${key}`;
      if (prefix === "" && sections.has(key)) {
        if (!isTable(raw)) {
          throw badValue(origin, qualified, `expected a table ([${key}]), got ${describe(raw)}`);
        }
        visit(raw, `${key}.`);
        continue;
      }
      const entry = byKey.get(qualified);
      if (entry === undefined) {
        throw new TesseraError(
          ErrorCode.ConfigUnknownKey,
          `${origin.label}: unknown key ${JSON.stringify(qualified)}`,
          { details: { file: origin.file, key: qualified } },
        );
      }
      const [name, spec] = entry;
      values[name] = parseValue(spec, raw, { origin, key: JSON.stringify(qualified) });
    }
  };
  visit(document, "");
  return values;
}

/** A TOML table: smol-toml makes them as plain objects without a prototype. */
function isTable(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === null || prototype === Object.prototype;
}

/** A short description of a raw TOML or flag value, for error messages. */
function describe(raw: unknown): string {
  if (typeof raw === "string") return JSON.stringify(raw);
  if (Array.isArray(raw)) return "an array";
  if (raw instanceof Date) return `the date ${raw.toISOString()}`;
  if (typeof raw === "object" && raw !== null) return "a table";
  return String(raw);
}

function badValue(origin: Origin, key: string, reason: string): TesseraError {
  const message = `${origin.label}: bad value for ${key}: ${reason}`;
  return new TesseraError(ErrorCode.ConfigBadValue, message, {
    details: { file: origin.file, key },
  });
}

/** Parses one raw value (a TOML value or a flag's string/boolean) and checks its range. */
function parseValue(
  spec: OptionSpec,
  raw: unknown,
  where: { readonly origin: Origin; readonly key: string },
): string | number | boolean {
  const checked = checkValue(spec, raw);
  if (typeof checked === "string") throw badValue(where.origin, where.key, checked);
  return checked.value;
}

/** Parses and range-checks a raw value: `{ value }`, or the reason it is bad. */
function checkValue(
  spec: OptionSpec,
  raw: unknown,
): { readonly value: string | number | boolean } | string {
  switch (spec.type) {
    case "string":
      if (typeof raw !== "string") return `expected a string, got ${describe(raw)}`;
      if (spec.choices !== undefined && !spec.choices.includes(raw)) {
        return `expected one of ${spec.choices.join(", ")}, got ${describe(raw)}`;
      }
      return { value: raw };
    case "bool":
      if (typeof raw !== "boolean") return `expected true or false, got ${describe(raw)}`;
      return { value: raw };
    case "address": {
      if (typeof raw !== "string") return `expected a "host:port" string, got ${describe(raw)}`;
      const split = splitAddress(raw);
      return typeof split === "string" ? split : { value: raw };
    }
    case "int": {
      let value: number;
      if (typeof raw === "number") {
        value = raw;
      } else if (typeof raw === "string" && /^[+-]?\d+$/.test(raw.trim())) {
        value = Number(raw.trim());
      } else {
        return `expected an integer, got ${describe(raw)}`;
      }
      if (!Number.isSafeInteger(value)) return `expected an integer, got ${describe(raw)}`;
      return checkRange(spec, value, String);
    }
    case "duration-ms":
    case "bytes": {
      const format = spec.type === "bytes" ? formatBytes : formatDurationMs;
      const parse = spec.type === "bytes" ? parseBytes : parseDurationMs;
      let value: number | string;
      if (typeof raw === "number") {
        value = Number.isSafeInteger(raw) && raw >= 0
          ? raw
          : `expected a whole number >= 0, got ${describe(raw)}`;
      } else if (typeof raw === "string") {
        value = parse(raw);
      } else {
        value = `expected a string or an integer, got ${describe(raw)}`;
      }
      return typeof value === "string" ? value : checkRange(spec, value, format);
    }
  }
}

function checkRange(
  spec: NumericBounds,
  value: number,
  format: (value: number) => string,
): { readonly value: number } | string {
  if (spec.min !== undefined && value < spec.min) {
    return `${format(value)} is below the minimum ${format(spec.min)}`;
  }
  if (spec.max !== undefined && value > spec.max) {
    return `${format(value)} is above the maximum ${format(spec.max)}`;
  }
  return { value };
}
