/**
 * `StatementWrites` over a fake transaction (a sorted in-memory map): reads see the
 * statement's writes over the transaction's, scans merge both in key order, `undo`
 * returns to a mark, nothing reaches the transaction before `flush`, and `flush` locks
 * the requested keys before writing.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Transaction } from "../../client/mod.ts";
import { compareBytes } from "../../codec/mod.ts";
import { StatementWrites } from "./write_overlay.ts";

const k = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array | null): string | null =>
  b === null ? null : new TextDecoder().decode(b);

/** A transaction as `StatementWrites` uses it, recording what was done to it. */
function fakeTxn(initial: Record<string, string>) {
  const data = new Map(Object.entries(initial));
  const log: string[] = [];
  const txn = {
    pessimistic: false,
    get bufferSize() {
      return { keys: 0, bytes: 0 };
    },
    get: (key: Uint8Array) => {
      log.push(`get ${text(key)}`);
      return Promise.resolve(data.has(text(key)!) ? k(data.get(text(key)!)!) : null);
    },
    batchGet: (keys: Uint8Array[]) => {
      log.push(`batchGet ${keys.map(text).join(",")}`);
      return Promise.resolve(keys.map((key) => (data.has(text(key)!)
        ? k(data.get(text(key)!)!) : null)));
    },
    scan: (start: Uint8Array, end: Uint8Array, options: { limit: number }) => {
      const pairs = [...data.entries()].map(([key, value]) => ({ key: k(key), value: k(value) }))
        .filter((p) => compareBytes(p.key, start) >= 0 && compareBytes(p.key, end) < 0)
        .sort((a, b) => compareBytes(a.key, b.key));
      return Promise.resolve(pairs.slice(0, options.limit));
    },
    set: (key: Uint8Array, value: Uint8Array) => {
      log.push(`set ${text(key)}=${text(value)}`);
      data.set(text(key)!, text(value)!);
    },
    delete: (key: Uint8Array) => {
      log.push(`delete ${text(key)}`);
      data.delete(text(key)!);
    },
    lockKeys: (keys: Uint8Array[]) => {
      log.push(`lock ${keys.map(text).join(",")}`);
      return Promise.resolve([]);
    },
  };
  return { txn: txn as unknown as Transaction, log, data };
}

describe("StatementWrites", () => {
  it("reads its own writes over the transaction's, caching transaction reads", async () => {
    const { txn, log } = fakeTxn({ a: "1", b: "2" });
    const w = new StatementWrites(txn);
    await w.prefetch([k("a"), k("b"), k("c")]);
    assert.equal(text(await w.get(k("a"))), "1");
    w.put(k("a"), k("9"));
    w.delete(k("b"));
    assert.equal(text(await w.get(k("a"))), "9");
    assert.equal(await w.get(k("b")), null);
    assert.equal(await w.get(k("c")), null);
    assert.deepEqual(log, ["batchGet a,b,c"]);
  });

  it("scans merge statement writes and deletes in key order, up to a limit", async () => {
    const { txn } = fakeTxn({ i1: "a", i3: "c", i5: "e", j1: "x" });
    const w = new StatementWrites(txn);
    w.put(k("i2"), k("b"));
    w.delete(k("i3"));
    w.put(k("i5"), k("E"));
    const all = await w.scan(k("i"), k("j"), 10);
    assert.deepEqual(all.map((p) => `${text(p.key)}=${text(p.value)}`),
      ["i1=a", "i2=b", "i5=E"]);
    assert.deepEqual((await w.scan(k("i2"), k("j"), 1)).map((p) => text(p.key)), ["i2"]);
    assert.deepEqual(await w.scan(k("i3"), k("i4"), 5), []);
  });

  it("undo returns to a mark; flush locks, then writes; nothing before flush", async () => {
    const { txn, log, data } = fakeTxn({ p: "parent" });
    const w = new StatementWrites(txn);
    w.put(k("r1"), k("1"));
    const mark = w.mark();
    w.put(k("r1"), k("changed"));
    w.put(k("r2"), k("2"));
    w.lock(k("p"));
    w.undo(mark);
    assert.equal(text(await w.get(k("r1"))), "1");
    assert.equal(await w.get(k("r2")), null);
    assert.deepEqual((await w.scan(k("r"), k("s"), 10)).map((p) => text(p.key)), ["r1"]);
    w.lock(k("p"));
    assert.deepEqual(log.filter((l) => !l.startsWith("get")), []);
    assert.equal(data.has("r1"), false);
    await w.flush();
    assert.deepEqual(log.filter((l) => !l.startsWith("get")), ["lock p", "set r1=1"]);
    assert.equal(w.size, 0);
  });
});
