/**
 * The conformance suite every `MetaStore` runs (embedded and etcd): reads and writes with
 * revisions, ordered ranges, conditioned transactions, watches, and leases that expire or
 * are revoked with their keys. Registered with `node:test` for a factory; every test uses
 * keys under its own fresh prefix, so one etcd cluster serves the whole suite.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { ErrorCode, hasErrorCode } from "../../base/mod.ts";
import { type MetaStore, type MetaWatchEvent, prefixEnd } from "./meta_store.ts";

export interface MetaConformanceFactory {
  /** A store to test; the suite closes it. Undefined skips the suite (with `why`). */
  open(): Promise<MetaStore>;
  /** Set when the implementation cannot run here; the tests are skipped with it. */
  readonly skip?: () => string | undefined;
}

const opts = { timeout: 30_000 };
const enc = new TextEncoder();
const dec = new TextDecoder();
const v = (s: string): Uint8Array => enc.encode(s);
const s = (b: Uint8Array | undefined): string | undefined =>
  b === undefined ? undefined : dec.decode(b);

let prefixCounter = 0;
function freshPrefix(): string {
  prefixCounter++;
  return `/conformance/${process.pid}-${Date.now()}-${prefixCounter}/`;
}

async function waitUntil(what: string, condition: () => boolean | Promise<boolean>, ms = 15_000) {
  const deadline = performance.now() + ms;
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Registers the suite as tests named `${name}: …`. */
export function registerMetaStoreConformance(name: string, factory: MetaConformanceFactory): void {
  const run = (title: string, body: (store: MetaStore, p: string) => Promise<void>): void => {
    test(`${name}: ${title}`, opts, async (t) => {
      const why = factory.skip?.();
      if (why !== undefined) {
        t.skip(why);
        return;
      }
      const store = await factory.open();
      try {
        await body(store, freshPrefix());
      } finally {
        await store.close();
      }
    });
  };

  run("put, get and delete track create/mod revisions and versions", async (store, p) => {
    assert.equal(await store.get(`${p}a`), undefined);
    const r1 = await store.put(`${p}a`, v("one"));
    const a1 = await store.get(`${p}a`);
    assert.equal(s(a1?.value), "one");
    assert.equal(a1?.createRevision, r1);
    assert.equal(a1?.modRevision, r1);
    assert.equal(a1?.version, 1);
    assert.equal(a1?.leaseId, "0");
    const r2 = await store.put(`${p}a`, v("two"));
    assert.ok(r2 > r1);
    const a2 = await store.get(`${p}a`);
    assert.deepEqual(
      [s(a2?.value), a2?.createRevision, a2?.modRevision, a2?.version],
      ["two", r1, r2, 2],
    );
    assert.equal(await store.delete(`${p}a`), true);
    assert.equal(await store.delete(`${p}a`), false);
    assert.equal(await store.get(`${p}a`), undefined);
    const r3 = await store.put(`${p}a`, v("three"));
    const a3 = await store.get(`${p}a`);
    assert.equal(a3?.createRevision, r3, "a re-created key starts a new life");
    assert.equal(a3?.version, 1);
  });

  run("range returns keys in order within [start, end) up to the limit", async (store, p) => {
    for (const k of ["c", "a", "b", "d", "b/x"]) await store.put(`${p}${k}`, v(k));
    await store.put(`${p.slice(0, -1)}0`, v("outside"));
    const all = await store.range({ start: p, end: prefixEnd(p) });
    assert.deepEqual(
      all.map((kv) => kv.key.slice(p.length)),
      ["a", "b", "b/x", "c", "d"],
    );
    const some = await store.range({ start: `${p}b`, end: `${p}d` });
    assert.deepEqual(
      some.map((kv) => s(kv.value)),
      ["b", "b/x", "c"],
    );
    const limited = await store.range({ start: p, end: prefixEnd(p), limit: 2 });
    assert.deepEqual(
      limited.map((kv) => s(kv.value)),
      ["a", "b"],
    );
    assert.deepEqual(await store.range({ start: `${p}x`, end: prefixEnd(p) }), []);
  });

  run("a transaction conditioned on absence creates once; the loser reads", async (store, p) => {
    const create = (value: string) =>
      store.txn({
        compare: [{ key: `${p}leader`, target: "createRevision", op: "=", operand: 0 }],
        success: [{ kind: "put", key: `${p}leader`, value: v(value) }],
        failure: [{ kind: "get", key: `${p}leader` }],
      });
    const first = await create("m1");
    assert.equal(first.succeeded, true);
    assert.deepEqual(first.gets, []);
    const second = await create("m2");
    assert.equal(second.succeeded, false);
    assert.equal(s(second.gets[0]?.value), "m1");
    assert.equal(second.gets[0]?.createRevision, first.revision);
    assert.equal(s((await store.get(`${p}leader`))?.value), "m1");
  });

  run("transactions compare values and revisions and apply all-or-nothing", async (store, p) => {
    const rev = await store.put(`${p}tso`, v("100"));
    const stale = await store.txn({
      compare: [
        { key: `${p}tso`, target: "modRevision", op: "=", operand: rev },
        { key: `${p}leader`, target: "value", op: "=", operand: v("me") },
      ],
      success: [
        { kind: "put", key: `${p}tso`, value: v("200") },
        { kind: "put", key: `${p}other`, value: v("x") },
      ],
    });
    assert.equal(stale.succeeded, false, "one compare failed");
    assert.equal(s((await store.get(`${p}tso`))?.value), "100");
    assert.equal(await store.get(`${p}other`), undefined);
    await store.put(`${p}leader`, v("me"));
    const leaderRev = (await store.get(`${p}tso`))?.modRevision ?? 0;
    const good = await store.txn({
      compare: [
        { key: `${p}tso`, target: "modRevision", op: "=", operand: leaderRev },
        { key: `${p}leader`, target: "value", op: "=", operand: v("me") },
        { key: `${p}tso`, target: "version", op: "<", operand: 2 },
        { key: `${p}leader`, target: "value", op: "!=", operand: v("you") },
      ],
      success: [
        { kind: "put", key: `${p}tso`, value: v("200") },
        { kind: "put", key: `${p}other`, value: v("x") },
        { kind: "get", key: `${p}tso` },
      ],
    });
    assert.equal(good.succeeded, true);
    assert.equal(s(good.gets[0]?.value), "200", "a get sees the branch's own earlier put");
    const tso = await store.get(`${p}tso`);
    const other = await store.get(`${p}other`);
    assert.equal(tso?.modRevision, good.revision, "one revision for the whole transaction");
    assert.equal(other?.modRevision, good.revision);
  });

  run("a watch reports later puts and deletes under its prefix, in order", async (store, p) => {
    await store.put(`${p}before`, v("0"));
    const events: MetaWatchEvent[] = [];
    const watch = await store.watch(`${p}w/`, (batch) => events.push(...batch));
    try {
      await store.put(`${p}w/a`, v("1"));
      await store.put(`${p}elsewhere`, v("2"));
      await store.put(`${p}w/b`, v("3"));
      await store.delete(`${p}w/a`);
      await waitUntil("three watch events", () => events.length >= 3);
      assert.deepEqual(
        events.map((e) => `${e.kind} ${e.key.slice(p.length)} ${s(e.value)}`),
        ["put w/a 1", "put w/b 3", "delete w/a "],
      );
      assert.ok(events[0]!.modRevision < events[1]!.modRevision);
      assert.ok(events[1]!.modRevision < events[2]!.modRevision);
    } finally {
      await watch.cancel();
    }
    const count = events.length;
    await store.put(`${p}w/c`, v("4"));
    await store.put(`${p}w/marker`, v("5"));
    // Give a (wrongly) still-running watch the chance to deliver, then check it did not.
    const probe: MetaWatchEvent[] = [];
    const probeWatch = await store.watch(`${p}w/`, (batch) => probe.push(...batch));
    await store.put(`${p}w/probe`, v("6"));
    await waitUntil("the probe watch event", () => probe.length >= 1);
    await probeWatch.cancel();
    assert.equal(events.length, count, "a cancelled watch reports nothing more");
  });

  run("revoking a lease deletes its keys; a dead lease cannot be renewed", async (store, p) => {
    const lease = await store.grantLease(10_000);
    assert.notEqual(lease.leaseId, "0");
    assert.ok(lease.ttlMs >= 10_000 - 1000);
    await store.put(`${p}owned`, v("x"), { leaseId: lease.leaseId });
    await store.put(`${p}kept`, v("y"));
    assert.equal((await store.get(`${p}owned`))?.leaseId, lease.leaseId);
    const renewed = await store.keepAlive(lease.leaseId);
    assert.equal(renewed.leaseId, lease.leaseId);
    await store.revokeLease(lease.leaseId);
    assert.equal(await store.get(`${p}owned`), undefined);
    assert.equal(s((await store.get(`${p}kept`))?.value), "y");
    await assert.rejects(store.keepAlive(lease.leaseId), (e: unknown) =>
      hasErrorCode(e, ErrorCode.PdMetaLeaseNotFound),
    );
    await assert.rejects(store.put(`${p}late`, v("z"), { leaseId: lease.leaseId }), (e: unknown) =>
      hasErrorCode(e, ErrorCode.PdMetaLeaseNotFound),
    );
    await store.revokeLease(lease.leaseId); // already gone: no error
  });

  run("a lease that is not renewed expires and takes its keys along", async (store, p) => {
    const lease = await store.grantLease(1_000);
    await store.put(`${p}ephemeral`, v("x"), { leaseId: lease.leaseId });
    const events: MetaWatchEvent[] = [];
    const watch = await store.watch(p, (batch) => events.push(...batch));
    try {
      await waitUntil("the leased key to expire", async () => {
        return (await store.get(`${p}ephemeral`)) === undefined;
      });
      await waitUntil("the delete event", () => events.some((e) => e.kind === "delete"));
    } finally {
      await watch.cancel();
    }
    await assert.rejects(store.keepAlive(lease.leaseId), (e: unknown) =>
      hasErrorCode(e, ErrorCode.PdMetaLeaseNotFound),
    );
  });
}
