/**
 * Tests of `status_server.ts` over real HTTP on 127.0.0.1 with a system-chosen port:
 * `/status` and `/metrics` contents, 404/405/500 replies, a busy port, and `close()`.
 */
import assert from "node:assert/strict";
import { Agent, request } from "node:http";
import { after, describe, test } from "node:test";
import { Counter } from "prom-client";
import { ErrorCode, TesseraError } from "../base/mod.ts";
import { createLogger } from "./logger.ts";
import {
  type StatusServer,
  type StatusServerOptions,
  createMetricsRegistry,
  startStatusServer,
} from "./status_server.ts";

const timeout = 10_000;
const logger = createLogger({ component: "test", level: "silent" });

describe("status server", () => {
  const servers: StatusServer[] = [];
  after(async () => {
    await Promise.all(servers.map((server) => server.close()));
  });

  async function start(options: Partial<StatusServerOptions> = {}): Promise<StatusServer> {
    const server = await startStatusServer({
      host: "127.0.0.1",
      port: 0,
      component: "pd",
      version: "1.2.3",
      registry: createMetricsRegistry({ component: "pd" }),
      logger,
      ...options,
    });
    servers.push(server);
    return server;
  }

  test("startStatusServer() on port 0 reports the bound address", { timeout }, async () => {
    const server = await start();
    assert.equal(server.host, "127.0.0.1");
    assert.ok(server.port > 0);
    assert.equal(server.address, `127.0.0.1:${server.port}`);
  });

  test("/status reports component, version, start time and ok with callback fields", {
    timeout,
  }, async () => {
    const server = await start({ status: () => ({ leader: true, storeCount: 3 }) });
    const response = await fetch(`http://${server.address}/status`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "application/json");
    const body = (await response.json()) as Record<string, unknown>;
    assert.deepEqual(body, {
      component: "pd",
      version: "1.2.3",
      startedAt: server.startedAt,
      status: "ok",
      leader: true,
      storeCount: 3,
    });
    assert.ok(!Number.isNaN(Date.parse(server.startedAt)));
  });

  test("/status awaits an async callback, which may replace status", { timeout }, async () => {
    const server = await start({ status: async () => ({ status: "draining" }) });
    const body = (await (await fetch(`http://${server.address}/status`)).json()) as {
      status: string;
    };
    assert.equal(body.status, "draining");
  });

  test("/status answers 500 with the error when the callback throws", { timeout }, async () => {
    const server = await start({
      status: () => {
        throw new Error("catalog unavailable");
      },
    });
    const response = await fetch(`http://${server.address}/status`);
    assert.equal(response.status, 500);
    assert.deepEqual(await response.json(), {
      component: "pd",
      status: "error",
      error: "Error: catalog unavailable",
    });
  });

  test("/metrics serves default process metrics and the component's own", {
    timeout,
  }, async () => {
    const registry = createMetricsRegistry({ component: "kv" });
    const counter = new Counter({
      name: "tessera_test_requests_total",
      help: "requests seen by the test",
      registers: [registry],
    });
    counter.inc(5);
    const server = await start({ registry, component: "kv" });
    const response = await fetch(`http://${server.address}/metrics?debug=1`);
    assert.equal(response.status, 200);
    assert.match(String(response.headers.get("content-type")), /^text\/plain/);
    const text = await response.text();
    assert.match(text, /^tessera_test_requests_total\{component="kv"\} 5$/m);
    assert.match(text, /^process_cpu_user_seconds_total\{component="kv"\} /m);
    assert.match(text, /^nodejs_eventloop_lag_seconds\{component="kv"\} /m);
  });

  test("other paths are 404 and other methods 405", { timeout }, async () => {
    const server = await start();
    const missing = await fetch(`http://${server.address}/statusx`);
    assert.equal(missing.status, 404);
    assert.equal(await missing.text(), "not found: /statusx\n");
    const root = await fetch(`http://${server.address}/`);
    assert.equal(root.status, 404);
    await root.body?.cancel();
    const post = await fetch(`http://${server.address}/status`, { method: "POST", body: "x" });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get("allow"), "GET, HEAD");
    await post.body?.cancel();
  });

  test("HEAD /status answers 200 without a body", { timeout }, async () => {
    const server = await start();
    const response = await fetch(`http://${server.address}/status`, { method: "HEAD" });
    assert.equal(response.status, 200);
    assert.equal(await response.text(), "");
  });

  test("startStatusServer() on a busy port fails with Cmd:Status:ListenFailed", {
    timeout,
  }, async () => {
    const first = await start();
    await assert.rejects(
      start({ port: first.port }),
      (error: unknown) =>
        error instanceof TesseraError &&
        error.code === ErrorCode.StatusListenFailed &&
        error.message.startsWith(`status server cannot listen on 127.0.0.1:${first.port}: `) &&
        error.message.includes("EADDRINUSE"),
    );
  });

  test("close() stops the server even with a keep-alive connection open", {
    timeout,
  }, async (t) => {
    const server = await startStatusServer({
      host: "127.0.0.1",
      port: 0,
      component: "pd",
      version: "1.2.3",
      registry: createMetricsRegistry({ component: "pd" }),
    });
    // A keep-alive agent leaves an idle connection open, which plain server.close() waits on.
    const agent = new Agent({ keepAlive: true });
    t.after(() => agent.destroy());
    await new Promise<void>((resolve, reject) => {
      const options = { host: "127.0.0.1", port: server.port, path: "/status", agent };
      const req = request(options, (response) => {
        response.resume();
        response.on("end", resolve);
      });
      req.on("error", reject);
      req.end();
    });
    assert.equal(Object.keys(agent.freeSockets).length, 1);
    await server.close();
    await server.close();
    await assert.rejects(fetch(`http://${server.address}/status`), TypeError);
  });
});
