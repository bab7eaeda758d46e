/**
 * The TLS certificate of a SQL node's MySQL port, as `cmd` resolves it at start-up.
 *
 * An operator's certificate (`sslCert` and `sslKey`, PEM files, both or neither) wins;
 * without one, the node uses the self-signed pair in `DATA/tls/` (`cert.pem`, `key.pem`),
 * generated on the first start and reused afterwards, so clients get encryption out of
 * the box, as with MySQL's auto-generated certificates. The SQL node command ([T8]) calls
 * this and passes the result to `createMySqlServer({ tls })`.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";

import { ErrorCode, TesseraError } from "../base/mod.ts";
import { type TlsOptions, loadOrCreateTlsCertificate } from "../env/mod.ts";

export interface SqlTlsSettings {
  /** The node's data directory; the generated pair lives in its `tls/` folder. */
  readonly dataDir: string;
  /** PEM certificate file configured by the operator. */
  readonly sslCert?: string;
  /** PEM private key file configured by the operator. */
  readonly sslKey?: string;
}

/** PEM text of the certificate and key: a `TlsOptions` for the MySQL listener. */
export type SqlTls = TlsOptions & { readonly cert: string; readonly key: string };

/** Where the certificate came from, for the start-up log. */
export type SqlTlsSource = "configured" | "generated" | "reused";

async function readPem(path: string, key: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (error: unknown) {
    throw new TesseraError(ErrorCode.ConfigFileUnreadable,
      `${key} ${path}: cannot read: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error, details: { file: path, key } });
  }
}

/** The certificate and key the MySQL port serves, and where they came from. */
export async function resolveSqlTls(
  settings: SqlTlsSettings,
): Promise<{ readonly tls: SqlTls; readonly source: SqlTlsSource }> {
  const { sslCert, sslKey } = settings;
  if (sslCert !== undefined && sslKey !== undefined) {
    const [cert, key] = await Promise.all([readPem(sslCert, "ssl-cert"),
      readPem(sslKey, "ssl-key")]);
    return { tls: { cert, key }, source: "configured" };
  }
  if (sslCert !== undefined || sslKey !== undefined) {
    throw new TesseraError(ErrorCode.ConfigBadValue,
      "ssl-cert and ssl-key must be configured together",
      { details: { key: sslCert === undefined ? "ssl-cert" : "ssl-key" } });
  }
  const pair = await loadOrCreateTlsCertificate(join(settings.dataDir, "tls"));
  return { tls: { cert: pair.certPem, key: pair.keyPem },
    source: pair.created ? "generated" : "reused" };
}
