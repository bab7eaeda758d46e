/**
 * Every bound in Tessera, in one place, each with the reason for its value.
 *
 * A queue, cache, map, message or retry loop that is not bounded by a constant here is a
 * bug: unbounded things turn overload into out-of-memory crashes. When a bound is hit the
 * component pushes back with a typed error naming the limit, never silently drops work.
 */
export const limits = {
  /**
   * Largest RPC frame body. Raft snapshots and coprocessor results are streamed in chunks
   * well below this, so a bigger frame is a bug or an attack; 64 MiB matches the largest
   * MySQL packet we accept and keeps a single decode bounded in memory and time.
   */
  rpcFrameBytesMax: 64 * 1024 * 1024,
  /**
   * Calls one RPC client may have in flight on one connection. 4096 covers hundreds of
   * sessions multiplexed on a connection; past that, callers should feel backpressure.
   */
  rpcInFlightMax: 4096,
  /** Default per-call deadline when the caller names none: long enough for a stalled peer. */
  rpcDeadlineMsDefault: 20_000,
  /**
   * Bytes buffered for writing on one connection before new calls are refused. 64 MiB lets
   * one maximum frame through, and stops a slow peer from growing our heap without bound.
   */
  rpcWriteBufferBytesMax: 64 * 1024 * 1024,
  /**
   * Small frames written in one event-loop turn are coalesced into one socket write up to
   * this size: fewer syscalls under load, no added latency (we flush on the next tick).
   */
  rpcBatchBytesMax: 256 * 1024,
  /** Stream credit: messages a receiver lets a sender have outstanding before it must wait. */
  rpcStreamWindowMessages: 64,
  /** Reconnect backoff starts here and doubles… */
  rpcReconnectBackoffMsMin: 50,
  /** …up to this cap, so a returning peer is found within a couple of seconds. */
  rpcReconnectBackoffMsMax: 2_000,
  /** Connections one RPC server accepts; past it new ones are closed at once. */
  rpcServerConnectionsMax: 10_000,
  /**
   * Longest key the memcomparable codec accepts in one encoded value. TiKV's default
   * max key size is 8 KiB; values inside a key must fit in it.
   */
  keyBytesMax: 8 * 1024,
  /** Digits of a DECIMAL, as in MySQL (`DECIMAL(65, 30)`). */
  decimalDigitsMax: 65,
  /** Scale of a DECIMAL, as in MySQL. */
  decimalScaleMax: 30,
  /** Time a process waits for graceful shutdown before exiting anyway. */
  shutdownGraceMs: 10_000,
  /** Config file size: a TOML file larger than this is certainly a mistake. */
  configFileBytesMax: 1024 * 1024,
  /**
   * Connections one HTTP status server (`/metrics`, `/status`) accepts at once. Its clients
   * are a Prometheus scraper, a few operators and the launcher's health checks; more than
   * this is a misbehaving client, which must not exhaust the process's file descriptors.
   */
  statusServerConnectionsMax: 256,
} as const;

export type Limits = typeof limits;
