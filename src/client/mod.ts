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
