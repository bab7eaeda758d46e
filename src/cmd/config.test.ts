/**
 * Tests of `config.ts`: schema checks, value parsers (durations, sizes, addresses), TOML
 * files with sections, precedence defaults < file < flags, and every error path with the
 * message an operator sees.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Command } from "commander";
import { AssertionError, ErrorCode, TesseraError, limits } from "../base/mod.ts";
import {
  type ConfigOf,
  type ConfigSchema,
  addConfigOptions,
  defineConfig,
  formatBytes,
  formatDurationMs,
  loadConfig,
  parseBytes,
  parseConfigText,
  parseDurationMs,
  readConfigFile,
  resolveConfig,
  splitAddress,
} from "./config.ts";

const timeout = 10_000;

const schema = defineConfig({
  name: { type: "string", default: "pd-1", description: "member name" },
  dataDir: { type: "string", default: "./data/pd", description: "where data lives" },
  clientAddr: { type: "address", default: "127.0.0.1:2379", description: "RPC address" },
  replicas: { type: "int", default: 3, min: 1, max: 7, description: "replicas per shard" },
  hibernate: { type: "bool", default: true, description: "let idle shards sleep" },
  logLevel: {
    type: "string",
    default: "info",
    choices: ["debug", "info", "warn"],
    description: "log level",
  },
  electionTimeoutMs: {
    type: "duration-ms",
    default: 1_000,
    min: 100,
    max: 60_000,
    section: "raft",
    description: "election timeout",
  },
  entryBytesMax: {
    type: "bytes",
    default: 8 * 1024 * 1024,
    max: 64 * 1024 * 1024,
    section: "raft",
    description: "largest Raft entry",
  },
  tickInterval: {
    type: "duration-ms",
    default: 100,
    section: "raft",
    description: "tick interval",
  },
});

/** Runs `fn` and returns the `TesseraError` it throws, checking its code. */
function expectError(fn: () => unknown, code: ErrorCode): TesseraError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof TesseraError, `expected a TesseraError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return error;
  }
  assert.fail(`expected ${code}`);
}

async function expectRejection(promise: Promise<unknown>, code: ErrorCode): Promise<TesseraError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof TesseraError, `expected a TesseraError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return error;
  }
  assert.fail(`expected ${code}`);
}

describe("defineConfig()", () => {
  const bad: [string, () => unknown][] = [
    ["a name that is not camelCase", () => defineConfig({ "data-dir": spec() })],
    ["a reserved name", () => defineConfig({ config: spec() })],
    [
      "two options with the same flag",
      () =>
        defineConfig({
          raftTick: spec(),
          tick: { ...spec(), section: "raft" },
        }),
    ],
    [
      "a default out of range",
      () => defineConfig({ n: { type: "int", default: 0, min: 1, description: "n" } }),
    ],
    [
      "a default that is not one of the choices",
      () => defineConfig({ s: { type: "string", default: "x", choices: ["y"], description: "s" } }),
    ],
    [
      "a default address without a port",
      () => defineConfig({ a: { type: "address", default: "localhost", description: "a" } }),
    ],
    [
      "a section named like a top-level key",
      () => defineConfig({ raft: spec(), tick: { ...spec(), section: "raft" } }),
    ],
  ];
  for (const [what, define] of bad) {
    test(`defineConfig() asserts on ${what}`, { timeout }, () => {
      assert.throws(define, AssertionError);
    });
  }

  test("defineConfig() returns the schema it was given", { timeout }, () => {
    const declared = { port: { type: "int", default: 1, description: "p" } } as const;
    assert.equal(defineConfig(declared), declared);
  });

  function spec(): ConfigSchema[string] {
    return { type: "string", default: "", description: "x" };
  }
});

describe("value parsers", () => {
  test("parseDurationMs() reads units, sums and bare milliseconds", { timeout }, () => {
    const cases: [string, number][] = [
      ["3s", 3_000],
      ["500ms", 500],
      ["1m30s", 90_000],
      ["1.5h", 5_400_000],
      ["0.25s", 250],
      ["2h1m1s1ms", 7_261_001],
      ["250", 250],
      ["0", 0],
      [" 3s ", 3_000],
    ];
    for (const [text, ms] of cases) assert.equal(parseDurationMs(text), ms, text);
  });

  test("parseDurationMs() explains what is wrong with a bad duration", { timeout }, () => {
    for (const text of ["", "3x", "s", "-1s", "1.5ms", "3 s", "1s2", "9999999999999999h"]) {
      const result = parseDurationMs(text);
      assert.equal(typeof result, "string", `${JSON.stringify(text)} gave ${result}`);
    }
    assert.match(String(parseDurationMs("1.5ms")), /whole number of milliseconds/);
    assert.match(String(parseDurationMs("9999999999999999h")), /too large/);
  });

  test("parseBytes() reads SI and IEC units and bare bytes", { timeout }, () => {
    const cases: [string, number][] = [
      ["64MiB", 64 * 1024 * 1024],
      ["1GB", 1_000_000_000],
      ["1gib", 1024 ** 3],
      ["1.5 KiB", 1536],
      ["512", 512],
      ["10B", 10],
      ["2kb", 2_000],
      ["1TiB", 1024 ** 4],
      ["0.5MB", 500_000],
    ];
    for (const [text, bytes] of cases) assert.equal(parseBytes(text), bytes, text);
  });

  test("parseBytes() explains what is wrong with a bad size", { timeout }, () => {
    for (const text of ["", "MiB", "-1", "64XB", "1.1B", "9PiB", "1,5MB"]) {
      const result = parseBytes(text);
      assert.equal(typeof result, "string", `${JSON.stringify(text)} gave ${result}`);
    }
    assert.match(String(parseBytes("1.1B")), /whole number of bytes/);
    assert.match(String(parseBytes("9PiB")), /too large/);
  });

  test("splitAddress() splits host:port, including bracketed IPv6", { timeout }, () => {
    assert.deepEqual(splitAddress("127.0.0.1:2379"), { host: "127.0.0.1", port: 2379 });
    assert.deepEqual(splitAddress("localhost:0"), { host: "localhost", port: 0 });
    assert.deepEqual(splitAddress("[::1]:4000"), { host: "::1", port: 4000 });
    assert.deepEqual(splitAddress("pd-1.example.com:65535"), {
      host: "pd-1.example.com",
      port: 65535,
    });
  });

  test("splitAddress() rejects addresses without a valid host or port", { timeout }, () => {
    for (const text of ["localhost", ":2379", "host:", "host:65536", "::1:80", "a b:1", "h:1x"]) {
      assert.equal(typeof splitAddress(text), "string", text);
    }
  });

  test("formatBytes() and formatDurationMs() pick the largest exact unit", { timeout }, () => {
    assert.equal(formatBytes(64 * 1024 * 1024), "64MiB");
    assert.equal(formatBytes(1024 ** 4), "1TiB");
    assert.equal(formatBytes(3 * 1024), "3KiB");
    assert.equal(formatBytes(1000), "1000B");
    assert.equal(formatBytes(0), "0B");
    assert.equal(formatDurationMs(3_000), "3s");
    assert.equal(formatDurationMs(90_000), "90s");
    assert.equal(formatDurationMs(7_200_000), "2h");
    assert.equal(formatDurationMs(1_500), "1500ms");
    assert.equal(formatDurationMs(0), "0ms");
  });
});

describe("parseConfigText()", () => {
  const file = "/x/pd.toml";

  test("parseConfigText() reads top-level keys and sections of every type", { timeout }, () => {
    const text = [
      'name = "pd-2"',
      'data-dir = "/var/lib/tessera/pd"',
      'client-addr = "0.0.0.0:2379"',
      "replicas = 5",
      "hibernate = false",
      'log-level = "debug"',
      "",
      "[raft]",
      'election-timeout-ms = "3s"',
      'entry-bytes-max = "16MiB"',
      "tick-interval = 250",
    ].join("\n");
    assert.deepEqual(parseConfigText(schema, text, file), {
      name: "pd-2",
      dataDir: "/var/lib/tessera/pd",
      clientAddr: "0.0.0.0:2379",
      replicas: 5,
      hibernate: false,
      logLevel: "debug",
      electionTimeoutMs: 3_000,
      entryBytesMax: 16 * 1024 * 1024,
      tickInterval: 250,
    });
  });

  test("parseConfigText() of an empty file sets nothing", { timeout }, () => {
    assert.deepEqual(parseConfigText(schema, "# nothing here\n", file), {});
  });

  test("parseConfigText() accepts dotted keys for sections", { timeout }, () => {
    assert.deepEqual(parseConfigText(schema, 'raft.election-timeout-ms = "2s"\n', file), {
      electionTimeoutMs: 2_000,
    });
  });

  test("an unknown top-level key names the key and the file", { timeout }, () => {
    const error = expectError(
      () => parseConfigText(schema, 'data-dirr = "/tmp"\n', file),
      ErrorCode.ConfigUnknownKey,
    );
    assert.equal(error.message, 'config file /x/pd.toml: unknown key "data-dirr"');
    assert.deepEqual(error.details, { file, key: "data-dirr" });
  });

  test("an unknown key inside a section is named with its section", { timeout }, () => {
    const error = expectError(
      () => parseConfigText(schema, "[raft]\nelection-timeout = 5\n", file),
      ErrorCode.ConfigUnknownKey,
    );
    assert.equal(error.message, 'config file /x/pd.toml: unknown key "raft.election-timeout"');
  });

  test("an unknown section is an unknown key", { timeout }, () => {
    const error = expectError(
      () => parseConfigText(schema, "[rafft]\ntick-interval = 5\n", file),
      ErrorCode.ConfigUnknownKey,
    );
    assert.equal(error.message, 'config file /x/pd.toml: unknown key "rafft"');
  });

  test("a section-level key at the top level is an unknown key", { timeout }, () => {
    expectError(
      () => parseConfigText(schema, "tick-interval = 5\n", file),
      ErrorCode.ConfigUnknownKey,
    );
  });

  test("a section given a plain value is a bad value", { timeout }, () => {
    const error = expectError(
      () => parseConfigText(schema, "raft = 5\n", file),
      ErrorCode.ConfigBadValue,
    );
    assert.equal(
      error.message,
      "config file /x/pd.toml: bad value for raft: expected a table ([raft]), got 5",
    );
  });

  const badValues: [string, string, RegExp][] = [
    ["a string given an integer", "name = 5", /"name": expected a string, got 5$/],
    ["an int given a string", 'replicas = "five"', /"replicas": expected an integer, got "five"$/],
    ["an int given a float", "replicas = 2.5", /"replicas": expected an integer, got 2.5$/],
    ["an int below its minimum", "replicas = 0", /"replicas": 0 is below the minimum 1$/],
    ["an int above its maximum", "replicas = 9", /"replicas": 9 is above the maximum 7$/],
    ["a bool given a string", 'hibernate = "yes"', /"hibernate": expected true or false/],
    ["a choice not in the list", 'log-level = "loud"', /expected one of debug, info, warn/],
    ["an address without a port", 'client-addr = "pd"', /"client-addr": expected host:port/],
    ["an address given an integer", "client-addr = 2379", /expected a "host:port" string/],
    [
      "a duration with a bad unit",
      '[raft]\nelection-timeout-ms = "3 sec"',
      /"raft.election-timeout-ms": expected a duration like/,
    ],
    [
      "a duration below its minimum",
      '[raft]\nelection-timeout-ms = "50ms"',
      /"raft.election-timeout-ms": 50ms is below the minimum 100ms$/,
    ],
    [
      "a duration above its maximum",
      '[raft]\nelection-timeout-ms = "2m"',
      /"raft.election-timeout-ms": 2m is above the maximum 1m$/,
    ],
    [
      "a negative duration integer",
      "[raft]\ntick-interval = -5",
      /"raft.tick-interval": expected a whole number >= 0, got -5$/,
    ],
    ["a duration given a bool", "[raft]\ntick-interval = true", /expected a string or an integer/],
    [
      "a size above its maximum",
      '[raft]\nentry-bytes-max = "1GiB"',
      /"raft.entry-bytes-max": 1GiB is above the maximum 64MiB$/,
    ],
    ["a size with a bad unit", '[raft]\nentry-bytes-max = "1 GiGa"', /expected a size like/],
    ["a string given an array", 'name = ["a"]', /"name": expected a string, got an array$/],
    ["a string given a table", "name = { a = 1 }", /"name": expected a string, got a table$/],
  ];
  for (const [what, text, message] of badValues) {
    test(`${what} is a bad value naming the key and the file`, { timeout }, () => {
      const parse = (): unknown => parseConfigText(schema, text, file);
      const error = expectError(parse, ErrorCode.ConfigBadValue);
      assert.match(error.message, /^config file \/x\/pd\.toml: bad value for "/);
      assert.match(error.message, message);
    });
  }

  test("a TOML syntax error gives its line and column", { timeout }, () => {
    const error = expectError(
      () => parseConfigText(schema, 'name = "a"\nreplicas = = 3\n', file),
      ErrorCode.ConfigParse,
    );
    assert.equal(error.message, "config file /x/pd.toml: line 2, column 12: invalid value");
    assert.deepEqual(error.details, { file, line: 2, column: 12 });
  });

  test("a key set twice is a TOML syntax error", { timeout }, () => {
    const error = expectError(
      () => parseConfigText(schema, "replicas = 3\nreplicas = 4\n", file),
      ErrorCode.ConfigParse,
    );
    assert.match(error.message, /^config file \/x\/pd\.toml: line 2, column \d+: /);
  });
});

describe("resolveConfig()", () => {
  test("resolveConfig() lets the file override defaults, flags override both", { timeout }, () => {
    const config = resolveConfig(schema, {
      fileValues: { replicas: 5, name: "from-file", hibernate: false },
      flagValues: { replicas: 7 },
    });
    assert.equal(config.replicas, 7);
    assert.equal(config.name, "from-file");
    assert.equal(config.hibernate, false);
    assert.equal(config.dataDir, "./data/pd");
    assert.equal(config.electionTimeoutMs, 1_000);
    assert.ok(Object.isFrozen(config));
  });

  test("resolveConfig() without sources is the defaults", { timeout }, () => {
    const config = resolveConfig(schema, {});
    assert.deepEqual(
      { ...config },
      Object.fromEntries(Object.entries(schema).map(([name, spec]) => [name, spec.default])),
    );
  });
});

describe("config files and flags", () => {
  let dir = "";
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "tessera-config-test-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function writeConfig(name: string, text: string | Uint8Array): Promise<string> {
    const path = join(dir, name);
    await writeFile(path, text);
    return path;
  }

  /** A command with the schema's flags, parsed from `args`, and its loaded config. */
  async function load(args: readonly string[]): Promise<ConfigOf<typeof schema>> {
    const command = new Command("pd").exitOverride().configureOutput({ writeErr: () => {} });
    addConfigOptions(command, schema);
    command.parse(args, { from: "user" });
    return loadConfig(schema, command);
  }

  test("readConfigFile() names the file in errors by its absolute path", { timeout }, async () => {
    const path = await writeConfig("good.toml", "replicas = 5\nbogus = 1\n");
    const error = await expectRejection(readConfigFile(schema, path), ErrorCode.ConfigUnknownKey);
    assert.equal(error.message, `config file ${path}: unknown key "bogus"`);
    const good = await writeConfig("good2.toml", "replicas = 5\n");
    assert.deepEqual(await readConfigFile(schema, good), { replicas: 5 });
  });

  test("a missing config file is Config:FileUnreadable", { timeout }, async () => {
    const path = join(dir, "absent.toml");
    const error = await expectRejection(
      readConfigFile(schema, path),
      ErrorCode.ConfigFileUnreadable,
    );
    assert.match(error.message, new RegExp(`^config file ${path}: cannot read: .*ENOENT`));
  });

  test("a directory given as config file is Config:FileUnreadable", { timeout }, async () => {
    await expectRejection(readConfigFile(schema, dir), ErrorCode.ConfigFileUnreadable);
  });

  test("a config file over the size limit is Config:FileTooLarge", { timeout }, async () => {
    const path = await writeConfig("big.toml", `# ${"x".repeat(limits.configFileBytesMax)}\n`);
    const error = await expectRejection(readConfigFile(schema, path), ErrorCode.ConfigFileTooLarge);
    const limit = limits.configFileBytesMax;
    assert.equal(error.message, `config file ${path}: larger than ${limit} bytes`);
  });

  test("a config file exactly at the size limit is read", { timeout }, async () => {
    const body = "replicas = 2\n";
    const padding = `#${"x".repeat(limits.configFileBytesMax - body.length - 2)}\n`;
    const path = await writeConfig("limit.toml", padding + body);
    assert.deepEqual(await readConfigFile(schema, path), { replicas: 2 });
  });

  test("a config file that is not UTF-8 is Config:Parse", { timeout }, async () => {
    const path = await writeConfig("latin1.toml", new Uint8Array([0x6e, 0x3d, 0x22, 0xe9, 0x22]));
    const error = await expectRejection(readConfigFile(schema, path), ErrorCode.ConfigParse);
    assert.equal(error.message, `config file ${path}: not valid UTF-8`);
  });

  test("loadConfig() applies defaults < config file < flags", { timeout }, async () => {
    const path = await writeConfig(
      "pd.toml",
      'name = "file"\nreplicas = 5\nhibernate = false\n[raft]\nelection-timeout-ms = "2s"\n',
    );
    const config = await load([
      "--config",
      path,
      "--replicas",
      "7",
      "--hibernate",
      "--raft-entry-bytes-max",
      "1MiB",
      "--client-addr",
      "[::1]:0",
    ]);
    // The config is typed from the schema: these lines fail type checking otherwise.
    const typed: [string, number, boolean, number] = [
      config.clientAddr,
      config.replicas,
      config.hibernate,
      config.electionTimeoutMs,
    ];
    assert.equal(typed.length, 4);
    assert.deepEqual(
      { ...config },
      {
        name: "file",
        dataDir: "./data/pd",
        clientAddr: "[::1]:0",
        replicas: 7,
        hibernate: true,
        logLevel: "info",
        electionTimeoutMs: 2_000,
        entryBytesMax: 1024 * 1024,
        tickInterval: 100,
      },
    );
  });

  test("loadConfig() without flags or file is the defaults", { timeout }, async () => {
    assert.deepEqual({ ...(await load([])) }, { ...resolveConfig(schema, {}) });
  });

  test("a --no- flag turns off a boolean the file turned on", { timeout }, async () => {
    const path = await writeConfig("on.toml", "hibernate = true\n");
    assert.equal((await load(["--config", path, "--no-hibernate"])).hibernate, false);
  });

  test("a bad flag value is Config:BadValue naming the flag", { timeout }, async () => {
    const cases: [string[], string][] = [
      [
        ["--replicas", "many"],
        'command line: bad value for --replicas: expected an integer, got "many"',
      ],
      [["--replicas", "8"], "command line: bad value for --replicas: 8 is above the maximum 7"],
      [
        ["--raft-election-timeout-ms", "1x"],
        "command line: bad value for --raft-election-timeout-ms: " +
          'expected a duration like "500ms", "3s", "1m30s", got "1x"',
      ],
      [
        ["--client-addr", "nowhere"],
        "command line: bad value for --client-addr: " +
          'expected host:port (port 0..65535), got "nowhere"',
      ],
    ];
    for (const [args, message] of cases) {
      const error = await expectRejection(load(args), ErrorCode.ConfigBadValue);
      assert.equal(error.message, message);
    }
  });

  test("a bad file value fails even when a flag sets the same key", { timeout }, async () => {
    const path = await writeConfig("bad.toml", 'replicas = "x"\n');
    await expectRejection(load(["--config", path, "--replicas", "3"]), ErrorCode.ConfigBadValue);
  });

  test("a flag outside the declared choices is a commander usage error", { timeout }, async () => {
    await assert.rejects(load(["--log-level", "loud"]), /Allowed choices are debug, info, warn/);
  });

  test("--help lists every option with its flag and default", { timeout }, () => {
    const help = addConfigOptions(new Command("pd"), schema).helpInformation();
    for (const expected of [
      "--config <file>",
      "--data-dir <string>",
      'where data lives (default: "./data/pd")',
      "--client-addr <host:port>",
      "--replicas <int>",
      "--hibernate",
      "--no-hibernate",
      "--raft-election-timeout-ms <duration>",
      "(default: 1s)",
      "--raft-entry-bytes-max <bytes>",
      "(default: 8MiB)",
    ]) {
      assert.ok(help.includes(expected), `help lacks ${expected}:\n${help}`);
    }
  });
});
