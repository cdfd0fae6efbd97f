/**
 * MK.IO's predefined streaming policies (§12): always listed, never changed or deleted. Their properties
 * mirror what MK.IO returns so clients that read them (e.g. to pick `encryption=`) see the same shape.
 */
const all = { download: true, dash: true, hls: true, smoothStreaming: true };
const streaming = { download: false, dash: true, hls: true, smoothStreaming: true };

export const predefinedPolicies: Record<string, Record<string, unknown>> = {
  Predefined_DownloadOnly: { noEncryption: { enabledProtocols: { download: true, dash: false, hls: false, smoothStreaming: false } } },
  Predefined_ClearStreamingOnly: { noEncryption: { enabledProtocols: streaming } },
  Predefined_DownloadAndClearStreaming: { noEncryption: { enabledProtocols: all } },
  Predefined_ClearKey: {
    envelopeEncryption: {
      enabledProtocols: { download: false, dash: true, hls: true, smoothStreaming: false },
      contentKeys: { defaultKey: { label: 'clearKeyDefault' } },
    },
  },
  Predefined_MultiDrmCencStreaming: {
    commonEncryptionCenc: {
      enabledProtocols: { download: false, dash: true, hls: false, smoothStreaming: false },
      contentKeys: { defaultKey: { label: 'cencDefaultKey' } },
      drm: { playReady: {}, widevine: {} },
    },
  },
  Predefined_MultiDrmStreaming: {
    commonEncryptionCenc: {
      enabledProtocols: { download: false, dash: true, hls: false, smoothStreaming: false },
      contentKeys: { defaultKey: { label: 'cencDefaultKey' } },
      drm: { playReady: {}, widevine: {} },
    },
    commonEncryptionCbcs: {
      enabledProtocols: { download: false, dash: false, hls: true, smoothStreaming: false },
      contentKeys: { defaultKey: { label: 'cbcsDefaultKey' } },
      drm: { fairPlay: { allowPersistentLicense: false } },
    },
  },
};

export const isPredefinedPolicy = (name: string): boolean => Object.hasOwn(predefinedPolicies, name);

export type EncryptionScheme = 'NoEncryption' | 'EnvelopeEncryption' | 'CommonEncryptionCenc' | 'CommonEncryptionCbcs';
export interface EnabledProtocols {
  download: boolean;
  dash: boolean;
  hls: boolean;
  smoothStreaming: boolean;
}

const schemeBlocks: Array<[string, EncryptionScheme]> = [
  ['noEncryption', 'NoEncryption'],
  ['envelopeEncryption', 'EnvelopeEncryption'],
  ['commonEncryptionCenc', 'CommonEncryptionCenc'],
  ['commonEncryptionCbcs', 'CommonEncryptionCbcs'],
];

/** The schemes a policy's properties enable, each with its protocols. */
export function policySchemes(properties: Record<string, unknown>): Array<{ scheme: EncryptionScheme; protocols: EnabledProtocols }> {
  const out: Array<{ scheme: EncryptionScheme; protocols: EnabledProtocols }> = [];
  for (const [block, scheme] of schemeBlocks) {
    const value = properties[block] as { enabledProtocols?: Partial<EnabledProtocols> } | undefined;
    if (!value) continue;
    const p = value.enabledProtocols ?? {};
    out.push({ scheme, protocols: { download: !!p.download, dash: !!p.dash, hls: !!p.hls, smoothStreaming: !!p.smoothStreaming } });
  }
  return out;
}

/** The `contentKeys` of a scheme block (§12): its default key and per-track keys. */
export interface PolicyContentKeys {
  defaultKey?: { label?: string; policyName?: string };
  keyToTrackMappings?: Array<{ label?: string; policyName?: string; tracks?: unknown[] }>;
}

/** The content key policies a streaming policy names: its default and every key's. */
export function contentKeyPolicyNamesOf(properties: Record<string, unknown>): string[] {
  const names = new Set<string>();
  if (typeof properties.defaultContentKeyPolicyName === 'string') names.add(properties.defaultContentKeyPolicyName);
  for (const [block] of schemeBlocks) {
    const keys = (properties[block] as { contentKeys?: PolicyContentKeys } | undefined)?.contentKeys;
    if (keys?.defaultKey?.policyName) names.add(keys.defaultKey.policyName);
    for (const m of keys?.keyToTrackMappings ?? []) if (m.policyName) names.add(m.policyName);
  }
  return [...names];
}
