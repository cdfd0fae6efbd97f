import { keyDeliveryPaths, type ContentKeyType } from '../../../shared/content-protection.js';
import type { EnabledProtocols, EncryptionScheme } from '../../../shared/streaming-policies.js';

type Protocol = 'Hls' | 'Dash' | 'SmoothStreaming';
export interface StreamingPath {
  streamingProtocol: Protocol;
  encryptionScheme: EncryptionScheme;
  paths: string[];
}

/**
 * The manifest options each scheme is played with (§17.3, MK.IO's `encryption=` values), per protocol. Envelope is
 * AES-128 CBC (HLS whole segment; DASH ClearKey `cbc`), CENC is `cenc` everywhere (Smooth too), CBCS is FairPlay's
 * `cbcs-aapl` on HLS and plain `cbcs` on DASH.
 */
const optionsByScheme: Record<EncryptionScheme, Record<Protocol, string[]>> = {
  NoEncryption: { Hls: ['(format=m3u8-cmaf)', '(format=m3u8-aapl)'], Dash: ['(format=mpd-time-cmaf)', '(format=mpd-time-csf)'], SmoothStreaming: [''] },
  EnvelopeEncryption: {
    Hls: ['(format=m3u8-cmaf,encryption=cbc)', '(format=m3u8-aapl,encryption=cbc)'],
    Dash: ['(format=mpd-time-cmaf,encryption=cbc)'],
    SmoothStreaming: [],
  },
  CommonEncryptionCenc: {
    Hls: ['(format=m3u8-cmaf,encryption=cenc)'],
    Dash: ['(format=mpd-time-cmaf,encryption=cenc)'],
    SmoothStreaming: ['(encryption=cenc)'],
  },
  CommonEncryptionCbcs: { Hls: ['(format=m3u8-cmaf,encryption=cbcs-aapl)'], Dash: ['(format=mpd-time-cmaf,encryption=cbcs)'], SmoothStreaming: [] },
};

const enabled: Array<[Protocol, keyof EnabledProtocols]> = [
  ['Hls', 'hls'],
  ['Dash', 'dash'],
  ['SmoothStreaming', 'smoothStreaming'],
];

/** `streamingPaths` of `listPaths` (§13.1) under `base` (`/{locatorId}/{name}.ism/manifest`); download only in the clear. */
export function streamingPathsOf(base: string, schemes: Array<{ scheme: EncryptionScheme; protocols: EnabledProtocols }>) {
  const streamingPaths: StreamingPath[] = [];
  let download = false;
  for (const { scheme, protocols } of schemes) {
    for (const [protocol, flag] of enabled) {
      const options = optionsByScheme[scheme][protocol];
      if (protocols[flag] && options.length)
        streamingPaths.push({ streamingProtocol: protocol, encryptionScheme: scheme, paths: options.map((o) => `${base}${o}`) });
    }
    if (scheme === 'NoEncryption') download ||= protocols.download;
  }
  return { streamingPaths, download };
}

interface DrmUrl {
  licenseAcquisitionUrl: string;
  certificateUrl?: string;
}
type Json = Record<string, unknown>;
const objectAt = (v: unknown): Json | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined);

/**
 * The `drm` section of `listPaths`: per DRM the policy enables, its licence URL. A custom template is given with
 * `{AlternativeMediaId}` filled in (the locator GUID when the locator has none) and `{ContentKeyId}` kept for the
 * player. ClearKey is listed for an envelope block, a block with `clearKeyEncryptionConfiguration`, or a block
 * whose keys Reel's licence server can deliver (`deliverable`: their content key policy has a ClearKey option),
 * as the origin signals it; it falls back to Reel's own licence server (host-less, like the paths). PlayReady,
 * Widevine and FairPlay need a vendor's licence service, so without a template they are not listed.
 */
export function drmOf(
  policy: Json,
  locator: { locatorId: string; alternativeMediaId?: unknown },
  deliverable: ReadonlySet<ContentKeyType> = new Set(),
): Record<string, DrmUrl> {
  const mediaId = typeof locator.alternativeMediaId === 'string' && locator.alternativeMediaId ? locator.alternativeMediaId : locator.locatorId;
  const fill = (template: unknown) => (typeof template === 'string' ? template.replace(/\{AlternativeMediaId\}/g, encodeURIComponent(mediaId)) : undefined);
  const drm: Record<string, DrmUrl> = {};
  let clearKey: string | undefined;
  let hasClearKey = objectAt(policy.envelopeEncryption) !== undefined;
  for (const [block, type] of [
    ['commonEncryptionCenc', 'CommonEncryptionCenc'],
    ['commonEncryptionCbcs', 'CommonEncryptionCbcs'],
  ] as const) {
    const value = objectAt(policy[block]);
    if (!value) continue;
    if (deliverable.has(type)) hasClearKey = true;
    const clear = objectAt(value.clearKeyEncryptionConfiguration);
    if (clear) {
      hasClearKey = true;
      clearKey ??= fill(clear.customKeysAcquisitionUrlTemplate);
    }
    const drms = objectAt(value.drm) ?? {};
    for (const name of ['playReady', 'widevine', 'fairPlay']) {
      const url = fill(objectAt(drms[name])?.customLicenseAcquisitionUrlTemplate);
      if (url && !drm[name]) drm[name] = { licenseAcquisitionUrl: url };
    }
  }
  if (hasClearKey) drm.clearKey = { licenseAcquisitionUrl: clearKey ?? keyDeliveryPaths.clearKey(locator.locatorId) };
  return drm;
}
