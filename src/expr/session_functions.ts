/**
 * The state behind the built-ins that are not functions of their arguments: RAND() (MySQL's
 * own generator, `my_rnd`, so `RAND(3)` gives MySQL's sequence), UUID() (version 1: time,
 * clock sequence and node), UUID_SHORT(), and the FOUND_ROWS() / ROW_COUNT() of the
 * previous statement.
 *
 * Pure: nothing here reads a clock or a random source. The SQL session seeds a
 * `SessionFunctionState` from its wall clock and connection id (as MySQL seeds each
 * connection's generator at connect), hands the evaluator a `SessionFunctions` per
 * statement through `EvalContext.functions`, and reports each statement's row counts
 * back. UUID()'s clock sequence and node and UUID_SHORT()'s counter belong to the SQL
 * node (`NodeFunctions`), shared by its sessions, as MySQL keeps them per server.
 */
import { Prng } from "../base/mod.ts";

/** MySQL's `rand_struct` and `my_rnd`: two seeds modulo 2^30 - 1. */
export class MySqlRandom {
  private static readonly maxValue = 0x3fffffff;
  private seed1: number;
  private seed2: number;

  /** MySQL's `randominit(seed1, seed2)`. */
  constructor(seed1: number, seed2: number) {
    this.seed1 = seed1 % MySqlRandom.maxValue;
    this.seed2 = seed2 % MySqlRandom.maxValue;
  }

  /**
   * The generator of RAND(seed) (MySQL's `Item_func_rand::seed_random`): the seed as a
   * 32-bit unsigned integer `n`, seeds `n * 0x10001 + 55555555` and `n * 0x10000001`,
   * each cut to 32 bits.
   */
  static fromSeed(seed: bigint): MySqlRandom {
    const n = BigInt.asUintN(32, seed);
    return new MySqlRandom(Number(BigInt.asUintN(32, n * 0x10001n + 55555555n)),
      Number(BigInt.asUintN(32, n * 0x10000001n)));
  }

  /** The next value in [0, 1). */
  next(): number {
    const max = MySqlRandom.maxValue;
    // seed1 * 3 + seed2 < 2^32: exact in a double.
    this.seed1 = (this.seed1 * 3 + this.seed2) % max;
    this.seed2 = (this.seed1 + this.seed2 + 33) % max;
    return this.seed1 / max;
  }
}

/** What the evaluator asks of a session for one statement. */
export interface SessionFunctions {
  /** FOUND_ROWS(): the rows the previous SELECT returned. */
  readonly foundRows: bigint;
  /** ROW_COUNT(): rows the previous statement changed; -1 after a result set or error. */
  readonly rowCount: bigint;
  /** The session's RAND() without a seed: its next value in [0, 1). */
  random(): number;
  /**
   * The generator of a RAND(seed) call whose seed is a constant: made from `seed` on the
   * first row of the statement and continued on the next rows, as MySQL does.
   */
  seeded(call: object, seed: bigint): MySqlRandom;
  /** UUID() at `epochMs`: a version 1 UUID, never the same twice on this node. */
  uuid(epochMs: number): string;
  /** UUID_SHORT(): the node's next value. */
  uuidShort(): bigint;
  /** SLEEP(seconds): the session waits once the statement has run. */
  sleep(seconds: number): void;
}

/** The longest total a statement's SLEEPs wait (MySQL's own bound: one year). */
const sleepMsMax = 365 * 24 * 3600 * 1000;

/** 100 ns intervals between 1582-10-15 (the UUID epoch) and 1970-01-01. */
const uuidEpochOffset = 122_192_928_000_000_000n;

/** The per-SQL-node part: UUID()'s clock sequence, node and last time; UUID_SHORT(). */
export class NodeFunctions {
  private readonly clockSeq: number;
  private readonly node: string;
  private lastTime = 0n;
  private nextShort: bigint;

  /** `startMs`: the node's start (UUID_SHORT's high bits); `seed`: any integer. */
  constructor(options: { readonly startMs: number; readonly seed: number;
    readonly serverId?: number }) {
    const prng = new Prng(options.seed);
    this.clockSeq = prng.nextUint32() & 0x3fff;
    // A random node id with the multicast bit set, as RFC 4122 §4.5 asks of one that is
    // not a MAC address.
    const bytes = [prng.nextUint32() & 0xff | 0x01];
    for (let i = 1; i < 6; i++) bytes.push(prng.nextUint32() & 0xff);
    this.node = bytes.map((b) => b.toString(16).padStart(2, "0")).join("");
    const serverId = BigInt((options.serverId ?? prng.nextUint32()) & 0xff);
    this.nextShort = (serverId << 56n) +
      (BigInt(Math.floor(options.startMs / 1000)) << 24n);
  }

  uuid(epochMs: number): string {
    let time = BigInt(Math.floor(epochMs)) * 10_000n + uuidEpochOffset;
    // Two UUIDs in the same 100 ns (or after the clock went back) get the next tick.
    if (time <= this.lastTime) time = this.lastTime + 1n;
    this.lastTime = time;
    const hex = (value: bigint, digits: number): string =>
      value.toString(16).padStart(digits, "0");
    const low = hex(time & 0xffffffffn, 8);
    const mid = hex((time >> 32n) & 0xffffn, 4);
    const high = hex(((time >> 48n) & 0x0fffn) | 0x1000n, 4);
    const seq = hex(BigInt(this.clockSeq | 0x8000), 4);
    return `${low}-${mid}-${high}-${seq}-${this.node}`;
  }

  uuidShort(): bigint {
    const value = this.nextShort;
    this.nextShort = BigInt.asUintN(64, value + 1n);
    return value;
  }
}

/** One session's generators and last row counts. */
export class SessionFunctionState {
  private readonly node: NodeFunctions;
  private readonly random: MySqlRandom;
  private foundRows = 0n;
  private sleepMs = 0;
  private rowCount = -1n;
  private statement: { readonly key: object; readonly functions: SessionFunctions } | null =
    null;

  /** `seed`: e.g. the connect time plus the connection id (MySQL: time and thread id). */
  constructor(options: { readonly node: NodeFunctions; readonly seed: number }) {
    this.node = options.node;
    const seed = Math.abs(Math.floor(options.seed));
    this.random = new MySqlRandom(seed % 0x3fffffff, Math.floor(seed / 7) % 0x3fffffff);
  }

  /**
   * The functions of the statement identified by `key` (any object the statement keeps
   * for its whole run): the same object for every call with the same key.
   */
  forStatement(key: object): SessionFunctions {
    if (this.statement?.key === key) return this.statement.functions;
    const seeded = new WeakMap<object, MySqlRandom>();
    const functions: SessionFunctions = {
      foundRows: this.foundRows,
      rowCount: this.rowCount,
      random: () => this.random.next(),
      seeded: (call, seed) => {
        let generator = seeded.get(call);
        if (generator === undefined) {
          generator = MySqlRandom.fromSeed(seed);
          seeded.set(call, generator);
        }
        return generator;
      },
      uuid: (epochMs) => this.node.uuid(epochMs),
      uuidShort: () => this.node.uuidShort(),
      sleep: (seconds) => {
        this.sleepMs = Math.min(this.sleepMs + seconds * 1000, sleepMsMax);
      },
    };
    this.statement = { key, functions };
    return functions;
  }

  /** The milliseconds SLEEP asked for since the last call (the session waits them). */
  takeSleepMs(): number {
    const ms = this.sleepMs;
    this.sleepMs = 0;
    return ms;
  }

  /**
   * Records what a finished statement leaves for FOUND_ROWS() and ROW_COUNT(): `rows`
   * returned by a result set (null: none), `changed` rows (null: -1, after a result set
   * or an error).
   */
  finishStatement(outcome: { readonly rows: number | null; readonly changed: bigint | null }):
    void {
    if (outcome.rows !== null) this.foundRows = BigInt(outcome.rows);
    this.rowCount = outcome.changed ?? -1n;
    this.statement = null;
  }
}
