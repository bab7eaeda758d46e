/**
 * The `Env` interface: everything a Tessera process needs from the outside world.
 *
 * Clocks, timers, randomness, the network, the file system and hashing all come through
 * an `Env`, so the same server code runs on the real machine (`env/node`) and inside the
 * deterministic simulator (`env/sim`), where time is virtual, randomness is seeded and
 * the network and disk can be told to fail. Nothing outside `env/node`, the engine
 * adapter and `cmd` touches `node:net`, `node:fs`, timers, `Date.now()` or `Math.random()`.
 *
 * All callbacks are invoked asynchronously (never re-entrantly from inside the call that
 * registered them), in both implementations.
 */

/** Time sources. */
export interface Clock {
  /**
   * Milliseconds on a monotonic clock with an arbitrary origin, fractional. Never goes
   * backwards; use it for leases, deadlines and durations.
   */
  monotonicMs(): number;
  /**
   * Milliseconds since the Unix epoch on the wall clock. May jump (NTP, operator); use it
   * only where a calendar time is meant (TSO physical time, logs).
   */
  wallMs(): number;
}

/** A scheduled callback; cancelling an already-fired or cancelled timer does nothing. */
export interface Timer {
  cancel(): void;
}

/**
 * Timers, on the same monotonic time as `Clock.monotonicMs`. A negative delay counts as 0;
 * a delay that is not finite is a bug (`AssertionError`). A callback that throws is a bug:
 * the error is not caught for the caller.
 */
export interface Timers {
  /** Calls `callback` once, after at least `delayMs` of monotonic time. */
  setTimeout(delayMs: number, callback: () => void): Timer;
  /** Calls `callback` every `intervalMs` (finite, above 0) until cancelled. */
  setInterval(intervalMs: number, callback: () => void): Timer;
  /**
   * Resolves after at least `delayMs` of monotonic time. Rejects with a `TesseraError`
   * coded `Env:Cancelled` (the abort reason as its `cause`) if `signal` aborts first, or
   * at once if it already has; the timer is then cancelled.
   */
  sleep(delayMs: number, signal?: AbortSignal): Promise<void>;
}

/** Randomness: cryptographic on a real machine, seeded in simulation. */
export interface Random {
  /** A uniform integer in [0, 2^32). */
  uint32(): number;
  /** A uniform float in [0, 1). */
  float(): number;
  /**
   * A uniform integer in [0, bound). Throws `RangeError` unless `bound` is a positive safe
   * integer.
   */
  int(bound: number): number;
  /** `length` random bytes (salts, nonces, connection ids). */
  bytes(length: number): Uint8Array;
}

/** TLS settings for a listener or a connection. PEM strings or bytes. */
export interface TlsOptions {
  readonly cert?: string | Uint8Array;
  readonly key?: string | Uint8Array;
  readonly ca?: string | Uint8Array;
  /** Client side: the name to verify the server certificate against. */
  readonly serverName?: string;
  /** Client side: false accepts any server certificate (tests only). */
  readonly rejectUnauthorized?: boolean;
}

/** Handlers for the events of one connection. Set once, before data can arrive. */
export interface ConnectionHandlers {
  /** Bytes arrived. The chunk is owned by the handler (it may keep it). */
  onData(chunk: Uint8Array): void;
  /** The write buffer drained below its high-water mark after `write` returned false. */
  onDrain(): void;
  /** The connection is closed, by either side; `error` is set if it closed because of one. */
  onClose(error: Error | undefined): void;
}

/** One established byte stream (TCP, optionally TLS). */
export interface Connection {
  /** `host:port` of the other side. */
  readonly remoteAddress: string;
  /** `host:port` of this side. */
  readonly localAddress: string;
  /** Installs the event handlers; data read before this is buffered, not lost. */
  setHandlers(handlers: ConnectionHandlers): void;
  /**
   * Queues bytes for sending. Returns false when the write buffer is above its high-water
   * mark: the caller should wait for `onDrain` before writing more.
   */
  write(chunk: Uint8Array): boolean;
  /** Bytes queued but not yet handed to the operating system. */
  readonly bufferedBytes: number;
  /** Stops reading (`true`) or resumes (`false`): receiver-side backpressure. */
  pause(paused: boolean): void;
  /** Flushes what is queued, then closes. */
  end(): void;
  /** Closes at once, dropping anything queued. */
  destroy(error?: Error): void;
  /** True when the bytes travel inside TLS (a TLS listener or client, or after `startTls`). */
  readonly secure: boolean;
  /**
   * Server side of STARTTLS: runs a TLS handshake as the server over this plain accepted
   * connection and resolves with the TLS connection, whose handlers start unset. `buffered`
   * holds bytes already read from this connection past the plain-text request (the start
   * of the client's hello); they are fed to TLS before anything else. From the call on,
   * this connection is inert: its handlers are never called again, `write` and `end` do
   * nothing, and `destroy` aborts a handshake still running (then nothing). Rejects with a
   * `TesseraError` coded `Env:TlsFailed` when the handshake fails or the connection closes
   * first; the socket is then closed. Absent where TLS is unavailable (the simulator).
   */
  startTls?(options: TlsOptions, buffered: Uint8Array): Promise<Connection>;
}

/** A listening socket. */
export interface Listener {
  /** The bound address; with port 0 requested, the port the system chose. */
  readonly host: string;
  readonly port: number;
  /** Stops accepting; existing connections stay open. Resolves once closed. */
  close(): Promise<void>;
}

export interface ListenOptions {
  readonly host: string;
  /** 0 lets the system choose a free port (tests always do this). */
  readonly port: number;
  readonly tls?: TlsOptions;
  /** Called for every accepted connection. */
  readonly onConnection: (connection: Connection) => void;
}

export interface ConnectOptions {
  readonly host: string;
  readonly port: number;
  readonly tls?: TlsOptions;
  /** Give up after this long. */
  readonly timeoutMs?: number;
}

/** TCP networking. */
export interface Network {
  /**
   * Binds and listens. Rejects with `Env:ListenFailed` naming the address (details carry
   * the system's `errno`, e.g. EADDRINUSE) when the address cannot be bound.
   */
  listen(options: ListenOptions): Promise<Listener>;
  /** Resolves with an open connection or rejects with `RPC:Connection:ConnectFailed`. */
  connect(options: ConnectOptions): Promise<Connection>;
}

/** An open file for random-access reads and writes. */
export interface FileHandle {
  /** Reads up to `length` bytes at `position`; a shorter result means end of file. */
  read(position: number, length: number): Promise<Uint8Array>;
  /** Writes all of `data` at `position`. */
  write(position: number, data: Uint8Array): Promise<void>;
  /** Appends all of `data` at the end of the file. */
  append(data: Uint8Array): Promise<void>;
  /** Current size in bytes. */
  size(): Promise<number>;
  /** Cuts the file to `length` bytes. */
  truncate(length: number): Promise<void>;
  /** Makes everything written so far durable (fdatasync). */
  sync(): Promise<void>;
  close(): Promise<void>;
}

/** The subset of a file system Tessera uses. Paths are OS paths. */
export interface FileSystem {
  /** Opens a file for reading and writing, creating it if `create` is set. */
  open(path: string, options: { readonly create: boolean }): Promise<FileHandle>;
  /** The whole file; rejects with an error whose `code` is `ENOENT` if absent. */
  readFile(path: string): Promise<Uint8Array>;
  /**
   * Replaces the file's contents atomically and durably: write a temporary file, sync it,
   * rename it over `path`, sync the directory. After a crash the file is old or new, whole.
   */
  writeFileAtomic(path: string, data: Uint8Array): Promise<void>;
  /**
   * Creates the file holding `data`, durably (file and directory synced), only if no file
   * of that name exists: otherwise rejects with an error whose `code` is `EEXIST` and
   * leaves the file alone. Of racing callers exactly one succeeds (`O_EXCL`): lock files.
   */
  createExclusive(path: string, data: Uint8Array): Promise<void>;
  /** Creates a directory and its parents; no error if it exists. */
  mkdir(path: string): Promise<void>;
  /** Names in a directory, sorted. */
  readdir(path: string): Promise<string[]>;
  /** Renames atomically within one file system. */
  rename(from: string, to: string): Promise<void>;
  /** Removes a file or a directory tree; no error if absent. */
  remove(path: string): Promise<void>;
  exists(path: string): Promise<boolean>;
  /** Makes a directory's entries (creates, renames) durable. */
  syncDir(path: string): Promise<void>;
}

/** Hash functions (MySQL authentication, checksums). Synchronous: they are CPU work. */
export interface Crypto {
  sha1(data: Uint8Array): Uint8Array;
  sha256(data: Uint8Array): Uint8Array;
  /** CRC-32 (the zlib polynomial) of `data`, for frame and file checksums. */
  crc32(data: Uint8Array): number;
}

/**
 * A fault point (FoundationDB's BUGGIFY): answers whether the code at `site` should take
 * its rare, legal-but-unlikely path now (delay, drop a message that may be lost, retry).
 * Always false on a real machine; in simulation seeded and fired with `probability`
 * (default 0.05) at sites the run activated. Code must stay correct whatever it answers.
 */
export type Buggify = (site: string, probability?: number) => boolean;

/** Everything a process takes from the outside world. */
export interface Env {
  readonly clock: Clock;
  readonly timers: Timers;
  readonly random: Random;
  readonly net: Network;
  readonly fs: FileSystem;
  readonly crypto: Crypto;
  /** Fault points; absent means never firing (test doubles may leave it out). */
  readonly buggify?: Buggify;
}
