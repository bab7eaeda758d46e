/**
 * Tests of the `dag` coprocessor handler through the real `kv.Coprocessor` RPC on a test
 * store: a DAG page reads the MVCC snapshot at its startTs (a later commit is invisible),
 * runs selection / aggregation / descending paging next to the data, returns a lock in
 * its way as `keyIsLocked` for the client to resolve, and refuses a plan that does not
 * decode with `KV:Request:Malformed`.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { ErrorCode, TesseraError, type Timestamp, tableId } from "../../base/mod.ts";
import { encodeRowKey, prefixNext, recordPrefix } from "../../codec/mod.ts";
import {
  type DagColumn,
  type DagRange,
  type DagRequest,
  type DagResponse,
  type Value,
  buildCall,
  columnRef,
  decodeDagResponse,
  defaultDagContext,
  encodeDagRequest,
  encodeRow,
  intType,
  integerLiteral,
  rangesAfterResume,
  stringType,
} from "../../expr/mod.ts";
import { type CommitReply, type CoprocessorReply, KvMethod, type PrewriteReply }
  from "../../proto/mod.ts";
import { type TestKv, startTestKv } from "../server/test_kv.ts";
import { registerCoprocessorHandlers } from "./dag_handler.ts";

const timeout = { timeout: 30_000 };
const table = 33;

const columns: readonly DagColumn[] = [
  { id: 0, type: { kind: "int", unsigned: false }, originDefault: null },
  { id: 1, type: { kind: "int", unsigned: false }, originDefault: null },
  { id: 2, type: { kind: "string" }, originDefault: null },
];
const a = columnRef(1, "a", intType({ length: 11 }));
const s = columnRef(2, "s", stringType(10));

function key(handle: bigint): Uint8Array {
  return encodeRowKey(tableId(table), handle);
}

function row(a: number, s: string): Uint8Array {
  return encodeRow([1, 2], [{ kind: "int", value: BigInt(a) }, { kind: "string", value: s }]);
}

const I = (v: number | bigint): Value => ({ kind: "int", value: BigInt(v) });
const S = (v: string): Value => ({ kind: "string", value: v });

function request(extra: Partial<DagRequest> = {}): DagRequest {
  return { scan: { kind: "table", tableId: table, columns, handleSlot: 0, desc: false },
    selection: [], aggregation: null, topN: null, limit: null, context: defaultDagContext,
    pagingKeys: 100, ...extra };
}

const whole: DagRange = { start: recordPrefix(tableId(table)),
  end: prefixNext(recordPrefix(tableId(table))) };

async function prewrite(kv: TestKv, rows: ReadonlyMap<bigint, Uint8Array>): Promise<Timestamp> {
  const startTs = kv.ts();
  const keys = [...rows.keys()].map(key);
  const reply = (await kv.call(KvMethod.prewrite, {
    mutations: [...rows].map(([h, value]) => ({ kind: "put", key: key(h), value })),
    primary: keys[0],
    startTs,
    lockTtlMs: 60_000,
  })) as PrewriteReply;
  assert.equal(reply.keyError, undefined);
  return startTs;
}

async function write(kv: TestKv, rows: ReadonlyMap<bigint, Uint8Array>): Promise<void> {
  const startTs = await prewrite(kv, rows);
  const reply = (await kv.call(KvMethod.commit, {
    keys: [...rows.keys()].map(key),
    startTs,
    commitTs: kv.ts(),
  })) as CommitReply;
  assert.equal(reply.keyError, undefined);
}

async function coprocessor(kv: TestKv, r: DagRequest, ranges: readonly DagRange[],
  startTs: Timestamp): Promise<CoprocessorReply> {
  return (await kv.call(KvMethod.coprocessor, {
    handler: "dag",
    plan: encodeDagRequest(r),
    ranges: ranges.map((x) => ({ start: x.start, end: x.end ?? new Uint8Array(0) })),
    startTs,
  })) as CoprocessorReply;
}

async function page(kv: TestKv, r: DagRequest, ranges: readonly DagRange[],
  startTs: Timestamp): Promise<DagResponse> {
  const reply = await coprocessor(kv, r, ranges, startTs);
  assert.equal(reply.keyError, undefined);
  assert.equal(reply.routeError, undefined);
  return decodeDagResponse(reply.data);
}

describe("the dag coprocessor handler over kv.Coprocessor", () => {
  let kv: TestKv;

  before(async () => {
    kv = await startTestKv();
    registerCoprocessorHandlers(kv.coprocessor);
  });

  after(async () => {
    await kv.close();
  });

  test("reads the snapshot at startTs: a later commit is invisible", timeout, async () => {
    await write(kv, new Map([[1n, row(10, "a")], [2n, row(20, "B")], [3n, row(30, "b")],
      [4n, row(40, "c")]]));
    const snapshot = kv.ts();
    await write(kv, new Map([[1n, row(11, "z")], [5n, row(50, "b")]]));
    const before = await page(kv, request(), [whole], snapshot);
    assert.deepEqual(before.handles, [1n, 2n, 3n, 4n]);
    assert.deepEqual(before.rows[0], [I(1), I(10), S("a")]);
    const now = await page(kv, request(), [whole], kv.ts());
    assert.deepEqual(now.handles, [1n, 2n, 3n, 4n, 5n]);
    assert.deepEqual(now.rows[0], [I(1), I(11), S("z")]);
    // Selection and a partial aggregation run on the store, at the old snapshot.
    const big = buildCall(">", [a, integerLiteral("15")]);
    assert.equal(big.kind, "ok");
    const grouped = await page(kv, request({
      selection: big.kind === "ok" ? [big.expr] : [],
      aggregation: { groupBy: [s], aggregates: [{ fn: "count", args: [] },
        { fn: "sum", args: [a] }] } }), [whole], snapshot);
    assert.deepEqual(grouped.rows, [[S("B"), I(2), { kind: "decimal", unscaled: 50n, scale: 0 }],
      [S("c"), I(1), { kind: "decimal", unscaled: 40n, scale: 0 }]]);
  });

  test("pages a descending scan from its resume keys", timeout, async () => {
    const at = kv.ts();
    const r = request({ scan: { ...request().scan, desc: true }, pagingKeys: 2 });
    let ranges: DagRange[] = [whole];
    const handles: bigint[] = [];
    for (let pages = 0; ; pages++) {
      assert.ok(pages < 10);
      const p = await page(kv, r, ranges, at);
      assert.ok(p.scannedKeys <= 2);
      handles.push(...p.handles!);
      if (p.resumeKey === null) break;
      ranges = rangesAfterResume(ranges, p.resumeKey, { desc: true });
    }
    assert.deepEqual(handles, [5n, 4n, 3n, 2n, 1n]);
  });

  test("a lock in the way is returned as keyIsLocked", timeout, async () => {
    const lockTs = await prewrite(kv, new Map([[3n, row(33, "locked")]]));
    const reply = await coprocessor(kv, request(), [whole], kv.ts());
    assert.equal(reply.keyError?.kind, "keyIsLocked");
    if (reply.keyError?.kind === "keyIsLocked") {
      assert.deepEqual([...reply.keyError.lock.key], [...key(3n)]);
      assert.equal(reply.keyError.lock.startTs, lockTs);
    }
    assert.equal(reply.data.length, 0);
    // A read below the lock's start does not wait for it.
    const older = await page(kv, request(), [whole], (lockTs - 1n) as Timestamp);
    assert.equal(older.handles!.length, 5);
  });

  test("ranges out of order are KV:Request:Malformed", timeout, async () => {
    await assert.rejects(kv.call(KvMethod.coprocessor, {
      handler: "dag",
      plan: encodeDagRequest(request()),
      ranges: [{ start: key(5n), end: key(9n) }, { start: key(1n), end: key(3n) }],
      startTs: kv.ts(),
    }), (e: unknown) => e instanceof TesseraError && e.code === ErrorCode.KvRequestMalformed);
  });

  test("a plan that does not decode is KV:Request:Malformed", timeout, async () => {
    await assert.rejects(kv.call(KvMethod.coprocessor, {
      handler: "dag",
      plan: Uint8Array.of(0xda, 1, 7),
      ranges: [{ start: whole.start, end: whole.end }],
      startTs: kv.ts(),
    }), (e: unknown) => {
      assert.ok(e instanceof TesseraError);
      assert.equal(e.code, ErrorCode.KvRequestMalformed);
      assert.match(e.message, /malformed DAG request/);
      return true;
    });
  });
});
