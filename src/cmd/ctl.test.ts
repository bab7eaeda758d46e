/**
 * Tests of `tessera ctl` against a real PD (and one KV node, so there is a store and a
 * shard to show), both started as child processes on free ports through the `Supervisor`.
 * Commands run in-process through `buildProgram`, with their output captured: tables by
 * default, one JSON line with `--json`, PD's own message and exit code 1 on an error.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { configAssignments, formatTable, keyArgumentToHex } from "./ctl.ts";
import { createLogger } from "./logger.ts";
import { buildProgram, runProgram } from "./main.ts";
import { Supervisor } from "./supervisor.ts";

const opts = { timeout: 120_000 };
const logger = createLogger({ component: "ctl-test", level: "silent" });
const supervisor = new Supervisor({ logger, onStderr: () => undefined });
const dataDir = mkdtempSync(join(tmpdir(), "tessera-ctl-"));
let pdHttp = "";

before(async () => {
  const pd = await supervisor.start("pd", [
    "pd", "--addr", "127.0.0.1:0", "--status-addr", "127.0.0.1:0",
    "--data-dir", join(dataDir, "pd"), "--log-level", "warn",
  ], { ready: /^\{"name":/ });
  const ready = JSON.parse(pd.readyLine) as { rpc: string; http: string };
  pdHttp = ready.http;
  await supervisor.start("kv", [
    "kv", "--pd", ready.rpc, "--addr", "127.0.0.1:0", "--status-addr", "127.0.0.1:0",
    "--data-dir", join(dataDir, "kv"), "--log-level", "warn", "--raft-tick-interval", "100ms",
  ], { ready: /^\{"storeId":/ });
});

after(async () => {
  await supervisor.stopAll();
  rmSync(dataDir, { recursive: true, force: true });
});

/** Runs `tessera ctl …` in-process; resolves with the exit code and the output. */
async function ctl(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const program = buildProgram({ version: "test", print: (text) => (out += text) });
  program.exitOverride();
  program.configureOutput({ writeOut: (t) => (out += t), writeErr: (t) => (err += t) });
  const code = await runProgram(program, ["ctl", ...args, "--pd-http", pdHttp],
    { from: "user", writeErr: (text) => (err += text) });
  return { code, out, err };
}

/** Polls `ctl` until `ready(out)` holds: the KV node's first heartbeats take a moment. */
async function eventually(args: string[], ready: (out: string) => boolean): Promise<string> {
  const deadline = performance.now() + 30_000;
  for (let backoffMs = 50; ; backoffMs = Math.min(backoffMs * 2, 1_000)) {
    const { code, out } = await ctl(...args);
    if (code === 0 && ready(out)) return out;
    assert.ok(performance.now() < deadline, `ctl ${args.join(" ")} never ready: ${out}`);
    await new Promise((resolve) => setTimeout(resolve, backoffMs));
  }
}

test("ctl stores prints a table of stores; --json prints one JSON line", opts, async () => {
  const table = await eventually(["stores"], (out) => /^1\s+127\.0\.0\.1:\d+\s.*\bup\b/m.test(out));
  assert.match(table, /^id\s+address\s.*\bstate\b.*\bcapacityBytes\b/);
  const { code, out } = await ctl("stores", "--json");
  assert.equal(code, 0);
  const parsed = JSON.parse(out) as { stores: { id: number }[] };
  assert.deepEqual(parsed.stores.map((s) => s.id), [1]);
  const one = await ctl("store", "1");
  assert.match(one.out, /^id:\s+1$/m);
});

test("ctl shards, shard <id> and shard --key show the shard covering the key space", opts,
  async () => {
    const shards = await eventually(["shards"], (out) => /^\d+\s+""\s+""/m.test(out));
    assert.match(shards, /^id\s+startKey\s+endKey\s+confVersion\s+version\s+peers\s+leader/);
    const { out } = await ctl("shards", "--json");
    const [first] = (JSON.parse(out) as { shards: { id: number }[] }).shards;
    assert.ok(first !== undefined, out);
    const byId = await ctl("shard", String(first.id), "--json");
    assert.equal((JSON.parse(byId.out) as { id: number }).id, first.id);
    const byKey = await ctl("shard", "--key", "zzz", "--json");
    assert.equal(byKey.code, 0, byKey.err);
    assert.equal((JSON.parse(byKey.out) as { id: number }).id, first.id);
  });

test("ctl exits 1 with PD's message for an unknown shard, store or scheduler", opts,
  async () => {
    const shard = await ctl("shard", "999");
    assert.equal(shard.code, 1);
    assert.match(shard.err, /error: PD refused GET shards\/999: no shard 999 \(PD:/);
    const store = await ctl("store", "42");
    assert.equal(store.code, 1);
    assert.match(store.err, /PD refused GET stores\/42/);
    const scheduler = await ctl("scheduler", "add", "no-such");
    assert.equal(scheduler.code, 1);
    assert.match(scheduler.err, /no scheduler named no-such/);
    const split = await ctl("split", "999", "6b");
    assert.equal(split.code, 1);
    assert.match(split.err, /PD refused POST operators/);
  });

test("ctl schedulers, scheduler remove/add and operators change and show PD's state", opts,
  async () => {
    const list = await ctl("schedulers", "--json");
    const schedulers = (JSON.parse(list.out) as { schedulers: { name: string }[] }).schedulers;
    const name = schedulers[0]?.name;
    assert.ok(name !== undefined, list.out);
    const removed = await ctl("scheduler", "remove", name, "--json");
    assert.equal(removed.code, 0, removed.err);
    const off = (JSON.parse(removed.out) as { schedulers: { name: string; enabled: boolean }[] })
      .schedulers.find((s) => s.name === name);
    assert.equal(off?.enabled, false);
    const added = await ctl("scheduler", "add", name);
    assert.match(added.out, new RegExp(`^${name}\\s+true$`, "m"));
    const operators = await ctl("operators");
    assert.equal(operators.code, 0, operators.err);
  });

test("ctl config show/set and gc safepoint read and change PD's config", opts, async () => {
  const shown = await ctl("config", "show", "--json");
  const config = JSON.parse(shown.out) as Record<string, unknown>;
  const key = Object.keys(config).find((k) => typeof config[k] === "number");
  assert.ok(key !== undefined, shown.out);
  const value = (config[key] as number) + 1;
  const set = await ctl("config", "set", `${key}=${value}`, "--json");
  assert.equal(set.code, 0, set.err);
  assert.equal((JSON.parse(set.out) as Record<string, unknown>)[key], value);
  const bad = await ctl("config", "set", "noSuchSetting=1");
  assert.equal(bad.code, 1);
  assert.match(bad.err, /error: PD refused PUT config/);
  const gc = await ctl("gc", "safepoint");
  assert.match(gc.out, /^ts:\s+\d+$/m);
});

test("ctl reports an unreachable PD with exit code 1", opts, async () => {
  let err = "";
  const program = buildProgram({ version: "test", print: () => undefined });
  const code = await runProgram(program, ["ctl", "stores", "--pd-http", "127.0.0.1:1"],
    { from: "user", writeErr: (text) => (err += text) });
  assert.equal(code, 1);
  assert.match(err, /error: cannot reach PD at http:\/\/127\.0\.0\.1:1/);
});

test("ctl helpers: tables, keys and config assignments", opts, () => {
  assert.equal(formatTable([{ id: 1, peers: [{ storeId: 1 }, { storeId: 2 }] }]),
    "id  peers\n1   1,2\n");
  assert.equal(formatTable([]), "(none)\n");
  assert.equal(keyArgumentToHex("0x7A7a", { asString: false }), "7a7a");
  assert.equal(keyArgumentToHex("zz", { asString: false }), "7a7a");
  assert.equal(keyArgumentToHex("ab", { asString: true }), "6162");
  assert.deepEqual(configAssignments(["a=1", "b.c=true", "d=x"]),
    { a: 1, b: { c: true }, d: "x" });
});
