/**
 * `env`: the `Env` interface through which Tessera reaches clocks, timers, randomness, the
 * network, the file system and hashing. Implementations live in `env/node` (the real
 * machine, `createNodeEnv`) and `env/sim` (deterministic simulation, `createSimEnv`);
 * both pass `env_conformance.ts`.
 */
export type {
  Buggify,
  Clock,
  Connection,
  ConnectionHandlers,
  ConnectOptions,
  Crypto,
  Env,
  FileHandle,
  FileSystem,
  Listener,
  ListenOptions,
  Network,
  Random,
  Timer,
  Timers,
  TlsOptions,
} from "./env.ts";
export { createNodeEnv } from "./node/node_env.ts";
export { SimScheduler, type SimSchedulerOptions } from "./sim/scheduler.ts";
export { createSimEnv, type SimEnv, type SimEnvOptions } from "./sim/sim_env.ts";
export {
  NodeAuthCrypto,
  type RsaKeyPairPem,
  createNodeAuthCrypto,
} from "./node/auth_crypto.ts";
export {
  type CertificatePem,
  type SelfSignedOptions,
  createSelfSignedCertificate,
  loadOrCreateTlsCertificate,
} from "./node/self_signed.ts";
export {
  type LinkDelay,
  SimNetwork,
  type SimNetworkControl,
  type SimNetworkOptions,
  type SimNetworkStats,
} from "./sim/network.ts";
export { type SimDiskControl, SimFileSystem } from "./sim/file_system.ts";
export { SimBuggify } from "./sim/buggify.ts";
export { type ClockSkew, SimClock } from "./sim/clock.ts";
export type { NodeEnvOptions } from "./node/node_env.ts";
export { clockOffsetMsMax } from "./node/clock.ts";
