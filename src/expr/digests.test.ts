/**
 * The pure digests (digests.ts) against Node's own MD5, SHA-1, SHA-2 and zlib CRC-32 on
 * every length from 0 to 300 bytes, which crosses each padding boundary (55/56/64 bytes
 * for 64-byte blocks, 111/112/128 for SHA-384/512), on ASCII and on arbitrary bytes.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { crc32 as zlibCrc32 } from "node:zlib";
import { crc32, md5, sha1, sha256, sha512, toHex } from "./digests.ts";

test("md5, sha1, sha224/256/384/512 and crc32 equal Node's on lengths 0..300", { timeout: 30_000 },
  () => {
    for (let length = 0; length <= 300; length++) {
      const bytes = Uint8Array.from({ length }, (_, i) => (i * 131 + length * 7) & 0xff);
      const node = (name: string): string => createHash(name).update(bytes).digest("hex");
      assert.equal(toHex(md5(bytes)), node("md5"), `md5 ${length}`);
      assert.equal(toHex(sha1(bytes)), node("sha1"), `sha1 ${length}`);
      assert.equal(toHex(sha256(bytes, 224)), node("sha224"), `sha224 ${length}`);
      assert.equal(toHex(sha256(bytes)), node("sha256"), `sha256 ${length}`);
      assert.equal(toHex(sha512(bytes, 384)), node("sha384"), `sha384 ${length}`);
      assert.equal(toHex(sha512(bytes)), node("sha512"), `sha512 ${length}`);
      assert.equal(crc32(bytes), zlibCrc32(bytes), `crc32 ${length}`);
    }
  });
