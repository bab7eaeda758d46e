/**
 * `raft`: a pure Raft consensus library (no I/O, timers or promises), after etcd-raft and
 * raft-rs. A host drives one `RawNode` per replica: it ticks it, steps it with messages,
 * proposes commands, and carries out each `Ready` (persist, send, apply) before calling
 * `advance`. `MemoryStorage` is the in-memory `Storage`; the KV node implements its own.
 */
export {
  type RaftConfig,
  type RaftOptions,
  defaultRaftOptions,
  leaseDurationMs,
  validateRaftOptions,
} from "./config.ts";
export { type ConfChangeOutcome, applyConfChangeTo } from "./conf_change.ts";
export type { ProgressState } from "./progress.ts";
export type { RaftBugs } from "./raft.ts";
export {
  type PeerProgress,
  type RaftStatus,
  type Ready,
  RawNode,
} from "./raw_node.ts";
export {
  type InitialState,
  type Storage,
  MemoryStorage,
  bootstrapIndex,
  bootstrapTerm,
  emptyConfState,
  entryBytes,
} from "./storage.ts";
export type {
  AppendRequest,
  AppendResponse,
  ConfChange,
  ConfChangeEntry,
  ConfChangeItem,
  ConfState,
  Entry,
  HardState,
  Heartbeat,
  HeartbeatResponse,
  HibernateRequest,
  HibernateResponse,
  LeaseReadResult,
  Message,
  MessageKind,
  NormalEntry,
  ProposeResult,
  ReadIndexRequest,
  ReadIndexResponse,
  ReadIndexResult,
  ReadState,
  Role,
  Snapshot,
  SnapshotMetadata,
  SnapshotRequest,
  SoftState,
  TimeoutNow,
  VoteRequest,
  VoteResponse,
} from "./types.ts";
