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
  spec: {
    role?: string;
    projects?: Array<{ id: string; name: string }>;
    /** `pending`: an invitation to the organization, not yet a membership. */
    invite?: { state: 'accepted' | 'pending'; invitedBy: string | null; comment: string };
  };
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
  properties: LocatorItem & { suppressed?: boolean; filters?: string[] };
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

/** A project of the Management API (`/api/v1/projects[/{name}]`). */
export interface Project {
  metadata: { id: string; name: string; displayName: string; created: string; updated: string; createdByEmail?: string };
  spec: { name: string; displayName: string; isActive: boolean; isHidden?: boolean; locationName: string; locationDisplayName?: string };
}

/** A webhook rule (`/api/v1/projects/{p}/webhook/rules/{name}`); `signingSecret` only in the answer that generated it. */
export interface WebhookRule {
  metadata: { id: string; name: string };
  spec: {
    url: string;
    enabled: boolean;
    events: string[];
    headers: Record<string, string>;
    queryParams: Record<string, string>;
    signingSecret?: string;
  };
}

/** One delivery of a rule (`…/webhook/rules/{name}/events`). */
export interface WebhookEvent {
  id: string;
  created: string;
  status: string;
  source: string;
  type: string;
  attempts: number;
  history: Array<{ at: string; statusCode?: number; error?: string }>;
}

/** Organization administration (MK.IO Management API `/api/v1/organization/…`). */
export interface OrgUser {
  kind?: string;
  metadata: { id: string };
  /** `role`: the organization role (Reel adds it; MK.IO gives rights through teams). */
  spec: { name: string; email: string; avatar?: string; role?: string };
}

export interface Invite {
  metadata?: { id: string; created?: string };
  spec: {
    email: string;
    comment: string;
    invitedByEmail: string;
    invitedByName: string;
    organizationName: string;
    teams?: string[];
    /** Reel's: the organization role given on accepting. */
    role?: string;
    /** Reel's, only in the creation answer for an e-mail with no account: the one-time set-up code. */
    setupCode?: string;
  };
}

export interface Role {
  metadata: { id: string; name?: string; categories?: string[] };
  spec: { description: string; capabilities?: Array<{ capability: string }> };
}

export interface Team {
  metadata: { id: string; name?: string };
  spec: {
    description?: string;
    /** Keyed by user id. */
    members?: Record<string, { email: string; name: string; isTeamAdmin: boolean }>;
    /** Scope name → the roles the team holds there. */
    scopes?: Record<string, { roles: string[] }>;
  };
}

export interface OrgToken {
  metadata: { id: string; type: string };
  spec: {
    description?: string;
    expires: string;
    issued: string;
    lastUsed: string | null;
    revoked: string | null | false;
    revokedBy?: string;
    user: string;
  };
}

/**
 * `GET /api/v1/projects/{p}/usage`: MK.IO documents one record per meter and day (`meterName`, `unit`,
 * `quantity`, …); the day and the streaming endpoint, when the server adds them, are read from the fields below.
 */
export interface UsageRecord {
  meterName: string;
  unit: string;
  quantity: number;
  solution?: string;
  family?: string;
  date?: string;
  day?: string;
  usageDate?: string;
  streamingEndpoint?: string;
  streamingEndpointName?: string;
  resourceName?: string;
}
export interface UsageReport {
  supplemental?: { start?: string; end?: string; project?: string; records?: number };
  value: UsageRecord[];
}

/** One track condition of a filter (MK.IO `FilterTrackPropertyCondition`). */
export interface FilterCondition {
  property: string;
  operation: string;
  value: string;
}

/** `properties` of an asset or account filter (MK.IO `MediaFilterProperties`); timestamps in `timescale` units. */
export interface FilterProperties {
  presentationTimeRange?: {
    startTimestamp?: number;
    endTimestamp?: number;
    presentationWindowDuration?: number;
    liveBackoffDuration?: number;
    timescale?: number;
    forceEndTimestamp?: boolean;
  };
  firstQuality?: { bitrate: number };
  tracks?: Array<{ trackSelections: FilterCondition[] }>;
}

/** An account filter (`…/accountFilters/{name}`) or an asset filter (`…/assets/{asset}/assetFilters/{name}`). */
export interface MediaFilter {
  name: string;
  id: string;
  type: string;
  properties: FilterProperties;
  systemData?: { createdAt?: string; lastModifiedAt?: string };
}

/** MK.IO's live event encodings; SRT ingest needs a transcoding one (Standard, Premium1080p). */
export type LiveEncodingType = 'PassthroughBasic' | 'PassthroughStandard' | 'Standard' | 'Premium1080p';

export interface LiveEvent {
  name: string;
  id: string;
  tags?: Record<string, string>;
  properties: {
    description?: string;
    resourceState: string;
    provisioningState?: string;
    encoding?: { encodingType: LiveEncodingType; presetName?: string };
    input: { streamingProtocol: string; accessToken?: string; endpoints: Array<{ protocol: string; url: string }> };
    preview?: { previewLocator?: string; streamingPolicyName?: string; endpoints: Array<{ protocol: string; url: string }> };
    streamOptions?: string[];
    useStaticHostname?: boolean;
    created: string;
    lastModified: string;
  };
}

export interface LiveOutput {
  name: string;
  properties: {
    assetName: string;
    archiveWindowLength: string;
    manifestName?: string;
    description?: string;
    resourceState?: string;
    created: string;
    lastModified: string;
  };
}

/** `GET …/liveEvents/{name}/ingestHealth` (a Reel extension): 404 while the event is not running. */
export interface IngestHealth {
  isConnected: boolean;
  bitrateBps: number;
  frameRate: number;
  lastFrameTime?: string;
  /** Why the stream shows no picture or rendition (e.g. H.265 sent to an encoding event). */
  lastError?: string;
}
