/**
 * Tests for `resolveSqlTls`: a SQL node without a configured certificate generates one in
 * its data directory on first start and reuses it; a configured pair is read as is; half a
 * configured pair and an unreadable file are configuration errors.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import * as tls from "node:tls";

import { ErrorCode, hasErrorCode } from "../base/mod.ts";
import { createSelfSignedCertificate } from "../env/mod.ts";
import { resolveSqlTls } from "./sql_tls.ts";

const timeout = 20_000;

describe("resolveSqlTls", () => {
  const root = mkdtempSync(join(tmpdir(), "tessera-sql-tls-"));
  after(() => rmSync(root, { recursive: true, force: true }));

  it("generates a certificate in DATA/tls on first start and reuses it", { timeout },
    async () => {
      const dataDir = join(root, "sql");
      const first = await resolveSqlTls({ dataDir });
      assert.equal(first.source, "generated");
      tls.createSecureContext({ cert: first.tls.cert, key: first.tls.key });
      const second = await resolveSqlTls({ dataDir });
      assert.equal(second.source, "reused");
      assert.deepEqual(second.tls, first.tls);
    });

  it("serves a configured certificate as is", { timeout }, async () => {
    const pair = createSelfSignedCertificate({ commonName: "operator" });
    const sslCert = join(root, "op-cert.pem");
    const sslKey = join(root, "op-key.pem");
    writeFileSync(sslCert, pair.certPem);
    writeFileSync(sslKey, pair.keyPem);
    const resolved = await resolveSqlTls({ dataDir: join(root, "unused"), sslCert, sslKey });
    assert.equal(resolved.source, "configured");
    assert.deepEqual(resolved.tls, { cert: pair.certPem, key: pair.keyPem });
  });

  it("refuses half a pair and an unreadable file", { timeout }, async () => {
    await assert.rejects(resolveSqlTls({ dataDir: root, sslCert: join(root, "c.pem") }),
      (error) => hasErrorCode(error, ErrorCode.ConfigBadValue));
    await assert.rejects(resolveSqlTls({ dataDir: root, sslCert: join(root, "absent.pem"),
      sslKey: join(root, "absent-key.pem") }),
    (error) => hasErrorCode(error, ErrorCode.ConfigFileUnreadable));
  });
});
