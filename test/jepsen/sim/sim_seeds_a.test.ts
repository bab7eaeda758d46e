/**
 * CI simulation seeds, first half: whole-cluster runs with every fault on (partitions,
 * crashes with lost unsynced writes, slow and lossy links, clock skew, buggify).
 */
import { registerSimSeeds } from "./test_sim_seeds.ts";

registerSimSeeds([1, 2, 3, 4, 5], { steps: 12 });
