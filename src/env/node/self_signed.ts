/**
 * Self-signed TLS certificates: `createSelfSignedCertificate` builds one in memory, and
 * `loadOrCreateTlsCertificate` gives a server the certificate of its data directory,
 * generating it on first start and reusing it afterwards.
 *
 * The certificate is X.509 v3 with an ECDSA P-256 key signed with SHA-256, encoded by the
 * small DER writer below with `node:crypto` doing the key generation and the signature.
 * (The `selfsigned` npm package would do the same, but its API is async-only and pulls in
 * twenty-odd packages for what is a hundred lines of DER.) It names `localhost`, 127.0.0.1
 * and ::1 plus any extra names, and says it is a server certificate that is not a CA.
 * Clients cannot verify it against a CA; it gives encryption, not identity, which is what
 * MySQL's own auto-generated certificates give too. Operators who need identity configure
 * their own certificate.
 *
 * On disk the pair is `DIR/cert.pem` and `DIR/key.pem` (the key mode 0600). A directory
 * holding only one of them (a crash between the two writes) gets a fresh pair. Each file
 * is written to a temporary name, synced and renamed, so a file is whole or absent.
 */
import * as crypto from "node:crypto";
import { isIP } from "node:net";
import { mkdir, open, readFile, rename, rm } from "node:fs/promises";
import { join } from "node:path";

/** A certificate and its private key, PEM text. */
export interface CertificatePem {
  readonly certPem: string;
  readonly keyPem: string;
}

export interface SelfSignedOptions {
  /** The subject's common name; default `Tessera Auto Generated Server Certificate`. */
  readonly commonName?: string;
  /** DNS names and IP addresses besides `localhost`, 127.0.0.1 and ::1. */
  readonly altNames?: readonly string[];
  /** Validity from now; default 3650 days (MySQL's auto-generated certificates: 10 years). */
  readonly validityDays?: number;
  /** The wall clock's now in ms since the Unix epoch; default `Date.now()`. */
  readonly nowMs?: number;
}

const defaultCommonName = "Tessera Auto Generated Server Certificate";
const defaultValidityDays = 3650;
const dayMs = 24 * 60 * 60 * 1000;
/** `notBefore` is set this far back, so a client whose clock lags still accepts it. */
const clockSkewMs = dayMs;

// ---- DER -------------------------------------------------------------------------------

function derLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, ...contents: Buffer[]): Buffer {
  const body = Buffer.concat(contents);
  return Buffer.concat([Buffer.from([tag]), derLength(body.length), body]);
}

const sequence = (...items: Buffer[]): Buffer => tlv(0x30, ...items);
const set = (...items: Buffer[]): Buffer => tlv(0x31, ...items);
const octetString = (bytes: Buffer): Buffer => tlv(0x04, bytes);
const bitString = (bytes: Buffer): Buffer => tlv(0x03, Buffer.from([0]), bytes);
const utf8String = (text: string): Buffer => tlv(0x0c, Buffer.from(text, "utf8"));
const explicit = (tagNumber: number, inner: Buffer): Buffer => tlv(0xa0 | tagNumber, inner);

/** A non-negative INTEGER from big-endian bytes (a 0 byte keeps the sign bit clear). */
function unsignedInteger(bytes: Buffer): Buffer {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  const trimmed = bytes.subarray(start);
  const first = trimmed[0] ?? 0;
  return tlv(0x02, first >= 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed);
}

function oid(dotted: string): Buffer {
  const parts = dotted.split(".").map(Number);
  const [first = 0, second = 0, ...rest] = parts;
  const bytes = [first * 40 + second];
  for (const part of rest) {
    const groups: number[] = [part & 0x7f];
    for (let n = Math.floor(part / 128); n > 0; n = Math.floor(n / 128)) {
      groups.unshift(0x80 | (n & 0x7f));
    }
    bytes.push(...groups);
  }
  return tlv(0x06, Buffer.from(bytes));
}

/** UTCTime through 2049, GeneralizedTime from 2050 (RFC 5280 §4.1.2.5). */
function time(ms: number): Buffer {
  const iso = new Date(ms).toISOString(); // 2025-01-02T03:04:05.678Z
  const digits = iso.slice(0, 19).replace(/[-:T]/g, ""); // 20250102030405
  const year = new Date(ms).getUTCFullYear();
  if (year >= 1950 && year < 2050) return tlv(0x17, Buffer.from(`${digits.slice(2)}Z`));
  return tlv(0x18, Buffer.from(`${digits}Z`));
}

function ipBytes(address: string): Buffer {
  if (isIP(address) === 4) return Buffer.from(address.split(".").map(Number));
  // IPv6: expand `::` and write eight 16-bit groups.
  const [head = "", tail] = address.split("::");
  const headGroups = head === "" ? [] : head.split(":");
  const tailGroups = tail === undefined || tail === "" ? [] : tail.split(":");
  const zeros = new Array<string>(8 - headGroups.length - tailGroups.length).fill("0");
  const out = Buffer.alloc(16);
  [...headGroups, ...zeros, ...tailGroups].forEach((group, i) => {
    out.writeUInt16BE(parseInt(group, 16), i * 2);
  });
  return out;
}

function extension(id: string, options: { critical: boolean }, value: Buffer): Buffer {
  return sequence(oid(id), ...(options.critical ? [tlv(0x01, Buffer.from([0xff]))] : []),
    octetString(value));
}

// ---- certificates ----------------------------------------------------------------------

const ecdsaWithSha256 = sequence(oid("1.2.840.10045.4.3.2"));

/** A fresh self-signed server certificate and its key (synchronous CPU work, ~1 ms). */
export function createSelfSignedCertificate(options: SelfSignedOptions = {}): CertificatePem {
  const nowMs = options.nowMs ?? Date.now();
  const validityDays = options.validityDays ?? defaultValidityDays;
  if (!Number.isFinite(validityDays) || validityDays <= 0) {
    throw new RangeError(`validityDays must be positive, not ${validityDays}`);
  }
  const { privateKey, publicKey } = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" });
  const name = sequence(set(sequence(oid("2.5.4.3"),
    utf8String(options.commonName ?? defaultCommonName))));
  const altNames = [...new Set(["localhost", "127.0.0.1", "::1", ...(options.altNames ?? [])])];
  const generalNames = altNames.map((alt) => isIP(alt) === 0
    ? tlv(0x82, Buffer.from(alt, "ascii")) // dNSName [2]
    : tlv(0x87, ipBytes(alt))); // iPAddress [7]
  const serial = crypto.randomBytes(16);
  serial[0] = (serial[0] ?? 0) & 0x7f;
  const tbs = sequence(
    explicit(0, tlv(0x02, Buffer.from([2]))), // v3
    unsignedInteger(serial),
    ecdsaWithSha256,
    name,
    sequence(time(nowMs - clockSkewMs), time(nowMs + validityDays * dayMs)),
    name,
    publicKey.export({ type: "spki", format: "der" }),
    explicit(3, sequence(
      extension("2.5.29.19", { critical: true }, sequence()), // basicConstraints: not a CA
      // keyUsage: digitalSignature (bit 0, all an ECDHE-ECDSA server needs); 7 unused bits.
      extension("2.5.29.15", { critical: true }, tlv(0x03, Buffer.from([7, 0x80]))),
      extension("2.5.29.37", { critical: false }, // extKeyUsage: serverAuth
        sequence(oid("1.3.6.1.5.5.7.3.1"))),
      extension("2.5.29.17", { critical: false }, sequence(...generalNames)),
    )),
  );
  const signature = crypto.sign("sha256", tbs, { key: privateKey, dsaEncoding: "der" });
  const der = sequence(tbs, ecdsaWithSha256, bitString(signature));
  const base64 = der.toString("base64").replace(/.{1,64}/g, "$&\n");
  return {
    certPem: `-----BEGIN CERTIFICATE-----\n${base64}-----END CERTIFICATE-----\n`,
    keyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
  };
}

/** Writes `data` to `path` whole or not at all, with `mode`. */
async function writeFileDurably(path: string, data: string, mode: number): Promise<void> {
  const temporary = `${path}.tmp`;
  await rm(temporary, { force: true });
  const handle = await open(temporary, "wx", mode);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, path);
}

async function readIfPresent(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (error: unknown) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

/**
 * The certificate in `dir` (`cert.pem`, `key.pem`); when either is missing, a new
 * self-signed pair is generated, written there (the key readable by the owner only) and
 * returned. `created` says which happened, for the start-up log.
 */
export async function loadOrCreateTlsCertificate(
  dir: string,
  options: SelfSignedOptions = {},
): Promise<CertificatePem & { readonly created: boolean }> {
  const certPath = join(dir, "cert.pem");
  const keyPath = join(dir, "key.pem");
  const [certPem, keyPem] = await Promise.all([readIfPresent(certPath), readIfPresent(keyPath)]);
  if (certPem !== undefined && keyPem !== undefined) return { certPem, keyPem, created: false };
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const fresh = createSelfSignedCertificate(options);
  // The key first: a directory with a certificate but no key is regenerated anyway.
  await writeFileDurably(keyPath, fresh.keyPem, 0o600);
  await writeFileDurably(certPath, fresh.certPem, 0o644);
  const directory = await open(dir, "r");
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
  return { ...fresh, created: true };
}
