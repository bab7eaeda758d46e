/**
 * `client`: how Tessera processes talk to the cluster. For now the batching TSO client;
 * the PD client (routing cache, leader following for every call) and the KV client join it.
 */
export { TsoClient, type TsoClientOptions, type TsoClientStats } from "./tso_client.ts";
export {
  PdClient,
  type PdClientOptions,
  type PdClientStats,
  ShardCache,
} from "./pd_client.ts";
// The transactional KV client ([T6]): routing, transactions, lock resolution, GC.
export { Backoff, type BackoffOptions } from "./backoff.ts";
export {
  type GroupReply,
  KvClient,
  type KvClientOptions,
  type KvClientStats,
  RpcStoreTransport,
  type SendOptions,
  type ShardRouter,
  type StoreTransport,
  groupKeysByShard,
  mapBounded,
} from "./kv_client.ts";
export { type CommitPath, commitResultUnknown } from "./committer.ts";
export { LockResolver, type LockResolverStats, type ResolveResult } from "./lock_resolver.ts";
export { type BufferCheckpoint, type BufferedOp, WriteBuffer } from "./write_buffer.ts";
export {
  type LockKeysOptions,
  type ReadOptions,
  type ScanOptions,
  type StatementOptions,
  Transaction,
  type TxnOptions,
} from "./txn.ts";
export { TxnClient, type TxnClientOptions, type TxnPd } from "./txn_client.ts";
export { type MinStartTsSource, ServiceSafePoints, TxnRegistry } from "./txn_registry.ts";
export {
  type GcPd,
  type GcRoundResult,
  GcWorker,
  type GcWorkerOptions,
  gcElection,
} from "./gc_worker.ts";
export {
  type CopContext,
  type CopPage,
  type CopRange,
  type CopRequest,
  clipRanges,
  runCoprocessor,
  subtractRange,
} from "./coprocessor.ts";
