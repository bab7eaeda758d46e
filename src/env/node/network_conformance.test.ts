/**
 * The shared `Network` conformance suite on the real machine: `NodeNetwork` over TCP on
 * 127.0.0.1 with ports chosen by the system. The simulator runs the same suite in
 * `sim/network.test.ts`.
 */
import { setTimeout as delay } from "node:timers/promises";
import { registerNetworkConformanceTests } from "../env_conformance.ts";
import { NodeNetwork } from "./network.ts";

registerNetworkConformanceTests({
  name: "NodeNetwork",
  create: () => ({
    net: new NodeNetwork(),
    host: "127.0.0.1",
    passTime: async (ms: number): Promise<void> => {
      await delay(ms);
    },
  }),
});
