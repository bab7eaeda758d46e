/**
 * `rpc`: the one transport between Tessera processes — TCP (optionally TLS) carrying
 * length-prefixed msgpack frames, with many calls multiplexed per connection by id,
 * per-call deadlines, write batching, bounded in-flight work, and streams with
 * credit-based flow control. `RpcServer` serves methods by name; `RpcClient` calls one
 * server address. Both reach the network and timers only through the `Env`.
 */
export {
  RpcClient,
  type CallOptions,
  type ClientBidiStream,
  type ClientServerStream,
  type RpcClientOptions,
  type StreamOptions,
} from "./client.ts";
export {
  RpcServer,
  type BidiServerStream,
  type BidiStreamHandler,
  type RpcAddress,
  type RpcServerOptions,
  type ServerStream,
  type ServerStreamHandler,
  type UnaryHandler,
} from "./server.ts";
export type { StreamReader, StreamWriter } from "./stream.ts";
export type { CallContext, RpcEnv, RpcLogger } from "./types.ts";
