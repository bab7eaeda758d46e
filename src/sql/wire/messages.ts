/**
 * The server's generic response packets (OK, ERR, EOF) and the handshake messages: the
 * initial `HandshakeV10`, the client's `HandshakeResponse41` (and `SSLRequest`), and the
 * `AuthSwitchRequest` / `AuthMoreData` packets of the authentication exchange.
 *
 * Everything here is pure encoding and decoding of payloads (no sequence ids, no I/O).
 * Decoders throw `MalformedPacket` on anything that does not fit the structure.
 */
import { Capability } from "./constants.ts";
import { MalformedPacket, PayloadReader, PayloadWriter, encodeUtf8 } from "./payload.ts";

/** Fields of an OK packet. */
export interface OkPacket {
  readonly affectedRows?: number | bigint;
  readonly lastInsertId?: number | bigint;
  readonly status: number;
  readonly warnings?: number;
  readonly info?: string;
  /** True for the 0xfe-headed OK that replaces EOF under CLIENT_DEPRECATE_EOF. */
  readonly eofHeader?: boolean;
}

export function encodeOk(ok: OkPacket): Uint8Array {
  const w = new PayloadWriter(16);
  w.uint8(ok.eofHeader === true ? 0xfe : 0x00)
    .lenencInt(ok.affectedRows ?? 0)
    .lenencInt(ok.lastInsertId ?? 0)
    .uint16(ok.status)
    .uint16(Math.min(ok.warnings ?? 0, 0xffff));
  // The info text is length-encoded, as MySQL's and MariaDB's servers write it: MariaDB's
  // client library always reads it that way (and reports "malformed packet" otherwise).
  // The server offers CLIENT_SESSION_TRACK, under which every client reads it so (mysql2
  // reads the rest of the packet without it, and showed the length byte).
  if (ok.info !== undefined && ok.info !== "") w.lenencString(ok.info);
  return w.finish();
}

/** An ERR packet; without CLIENT_PROTOCOL_41 the SQLSTATE is left out, as MySQL does. */
export function encodeErr(
  error: { readonly errno: number; readonly sqlState: string; readonly message: string },
  protocol41 = true,
): Uint8Array {
  const w = new PayloadWriter(16 + error.message.length);
  w.uint8(0xff).uint16(error.errno);
  if (protocol41) w.uint8(0x23).string(error.sqlState.padEnd(5, "0").slice(0, 5));
  return w.string(error.message).finish();
}

/** An EOF packet (clients without CLIENT_DEPRECATE_EOF). */
export function encodeEof(status: number, warnings = 0): Uint8Array {
  return new PayloadWriter(5).uint8(0xfe).uint16(Math.min(warnings, 0xffff)).uint16(status)
    .finish();
}

/** The end of a column list or a result set, in the form the client negotiated. */
export function encodeEnd(
  capabilities: number,
  status: number,
  warnings = 0,
): Uint8Array {
  if ((capabilities & Capability.DeprecateEof) !== 0) {
    return encodeOk({ status, warnings, eofHeader: true });
  }
  return encodeEof(status, warnings);
}

/** The server's first packet. */
export interface HandshakeV10 {
  readonly serverVersion: string;
  readonly connectionId: number;
  /** 20 bytes, no NUL. */
  readonly scramble: Uint8Array;
  readonly capabilities: number;
  readonly collationId: number;
  readonly status: number;
  readonly authPlugin: string;
}

export function encodeHandshake(h: HandshakeV10): Uint8Array {
  const w = new PayloadWriter(128);
  w.uint8(10).nulString(h.serverVersion).uint32(h.connectionId)
    .bytes(h.scramble.subarray(0, 8)).uint8(0)
    .uint16(h.capabilities & 0xffff).uint8(h.collationId).uint16(h.status)
    .uint16((h.capabilities >>> 16) & 0xffff).uint8(h.scramble.length + 1)
    .zeros(10).bytes(h.scramble.subarray(8)).uint8(0)
    .nulString(h.authPlugin);
  return w.finish();
}

/** What a client sent in its `HandshakeResponse41`. */
export interface HandshakeResponse {
  readonly capabilities: number;
  readonly maxPacketBytes: number;
  readonly collationId: number;
  readonly user: string;
  readonly authResponse: Uint8Array;
  readonly database: string | undefined;
  /** Undefined when the client did not send CLIENT_PLUGIN_AUTH. */
  readonly authPlugin: string | undefined;
  readonly attributes: ReadonlyMap<string, string>;
}

/** Bytes of an `SSLRequest`: the fixed prefix of a handshake response, nothing more. */
export const sslRequestBytes = 32;

/** Reads the fixed 32-byte prefix common to `SSLRequest` and `HandshakeResponse41`. */
export function decodeSslRequest(payload: Uint8Array): {
  readonly capabilities: number;
  readonly maxPacketBytes: number;
  readonly collationId: number;
} {
  const r = new PayloadReader(payload);
  const capabilities = r.uint32();
  const maxPacketBytes = r.uint32();
  const collationId = r.uint8();
  r.skip(23);
  return { capabilities, maxPacketBytes, collationId };
}

/**
 * Parses a `HandshakeResponse41`; `serverCapabilities` masks what the client claims, since
 * only the intersection is in force. Clients older than 4.1 are refused by the caller.
 */
export function decodeHandshakeResponse(
  payload: Uint8Array,
  serverCapabilities: number,
): HandshakeResponse {
  const prefix = decodeSslRequest(payload);
  const capabilities = prefix.capabilities & serverCapabilities;
  const r = new PayloadReader(payload, sslRequestBytes);
  const user = r.nulString();
  let authResponse: Uint8Array;
  if ((capabilities & Capability.PluginAuthLenencClientData) !== 0) {
    authResponse = r.lenencBytes();
  } else if ((capabilities & Capability.SecureConnection) !== 0) {
    authResponse = r.bytesOf(r.uint8());
  } else {
    authResponse = r.nulBytes();
  }
  let database: string | undefined;
  if ((capabilities & Capability.ConnectWithDb) !== 0 && r.remaining > 0) {
    database = r.nulString();
    if (database === "") database = undefined;
  }
  let authPlugin: string | undefined;
  if ((capabilities & Capability.PluginAuth) !== 0 && r.remaining > 0) {
    authPlugin = r.nulString();
  }
  const attributes = new Map<string, string>();
  if ((capabilities & Capability.ConnectAttrs) !== 0 && r.remaining > 0) {
    const attrs = new PayloadReader(r.lenencBytes());
    while (attrs.remaining > 0) {
      const key = attrs.lenencString();
      attributes.set(key, attrs.lenencString());
    }
  }
  return {
    capabilities,
    maxPacketBytes: prefix.maxPacketBytes,
    collationId: prefix.collationId,
    user,
    authResponse: authResponse.slice(),
    database,
    authPlugin,
    attributes,
  };
}

/** `AuthSwitchRequest`: use `plugin` with this scramble instead. */
export function encodeAuthSwitch(plugin: string, scramble: Uint8Array): Uint8Array {
  return new PayloadWriter(64).uint8(0xfe).nulString(plugin).bytes(scramble).uint8(0)
    .finish();
}

/** `AuthMoreData`: plugin-specific bytes after a 0x01 header. */
export function encodeAuthMoreData(data: Uint8Array | string): Uint8Array {
  const bytes = typeof data === "string" ? encodeUtf8(data) : data;
  return new PayloadWriter(bytes.length + 1).uint8(0x01).bytes(bytes).finish();
}

/** A command payload's first byte, or a `MalformedPacket` for an empty payload. */
export function commandByte(payload: Uint8Array): number {
  const b = payload[0];
  if (b === undefined) throw new MalformedPacket("empty command packet");
  return b;
}
