/**
 * The HTTP status server every Tessera process runs (Prometheus `/metrics`, JSON `/status`).
 *
 * `/metrics` serves the process's prom-client `Registry`: the default process metrics
 * (CPU, memory, event-loop lag, GC) plus whatever the component registers on it.
 * `/status` serves `{ component, version, startedAt, status: "ok", …fields }`, where the
 * fields come from the component's callback and are merged last (so it may replace
 * `status`, for example with `"draining"`). Every other path is a 404; methods other than
 * GET and HEAD are a 405.
 * The server owns no component state: it only reads the registry and calls the callback.
 */
import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Registry, collectDefaultMetrics } from "prom-client";
import { ErrorCode, TesseraError, describeError, limits } from "../base/mod.ts";
import type { Logger } from "./logger.ts";

/** Fields a component adds to `/status`; it may be async (it is awaited per request). */
export type StatusFields = () =>
  | Readonly<Record<string, unknown>>
  | Promise<Readonly<Record<string, unknown>>>;

/** Options of `startStatusServer`. */
export interface StatusServerOptions {
  /** Interface to bind (`127.0.0.1`, `0.0.0.0`, `::1`). */
  readonly host: string;
  /** Port to bind; 0 lets the system choose (tests always do). */
  readonly port: number;
  /** The component this process runs, reported by `/status`. */
  readonly component: string;
  /** The Tessera version, reported by `/status`. */
  readonly version: string;
  /** Metrics served at `/metrics`; see `createMetricsRegistry`. */
  readonly registry: Registry;
  /** Extra `/status` fields. */
  readonly status?: StatusFields;
  /** Where request failures are logged. */
  readonly logger?: Logger;
}

/** A running status server. */
export interface StatusServer {
  /** The bound host and port (the chosen port when 0 was asked for). */
  readonly host: string;
  readonly port: number;
  /** `host:port`, with IPv6 hosts in brackets: what a client connects to. */
  readonly address: string;
  /** When the server started, as an ISO 8601 string (reported by `/status`). */
  readonly startedAt: string;
  /** Stops listening and closes open connections; resolves once closed. Idempotent. */
  close(): Promise<void>;
}

/** A metrics registry with the default process metrics, labelled with the component. */
export function createMetricsRegistry(options: { readonly component: string }): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ component: options.component });
  collectDefaultMetrics({ register: registry });
  return registry;
}

/**
 * Starts a status server on `host:port`. Rejects with `Cmd:Status:ListenFailed` if the
 * address cannot be bound (in use, no such interface).
 */
export async function startStatusServer(options: StatusServerOptions): Promise<StatusServer> {
  const startedAt = new Date().toISOString();
  const server = createServer((request, response) => {
    handle(options, startedAt, request, response).catch((error: unknown) => {
      // handle() answers its own failures; reaching here means writing the reply failed.
      options.logger?.warn({ err: error, url: request.url }, "status request failed");
      response.destroy();
    });
  });
  server.maxConnections = limits.statusServerConnectionsMax;
  await listen(server, options);
  const bound = server.address() as AddressInfo;
  const host = bound.family === "IPv6" ? `[${bound.address}]` : bound.address;
  const address = `${host}:${bound.port}`;
  let closing: Promise<void> | undefined;
  return {
    host: bound.address,
    port: bound.port,
    address,
    startedAt,
    close(): Promise<void> {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error === undefined ? resolve() : reject(error)));
        // Keep-alive connections (a scraper's) would otherwise hold close() open.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

function listen(server: Server, options: StatusServerOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => {
      reject(
        new TesseraError(
          ErrorCode.StatusListenFailed,
          `status server cannot listen on ${options.host}:${options.port}: ${error.message}`,
          { cause: error, details: { host: options.host, port: options.port } },
        ),
      );
    };
    server.once("error", onError);
    server.listen(options.port, options.host, () => {
      server.off("error", onError);
      resolve();
    });
  });
}

async function handle(
  options: StatusServerOptions,
  startedAt: string,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const path = new URL(request.url ?? "/", "http://status").pathname;
  if (path !== "/metrics" && path !== "/status") {
    reply(response, 404, "text/plain; charset=utf-8", `not found: ${path}\n`);
    return;
  }
  if (request.method !== "GET" && request.method !== "HEAD") {
    response.setHeader("allow", "GET, HEAD");
    reply(response, 405, "text/plain; charset=utf-8", `method not allowed: ${request.method}\n`);
    return;
  }
  try {
    if (path === "/metrics") {
      const text = await options.registry.metrics();
      reply(response, 200, options.registry.contentType, text);
    } else {
      const fields = options.status === undefined ? {} : await options.status();
      const body = {
        component: options.component,
        version: options.version,
        startedAt,
        status: "ok",
        ...fields,
      };
      reply(response, 200, "application/json", `${JSON.stringify(body)}\n`);
    }
  } catch (error) {
    options.logger?.error({ err: error, path }, "status request failed");
    const body = { component: options.component, status: "error", error: describeError(error) };
    reply(response, 500, "application/json", `${JSON.stringify(body)}\n`);
  }
}

function reply(response: ServerResponse, code: number, contentType: string, body: string): void {
  response.writeHead(code, {
    "content-type": contentType,
    "content-length": Buffer.byteLength(body),
    "cache-control": "no-store",
  });
  response.end(body);
}
