/**
 * Tests of `lifecycle.ts`. The stop sequence (order, failures, deadline) is tested in
 * process with a recording `exit`; signals and fatal errors are tested on a real child
 * process (`testdata/lifecycle_fixture.ts`) that runs a status server and prints a line
 * from each stop hook.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { after, describe, test } from "node:test";
import { Lifecycle, supervisorPidVariable } from "./lifecycle.ts";
import { createLogger } from "./logger.ts";
import { Children, withDeadline } from "./test_child.ts";

const timeout = 20_000;
const fixture = fileURLToPath(new URL("./testdata/lifecycle_fixture.ts", import.meta.url));

function quietLifecycle(graceMs?: number): { lifecycle: Lifecycle; exits: number[] } {
  const exits: number[] = [];
  const logger = createLogger({ component: "test", level: "silent" });
  const options = graceMs === undefined ? {} : { graceMs };
  const lifecycle = new Lifecycle({ logger, exit: (code) => exits.push(code), ...options });
  return { lifecycle, exits };
}

describe("Lifecycle.stop()", () => {
  test("stop() runs hooks newest first and resolves 0", { timeout }, async () => {
    const { lifecycle } = quietLifecycle();
    const ran: string[] = [];
    for (const name of ["rpc", "raft", "status"]) {
      lifecycle.onStop(name, async () => {
        ran.push(name);
      });
    }
    assert.equal(await lifecycle.stop("test"), 0);
    assert.deepEqual(ran, ["status", "raft", "rpc"]);
  });

  test("stop() goes on after a failing hook and resolves 1", { timeout }, async () => {
    const { lifecycle } = quietLifecycle();
    const ran: string[] = [];
    lifecycle.onStop("first", async () => {
      ran.push("first");
    });
    lifecycle.onStop("throws", () => {
      ran.push("throws");
      throw new Error("boom");
    });
    lifecycle.onStop("rejects", async () => {
      ran.push("rejects");
      throw new Error("boom");
    });
    assert.equal(await lifecycle.stop("test"), 1);
    assert.deepEqual(ran, ["rejects", "throws", "first"]);
  });

  test("stop() past the deadline resolves 1 and skips the hooks left", { timeout }, async () => {
    const { lifecycle } = quietLifecycle(20);
    const ran: string[] = [];
    lifecycle.onStop("skipped", async () => {
      ran.push("skipped");
    });
    lifecycle.onStop("hangs", () => {
      ran.push("hangs");
      return new Promise<void>(() => undefined);
    });
    assert.equal(await lifecycle.stop("test"), 1);
    assert.deepEqual(ran, ["hangs"]);
  });

  test("stop() runs the hooks once however often it is called", { timeout }, async () => {
    const { lifecycle } = quietLifecycle();
    let runs = 0;
    lifecycle.onStop("count", async () => {
      runs++;
    });
    const [a, b] = await Promise.all([lifecycle.stop("one"), lifecycle.stop("two")]);
    assert.equal(await lifecycle.stop("three"), 0);
    assert.deepEqual([a, b, runs], [0, 0, 1]);
  });

  test("install() adds process handlers once and uninstall() removes them", { timeout }, () => {
    const { lifecycle, exits } = quietLifecycle();
    const events = ["SIGINT", "SIGTERM", "uncaughtException", "unhandledRejection"] as const;
    const counts = (): number[] => events.map((event) => process.listenerCount(event));
    const before = counts();
    lifecycle.install();
    lifecycle.install();
    assert.deepEqual(counts(), before.map((count) => count + 1));
    lifecycle.uninstall();
    assert.deepEqual(counts(), before);
    assert.deepEqual(exits, []);
  });
});

describe("a process with a Lifecycle", () => {
  const children = new Children();
  after(() => children.killAll());

  /** Starts the fixture in `mode` and waits for its status server address. */
  async function startFixture(mode: string, env?: Record<string, string>): Promise<{
    child: ReturnType<Children["spawn"]>;
    address: string;
  }> {
    const child = children.spawn([fixture, mode], env === undefined ? {} : { env });
    const ready = await child.waitForLine(/^\{"address":/);
    const { address } = JSON.parse(ready) as { address: string };
    return { child, address };
  }

  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    test(`${signal} runs the stop hooks newest first and exits 0`, { timeout }, async () => {
      const { child, address } = await startFixture("serve");
      const status = (await (await fetch(`http://${address}/status`)).json()) as {
        component: string;
        mode: string;
      };
      assert.deepEqual([status.component, status.mode], ["fixture", "serve"]);
      child.process.kill(signal);
      const exit = await withDeadline(child.exited, () => "fixture did not exit");
      assert.deepEqual(exit, { code: 0, signal: null }, child.stderr());
      const hookLines = child.stdout().split("\n").filter((line) => line.startsWith("stop hook"));
      assert.deepEqual(hookLines, [
        "stop hook ran: status-server",
        "stop hook ran: first-registered",
      ]);
      const logs = child.stderr().trim().split("\n").map((line) => JSON.parse(line) as {
        msg: string;
        component: string;
      });
      assert.ok(logs.every((line) => line.component === "fixture"));
      assert.ok(logs.some((line) => line.msg === "shutdown complete"), child.stderr());
    });
  }

  test("a supervised process leaves SIGINT to its launcher and stops on its SIGTERM", {
    timeout,
  }, async () => {
    // As a Ctrl-C reaches the playground's whole process group: the child waits.
    const { child } = await startFixture("serve",
      { [supervisorPidVariable]: String(process.pid) });
    child.process.kill("SIGINT");
    await child.waitForLine(/waiting for its SIGTERM/, "stderr");
    child.process.kill("SIGTERM");
    const exit = await withDeadline(child.exited, () => "fixture did not exit");
    assert.deepEqual(exit, { code: 0, signal: null }, child.stderr());
    const hookLines = child.stdout().split("\n").filter((line) => line.startsWith("stop hook"));
    assert.deepEqual(hookLines, [
      "stop hook ran: status-server",
      "stop hook ran: first-registered",
    ]);
    assert.doesNotMatch(child.stderr(), /second signal/);
  });

  test("a supervised process whose launcher is gone stops on SIGINT by itself", {
    timeout,
  }, async () => {
    const gone = await children.run(["-e", "process.stdout.write(String(process.pid))"]);
    const { child } = await startFixture("serve", { [supervisorPidVariable]: gone.stdout });
    child.process.kill("SIGINT");
    const exit = await withDeadline(child.exited, () => "fixture did not exit");
    assert.deepEqual(exit, { code: 0, signal: null }, child.stderr());
    assert.match(child.stderr(), /no SIGTERM from the launcher, stopping/);
    assert.match(child.stdout(), /stop hook ran: first-registered\n/);
  });

  test("a failing stop hook makes the process exit 1 after the other hooks", {
    timeout,
  }, async () => {
    const { child } = await startFixture("fail-stop");
    child.process.kill("SIGTERM");
    const exit = await withDeadline(child.exited, () => "fixture did not exit");
    assert.equal(exit.code, 1, child.stderr());
    assert.match(child.stdout(), /stop hook ran: status-server\n/);
    assert.match(child.stdout(), /stop hook ran: first-registered\n/);
    assert.match(child.stderr(), /"msg":"stop hook failed"/);
    assert.match(child.stderr(), /fixture stop hook failure/);
  });

  test("a second signal during shutdown exits 1 at once", { timeout }, async () => {
    const { child } = await startFixture("hang-stop");
    child.process.kill("SIGTERM");
    await child.waitForLine(/^stop hook started: hanging$/);
    child.process.kill("SIGTERM");
    const exit = await withDeadline(child.exited, () => "fixture did not exit");
    assert.equal(exit.code, 1, child.stderr());
    assert.doesNotMatch(child.stdout(), /stop hook ran/);
    assert.match(child.stderr(), /second signal during shutdown/);
  });

  test("an uncaught AssertionError logs fatal to stderr and exits 1", { timeout }, async () => {
    const { child } = await startFixture("throw-assertion");
    const exit = await withDeadline(child.exited, () => "fixture did not exit");
    assert.equal(exit.code, 1, child.stderr());
    const fatal = child.stderr().trim().split("\n").map((line) => JSON.parse(line) as {
      level: string;
      msg: string;
      error: string;
    }).find((line) => line.level === "fatal");
    assert.ok(fatal !== undefined, child.stderr());
    assert.equal(fatal.msg, "invariant broken");
    assert.equal(fatal.error, "AssertionError: fixture invariant broken");
    assert.doesNotMatch(child.stdout(), /stop hook ran/);
  });

  test("an unhandled rejection logs fatal and exits 1", { timeout }, async () => {
    const { child } = await startFixture("reject");
    const exit = await withDeadline(child.exited, () => "fixture did not exit");
    assert.equal(exit.code, 1, child.stderr());
    assert.match(child.stderr(), /"level":"fatal".*"msg":"unhandled rejection"/);
    assert.match(child.stderr(), /fixture rejection/);
  });
});
