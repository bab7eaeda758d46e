/**
 * Health checks the launchers (`tessera playground`, `tessera cluster`) wait on before
 * they start the next component: an HTTP GET that must answer 200 with JSON, and a real
 * `SELECT 1` through a SQL node's MySQL port.
 *
 * The MySQL check speaks just enough of the protocol (protocol 41, no TLS, `root` with an
 * empty password) to log in, run `SELECT 1`, read the one row back and quit, so the
 * launchers need no MySQL driver at run time. Waiting is by polling with a doubling
 * backoff up to a deadline — never a fixed sleep.
 */
import { Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { describeError } from "../base/mod.ts";

/** GETs `url` and returns its JSON body; throws on a network error or a status ≠ 200. */
export async function fetchJson(url: string, options: { readonly timeoutMs?: number } = {}):
  Promise<unknown> {
  const response = await fetch(url, { signal: AbortSignal.timeout(options.timeoutMs ?? 5_000) });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`${url} answered ${response.status}: ${text}`);
  return JSON.parse(text) as unknown;
}

/**
 * Calls `check` until it resolves, with a backoff from 50 ms doubling to 1 s, and throws
 * its last error once `deadlineMs` have passed. `alive` is asked before each retry: a
 * process that died is not waited for.
 */
export async function waitUntilHealthy<T>(
  check: () => Promise<T>,
  options: { readonly deadlineMs: number; readonly alive?: () => string | undefined },
): Promise<T> {
  const deadline = performance.now() + options.deadlineMs;
  for (let backoffMs = 50; ; backoffMs = Math.min(backoffMs * 2, 1_000)) {
    try {
      return await check();
    } catch (error) {
      const dead = options.alive?.();
      if (dead !== undefined) throw new Error(dead, { cause: error });
      if (performance.now() + backoffMs > deadline) {
        throw new Error(`not healthy within ${options.deadlineMs} ms: ${describeError(error)}`,
          { cause: error });
      }
      await sleep(backoffMs);
    }
  }
}

// Capability flags of the handshake response: LONG_PASSWORD, PROTOCOL_41, TRANSACTIONS,
// SECURE_CONNECTION, PLUGIN_AUTH.
const clientCapabilities = 0x1 | 0x200 | 0x2000 | 0x8000 | 0x80000;

/** Reads MySQL packets (3-byte length, 1-byte sequence, payload) off a socket. */
class PacketReader {
  private buffered = Buffer.alloc(0);
  private waiter: (() => void) | undefined;
  private failure: Error | undefined;

  constructor(socket: Socket) {
    socket.on("data", (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      this.waiter?.();
    });
    const fail = (error: Error): void => {
      this.failure = error;
      this.waiter?.();
    };
    socket.on("error", fail);
    socket.on("close", () => fail(new Error("connection closed by the server")));
  }

  async next(): Promise<{ sequence: number; payload: Buffer }> {
    for (;;) {
      if (this.buffered.length >= 4) {
        const length = this.buffered.readUIntLE(0, 3);
        if (this.buffered.length >= 4 + length) {
          const packet = {
            sequence: this.buffered[3] ?? 0,
            payload: this.buffered.subarray(4, 4 + length),
          };
          this.buffered = this.buffered.subarray(4 + length);
          return packet;
        }
      }
      if (this.failure !== undefined) throw this.failure;
      await new Promise<void>((resolve) => (this.waiter = resolve));
      this.waiter = undefined;
    }
  }
}

function packet(sequence: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(4);
  header.writeUIntLE(payload.length, 0, 3);
  header[3] = sequence;
  return Buffer.concat([header, payload]);
}

function serverError(payload: Buffer): Error {
  // ERR: 0xff, 2-byte code, '#' + 5-byte SQLSTATE, message.
  return new Error(`MySQL error ${payload.readUInt16LE(1)}: ${payload.subarray(9).toString()}`);
}

/**
 * Logs in to the MySQL server at `host:port` as `root` (empty password), runs `SELECT 1`
 * and checks the answer is one row holding 1. Throws if anything else happens.
 */
export async function mysqlSelectOne(
  host: string,
  port: number,
  options: { readonly timeoutMs?: number } = {},
): Promise<void> {
  const socket = new Socket();
  socket.setTimeout(options.timeoutMs ?? 5_000, () => socket.destroy(new Error("timed out")));
  const reader = new PacketReader(socket);
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once("error", reject);
      socket.connect(port, host, () => resolve());
    });
    const greeting = await reader.next();
    if (greeting.payload[0] === 0xff) throw serverError(greeting.payload);
    if (greeting.payload[0] !== 10) throw new Error("not a MySQL handshake (protocol 10)");
    const fixed = Buffer.alloc(32);
    fixed.writeUInt32LE(clientCapabilities, 0);
    fixed.writeUInt32LE(16 * 1024 * 1024, 4);
    fixed[8] = 33; // utf8_general_ci
    const response = Buffer.concat([
      fixed,
      Buffer.from("root\0"),
      Buffer.from([0]), // empty auth response
      Buffer.from("mysql_native_password\0"),
    ]);
    socket.write(packet(greeting.sequence + 1, response));
    for (;;) {
      const reply = await reader.next();
      if (reply.payload[0] === 0x00) break;
      if (reply.payload[0] === 0xff) throw serverError(reply.payload);
      // An auth switch or more-data request: an empty password answers with nothing.
      socket.write(packet(reply.sequence + 1, Buffer.alloc(0)));
    }
    socket.write(packet(0, Buffer.concat([Buffer.from([0x03]), Buffer.from("SELECT 1")])));
    const rows: Buffer[] = [];
    let eofs = 0;
    while (eofs < 2) {
      const { payload } = await reader.next();
      if (payload[0] === 0xff) throw serverError(payload);
      if (payload[0] === 0xfe && payload.length < 9) eofs++;
      else if (eofs === 1) rows.push(payload);
    }
    const row = rows[0];
    if (rows.length !== 1 || row === undefined || row.toString("latin1") !== "\u00011") {
      throw new Error(`SELECT 1 returned ${rows.length} rows`);
    }
    socket.end(packet(0, Buffer.from([0x01]))); // COM_QUIT
  } finally {
    socket.destroy();
  }
}
