/**
 * Helpers for the RPC tests (not part of the `rpc` surface): a logger that records what
 * it is told, a way to wait for a condition without fixed sleeps, servers and clients on
 * 127.0.0.1 port 0 over the real `Env`, and a throwaway TLS certificate.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { createNodeEnv } from "../env/mod.ts";
import type { Env, TlsOptions } from "../env/mod.ts";
import { RpcClient, type RpcClientOptions } from "./client.ts";
import { type RpcAddress, RpcServer, type RpcServerOptions } from "./server.ts";
import type { RpcLogger } from "./types.ts";

/** One recorded log line. */
export interface LogEntry {
  readonly level: "warn" | "error";
  readonly fields: Record<string, unknown>;
  readonly message: string;
}

/** A logger that keeps every entry for assertions. */
export function recordingLogger(): RpcLogger & { readonly entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  return {
    entries,
    warn(fields, message) {
      entries.push({ level: "warn", fields, message });
    },
    error(fields, message) {
      entries.push({ level: "error", fields, message });
    },
  };
}

/**
 * Resolves once `condition()` holds, checking after each short pause; rejects naming
 * `what` if it does not hold within `timeoutMs` (generous: this is a deadline, not a
 * timing assertion).
 */
export async function waitFor(
  condition: () => boolean,
  options: { readonly what: string; readonly timeoutMs?: number },
): Promise<void> {
  const deadline = performance.now() + (options.timeoutMs ?? 10_000);
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${options.what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** The real machine's `Env`, shared by the tests of one file. */
export function testEnv(): Env {
  return createNodeEnv();
}

/** A server with `register` applied, listening on 127.0.0.1 (port 0 unless given). */
export async function startServer(
  env: Env,
  options: {
    readonly register: (server: RpcServer) => void;
    readonly port?: number;
    readonly server?: Partial<RpcServerOptions>;
  },
): Promise<{
  server: RpcServer;
  address: RpcAddress;
  logger: ReturnType<typeof recordingLogger>;
}> {
  const logger = recordingLogger();
  const server = new RpcServer(env, { logger, ...options.server });
  options.register(server);
  const address = await server.listen({ host: "127.0.0.1", port: options.port ?? 0 });
  return { server, address, logger };
}

/** A client of `address`. */
export function startClient(
  env: Env,
  address: RpcAddress,
  options: Partial<RpcClientOptions> = {},
): { client: RpcClient; logger: ReturnType<typeof recordingLogger> } {
  const logger = recordingLogger();
  const client = new RpcClient(env, {
    host: address.host,
    port: address.port,
    logger,
    ...options,
  });
  return { client, logger };
}

/** A self-signed certificate for `localhost` and 127.0.0.1 via `openssl`, or why not. */
export function selfSignedCertificate(): (TlsOptions & { cert: string; key: string }) | string {
  const dir = mkdtempSync(join(tmpdir(), "tessera-rpc-tls-"));
  try {
    execFileSync(
      "openssl",
      [
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
        "-nodes", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"),
        "-days", "1", "-subj", "/CN=localhost",
        "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
      ],
      { stdio: "pipe" },
    );
    return {
      cert: readFileSync(join(dir, "cert.pem"), "utf8"),
      key: readFileSync(join(dir, "key.pem"), "utf8"),
    };
  } catch (error) {
    return `openssl could not make a certificate: ${String(error)}`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
