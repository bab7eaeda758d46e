/**
 * `SimNetwork`: TCP-like byte streams between named hosts of one simulation, on a
 * `SimScheduler`'s virtual time, with faults a test controls (`SimNetworkControl`).
 *
 * Model. Every process of a simulation has a host name; `forHost(name)` gives it a
 * `Network` whose listeners are keyed by `host:port` (a wildcard or loopback listen host
 * means the process's own host, and so does a loopback connect target). A connection is two
 * pipes, one per direction. A chunk written travels its link's delay (uniform in
 * `[minMs, maxMs]`, drawn from the network's own seeded `Prng`) but never overtakes an
 * earlier chunk of its pipe: TCP delivers bytes in order or not at all, so there is no
 * message loss, duplication or reordering inside a stream. Chunks may arrive split in two
 * (`fragmentation`), as TCP segments do. A connect is a SYN and a SYN-ACK, each crossing
 * the link; a SYN to a port nobody listens on is answered with a refusal.
 *
 * Faults. `partition(a, b)` and `isolate(host)` block links: whatever crosses a blocked
 * link (data, FINs, resets, SYNs) stalls, in order, until `heal`, as TCP retransmits
 * through an outage; a connect with a timeout fails at the timeout. Loss is modelled as
 * what TCP makes of it when it gives up: `setResetProbability(a, b, p)` resets a connection
 * (both sides close with `ECONNRESET`) on each chunk it sends with probability `p`, and
 * `resetConnections` / `crashHost` reset on demand.
 *
 * Backpressure: a side's `bufferedBytes` counts bytes it wrote that the peer's `onData`
 * has not yet taken (in flight, stalled, or held at a paused receiver); `write` returns
 * false once that reaches the high-water mark, and `onDrain` follows when it falls below.
 *
 * Every callback (`onConnection`, `onData`, `onDrain`, `onClose`, promise settlements)
 * runs from a scheduler callback, never from inside the call that caused it. All state
 * is owned by the `SimNetwork`; the same seed and the same calls give the same run.
 */
import { ErrorCode, Prng, TesseraError, assert } from "../../base/mod.ts";
import type {
  ConnectOptions,
  Connection,
  ConnectionHandlers,
  Listener,
  ListenOptions,
  Network,
  TlsOptions,
} from "../env.ts";
import type { SimScheduler } from "./scheduler.ts";

/** One-way delay of a link, uniform in `[minMs, maxMs]`. */
export interface LinkDelay {
  readonly minMs: number;
  readonly maxMs: number;
}

export interface SimNetworkOptions {
  /** Seeds the network's own `Prng` (delays, fragmentation, resets). */
  readonly seed: number;
  /** Delay of every link not given one by `setDelay` (default 0.5–2 ms). */
  readonly delay?: LinkDelay;
  /** Bytes a side may have unread by its peer before `write` returns false (16 KiB). */
  readonly highWaterBytes?: number;
  /** Whether chunks may arrive split in two (default true). */
  readonly fragmentation?: boolean;
}

/** Counters of what the network did; tests put them in traces. */
export interface SimNetworkStats {
  connectionsOpened: number;
  connectsRefused: number;
  chunksDelivered: number;
  bytesDelivered: number;
  resets: number;
}

/** The fault controls of a simulated network. Host names are those given to `forHost`. */
export interface SimNetworkControl {
  /** Blocks the link between `a` and `b` both ways: what crosses it stalls until healed. */
  partition(a: string, b: string): void;
  /** Blocks every link of `host` but its loopback. */
  isolate(host: string): void;
  /**
   * Unblocks links and lets stalled traffic through: with no argument every link; with
   * one, every partition of that host and its isolation; with two, that link.
   */
  heal(a?: string, b?: string): void;
  /** Sets the delay of the link between `a` and `b` (`a === b` for loopback). */
  setDelay(a: string, b: string, delay: LinkDelay): void;
  /** Each chunk sent between `a` and `b` resets its connection with probability `p`. */
  setResetProbability(a: string, b: string, p: number): void;
  /** Resets every open connection between `a` and `b`; returns how many. */
  resetConnections(a: string, b: string): number;
  /**
   * The host's process died: its listeners vanish and its connections are reset for its
   * peers (who see `ECONNRESET` once the reset crosses the link); its own side goes
   * silent, calling no handler.
   */
  crashHost(host: string): void;
  /** True when traffic between `a` and `b` is blocked. */
  isBlocked(a: string, b: string): boolean;
  readonly stats: Readonly<SimNetworkStats>;
}

const delayDefault: LinkDelay = { minMs: 0.5, maxMs: 2 };
const highWaterBytesDefault = 16 * 1024;
/** Chance that a chunk of more than one byte arrives split in two. */
const fragmentProbability = 0.1;
const ephemeralPortFirst = 49_152;
const portLast = 65_535;
const wildcardHosts = new Set(["", "0.0.0.0", "::", "127.0.0.1", "localhost", "::1"]);

type Item =
  | { readonly kind: "data"; readonly chunk: Uint8Array }
  | { readonly kind: "fin" }
  | { readonly kind: "rst" };

/** One direction of a connection. */
class Pipe {
  from: SimConnection;
  to: SimConnection;
  /** Bytes written into this pipe and not yet taken by the receiver's `onData`. */
  bytes = 0;
  /** Virtual time the last scheduled item arrives; later items never arrive earlier. */
  lastArrivalMs = 0;
  /** Items waiting for a blocked link to heal, in order. */
  stalled: Item[] = [];
  /** Items at the receiver waiting for handlers or for it to resume. */
  arrived: Item[] = [];
  /** Bumped to drop items already on their way (after a reset). */
  epoch = 0;
  /** Set once nothing more may pass (either end is gone). */
  dead = false;

  constructor(from: SimConnection, to: SimConnection) {
    this.from = from;
    this.to = to;
  }
}

type ConnectionState = "open" | "closed" | "inert";

/** One side of a simulated connection. */
class SimConnection implements Connection {
  readonly remoteAddress: string;
  readonly localAddress: string;
  readonly host: string;
  readonly peerHost: string;
  secure: boolean;
  /** Set right after construction, for both sides. */
  outgoing!: Pipe;
  incoming!: Pipe;
  handlers: ConnectionHandlers | undefined;
  paused = false;
  state: ConnectionState = "open";
  /** `end()` was called: a FIN is queued and writes are refused. */
  writeEnded = false;
  finReceived = false;
  finDelivered = false;
  needDrain = false;
  /** A close that happened before `setHandlers`; reported when they are set. */
  closedEarly: { readonly error: Error | undefined } | undefined;
  private readonly network: SimNetwork;

  constructor(
    network: SimNetwork,
    addresses: { local: string; remote: string; host: string; peerHost: string },
    secure: boolean,
  ) {
    this.network = network;
    this.localAddress = addresses.local;
    this.remoteAddress = addresses.remote;
    this.host = addresses.host;
    this.peerHost = addresses.peerHost;
    this.secure = secure;
  }

  setHandlers(handlers: ConnectionHandlers): void {
    if (this.handlers !== undefined) throw new Error("Connection.setHandlers called twice");
    if (this.state === "inert") throw new Error("Connection.setHandlers after startTls");
    this.handlers = handlers;
    const early = this.closedEarly;
    if (early !== undefined) {
      this.closedEarly = undefined;
      this.network.later(() => handlers.onClose(early.error));
      return;
    }
    this.network.later(() => this.network.deliver(this.incoming));
  }

  write(chunk: Uint8Array): boolean {
    if (this.state !== "open" || this.writeEnded) return false;
    if (chunk.length > 0) {
      this.outgoing.bytes += chunk.length;
      this.network.transmit(this.outgoing, { kind: "data", chunk: new Uint8Array(chunk) });
    }
    const below = this.outgoing.bytes < this.network.highWaterBytes;
    if (!below) this.needDrain = true;
    return below;
  }

  get bufferedBytes(): number {
    return this.state === "open" ? this.outgoing.bytes : 0;
  }

  pause(paused: boolean): void {
    if (this.state !== "open") return;
    const resumed = this.paused && !paused;
    this.paused = paused;
    if (resumed) this.network.later(() => this.network.deliver(this.incoming));
  }

  end(): void {
    if (this.state !== "open" || this.writeEnded) return;
    this.writeEnded = true;
    this.network.transmit(this.outgoing, { kind: "fin" });
  }

  destroy(error?: Error): void {
    if (this.state !== "open") return;
    this.network.abort(this, error);
  }

  startTls(_options: TlsOptions, buffered: Uint8Array): Promise<Connection> {
    if (this.state === "inert") throw new Error("Connection.startTls called twice");
    if (this.secure) throw new Error("Connection.startTls on a TLS connection");
    if (this.state === "closed") {
      return Promise.reject(
        new TesseraError(ErrorCode.EnvTlsFailed,
          `TLS handshake with ${this.remoteAddress} failed: the connection is closed`,
          { details: { remoteAddress: this.remoteAddress } }),
      );
    }
    // A pass-through: the simulator encrypts nothing, it only hands the byte stream to a
    // new connection object that reports `secure`.
    const upgraded = this.network.transfer(this, buffered);
    return new Promise((resolve) => this.network.later(() => resolve(upgraded)));
  }
}

/** A listening port. */
class SimListener implements Listener {
  readonly host: string;
  readonly port: number;
  readonly tls: boolean;
  readonly onConnection: (connection: Connection) => void;
  private readonly network: SimNetwork;
  private closing: Promise<void> | undefined;

  constructor(network: SimNetwork, options: ListenOptions, host: string, port: number) {
    this.network = network;
    this.host = host;
    this.port = port;
    this.tls = options.tls !== undefined;
    this.onConnection = options.onConnection;
  }

  close(): Promise<void> {
    this.closing ??= new Promise((resolve) => {
      this.network.unlisten(this);
      this.network.later(resolve);
    });
    return this.closing;
  }
}

/** The `Network` of one host. */
class SimHostNetwork implements Network {
  private readonly network: SimNetwork;
  private readonly host: string;

  constructor(network: SimNetwork, host: string) {
    this.network = network;
    this.host = host;
  }

  listen(options: ListenOptions): Promise<Listener> {
    return this.network.listen(this.host, options);
  }

  connect(options: ConnectOptions): Promise<Connection> {
    return this.network.connect(this.host, options);
  }
}

/** The simulated network of one simulation; see the file comment. */
export class SimNetwork implements SimNetworkControl {
  readonly highWaterBytes: number;
  readonly stats: SimNetworkStats = {
    connectionsOpened: 0,
    connectsRefused: 0,
    chunksDelivered: 0,
    bytesDelivered: 0,
    resets: 0,
  };
  private readonly scheduler: SimScheduler;
  private readonly prng: Prng;
  private readonly delayDefault: LinkDelay;
  private readonly fragmentation: boolean;
  private readonly listeners = new Map<string, SimListener>();
  private readonly connections = new Set<SimConnection>();
  private readonly partitions = new Set<string>();
  private readonly isolated = new Set<string>();
  private readonly delays = new Map<string, LinkDelay>();
  private readonly resetProbabilities = new Map<string, number>();
  /** Pipes with stalled items, in the order they first stalled. */
  private readonly stalledPipes = new Set<Pipe>();
  /** Handshake messages waiting for a blocked link, in order. */
  private stalledControl: { from: string; to: string; run: () => void }[] = [];
  private nextPort = ephemeralPortFirst;

  constructor(scheduler: SimScheduler, options: SimNetworkOptions) {
    this.scheduler = scheduler;
    this.prng = new Prng(options.seed);
    this.delayDefault = options.delay ?? delayDefault;
    checkDelay(this.delayDefault);
    this.highWaterBytes = options.highWaterBytes ?? highWaterBytesDefault;
    this.fragmentation = options.fragmentation ?? true;
  }

  /** The `Network` a process on `host` uses. */
  forHost(host: string): Network {
    assert(host.length > 0, "SimNetwork.forHost: empty host name");
    return new SimHostNetwork(this, host);
  }

  // --- Control ---------------------------------------------------------------------------

  partition(a: string, b: string): void {
    if (a !== b) this.partitions.add(linkKey(a, b));
  }

  isolate(host: string): void {
    this.isolated.add(host);
  }

  heal(a?: string, b?: string): void {
    if (a === undefined) {
      this.partitions.clear();
      this.isolated.clear();
    } else if (b === undefined) {
      this.isolated.delete(a);
      for (const key of [...this.partitions]) {
        if (JSON.parse(key).includes(a)) this.partitions.delete(key);
      }
    } else {
      this.partitions.delete(linkKey(a, b));
    }
    this.releaseStalled();
  }

  setDelay(a: string, b: string, delay: LinkDelay): void {
    checkDelay(delay);
    this.delays.set(linkKey(a, b), delay);
  }

  setResetProbability(a: string, b: string, p: number): void {
    assert(p >= 0 && p <= 1, `SimNetwork.setResetProbability: bad probability ${p}`);
    this.resetProbabilities.set(linkKey(a, b), p);
  }

  resetConnections(a: string, b: string): number {
    let count = 0;
    for (const connection of [...this.connections]) {
      if (connection.state !== "open") continue;
      const between = (connection.host === a && connection.peerHost === b) ||
        (connection.host === b && connection.peerHost === a);
      // Each connection is in the set twice (one per side); reset it from one side.
      if (!between || connection.outgoing.dead) continue;
      this.resetBoth(connection, "simulated connection reset");
      count++;
    }
    return count;
  }

  crashHost(host: string): void {
    for (const [key, listener] of [...this.listeners]) {
      if (listener.host === host) this.listeners.delete(key);
    }
    for (const connection of [...this.connections]) {
      if (connection.host !== host || connection.state !== "open") continue;
      connection.handlers = undefined;
      this.abort(connection, undefined);
      connection.closedEarly = undefined;
    }
  }

  isBlocked(a: string, b: string): boolean {
    if (a === b) return false;
    return this.isolated.has(a) || this.isolated.has(b) || this.partitions.has(linkKey(a, b));
  }

  // --- Network ---------------------------------------------------------------------------

  listen(host: string, options: ListenOptions): Promise<Listener> {
    const boundHost = wildcardHosts.has(options.host) ? host : options.host;
    return new Promise((resolve, reject) => {
      this.later(() => {
        let port = options.port;
        if (port === 0) {
          const free = this.freePort(boundHost);
          if (free === undefined) {
            reject(new TesseraError(ErrorCode.EnvListenFailed,
              `cannot listen on ${boundHost}:0: EADDRNOTAVAIL (no free port)`,
              { details: { address: `${boundHost}:0`, errno: "EADDRNOTAVAIL" } }));
            return;
          }
          port = free;
        }
        const key = `${boundHost}:${port}`;
        if (this.listeners.has(key)) {
          reject(new TesseraError(ErrorCode.EnvListenFailed,
            `cannot listen on ${key}: EADDRINUSE`,
            { details: { address: key, errno: "EADDRINUSE" } }));
          return;
        }
        const listener = new SimListener(this, options, boundHost, port);
        this.listeners.set(key, listener);
        resolve(listener);
      });
    });
  }

  connect(from: string, options: ConnectOptions): Promise<Connection> {
    const toHost = wildcardHosts.has(options.host) ? from : options.host;
    const target = `${options.host}:${options.port}`;
    return new Promise((resolve, reject) => {
      let settled = false;
      const fail = (cause: Error): void => {
        if (settled) return;
        settled = true;
        timer?.cancel();
        reject(new TesseraError(ErrorCode.RpcConnectFailed,
          `connect to ${target} failed: ${cause.message}`,
          { cause, details: { host: options.host, port: options.port } }));
      };
      const timeoutMs = options.timeoutMs;
      const timer = timeoutMs === undefined ? undefined : this.scheduler.schedule(timeoutMs,
        () => fail(new Error(`timed out after ${timeoutMs} ms`)));
      const onSyn = (): void => {
        if (settled) return;
        const listener = this.listeners.get(`${toHost}:${options.port}`);
        if (listener === undefined) {
          this.stats.connectsRefused++;
          this.sendControl(toHost, from, () =>
            fail(errnoError("ECONNREFUSED", `connect ECONNREFUSED ${target}`)));
          return;
        }
        const localPort = this.freePort(from) ?? 0;
        const client = new SimConnection(this, {
          local: `${from}:${localPort}`,
          remote: `${toHost}:${options.port}`,
          host: from,
          peerHost: toHost,
        }, options.tls !== undefined);
        const server = new SimConnection(this, {
          local: `${toHost}:${options.port}`,
          remote: `${from}:${localPort}`,
          host: toHost,
          peerHost: from,
        }, listener.tls);
        this.pair(client, server);
        this.stats.connectionsOpened++;
        listener.onConnection(server);
        this.sendControl(toHost, from, () => {
          if (settled) {
            // The caller gave up meanwhile: the half-open connection is torn down.
            client.destroy();
            return;
          }
          settled = true;
          timer?.cancel();
          resolve(client);
        });
      };
      this.sendControl(from, toHost, onSyn);
    });
  }

  // --- Internals shared with connections and listeners -----------------------------------

  /** Runs `callback` from the scheduler, after the current call returns. */
  later(callback: () => void): void {
    this.scheduler.schedule(0, callback);
  }

  unlisten(listener: SimListener): void {
    const key = `${listener.host}:${listener.port}`;
    if (this.listeners.get(key) === listener) this.listeners.delete(key);
  }

  /** Sends `item` down `pipe`, or stalls it behind a blocked link. */
  transmit(pipe: Pipe, item: Item): void {
    // A reset still leaves a dead pipe: it is how the peer learns of the abort.
    if (pipe.dead && item.kind !== "rst") return;
    const a = pipe.from.host;
    const b = pipe.to.host;
    if (pipe.stalled.length > 0 || this.isBlocked(a, b)) {
      pipe.stalled.push(item);
      this.stalledPipes.add(pipe);
      return;
    }
    if (item.kind === "data") {
      const p = this.resetProbabilities.get(linkKey(a, b)) ?? 0;
      if (p > 0 && this.prng.nextFloat() < p) {
        this.resetBoth(pipe.from, "simulated loss: TCP gave up and reset the connection");
        return;
      }
      const chunk = item.chunk;
      if (this.fragmentation && chunk.length > 1 && this.prng.nextBool(fragmentProbability)) {
        const cut = 1 + this.prng.nextInt(chunk.length - 1);
        this.schedule(pipe, { kind: "data", chunk: chunk.subarray(0, cut) });
        this.schedule(pipe, { kind: "data", chunk: chunk.subarray(cut) });
        return;
      }
    }
    this.schedule(pipe, item);
  }

  /** Hands arrived items to the receiver while it has handlers and is not paused. */
  deliver(pipe: Pipe): void {
    const to = pipe.to;
    while (pipe.arrived.length > 0 && to.state === "open" && to.handlers !== undefined &&
      !to.paused) {
      const item = pipe.arrived.shift() as Item;
      switch (item.kind) {
        case "data":
          pipe.bytes -= item.chunk.length;
          this.stats.chunksDelivered++;
          this.stats.bytesDelivered += item.chunk.length;
          to.handlers.onData(item.chunk);
          break;
        case "fin":
          pipe.from.finDelivered = true;
          this.maybeClose(pipe.from);
          to.finReceived = true;
          // Like a Node socket without allowHalfOpen: the peer's end ends this side too.
          to.end();
          this.maybeClose(to);
          break;
        case "rst":
          break;
      }
    }
    const from = pipe.from;
    if (from.needDrain && from.state === "open" && pipe.bytes < this.highWaterBytes) {
      from.needDrain = false;
      this.later(() => {
        if (from.state === "open") from.handlers?.onDrain();
      });
    }
  }

  /** `destroy` of one side: it closes at once, its peer hears a reset over the link. */
  abort(connection: SimConnection, error: Error | undefined): void {
    const outgoing = connection.outgoing;
    const incoming = connection.incoming;
    outgoing.epoch++;
    outgoing.stalled = [];
    outgoing.bytes = 0;
    incoming.epoch++;
    incoming.stalled = [];
    incoming.arrived = [];
    incoming.bytes = 0;
    incoming.dead = true;
    this.close(connection, error);
    if (!outgoing.dead) this.transmit(outgoing, { kind: "rst" });
    outgoing.dead = true;
  }

  /**
   * Moves a connection's byte stream to a new, secure connection object (STARTTLS):
   * `buffered` bytes come first; the old object goes inert.
   */
  transfer(old: SimConnection, buffered: Uint8Array): SimConnection {
    const upgraded = new SimConnection(this, {
      local: old.localAddress,
      remote: old.remoteAddress,
      host: old.host,
      peerHost: old.peerHost,
    }, true);
    upgraded.outgoing = old.outgoing;
    upgraded.incoming = old.incoming;
    upgraded.outgoing.from = upgraded;
    upgraded.incoming.to = upgraded;
    upgraded.writeEnded = old.writeEnded;
    upgraded.finReceived = old.finReceived;
    upgraded.finDelivered = old.finDelivered;
    if (buffered.length > 0) {
      upgraded.incoming.bytes += buffered.length;
      upgraded.incoming.arrived.unshift({ kind: "data", chunk: new Uint8Array(buffered) });
    }
    old.state = "inert";
    old.handlers = undefined;
    this.connections.delete(old);
    this.connections.add(upgraded);
    return upgraded;
  }

  // --- Private ---------------------------------------------------------------------------

  private pair(client: SimConnection, server: SimConnection): void {
    const up = new Pipe(client, server);
    const down = new Pipe(server, client);
    client.outgoing = up;
    client.incoming = down;
    server.outgoing = down;
    server.incoming = up;
    this.connections.add(client);
    this.connections.add(server);
  }

  private schedule(pipe: Pipe, item: Item): void {
    const nowMs = this.scheduler.monotonicMs();
    const arrivalMs = Math.max(pipe.lastArrivalMs, nowMs + this.drawDelay(pipe.from.host,
      pipe.to.host));
    pipe.lastArrivalMs = arrivalMs;
    const epoch = pipe.epoch;
    this.scheduler.schedule(arrivalMs - nowMs, () => {
      if (item.kind === "rst") {
        this.onReset(pipe.to);
        return;
      }
      if (pipe.epoch !== epoch || pipe.dead) return;
      pipe.arrived.push(item);
      this.deliver(pipe);
    });
  }

  private onReset(connection: SimConnection): void {
    if (connection.state !== "open") return;
    connection.outgoing.dead = true;
    connection.outgoing.epoch++;
    connection.outgoing.bytes = 0;
    connection.incoming.arrived = [];
    this.stats.resets++;
    this.close(connection, errnoError("ECONNRESET", "read ECONNRESET"));
  }

  /** The network resets a connection: both sides close with `ECONNRESET` now. */
  private resetBoth(side: SimConnection, why: string): void {
    const other = side.outgoing.to;
    for (const connection of [side, other]) {
      if (connection.state !== "open") continue;
      connection.outgoing.dead = true;
      connection.outgoing.epoch++;
      connection.outgoing.stalled = [];
      connection.outgoing.bytes = 0;
      connection.incoming.arrived = [];
      this.close(connection, errnoError("ECONNRESET", `read ECONNRESET (${why})`));
    }
    this.stats.resets++;
  }

  private maybeClose(connection: SimConnection): void {
    if (connection.finReceived && connection.finDelivered) this.close(connection, undefined);
  }

  private close(connection: SimConnection, error: Error | undefined): void {
    if (connection.state !== "open") return;
    connection.state = "closed";
    this.connections.delete(connection);
    const handlers = connection.handlers;
    if (handlers === undefined) {
      connection.closedEarly = { error };
      return;
    }
    this.later(() => handlers.onClose(error));
  }

  private sendControl(from: string, to: string, run: () => void): void {
    if (this.isBlocked(from, to)) {
      this.stalledControl.push({ from, to, run });
      return;
    }
    this.scheduler.schedule(this.drawDelay(from, to), run);
  }

  private releaseStalled(): void {
    const control = this.stalledControl;
    this.stalledControl = [];
    for (const message of control) this.sendControl(message.from, message.to, message.run);
    for (const pipe of [...this.stalledPipes]) {
      if (this.isBlocked(pipe.from.host, pipe.to.host)) continue;
      this.stalledPipes.delete(pipe);
      const items = pipe.stalled;
      pipe.stalled = [];
      for (const item of items) this.transmit(pipe, item);
    }
  }

  private drawDelay(a: string, b: string): number {
    const delay = this.delays.get(linkKey(a, b)) ?? this.delayDefault;
    return delay.minMs + this.prng.nextFloat() * (delay.maxMs - delay.minMs);
  }

  /** The next port on `host` neither listened on nor handed out recently. */
  private freePort(host: string): number | undefined {
    const span = portLast - ephemeralPortFirst + 1;
    for (let tries = 0; tries < span; tries++) {
      const port = this.nextPort;
      this.nextPort = port === portLast ? ephemeralPortFirst : port + 1;
      if (!this.listeners.has(`${host}:${port}`)) return port;
    }
    return undefined;
  }
}

/** The key of the undirected link between two hosts. */
function linkKey(a: string, b: string): string {
  return JSON.stringify(a < b ? [a, b] : [b, a]);
}

function checkDelay(delay: LinkDelay): void {
  assert(
    Number.isFinite(delay.minMs) && Number.isFinite(delay.maxMs) && delay.minMs >= 0 &&
      delay.maxMs >= delay.minMs,
    `SimNetwork: bad link delay ${JSON.stringify(delay)}`,
  );
}

/** An `Error` with a Node-style `code`, as the real network produces. */
function errnoError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}
