/**
 * The `ManifestProtection` a locator's manifests are written with: which key protects each track, and the
 * key and licence URLs players are pointed at (the policy's templates, else Reel's own key delivery). One
 * object per locator, scheme and host is kept and reused, so the DRM headers built from it are built once.
 */
import { keyDeliveryPaths } from '../../shared/content-protection.js';
import { ForbiddenError } from '../../shared/errors.js';
import { TtlCache } from '../../shared/ttl-cache.js';
import { initSegmentPsshBoxList, type ManifestProtection, type PresentationTrack, type TrackEncryption, type TrackIndex } from '../packager/index.js';
import type { ResolvedLocator } from './playback-resolver.js';
import { fillUrlTemplate, keyForTrack, type ProtectionChoice } from './protection-plan.js';

interface DrmBlock {
  playReady?: { customLicenseAcquisitionUrlTemplate?: string | null; playReadyCustomAttributes?: string | null } | null;
  widevine?: { customLicenseAcquisitionUrlTemplate?: string | null } | null;
  fairPlay?: { customLicenseAcquisitionUrlTemplate?: string | null } | null;
}

// Same lifetime as the resolver's locator cache: a protection never outlives the locator view it came from.
const protections = new TtlCache<string, ManifestProtection>({ ttlMs: 2000, max: 10_000 });

/**
 * The protection for `resolved` under `choice`, with absolute URLs on `baseUrl` (`https://host`). Throws 403
 * when the locator has no content keys (created before its policy encrypted, or keys unreadable).
 */
export function manifestProtectionFor(choice: ProtectionChoice, resolved: ResolvedLocator, baseUrl: string): ManifestProtection {
  const cacheKey = `${resolved.locator.locator_id}|${choice.keyType}|${choice.sample}|${baseUrl}`;
  const hit = protections.get(cacheKey);
  if (hit) return hit;
  const made = build(choice, resolved, baseUrl);
  protections.set(cacheKey, made);
  return made;
}

const trackEncryptions = new WeakMap<ManifestProtection, Map<string, TrackEncryption>>();

/**
 * How `track`'s segments are encrypted under `protection` (from `manifestProtectionFor`), or undefined when the
 * track is clear. One object per protection and key, so the segment path's per-object caches hit.
 */
export function trackEncryptionFor(
  choice: ProtectionChoice,
  resolved: ResolvedLocator,
  protection: ManifestProtection,
  track: PresentationTrack,
): TrackEncryption | undefined {
  const keys = resolved.protection;
  if (!keys) throw noKeys(resolved);
  const key = keyForTrack(choice, keys.keys, track.track);
  if (!key) return undefined;
  let byKey = trackEncryptions.get(protection);
  if (!byKey) trackEncryptions.set(protection, (byKey = new Map()));
  let encryption = byKey.get(key.id);
  if (!encryption) {
    encryption = {
      scheme: choice.sample,
      keyId: Buffer.from(key.id.replaceAll('-', ''), 'hex'),
      key: key.value,
      // The DRM headers (Widevine, PlayReady, W3C common) the manifests signal, also in the init segment: one
      // complete box per element, as withPssh checks.
      ...(choice.sample === 'aes-128' ? {} : { pssh: initSegmentPsshBoxList(protection, key.id) }),
    };
    byKey.set(key.id, encryption);
  }
  return encryption;
}

function noKeys(resolved: ResolvedLocator): ForbiddenError {
  return new ForbiddenError(
    'ContentKeysUnavailable',
    `Streaming locator '${resolved.locator.name}' has no content keys for its policy '${resolved.locator.policy_name}'; create the locator again`,
  );
}

function build(choice: ProtectionChoice, resolved: ResolvedLocator, baseUrl: string): ManifestProtection {
  const protection = resolved.protection;
  if (!protection) throw noKeys(resolved);
  const locatorId = resolved.locator.locator_id;
  const alternativeMediaId = protection.alternativeMediaId ?? locatorId;
  const { block, keyType, sample } = choice;
  const keyIds = new Map<TrackIndex, string | undefined>();
  const keyIdOf = (track: PresentationTrack) => {
    if (!keyIds.has(track.track)) keyIds.set(track.track, keyForTrack(choice, protection.keys, track.track)?.id);
    return keyIds.get(track.track);
  };
  const keysOfType = protection.keys.filter((k) => k.type === keyType);
  // A licence URL template names one key: the default one (first of the scheme) when a template has {ContentKeyId}.
  const firstKeyId = keysOfType[0]?.id ?? '';
  const fill = (template: string | null | undefined) => (template ? fillUrlTemplate(template, firstKeyId, alternativeMediaId) : undefined);
  const deliverable = keysOfType.some((k) => k.policyName !== undefined && protection.clearKeyPolicies.has(k.policyName));
  const clearKeyConfig = block.clearKeyEncryptionConfiguration as { customKeysAcquisitionUrlTemplate?: string | null } | null | undefined;
  const envelopeTemplate = keyType === 'EnvelopeEncryption' ? (block.customKeyAcquisitionUrlTemplate as string | null | undefined) : undefined;
  const drm = (block.drm ?? {}) as DrmBlock;

  const out: ManifestProtection = { scheme: sample, keyIdOf };
  // The raw-key URL: HLS AES-128, and the `identity` key Shaka feeds to the ClearKey CDM for CENC/CBCS HLS.
  if (sample === 'aes-128' || deliverable || clearKeyConfig)
    out.keyUrl = (keyId) =>
      envelopeTemplate ? fillUrlTemplate(envelopeTemplate, keyId, alternativeMediaId) : `${baseUrl}${keyDeliveryPaths.aes(locatorId, keyId)}`;
  if (sample !== 'aes-128' && (keyType === 'EnvelopeEncryption' || clearKeyConfig || deliverable))
    out.clearKey = { licenseUrl: fill(clearKeyConfig?.customKeysAcquisitionUrlTemplate) ?? `${baseUrl}${keyDeliveryPaths.clearKey(locatorId)}` };
  if (sample !== 'aes-128' && drm.widevine) {
    const licenseUrl = fill(drm.widevine.customLicenseAcquisitionUrlTemplate);
    const contentId = resolved.locatorExtra.contentId;
    out.widevine = { ...(licenseUrl ? { licenseUrl } : {}), ...(typeof contentId === 'string' ? { contentId } : {}) };
  }
  if (sample !== 'aes-128' && drm.playReady) {
    const licenseUrl = fill(drm.playReady.customLicenseAcquisitionUrlTemplate);
    const customAttributes = drm.playReady.playReadyCustomAttributes ?? undefined;
    out.playReady = { ...(licenseUrl ? { licenseUrl } : {}), ...(customAttributes ? { customAttributes } : {}) };
  }
  if (sample === 'cbcs' && drm.fairPlay) {
    const template = drm.fairPlay.customLicenseAcquisitionUrlTemplate;
    out.fairPlay = { keyUri: (keyId) => (template ? fillUrlTemplate(template, keyId, alternativeMediaId).replace(/^https?:/, 'skd:') : `skd://${keyId}`) };
  }
  return out;
}
