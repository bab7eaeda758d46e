/**
 * `LmdbEngine` tests: the conformance suite, then what only an on-disk engine has —
 * persistence across reopen, the exclusive lock (same process, other process, stale lock),
 * refusing damaged or foreign directories, stopping cleanly when the disk is full, and
 * crash durability (a child killed with SIGKILL loses no acknowledged batch and leaves no
 * half batch). Child processes run fixtures from `testdata/` in their own process group
 * and are killed by group in `after()`.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  rmSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ErrorCode, hasErrorCode, type TesseraError } from "../../base/mod.ts";
import { registerEngineConformance } from "./engine_conformance.ts";
import { LmdbEngine } from "./lmdb_engine.ts";

let root = "";
let dirCounter = 0;
const children: ChildProcess[] = [];
const testdata = join(import.meta.dirname, "testdata");

before(() => {
  root = mkdtempSync(join(tmpdir(), "tessera-lmdb-engine-"));
});

after(() => {
  for (const child of children) {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch (error) {
        if ((error as { code?: string }).code !== "ESRCH") throw error;
      }
    }
  }
  if (root !== "") rmSync(root, { recursive: true, force: true });
});

function freshDir(): string {
  const dir = join(root, `engine-${dirCounter++}`);
  mkdirSync(dir);
  return dir;
}

/** A child process with its stdout split into lines. */
interface Child {
  readonly process: ChildProcess;
  readonly lines: string[];
  /** Resolves with the first line (already seen or future) that `match` accepts. */
  waitFor(match: (line: string) => boolean): Promise<string>;
  /** Resolves once the process has exited. */
  readonly exited: Promise<void>;
}

function spawnFixture(fixture: string, args: string[], fileSizeLimitKiB?: number): Child {
  const script = join(testdata, fixture);
  const child =
    fileSizeLimitKiB === undefined
      ? spawn(process.execPath, [script, ...args], {
          detached: true,
          stdio: ["ignore", "pipe", "pipe"],
        })
      : // The shell only sets the file size limit (RLIMIT_FSIZE) and execs Node.
        spawn(
          "/bin/sh",
          [
            "-c",
            `ulimit -f ${fileSizeLimitKiB * 2} && exec "$0" "$@"`,
            process.execPath,
            script,
            ...args,
          ],
          { detached: true, stdio: ["ignore", "pipe", "pipe"] },
        );
  children.push(child);
  const lines: string[] = [];
  const waiters: { match: (line: string) => boolean; resolve: (line: string) => void }[] = [];
  let stderr = "";
  let partial = "";
  child.stdout?.setEncoding("utf8");
  child.stdout?.on("data", (chunk: string) => {
    partial += chunk;
    const parts = partial.split("\n");
    partial = parts.pop() ?? "";
    for (const line of parts) {
      lines.push(line);
      for (let i = waiters.length - 1; i >= 0; i--) {
        const waiter = waiters[i];
        if (waiter !== undefined && waiter.match(line)) {
          waiters.splice(i, 1);
          waiter.resolve(line);
        }
      }
    }
  });
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  return {
    process: child,
    lines,
    exited,
    waitFor: (match) => {
      const seen = lines.find(match);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        waiters.push({ match, resolve });
        void exited.then(() => {
          // Let buffered stdout drain first; then the line is not coming.
          setImmediate(() => {
            const late = lines.find(match);
            if (late !== undefined) resolve(late);
            else reject(new Error(`${fixture} exited before the line; stderr: ${stderr}`));
          });
        });
      });
    },
  };
}

function killGroup(child: Child): Promise<void> {
  const pid = child.process.pid;
  assert.ok(pid !== undefined);
  process.kill(-pid, "SIGKILL");
  return child.exited;
}

const dec = new TextDecoder();

/**
 * Checks the batches written by `durability_writer.ts`: each present batch has all its
 * keys, the present batches are 0..m without gaps, and every acknowledged one is present.
 * Returns m + 1.
 */
function checkBatches(engine: LmdbEngine, acked: number): number {
  const counts = new Map<number, number>();
  for (const { key, value } of engine.scan({})) {
    const match = /^b(\d{8})-\d$/.exec(dec.decode(key));
    assert.ok(match !== null, `unexpected key ${dec.decode(key)}`);
    const n = Number(match[1]);
    assert.equal(dec.decode(value).replace(/\0+$/, ""), String(n));
    counts.set(n, (counts.get(n) ?? 0) + 1);
  }
  for (const [n, count] of counts) assert.equal(count, 5, `batch ${n} is half-applied`);
  const present = [...counts.keys()].sort((x, y) => x - y);
  present.forEach((n, i) => assert.equal(n, i, `batch ${i} is missing before ${n}`));
  assert.ok(present.length >= acked, `${acked} batches acknowledged, ${present.length} present`);
  return present.length;
}

const ackCount = (lines: readonly string[]): number =>
  lines.filter((l) => l.startsWith("ack ")).length;

registerEngineConformance("LmdbEngine", {
  open: () => LmdbEngine.open(freshDir()),
  scratchDir: () => root,
});

const enc = new TextEncoder();

test("LmdbEngine keeps data across close and reopen, and refuses a second open", {
  timeout: 20_000,
}, async () => {
  const dir = freshDir();
  const engine = await LmdbEngine.open(dir);
  await engine.write([{ kind: "put", key: enc.encode("k"), value: enc.encode("v") }], {
    sync: true,
  });
  await assert.rejects(LmdbEngine.open(dir), (error: unknown) =>
    hasErrorCode(error, ErrorCode.KvEngineLocked) && /this process/.test(error.message));
  await engine.close();
  const reopened = await LmdbEngine.open(dir);
  assert.equal(dec.decode(reopened.get(enc.encode("k"))), "v");
  await reopened.close();
});

test("LmdbEngine refuses a directory another process holds, then takes over its stale lock", {
  timeout: 20_000,
}, async () => {
  const dir = freshDir();
  const holder = spawnFixture("lock_holder.ts", [dir]);
  await holder.waitFor((l) => l === "ready");
  await assert.rejects(LmdbEngine.open(dir), (error: unknown) =>
    hasErrorCode(error, ErrorCode.KvEngineLocked) &&
    (error as TesseraError).details["pid"] === holder.process.pid);
  await killGroup(holder);
  const notes: string[] = [];
  const engine = await LmdbEngine.open(dir, { onNote: (message) => notes.push(message) });
  assert.deepEqual(notes, ["taking over stale engine lock of a dead process"]);
  await engine.close();
});

test("LmdbEngine refuses a lock file without a PID", { timeout: 20_000 }, async () => {
  const dir = freshDir();
  writeFileSync(join(dir, "LOCK"), "");
  await assert.rejects(LmdbEngine.open(dir), (error: unknown) =>
    hasErrorCode(error, ErrorCode.KvEngineLocked) && /without a PID/.test(error.message));
});

test("LmdbEngine refuses foreign, damaged or other-version directories, keeping them", {
  timeout: 20_000,
}, async () => {
  const refused = async (dir: string, code: ErrorCode): Promise<void> => {
    await assert.rejects(LmdbEngine.open(dir), (error: unknown) => hasErrorCode(error, code));
  };
  const dir = freshDir();
  const engine = await LmdbEngine.open(dir);
  await engine.write([{ kind: "put", key: enc.encode("k"), value: enc.encode("v") }], {
    sync: true,
  });
  await engine.close();
  const format = join(dir, "FORMAT");
  writeFileSync(format, "tessera-engine lmdb\nformat-version 2\npage-size 8192\n");
  await refused(dir, ErrorCode.KvEngineVersionMismatch);
  writeFileSync(format, "tessera-engine lmdb\nformat-version 1\npage-size 4096\n");
  await refused(dir, ErrorCode.KvEngineVersionMismatch);
  writeFileSync(format, "garbage");
  await refused(dir, ErrorCode.KvEngineCorrupt);
  unlinkSync(format);
  await refused(dir, ErrorCode.KvEngineCorrupt);
  writeFileSync(format, "tessera-engine lmdb\nformat-version 1\npage-size 8192\n");
  const reopened = await LmdbEngine.open(dir);
  assert.equal(dec.decode(reopened.get(enc.encode("k"))), "v");
  await reopened.close();

  const fd = openSync(join(dir, "data.mdb"), "r+");
  writeSync(fd, new Uint8Array(2 * 8192).fill(0xa5), 0, 2 * 8192, 0);
  closeSync(fd);
  await refused(dir, ErrorCode.KvEngineCorrupt);
  unlinkSync(join(dir, "data.mdb"));
  await refused(dir, ErrorCode.KvEngineCorrupt);
  const foreign = freshDir();
  writeFileSync(join(foreign, "notes.txt"), "mine");
  await refused(foreign, ErrorCode.KvEngineCorrupt);
});

test("LmdbEngine stops with WriteFailed when the disk is full and applies no half batch", {
  timeout: 30_000,
}, async () => {
  const dir = freshDir();
  const writer = spawnFixture("durability_writer.ts", [dir, "fill"], 2048);
  await writer.exited;
  const failedLine = `failed ${ErrorCode.KvEngineWriteFailed}`;
  assert.ok(writer.lines.includes(failedLine), writer.lines.join("|"));
  assert.ok(writer.lines.includes(`after ${ErrorCode.KvEngineWriteFailed}`));
  const acked = ackCount(writer.lines);
  assert.ok(acked > 0);
  const engine = await LmdbEngine.open(dir);
  assert.equal(checkBatches(engine, acked), acked);
  await engine.close();
});

test("LmdbEngine keeps every acknowledged synced batch across SIGKILL, never half of one", {
  timeout: 30_000,
}, async () => {
  // Kill points (acknowledged batches seen before SIGKILL), fixed so runs are repeatable.
  const killAfterAcks = [1, 9, 3, 27, 14];
  for (const killAfter of killAfterAcks) {
    const dir = freshDir();
    const writer = spawnFixture("durability_writer.ts", [dir]);
    await writer.waitFor((l) => l === `ack ${killAfter - 1}`);
    await killGroup(writer);
    const acked = ackCount(writer.lines);
    const engine = await LmdbEngine.open(dir);
    const present = checkBatches(engine, acked);
    assert.ok(present >= killAfter);
    await engine.close();
  }
});
