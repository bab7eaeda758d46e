/**
 * Tests of `logger.ts`: JSON lines with the component bound, level filtering, child
 * loggers, and the `--log-level` option declared through `config.ts`. (That lines go to
 * stderr by default is checked by `lifecycle.test.ts`, whose fixture logs a fatal line.)
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ErrorCode, TesseraError } from "../base/mod.ts";
import { parseConfigText, resolveConfig } from "./config.ts";
import { childLogger, createLogger, logConfig, logLevels } from "./logger.ts";

const timeout = 10_000;

/** A destination that keeps every line, parsed. */
function memoryDestination(): { lines: Record<string, unknown>[]; write(line: string): void } {
  const lines: Record<string, unknown>[] = [];
  return {
    lines,
    write(line: string): void {
      for (const part of line.split("\n").filter((text) => text !== "")) {
        lines.push(JSON.parse(part) as Record<string, unknown>);
      }
    },
  };
}

describe("createLogger()", () => {
  test("createLogger() writes JSON lines with the component, level name and ISO time", {
    timeout,
  }, () => {
    const destination = memoryDestination();
    const logger = createLogger({ component: "pd", level: "info", destination });
    logger.info({ storeId: 4 }, "store up");
    assert.equal(destination.lines.length, 1);
    const line = destination.lines[0]!;
    assert.equal(line["component"], "pd");
    assert.equal(line["level"], "info");
    assert.equal(line["msg"], "store up");
    assert.equal(line["storeId"], 4);
    assert.equal(line["pid"], process.pid);
    assert.match(String(line["time"]), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  test("createLogger() drops lines below its level", { timeout }, () => {
    const destination = memoryDestination();
    const logger = createLogger({ component: "kv", level: "warn", destination });
    logger.debug("hidden");
    logger.info("hidden");
    logger.warn("shown");
    logger.error("shown too");
    assert.deepEqual(
      destination.lines.map((line) => [line["level"], line["msg"]]),
      [
        ["warn", "shown"],
        ["error", "shown too"],
      ],
    );
  });

  test("createLogger() serializes errors under err with message and stack", { timeout }, () => {
    const destination = memoryDestination();
    const logger = createLogger({ component: "kv", level: "info", destination });
    logger.error({ err: new TesseraError(ErrorCode.ConfigParse, "bad file") }, "failed");
    const err = destination.lines[0]!["err"] as Record<string, unknown>;
    assert.equal(err["message"], "bad file");
    assert.equal(err["code"], ErrorCode.ConfigParse);
    assert.match(String(err["stack"]), /bad file/);
  });

  test("childLogger() adds its bindings to every line and keeps the component", {
    timeout,
  }, () => {
    const destination = memoryDestination();
    const root = createLogger({ component: "sql", level: "info", destination });
    const child = childLogger(root, { module: "session", connectionId: 7 });
    child.info("hello");
    root.info("root");
    assert.deepEqual(
      destination.lines.map((line) => [line["component"], line["module"], line["msg"]]),
      [
        ["sql", "session", "hello"],
        ["sql", undefined, "root"],
      ],
    );
    assert.equal(destination.lines[0]!["connectionId"], 7);
  });

  test("a silent logger writes nothing", { timeout }, () => {
    const destination = memoryDestination();
    createLogger({ component: "pd", level: "silent", destination }).fatal("nothing");
    assert.deepEqual(destination.lines, []);
  });
});

describe("logConfig", () => {
  test("logConfig defaults --log-level to info and accepts every pino level", { timeout }, () => {
    assert.equal(resolveConfig(logConfig, {}).logLevel, "info");
    for (const level of logLevels) {
      const values = parseConfigText(logConfig, `log-level = "${level}"\n`, "/x.toml");
      assert.equal(resolveConfig(logConfig, { fileValues: values }).logLevel, level);
    }
  });

  test("logConfig rejects an unknown level naming the choices", { timeout }, () => {
    assert.throws(
      () => parseConfigText(logConfig, 'log-level = "loud"\n', "/x.toml"),
      (error: unknown) =>
        error instanceof TesseraError &&
        error.code === ErrorCode.ConfigBadValue &&
        error.message.includes("expected one of trace, debug, info, warn, error, fatal, silent"),
    );
  });
});
