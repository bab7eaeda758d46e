/**
 * Tests of the `tessera` program as users run it: `bin/tessera.js` and `src/cmd/main.ts`
 * in child processes (version, help, unknown commands, `ctl tso decode`), the launcher's
 * re-exec from another Node version, and the parsing behind `tso decode` in process.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { copyFile, mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, describe, test } from "node:test";
import { Command } from "commander";
import { ErrorCode, TesseraError, composeTimestamp, formatTimestamp } from "../base/mod.ts";
import { buildProgram, runProgram } from "./main.ts";
import { describeTimestamp, parseTimestampArgument } from "./ctl.ts";
import { Children } from "./test_child.ts";

const timeout = 20_000;
const launcher = fileURLToPath(new URL("../../bin/tessera.js", import.meta.url));
const mainScript = fileURLToPath(new URL("./main.ts", import.meta.url));
const packageJson = fileURLToPath(new URL("../../package.json", import.meta.url));

const children = new Children();
after(() => children.killAll());

/** A `node` on PATH whose major version is not 24, to exercise the launcher's re-exec. */
function otherNode(): string | undefined {
  for (const dir of (process.env["PATH"] ?? "").split(delimiter)) {
    const candidate = join(dir, "node");
    try {
      const version = execFileSync(candidate, ["--version"], { encoding: "utf8" }).trim();
      if (!version.startsWith("v24.")) return candidate;
    } catch {
      continue; // Not there or not runnable: try the next PATH entry.
    }
  }
  return undefined;
}

describe("tessera CLI", () => {
  test("bin/tessera.js --version prints the package version", { timeout }, async () => {
    const { version } = JSON.parse(await readFile(packageJson, "utf8")) as { version: string };
    const result = await children.run([launcher, "--version"]);
    assert.deepEqual([result.code, result.stdout], [0, `${version}\n`], result.stderr);
  });

  test("bin/tessera.js --help lists the commands", { timeout }, async () => {
    const result = await children.run([launcher, "--help"]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^Usage: tessera \[options\] \[command\]/);
    assert.match(result.stdout, /^Commands:$/m);
    assert.match(result.stdout, /^ {2}ctl +inspect and operate a Tessera cluster$/m);
    assert.match(result.stdout, /^ {2}playground \[options\] +start a local cluster/m);
    assert.match(result.stdout, /-V, --version/);
  });

  test("src/cmd/main.ts runs directly and prints help", { timeout }, async () => {
    const result = await children.run([mainScript, "--help"]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^Usage: tessera/);
    assert.match(result.stdout, / ctl /);
  });

  test("an unknown command exits 1 with commander's message", { timeout }, async () => {
    const result = await children.run([launcher, "frobnicate"]);
    assert.equal(result.code, 1);
    assert.equal(result.stdout, "");
    assert.match(result.stderr, /^error: unknown command 'frobnicate'\n/);
  });

  test("tessera with no command shows help on stderr and exits 1", { timeout }, async () => {
    const result = await children.run([launcher]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^Usage: tessera/);
  });

  test("ctl tso decode prints the physical time and logical counter", { timeout }, async () => {
    const ts = composeTimestamp(Date.UTC(2026, 10, 25, 16, 28, 0, 123), 7);
    for (const script of [launcher, mainScript]) {
      const result = await children.run([script, "ctl", "tso", "decode", ts.toString()]);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(
        result.stdout,
        "2026-11-25T16:28:00.123Z (logical 7)\n" +
          "physical: 2026-11-25T16:28:00.123Z (1795624080123 ms since the Unix epoch)\n" +
          "logical:  7\n",
      );
    }
  });

  test("ctl tso decode --json prints one JSON object", { timeout }, async () => {
    const result = await children.run([launcher, "ctl", "tso", "decode", "--json", "262149"]);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout), {
      timestamp: "262149",
      physical: "1970-01-01T00:00:00.001Z",
      physicalMs: 1,
      logical: 5,
    });
  });

  test("ctl tso decode of a non-number exits 1 and says why", { timeout }, async () => {
    const result = await children.run([launcher, "ctl", "tso", "decode", "12ab"]);
    assert.equal(result.code, 1);
    assert.equal(result.stdout, "");
    assert.ok(
      result.stderr.startsWith(
        "error: command-argument value '12ab' is invalid for argument 'timestamp'. " +
          'expected a decimal TSO timestamp, got "12ab"\n',
      ),
      result.stderr,
    );
  });

  test("ctl tso decode of a value over 64 bits exits 1 and says why", { timeout }, async () => {
    const result = await children.run([mainScript, "ctl", "tso", "decode", "18446744073709551616"]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /18446744073709551616 does not fit in 64 bits/);
  });

  const node = otherNode();
  test("bin/tessera.js under another Node re-runs itself on Node 24", {
    timeout,
    skip: node === undefined ? "no non-24 node on PATH" : false,
  }, async () => {
    const version = await children.run([launcher, "--version"], { command: node! });
    assert.deepEqual([version.code, version.stdout], [0, "0.1.0\n"], version.stderr);
    const decode = await children.run([launcher, "ctl", "tso", "decode", "1"], { command: node! });
    assert.equal(decode.code, 0, decode.stderr);
    assert.match(decode.stdout, /^1970-01-01T00:00:00\.000Z \(logical 1\)\n/);
    const unknown = await children.run([launcher, "frobnicate"], { command: node! });
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /unknown command 'frobnicate'/);
  });

  test("bin/tessera.js under another Node without node_modules says to run npm install", {
    timeout,
    skip: node === undefined ? "no non-24 node on PATH" : false,
  }, async (t) => {
    const dir = await mkdtemp(join(tmpdir(), "tessera-launcher-test-"));
    t.after(() => rm(dir, { recursive: true, force: true }));
    await mkdir(join(dir, "bin"));
    await copyFile(launcher, join(dir, "bin", "tessera.js"));
    const result = await children.run([join(dir, "bin", "tessera.js"), "--version"], {
      command: node!,
    });
    assert.equal(result.code, 1);
    assert.equal(result.stdout, "");
    assert.match(result.stderr, /tessera needs Node 24, but this is Node v?\d+/);
    assert.match(result.stderr, /node_modules\/node\/bin\/node is missing: run npm install\n$/);
  });
});

describe("tso decode parsing", () => {
  test("parseTimestampArgument() accepts 0 and 2^64 - 1", { timeout }, () => {
    assert.equal(parseTimestampArgument("0"), 0n);
    assert.equal(parseTimestampArgument("18446744073709551615"), 2n ** 64n - 1n);
  });

  test("parseTimestampArgument() rejects signs, spaces, hex and empty input", { timeout }, () => {
    for (const text of ["", "-1", "+1", " 1", "0x10", "1.5", "1e3"]) {
      assert.throws(() => parseTimestampArgument(text), /expected a decimal TSO timestamp/, text);
    }
  });

  test("describeTimestamp() agrees with formatTimestamp()", { timeout }, () => {
    const ts = composeTimestamp(1_700_000_000_000, 262_143);
    const text = describeTimestamp(ts, { json: false });
    assert.equal(text.split("\n")[0], formatTimestamp(ts));
    assert.match(text, /^logical: {2}262143$/m);
  });

  test("buildProgram() registers ctl with tso decode", { timeout }, () => {
    const program = buildProgram({ version: "9.9.9", print: () => undefined });
    assert.equal(program.version(), "9.9.9");
    const ctl = program.commands.find((command) => command.name() === "ctl");
    const tso = ctl?.commands.find((command) => command.name() === "tso");
    assert.ok(tso?.commands.some((command) => command.name() === "decode"));
  });

  test("buildProgram() runs tso decode through the context's print", { timeout }, async () => {
    const printed: string[] = [];
    const program = buildProgram({ version: "9.9.9", print: (text) => printed.push(text) });
    await program.parseAsync(["ctl", "tso", "decode", "--json", "5"], { from: "user" });
    assert.deepEqual(JSON.parse(printed.join("")), {
      timestamp: "5",
      physical: "1970-01-01T00:00:00.000Z",
      physicalMs: 0,
      logical: 5,
    });
  });
});

describe("runProgram()", () => {
  function programThatThrows(error: Error): Command {
    const program = new Command("tessera");
    program.command("boom").action(() => {
      throw error;
    });
    return program;
  }

  test("runProgram() turns a TesseraError into 'error: message' and exit code 1", {
    timeout,
  }, async () => {
    const written: string[] = [];
    const error = new TesseraError(ErrorCode.ConfigBadValue, "config file /x.toml: bad value");
    const code = await runProgram(programThatThrows(error), ["boom"], {
      from: "user",
      writeErr: (text) => written.push(text),
    });
    assert.equal(code, 1);
    assert.deepEqual(written, ["error: config file /x.toml: bad value\n"]);
  });

  test("runProgram() lets any other error through: it is a bug", { timeout }, async () => {
    const written: string[] = [];
    const bug = new TypeError("not a function");
    await assert.rejects(
      runProgram(programThatThrows(bug), ["boom"], {
        from: "user",
        writeErr: (text) => written.push(text),
      }),
      bug,
    );
    assert.deepEqual(written, []);
  });

  test("runProgram() resolves 0 when the command succeeds", { timeout }, async () => {
    const program = buildProgram({ version: "1.0.0", print: () => undefined });
    const code = await runProgram(program, ["ctl", "tso", "decode", "1"], {
      from: "user",
      writeErr: () => undefined,
    });
    assert.equal(code, 0);
  });
});
