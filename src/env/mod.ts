/**
 * `env`: the `Env` interface through which Tessera reaches clocks, timers, randomness, the
 * network, the file system and hashing. Implementations live in `env/node` (the real
 * machine) and `env/sim` (deterministic simulation); both pass `env_conformance.ts`.
 */
export type {
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
