/**
 * The DRM headers a `ManifestProtection` calls for, for one set of key ids: built once per protection object and
 * key set, then shared by every manifest written with it and by the init segments (`initSegmentPsshBoxes`).
 */
import type { ManifestProtection } from '../mux/manifest/manifest-context.js';
import { InternalError } from '../../../shared/errors.js';
import { commonPssh, playReadyObject, psshBox, systemIds, widevinePssh, type CommonEncryptionScheme } from './drm-headers.js';

/** Base64 (and bytes) of each header; a DRM's fields are absent when the protection does not offer that DRM. */
export interface ProtectionHeaders {
  /** W3C common PSSH (v1, key ids): always present, it is what the ClearKey CDM and EME `keyids` readers need. */
  commonPssh: Buffer;
  widevinePssh?: Buffer;
  playReadyObject?: Buffer;
  playReadyPssh?: Buffer;
}

const cache = new WeakMap<ManifestProtection, Map<string, ProtectionHeaders>>();

/**
 * The headers for `keyIds` (usually one: a track's key). Throws `InternalError` for `aes-128`, which has none.
 */
export function protectionHeaders(protection: ManifestProtection, keyIds: readonly string[]): ProtectionHeaders {
  let byKeys = cache.get(protection);
  if (!byKeys) {
    byKeys = new Map();
    cache.set(protection, byKeys);
  }
  const cacheKey = keyIds.join(',');
  const hit = byKeys.get(cacheKey);
  if (hit) return hit;
  const scheme = commonScheme(protection);
  const headers: ProtectionHeaders = { commonPssh: commonPssh(keyIds) };
  if (protection.widevine) {
    const contentId = protection.widevine.contentId ? Buffer.from(protection.widevine.contentId, 'utf8') : undefined;
    headers.widevinePssh = widevinePssh(keyIds, scheme, contentId);
  }
  if (protection.playReady) {
    const pro = playReadyObject({ keyIds, scheme, licenseUrl: protection.playReady.licenseUrl, customAttributes: protection.playReady.customAttributes });
    headers.playReadyObject = pro;
    headers.playReadyPssh = psshBox(systemIds.playReady, 0, [], pro);
  }
  byKeys.set(cacheKey, headers);
  return headers;
}

function commonScheme(protection: ManifestProtection): CommonEncryptionScheme {
  if (protection.scheme === 'aes-128') throw new InternalError('InternalError', 'AES-128 envelope encryption has no DRM headers');
  return protection.scheme;
}

/**
 * The `pssh` boxes for an init segment's `moov` whose track is encrypted with `keyId`: Widevine, PlayReady (when
 * offered) and the W3C common PSSH, one complete box each, in that order (`TrackEncryption.pssh`).
 */
export function initSegmentPsshBoxList(protection: ManifestProtection, keyId: string): Buffer[] {
  const h = protectionHeaders(protection, [keyId]);
  const boxes: Buffer[] = [];
  if (h.widevinePssh) boxes.push(h.widevinePssh);
  if (h.playReadyPssh) boxes.push(h.playReadyPssh);
  boxes.push(h.commonPssh);
  return boxes;
}

/** The same boxes concatenated, as they appear in the `moov`. */
export function initSegmentPsshBoxes(protection: ManifestProtection, keyId: string): Buffer {
  const boxes = initSegmentPsshBoxList(protection, keyId);
  return boxes.length === 1 ? boxes[0] : Buffer.concat(boxes);
}
