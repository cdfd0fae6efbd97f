/**
 * Readers for DRM signalling, written from the specifications and independent of the packager's writers, so
 * tests can take a manifest or init segment apart and check what a player would find: `pssh` boxes (ISO/IEC
 * 23001-7 §8.1), Widevine's `WidevinePsshData` protobuf, the PlayReady Object and its WRMHEADER, and HLS key
 * tags. They assert on anything malformed.
 */
import assert from 'node:assert/strict';
import { XMLParser, XMLValidator } from 'fast-xml-parser';

export const WIDEVINE_SYSTEM_ID = 'edef8ba9-79d6-4ace-a3c8-27dcd51d21ed';
export const PLAYREADY_SYSTEM_ID = '9a04f079-9840-4286-ab92-e65be0885f95';
export const COMMON_SYSTEM_ID = '1077efec-c0b2-4d02-ace3-3c1e52e2fb4b';

function guidString(bytes: Uint8Array): string {
  const hex = Buffer.from(bytes).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export interface ParsedPssh {
  version: number;
  flags: number;
  systemId: string;
  keyIds: string[];
  data: Buffer;
  /** Bytes the box took, header included. */
  size: number;
}

/** Reads one `pssh` box at `offset`. */
export function readPssh(bytes: Uint8Array, offset = 0): ParsedPssh {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const size = b.readUInt32BE(offset);
  assert.ok(size >= 32 && offset + size <= b.length, `pssh size ${size} fits`);
  assert.equal(b.toString('latin1', offset + 4, offset + 8), 'pssh');
  const version = b[offset + 8];
  const flags = b.readUIntBE(offset + 9, 3);
  assert.ok(version === 0 || version === 1, `pssh version ${version}`);
  const systemId = guidString(b.subarray(offset + 12, offset + 28));
  let at = offset + 28;
  const keyIds: string[] = [];
  if (version === 1) {
    const count = b.readUInt32BE(at);
    at += 4;
    for (let i = 0; i < count; i++, at += 16) keyIds.push(guidString(b.subarray(at, at + 16)));
  }
  const dataSize = b.readUInt32BE(at);
  at += 4;
  assert.equal(at + dataSize, offset + size, 'pssh DataSize ends the box');
  return { version, flags, systemId, keyIds, data: Buffer.from(b.subarray(at, at + dataSize)), size };
}

/** Reads back-to-back `pssh` boxes filling `bytes`. */
export function readPsshBoxes(bytes: Uint8Array): ParsedPssh[] {
  const out: ParsedPssh[] = [];
  for (let at = 0; at < bytes.length;) {
    const box = readPssh(bytes, at);
    out.push(box);
    at += box.size;
  }
  return out;
}

export type ProtobufField = { field: number; wireType: 0; value: bigint } | { field: number; wireType: 2; value: Buffer };

/** A minimal protobuf reader: varint (0) and length-delimited (2) fields, which is all WidevinePsshData uses. */
export function decodeProtobuf(bytes: Uint8Array): ProtobufField[] {
  const out: ProtobufField[] = [];
  let at = 0;
  const varint = (): bigint => {
    let value = 0n;
    let shift = 0n;
    for (;;) {
      assert.ok(at < bytes.length, 'varint runs past the end');
      const byte = bytes[at++];
      value |= BigInt(byte & 0x7f) << shift;
      if (!(byte & 0x80)) return value;
      shift += 7n;
      assert.ok(shift < 70n, 'varint too long');
    }
  };
  while (at < bytes.length) {
    const tag = Number(varint());
    const field = tag >> 3;
    const wireType = tag & 7;
    if (wireType === 0) out.push({ field, wireType, value: varint() });
    else if (wireType === 2) {
      const length = Number(varint());
      assert.ok(at + length <= bytes.length, `field ${field} overruns the message`);
      out.push({ field, wireType, value: Buffer.from(bytes.subarray(at, at + length)) });
      at += length;
    } else assert.fail(`unexpected wire type ${wireType} for field ${field}`);
  }
  return out;
}

export interface WidevinePsshData {
  keyIds: string[];
  contentId?: string;
  /** `protection_scheme` as its FourCC (`cenc`, `cbcs`). */
  protectionScheme?: string;
  /** Field numbers seen, in order. */
  fields: number[];
}

/** Decodes `WidevinePsshData`: key_ids = 2, content_id = 4, protection_scheme = 9. */
export function decodeWidevinePsshData(bytes: Uint8Array): WidevinePsshData {
  const out: WidevinePsshData = { keyIds: [], fields: [] };
  for (const f of decodeProtobuf(bytes)) {
    out.fields.push(f.field);
    if (f.field === 2 && f.wireType === 2) {
      assert.equal(f.value.length, 16, 'key_id is 16 bytes');
      out.keyIds.push(guidString(f.value));
    } else if (f.field === 4 && f.wireType === 2) out.contentId = f.value.toString('utf8');
    else if (f.field === 9 && f.wireType === 0) {
      const fourcc = Buffer.alloc(4);
      fourcc.writeUInt32BE(Number(f.value));
      out.protectionScheme = fourcc.toString('latin1');
    }
  }
  return out;
}

/** A PlayReady KID as the header writes it (base64 of the GUID with Data1–Data3 little-endian) → GUID string. */
export function playReadyKidToGuid(base64: string): string {
  const b = Buffer.from(base64, 'base64');
  assert.equal(b.length, 16, 'PlayReady KID is 16 bytes');
  return guidString(Buffer.from([b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6], ...b.subarray(8)]));
}

export interface WrmHeader {
  version: string;
  keys: Array<{ keyId: string; algId: string }>;
  laUrl?: string;
  /** The inner XML of CUSTOMATTRIBUTES as written. */
  customAttributesXml?: string;
  xml: string;
}

const xmlParser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', parseTagValue: false, isArray: (name) => name === 'KID' });

/** Parses the PlayReady Object (little-endian length, record count, records) and the WRMHEADER of its type-1 record. */
export function readPlayReadyObject(bytes: Uint8Array): WrmHeader {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  assert.equal(b.readUInt32LE(0), b.length, 'PRO Length is the whole object');
  const count = b.readUInt16LE(4);
  let at = 6;
  let xml: string | undefined;
  for (let i = 0; i < count; i++) {
    const type = b.readUInt16LE(at);
    const length = b.readUInt16LE(at + 2);
    at += 4;
    assert.ok(at + length <= b.length, 'PRO record fits');
    if (type === 1) xml = b.toString('utf16le', at, at + length);
    at += length;
  }
  assert.equal(at, b.length, 'PRO records fill the object');
  assert.ok(xml, 'a Rights Management Header record');
  return parseWrmHeader(xml);
}

/** Parses a WRMHEADER (versions 4.0–4.3) into its key ids, algorithm, LA_URL and custom attributes. */
export function parseWrmHeader(xml: string): WrmHeader {
  assert.equal(XMLValidator.validate(xml), true, 'WRMHEADER is well-formed XML');
  assert.doesNotMatch(xml, /\/>/, 'every PlayReady header element has a closing tag');
  const root = (xmlParser.parse(xml) as { WRMHEADER: Record<string, unknown> }).WRMHEADER;
  assert.equal(root['@xmlns'], 'http://schemas.microsoft.com/DRM/2007/03/PlayReadyHeader');
  const version = root['@version'] as string;
  const data = root.DATA as Record<string, unknown>;
  const protect = data.PROTECTINFO as Record<string, unknown>;
  const keys: WrmHeader['keys'] = [];
  if (version === '4.0.0.0') {
    assert.equal(protect.KEYLEN, '16');
    const kids = data.KID as string[];
    assert.equal(kids.length, 1);
    keys.push({ keyId: playReadyKidToGuid(kids[0]), algId: protect.ALGID as string });
  } else {
    const holder = version === '4.1.0.0' ? protect : (protect.KIDS as Record<string, unknown>);
    for (const kid of holder.KID as Array<Record<string, string>>) keys.push({ keyId: playReadyKidToGuid(kid['@VALUE']), algId: kid['@ALGID'] });
    // Attributes in alphabetical order (PlayReady Header Specification, syntax requirements).
    for (const m of xml.matchAll(/<KID ([^>]*)>/g)) {
      const names = [...m[1].matchAll(/([A-Z]+)="/g)].map((n) => n[1]);
      assert.deepEqual(names, [...names].sort());
    }
  }
  const laUrl = typeof data.LA_URL === 'string' ? data.LA_URL : undefined;
  const custom = /<CUSTOMATTRIBUTES>([\s\S]*)<\/CUSTOMATTRIBUTES>/.exec(xml)?.[1];
  return { version, keys, laUrl: laUrl?.replace(/&amp;/g, '&'), customAttributesXml: custom, xml };
}

/** An HLS attribute-list (RFC 8216 §4.2), values as written (quoted strings keep their quotes). */
export function parseHlsAttributes(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const re = /([A-Z0-9-]+)=("[^"\r\n]*"|[^",\s]+)(,|$)/y;
  let at = 0;
  while (at < text.length) {
    re.lastIndex = at;
    const m = re.exec(text);
    assert.ok(m, `bad attribute-list at '${text.slice(at, at + 40)}'`);
    assert.ok(!out.has(m[1]), `attribute ${m[1]} twice`);
    out.set(m[1], m[2]);
    at = re.lastIndex;
  }
  return out;
}

export interface HlsKey {
  method: string;
  uri: string;
  keyFormat: string;
  keyFormatVersions?: string;
  keyId?: string;
  iv?: string;
  /** What the key names, decoded: the key id(s) it is for, where the format carries them. */
  keyIds: string[];
  /** Widevine/PlayReady: the decoded header. */
  widevine?: WidevinePsshData;
  playReady?: WrmHeader;
}

const unquote = (value: string | undefined): string | undefined => {
  if (value === undefined) return undefined;
  assert.match(value, /^"[^"\r\n]*"$/, 'a quoted-string');
  return value.slice(1, -1);
};

/**
 * Parses and checks the attribute-list of an `EXT-X-KEY` or `EXT-X-SESSION-KEY` (RFC 8216 §4.3.2.4): METHOD
 * known, URI present, KEYFORMAT defaulting to identity, and the `data:` URIs of Widevine (a PSSH box) and
 * PlayReady (a PlayReady Object) decoded.
 */
export function parseHlsKey(attributes: string): HlsKey {
  const a = parseHlsAttributes(attributes);
  for (const k of a.keys()) assert.ok(['METHOD', 'URI', 'IV', 'KEYFORMAT', 'KEYFORMATVERSIONS', 'KEYID'].includes(k), `unexpected key attribute ${k}`);
  const method = a.get('METHOD') as string;
  assert.ok(['AES-128', 'SAMPLE-AES', 'SAMPLE-AES-CTR'].includes(method), `METHOD ${method}`);
  const uri = unquote(a.get('URI'));
  assert.ok(uri, 'URI present');
  const key: HlsKey = {
    method,
    uri,
    keyFormat: unquote(a.get('KEYFORMAT')) ?? 'identity',
    keyFormatVersions: unquote(a.get('KEYFORMATVERSIONS')),
    keyId: a.get('KEYID'),
    iv: a.get('IV'),
    keyIds: [],
  };
  if (key.keyFormatVersions !== undefined) assert.match(key.keyFormatVersions, /^\d+(\/\d+)*$/);
  if (key.keyFormat === `urn:uuid:${WIDEVINE_SYSTEM_ID}`) {
    const m = /^data:text\/plain;base64,([A-Za-z0-9+/=]+)$/.exec(uri);
    assert.ok(m, 'Widevine URI is a base64 data URI');
    const pssh = readPssh(Buffer.from(m[1], 'base64'));
    assert.equal(pssh.systemId, WIDEVINE_SYSTEM_ID);
    key.widevine = decodeWidevinePsshData(pssh.data);
    key.keyIds = key.widevine.keyIds;
    if (key.keyId) assert.equal(key.keyId, `0x${key.keyIds[0].replace(/-/g, '')}`);
  } else if (key.keyFormat === 'com.microsoft.playready') {
    const m = /^data:text\/plain;charset=UTF-16;base64,([A-Za-z0-9+/=]+)$/.exec(uri);
    assert.ok(m, 'PlayReady URI is a UTF-16 base64 data URI');
    key.playReady = readPlayReadyObject(Buffer.from(m[1], 'base64'));
    key.keyIds = key.playReady.keys.map((k) => k.keyId);
  } else if (key.keyFormat === 'com.apple.streamingkeydelivery') {
    assert.match(uri, /^skd:\/\//);
    assert.equal(method, 'SAMPLE-AES', 'FairPlay is cbcs');
  } else assert.equal(key.keyFormat, 'identity', `KEYFORMAT ${key.keyFormat}`);
  return key;
}
