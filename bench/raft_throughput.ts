/**
 * Benchmark: committed entries per second of a 3-peer Raft group in memory. One process
 * plays the host for all three peers (persist to `MemoryStorage`, deliver messages
 * losslessly, apply), so the figure is the cost of the Raft library itself, with no disk,
 * network or serialization. Run: `./node_modules/.bin/node bench/raft_throughput.ts`
 * (optional arguments: entries, payload bytes, proposals per batch).
 */
import { Prng, peerId } from "../src/base/mod.ts";
import type { PeerId } from "../src/base/mod.ts";
import { MemoryStorage, RawNode, defaultRaftOptions } from "../src/raft/mod.ts";
import type { Message } from "../src/raft/mod.ts";

const entries = Number(process.argv[2] ?? 200_000);
const payloadBytes = Number(process.argv[3] ?? 64);
const batch = Number(process.argv[4] ?? 64);

const ids: PeerId[] = [peerId(1), peerId(2), peerId(3)];
const conf = { voters: ids, votersOutgoing: [], learners: [], learnersNext: [], autoLeave: false };
const prng = new Prng(1);
const storages = new Map<PeerId, MemoryStorage>();
const nodes = new Map<PeerId, RawNode>();
for (const id of ids) {
  const storage = MemoryStorage.bootstrap(conf);
  storages.set(id, storage);
  nodes.set(id, new RawNode({ ...defaultRaftOptions, hibernate: false, id, storage,
    prng: prng.fork(), appliedIndex: 1 }));
}
let applied = 0;
let queue: Message[] = [];

function settle(): void {
  for (;;) {
    for (const [id, node] of nodes) {
      while (node.hasReady()) {
        const rd = node.ready();
        const storage = storages.get(id) as MemoryStorage;
        storage.append(rd.entries);
        if (rd.hardState !== null) storage.setHardState(rd.hardState);
        for (const m of rd.messages) queue.push(m);
        if (id === ids[0]) applied += rd.committedEntries.length;
        node.advance(rd);
        // Keep the in-memory log bounded, as a host would after snapshotting.
        const s = node.status();
        if (s.appliedIndex - storage.firstIndex() > 10_000) {
          storage.createSnapshot(s.appliedIndex, s.confState, new Uint8Array());
          storage.compact(s.appliedIndex - 1_000);
        }
      }
    }
    if (queue.length === 0) return;
    const q = queue;
    queue = [];
    for (const m of q) nodes.get(m.to)?.step(m);
  }
}

const leader = nodes.get(ids[0] as PeerId) as RawNode;
// Peers refuse votes for an election timeout after starting (the lease guard): wait it out.
for (let t = 1; t <= defaultRaftOptions.electionTicks; t++) {
  for (const id of ids.slice(1)) nodes.get(id)?.tick(t * defaultRaftOptions.tickIntervalMs);
}
leader.campaign();
settle();
const payload = new Uint8Array(payloadBytes);
const start = performance.now();
const appliedAtStart = applied;
let proposed = 0;
while (proposed < entries) {
  for (let i = 0; i < batch && proposed < entries; i++, proposed++) {
    const r = leader.propose(payload);
    if (r.kind !== "ok") throw new Error(`proposal refused: ${r.kind}`);
  }
  settle();
}
const seconds = (performance.now() - start) / 1000;
const committed = applied - appliedAtStart;
console.log(
  `raft 3-peer in-memory: ${committed} entries of ${payloadBytes} B in ${seconds.toFixed(2)} s ` +
    `= ${Math.round(committed / seconds)} committed entries/s (batch ${batch})`,
);
