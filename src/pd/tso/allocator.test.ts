/**
 * Tests of the pure TSO allocator: one test per safety condition of its file comment, an
 * event-trace table of a leader's life, and a seeded random walk over leader changes,
 * clock jumps and failed window writes that checks every timestamp against all before it.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  Prng,
  type Timestamp,
  composeTimestamp,
  decomposeTimestamp,
  logicalMax,
} from "../../base/mod.ts";
import { createSimEnv } from "../../env/mod.ts";
import { type TsoAllocation, TsoAllocator } from "./allocator.ts";

const opts = { timeout: 30_000 };
const forever = Number.POSITIVE_INFINITY;

/** A leader that began at `wallMs` over `savedWindowMs` and had its first window persisted. */
function servingAllocator(wallMs: number, savedWindowMs = 0): TsoAllocator {
  const a = new TsoAllocator({ windowMs: 3000 });
  const w = a.begin({ savedWindowMs, wallMs });
  a.windowPersisted(w);
  a.extendLease(forever);
  return a;
}

function ok(result: TsoAllocation): Timestamp {
  assert.equal(result.kind, "ok", `allocation failed: ${result.kind}`);
  return (result as { firstTs: Timestamp }).firstTs;
}

test("TsoAllocator serves nothing until its first window is persisted", opts, () => {
  const a = new TsoAllocator({ windowMs: 3000 });
  assert.equal(a.allocate(1, 0).kind, "notServing");
  const w = a.begin({ savedWindowMs: 0, wallMs: 10_000 });
  a.extendLease(forever);
  assert.equal(w, 13_000);
  assert.equal(a.allocate(1, 0).kind, "notServing");
  a.windowPersisted(w);
  assert.equal(ok(a.allocate(1, 0)), composeTimestamp(10_000, 0));
});

test("TsoAllocator hands out count consecutive timestamps, strictly increasing", opts, () => {
  const a = servingAllocator(10_000);
  const first = ok(a.allocate(5, 0));
  const second = ok(a.allocate(3, 0));
  assert.equal(first, composeTimestamp(10_000, 0));
  assert.equal(second, composeTimestamp(10_000, 5));
});

test("a new leader starts at max(now, saved + 1 ms) when its clock is behind", opts, () => {
  // The old leader persisted 20 000 and may have served up to (20 000, logicalMax).
  const a = servingAllocator(12_000, 20_000);
  assert.equal(ok(a.allocate(1, 0)), composeTimestamp(20_001, 0));
  const b = servingAllocator(30_000, 20_000);
  assert.equal(ok(b.allocate(1, 0)), composeTimestamp(30_000, 0));
});

test("logical overflow moves to the next millisecond but never past the window", opts, () => {
  const a = new TsoAllocator({ windowMs: 3 });
  a.windowPersisted(a.begin({ savedWindowMs: 0, wallMs: 100 })); // window 103
  a.extendLease(forever);
  const served: Timestamp[] = [];
  for (;;) {
    const r = a.allocate(10_000, 0);
    if (r.kind !== "ok") {
      assert.equal(r.kind, "windowExhausted");
      break;
    }
    served.push(r.firstTs);
  }
  const last = decomposeTimestamp(served.at(-1)!);
  assert.equal(last.physicalMs, 103, "the last batch sits in the window's own millisecond");
  for (const ts of served) assert.ok(decomposeTimestamp(ts).physicalMs <= 103);
  // 4 milliseconds (100..103) of 26 full batches each.
  assert.equal(served.length, 4 * Math.floor((logicalMax + 1) / 10_000));
  // A new window lets it continue above everything served.
  const tick = a.tick(100);
  assert.ok(tick.persistWindowMs !== undefined && tick.persistWindowMs > 103);
  a.windowPersisted(tick.persistWindowMs);
  assert.ok(ok(a.allocate(1, 0)) > served.at(-1)!);
});

test("the window is never lowered: a lower confirmation is a bug", opts, () => {
  const a = servingAllocator(10_000);
  assert.throws(() => a.windowPersisted(12_000), /TSO window lowered/);
  assert.throws(() => a.windowPersisted(13_000), /TSO window lowered/);
});

test("a wall clock that goes backwards never makes timestamps go backwards", opts, () => {
  const a = servingAllocator(10_000);
  a.tick(10_500);
  const before = ok(a.allocate(1, 0));
  assert.equal(decomposeTimestamp(before).physicalMs, 10_500);
  a.tick(9_000); // NTP stepped the clock back 1.5 s
  const after = ok(a.allocate(1, 0));
  assert.ok(after > before);
  assert.equal(decomposeTimestamp(after).physicalMs, 10_500);
});

test("physical time follows the wall clock only up to the persisted window", opts, () => {
  const a = servingAllocator(10_000); // window 13 000
  const t = a.tick(50_000); // the clock jumped 40 s ahead
  assert.equal(a.currentPhysicalMs, 13_000);
  assert.equal(t.persistWindowMs, 53_000);
  assert.ok(decomposeTimestamp(ok(a.allocate(1, 0))).physicalMs <= 13_000);
  a.windowPersisted(53_000);
  a.tick(50_000);
  assert.equal(decomposeTimestamp(ok(a.allocate(1, 0))).physicalMs, 50_000);
});

test("no timestamp at or after the lease deadline (monotonic)", opts, () => {
  const a = new TsoAllocator({ windowMs: 3000 });
  a.windowPersisted(a.begin({ savedWindowMs: 0, wallMs: 1_000 }));
  assert.equal(a.allocate(1, 0).kind, "leaseExpired", "no lease yet");
  a.extendLease(2_500); // keepalive sent at 0, TTL 3 s, minus drift
  assert.equal(a.allocate(1, 2_499.9).kind, "ok");
  assert.equal(a.allocate(1, 2_500).kind, "leaseExpired");
  // A process that stalled (SIGSTOP) past its deadline finds it expired on resume, even
  // though its wall clock and window would allow serving.
  a.tick(60_000);
  assert.equal(a.allocate(1, 60_000).kind, "leaseExpired");
  a.extendLease(1_000); // a late, older keepalive reply cannot shorten or revive it
  assert.equal(a.allocate(1, 60_000).kind, "leaseExpired");
  a.extendLease(63_000);
  assert.equal(a.allocate(1, 60_000).kind, "ok");
});

test("stop() ends serving at once and drops the lease", opts, () => {
  const a = servingAllocator(10_000);
  a.stop();
  assert.equal(a.allocate(1, 0).kind, "notServing");
  assert.equal(a.tick(20_000).persistWindowMs, undefined);
});

test("a leader's life as an event trace", opts, () => {
  // Each row: an event and what the allocator answered, as one line of text.
  const a = new TsoAllocator({ windowMs: 3000 });
  const trace: string[] = [];
  const show = (r: TsoAllocation): string => {
    if (r.kind !== "ok") return r.kind;
    const { physicalMs, logical } = decomposeTimestamp(r.firstTs);
    return `ok ${physicalMs}.${logical}x${r.count}`;
  };
  const first = a.begin({ savedWindowMs: 5000, wallMs: 4000 });
  trace.push(`begin saved=5000 wall=4000 -> persist ${first}`);
  trace.push(`allocate 1 -> ${show(a.allocate(1, 0))}`);
  a.windowPersisted(8001);
  trace.push("persisted 8001");
  trace.push(`allocate 1 -> ${show(a.allocate(1, 0))}`);
  a.extendLease(3000);
  trace.push("lease until 3000");
  trace.push(`allocate 4 -> ${show(a.allocate(4, 10))}`);
  trace.push(`tick wall=4050 -> persist ${a.tick(4050).persistWindowMs}`);
  trace.push(`allocate 1 -> ${show(a.allocate(1, 20))}`);
  trace.push(`tick wall=7100 -> persist ${a.tick(7100).persistWindowMs}`);
  trace.push(`allocate 2 -> ${show(a.allocate(2, 30))}`);
  trace.push(`tick wall=7200 -> persist ${a.tick(7200).persistWindowMs}`);
  a.windowPersisted(10_100);
  trace.push("persisted 10100");
  trace.push(`tick wall=6000 -> persist ${a.tick(6000).persistWindowMs}`);
  trace.push(`allocate 1 -> ${show(a.allocate(1, 40))}`);
  trace.push(`allocate 1 at mono 3000 -> ${show(a.allocate(1, 3000))}`);
  assert.deepEqual(trace, [
    "begin saved=5000 wall=4000 -> persist 8001",
    "allocate 1 -> notServing",
    "persisted 8001",
    "allocate 1 -> leaseExpired",
    "lease until 3000",
    "allocate 4 -> ok 5001.0x4",
    "tick wall=4050 -> persist undefined",
    "allocate 1 -> ok 5001.4x1",
    "tick wall=7100 -> persist 10100",
    "allocate 2 -> ok 7100.0x2",
    "tick wall=7200 -> persist undefined",
    "persisted 10100",
    "tick wall=6000 -> persist undefined",
    "allocate 1 -> ok 7200.0x1",
    "allocate 1 at mono 3000 -> leaseExpired",
  ]);
});

test("random walk: leader changes, clock jumps and failed writes never reorder", opts, () => {
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
    const prng = new Prng(seed);
    const sim = createSimEnv({ seed, wallStartMs: 1_000_000 });
    let skewMs = 0; // this leader's wall clock error
    let persisted = 0; // the window in the metadata store
    let leader = new TsoAllocator({ windowMs: 3000 });
    let inFlight: number | undefined;
    const start = (): void => {
      leader = new TsoAllocator({ windowMs: 3000 });
      inFlight = leader.begin({ savedWindowMs: persisted, wallMs: sim.clock.wallMs() + skewMs });
      leader.extendLease(forever);
    };
    start();
    let last = 0n;
    let served = 0;
    for (let step = 0; step < 5_000; step++) {
      const r = prng.nextInt(100);
      if (r < 50) {
        const result = leader.allocate(prng.nextRange(1, 20_000), 0);
        if (result.kind === "ok") {
          assert.ok(result.firstTs > last, `seed ${seed} step ${step}: went backwards`);
          const physicalMs = decomposeTimestamp(result.firstTs).physicalMs;
          assert.ok(physicalMs <= persisted, `seed ${seed} step ${step}: past the window`);
          last = result.firstTs + BigInt(result.count - 1);
          served++;
        }
      } else if (r < 75) {
        sim.scheduler.advance(prng.nextRange(0, 200));
        const t = leader.tick(sim.clock.wallMs() + skewMs);
        if (t.persistWindowMs !== undefined) inFlight = t.persistWindowMs;
      } else if (r < 88 && inFlight !== undefined) {
        if (prng.nextBool(0.8)) {
          // The conditioned write succeeds: the store never holds a lower window.
          persisted = Math.max(persisted, inFlight);
          leader.windowPersisted(inFlight);
        } else {
          leader.windowPersistFailed(inFlight);
        }
        inFlight = undefined;
      } else if (r < 94) {
        skewMs = prng.nextRange(-5_000, 5_000);
      } else {
        // Failover: the old leader stops (its lease expired) and a new one takes over
        // from the persisted window; a write in flight is lost with the old leader.
        leader.stop();
        start();
      }
    }
    assert.ok(served > 500, `seed ${seed}: only ${served} allocations succeeded`);
  }
});
