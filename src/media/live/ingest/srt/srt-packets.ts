/**
 * The few SRT packets the ingest front reads and writes itself (draft-sharabayko-srt, "Packet Structure" and
 * "Handshake Messages"; Haivision's docs/features/handshake.md): the 16-byte header, the handshake's 48-byte body
 * and its extensions, and the shutdown message. Everything else (data, ACK, NAK, keep-alive) is relayed unread.
 * All fields are big-endian 32-bit words; byte offsets below are from the start of the UDP payload.
 */

/** Control packet types (the 15 bits after the F flag). */
export const controlType = { handshake: 0, keepAlive: 1, shutdown: 5 } as const;

/** Handshake types (the `Handshake Type` field); rejections are 1000 + reason. */
export const handshakeType = { induction: 1, conclusion: 0xffffffff } as const;

/** Handshake extension types (`SRT_CMD_*`). */
export const extensionType = { hsReq: 1, kmReq: 3, streamId: 5 } as const;

/** The magic a listener puts in the induction response's extension field to say it speaks HSv5. */
const srtMagic = 0x4a17;
const headerBytes = 16;
const handshakeBodyBytes = 48;

/**
 * Rejection reasons, as put in the `Handshake Type` field (1000 + code). The first are libsrt's own
 * (`SRT_REJ_*`, 0–99); the others are its predefined application codes (`SRT_REJX_*`, 1000 + an HTTP status), which
 * libsrt callers report as "rejected by the application" with the code.
 */
export const rejection = {
  /** SRT_REJ_ROGUE: the handshake could not be read. */
  rogue: 1004,
  /** SRT_REJ_VERSION: not an HSv5 caller. */
  version: 1008,
  /** SRT_REJ_BADSECRET: the passphrase matches no running event. */
  badSecret: 1010,
  /** SRT_REJ_UNSECURE: the caller set no passphrase (every event needs one). */
  unsecure: 1011,
  /** SRT_REJX_FORBIDDEN (1403): the event's IP allow list refuses the caller's address. */
  forbidden: 1000 + 1403,
  /** SRT_REJX_NOTFOUND (1404): the event is not running (any more). */
  notFound: 1000 + 1404,
  /** SRT_REJX_CONFLICT (1409): the event already has an encoder. */
  conflict: 1000 + 1409,
  /** SRT_REJX_DOWN (1503): the event's receiver did not answer. */
  down: 1000 + 1503,
} as const;

export function isControl(packet: Buffer): boolean {
  return packet.length >= headerBytes && (packet[0] & 0x80) !== 0;
}

/** The control type of a control packet (see `isControl`). */
export function controlTypeOf(packet: Buffer): number {
  return packet.readUInt16BE(0) & 0x7fff;
}

/** The destination socket id of any packet. */
export function destinationSocketOf(packet: Buffer): number {
  return packet.readUInt32BE(12);
}

export interface HandshakeExtension {
  type: number;
  /** The extension's content, a view into the packet. */
  data: Buffer;
}

/** The handshake body's fields the front uses; `extensions` only for HSv5 conclusions. */
export interface Handshake {
  version: number;
  encryption: number;
  extensionField: number;
  type: number;
  socketId: number;
  cookie: number;
  extensions: HandshakeExtension[];
}

export function isHandshake(packet: Buffer): boolean {
  return isControl(packet) && controlTypeOf(packet) === controlType.handshake && packet.length >= headerBytes + handshakeBodyBytes;
}

/** Reads a handshake packet (see `isHandshake`); throws a RangeError on extensions that overrun the packet. */
export function parseHandshake(packet: Buffer): Handshake {
  const handshake: Handshake = {
    version: packet.readUInt32BE(16),
    encryption: packet.readUInt16BE(20),
    extensionField: packet.readUInt16BE(22),
    type: packet.readUInt32BE(36),
    socketId: packet.readUInt32BE(40),
    cookie: packet.readUInt32BE(44),
    extensions: [],
  };
  if (handshake.version < 5 || handshake.type !== handshakeType.conclusion) return handshake;
  // Each extension: 16-bit type, 16-bit length in 32-bit words, content.
  for (let offset = headerBytes + handshakeBodyBytes; offset + 4 <= packet.length;) {
    const type = packet.readUInt16BE(offset);
    const end = offset + 4 + packet.readUInt16BE(offset + 2) * 4;
    if (end > packet.length) throw new RangeError('SRT handshake extension overruns the packet');
    handshake.extensions.push({ type, data: packet.subarray(offset + 4, end) });
    offset = end;
  }
  return handshake;
}

/**
 * The stream id of a conclusion (`SRT_CMD_SID`). libsrt stores the string in 32-bit words in host order and swaps
 * each word to network order on the wire, so on the wire every 4 bytes come reversed; zero bytes pad the end.
 */
export function streamIdOf(handshake: Handshake): string {
  const data = handshake.extensions.find((e) => e.type === extensionType.streamId)?.data;
  if (!data) return '';
  const bytes = Buffer.from(data); // a copy: swapped in place below
  bytes.swap32();
  const end = bytes.indexOf(0);
  return bytes.subarray(0, end < 0 ? bytes.length : end).toString('utf8');
}

/**
 * The listener's answer to an induction request: HSv5, the SRT magic, AES-128 advertised, the SYN cookie the
 * conclusion must echo. Built from the request (libsrt keeps the caller's socket id and sequence number in it).
 */
export function inductionResponse(request: Buffer, cookie: number): Buffer {
  const response = Buffer.from(request.subarray(0, headerBytes + handshakeBodyBytes));
  response.writeUInt32BE(0, 8); // timestamp
  response.writeUInt32BE(request.readUInt32BE(40), 12); // to the caller's socket
  response.writeUInt32BE(5, 16);
  response.writeUInt16BE(2, 20); // AES-128, as libsrt's listener advertises by default; the caller's KMREQ decides
  response.writeUInt16BE(srtMagic, 22);
  response.writeUInt32BE(cookie, 44);
  return response;
}

/** An induction request as a caller would send it, made from its conclusion (the backend needs its own cookie). */
export function inductionRequestFrom(conclusion: Buffer): Buffer {
  const request = Buffer.from(conclusion.subarray(0, headerBytes + handshakeBodyBytes));
  request.writeUInt32BE(0, 12);
  request.writeUInt32BE(4, 16);
  request.writeUInt16BE(0, 20);
  request.writeUInt16BE(2, 22); // what libsrt callers send in an induction
  request.writeUInt32BE(handshakeType.induction, 36);
  request.writeUInt32BE(0, 44);
  return request;
}

/** A rejection of a conclusion: the request's body with the handshake type set to 1000 + reason, no extensions. */
export function rejectionOf(conclusion: Buffer, code: number): Buffer {
  const response = Buffer.from(conclusion.subarray(0, headerBytes + handshakeBodyBytes));
  response.writeUInt32BE(0, 8);
  response.writeUInt32BE(conclusion.readUInt32BE(40), 12);
  response.writeUInt16BE(0, 22);
  response.writeUInt32BE(code, 36);
  return response;
}

/** A shutdown control packet to `socketId` (header + the 4-byte body libsrt sends). */
export function shutdownPacket(socketId: number): Buffer {
  const packet = Buffer.alloc(headerBytes + 4);
  packet.writeUInt16BE(0x8000 | controlType.shutdown, 0);
  packet.writeUInt32BE(socketId, 12);
  return packet;
}
