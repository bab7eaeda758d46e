/**
 * MySQL authentication: the two password plugins, the accounts they check against, and
 * the cache that makes `caching_sha2_password` fast.
 *
 * `mysql_native_password`: the client sends SHA1(pw) XOR SHA1(scramble + SHA1(SHA1(pw)));
 * the server, knowing only SHA1(SHA1(pw)), recovers SHA1(pw) and checks its hash.
 * `caching_sha2_password`: the client sends SHA256(pw) XOR SHA256(SHA256(SHA256(pw)) +
 * scramble). The server can check that only if it has seen the password before (the
 * cache of SHA256(SHA256(pw)) filled by successful full authentications); otherwise it
 * asks for the password itself, which the client sends in clear over TLS or encrypted
 * with the server's RSA public key. Verification functions here are pure; the exchange
 * of packets lives in `connection.ts`.
 */
import { limits } from "../../base/mod.ts";

/** Hashing and RSA, injected so the wire server does no crypto I/O of its own. */
export interface AuthCrypto {
  sha1(data: Uint8Array): Uint8Array;
  sha256(data: Uint8Array): Uint8Array;
  /** A fresh RSA key pair in PEM (SPKI public key). */
  generateRsaKeyPair(modulusBits: number): {
    readonly publicKeyPem: string;
    readonly privateKeyPem: string;
  };
  /** RSA-OAEP (SHA-1) decryption; undefined when `data` is not a valid ciphertext. */
  rsaDecryptOaep(privateKeyPem: string, data: Uint8Array): Uint8Array | undefined;
}

/** The authentication plugins the server speaks. */
export type AuthPluginName = "mysql_native_password" | "caching_sha2_password";

export const nativePassword: AuthPluginName = "mysql_native_password";
export const cachingSha2Password: AuthPluginName = "caching_sha2_password";

/** True for the plugin names above. */
export function isAuthPluginName(name: string): name is AuthPluginName {
  return name === nativePassword || name === cachingSha2Password;
}

/** One account as the authentication plugins see it. */
export interface UserAccount {
  readonly user: string;
  /** The plugin the account authenticates with; a client using another is switched. */
  readonly plugin: AuthPluginName;
  /** False when the password is empty (then only an empty response is accepted). */
  readonly hasPassword: boolean;
  /** `mysql_native_password`'s stored hash, SHA1(SHA1(password)); required for it. */
  readonly nativeHash?: Uint8Array;
  /** Checks a cleartext password (full authentication of `caching_sha2_password`). */
  verifyPassword(password: Uint8Array): boolean;
}

/** Where accounts come from (the in-memory store here; the catalog's user table later). */
export interface UserStore {
  /** The account `user` connecting from `host`, or undefined when there is none. */
  lookup(user: string, host: string): Promise<UserAccount | undefined>;
}

/** An account definition for `InMemoryUserStore`. */
export interface UserDefinition {
  readonly user: string;
  /** Cleartext password; empty for none. */
  readonly password: string;
  /** Defaults to `caching_sha2_password`, MySQL 8's default. */
  readonly plugin?: AuthPluginName;
}

/**
 * Accounts held in memory, any host. Stores only hashes: SHA1(SHA1(pw)) for native and
 * SHA256(SHA256(pw)) for full-authentication checks (an unsalted hash: good enough for a
 * development store that never leaves memory, not for a persisted user table).
 */
export class InMemoryUserStore implements UserStore {
  private readonly crypto: AuthCrypto;
  private readonly accounts = new Map<string, UserAccount>();

  /** A store holding `users`; by default MySQL's fresh-install `root` with no password. */
  constructor(
    crypto: AuthCrypto,
    users: readonly UserDefinition[] = [{ user: "root", password: "" }],
  ) {
    this.crypto = crypto;
    for (const user of users) this.add(user);
  }

  /** Adds or replaces an account. */
  add(definition: UserDefinition): void {
    const crypto = this.crypto;
    const password = new TextEncoder().encode(definition.password);
    const sha2Hash = crypto.sha256(crypto.sha256(password));
    this.accounts.set(definition.user, {
      user: definition.user,
      plugin: definition.plugin ?? cachingSha2Password,
      hasPassword: password.length > 0,
      nativeHash: crypto.sha1(crypto.sha1(password)),
      verifyPassword: (candidate) =>
        equalBytes(crypto.sha256(crypto.sha256(candidate)), sha2Hash),
    });
  }

  lookup(user: string, _host: string): Promise<UserAccount | undefined> {
    return Promise.resolve(this.accounts.get(user));
  }
}

/** Byte-wise equality that does not stop at the first difference. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

function xor(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = (a[i] ?? 0) ^ (b[i] ?? 0);
  return out;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Checks a `mysql_native_password` response against SHA1(SHA1(pw)). */
export function verifyNativePassword(
  crypto: AuthCrypto,
  check: { readonly scramble: Uint8Array; readonly response: Uint8Array;
    readonly nativeHash: Uint8Array },
): boolean {
  if (check.response.length !== 20 || check.nativeHash.length !== 20) return false;
  const mask = crypto.sha1(concat(check.scramble, check.nativeHash));
  const sha1Password = xor(check.response, mask);
  return equalBytes(crypto.sha1(sha1Password), check.nativeHash);
}

/** Checks a `caching_sha2_password` fast-path response against SHA256(SHA256(pw)). */
export function verifySha2Scramble(
  crypto: AuthCrypto,
  check: { readonly scramble: Uint8Array; readonly response: Uint8Array;
    readonly sha2Hash: Uint8Array },
): boolean {
  if (check.response.length !== 32 || check.sha2Hash.length !== 32) return false;
  const mask = crypto.sha256(concat(check.sha2Hash, check.scramble));
  const sha256Password = xor(check.response, mask);
  return equalBytes(crypto.sha256(sha256Password), check.sha2Hash);
}

/** The client's scrambling of an RSA-encrypted password: XOR with the scramble, cyclic. */
export function xorRotating(data: Uint8Array, scramble: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) {
    out[i] = (data[i] ?? 0) ^ (scramble[i % scramble.length] ?? 0);
  }
  return out;
}

/**
 * A 20-byte scramble as MySQL makes it: 7-bit, with no NUL (it is sent NUL-terminated)
 * and no `$`.
 */
export function makeScramble(random: Uint8Array): Uint8Array {
  const out = new Uint8Array(20);
  for (let i = 0; i < out.length; i++) {
    let b = (random[i] ?? 0) & 0x7f;
    if (b === 0 || b === 0x24) b += 1;
    out[i] = b;
  }
  return out;
}

/**
 * The `caching_sha2_password` fast-authentication cache: account → SHA256(SHA256(pw)),
 * filled after a successful full authentication, bounded (oldest out first).
 */
export class Sha2AuthCache {
  private readonly entries = new Map<string, Uint8Array>();
  private readonly capacity: number;

  constructor(capacity: number = limits.mysqlAuthCacheEntriesMax) {
    this.capacity = capacity;
  }

  get(user: string): Uint8Array | undefined {
    return this.entries.get(user);
  }

  /** Remembers `user`'s hash after a successful full authentication with `password`. */
  remember(crypto: AuthCrypto, user: string, password: Uint8Array): void {
    this.entries.delete(user);
    if (this.entries.size >= this.capacity) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
    this.entries.set(user, crypto.sha256(crypto.sha256(password)));
  }

  /** Forgets `user` (password changed or account dropped). */
  forget(user: string): void {
    this.entries.delete(user);
  }
}
