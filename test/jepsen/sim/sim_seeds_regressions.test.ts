/**
 * Seeds that found bugs, kept in CI (the traces changed with the fixes, so these guard the
 * neighbourhood rather than replay the exact failure; the focused tests next to them do):
 * seed 3 (PD lost its metadata on a crash: `embedded_meta_crash.test.ts`), seed 107 swarm
 * (fractured reads after a leader change: `max_ts_sync.test.ts`), seed 310 swarm (a
 * committed transaction reported failed: `stale_command_ambiguous.test.ts`), seeds 1071, 1027
 * and 1028 swarm (a merge source whose target merged away stayed merging and refused every
 * request: `src/kv/store/merge_recovery.test.ts`; each with the fewest steps that failed).
 */
import { registerSimSeeds } from "./test_sim_seeds.ts";

registerSimSeeds([3], { steps: 20 });
registerSimSeeds([107, 310], { steps: 20, swarm: true });
registerSimSeeds([1071], { steps: 10, swarm: true });
registerSimSeeds([1027], { steps: 20, swarm: true });
registerSimSeeds([1028], { steps: 30, swarm: true });
