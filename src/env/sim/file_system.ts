/**
 * `SimFileSystem`: an in-memory `FileSystem` that models what survives a crash
 * (`SimDiskControl.crash`), and a disk that can fill up.
 *
 * Two layers. The volatile layer is what the running process sees: every directory's
 * entries and every file's bytes as last written. The durable layer is what a power cut
 * would leave: a directory's durable entries are its entries as of its last `syncDir`
 * (renames, creates and removes are lost without it), a file's durable bytes are its bytes
 * as of its last `FileHandle.sync`. `writeFileAtomic` and `createExclusive` are durable
 * when they resolve (file and directory synced), as on the real machine. Simplification:
 * `mkdir` is durable at once (real code rarely syncs the parent of `mkdir -p`, and the
 * model would otherwise lose whole trees for reasons unrelated to the code under test).
 *
 * `crash()` replaces the volatile layer by the durable one and closes every handle (the
 * process that held them died). With `tornWrites`, a file keeps a seeded random prefix
 * of its unsynced writes and truncations, the last of which may be cut short, as a disk
 * that wrote some sectors and not others would.
 *
 * `setDiskFull(true)` makes every operation that writes bytes reject with `ENOSPC`.
 * Errors are Node-style (`code` = `ENOENT`, `EEXIST`, `ENOTDIR`, `EISDIR`, `ENOSPC`,
 * `EBADF`), which is what callers switch on. Operations complete in call order, as
 * microtasks: they take no virtual time, so a test need not drive the scheduler for them.
 * Paths are absolute POSIX paths.
 */
import * as path from "node:path";
import { Prng, assert } from "../../base/mod.ts";
import type { FileHandle, FileSystem } from "../env.ts";

/** The crash and fault controls of a simulated disk. */
export interface SimDiskControl {
  /**
   * Loses everything not durable and closes every open handle. With `tornWrites`, each
   * file keeps a random prefix of its unsynced changes, the last possibly torn.
   */
  crash(options?: { readonly tornWrites?: boolean }): void;
  /** While full, writes, appends, growing truncations and file creations fail (`ENOSPC`). */
  setDiskFull(full: boolean): void;
  /** Bytes held by the files reachable in the volatile layer. */
  usedBytes(): number;
}

type Change =
  | { readonly kind: "write"; readonly position: number; readonly data: Uint8Array }
  | { readonly kind: "truncate"; readonly length: number };

/**
 * Bytes that grow in place (capacity doubles), so appending to a large file costs the
 * appended bytes, not a copy of the file.
 */
class Bytes {
  private buffer: Uint8Array;
  length: number;

  constructor(data: Uint8Array) {
    this.buffer = data.slice();
    this.length = data.length;
  }

  view(): Uint8Array {
    return this.buffer.subarray(0, this.length);
  }

  apply(change: Change): void {
    if (change.kind === "truncate") {
      this.reserve(change.length);
      // Bytes past the old end read as zeros, whatever an earlier truncation left there.
      if (change.length > this.length) this.buffer.fill(0, this.length, change.length);
      this.length = change.length;
      return;
    }
    const end = change.position + change.data.length;
    this.reserve(end);
    if (change.position > this.length) this.buffer.fill(0, this.length, change.position);
    this.buffer.set(change.data, change.position);
    this.length = Math.max(this.length, end);
  }

  private reserve(length: number): void {
    if (length <= this.buffer.length) return;
    const grown = new Uint8Array(Math.max(length, this.buffer.length * 2, 64));
    grown.set(this.view());
    this.buffer = grown;
  }
}

class FileNode {
  readonly kind = "file";
  /** What the process sees. */
  current: Bytes;
  /** What survives a crash. */
  durable: Bytes;
  /** Changes since the last sync, oldest first: what a torn crash replays a prefix of. */
  unsynced: Change[] = [];

  constructor(data: Uint8Array, durable: boolean) {
    this.current = new Bytes(data);
    this.durable = new Bytes(durable ? data : new Uint8Array(0));
    if (!durable && data.length > 0) this.unsynced.push({ kind: "write", position: 0, data });
  }

  get data(): Uint8Array {
    return this.current.view();
  }

  apply(change: Change): void {
    this.current.apply(change);
    this.unsynced.push(change);
  }

  sync(): void {
    for (const change of this.unsynced) this.durable.apply(change);
    this.unsynced = [];
  }

  /** After a crash: `durable` plus the first `kept` unsynced changes, then `torn` if set. */
  restart(kept: number, torn: Change | undefined): void {
    for (const change of this.unsynced.slice(0, kept)) this.durable.apply(change);
    if (torn !== undefined) this.durable.apply(torn);
    this.unsynced = [];
    this.current = new Bytes(this.durable.view());
  }
}

class DirNode {
  readonly kind = "dir";
  entries = new Map<string, Node>();
  durableEntries = new Map<string, Node>();
}

type Node = FileNode | DirNode;

/** An in-memory file system with a durability model; see the file comment. */
export class SimFileSystem implements FileSystem, SimDiskControl {
  private readonly root = new DirNode();
  private readonly prng: Prng;
  private full = false;
  /** Bumped by `crash`: handles opened before it are dead. */
  private generation = 0;

  constructor(options: { readonly seed: number }) {
    this.prng = new Prng(options.seed);
  }

  // --- Control ---------------------------------------------------------------------------

  crash(options: { readonly tornWrites?: boolean } = {}): void {
    this.generation++;
    const tear = options.tornWrites ?? false;
    const visit = (dir: DirNode): void => {
      dir.entries = new Map(dir.durableEntries);
      for (const name of [...dir.entries.keys()].sort()) {
        const node = dir.entries.get(name) as Node;
        if (node.kind === "dir") visit(node);
        else this.crashFile(node, tear);
      }
    };
    visit(this.root);
  }

  setDiskFull(full: boolean): void {
    this.full = full;
  }

  usedBytes(): number {
    let total = 0;
    const visit = (dir: DirNode): void => {
      for (const node of dir.entries.values()) {
        if (node.kind === "dir") visit(node);
        else total += node.data.length;
      }
    };
    visit(this.root);
    return total;
  }

  // --- FileSystem ------------------------------------------------------------------------

  open(filePath: string, options: { readonly create: boolean }): Promise<FileHandle> {
    return this.run(() => {
      const { dir, name } = this.parent(filePath, "open");
      let node = dir.entries.get(name);
      if (node === undefined) {
        if (!options.create) throw fsError("ENOENT", "open", filePath);
        this.checkSpace("open", filePath);
        node = new FileNode(new Uint8Array(0), false);
        dir.entries.set(name, node);
      }
      if (node.kind === "dir") throw fsError("EISDIR", "open", filePath);
      return new SimFileHandle(this, node, filePath, this.generation);
    });
  }

  readFile(filePath: string): Promise<Uint8Array> {
    return this.run(() => {
      const node = this.lookup(filePath, "open");
      if (node.kind === "dir") throw fsError("EISDIR", "read", filePath);
      return node.data.slice();
    });
  }

  writeFileAtomic(filePath: string, data: Uint8Array): Promise<void> {
    return this.run(() => {
      const { dir, name } = this.parent(filePath, "open");
      if (dir.entries.get(name)?.kind === "dir") throw fsError("EISDIR", "rename", filePath);
      this.checkSpace("write", filePath);
      dir.entries.set(name, new FileNode(data.slice(), true));
      dir.durableEntries = new Map(dir.entries);
    });
  }

  createExclusive(filePath: string, data: Uint8Array): Promise<void> {
    return this.run(() => {
      const { dir, name } = this.parent(filePath, "open");
      if (dir.entries.has(name)) throw fsError("EEXIST", "open", filePath);
      this.checkSpace("write", filePath);
      dir.entries.set(name, new FileNode(data.slice(), true));
      dir.durableEntries = new Map(dir.entries);
    });
  }

  mkdir(dirPath: string): Promise<void> {
    return this.run(() => {
      let dir = this.root;
      for (const part of split(dirPath)) {
        let next = dir.entries.get(part);
        if (next === undefined) {
          next = new DirNode();
          dir.entries.set(part, next);
          dir.durableEntries.set(part, next);
        } else if (next.kind === "file") {
          throw fsError("EEXIST", "mkdir", dirPath);
        }
        dir = next;
      }
    });
  }

  readdir(dirPath: string): Promise<string[]> {
    return this.run(() => {
      const node = this.lookup(dirPath, "scandir");
      if (node.kind === "file") throw fsError("ENOTDIR", "scandir", dirPath);
      return [...node.entries.keys()].sort();
    });
  }

  rename(from: string, to: string): Promise<void> {
    return this.run(() => {
      const source = this.parent(from, "rename");
      const node = source.dir.entries.get(source.name);
      if (node === undefined) throw fsError("ENOENT", "rename", from);
      const target = this.parent(to, "rename");
      const replaced = target.dir.entries.get(target.name);
      if (replaced !== undefined && replaced.kind !== node.kind) {
        throw fsError(replaced.kind === "dir" ? "EISDIR" : "ENOTDIR", "rename", to);
      }
      source.dir.entries.delete(source.name);
      target.dir.entries.set(target.name, node);
    });
  }

  remove(targetPath: string): Promise<void> {
    return this.run(() => {
      const parts = split(targetPath);
      if (parts.length === 0) {
        this.root.entries.clear();
        return;
      }
      const dir = this.walk(parts.slice(0, -1));
      if (dir !== undefined) dir.entries.delete(parts[parts.length - 1] as string);
    });
  }

  exists(targetPath: string): Promise<boolean> {
    return this.run(() => {
      const parts = split(targetPath);
      const dir = this.walk(parts.slice(0, -1));
      if (parts.length === 0) return true;
      return dir !== undefined && dir.entries.has(parts[parts.length - 1] as string);
    });
  }

  syncDir(dirPath: string): Promise<void> {
    return this.run(() => {
      const node = this.lookup(dirPath, "open");
      if (node.kind === "file") throw fsError("ENOTDIR", "fsync", dirPath);
      node.durableEntries = new Map(node.entries);
    });
  }

  // --- Shared with handles ---------------------------------------------------------------

  /** Runs `operation` as a microtask: in call order, never inside the caller. */
  run<T>(operation: () => T): Promise<T> {
    return Promise.resolve().then(operation);
  }

  checkHandle(handle: SimFileHandle, syscall: string): void {
    if (handle.closed || handle.generation !== this.generation) {
      throw fsError("EBADF", syscall, handle.filePath);
    }
  }

  checkSpace(syscall: string, filePath: string): void {
    if (this.full) throw fsError("ENOSPC", syscall, filePath);
  }

  // --- Private ---------------------------------------------------------------------------

  private crashFile(file: FileNode, tear: boolean): void {
    if (!tear || file.unsynced.length === 0) {
      file.restart(0, undefined);
      return;
    }
    const kept = this.prng.nextInt(file.unsynced.length + 1);
    const next = file.unsynced[kept];
    let torn: Change | undefined;
    if (next !== undefined && next.kind === "write" && next.data.length > 1) {
      // A torn write: only its first bytes reached the platter.
      torn = { ...next, data: next.data.subarray(0, this.prng.nextInt(next.data.length)) };
    }
    file.restart(kept, torn);
  }

  private lookup(filePath: string, syscall: string): Node {
    const parts = split(filePath);
    if (parts.length === 0) return this.root;
    const dir = this.walk(parts.slice(0, -1));
    const node = dir?.entries.get(parts[parts.length - 1] as string);
    if (node === undefined) throw fsError("ENOENT", syscall, filePath);
    return node;
  }

  private parent(filePath: string, syscall: string): { dir: DirNode; name: string } {
    const parts = split(filePath);
    if (parts.length === 0) throw fsError("EISDIR", syscall, filePath);
    const dir = this.walk(parts.slice(0, -1));
    if (dir === undefined) throw fsError("ENOENT", syscall, filePath);
    return { dir, name: parts[parts.length - 1] as string };
  }

  /** The directory at `parts`, or undefined if a part is missing or not a directory. */
  private walk(parts: readonly string[]): DirNode | undefined {
    let dir = this.root;
    for (const part of parts) {
      const next = dir.entries.get(part);
      if (next === undefined || next.kind !== "dir") return undefined;
      dir = next;
    }
    return dir;
  }
}

/** An open file: it follows its file node through renames and removals, as POSIX does. */
class SimFileHandle implements FileHandle {
  readonly filePath: string;
  readonly generation: number;
  closed = false;
  private readonly fs: SimFileSystem;
  private readonly node: FileNode;

  constructor(fs: SimFileSystem, node: FileNode, filePath: string, generation: number) {
    this.fs = fs;
    this.node = node;
    this.filePath = filePath;
    this.generation = generation;
  }

  read(position: number, length: number): Promise<Uint8Array> {
    return this.fs.run(() => {
      this.fs.checkHandle(this, "read");
      return this.node.data.slice(position, position + length);
    });
  }

  write(position: number, data: Uint8Array): Promise<void> {
    return this.fs.run(() => this.change({ kind: "write", position, data: data.slice() }));
  }

  append(data: Uint8Array): Promise<void> {
    return this.fs.run(() =>
      this.change({ kind: "write", position: this.node.data.length, data: data.slice() }));
  }

  size(): Promise<number> {
    return this.fs.run(() => {
      this.fs.checkHandle(this, "fstat");
      return this.node.data.length;
    });
  }

  truncate(length: number): Promise<void> {
    return this.fs.run(() => this.change({ kind: "truncate", length }));
  }

  sync(): Promise<void> {
    return this.fs.run(() => {
      this.fs.checkHandle(this, "fdatasync");
      this.node.sync();
    });
  }

  close(): Promise<void> {
    return this.fs.run(() => {
      this.fs.checkHandle(this, "close");
      this.closed = true;
    });
  }

  private change(change: Change): void {
    this.fs.checkHandle(this, change.kind);
    const valid = change.kind === "write"
      ? Number.isSafeInteger(change.position) && change.position >= 0
      : Number.isSafeInteger(change.length) && change.length >= 0;
    // The message is built only on failure: serializing every write's data is costly.
    if (!valid) assert(false, `SimFileHandle: bad ${change.kind} ${JSON.stringify(change)}`);
    const grows = change.kind === "write"
      ? change.data.length > 0
      : change.length > this.node.data.length;
    if (grows) this.fs.checkSpace(change.kind, this.filePath);
    this.node.apply(change);
  }
}

/** The parts of an absolute POSIX path, `.` and `..` resolved. */
function split(filePath: string): string[] {
  assert(path.posix.isAbsolute(filePath), `SimFileSystem: path is not absolute: ${filePath}`);
  return path.posix.normalize(filePath).split("/").filter((part) => part.length > 0);
}

/** An `Error` shaped like Node's file-system errors. */
function fsError(code: string, syscall: string, filePath: string): Error {
  return Object.assign(new Error(`${code}: ${syscall} '${filePath}'`), {
    code,
    syscall,
    path: filePath,
  });
}
