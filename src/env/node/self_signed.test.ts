/**
 * Tests for the self-signed certificate generator: the certificate parses, is signed by
 * its own key, names the loopback host and the extra names, covers the asked validity
 * (UTCTime and GeneralizedTime), and `node:tls` serves with it; the data-directory pair is
 * created once with a private key file, reused afterwards, and regenerated when half of it
 * is missing.
 */
import assert from "node:assert/strict";
import * as crypto from "node:crypto";
import { once } from "node:events";
import { mkdtempSync, rmSync, statSync, unlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import * as tls from "node:tls";

import { createSelfSignedCertificate, loadOrCreateTlsCertificate } from "./self_signed.ts";

const timeout = 20_000;

describe("createSelfSignedCertificate", () => {
  it("makes a parseable v3 certificate signed by its own key, for the loopback names",
    { timeout }, () => {
      const pair = createSelfSignedCertificate({ altNames: ["db.example", "10.1.2.3"] });
      const cert = new crypto.X509Certificate(pair.certPem);
      assert.ok(cert.verify(cert.publicKey));
      assert.ok(cert.checkPrivateKey(crypto.createPrivateKey(pair.keyPem)));
      assert.equal(cert.ca, false);
      assert.equal(cert.subject, "CN=Tessera Auto Generated Server Certificate");
      assert.equal(cert.issuer, cert.subject);
      assert.equal(cert.checkHost("localhost"), "localhost");
      assert.equal(cert.checkHost("db.example"), "db.example");
      assert.equal(cert.checkIP("127.0.0.1"), "127.0.0.1");
      assert.equal(cert.checkIP("::1"), "::1");
      assert.equal(cert.checkIP("10.1.2.3"), "10.1.2.3");
      assert.equal(cert.checkHost("other.example"), undefined);
      assert.deepEqual(cert.keyUsage, ["1.3.6.1.5.5.7.3.1"]);
    });

  it("covers the validity asked for, in both ASN.1 time forms", { timeout }, () => {
    const nowMs = Date.UTC(2049, 5, 1);
    const cert = new crypto.X509Certificate(
      createSelfSignedCertificate({ nowMs, validityDays: 3650 }).certPem);
    // notBefore is a day early (UTCTime, 2049); notAfter is in 2059 (GeneralizedTime).
    assert.equal(Date.parse(cert.validFrom), nowMs - 24 * 3600 * 1000);
    assert.equal(Date.parse(cert.validTo), nowMs + 3650 * 24 * 3600 * 1000);
    assert.throws(() => createSelfSignedCertificate({ validityDays: 0 }), RangeError);
  });

  it("gives a fresh key and serial number every time", { timeout }, () => {
    const a = new crypto.X509Certificate(createSelfSignedCertificate().certPem);
    const b = new crypto.X509Certificate(createSelfSignedCertificate().certPem);
    assert.notEqual(a.serialNumber, b.serialNumber);
    assert.notEqual(a.fingerprint256, b.fingerprint256);
  });

  it("is accepted by node:tls, and a client trusting it verifies the server", { timeout },
    async () => {
      const pair = createSelfSignedCertificate();
      const server = tls.createServer({ cert: pair.certPem, key: pair.keyPem }, (socket) => {
        socket.end("hi");
      });
      server.listen(0, "127.0.0.1");
      await once(server, "listening");
      try {
        const address = server.address();
        assert.ok(address !== null && typeof address === "object");
        const client = tls.connect({ host: "127.0.0.1", port: address.port, ca: pair.certPem,
          servername: "localhost" });
        const [data] = await once(client, "data") as [Buffer];
        assert.equal(data.toString(), "hi");
        assert.equal(client.authorized, true);
        client.destroy();
      } finally {
        server.close();
      }
    });
});

describe("loadOrCreateTlsCertificate", () => {
  const root = mkdtempSync(join(tmpdir(), "tessera-cert-"));
  after(() => rmSync(root, { recursive: true, force: true }));

  it("creates the pair on first call, with a key only its owner reads, and reuses it",
    { timeout }, async () => {
      const dir = join(root, "data", "tls");
      const first = await loadOrCreateTlsCertificate(dir);
      assert.equal(first.created, true);
      assert.equal(statSync(join(dir, "key.pem")).mode & 0o777, 0o600);
      assert.equal(statSync(join(dir, "cert.pem")).isFile(), true);
      tls.createSecureContext({ cert: first.certPem, key: first.keyPem });
      const second = await loadOrCreateTlsCertificate(dir);
      assert.equal(second.created, false);
      assert.equal(second.certPem, first.certPem);
      assert.equal(second.keyPem, first.keyPem);
    });

  it("regenerates the pair when the certificate is missing", { timeout }, async () => {
    const dir = join(root, "half");
    const first = await loadOrCreateTlsCertificate(dir);
    unlinkSync(join(dir, "cert.pem"));
    const second = await loadOrCreateTlsCertificate(dir);
    assert.equal(second.created, true);
    assert.notEqual(second.keyPem, first.keyPem);
    const cert = new crypto.X509Certificate(second.certPem);
    assert.ok(cert.checkPrivateKey(crypto.createPrivateKey(second.keyPem)));
  });
});
