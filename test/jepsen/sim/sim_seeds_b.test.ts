/**
 * CI simulation seeds, second half: swarm runs (each seed turns each fault on or off).
 */
import { registerSimSeeds } from "./test_sim_seeds.ts";

registerSimSeeds([11, 12, 13, 14, 15], { steps: 12, swarm: true });
