/**
 * An in-process cluster for the SQL node's tests: the client tests' PD + two KV stores
 * (`test/client/test_cluster.ts`) and any number of SQL nodes, each a storage-backed
 * session factory behind `createMySqlServer` on 127.0.0.1 port 0, reached with mysql2.
 * `startTesseraServer` is the one-node form the sqllogictest runner uses
 * (`test/slt/cli.ts --tessera`, the ratchet test): it gives an address and a stop.
 */
import mysql from "mysql2/promise";
import { startTestCluster, type TestCluster } from "../client/test_cluster.ts";
import {
  type DdlOptions,
  type MySqlServer,
  type SqlStorage,
  createMySqlServer,
  createSessionFactory,
  openSqlStorage,
  serverVersionDefault,
} from "../../src/sql/mod.ts";
import type { SpillSpace } from "../../src/sql/plan/spill_store.ts";
import { defaultSpillSpace } from "../../src/cmd/sql.ts";

/** One SQL node of the cluster. */
export interface SqlNodeHandle {
  readonly server: MySqlServer;
  readonly storage: SqlStorage;
  /** A new mysql2 connection to this node (closed with the cluster). */
  connect(database?: string): Promise<mysql.Connection>;
}

export interface SqlCluster {
  readonly kv: TestCluster;
  /** Starts another SQL node on the same cluster. */
  startNode(options?: { readonly ddl?: Partial<DdlOptions>;
    /** Where the node's spilling sorts and aggregations write (default: the OS temp dir). */
    readonly tmpStorage?: SpillSpace }): Promise<SqlNodeHandle>;
  close(): Promise<void>;
}

export async function startSqlCluster(): Promise<SqlCluster> {
  const kv = await startTestCluster();
  const servers: MySqlServer[] = [];
  const storages: SqlStorage[] = [];
  const connections: mysql.Connection[] = [];
  const startNode = async (options: { readonly ddl?: Partial<DdlOptions>;
    readonly tmpStorage?: SpillSpace } = {}): Promise<SqlNodeHandle> => {
    const storage = await openSqlStorage(kv.client(), { autoIdStep: 100,
      ...(options.ddl === undefined ? {} : { ddl: options.ddl }),
      tmpStorage: options.tmpStorage ?? defaultSpillSpace() });
    storages.push(storage);
    const sessions = createSessionFactory({
      wallMs: () => kv.env.clock.wallMs(),
      version: serverVersionDefault,
      storage,
      sleep: (ms, signal) => kv.env.timers.sleep(ms, signal),
    });
    const server = await createMySqlServer({ env: kv.env, host: "127.0.0.1", port: 0,
      sessions });
    servers.push(server);
    return {
      server,
      storage,
      connect: async (database) => {
        const c = await mysql.createConnection({ host: "127.0.0.1", port: server.port,
          user: "root", ...(database === undefined ? {} : { database }) });
        connections.push(c);
        return c;
      },
    };
  };
  return {
    kv,
    startNode,
    close: async () => {
      for (const c of connections) c.destroy();
      for (const s of servers) await s.close();
      // A node a test stopped already is skipped (close is idempotent).
      for (const s of storages) await s.ddl.close();
      await kv.close();
    },
  };
}

/** One SQL node on its own in-process cluster, as the sqllogictest runner needs it. */
export interface TesseraServer {
  readonly host: string;
  /** The SQL node's MySQL-protocol port (chosen by the OS). */
  readonly port: number;
  /** Stops the SQL node, the KV stores and PD, and removes their files. */
  stop(): Promise<void>;
}

/** Starts PD, two KV stores and one SQL node on 127.0.0.1 free ports. */
export async function startTesseraServer(): Promise<TesseraServer> {
  const cluster = await startSqlCluster();
  try {
    const node = await cluster.startNode();
    return { host: "127.0.0.1", port: node.server.port, stop: () => cluster.close() };
  } catch (error: unknown) {
    await cluster.close();
    throw error;
  }
}
