import { BadRequestError } from '../../../shared/errors.js';
import type { PolicyContentKeys } from '../../../shared/streaming-policies.js';

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function fail(path: string, problem: string): never {
  const message = `${path} ${problem}`;
  throw new BadRequestError('ValidationError', `Invalid request: ${message}`, { extraDetail: { errors: [message] } });
}

/** The placeholders a template may hold (§12, AMS); filled by listPaths (AlternativeMediaId) and by players/licence services. */
const placeholders = /\{(ContentKeyId|AlternativeMediaId)\}/g;

/** A licence or key URL template must be an absolute http(s) URL once its placeholders are filled in. */
export function isUrlTemplate(template: string): boolean {
  const filled = template.replace(placeholders, '00000000-0000-0000-0000-000000000000');
  if (/[{}]/.test(filled)) return false;
  try {
    const url = new URL(filled);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.hostname.length > 0;
  } catch {
    return false;
  }
}

/** Default `labelReferenceInStreamingPolicy` of a scheme's default key when the policy names none (as the predefined policies do). */
export const defaultKeyLabels = {
  envelopeEncryption: 'clearKeyDefault',
  commonEncryptionCenc: 'cencDefaultKey',
  commonEncryptionCbcs: 'cbcsDefaultKey',
} as const;
export type EncryptionBlock = keyof typeof defaultKeyLabels;
export const encryptionBlocks = Object.keys(defaultKeyLabels) as EncryptionBlock[];

/** The key labels of a scheme block: the default key's (or the scheme's default label), then each mapping's. */
export function keyLabelsOf(block: EncryptionBlock, keys: PolicyContentKeys | undefined): string[] {
  return [keys?.defaultKey?.label || defaultKeyLabels[block], ...(keys?.keyToTrackMappings ?? []).map((m) => m.label ?? '')];
}

/** Drops `null` members (MK.IO's examples write unset templates as null; the response schema has no null). */
function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (!isObject(value)) return value;
  const out: Json = {};
  for (const [k, v] of Object.entries(value)) if (v !== null) out[k] = withoutNulls(v);
  return out;
}

const protocolNames = ['download', 'dash', 'hls', 'smoothStreaming'] as const;

/**
 * Fills what the .NET client leaves out because its model makes it nullable or an enum sits at its first value:
 * every `enabledProtocols` flag (absent is `false`, as an unset protocol is not enabled), FairPlay's
 * `allowPersistentLicense` (`false`) and a track condition's `property`/`operation` (`Unknown`).
 */
function withClientDefaults(properties: Json): Json {
  for (const block of ['noEncryption', ...encryptionBlocks]) {
    const value = properties[block];
    if (!isObject(value)) continue;
    const given = isObject(value.enabledProtocols) ? value.enabledProtocols : {};
    value.enabledProtocols = Object.fromEntries(protocolNames.map((p) => [p, given[p] === true]));
    const fairPlay = isObject(value.drm) ? value.drm.fairPlay : undefined;
    if (isObject(fairPlay) && fairPlay.allowPersistentLicense === undefined) fairPlay.allowPersistentLicense = false;
    const keys = isObject(value.contentKeys) ? value.contentKeys : {};
    const mappings = Array.isArray(keys.keyToTrackMappings) ? (keys.keyToTrackMappings as unknown[]) : [];
    for (const selections of [value.clearTracks, ...mappings.map((m) => (isObject(m) ? m.tracks : undefined))])
      if (Array.isArray(selections)) selections.forEach(withUnknownConditions);
  }
  return properties;
}

/** A track selection's conditions with `property` and `operation` as `Unknown` where the client left them out. */
function withUnknownConditions(selection: unknown): void {
  if (!isObject(selection) || !Array.isArray(selection.trackSelections)) return;
  for (const condition of selection.trackSelections as unknown[]) {
    if (!isObject(condition)) continue;
    condition.property ??= 'Unknown';
    condition.operation ??= 'Unknown';
  }
}

/**
 * The rules of the encryption blocks the schema cannot say (§12): every URL template absolute http(s), key labels
 * given and distinct within a scheme (each becomes one content key of a locator). Returns the properties with nulls dropped.
 */
export function checkEncryptionBlocks(properties: Json): Json {
  const out = withClientDefaults(withoutNulls(properties) as Json);
  for (const block of encryptionBlocks) {
    const value = out[block];
    if (!isObject(value)) continue;
    const at = `properties.${block}`;
    const templates: Array<[string, unknown]> = [[`${at}.customKeyAcquisitionUrlTemplate`, value.customKeyAcquisitionUrlTemplate]];
    const clearKey = value.clearKeyEncryptionConfiguration;
    if (isObject(clearKey))
      templates.push([`${at}.clearKeyEncryptionConfiguration.customKeysAcquisitionUrlTemplate`, clearKey.customKeysAcquisitionUrlTemplate]);
    const drm = value.drm;
    if (isObject(drm))
      for (const [name, config] of Object.entries(drm))
        if (isObject(config)) templates.push([`${at}.drm.${name}.customLicenseAcquisitionUrlTemplate`, config.customLicenseAcquisitionUrlTemplate]);
    for (const [path, template] of templates) {
      if (typeof template === 'string' && !isUrlTemplate(template))
        fail(path, 'must be an absolute http(s) URL; the placeholders {ContentKeyId} and {AlternativeMediaId} may be used');
    }
    const keys = value.contentKeys as PolicyContentKeys | undefined;
    const seen = new Set<string>();
    for (const [i, label] of keyLabelsOf(block, keys).entries()) {
      const path = i === 0 ? `${at}.contentKeys.defaultKey.label` : `${at}.contentKeys.keyToTrackMappings[${i - 1}].label`;
      if (!label) fail(path, 'is required');
      if (seen.has(label)) fail(path, 'is used by another key of this scheme');
      seen.add(label);
    }
  }
  return out;
}
