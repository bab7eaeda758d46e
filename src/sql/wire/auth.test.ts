/**
 * Unit tests of the authentication checks against tokens computed the way clients do
 * (MySQL's documented formulas), the fast-auth cache bound, scramble generation, the
 * loopback test and the handshake codecs.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { publicEncrypt, constants } from "node:crypto";
import { createNodeAuthCrypto } from "../../env/mod.ts";
import {
  InMemoryUserStore,
  Sha2AuthCache,
  makeScramble,
  verifyNativePassword,
  verifySha2Scramble,
  xorRotating,
} from "./auth.ts";
import { hostOf, isLoopback } from "./connection.ts";
import { Capability } from "./constants.ts";
import { decodeHandshakeResponse, encodeHandshake } from "./messages.ts";
import { PayloadReader, PayloadWriter } from "./payload.ts";

const opts = { timeout: 10_000 };
const crypto = createNodeAuthCrypto();
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const scramble = makeScramble(new Uint8Array(20).map((_, i) => i * 13));

function xor(a: Uint8Array, b: Uint8Array): Uint8Array {
  return a.map((x, i) => x ^ (b[i] ?? 0));
}

function cat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

test("mysql_native_password accepts the client's token and nothing else", opts, () => {
  const stage1 = crypto.sha1(enc("pw"));
  const nativeHash = crypto.sha1(stage1);
  const token = xor(stage1, crypto.sha1(cat(scramble, nativeHash)));
  assert.ok(verifyNativePassword(crypto, { scramble, response: token, nativeHash }));
  token[0] = (token[0] ?? 0) ^ 1;
  assert.ok(!verifyNativePassword(crypto, { scramble, response: token, nativeHash }));
  assert.ok(!verifyNativePassword(crypto, { scramble, response: new Uint8Array(3),
    nativeHash }));
});

test("caching_sha2_password's fast path accepts the client's scramble", opts, () => {
  const stage1 = crypto.sha256(enc("pw"));
  const sha2Hash = crypto.sha256(stage1);
  const token = xor(stage1, crypto.sha256(cat(sha2Hash, scramble)));
  assert.ok(verifySha2Scramble(crypto, { scramble, response: token, sha2Hash }));
  assert.ok(!verifySha2Scramble(crypto, { scramble: makeScramble(new Uint8Array(20)),
    response: token, sha2Hash }));
});

test("an RSA-encrypted password decrypts with the server key", opts, () => {
  const keys = crypto.generateRsaKeyPair(1024);
  const cipher = publicEncrypt({ key: keys.publicKeyPem, oaepHash: "sha1",
    padding: constants.RSA_PKCS1_OAEP_PADDING }, xorRotating(enc("pw\0"), scramble));
  const plain = crypto.rsaDecryptOaep(keys.privateKeyPem, new Uint8Array(cipher));
  assert.ok(plain !== undefined);
  assert.deepEqual(xorRotating(plain, scramble), enc("pw\0"));
  assert.equal(crypto.rsaDecryptOaep(keys.privateKeyPem, new Uint8Array(5)), undefined);
});

test("the in-memory store verifies cleartext passwords", opts, async () => {
  const store = new InMemoryUserStore(crypto, [{ user: "u", password: "pw" }]);
  const account = await store.lookup("u", "h");
  assert.ok(account !== undefined);
  assert.ok(account.verifyPassword(enc("pw")));
  assert.ok(!account.verifyPassword(enc("pW")));
  assert.equal(await store.lookup("nobody", "h"), undefined);
  assert.equal((await new InMemoryUserStore(crypto).lookup("root", "h"))?.hasPassword, false);
});

test("the fast-auth cache forgets its oldest entry when full", opts, () => {
  const cache = new Sha2AuthCache(2);
  cache.remember(crypto, "a", enc("1"));
  cache.remember(crypto, "b", enc("2"));
  cache.remember(crypto, "c", enc("3"));
  assert.equal(cache.get("a"), undefined);
  assert.deepEqual(cache.get("c"), crypto.sha256(crypto.sha256(enc("3"))));
  cache.forget("c");
  assert.equal(cache.get("c"), undefined);
});

test("a scramble has no NUL and no '$'", opts, () => {
  const s = makeScramble(new Uint8Array(20).map((_, i) => [0, 0x24, 0x80, 0xa4][i % 4] ?? 0));
  assert.equal(s.length, 20);
  assert.ok(s.every((b) => b !== 0 && b !== 0x24 && b < 0x80));
});

test("loopback addresses are recognised from host:port", opts, () => {
  assert.ok(isLoopback(hostOf("127.0.0.1:3306")));
  assert.ok(isLoopback(hostOf("[::1]:3306")));
  assert.ok(isLoopback(hostOf("[::ffff:127.0.0.1]:1")));
  assert.ok(!isLoopback(hostOf("10.0.0.1:3306")));
});

test("the handshake carries the scramble in two parts and the plugin name", opts, () => {
  const payload = encodeHandshake({ serverVersion: "v", connectionId: 9, scramble,
    capabilities: 0x81ffff, collationId: 45, status: 2, authPlugin: "caching_sha2_password" });
  const r = new PayloadReader(payload);
  assert.equal(r.uint8(), 10);
  assert.equal(r.nulString(), "v");
  assert.equal(r.uint32(), 9);
  const first = r.bytesOf(8);
  r.skip(1);
  const low = r.uint16();
  r.skip(3);
  const high = r.uint16();
  assert.equal(low | (high << 16), 0x81ffff);
  assert.equal(r.uint8(), 21);
  r.skip(10);
  const second = r.nulBytes();
  assert.deepEqual(cat(first, second), scramble);
  assert.equal(r.nulString(), "caching_sha2_password");
});

test("a handshake response is read with the negotiated capabilities only", opts, () => {
  const attrs = new PayloadWriter().lenencString("_client_name").lenencString("t").finish();
  const all = Capability.Protocol41 | Capability.PluginAuthLenencClientData |
    Capability.ConnectWithDb | Capability.PluginAuth | Capability.ConnectAttrs;
  const payload = new PayloadWriter().uint32(all).uint32(0).uint8(45).zeros(23)
    .nulString("me").lenencBytes(new Uint8Array([1, 2])).nulString("db")
    .nulString("mysql_native_password").lenencBytes(attrs).finish();
  const full = decodeHandshakeResponse(payload, all);
  assert.equal(full.user, "me");
  assert.deepEqual([...full.authResponse], [1, 2]);
  assert.equal(full.database, "db");
  assert.equal(full.authPlugin, "mysql_native_password");
  assert.equal(full.attributes.get("_client_name"), "t");
  const masked = decodeHandshakeResponse(payload, all & ~Capability.ConnectAttrs);
  assert.equal(masked.attributes.size, 0);
  assert.equal(masked.capabilities & Capability.ConnectAttrs, 0);
});
