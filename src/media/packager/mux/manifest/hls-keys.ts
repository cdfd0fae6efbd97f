/**
 * HLS key tags (`EXT-X-KEY`, `EXT-X-SESSION-KEY`), shared by the media playlists (hls.ts) and the I-frame
 * playlists (hls-iframes.ts): one key is signalled the same way in both.
 */
import { InternalError } from '../../../../shared/errors.js';
import { systemIds } from '../../encrypt/drm-headers.js';
import { protectionHeaders } from '../../encrypt/protection-headers.js';
import type { ManifestContext, ManifestProtection } from './manifest-context.js';

/** A quoted-string may not hold `"`, CR or LF (RFC 8216 §4.2); names come from files, so make sure. */
export function quoted(text: string): string {
  return `"${text.replace(/["\r\n]/g, "'")}"`;
}

const keyMethods = { 'aes-128': 'AES-128', cenc: 'SAMPLE-AES-CTR', cbcs: 'SAMPLE-AES' } as const;

/**
 * The attribute lists of the key tags for one key (RFC 8216 §4.3.2.4; one tag per KEYFORMAT, the client uses one
 * it supports), DRMs before ClearKey so that a player able to use both picks the DRM:
 * - AES-128: the key URL and no IV, so the IV is the media sequence number (§5.2), which is the segment's index
 *   since playlists start at `EXT-X-MEDIA-SEQUENCE:{index of the first segment}` (0 unless filtered): the segment
 *   encryptor relies on that.
 * - FairPlay (`cbcs`): `skd://` URI, `com.apple.streamingkeydelivery`.
 * - Widevine (CMAF only): the PSSH box as a `data:` URI and `KEYID`, the form Shaka Player and ExoPlayer read.
 * - PlayReady (CMAF only): the PlayReady Object as a `data:…;charset=UTF-16;base64` URI (Microsoft's form, which
 *   Shaka Player turns back into a PSSH and reads `LA_URL` from).
 * - ClearKey: `KEYFORMAT="identity"` with the raw-key URL. Shaka Player (lib/hls/hls_parser.js,
 *   identityDrmParser_) fetches those 16 bytes, takes the key id from the init segment's `tenc`, and hands both
 *   to the `org.w3.clearkey` CDM for SAMPLE-AES-CTR (cenc) and SAMPLE-AES (cbcs) alike; it reads no ClearKey
 *   licence server from HLS. So HLS ClearKey is `keyUrl` (Reel's `/keydelivery/{locatorId}/aes/{keyId}`), not
 *   the JSON licence endpoint DASH uses.
 */
export function keyAttributeLists(protection: ManifestProtection, keyId: string, ctx: ManifestContext): string[] {
  const method = keyMethods[protection.scheme];
  if (protection.scheme === 'aes-128') {
    if (!protection.keyUrl) throw new InternalError('InternalError', 'AES-128 protection needs a key URL');
    return [`METHOD=AES-128,URI=${quoted(protection.keyUrl(keyId))}`];
  }
  const cmaf = ctx.format === 'm3u8-cmaf';
  if (!cmaf && protection.scheme === 'cenc') {
    throw new InternalError('UnsupportedEncryption', 'MPEG-TS segments cannot carry CENC (AES-CTR); use CMAF or cbcs');
  }
  const lists: string[] = [];
  const versions = 'KEYFORMATVERSIONS="1"';
  if (protection.scheme === 'cbcs' && protection.fairPlay) {
    lists.push(`METHOD=${method},URI=${quoted(protection.fairPlay.keyUri(keyId))},KEYFORMAT="com.apple.streamingkeydelivery",${versions}`);
  }
  if (cmaf && (protection.widevine || protection.playReady)) {
    const headers = protectionHeaders(protection, [keyId]);
    if (headers.widevinePssh) {
      lists.push(
        `METHOD=${method},URI="data:text/plain;base64,${headers.widevinePssh.toString('base64')}",KEYID=0x${keyId.replace(/-/g, '')},` +
          `KEYFORMAT="urn:uuid:${systemIds.widevine}",${versions}`,
      );
    }
    if (headers.playReadyObject) {
      lists.push(
        `METHOD=${method},URI="data:text/plain;charset=UTF-16;base64,${headers.playReadyObject.toString('base64')}",KEYFORMAT="com.microsoft.playready",${versions}`,
      );
    }
  }
  if (protection.clearKey && protection.keyUrl) lists.push(`METHOD=${method},URI=${quoted(protection.keyUrl(keyId))},KEYFORMAT="identity",${versions}`);
  // No line would make an encrypted playlist look clear to every player: a caller's mistake, said loudly.
  if (lists.length === 0) {
    throw new InternalError(
      'UnsupportedEncryption',
      `No key format can signal ${protection.scheme} in ${ctx.format} with this protection (no DRM or ClearKey key URL)`,
    );
  }
  return lists;
}
