/**
 * `keyHash`: a 32-bit FNV-1a hash of a key, the only form in which latches, the lock wait
 * queue and the deadlock detector need to name keys. Deterministic across processes, so a
 * cluster-wide deadlock detector can compare hashes sent by different stores.
 */

/** FNV-1a (32 bits) of `key`, as an unsigned integer. */
export function keyHash(key: Uint8Array): number {
  let h = 0x811c9dc5;
  for (const byte of key) {
    h ^= byte;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
