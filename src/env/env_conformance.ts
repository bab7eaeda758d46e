/**
 * The conformance suite every `Env` implementation runs: one set of `node:test` cases for
 * `Clock`, `Timers`, `Random` and `Crypto`, one for `FileSystem` and one for `Network`, so
 * the real machine (`env/node`) and the simulator (`env/sim`) keep the same contract.
 *
 * The suite is told how to let time pass: on the real machine that is waiting, in the
 * simulator it is advancing the scheduler. Cases never assert how long anything took;
 * they wait for conditions with a generous budget of passed time and check only the
 * guarantees the interface makes (order, cancellation, "no earlier than").
 *
 * This file is imported only by tests.
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import { describe, test } from "node:test";
import { ErrorCode, hasErrorCode } from "../base/mod.ts";
import type {
  Clock,
  Connection,
  Crypto,
  FileSystem,
  Listener,
  Network,
  Random,
  Timers,
} from "./env.ts";

/** The parts of an `Env` under test, plus a way to let time pass for them. */
export interface TimeConformanceSubject {
  readonly clock: Clock;
  readonly timers: Timers;
  readonly random: Random;
  readonly crypto: Crypto;
  /**
   * Lets at least `ms` of this subject's time pass, running the timers due by then, and
   * returns once the promise reactions those timers triggered have run.
   */
  passTime(ms: number): Promise<void>;
}

export interface TimeConformanceOptions {
  /** Names the implementation in every test name, e.g. `NodeEnv`. */
  readonly name: string;
  /** A fresh subject for one test. */
  create(): TimeConformanceSubject;
  /**
   * A `Random` from a seed, for implementations that are reproducible: enables the
   * same-seed cases.
   */
  readonly seeded?: (seed: number) => Random;
}

/** Per-test timeout: far above the waiting budget, so a hang fails instead of stalling. */
const testTimeoutMs = 20_000;
/** Time passed per step while waiting for a condition. */
const waitStepMs = 5;
/**
 * How far apart two deadlines must be for their order to be checked: Node keeps timer
 * deadlines in whole milliseconds.
 */
const deadlineSlackMs = 2;
/** Passed time after which a waited-for condition counts as never coming true. */
const waitBudgetMs = 5_000;

/** Registers the `Clock`, `Timers`, `Random` and `Crypto` cases for one implementation. */
export function registerTimeConformanceTests(options: TimeConformanceOptions): void {
  const { create, seeded } = options;
  const it = (name: string, body: () => Promise<void> | void): void => {
    test(`${options.name}: ${name}`, { timeout: testTimeoutMs }, body);
  };

  describe(`${options.name} conformance: Clock`, () => {
    it("Clock.monotonicMs() never decreases", async () => {
      const subject = create();
      let previous = subject.clock.monotonicMs();
      for (let step = 0; step < 5; step++) {
        for (let i = 0; i < 1000; i++) {
          const now = subject.clock.monotonicMs();
          assert.ok(now >= previous, `monotonicMs went from ${previous} to ${now}`);
          previous = now;
        }
        await subject.passTime(1);
      }
    });

    it("Clock.wallMs() counts milliseconds since the Unix epoch", () => {
      const wallMs = create().clock.wallMs();
      assert.ok(Number.isFinite(wallMs));
      assert.ok(wallMs > Date.UTC(2000, 0, 1), `wallMs ${wallMs} is before 2000`);
    });
  });

  describe(`${options.name} conformance: Timers`, () => {
    it("Timers.setTimeout() fires callbacks in deadline order", async () => {
      const subject = create();
      // Each deadline is known to lie between the clock before and after its setTimeout;
      // on a loaded machine the process can stall between two calls, which legitimately
      // reorders deadlines, so only pairs whose ranges are apart are checked.
      const earliestMs: number[] = [];
      const latestMs: number[] = [];
      const fired: number[] = [];
      [60, 20, 40, 0, 20].forEach((delayMs, i) => {
        earliestMs.push(subject.clock.monotonicMs() + delayMs);
        subject.timers.setTimeout(delayMs, () => fired.push(i));
        latestMs.push(subject.clock.monotonicMs() + delayMs);
      });
      await waitFor(subject, () => fired.length === 5, "five timeouts");
      assert.equal(new Set(fired).size, 5);
      for (let a = 0; a < fired.length; a++) {
        for (let b = a + 1; b < fired.length; b++) {
          const first = fired[a] as number;
          const second = fired[b] as number;
          assert.ok(
            (latestMs[second] as number) + deadlineSlackMs >= (earliestMs[first] as number),
            `timeout #${second} was due before timeout #${first} but fired after it: ${fired}`,
          );
        }
      }
    });

    it("Timers.setTimeout() never calls back from inside the call that scheduled it", async () => {
      const subject = create();
      let fired = false;
      subject.timers.setTimeout(0, () => (fired = true));
      assert.equal(fired, false);
      await waitFor(subject, () => fired, "a zero-delay timeout");
    });

    it("Timers.setTimeout() fires no earlier than delayMs on the monotonic clock", async () => {
      const subject = create();
      const elapsed: number[] = [];
      for (const delayMs of [1, 7, 15]) {
        const start = subject.clock.monotonicMs();
        subject.timers.setTimeout(delayMs, () => {
          elapsed.push(subject.clock.monotonicMs() - start - delayMs);
        });
      }
      await waitFor(subject, () => elapsed.length === 3, "three timeouts");
      for (const lateMs of elapsed) assert.ok(lateMs >= 0, `a timeout fired ${-lateMs} ms early`);
    });

    it("Timer.cancel() prevents a pending timeout from firing", async () => {
      const subject = create();
      let cancelledFired = false;
      let sentinelFired = false;
      const timer = subject.timers.setTimeout(10, () => (cancelledFired = true));
      subject.timers.setTimeout(30, () => (sentinelFired = true));
      timer.cancel();
      await waitFor(subject, () => sentinelFired, "the later timeout");
      assert.equal(cancelledFired, false);
    });

    it("Timer.cancel() on a timeout that already fired, twice, does nothing", async () => {
      const subject = create();
      let fired = 0;
      const timer = subject.timers.setTimeout(1, () => fired++);
      await waitFor(subject, () => fired === 1, "the timeout");
      timer.cancel();
      timer.cancel();
      assert.equal(fired, 1);
    });

    it("Timers.setInterval() repeats until cancelled", async () => {
      const subject = create();
      let ticks = 0;
      const timer = subject.timers.setInterval(5, () => ticks++);
      await waitFor(subject, () => ticks >= 3, "three interval ticks");
      timer.cancel();
      const ticksAtCancel = ticks;
      let sentinelFired = false;
      subject.timers.setTimeout(30, () => (sentinelFired = true));
      await waitFor(subject, () => sentinelFired, "a later timeout");
      assert.equal(ticks, ticksAtCancel);
    });

    it("Timers.setInterval() stops when cancelled from its own callback", async () => {
      const subject = create();
      let ticks = 0;
      const timer = subject.timers.setInterval(5, () => {
        ticks++;
        if (ticks === 2) timer.cancel();
      });
      await waitFor(subject, () => ticks === 2, "two interval ticks");
      let sentinelFired = false;
      subject.timers.setTimeout(30, () => (sentinelFired = true));
      await waitFor(subject, () => sentinelFired, "a later timeout");
      assert.equal(ticks, 2);
    });

    it("Timers.sleep() resolves no earlier than delayMs on the monotonic clock", async () => {
      const subject = create();
      const start = subject.clock.monotonicMs();
      let resolvedAfterMs: number | undefined;
      void subject.timers.sleep(15).then(() => {
        resolvedAfterMs = subject.clock.monotonicMs() - start;
      });
      await waitFor(subject, () => resolvedAfterMs !== undefined, "the sleep");
      assert.ok((resolvedAfterMs ?? 0) >= 15, `sleep resolved after ${resolvedAfterMs} ms`);
    });

    it("Timers.sleep() rejects with Env:Cancelled when its signal aborts", async () => {
      const subject = create();
      const controller = new AbortController();
      const reason = new Error("shutting down");
      // A long sleep: had abort not cancelled its timer, the test process would stay up.
      const sleeping = subject.timers.sleep(60_000, controller.signal);
      controller.abort(reason);
      await assert.rejects(sleeping, (error: unknown) => {
        assert.ok(hasErrorCode(error, ErrorCode.EnvCancelled), `got ${String(error)}`);
        assert.equal(error.cause, reason);
        return true;
      });
    });

    it("Timers.sleep() rejects with Env:Cancelled at once if already aborted", async () => {
      const subject = create();
      const sleeping = subject.timers.sleep(60_000, AbortSignal.abort());
      await assert.rejects(sleeping, (error: unknown) =>
        hasErrorCode(error, ErrorCode.EnvCancelled),
      );
    });

    it("Timers.sleep() stays resolved when its signal aborts afterwards", async () => {
      const subject = create();
      const controller = new AbortController();
      let outcome: "resolved" | "rejected" | undefined;
      void subject.timers.sleep(5, controller.signal).then(
        () => (outcome = "resolved"),
        () => (outcome = "rejected"),
      );
      await waitFor(subject, () => outcome !== undefined, "the sleep");
      controller.abort();
      await subject.passTime(1);
      assert.equal(outcome, "resolved");
    });
  });

  describe(`${options.name} conformance: Random`, () => {
    it("Random.int() stays within [0, bound) and reaches every value of a small bound", () => {
      const { random } = create();
      for (const bound of [1, 2, 3, 7, 1000, 2 ** 31, 2 ** 32, 2 ** 32 + 1, 2 ** 53 - 1]) {
        for (let i = 0; i < 500; i++) {
          const value = random.int(bound);
          assert.ok(Number.isSafeInteger(value), `int(${bound}) gave ${value}`);
          assert.ok(value >= 0 && value < bound, `int(${bound}) gave ${value}`);
        }
      }
      const seen = new Set<number>();
      for (let i = 0; i < 2000; i++) seen.add(random.int(7));
      assert.equal(seen.size, 7);
    });

    it("Random.int() throws RangeError for a bound that is not a positive safe integer", () => {
      const { random } = create();
      for (const bound of [0, -1, 1.5, Number.NaN, 2 ** 53, Number.POSITIVE_INFINITY]) {
        assert.throws(() => random.int(bound), RangeError, `bound ${bound}`);
      }
    });

    it("Random.uint32(), float() and bytes() stay within their ranges", () => {
      const { random } = create();
      for (let i = 0; i < 1000; i++) {
        const u = random.uint32();
        assert.ok(Number.isInteger(u) && u >= 0 && u < 2 ** 32, `uint32 gave ${u}`);
        const f = random.float();
        assert.ok(f >= 0 && f < 1, `float gave ${f}`);
      }
      for (const length of [0, 1, 5, 64, 10_000]) {
        const bytes = random.bytes(length);
        assert.ok(bytes instanceof Uint8Array);
        assert.equal(bytes.length, length);
      }
      assert.ok(random.bytes(64).some((byte) => byte !== 0));
    });

    if (seeded !== undefined) {
      it("Random from the same seed yields the same sequence", () => {
        assert.deepEqual(drawSequence(seeded(42)), drawSequence(seeded(42)));
      });

      it("Random from different seeds yields different sequences", () => {
        assert.notDeepEqual(drawSequence(seeded(1)), drawSequence(seeded(2)));
      });
    }
  });

  describe(`${options.name} conformance: Crypto`, () => {
    it("Crypto.sha1() matches the FIPS 180 test vectors", () => {
      const { crypto } = create();
      assert.equal(hex(crypto.sha1(utf8(""))), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
      assert.equal(hex(crypto.sha1(utf8("abc"))), "a9993e364706816aba3e25717850c26c9cd0d89d");
      assert.equal(
        hex(crypto.sha1(utf8("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))),
        "84983e441c3bd26ebaae4aa1f95129e5e54670f1",
      );
    });

    it("Crypto.sha256() matches the FIPS 180 test vectors", () => {
      const { crypto } = create();
      assert.equal(
        hex(crypto.sha256(utf8(""))),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
      );
      assert.equal(
        hex(crypto.sha256(utf8("abc"))),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
      );
    });

    it("Crypto.crc32() matches the zlib check values", () => {
      const { crypto } = create();
      assert.equal(crypto.crc32(utf8("")), 0);
      assert.equal(crypto.crc32(utf8("123456789")), 0xcbf43926);
      assert.equal(crypto.crc32(utf8("The quick brown fox jumps over the lazy dog")), 0x414fa339);
    });
  });
}

/** A file system under test and a fresh, empty directory in it for one test. */
export interface FileSystemConformanceSubject {
  readonly fs: FileSystem;
  readonly root: string;
}

export interface FileSystemConformanceOptions {
  /** Names the implementation in every test name, e.g. `NodeFileSystem`. */
  readonly name: string;
  /** A file system and a new empty directory; the caller removes what it created. */
  create(): Promise<FileSystemConformanceSubject>;
}

/** Registers the `FileSystem` and `FileHandle` cases for one implementation. */
export function registerFileSystemConformanceTests(options: FileSystemConformanceOptions): void {
  const it = (name: string, body: (subject: FileSystemConformanceSubject) => Promise<void>) => {
    test(`${options.name}: ${name}`, { timeout: testTimeoutMs }, async () => {
      await body(await options.create());
    });
  };

  describe(`${options.name} conformance: FileSystem`, () => {
    it("FileSystem.readFile() rejects with code ENOENT if absent", async ({ fs, root }) => {
      await assert.rejects(fs.readFile(path.join(root, "missing")), { code: "ENOENT" });
    });

    it("FileSystem.writeFileAtomic() replaces the whole file", async ({ fs, root }) => {
      const file = path.join(root, "state");
      await fs.writeFileAtomic(file, utf8("a much longer first version"));
      assert.equal(text(await fs.readFile(file)), "a much longer first version");
      await fs.writeFileAtomic(file, utf8("short"));
      assert.equal(text(await fs.readFile(file)), "short");
      assert.deepEqual(await fs.readdir(root), ["state"]);
    });

    it("FileSystem.createExclusive() creates once, then rejects with EEXIST", async (s) => {
      const file = path.join(s.root, "LOCK");
      await s.fs.createExclusive(file, utf8("first"));
      await assert.rejects(s.fs.createExclusive(file, utf8("second")), { code: "EEXIST" });
      assert.equal(text(await s.fs.readFile(file)), "first", "the loser changes nothing");
      await s.fs.remove(file);
      const racers = await Promise.allSettled(
        [1, 2, 3].map((n) => s.fs.createExclusive(file, utf8(String(n)))),
      );
      assert.equal(racers.filter((r) => r.status === "fulfilled").length, 1, "one winner");
    });

    it("FileSystem.open() without create rejects with code ENOENT", async ({ fs, root }) => {
      await assert.rejects(fs.open(path.join(root, "missing"), { create: false }), {
        code: "ENOENT",
      });
    });

    it("FileHandle reads, writes, appends, truncates and sizes", async ({ fs, root }) => {
      const file = path.join(root, "data");
      const handle = await fs.open(file, { create: true });
      assert.equal(await handle.size(), 0);
      await handle.write(0, utf8("hello world"));
      await handle.write(6, utf8("there"));
      assert.equal(text(await handle.read(0, 11)), "hello there");
      await handle.append(utf8("!!"));
      assert.equal(await handle.size(), 13);
      assert.equal(text(await handle.read(6, 100)), "there!!");
      assert.equal((await handle.read(13, 10)).length, 0);
      await handle.truncate(5);
      assert.equal(await handle.size(), 5);
      await handle.sync();
      await handle.close();
      assert.equal(text(await fs.readFile(file)), "hello");

      const reopened = await fs.open(file, { create: false });
      await reopened.append(utf8(", again"));
      await reopened.close();
      assert.equal(text(await fs.readFile(file)), "hello, again");
    });

    it("FileHandle.append() calls not awaited land in call order", async ({ fs, root }) => {
      const handle = await fs.open(path.join(root, "log"), { create: true });
      const appends: Promise<void>[] = [];
      for (let i = 0; i < 20; i++) appends.push(handle.append(utf8(`${i % 10}`)));
      await Promise.all(appends);
      assert.equal(text(await handle.read(0, 100)), "01234567890123456789");
      await handle.close();
    });

    it("FileSystem.readdir() lists names sorted", async ({ fs, root }) => {
      for (const name of ["b", "c", "a", "a2"]) {
        await fs.writeFileAtomic(path.join(root, name), utf8(name));
      }
      await fs.mkdir(path.join(root, "dir"));
      assert.deepEqual(await fs.readdir(root), ["a", "a2", "b", "c", "dir"]);
    });

    it("FileSystem.mkdir() creates parents and accepts an existing directory", async ({
      fs,
      root,
    }) => {
      const nested = path.join(root, "x", "y", "z");
      await fs.mkdir(nested);
      await fs.mkdir(nested);
      assert.equal(await fs.exists(nested), true);
      await fs.syncDir(nested);
    });

    it("FileSystem.rename() moves a file and exists() sees the move", async ({ fs, root }) => {
      const from = path.join(root, "from");
      const to = path.join(root, "to");
      await fs.writeFileAtomic(from, utf8("payload"));
      await fs.rename(from, to);
      assert.equal(await fs.exists(from), false);
      assert.equal(await fs.exists(to), true);
      assert.equal(text(await fs.readFile(to)), "payload");
    });

    it("FileSystem.remove() deletes a tree and accepts a missing path", async ({ fs, root }) => {
      const tree = path.join(root, "tree");
      await fs.mkdir(path.join(tree, "sub"));
      await fs.writeFileAtomic(path.join(tree, "sub", "file"), utf8("x"));
      await fs.remove(tree);
      assert.equal(await fs.exists(tree), false);
      await fs.remove(tree);
      await fs.remove(path.join(root, "never-existed"));
    });
  });
}

/** Lets time pass in small steps until `condition` holds, failing after the budget. */
async function waitFor(
  subject: TimeConformanceSubject,
  condition: () => boolean,
  what: string,
): Promise<void> {
  for (let waitedMs = 0; !condition(); waitedMs += waitStepMs) {
    if (waitedMs >= waitBudgetMs) assert.fail(`gave up waiting for ${what}`);
    await subject.passTime(waitStepMs);
  }
}

function drawSequence(random: Random): unknown[] {
  return [
    random.uint32(),
    random.int(1000),
    random.int(2 ** 40),
    random.float(),
    Array.from(random.bytes(9)),
  ];
}

function utf8(value: string): Uint8Array {
  return new TextEncoder().encode(value);
}

function text(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** A network under test, the host to listen on and connect to, and a way to let time pass. */
export interface NetworkConformanceSubject {
  readonly net: Network;
  /** `127.0.0.1` on the real machine; the simulated process's host in the simulator. */
  readonly host: string;
  /** Lets at least `ms` of the subject's time pass, as `TimeConformanceSubject.passTime`. */
  passTime(ms: number): Promise<void>;
}

export interface NetworkConformanceOptions {
  /** Names the implementation in every test name, e.g. `NodeNetwork`. */
  readonly name: string;
  /** A fresh subject for one test. */
  create(): NetworkConformanceSubject;
}

/** What a test sees of one connection: bytes received, drains, the close. */
interface Probe {
  readonly connection: Connection;
  received(): Uint8Array;
  drains: number;
  /** `undefined` while open; `{ error }` once `onClose` ran. */
  closed: { readonly error: Error | undefined } | undefined;
}

/** Installs handlers on `connection` that record everything; `echo` writes data back. */
function probe(connection: Connection, options: { readonly echo?: boolean } = {}): Probe {
  const chunks: Uint8Array[] = [];
  const result: Probe = {
    connection,
    received: () => concatBytes(chunks),
    drains: 0,
    closed: undefined,
  };
  connection.setHandlers({
    onData(chunk) {
      chunks.push(Uint8Array.from(chunk));
      if (options.echo === true) connection.write(chunk);
    },
    onDrain() {
      result.drains++;
    },
    onClose(error) {
      result.closed = { error };
    },
  });
  return result;
}

/** Registers the `Network` and `Connection` cases for one implementation. */
export function registerNetworkConformanceTests(options: NetworkConformanceOptions): void {
  /** Listeners and connections of the running test, torn down when it ends, even failed. */
  let listeners: Listener[] = [];
  let connections: Connection[] = [];
  const it = (name: string, body: (subject: NetworkConformanceSubject) => Promise<void>) => {
    test(`${options.name}: ${name}`, { timeout: testTimeoutMs }, async () => {
      listeners = [];
      connections = [];
      try {
        await body(options.create());
      } finally {
        for (const connection of connections) connection.destroy();
        // Closing twice is allowed: the second call returns the first one's promise.
        await Promise.all(listeners.map((listener) => listener.close()));
      }
    });
  };

  /** A listener whose accepted connections are collected (handlers unset). */
  const serve = async (subject: NetworkConformanceSubject) => {
    const accepted: Connection[] = [];
    const listener = await settle(subject, subject.net.listen({
      host: subject.host,
      port: 0,
      onConnection: (connection) => {
        accepted.push(connection);
        connections.push(connection);
      },
    }), "listen");
    listeners.push(listener);
    const connect = async (): Promise<Connection> => {
      const connection = await settle(subject, subject.net.connect({ host: subject.host,
        port: listener.port, timeoutMs: 5_000 }), "connect");
      connections.push(connection);
      return connection;
    };
    return { listener, accepted, connect };
  };

  describe(`${options.name} conformance: Network`, () => {
    it("Network echo round trip keeps order and bytes sent before setHandlers", async (s) => {
      const { listener, accepted, connect } = await serve(s);
      assert.ok(listener.port > 0);
      const client = await connect();
      assert.equal(client.remoteAddress.endsWith(`:${listener.port}`), true);
      const clientProbe = probe(client);
      assert.equal(client.write(utf8("hello ")), true);
      client.write(utf8("world"));
      await waitForNet(s, () => accepted.length === 1, "the accepted connection");
      await s.passTime(20);
      probe(accepted[0] as Connection, { echo: true });
      await waitForNet(s, () => clientProbe.received().length === 11, "the echo");
      assert.equal(text(clientProbe.received()), "hello world");
      client.destroy();
      await settle(s, listener.close(), "listener close");
    });

    it("Network.connect() to a closed port rejects with RPC:Connection:ConnectFailed",
      async (s) => {
        const { listener } = await serve(s);
        const port = listener.port;
        await settle(s, listener.close(), "listener close");
        const connecting = s.net.connect({ host: s.host, port, timeoutMs: 5_000 });
        await assert.rejects(settle(s, connecting, "connect"), (error: unknown) =>
          hasErrorCode(error, ErrorCode.RpcConnectFailed));
      });

    it("Network.listen() on a port in use rejects with Env:ListenFailed naming it", async (s) => {
      const { listener } = await serve(s);
      const again = s.net.listen({ host: s.host, port: listener.port,
        onConnection: () => undefined });
      await assert.rejects(settle(s, again, "listen"), (error: unknown) =>
        hasErrorCode(error, ErrorCode.EnvListenFailed) &&
        error.message.includes(`:${listener.port}`) &&
        error.details["errno"] === "EADDRINUSE");
      await settle(s, listener.close(), "listener close");
    });

    it("Connection.end() delivers queued bytes, then both sides close cleanly", async (s) => {
      const { listener, accepted, connect } = await serve(s);
      const client = await connect();
      const clientProbe = probe(client);
      const payload = new Uint8Array(200_000).map((_, i) => i % 251);
      client.write(payload);
      client.end();
      assert.equal(client.write(utf8("late")), false, "write after end");
      await waitForNet(s, () => accepted.length === 1, "the accepted connection");
      const serverProbe = probe(accepted[0] as Connection);
      await waitForNet(s, () => serverProbe.closed !== undefined &&
        clientProbe.closed !== undefined, "both closes");
      assert.deepEqual(serverProbe.received(), payload);
      assert.equal(serverProbe.closed?.error, undefined);
      assert.equal(clientProbe.closed?.error, undefined);
      await settle(s, listener.close(), "listener close");
    });

    it("Connection.destroy(error) closes this side with it, later; the peer closes", async (s) => {
      const { listener, accepted, connect } = await serve(s);
      const client = await connect();
      const clientProbe = probe(client);
      await waitForNet(s, () => accepted.length === 1, "the accepted connection");
      const serverProbe = probe(accepted[0] as Connection);
      const reason = new Error("going away");
      client.destroy(reason);
      assert.equal(clientProbe.closed === undefined, true, "onClose is asynchronous");
      assert.equal(client.write(utf8("x")), false, "write after destroy");
      await waitForNet(s, () => clientProbe.closed !== undefined &&
        serverProbe.closed !== undefined, "both closes");
      assert.equal(clientProbe.closed?.error, reason);
      await settle(s, listener.close(), "listener close");
    });

    it("Connection.write() returns false above the high-water mark; onDrain follows",
      async (s) => {
        const { listener, accepted, connect } = await serve(s);
        const client = await connect();
        const clientProbe = probe(client);
        // The peer reads nothing yet, so the kernel's buffers (on the real machine) and
        // then the connection's own fill up; a bound keeps a broken write() from looping.
        const chunkBytes = 1024 * 1024;
        let chunks = 0;
        let accepting = true;
        while (accepting && chunks < 256) {
          const chunk = new Uint8Array(chunkBytes).fill(chunks % 256);
          accepting = client.write(chunk);
          chunks++;
          if (accepting) await s.passTime(1);
        }
        assert.equal(accepting, false, "write() never reported backpressure");
        assert.ok(client.bufferedBytes > 0, "the bytes are buffered");
        await waitForNet(s, () => accepted.length === 1, "the accepted connection");
        const serverProbe = probe(accepted[0] as Connection);
        await waitForNet(s, () => clientProbe.drains > 0, "onDrain");
        const total = chunks * chunkBytes;
        await waitForNet(s, () => serverProbe.received().length === total, "the bytes");
        const received = serverProbe.received();
        for (let i = 0; i < chunks; i++) {
          assert.equal(received[i * chunkBytes], i % 256, `chunk ${i} out of place`);
        }
        client.destroy();
        await settle(s, listener.close(), "listener close");
      });

    it("Connection.pause(true) holds received data until resumed", async (s) => {
      const { listener, accepted, connect } = await serve(s);
      const client = await connect();
      await waitForNet(s, () => accepted.length === 1, "the accepted connection");
      const server = accepted[0] as Connection;
      server.pause(true);
      const serverProbe = probe(server);
      client.write(utf8("held"));
      await s.passTime(50);
      assert.equal(serverProbe.received().length, 0, "nothing while paused");
      server.pause(false);
      await waitForNet(s, () => serverProbe.received().length === 4, "the data after resume");
      assert.equal(text(serverProbe.received()), "held");
      client.destroy();
      await settle(s, listener.close(), "listener close");
    });

    it("Listener.close() stops accepting and leaves accepted connections open", async (s) => {
      const { listener, accepted, connect } = await serve(s);
      const client = await connect();
      const clientProbe = probe(client);
      await waitForNet(s, () => accepted.length === 1, "the accepted connection");
      probe(accepted[0] as Connection, { echo: true });
      await settle(s, listener.close(), "listener close");
      client.write(utf8("still here"));
      await waitForNet(s, () => clientProbe.received().length === 10, "the echo");
      await assert.rejects(connect(), (error: unknown) =>
        hasErrorCode(error, ErrorCode.RpcConnectFailed));
      client.destroy();
    });
  });
}

/** Lets time pass until `promise` settles; its outcome, or a failure after the budget. */
async function settle<T>(
  subject: NetworkConformanceSubject,
  promise: Promise<T>,
  what: string,
): Promise<T> {
  let done = false;
  const tracked = promise.finally(() => (done = true));
  // The outcome is read below; this only keeps an early rejection from being unhandled.
  tracked.catch(() => undefined);
  await waitForNet(subject, () => done, what);
  return tracked;
}

/** Lets time pass in small steps until `condition` holds, failing after the budget. */
async function waitForNet(
  subject: NetworkConformanceSubject,
  condition: () => boolean,
  what: string,
): Promise<void> {
  for (let waitedMs = 0; !condition(); waitedMs += waitStepMs) {
    if (waitedMs >= waitBudgetMs) assert.fail(`gave up waiting for ${what}`);
    await subject.passTime(waitStepMs);
  }
}

function concatBytes(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((total, chunk) => total + chunk.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}
