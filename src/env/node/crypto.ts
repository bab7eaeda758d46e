/**
 * `NodeCrypto`: SHA-1, SHA-256 and CRC-32 from `node:crypto` and `node:zlib`.
 *
 * These are pure functions of their input (no I/O, no state), so the simulator uses this
 * same implementation. Digests are returned as plain `Uint8Array`s, not `Buffer`s, so that
 * `slice` copies as callers expect.
 */
import { createHash } from "node:crypto";
import { crc32 } from "node:zlib";
import type { Crypto } from "../env.ts";

/** Hashing with Node's built-in implementations. */
export class NodeCrypto implements Crypto {
  sha1(data: Uint8Array): Uint8Array {
    return new Uint8Array(createHash("sha1").update(data).digest());
  }

  sha256(data: Uint8Array): Uint8Array {
    return new Uint8Array(createHash("sha256").update(data).digest());
  }

  crc32(data: Uint8Array): number {
    return crc32(data);
  }
}
