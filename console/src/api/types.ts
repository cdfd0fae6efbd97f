// Wire shapes the console reads, as MK.IO defines them (shared/MKIO-API.md); only the fields it shows.

export interface ListBody<T> {
  value: T[];
  supplemental?: { pagination?: { start: number; end: number; records: number; total: number } };
  '@odata.nextLink'?: string;
}

export interface Profile {
  metadata: { id: string };
  spec: { activeOrganizationId: string; name: string; loginEmail: string };
}

export interface Organization {
  metadata: { id: string; name: string };
  spec: { role?: string; projects?: Array<{ id: string; name: string }> };
}

export interface UserToken {
  metadata: { id: string; type: string; JWT?: string };
  spec: {
    description: string;
    organizationId: string;
    issued: string;
    expires: string;
    lastUsed: string | null;
    revoked: string | null | false;
    revokedBy?: string;
  };
}

export type StorageType = 'Local' | 'Microsoft.Storage' | 'AWS.S3';

export interface StorageAccount {
  metadata: { id: string; name: string; created: string; createdByEmail?: string };
  spec: {
    type: StorageType;
    description?: string;
    url?: string;
    path?: string;
    bucketName?: string;
    region?: string | null;
    endpoint?: string;
    credential?: { sasToken?: string; signedStart?: string; signedExpiry?: string };
  };
  status: { activeCredentialId: string | null };
}

export interface Asset {
  name: string;
  labels?: Record<string, string>;
  properties: {
    assetId: string;
    container: string;
    storageAccountName: string;
    description?: string;
    alternateId?: string;
    created: string;
    lastModified: string;
    subPath?: string;
    containerDeletionPolicy?: string;
  };
}

export interface MediaTrack {
  index: number;
  type: string;
  codec: string;
  bitrateBps?: number;
  width?: number;
  height?: number;
  frameRate?: number;
  language?: string;
  durationSec?: number;
  channels?: number;
  sampleRateHz?: number;
}

export interface AssetStorage {
  spec: {
    container: string;
    folders: Array<{ name: string }>;
    files: Array<{ name: string; size: number }>;
    tracks: Record<string, { body?: Record<string, Array<Record<string, string>>> }>;
    mediaInfo?: Record<string, { formatName: string; durationSec?: number; bitrateBps?: number; tracks: MediaTrack[] }>;
    error?: Record<string, unknown>;
  };
}

export interface LocatorItem {
  name: string;
  assetName: string;
  streamingLocatorId: string;
  streamingPolicyName: string;
  created: string;
  startTime?: string;
  endTime?: string;
}

export interface StreamingLocator {
  name: string;
  properties: LocatorItem & { suppressed?: boolean };
}

export interface StreamingPaths {
  streamingPaths: Array<{ streamingProtocol: string; encryptionScheme: string; paths: string[] }>;
  downloadPaths: string[];
  /** DRM name (`clearKey`, `widevine`, `playReady`, `fairPlay`) → licence URL, host-less for Reel's own key delivery. */
  drm?: Record<string, { licenseAcquisitionUrl: string; certificateUrl?: string }>;
}

export interface StreamingPolicy {
  name: string;
  properties: {
    created: string;
    noEncryption?: { enabledProtocols: Protocols };
    envelopeEncryption?: { enabledProtocols: Protocols };
    commonEncryptionCenc?: { enabledProtocols: Protocols };
    commonEncryptionCbcs?: { enabledProtocols: Protocols };
  };
}
export interface Protocols {
  download: boolean;
  dash: boolean;
  hls: boolean;
  smoothStreaming: boolean;
}

export interface StreamingEndpoint {
  name: string;
  location: string;
  properties: { description?: string; hostName: string; resourceState: string; scaleUnits: number; created: string };
}

export interface Transform {
  name: string;
  properties: { description?: string; created: string; outputs: Array<{ preset: { '@odata.type': string; presetName?: string } }> };
}

export interface Job {
  name: string;
  id: string;
  properties: {
    state: string;
    created: string;
    description?: string;
    input: { '@odata.type': string; assetName?: string; files?: string[] };
    outputs: Array<{
      assetName: string;
      state: string;
      progress: number | null;
      error?: { code?: string; message?: string; details?: Array<{ code?: string; message?: string }> };
    }>;
    startTime: string | null;
    endTime: string | null;
  };
}
