/**
 * Tests of the KV message validators: good bodies parse to typed requests, and each kind of
 * bad body is refused with `KV:Request:Malformed` naming the first bad field.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { ErrorCode, TesseraError } from "../base/mod.ts";
import {
  parseCommitRequest,
  parseGetRequest,
  parsePessimisticLockRequest,
  parsePrewriteRequest,
  parseScanRequest,
  parseSplitRequest,
} from "./mod.ts";

const base = {
  header: { clusterId: 1n },
  context: { shardId: 1, epoch: { confVersion: 1, version: 2 } },
};
const k = (s: string): Uint8Array => new TextEncoder().encode(s);

function malformedField(parse: (body: unknown) => unknown, body: unknown): string {
  try {
    parse(body);
  } catch (error) {
    assert.ok(error instanceof TesseraError);
    assert.equal(error.code, ErrorCode.KvRequestMalformed);
    return String(error.details["field"]);
  }
  return assert.fail("parsed a malformed body");
}

test("parseGetRequest() accepts a good body and names bad fields", { timeout: 5_000 }, () => {
  const req = parseGetRequest({ ...base, key: k("a"), version: 5n });
  assert.equal(req.version, 5n);
  assert.equal(req.context.epoch.version, 2);
  assert.equal(malformedField(parseGetRequest, { ...base, key: k(""), version: 5n }), "key");
  assert.equal(malformedField(parseGetRequest, { ...base, key: k("a"), version: -1n }), "version");
  assert.equal(malformedField(parseGetRequest, { key: k("a"), version: 1n }), "context");
  assert.equal(
    malformedField(parseGetRequest, { ...base, context: { shardId: 0, epoch: {} }, key: k("a") }),
    "context.shardId",
  );
});

test("parsePrewriteRequest() checks mutations, pessimistic flags and commit modes",
  { timeout: 5_000 }, () => {
    const good = {
      ...base,
      mutations: [{ kind: "put", key: k("a"), value: k("v") }, { kind: "lock", key: k("b") }],
      primary: k("a"),
      startTs: 10n,
      lockTtlMs: 100,
    };
    assert.equal(parsePrewriteRequest(good).mutations.length, 2);
    assert.equal(
      malformedField(parsePrewriteRequest, {
        ...good,
        mutations: [{ kind: "upsert", key: k("a") }],
      }),
      "mutations[0].kind",
    );
    assert.equal(
      malformedField(parsePrewriteRequest, {
        ...good,
        pessimistic: { forUpdateTs: 10n, locked: [true] },
      }),
      "pessimistic.locked",
    );
    assert.equal(
      malformedField(parsePrewriteRequest, {
        ...good,
        asyncCommit: { secondaries: [], maxCommitTs: 0n },
        tryOnePc: { maxCommitTs: 0n },
      }),
      "tryOnePc",
    );
    assert.equal(malformedField(parsePrewriteRequest, { ...good, startTs: 0n }), "startTs");
  });

test("commit, scan, pessimistic lock and split validators enforce their orderings",
  { timeout: 5_000 }, () => {
    assert.equal(
      malformedField(parseCommitRequest, { ...base, keys: [k("a")], startTs: 5n, commitTs: 5n }),
      "commitTs",
    );
    assert.equal(
      malformedField(parseScanRequest, {
        ...base,
        startKey: k("b"),
        endKey: k("a"),
        limit: 1,
        version: 1n,
      }),
      "endKey",
    );
    assert.equal(
      malformedField(parsePessimisticLockRequest, {
        ...base,
        keys: [{ key: k("a") }],
        primary: k("a"),
        startTs: 5n,
        forUpdateTs: 5n,
        lockTtlMs: 1,
        waitMode: "forever",
      }),
      "waitMode",
    );
    assert.equal(
      malformedField(parseSplitRequest, { ...base, splitKeys: [k("b"), k("a")] }),
      "splitKeys[1]",
    );
  });

test("validators throw only KV:Request:Malformed on arbitrary input", { timeout: 20_000 }, () => {
  const parsers = [parseGetRequest, parsePrewriteRequest, parseScanRequest, parseCommitRequest];
  fc.assert(
    fc.property(fc.constantFrom(...parsers), fc.anything(), (parse, body) => {
      try {
        parse(body);
      } catch (error) {
        assert.ok(error instanceof TesseraError && error.code === ErrorCode.KvRequestMalformed);
      }
    }),
    { seed: 42, numRuns: 2_000 },
  );
});
