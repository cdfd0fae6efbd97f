/**
 * Which protection a playback request gets: the streaming policy's scheme blocks (§12), the URL's
 * `encryption=` selector (§17.3) and the output format decide the scheme; the locator's content keys and the
 * policy's clear tracks and key-to-track mappings decide each track's key. Pure: no I/O.
 *
 * Selectors, per protocol (Reel's reading of AMS's table, docs/MKIO-DIFFERENCES.md):
 * | `encryption=` | policy block          | HLS                         | DASH                     | Smooth |
 * |---------------|-----------------------|-----------------------------|--------------------------|--------|
 * | `cbc`         | envelopeEncryption    | AES-128 (TS or CMAF)        | CENC samples + ClearKey  | —      |
 * | `cenc`        | commonEncryptionCenc  | CENC, CMAF only             | CENC                     | CENC   |
 * | `cbcs-aapl`, `cbcs` | commonEncryptionCbcs | CBCS, CMAF only         | CBCS                     | —      |
 * | `piff`        | commonEncryptionCenc  | —                           | —                        | CENC   |
 * Without a selector: clear when `noEncryption` enables the protocol, else the one encrypted block that does;
 * two or more → 400, as AMS answered (`…_NOT_SPECIFIED_IN_URL`).
 */
import { BadRequestError, ForbiddenError } from '../../shared/errors.js';
import type { ContentKey, ContentKeyType } from '../../shared/content-protection.js';
import type { EnabledProtocols } from '../../shared/streaming-policies.js';
import type { ManifestEncryption, ManifestFormat, StreamingProtocol, TrackIndex } from '../packager/index.js';

/** How samples are protected: whole-segment AES-128-CBC (HLS envelope), or ISO/IEC 23001-7 `cenc`/`cbcs`. */
export type SampleScheme = 'aes-128' | 'cenc' | 'cbcs';

/** The protection a request gets. */
export interface ProtectionChoice {
  keyType: ContentKeyType;
  sample: SampleScheme;
  /** The policy's block for `keyType` (enabledProtocols, clearTracks, contentKeys, drm…), as stored. */
  block: PolicyBlock;
}

/** One encryption block of a streaming policy, the fields read here. */
export interface PolicyBlock {
  enabledProtocols?: Partial<EnabledProtocols>;
  clearTracks?: TrackSelection[];
  contentKeys?: {
    defaultKey?: { label?: string | null; policyName?: string | null } | null;
    keyToTrackMappings?: Array<{ label?: string | null; policyName?: string | null; tracks?: TrackSelection[] | null }> | null;
  } | null;
  [field: string]: unknown;
}
interface TrackSelection {
  trackSelections?: Array<{ property?: string; operation?: string; value?: string | null }> | null;
}

const blockOf: Record<ContentKeyType, string> = {
  EnvelopeEncryption: 'envelopeEncryption',
  CommonEncryptionCenc: 'commonEncryptionCenc',
  CommonEncryptionCbcs: 'commonEncryptionCbcs',
};
const selectorKeyType: Record<ManifestEncryption, ContentKeyType> = {
  cbc: 'EnvelopeEncryption',
  cenc: 'CommonEncryptionCenc',
  cbcs: 'CommonEncryptionCbcs',
  'cbcs-aapl': 'CommonEncryptionCbcs',
  piff: 'CommonEncryptionCenc',
};
const protocolNames: Record<StreamingProtocol, string> = { hls: 'HLS', dash: 'DASH', smoothStreaming: 'Smooth Streaming' };
const selectorsOf: Record<ContentKeyType, string> = { EnvelopeEncryption: 'cbc', CommonEncryptionCenc: 'cenc', CommonEncryptionCbcs: 'cbcs-aapl' };

/**
 * The protection for a request, or undefined for clear delivery. Throws 403 when the policy does not enable
 * the protocol with the asked scheme, 400 when the scheme cannot be carried by the format or the URL must say
 * which scheme it wants.
 */
export function chooseProtection(
  policyName: string,
  policy: Record<string, unknown>,
  protocol: StreamingProtocol,
  format: ManifestFormat,
  encryption: ManifestEncryption | undefined,
): ProtectionChoice | undefined {
  const enables = (block: string) => ((policy[block] as PolicyBlock | undefined)?.enabledProtocols?.[protocol] ?? false) === true;
  let keyType: ContentKeyType;
  if (encryption === undefined) {
    if (enables('noEncryption')) return undefined;
    const candidates = (Object.keys(blockOf) as ContentKeyType[]).filter((type) => enables(blockOf[type]));
    if (candidates.length === 0) throw new ForbiddenError('ProtocolNotEnabled', `Streaming policy '${policyName}' does not enable ${protocolNames[protocol]}`);
    if (candidates.length > 1)
      throw new BadRequestError(
        'EncryptionNotSpecifiedInUrl',
        `Streaming policy '${policyName}' enables ${protocolNames[protocol]} with several encryption schemes: add encryption=${candidates.map((c) => selectorsOf[c]).join(' or encryption=')} to the URL`,
      );
    keyType = candidates[0];
  } else {
    keyType = selectorKeyType[encryption];
    if (!enables(blockOf[keyType]))
      throw new ForbiddenError(
        'ProtocolNotEnabled',
        `Streaming policy '${policyName}' does not enable ${protocolNames[protocol]} with encryption=${encryption} (${keyType})`,
      );
  }
  const sample = sampleSchemeFor(keyType, protocol, format, encryption);
  return { keyType, sample, block: policy[blockOf[keyType]] as PolicyBlock };
}

function sampleSchemeFor(
  keyType: ContentKeyType,
  protocol: StreamingProtocol,
  format: ManifestFormat,
  encryption: ManifestEncryption | undefined,
): SampleScheme {
  const refuse = (why: string) => new BadRequestError('EncryptionNotSupportedForFormat', why);
  if (encryption === 'piff' && protocol !== 'smoothStreaming') throw refuse('encryption=piff is for Smooth Streaming only');
  if (keyType === 'EnvelopeEncryption') {
    if (protocol === 'hls') return 'aes-128';
    if (protocol === 'dash') return 'cenc';
    throw refuse('Envelope encryption (encryption=cbc) is served for HLS and DASH, not Smooth Streaming');
  }
  if (format === 'm3u8-aapl') throw refuse(`${keyType} needs fMP4 segments: use format=m3u8-cmaf (MPEG-TS carries only AES-128, encryption=cbc)`);
  if (keyType === 'CommonEncryptionCbcs') {
    if (protocol === 'smoothStreaming') throw refuse('CBCS is served for HLS and DASH, not Smooth Streaming');
    return 'cbcs';
  }
  return 'cenc';
}

/** `trackSelections` match when every condition holds (AMS: FourCC Equal, case-insensitive). */
function selects(selection: TrackSelection, track: TrackIndex): boolean {
  const conditions = selection.trackSelections ?? [];
  if (conditions.length === 0) return false;
  return conditions.every(
    (c) => c.property === 'FourCC' && (c.operation ?? 'Equal') === 'Equal' && (c.value ?? '').toLowerCase() === track.fourcc.toLowerCase(),
  );
}

/**
 * The key protecting `track`, or undefined when it stays clear (text tracks, the block's `clearTracks`). A
 * `keyToTrackMappings` entry that selects the track gives its label; every other track uses the default key.
 * Throws 403 when the locator lacks a key the policy needs (a locator created before its policy changed).
 */
export function keyForTrack(choice: ProtectionChoice, keys: readonly ContentKey[], track: TrackIndex): ContentKey | undefined {
  if (track.kind === 'text') return undefined;
  const { block } = choice;
  if ((block.clearTracks ?? []).some((selection) => selects(selection, track))) return undefined;
  const ofType = keys.filter((k) => k.type === choice.keyType);
  const mappings = block.contentKeys?.keyToTrackMappings ?? [];
  const mapped = mappings.find((m) => (m.tracks ?? []).some((selection) => selects(selection, track)));
  let key: ContentKey | undefined;
  if (mapped?.label) key = ofType.find((k) => k.label === mapped.label);
  else {
    const defaultLabel = block.contentKeys?.defaultKey?.label;
    const mappedLabels = new Set(mappings.map((m) => m.label));
    key = defaultLabel ? ofType.find((k) => k.label === defaultLabel) : ofType.find((k) => !mappedLabels.has(k.label));
  }
  if (!key) throw new ForbiddenError('ContentKeyMissing', `The streaming locator has no ${choice.keyType} content key for track '${track.fourcc}'`);
  return key;
}

/** A licence/key URL template with `{ContentKeyId}` and `{AlternativeMediaId}` filled in. */
export function fillUrlTemplate(template: string, keyId: string, alternativeMediaId: string | undefined): string {
  return template.replaceAll('{ContentKeyId}', keyId).replaceAll('{AlternativeMediaId}', encodeURIComponent(alternativeMediaId ?? ''));
}
