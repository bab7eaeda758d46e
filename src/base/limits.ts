/**
 * Every bound in Tessera, in one place, each with the reason for its value.
 *
 * A queue, cache, map, message or retry loop that is not bounded by a constant here is a
 * bug: unbounded things turn overload into out-of-memory crashes. When a bound is hit the
 * component pushes back with a typed error naming the limit, never silently drops work.
 */
export const limits = {
  /**
   * Largest RPC frame body. Raft snapshots and coprocessor results are streamed in chunks
   * well below this, so a bigger frame is a bug or an attack; 64 MiB matches the largest
   * MySQL packet we accept and keeps a single decode bounded in memory and time.
   */
  rpcFrameBytesMax: 64 * 1024 * 1024,
  /**
   * Calls one RPC client may have in flight on one connection. 4096 covers hundreds of
   * sessions multiplexed on a connection; past that, callers should feel backpressure.
   */
  rpcInFlightMax: 4096,
  /** Default per-call deadline when the caller names none: long enough for a stalled peer. */
  rpcDeadlineMsDefault: 20_000,
  /**
   * Bytes buffered for writing on one connection before new calls are refused. 64 MiB lets
   * one maximum frame through, and stops a slow peer from growing our heap without bound.
   */
  rpcWriteBufferBytesMax: 64 * 1024 * 1024,
  /**
   * Small frames written in one event-loop turn are coalesced into one socket write up to
   * this size: fewer syscalls under load, no added latency (we flush on the next tick).
   */
  rpcBatchBytesMax: 256 * 1024,
  /** Stream credit: messages a receiver lets a sender have outstanding before it must wait. */
  rpcStreamWindowMessages: 64,
  /** Reconnect backoff starts here and doubles… */
  rpcReconnectBackoffMsMin: 50,
  /** …up to this cap, so a returning peer is found within a couple of seconds. */
  rpcReconnectBackoffMsMax: 2_000,
  /** Connections one RPC server accepts; past it new ones are closed at once. */
  rpcServerConnectionsMax: 10_000,
  /**
   * Time an RPC client waits for a TCP (and TLS) handshake. A live peer on a LAN answers in
   * milliseconds; after 5 s it is down or partitioned, and reconnect backoff takes over.
   */
  rpcConnectTimeoutMs: 5_000,
  /**
   * Longest key the memcomparable codec accepts in one encoded value. TiKV's default
   * max key size is 8 KiB; values inside a key must fit in it.
   */
  keyBytesMax: 8 * 1024,
  /** Digits of a DECIMAL, as in MySQL (`DECIMAL(65, 30)`). */
  decimalDigitsMax: 65,
  /** Scale of a DECIMAL, as in MySQL. */
  decimalScaleMax: 30,
  /** Time a process waits for graceful shutdown before exiting anyway. */
  shutdownGraceMs: 10_000,
  /**
   * Time a supervised child (playground's PD, KV, SQL nodes) waits after SIGINT for its
   * launcher's SIGTERM before stopping by itself (lifecycle.ts).
   */
  supervisedSigintWaitMs: 30_000,
  /**
   * Time a stopping SQL node spends removing its schema-lease record and owner key when
   * PD or the KV nodes do not answer (they may be stopping too); past it the records
   * expire with their lease, as after a crash.
   */
  ddlDeregisterMsMax: 2_000,
  /**
   * Time a launcher waits for a child process (PD, KV, SQL) to report it is serving. A
   * cold start on a loaded machine takes seconds; a minute means it is stuck.
   */
  childReadyMsMax: 60_000,
  /** Config file size: a TOML file larger than this is certainly a mistake. */
  configFileBytesMax: 1024 * 1024,
  /**
   * Connections one HTTP status server (`/metrics`, `/status`) accepts at once. Its clients
   * are a Prometheus scraper, a few operators and the launcher's health checks; more than
   * this is a misbehaving client, which must not exhaust the process's file descriptors.
   */
  statusServerConnectionsMax: 256,
  /**
   * Longest value inlined in a lock or commit record (TiKV's 255): reads of short values
   * touch only the write column family; longer values go to the default column family.
   */
  mvccShortValueBytesMax: 255,
  /**
   * Transactions one lock wait queue holds across all keys of a store. Each waiter is a
   * parked request; past this a pessimistic lock request fails at once instead of queueing.
   */
  lockWaitQueueWaitersMax: 10_000,
  /**
   * Edges (waiter, holder, key hash) the deadlock detector keeps. One detector may serve a
   * whole cluster; a full graph refuses new waits rather than growing without bound.
   */
  deadlockDetectorEdgesMax: 100_000,
  /**
   * Wait-for edges expire after this long without being renewed, so an edge left behind by
   * a lost clean-up message cannot cause a false deadlock forever (TiKV's 3 s).
   */
  deadlockEdgeTtlMs: 3_000,
  /**
   * Waiters woken after the first on a lock release are woken this much later, giving the
   * oldest waiter time to take the lock before the rest retry (TiKV's wake-up delay).
   */
  lockWaitWakeUpDelayMs: 20,
  /**
   * Keys in the concurrency manager's in-memory lock table (locks of async-commit and 1PC
   * prewrites between computing min commit ts and their write landing in the engine).
   */
  memoryLocksMax: 100_000,
  /**
   * Append messages a Raft leader keeps unacknowledged per follower in replicate state
   * (TiKV's raft-max-inflight-msgs). It bounds memory held for a slow follower and the
   * work lost when a stream breaks; 256 keeps a 1 Gbit/s link busy at 1 MiB messages.
   */
  raftInflightMessagesMax: 256,
  /**
   * Entry bytes one Raft append message carries (TiKV's raft-max-size-per-msg): large
   * enough to batch thousands of small writes, small enough to stay well under an RPC frame.
   */
  raftMessageEntriesBytesMax: 1024 * 1024,
  /** Entries one Raft append message carries, whatever their size: bounds decode work. */
  raftMessageEntriesMax: 4096,
  /**
   * Bytes of proposed but uncommitted entries a Raft leader accepts before refusing more
   * proposals: a leader that cannot reach a quorum must push back, not buffer forever.
   */
  raftUncommittedBytesMax: 64 * 1024 * 1024,
  /** Committed entry bytes one Raft Ready hands to the host to apply at once. */
  raftReadyCommittedBytesMax: 16 * 1024 * 1024,
  /**
   * ReadIndex requests a Raft leader holds waiting for heartbeat confirmation. Each waits
   * at most one heartbeat round trip; more than this means the group is overloaded.
   */
  raftReadIndexPendingMax: 4096,
  /**
   * Heartbeat rounds a Raft leader remembers the send time of, waiting for a quorum to
   * acknowledge them (for ReadIndex and leases). Older unconfirmed rounds are forgotten.
   */
  raftHeartbeatRoundsPendingMax: 1024,
  /**
   * Largest MySQL packet payload a SQL node accepts (`max_allowed_packet`), after joining
   * 16 MiB pieces: MySQL 8's default, 64 MiB. A bigger one gets error 1153 and a close, so
   * one client cannot make us buffer without bound.
   */
  mysqlPacketBytesMax: 64 * 1024 * 1024,
  /**
   * Largest packet accepted before authentication. A handshake response is a few hundred
   * bytes (user, scramble, database, connection attributes); an unauthenticated peer must
   * not make us buffer megabytes.
   */
  mysqlHandshakePacketBytesMax: 64 * 1024,
  /**
   * MySQL client connections one SQL node serves at once (`max_connections`). Each holds a
   * session, its prepared statements and buffers; past it a client gets error 1040.
   */
  mysqlConnectionsMax: 1_000,
  /**
   * Idle time after which a MySQL connection is closed (`wait_timeout`, MySQL's 8 hours):
   * abandoned connections must not hold a connection slot forever.
   */
  mysqlIdleTimeoutMs: 8 * 60 * 60 * 1000,
  /** Time a new MySQL connection has to finish the handshake (`connect_timeout`, 10 s). */
  mysqlHandshakeTimeoutMs: 10_000,
  /**
   * Prepared statements one MySQL connection may hold (`max_prepared_stmt_count`'s
   * default, 16382): a client that leaks statements gets error 1461, not our heap.
   */
  mysqlPreparedStatementsMax: 16_382,
  /**
   * Decoded packets a MySQL connection queues while a command runs before it stops
   * reading from the socket: pipelining clients get TCP backpressure, not our memory.
   */
  mysqlPendingPacketsMax: 64,
  /**
   * Bytes of a MySQL response queued before they are handed to the socket in one write:
   * row packets are coalesced into writes of this size.
   */
  mysqlWriteBatchBytes: 64 * 1024,
  /**
   * Accounts the `caching_sha2_password` fast-authentication cache remembers. Each entry is
   * a 32-byte hash; past the bound the oldest is forgotten and that user does one full
   * (RSA or TLS) authentication again.
   */
  mysqlAuthCacheEntriesMax: 10_000,
  /**
   * Nesting depth the SQL parser recurses to (parentheses, subqueries, prefix operators,
   * function arguments). Each level costs a few dozen stack frames of the recursive-descent
   * parser; 128 levels stay far below Node's stack size and beyond any query a person or
   * an ORM writes, so a deeper statement gets a syntax error instead of a stack overflow.
   */
  sqlParseDepthMax: 128,
  /**
   * Height of a parsed expression tree, counting left-deep operator chains such as
   * `a OR b OR c …` that the parser builds with loops. Consumers (printer, planner,
   * evaluator) walk trees recursively; 2000 levels keep them well inside the stack
   * while allowing ORM-generated chains of a thousand ORed conditions.
   */
  sqlAstHeightMax: 2_000,
  /**
   * Longest key the storage engine stores. LMDB refuses keys longer than 4026 bytes
   * whatever the page size (1978 with 4 KiB pages; we use 8 KiB pages), measured as
   * lmdb-js's `maxKeySize`. The memory engine enforces the same bound so both behave alike.
   * MVCC prefixes and timestamps come out of this budget.
   */
  engineKeyBytesMax: 4026,
  /**
   * Largest value the storage engine stores. A value must fit in one Raft entry, and
   * TiKV's `raft-entry-max-size` is 8 MiB; larger rows are split by the SQL layer.
   */
  engineValueBytesMax: 8 * 1024 * 1024,
  /**
   * LMDB page size. 8 KiB pages let keys reach the 4026-byte maximum and keep B-tree
   * fan-out high for the short MVCC keys that dominate.
   */
  enginePageBytes: 8192,
  /**
   * Largest sorted file one `ingest` accepts. The file is applied as one atomic write
   * batch held in memory; Lightning's SST files are ~96 MiB, so 256 MiB leaves room.
   */
  engineIngestFileBytesMax: 256 * 1024 * 1024,
  /** Attempts to take over a stale engine lock file before giving up (racing openers). */
  engineLockAttemptsMax: 3,
  /**
   * Time a MySQL connection waits for the rest of a command's exchange once it has begun
   * (authentication replies, LOAD DATA LOCAL file packets): MySQL's `net_read_timeout`.
   */
  mysqlReadTimeoutMs: 30_000,
  /**
   * Operators PD's operator controller runs at once, over all kinds. The per-kind schedule
   * limits (config) are far lower; this caps memory even under a misconfigured cluster.
   */
  pdOperatorsInFlightMax: 10_000,
  /**
   * The TSO window: a PD leader persists `physical + 3 s` as the highest physical time it
   * may hand out and serves below it from memory, so it writes to its metadata store about
   * once a second, and a successor starting above the saved window loses at most 3 s.
   */
  pdTsoWindowMs: 3_000,
  /**
   * How often a PD leader moves its TSO physical time to the wall clock (PD's 50 ms): the
   * logical counter of one millisecond (2^18) then covers over 5 million timestamps a second.
   */
  pdTsoUpdateIntervalMs: 50,
  /**
   * Timestamps one TSO request may ask for. A batching client asks for one per waiting
   * caller; 10,000 (TiDB's max batch) keeps one reply inside one physical millisecond.
   */
  pdTsoBatchTimestampsMax: 10_000,
  /**
   * The PD leader's lease on its metadata store. A leader that cannot renew it for this long
   * stops serving; failover takes about this long, so 3 s (with keepalives every second).
   */
  pdLeaderLeaseTtlMs: 3_000,
  /**
   * Clock-rate drift allowed between a PD member and its metadata store: the leader treats
   * its lease as lost this much before the store would expire it.
   */
  pdLeaseDriftMs: 500,
  /** Ids a PD leader reserves in its metadata store at once; it serves them from memory. */
  pdIdAllocStep: 1_000,
  /** Ids one allocation request may ask for. */
  pdIdAllocCountMax: 10_000,
  /** Stores PD tracks: far more KV nodes than any deployment; a bound on memory. */
  pdStoresMax: 10_000,
  /** Shards PD tracks in memory: a million 96 MiB shards is about 100 TB. */
  pdShardsMax: 1_000_000,
  /** Shards one scan request returns. */
  pdScanShardsMax: 10_000,
  /**
   * Largest value in the metadata store: etcd's default request limit (1.5 MiB), enforced
   * by the embedded store too so both behave alike.
   */
  pdMetaValueBytesMax: 1536 * 1024,
  /** Keys one metadata-store range read returns; callers page past it. */
  pdMetaRangeKeysMax: 10_000,
  /**
   * Bytes of the embedded metadata store's log after which it writes a snapshot and starts a
   * new log: bounds restart time and disk use.
   */
  pdMetaLogBytesMax: 16 * 1024 * 1024,
  /** Watches one metadata store serves at once. */
  pdMetaWatchersMax: 10_000,
  /** Leases one embedded metadata store keeps (elections, members). */
  pdMetaLeasesMax: 10_000,
  /** Named elections (DDL owner, GC worker, …) PD serves for other processes. */
  pdElectionsMax: 1_000,
  /** Largest body the PD HTTP API accepts. */
  pdHttpBodyBytesMax: 1024 * 1024,
  /**
   * Peer ids the PD scheduler reserves from the ID allocator at a time: a round plans
   * peers synchronously, so ids are taken ahead in one durable reservation, not one each.
   */
  pdSchedulePeerIdBatch: 256,
  /** Routes a PD client caches (key ranges with leader and epoch): ~1 KiB each. */
  pdClientShardCacheMax: 100_000,
  /** Store addresses a PD client caches. */
  pdClientStoreCacheMax: 10_000,
  /**
   * Attempts a PD client makes for one call (a refused or failed member, a leader hint to
   * follow) before it fails with `PD:Client:Unavailable`: enough to ride out a failover.
   */
  pdClientAttemptsMax: 10,
  /** Backoff between PD client attempts: doubles from the minimum up to the maximum. */
  pdClientBackoffMsMin: 20,
  pdClientBackoffMsMax: 1_000,
  /** Split keys one manual split operator (PD HTTP API) may carry. */
  pdOperatorSplitKeysMax: 1_000,
  /**
   * Commands a KV store's transaction scheduler runs or queues on latches at once; past
   * this a request gets `serverIsBusy` so clients back off instead of growing the queue.
   */
  kvSchedulerCommandsMax: 10_000,
  /** Keys (mutations, keys to commit, roll back or resolve) one KV request may carry. */
  kvRequestKeysMax: 100_000,
  /** Pairs one KV scan returns at most, whatever limit the client asks for. */
  kvScanLimitMax: 100_000,
  /** Ranges one coprocessor request may name. */
  kvCoprocessorRangesMax: 10_000,
  /** Bytes of the coprocessor plan a request may carry (the DAG plan, [T9]). */
  kvCoprocessorPlanBytesMax: 4 * 1024 * 1024,
  /** Longest pessimistic lock wait a client may ask for (MySQL's innodb_lock_wait_timeout). */
  kvLockWaitTimeoutMsMax: 3_600_000,
  /** Default pessimistic lock wait (TiDB's 50 s innodb_lock_wait_timeout default). */
  kvLockWaitTimeoutMsDefault: 50_000,
  /** Keys one GC or resolve-lock round visits before writing its batch. */
  kvGcBatchKeysMax: 1_000,
  /**
   * Proposals one shard leader holds waiting to apply before it answers `serverIsBusy`:
   * a leader that cannot commit must push back, not queue callbacks without bound.
   */
  kvShardProposalsPendingMax: 1_024,
  /**
   * Applied entries a shard peer keeps in its Raft log before compacting it (TiKV's
   * raft-log-gc-count-limit is larger; small logs keep restarts and snapshots cheap).
   */
  kvRaftLogGcCountMax: 1_000,
  /** How long a read waits for its ReadIndex confirmation before `serverIsBusy`. */
  kvReadIndexTimeoutMs: 10_000,
  // ---- client: KV routing, transactions, lock resolution, GC ([T6]) ----
  /**
   * Attempts one KV client request makes (re-routing after not-leader, epoch and
   * shard errors, backing off on busy stores) before `CLIENT:Route:RetriesExhausted`.
   */
  clientKvAttemptsMax: 100,
  /**
   * Milliseconds one KV client request may sleep between attempts in all: long enough to
   * wait out the election of a new shard's leader after a split or a leader's crash
   * (inserts right after a split failed after 20 quick attempts), short enough that a
   * dead cluster fails the request in seconds.
   */
  clientKvBackoffBudgetMs: 10_000,
  /** Backoff between KV client attempts: doubles (with jitter) from the minimum to the max. */
  clientKvBackoffMsMin: 2,
  clientKvBackoffMsMax: 1_000,
  /** Requests one batch (a multi-shard get, prewrite, commit) has in flight at once. */
  clientKvConcurrencyMax: 16,
  /** Store connections one KV client keeps (one RPC client per store address). */
  clientStoreConnectionsMax: 1_024,
  /** Deadline of one KV request attempt (a lock wait adds its own timeout on top). */
  clientKvDeadlineMs: 10_000,
  /** Bytes a transaction may buffer (TiDB's txn-total-size-limit default, 100 MiB). */
  txnBufferBytesMax: 100 * 1024 * 1024,
  /** Keys a transaction may buffer: a bound on commit work and on the primary's fan-out. */
  txnBufferKeysMax: 1_000_000,
  /** Mutations one prewrite or commit request carries; larger shard groups are chunked. */
  txnBatchKeysMax: 4_096,
  /**
   * Secondaries an async-commit transaction may list in its primary lock (TiDB's
   * tidb_async_commit_keys_limit): resolvers check every one, so it must stay small.
   */
  txnAsyncCommitKeysMax: 256,
  /** Total key bytes an async-commit or 1PC transaction may have (TiDB: 4 KiB). */
  txnAsyncCommitKeyBytesMax: 4_096,
  /** Bytes a one-phase-commit transaction may write (it is one Raft proposal). */
  txnOnePcBytesMax: 1024 * 1024,
  /** Lock TTL a transaction starts with; heartbeats extend it for long transactions. */
  txnLockTtlMsDefault: 3_000,
  /**
   * Lock TTL of a SQL node's pessimistic transactions (TiDB's ManagedLockTTL): they hold
   * locks across client round trips, and a process stalled for a few seconds on a busy
   * machine must not have its live locks resolved by others (3 s was seen to expire under
   * CI load: COMMIT then failed with pessimisticLockNotFound). A crashed node's locks
   * block others this long at most.
   */
  sqlPessimisticLockTtlMs: 20_000,
  /** How often a transaction with a primary lock sends a heartbeat. */
  txnHeartbeatIntervalMsDefault: 1_000,
  /** Attempts of one prewrite or lock request after resolvable lock conflicts. */
  txnLockConflictAttemptsMax: 50,
  /** New for-update timestamps one lockKeys call takes after write conflicts. */
  txnPessimisticRetriesMax: 20,
  /** Slice of a pessimistic lock wait between lock-resolution checks of the holder. */
  txnLockWaitSliceMs: 1_000,
  /** Total time a reader waits for live locks to expire before `LockResolveTimeout`. */
  clientLockWaitMsMax: 30_000,
  /** Transactions whose outcome the lock resolver remembers (committed or rolled back). */
  clientResolvedTxnCacheMax: 4_096,
  /** How long a client trusts its cached GC safe point before asking PD again. */
  clientSafePointCacheMs: 1_000,
  /** Running transactions one registry tracks (a bound on a SQL node's open txns). */
  clientTxnRegistryMax: 100_000,
  /** Default GC life time (TiDB's tidb_gc_life_time, 10 minutes). */
  gcLifeTimeMsDefault: 600_000,
  /** Default interval between GC rounds (TiDB's tidb_gc_run_interval, 10 minutes). */
  gcIntervalMsDefault: 600_000,
  /** Lease of the GC owner's election; renewed every round and at a third of it. */
  gcOwnerTtlMs: 60_000,
  /** Scan rounds (pages plus lock resolutions) GC spends per shard before giving up. */
  gcResolveRoundsMax: 10_000,
  // ---- KV: shard size estimates and merge ([T4]) ----
  /** User keys a shard heartbeat counts before extrapolating the rest from bytes. */
  kvShardKeysScanMax: 100_000,
  /**
   * How long a merge's target peer may pause its apply for the local source peer to
   * apply PrepareMerge (committed and matched on every source peer, so it comes) before
   * the node stops: a committed CommitMerge is never skipped.
   */
  kvMergeSourceWaitMs: 60_000,
  /** Attempts the source leader makes to get CommitMerge proposed and applied. */
  kvMergeCommitAttemptsMax: 20,
  // ---- GC: cluster-wide inputs and the safe-point cache race ([T6]) ----
  /**
   * Service safe points PD keeps (one per SQL node, dump or import): each is read by every
   * GC round, and an update past the bound is refused rather than growing PD's metadata.
   */
  pdServiceSafePointsMax: 1_024,
  /** The longest TTL a service safe point may ask for (TiDB allows days for a dump). */
  pdServiceSafePointTtlMsMax: 30 * 24 * 3_600_000,
  /**
   * How often a `TxnClient` publishes its oldest running start ts as a service safe point.
   * Must stay far below `gcLifeTimeMsDefault`: a transaction younger than the GC life
   * time is kept anyway, so only older ones depend on the publication.
   */
  clientServiceSafePointIntervalMs: 10_000,
  /** TTL of that publication: a few intervals, so a crashed SQL node stops holding GC. */
  clientServiceSafePointTtlMs: 60_000,
  /**
   * What the GC worker waits, beyond `clientSafePointCacheMs`, between storing a new safe
   * point in PD and telling stores to collect: clock skew and scheduling slack, so no
   * client still trusts a cached safe point older than the one being collected at.
   */
  gcCollectDelayMarginMs: 1_000,
  // ---- cmd: `tessera cluster` ([T10]) ----
  /** Processes one topology file may list: a local cluster of more is a mistake. */
  clusterProcessesMax: 64,
  // ---- sql: transactions ([T8]) ----
  /**
   * Reruns of one pessimistic statement whose locked keys had newer commits than its
   * read (each rerun means another transaction committed one of them first, so the
   * system progresses; the bound stops one statement starving forever: 9007).
   */
  sqlPessimisticStatementRetriesMax: 100,
  /** Reruns of an autocommit statement after a write conflict at commit (TiDB: 10). */
  sqlAutocommitRetriesMax: 10,
  /** Largest jittered wait before rerunning a transaction that lost a write conflict. */
  txnConflictBackoffMsMax: 100,
  // ---- client: coprocessor requests ([T9]) ----
  /** Shard requests of one coprocessor read in flight at once (TiDB's distsql 15). */
  clientCoprocessorConcurrencyMax: 15,
  /**
   * Pages one shard's request stream may hold before its reader takes them: with the
   * concurrency bound, what a slow reader of a coprocessor read can make the client buffer.
   */
  clientCoprocessorPagesAheadMax: 2,
  // ---- kv: coprocessor DAG pushdown ([T9]) ----
  /**
   * Keys one DAG page may scan. A page runs synchronously on the KV node's main thread
   * over one snapshot, so it must stay short (TiKV pages at most 50k rows); the SQL
   * node asks again from the page's resume key.
   */
  coprocessorPagingKeysMax: 100_000,
  /** Columns a DAG scan may output (MySQL's 4096 columns per table). */
  coprocessorColumnsMax: 4096,
  /** Rows a pushed TopN may keep: its heap is held in memory on the KV node. */
  coprocessorTopNRowsMax: 100_000,
  /**
   * Groups one page of a partial aggregation holds; a page that reaches it ends early
   * with a resume key (its groups are valid partials), so memory stays bounded.
   */
  coprocessorAggGroupsMax: 65_536,
  /**
   * Bytes a DAG page may hold (its rows, TopN heap or groups, estimated as held in memory,
   * a few times their encoded size) before it ends with a resume key: bounds the KV
   * node's memory per request and keeps a reply far below `rpcFrameBytesMax`.
   */
  coprocessorPageBytesTarget: 4 * 1024 * 1024,
  /** Warnings one DAG page returns (it counts them all); MySQL's max_error_count is 64. */
  coprocessorWarningsMax: 64,
} as const;

export type Limits = typeof limits;
