/**
 * Table-driven tests of the Percolator actions: each file in `testdata/` is a script of
 * commands run against one in-memory engine, and the expected output of each command is
 * its outcome and the writes it made, in order (the action trace). Run with `REWRITE=1`
 * to regenerate the expected output after a deliberate change, then review the diff.
 *
 * Script syntax: `command arg=value flag …`, then `----`, then the expected output, then a
 * blank line. Keys and values are text; `~N` is a value of N bytes (too long to inline).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Timestamp } from "../../base/mod.ts";
import type { WriteOp } from "../engine/engine.ts";
import {
  describeEntry,
  describeKey,
  describeLock,
  describeValue,
  describeWriteOp,
} from "../mvcc/describe.ts";
import { gcRange } from "../mvcc/gc.ts";
import type { Lock } from "../mvcc/lock.ts";
import { mvccGet, mvccScan, scanLocks } from "../mvcc/snapshot_read.ts";
import { SortedMapReader } from "../mvcc/test_reader.ts";
import { checkSecondaryLocks } from "./check_secondary_locks.ts";
import { checkTxnStatus } from "./check_txn_status.ts";
import { cleanupKey, pessimisticRollbackKey, rollbackKeys } from "./cleanup.ts";
import { commitKeys } from "./commit.ts";
import { failureToError, isFailure } from "./failure.ts";
import { txnHeartbeat } from "./heartbeat.ts";
import { acquirePessimisticLock } from "./pessimistic_lock.ts";
import { type CommitMode, type Mutation, prewrite } from "./prewrite.ts";
import { resolveLocks } from "./resolve_lock.ts";

const testdataDir = join(dirname(fileURLToPath(import.meta.url)), "testdata");
const rewrite = process.env["REWRITE"] === "1";
const enc = new TextEncoder();

interface Command {
  readonly name: string;
  readonly args: ReadonlyMap<string, string>;
  readonly line: string;
}

function parseCommand(line: string): Command {
  const [name, ...rest] = line.trim().split(/\s+/);
  const args = new Map<string, string>();
  for (const part of rest) {
    const eq = part.indexOf("=");
    if (eq < 0) args.set(part, "");
    else args.set(part.slice(0, eq), part.slice(eq + 1));
  }
  return { name: name ?? "", args, line: line.trim() };
}

function key(text: string): Uint8Array {
  return enc.encode(text);
}

function value(text: string): Uint8Array {
  if (text.startsWith("~")) return new Uint8Array(Number(text.slice(1))).fill(0x76);
  return enc.encode(text);
}

function keys(text: string | undefined): Uint8Array[] {
  if (text === undefined || text === "") return [];
  return text.split(",").map(key);
}

function ts(text: string | undefined, fallback = 0n): Timestamp {
  return (text === undefined ? fallback : BigInt(text)) as Timestamp;
}

function need(cmd: Command, name: string): string {
  const v = cmd.args.get(name);
  if (v === undefined) throw new Error(`${cmd.line}: missing ${name}=`);
  return v;
}

function parseMutation(text: string): Mutation {
  const [kind, k, v] = text.split(":");
  const kk = key(k ?? "");
  switch (kind) {
    case "put":
      return { kind: "put", key: kk, value: value(v ?? "") };
    case "insert":
      return { kind: "insert", key: kk, value: value(v ?? "") };
    case "delete":
      return { kind: "delete", key: kk };
    case "lock":
      return { kind: "lock", key: kk };
    case "check":
      return { kind: "checkNotExists", key: kk };
    default:
      throw new Error(`bad mutation ${text}`);
  }
}

/** A compact rendering of an outcome object: `kind field=value …`. */
function describeOutcome(outcome: object): string {
  const parts: string[] = [];
  for (const [name, v] of Object.entries(outcome)) {
    if (name === "kind") parts.unshift(String(v));
    else parts.push(`${name}=${describeField(v)}`);
  }
  return parts.join(" ");
}

function describeField(v: unknown): string {
  if (v instanceof Uint8Array) return describeValue(v);
  if (typeof v === "bigint") return v.toString();
  if (Array.isArray(v)) return `[${v.map(describeField).join(", ")}]`;
  if (v !== null && typeof v === "object") {
    if ("primary" in v && "startTs" in v) return `{${describeLock(v as Lock)}}`;
    if ("key" in v && "value" in v) {
      const pair = v as { key: Uint8Array; value: Uint8Array };
      return `${describeKey(pair.key)}=${describeValue(pair.value)}`;
    }
    if ("key" in v && "lock" in v) {
      const ml = v as { key: Uint8Array; lock: Lock };
      return `${describeKey(ml.key)}:{${describeLock(ml.lock)}}`;
    }
    return `{${describeOutcome(v)}}`;
  }
  return String(v);
}

/** Runs one command, returning its output lines. */
function run(engine: SortedMapReader, cmd: Command): string[] {
  const out: string[] = [];
  const report = (result: { outcome: { kind: string }; writes: WriteOp[] }): void => {
    out.push(describeOutcome(result.outcome));
    // A failure also shows the typed error the server would reply with.
    if (isFailure(result.outcome)) out.push(`error ${failureToError(result.outcome).code}`);
    for (const op of result.writes) out.push(describeWriteOp(op));
    engine.apply(result.writes);
  };
  const a = cmd.args;
  switch (cmd.name) {
    case "prewrite": {
      const mutations = need(cmd, "muts").split(",").map(parseMutation);
      let commitMode: CommitMode = { kind: "twoPc" };
      if (a.get("mode") === "async") {
        commitMode = {
          kind: "asyncCommit",
          secondaries: keys(a.get("secondaries")),
          maxCommitTs: ts(a.get("maxCommit")),
        };
      } else if (a.get("mode") === "1pc") {
        commitMode = { kind: "onePc", maxCommitTs: ts(a.get("maxCommit")) };
      }
      const locked = new Set(a.get("locked")?.split(",") ?? []);
      const forUpdate = a.get("forUpdate");
      report(
        prewrite(engine, {
          mutations,
          primary: key(need(cmd, "primary")),
          startTs: ts(need(cmd, "start")),
          lockTtlMs: Number(a.get("ttl") ?? "100"),
          ...(forUpdate === undefined
            ? {}
            : {
                pessimistic: {
                  forUpdateTs: ts(forUpdate),
                  locked: mutations.map((m) => locked.has(describeKey(m.key))),
                },
              }),
          ...(a.has("minCommit") ? { minCommitTs: ts(a.get("minCommit")) } : {}),
          commitMode,
          maxReadTs: ts(a.get("maxRead")),
        }),
      );
      break;
    }
    case "lock": {
      const notExist = new Set(a.get("notExist")?.split(",") ?? []);
      report(
        acquirePessimisticLock(engine, {
          keys: keys(need(cmd, "keys")).map((k) => ({
            key: k,
            shouldNotExist: notExist.has(describeKey(k)),
          })),
          primary: key(need(cmd, "primary")),
          startTs: ts(need(cmd, "start")),
          forUpdateTs: ts(need(cmd, "forUpdate")),
          lockTtlMs: Number(a.get("ttl") ?? "100"),
          returnValues: a.has("ret"),
          waitMode: a.has("nowait") ? "noWait" : "wait",
        }),
      );
      break;
    }
    case "commit":
      report(
        commitKeys(engine, keys(need(cmd, "keys")), {
          startTs: ts(need(cmd, "start")),
          commitTs: ts(need(cmd, "commit")),
        }),
      );
      break;
    case "rollback":
      report(
        rollbackKeys(engine, keys(need(cmd, "keys")), {
          startTs: ts(need(cmd, "start")),
          isProtected: a.has("protected"),
        }),
      );
      break;
    case "cleanup":
      report(
        cleanupKey(engine, key(need(cmd, "key")), {
          startTs: ts(need(cmd, "start")),
          isProtected: a.has("protected"),
          nowMs: Number(need(cmd, "now")),
        }),
      );
      break;
    case "pessimistic_rollback":
      report(
        pessimisticRollbackKey(engine, key(need(cmd, "key")), {
          startTs: ts(need(cmd, "start")),
          forUpdateTs: ts(need(cmd, "forUpdate")),
        }),
      );
      break;
    case "check_txn_status":
      report(
        checkTxnStatus(engine, {
          primary: key(need(cmd, "primary")),
          lockTs: ts(need(cmd, "lockTs")),
          callerStartTs: ts(a.get("caller")),
          currentTs: ts(a.get("current")),
          nowMs: Number(need(cmd, "now")),
          rollbackIfNotExist: a.has("rollbackIfNotExist"),
        }),
      );
      break;
    case "check_secondary_locks":
      report(
        checkSecondaryLocks(engine, keys(need(cmd, "keys")), { startTs: ts(need(cmd, "start")) }),
      );
      break;
    case "heartbeat":
      report(
        txnHeartbeat(engine, key(need(cmd, "primary")), {
          startTs: ts(need(cmd, "start")),
          adviseTtlMs: Number(need(cmd, "ttl")),
        }),
      );
      break;
    case "resolve":
      report(
        resolveLocks(engine, keys(need(cmd, "keys")), {
          startTs: ts(need(cmd, "start")),
          commitTs: ts(need(cmd, "commit")),
        }),
      );
      break;
    case "get": {
      const bypass = a.get("bypass")?.split(",").map((t) => ts(t)) ?? [];
      out.push(
        describeOutcome(
          mvccGet(engine, key(need(cmd, "key")), ts(need(cmd, "ts")), { bypassLocks: bypass }),
        ),
      );
      break;
    }
    case "scan": {
      const start = a.get("start");
      const end = a.get("end");
      out.push(
        describeOutcome(
          mvccScan(engine, ts(need(cmd, "ts")), {
            limit: Number(a.get("limit") ?? "100"),
            reverse: a.has("reverse"),
            ...(start === undefined ? {} : { start: key(start) }),
            ...(end === undefined ? {} : { end: key(end) }),
          }),
        ),
      );
      break;
    }
    case "scan_locks": {
      const limit = Number(a.get("limit") ?? "100");
      for (const l of scanLocks(engine, { maxTs: ts(need(cmd, "maxTs")), limit })) {
        out.push(`${describeKey(l.key)} ${describeLock(l.lock)}`);
      }
      break;
    }
    case "gc": {
      const result = gcRange(engine, { safePoint: ts(need(cmd, "safePoint")), keysMax: 1000 });
      out.push(`gc deletedVersions=${result.deletedVersions}`);
      for (const op of result.writes) out.push(describeWriteOp(op));
      engine.apply(result.writes);
      break;
    }
    case "dump":
      for (const entry of engine.all()) out.push(describeEntry(entry));
      break;
    default:
      throw new Error(`unknown command ${cmd.line}`);
  }
  return out;
}

/** Runs a script; returns it with the actual outputs in place of the expected ones. */
function runScript(text: string): { actual: string; expected: string } {
  const engine = new SortedMapReader();
  const lines = text.split("\n");
  const actual: string[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i] ?? "";
    if (line.trim() === "" || line.startsWith("#")) {
      actual.push(line);
      i++;
      continue;
    }
    const cmd = parseCommand(line);
    actual.push(line);
    i++;
    assert.equal(lines[i], "----", `expected ---- after "${line}"`);
    actual.push("----");
    i++;
    while (i < lines.length && (lines[i] ?? "") !== "") i++;
    actual.push(...run(engine, cmd));
  }
  return { actual: actual.join("\n"), expected: text };
}

for (const file of readdirSync(testdataDir).filter((f) => f.endsWith(".txt")).sort()) {
  test(`Percolator actions produce the trace in testdata/${file}`, { timeout: 10_000 }, () => {
    const path = join(testdataDir, file);
    const { actual, expected } = runScript(readFileSync(path, "utf8"));
    if (rewrite) writeFileSync(path, actual);
    else assert.equal(actual, expected);
  });
}
