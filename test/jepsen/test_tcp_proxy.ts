/**
 * Test support for real-process fault runs: a controllable TCP proxy on 127.0.0.1 port 0
 * in front of one address. Routing one process's link through it (say, a KV node's
 * `--pd`) makes that link partitionable without network namespaces or privileges:
 * `partition()` resets every connection through it and resets new ones at once (the peer
 * sees its calls fail, as across a cut link that TCP gave up on); `heal()` forwards again.
 */
import { type Server, type Socket, createConnection, createServer } from "node:net";

/** A forwarding TCP proxy; see the file comment. */
export class TcpProxy {
  private readonly server: Server;
  private target: { host: string; port: number };
  private readonly sockets = new Set<Socket>();
  private cut = false;
  /** Connections accepted and forwarded so far. */
  forwarded = 0;

  private constructor(server: Server, target: { host: string; port: number }) {
    this.server = server;
    this.target = target;
    server.on("connection", (socket) => this.accept(socket));
  }

  /** A proxy to `target` listening on 127.0.0.1 port 0. */
  static async start(target: { host: string; port: number }): Promise<TcpProxy> {
    const server = createServer({ pauseOnConnect: false });
    const proxy = new TcpProxy(server, target);
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    return proxy;
  }

  /** `127.0.0.1:port` of the proxy. */
  get address(): string {
    const bound = this.server.address();
    if (bound === null || typeof bound === "string") throw new Error("proxy not listening");
    return `127.0.0.1:${bound.port}`;
  }

  get partitioned(): boolean {
    return this.cut;
  }

  /** Cuts the link: resets every connection and every new one until `heal`. */
  partition(): void {
    this.cut = true;
    for (const socket of this.sockets) socket.resetAndDestroy();
    this.sockets.clear();
  }

  heal(): void {
    this.cut = false;
  }

  /**
   * Forwards new connections to `target` from now on (open ones keep theirs): for a
   * process whose port is known only after it started behind this proxy.
   */
  retarget(target: { host: string; port: number }): void {
    this.target = target;
  }

  private accept(client: Socket): void {
    if (this.cut) {
      client.resetAndDestroy();
      return;
    }
    this.forwarded++;
    const upstream = createConnection(this.target);
    this.sockets.add(client);
    this.sockets.add(upstream);
    const drop = (): void => {
      this.sockets.delete(client);
      this.sockets.delete(upstream);
      client.destroy();
      upstream.destroy();
    };
    client.on("error", drop).on("close", drop);
    upstream.on("error", drop).on("close", drop);
    client.pipe(upstream);
    upstream.pipe(client);
  }

  /** Stops listening and drops every connection. */
  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
