/**
 * Test fixture for `lifecycle.test.ts`: a tiny process wired like a Tessera server.
 *
 * It installs a `Lifecycle`, starts a status server on 127.0.0.1:0, prints
 * `{"address":"host:port"}` on stdout once ready, and waits for a signal. Stop hooks print
 * what they do on stdout, so the test can tell they ran. The mode (argv[2]) picks a way to
 * end: `serve` (default), `fail-stop` (a stop hook rejects), `hang-stop` (a stop hook
 * never finishes), `throw-assertion` (an `AssertionError` escapes), `reject` (an
 * unhandled rejection).
 */
import { writeSync } from "node:fs";
import { AssertionError } from "../../base/mod.ts";
import { Lifecycle } from "../lifecycle.ts";
import { createLogger } from "../logger.ts";
import { createMetricsRegistry, startStatusServer } from "../status_server.ts";

const mode = process.argv[2] ?? "serve";
// Synchronous writes: the process may exit right after a line.
const say = (line: string): void => {
  writeSync(1, `${line}\n`);
};

const logger = createLogger({ component: "fixture", level: "info" });
const lifecycle = new Lifecycle({ logger });
lifecycle.install();

lifecycle.onStop("first-registered", async () => {
  say("stop hook ran: first-registered");
});
const server = await startStatusServer({
  host: "127.0.0.1",
  port: 0,
  component: "fixture",
  version: "0.0.0-test",
  registry: createMetricsRegistry({ component: "fixture" }),
  status: () => ({ mode }),
});
lifecycle.onStop("status-server", async () => {
  await server.close();
  say("stop hook ran: status-server");
});
if (mode === "fail-stop") {
  lifecycle.onStop("failing", async () => {
    throw new Error("fixture stop hook failure");
  });
}
if (mode === "hang-stop") {
  lifecycle.onStop("hanging", () => {
    say("stop hook started: hanging");
    return new Promise<void>(() => undefined);
  });
}

say(JSON.stringify({ address: server.address }));

if (mode === "throw-assertion") {
  setImmediate(() => {
    throw new AssertionError("fixture invariant broken");
  });
}
if (mode === "reject") {
  setImmediate(() => {
    Promise.reject(new Error("fixture rejection")).then(() => undefined, undefined);
  });
}
