/**
 * `WriteBuffer` checkpoints: rolling back restores exactly the entries, order and byte
 * accounting a checkpoint saw (new keys removed, overwritten and deleted ones put back),
 * nested checkpoints unwind newest first, releasing one hands its memory to the level
 * below, and a checkpoint rolled back past is refused.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { AssertionError } from "../base/mod.ts";
import { WriteBuffer } from "./write_buffer.ts";

const opts = { timeout: 10_000 };
const b = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

/** The buffer as `key=op[:value]` strings in key order, plus its byte count. */
function dump(buffer: WriteBuffer): { entries: string[]; bytes: number } {
  return {
    entries: buffer.entries().map((e) => `${text(e.key)}=${e.op.kind}` +
      (e.op.kind === "put" || e.op.kind === "insert" ? `:${text(e.op.value)}` : "")),
    bytes: buffer.sizeBytes,
  };
}

test("WriteBuffer.rollbackTo() restores the entries, order and bytes of its checkpoint", opts,
  () => {
    const buffer = new WriteBuffer();
    buffer.set(b("b"), { kind: "put", value: b("1") });
    buffer.set(b("d"), { kind: "delete" });
    const before = dump(buffer);
    const cp = buffer.checkpoint();
    buffer.set(b("a"), { kind: "insert", value: b("new") });
    buffer.set(b("b"), { kind: "put", value: b("2") });
    buffer.set(b("b"), { kind: "put", value: b("3") });
    buffer.set(b("d"), { kind: "put", value: b("back") });
    buffer.set(b("c"), { kind: "lock" });
    assert.deepEqual(dump(buffer).entries, ["a=insert:new", "b=put:3", "c=lock", "d=put:back"]);
    buffer.rollbackTo(cp);
    assert.deepEqual(dump(buffer), before);
    assert.equal(buffer.size, 2);
    assert.deepEqual(buffer.range(b("a"), b("z")).map((e) => text(e.key)), ["b", "d"]);
    // The checkpoint stays usable after a rollback to it.
    buffer.set(b("e"), { kind: "put", value: b("x") });
    buffer.rollbackTo(cp);
    assert.deepEqual(dump(buffer), before);
    buffer.releaseCheckpoint(cp);
    assert.equal(buffer.checkpointCount, 0);
  });

test("WriteBuffer nested checkpoints unwind newest first; release merges into the level below",
  opts, () => {
    const buffer = new WriteBuffer();
    buffer.set(b("k"), { kind: "put", value: b("0") });
    const outer = buffer.checkpoint();
    const atOuter = dump(buffer);
    buffer.set(b("k"), { kind: "put", value: b("1") });
    const inner = buffer.checkpoint();
    const atInner = dump(buffer);
    buffer.set(b("k"), { kind: "put", value: b("2") });
    buffer.set(b("m"), { kind: "put", value: b("2") });
    buffer.rollbackTo(inner);
    assert.deepEqual(dump(buffer), atInner);
    // A released statement checkpoint keeps its writes, and the savepoint below still undoes
    // them (including keys first written after the released one).
    const statement = buffer.checkpoint();
    buffer.set(b("n"), { kind: "put", value: b("3") });
    buffer.set(b("k"), { kind: "delete" });
    buffer.releaseCheckpoint(statement);
    assert.deepEqual(dump(buffer).entries, ["k=delete", "n=put:3"]);
    assert.equal(buffer.checkpointCount, 2);
    buffer.rollbackTo(inner);
    assert.deepEqual(dump(buffer), atInner);
    buffer.set(b("z"), { kind: "put", value: b("4") });
    buffer.rollbackTo(outer);
    assert.deepEqual(dump(buffer), atOuter);
    assert.equal(buffer.checkpointCount, 1);
    assert.throws(() => buffer.rollbackTo(inner), AssertionError);
  });

test("WriteBuffer without a checkpoint remembers nothing; a refused write changes nothing",
  opts, () => {
    const buffer = new WriteBuffer({ keysMax: 2 });
    buffer.set(b("a"), { kind: "put", value: b("1") });
    const cp = buffer.checkpoint();
    buffer.set(b("b"), { kind: "put", value: b("2") });
    assert.throws(() => buffer.set(b("c"), { kind: "put", value: b("3") }),
      /transaction too large/);
    buffer.rollbackTo(cp);
    assert.deepEqual(dump(buffer).entries, ["a=put:1"]);
    buffer.set(b("c"), { kind: "put", value: b("3") });
    buffer.releaseCheckpoint(cp);
    assert.deepEqual(dump(buffer).entries, ["a=put:1", "c=put:3"]);
  });
