/**
 * `NodeFileSystem`: the `FileSystem` interface over `node:fs/promises`.
 *
 * Durability rules: `FileHandle.sync` is `fdatasync`; `writeFileAtomic` writes a temporary
 * file in the target's directory, `fsync`s it, renames it over the target and `fsync`s the
 * directory, so after a crash the target holds the old or the new contents, whole. A crash
 * in the middle can leave the temporary file behind: its name is `.{name}.{random}.tmp`
 * (hidden, with a `.tmp` suffix) so that directory scans can recognise and delete it.
 *
 * A `NodeFileHandle` runs its writes, appends, truncations, size queries, syncs and close
 * one at a time, in the order they were called: an append needs the current size, and
 * two appends racing for it would overwrite each other; a sync covers everything called
 * before it. Reads run at once. Errors are Node's own (`code` set to `ENOENT`, `EEXIST`
 * …), which is what callers switch on.
 */
import { randomBytes } from "node:crypto";
import type { FileHandle as NodeFsFileHandle } from "node:fs/promises";
import * as fs from "node:fs/promises";
import { constants } from "node:fs";
import * as path from "node:path";
import type { FileHandle, FileSystem } from "../env.ts";

/** The local file system. */
export class NodeFileSystem implements FileSystem {
  async open(filePath: string, options: { readonly create: boolean }): Promise<FileHandle> {
    const flags = options.create ? constants.O_RDWR | constants.O_CREAT : constants.O_RDWR;
    return new NodeFileHandle(await fs.open(filePath, flags, 0o644));
  }

  async readFile(filePath: string): Promise<Uint8Array> {
    const buffer = await fs.readFile(filePath);
    return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  }

  async writeFileAtomic(filePath: string, data: Uint8Array): Promise<void> {
    const directory = path.dirname(filePath);
    const suffix = randomBytes(6).toString("hex");
    const tempPath = path.join(directory, `.${path.basename(filePath)}.${suffix}.tmp`);
    try {
      const handle = await fs.open(tempPath, "wx", 0o644);
      try {
        await handle.writeFile(data);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await fs.rename(tempPath, filePath);
    } catch (error) {
      try {
        await fs.rm(tempPath, { force: true });
      } catch (cleanupError) {
        throw new AggregateError([error, cleanupError], `writeFileAtomic ${filePath} failed`, {
          cause: cleanupError,
        });
      }
      throw error;
    }
    await this.syncDir(directory);
  }

  async createExclusive(filePath: string, data: Uint8Array): Promise<void> {
    const handle = await fs.open(filePath, "wx", 0o644);
    try {
      try {
        await handle.writeFile(data);
        await handle.sync();
      } finally {
        await handle.close();
      }
    } catch (error) {
      // A half-written file must not pose as a complete one.
      await fs.rm(filePath, { force: true });
      throw error;
    }
    await this.syncDir(path.dirname(filePath));
  }

  async mkdir(dirPath: string): Promise<void> {
    await fs.mkdir(dirPath, { recursive: true });
  }

  async readdir(dirPath: string): Promise<string[]> {
    return (await fs.readdir(dirPath)).sort();
  }

  async rename(from: string, to: string): Promise<void> {
    await fs.rename(from, to);
  }

  async remove(targetPath: string): Promise<void> {
    await fs.rm(targetPath, { recursive: true, force: true });
  }

  async exists(targetPath: string): Promise<boolean> {
    try {
      await fs.lstat(targetPath);
      return true;
    } catch (error) {
      if (isErrnoCode(error, "ENOENT")) return false;
      throw error;
    }
  }

  async syncDir(dirPath: string): Promise<void> {
    const handle = await fs.open(dirPath, constants.O_RDONLY);
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
}

/** An open file; see the file comment for the ordering of its operations. */
class NodeFileHandle implements FileHandle {
  private readonly handle: NodeFsFileHandle;
  /** Settles when every ordered operation called so far has finished. */
  private tail: Promise<unknown> = Promise.resolve();

  constructor(handle: NodeFsFileHandle) {
    this.handle = handle;
  }

  async read(position: number, length: number): Promise<Uint8Array> {
    const out = new Uint8Array(length);
    let filled = 0;
    while (filled < length) {
      const { bytesRead } = await this.handle.read(out, filled, length - filled, position + filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return filled === length ? out : out.subarray(0, filled);
  }

  write(position: number, data: Uint8Array): Promise<void> {
    return this.ordered(() => this.writeAll(position, data));
  }

  append(data: Uint8Array): Promise<void> {
    return this.ordered(async () => {
      const { size } = await this.handle.stat();
      await this.writeAll(size, data);
    });
  }

  size(): Promise<number> {
    return this.ordered(async () => (await this.handle.stat()).size);
  }

  truncate(length: number): Promise<void> {
    return this.ordered(() => this.handle.truncate(length));
  }

  sync(): Promise<void> {
    return this.ordered(() => this.handle.datasync());
  }

  close(): Promise<void> {
    return this.ordered(() => this.handle.close());
  }

  /** Runs `operation` after every ordered operation called before it has finished. */
  private ordered<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.tail.then(operation);
    // The caller receives `result`, failure included; the queue only waits for it to settle.
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  private async writeAll(position: number, data: Uint8Array): Promise<void> {
    let written = 0;
    while (written < data.length) {
      const { bytesWritten } = await this.handle.write(
        data,
        written,
        data.length - written,
        position + written,
      );
      written += bytesWritten;
    }
  }
}

/** True when `error` is a Node system error with the given `code`. */
function isErrnoCode(error: unknown, code: string): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === code;
}
