/**
 * `NodeAuthCrypto`: the hashing and RSA operations MySQL authentication needs, from
 * `node:crypto`.
 *
 * `caching_sha2_password` full authentication over a plain connection encrypts the password
 * with the server's RSA public key (OAEP padding with SHA-1, as MySQL and every client
 * library use). These are CPU work with no I/O; the SQL wire server takes them through its
 * own `AuthCrypto` interface, which this class satisfies structurally (env may not import
 * sql), so the simulator can use this same implementation.
 */
import {
  constants,
  createHash,
  generateKeyPairSync,
  privateDecrypt,
} from "node:crypto";

/** An RSA key pair in PEM (SPKI public key, PKCS#8 private key). */
export interface RsaKeyPairPem {
  readonly publicKeyPem: string;
  readonly privateKeyPem: string;
}

/** SHA-1, SHA-256 and RSA for MySQL authentication plugins. */
export class NodeAuthCrypto {
  sha1(data: Uint8Array): Uint8Array {
    return new Uint8Array(createHash("sha1").update(data).digest());
  }

  sha256(data: Uint8Array): Uint8Array {
    return new Uint8Array(createHash("sha256").update(data).digest());
  }

  /** A fresh RSA key pair of `modulusBits` bits (2048 takes tens of milliseconds). */
  generateRsaKeyPair(modulusBits: number): RsaKeyPairPem {
    const pair = generateKeyPairSync("rsa", {
      modulusLength: modulusBits,
      publicKeyEncoding: { type: "spki", format: "pem" },
      privateKeyEncoding: { type: "pkcs8", format: "pem" },
    });
    return { publicKeyPem: pair.publicKey, privateKeyPem: pair.privateKey };
  }

  /**
   * Decrypts RSA-OAEP (SHA-1) `data` with `privateKeyPem`; undefined when it is not a valid
   * ciphertext for that key (a wrong or hostile client message, not a bug).
   */
  rsaDecryptOaep(privateKeyPem: string, data: Uint8Array): Uint8Array | undefined {
    try {
      const plain = privateDecrypt(
        { key: privateKeyPem, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha1" },
        data,
      );
      return new Uint8Array(plain);
    } catch (error: unknown) {
      // OpenSSL reports bad padding or a wrong length as an exception; both mean the
      // client sent something that is not our ciphertext, which the caller rejects.
      if (error instanceof Error) return undefined;
      throw error;
    }
  }
}

/** The real `AuthCrypto` for the MySQL wire server. */
export function createNodeAuthCrypto(): NodeAuthCrypto {
  return new NodeAuthCrypto();
}
