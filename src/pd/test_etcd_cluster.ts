/**
 * Test helper: a real etcd cluster (Debian `etcd-server`) of one or three members on free
 * loopback ports in a temporary directory, for the etcd metadata-store suite and the
 * three-PD failover test. Members run detached, each in its own process group, and
 * `stop` kills the groups (SIGKILL) and removes the directory, also after a failed test.
 *
 * Where `etcd` is not installed the suites skip with a printed reason — except under
 * `CI=true`, where `etcdUnavailable` throws, so CI fails rather than skipping silently.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Why etcd cannot run here, or undefined when it can. Throws under CI=true. */
export function etcdUnavailable(): string | undefined {
  try {
    execFileSync("etcd", ["--version"], { stdio: "pipe" });
    return undefined;
  } catch (error) {
    const why = `etcd is not installed (Debian package etcd-server): ${String(error)}`;
    if (process.env["CI"] === "true") throw new Error(`under CI=true: ${why}`, { cause: error });
    return why;
  }
}

/** Ports that were free a moment ago: bound on 127.0.0.1 port 0, then released. */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () => {
      return new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
        const server = createServer();
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => resolve(server));
      });
    }),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

export interface EtcdCluster {
  /** Client URLs, one per member. */
  readonly endpoints: readonly string[];
  readonly dir: string;
  /** Kills every member and removes the data directory. Idempotent. */
  stop(): Promise<void>;
}

/** Starts `members` etcd members and waits until every one reports healthy. */
export async function startEtcdCluster(members: 1 | 3): Promise<EtcdCluster> {
  const dir = mkdtempSync(join(tmpdir(), "tessera-etcd-"));
  const ports = await freePorts(members * 2);
  const names = Array.from({ length: members }, (_, i) => `m${i}`);
  const peerUrl = (i: number): string => `http://127.0.0.1:${ports[2 * i + 1]}`;
  const clientUrl = (i: number): string => `http://127.0.0.1:${ports[2 * i]}`;
  const initialCluster = names.map((n, i) => `${n}=${peerUrl(i)}`).join(",");
  const children: ChildProcess[] = [];
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await Promise.all(children.map((child) => killGroup(child)));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const [i, name] of names.entries()) {
      const child = spawn(
        "etcd",
        [
          `--name=${name}`,
          `--data-dir=${join(dir, name)}`,
          `--listen-client-urls=${clientUrl(i)}`,
          `--advertise-client-urls=${clientUrl(i)}`,
          `--listen-peer-urls=${peerUrl(i)}`,
          `--initial-advertise-peer-urls=${peerUrl(i)}`,
          `--initial-cluster=${initialCluster}`,
          "--initial-cluster-state=new",
          `--initial-cluster-token=tessera-test-${process.pid}`,
          "--heartbeat-interval=100",
          "--election-timeout=1000",
          "--logger=zap",
          "--log-level=error",
        ],
        { detached: true, stdio: ["ignore", "ignore", "pipe"] },
      );
      child.stderr?.resume();
      children.push(child);
    }
    const deadline = performance.now() + 30_000;
    for (let i = 0; i < members; i++) {
      for (;;) {
        const healthy = await fetch(`${clientUrl(i)}/health`)
          .then(async (r) => r.ok && ((await r.json()) as { health?: string }).health === "true")
          .catch(() => false);
        if (healthy) break;
        if (performance.now() > deadline) throw new Error(`etcd member ${i} did not get healthy`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { endpoints: names.map((_, i) => clientUrl(i)), dir, stop };
}

/** SIGKILLs a detached child's process group and waits for it to exit. */
export async function killGroup(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  try {
    process.kill(-child.pid, "SIGKILL");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
    return;
  }
  await exited;
}
