/**
 * DRM system headers: the bytes a player hands its CDM to ask for a licence, carried in the init segment's `moov`
 * (`pssh` boxes) and repeated in manifests (DASH `cenc:pssh`/`mspr:pro`, HLS `data:` URIs, Smooth
 * `ProtectionHeader`).
 *
 * - `pssh` box (ISO/IEC 23001-7 §8.1): v0 carries system-specific data only; v1 also lists the key ids.
 * - W3C common PSSH (system 1077efec-…, "W3C EME Common PSSH box format"): v1 with the key ids and no data, the
 *   init data the ClearKey CDM reads key ids from.
 * - Widevine (system edef8ba9-…): v0 whose data is the `WidevinePsshData` protobuf. Only `key_ids` (field 2) and
 *   `protection_scheme` (field 9, the scheme FourCC as an integer) are written, plus `content_id` (field 4) when
 *   the caller has one: that is all a licence service needs to find the keys.
 * - PlayReady (system 9a04f079-…): v0 whose data is the PlayReady Object (PRO): little-endian length and record
 *   count, then one record of type 1 holding the WRMHEADER XML in UTF-16LE (PlayReady Header Specification).
 *   `cenc` with one key writes header 4.0.0.0 (read by every PlayReady client), `cenc` with several keys 4.2.0.0
 *   (`KIDS`), `cbcs` 4.3.0.0 (`ALGID="AESCBC"`, PlayReady 4+). Key ids are GUIDs in PlayReady's byte order (the
 *   first three fields little-endian), base64. Attributes are in alphabetical order and every element has a
 *   closing tag, as the specification requires.
 */
import { InternalError } from '../../../shared/errors.js';

/** DRM system ids (DASH-IF registry), lower-case GUIDs. */
export const systemIds = {
  common: '1077efec-c0b2-4d02-ace3-3c1e52e2fb4b',
  widevine: 'edef8ba9-79d6-4ace-a3c8-27dcd51d21ed',
  playReady: '9a04f079-9840-4286-ab92-e65be0885f95',
  clearKeyDash: 'e2719d58-a985-b3c9-781a-b030af78d30e',
} as const;

export type CommonEncryptionScheme = 'cenc' | 'cbcs';

const guidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The 16 bytes of a GUID in its written (big-endian) order, as `tenc`, `pssh` KIDs and `default_KID` use them. */
export function guidBytes(guid: string): Buffer {
  if (!guidPattern.test(guid)) throw new InternalError('InvalidKeyId', 'A key id must be a GUID');
  return Buffer.from(guid.replace(/-/g, ''), 'hex');
}

/** A GUID in PlayReady's byte order: Data1 (4 bytes), Data2 and Data3 (2 bytes each) little-endian, Data4 as is. */
export function playReadyGuidBytes(guid: string): Buffer {
  const b = guidBytes(guid);
  return Buffer.from([b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6], ...b.subarray(8)]);
}

/**
 * A `pssh` box (ISO/IEC 23001-7 §8.1.1). Version 1 lists `keyIds` before the data; version 0 must be given none.
 *
 * @example psshBox(systemIds.common, 1, ['…kid…'], new Uint8Array(0)) // the W3C common PSSH for ClearKey
 */
export function psshBox(systemId: string, version: 0 | 1, keyIds: readonly string[], data: Uint8Array): Buffer {
  if (version === 0 && keyIds.length > 0) throw new InternalError('InternalError', 'A version 0 pssh box carries no key ids');
  const size = 32 + (version === 1 ? 4 + 16 * keyIds.length : 0) + data.length;
  const out = Buffer.alloc(size);
  let at = out.writeUInt32BE(size, 0);
  at += out.write('pssh', at, 'latin1');
  at = out.writeUInt32BE(version << 24, at);
  at += guidBytes(systemId).copy(out, at);
  if (version === 1) {
    at = out.writeUInt32BE(keyIds.length, at);
    for (const kid of keyIds) at += guidBytes(kid).copy(out, at);
  }
  at = out.writeUInt32BE(data.length, at);
  Buffer.from(data.buffer, data.byteOffset, data.byteLength).copy(out, at);
  return out;
}

/** The W3C common PSSH: v1, the key ids, no data. */
export function commonPssh(keyIds: readonly string[]): Buffer {
  return psshBox(systemIds.common, 1, keyIds, new Uint8Array(0));
}

function varint(value: number, out: number[]): void {
  let v = value;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
}

/** A length-delimited protobuf field (wire type 2). */
function bytesField(field: number, bytes: Uint8Array, out: number[]): void {
  varint((field << 3) | 2, out);
  varint(bytes.length, out);
  for (const b of bytes) out.push(b);
}

/**
 * `WidevinePsshData` (Widevine's `widevine_pssh.proto`): `key_ids` (2, bytes, repeated), `content_id` (4, bytes)
 * when given, `protection_scheme` (9, uint32: the FourCC read big-endian, `'cenc'` = 0x63656e63).
 */
export function widevinePsshData(keyIds: readonly string[], scheme: CommonEncryptionScheme, contentId?: Uint8Array): Buffer {
  const out: number[] = [];
  for (const kid of keyIds) bytesField(2, guidBytes(kid), out);
  if (contentId && contentId.length > 0) bytesField(4, contentId, out);
  varint((9 << 3) | 0, out);
  varint(Buffer.from(scheme, 'latin1').readUInt32BE(0), out);
  return Buffer.from(out);
}

/** The Widevine `pssh` box: v0, the `WidevinePsshData` as its data. */
export function widevinePssh(keyIds: readonly string[], scheme: CommonEncryptionScheme, contentId?: Uint8Array): Buffer {
  return psshBox(systemIds.widevine, 0, [], widevinePsshData(keyIds, scheme, contentId));
}

export interface PlayReadyHeaderOptions {
  keyIds: readonly string[];
  scheme: CommonEncryptionScheme;
  /** Absolute licence acquisition URL (`LA_URL`); players without one configured use it. */
  licenseUrl?: string;
  /** The streaming policy's `playReadyCustomAttributes`: inside `CUSTOMATTRIBUTES`, escaped unless well-formed XML. */
  customAttributes?: string;
}

function escapeXmlText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

/**
 * True when `text` is element content PlayReady accepts verbatim: elements with explicit closing tags (no
 * self-closing, as the header's syntax rules ask), quoted attributes, text and the predefined or numeric entity
 * references; no comments, CDATA, processing instructions or DTD. AMS customers wrote `<CONTENTID>…</CONTENTID>`.
 */
function isSimpleXmlContent(text: string): boolean {
  const token = /<(\/?)([A-Za-z_][\w.-]*)((?:\s+[A-Za-z_][\w.-]*="[^"<&]*")*)\s*>|[^<&]+|&(?:amp|lt|gt|quot|apos|#\d{1,7}|#x[0-9a-fA-F]{1,6});/y;
  const open: string[] = [];
  let at = 0;
  while (at < text.length) {
    token.lastIndex = at;
    const m = token.exec(text);
    if (!m) return false;
    at = token.lastIndex;
    if (m[2] === undefined) continue;
    if (m[1] === '') open.push(m[2]);
    else if (m[3] !== '' || open.pop() !== m[2]) return false;
  }
  return open.length === 0;
}

/** The WRMHEADER XML (see the module comment for the version chosen). */
export function playReadyHeaderXml(options: PlayReadyHeaderOptions): string {
  const { keyIds, scheme } = options;
  if (keyIds.length === 0) throw new InternalError('InternalError', 'A PlayReady header needs at least one key id');
  const kid = (id: string) => playReadyGuidBytes(id).toString('base64');
  let extra = '';
  if (options.licenseUrl) extra += `<LA_URL>${escapeXmlText(options.licenseUrl)}</LA_URL>`;
  const custom = options.customAttributes;
  if (custom) extra += `<CUSTOMATTRIBUTES>${isSimpleXmlContent(custom) ? custom : escapeXmlText(custom)}</CUSTOMATTRIBUTES>`;
  const ns = 'http://schemas.microsoft.com/DRM/2007/03/PlayReadyHeader';
  if (scheme === 'cenc' && keyIds.length === 1) {
    return (
      `<WRMHEADER xmlns="${ns}" version="4.0.0.0"><DATA><PROTECTINFO><KEYLEN>16</KEYLEN><ALGID>AESCTR</ALGID></PROTECTINFO>` +
      `<KID>${kid(keyIds[0])}</KID>${extra}</DATA></WRMHEADER>`
    );
  }
  const algid = scheme === 'cbcs' ? 'AESCBC' : 'AESCTR';
  const version = scheme === 'cbcs' ? '4.3.0.0' : '4.2.0.0';
  const kids = keyIds.map((id) => `<KID ALGID="${algid}" VALUE="${kid(id)}"></KID>`).join('');
  return `<WRMHEADER xmlns="${ns}" version="${version}"><DATA><PROTECTINFO><KIDS>${kids}</KIDS></PROTECTINFO>${extra}</DATA></WRMHEADER>`;
}

/** The PlayReady Object: `Length` (u32 LE, whole object), `Record Count` (u16 LE), one type-1 record (u16 LE type and length). */
export function playReadyObject(options: PlayReadyHeaderOptions): Buffer {
  const xml = Buffer.from(playReadyHeaderXml(options), 'utf16le');
  if (xml.length > 0xffff) throw new InternalError('InternalError', 'The PlayReady header is longer than a PRO record can hold');
  const out = Buffer.alloc(10 + xml.length);
  out.writeUInt32LE(out.length, 0);
  out.writeUInt16LE(1, 4);
  out.writeUInt16LE(1, 6);
  out.writeUInt16LE(xml.length, 8);
  xml.copy(out, 10);
  return out;
}

/** The PlayReady `pssh` box: v0, the PRO as its data. */
export function playReadyPssh(options: PlayReadyHeaderOptions): Buffer {
  return psshBox(systemIds.playReady, 0, [], playReadyObject(options));
}
