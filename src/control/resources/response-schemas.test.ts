import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import type { TSchema } from '@sinclair/typebox';
import type {
  AssetRow,
  JobRow,
  LiveEventRow,
  LiveOutputRow,
  ProjectRow,
  StorageAccountRow,
  StorageCredentialRow,
  StreamingEndpointRow,
  StreamingLocatorRow,
  TokenRow,
  TransformRow,
} from '../../store/database.js';
import type { StorageAccount, StorageAccountService } from './storage/service.js';
import { assetGetResponse, assetListResponse, assetResponse, fileAccessInfoResponse, toWireAsset, uploadUrlResponse } from './assets/schema.js';
import {
  legacyCredentialResponse,
  legacyStorageResponse,
  toLegacyCredential,
  toLegacyStorage,
  toV1Credential,
  toV1Storage,
  v1CredentialResponse,
  v1StorageListResponse,
  v1StorageResponse,
} from './storage/schema.js';
import { createdTokenResponse, profileResponse, tokenResponse, toWireToken } from './user/schema.js';
import { userOrganizationResponse as organizationResponse } from './organization/schema.js';
import { endpointResponse, toWireEndpoint } from './streaming-endpoints/schema.js';
import { locatorProperties, locatorResponse, pathsResponse, toWireLocator } from './streaming-locators/schema.js';
import { assetLocatorsResponse } from './assets/schema.js';
import { policyResponse, toWirePolicy } from './streaming-policies/schema.js';
import { toWireTransform, transformResponse } from './transforms/schema.js';
import { jobResponse, toWireJob } from './jobs/schema.js';
import { statsResponse } from './stats/schema.js';
import { liveEventListResponse, liveEventResponse, liveEventStateResponse, toWireLiveEvent } from './live-events/schema.js';
import { liveOutputListResponse, liveOutputResponse, toWireLiveOutput } from './live-outputs/schema.js';
import {
  legacyLocation,
  legacyLocationListResponse,
  subscriptionListResponse,
  subscriptionResponse,
  toWireSubscription,
  toWireUsage,
  usageResponse,
  v1Location,
  v1LocationListResponse,
  v1LocationResponse,
} from './subscriptions/schema.js';
import { fileWrittenResponse } from './files/schema.js';
import { organizationUsageResponse, projectUsageResponse } from './usage/schema.js';
import { toMeterDataRow, toProjectUsageRow, type UsageRecord } from './usage/service.js';
import { encodingMeters, storageMeter, streamingMeter } from '../../shared/usage-meters.js';
import { jwksResponse, sessionTokenResponse } from '../auth/schema.js';
import { listBody } from './paging.js';
import { predefinedPolicies } from '../../shared/streaming-policies.js';
import { contentKeyPolicyResponse, toWireContentKeyPolicy } from './content-key-policies/schema.js';
import { registerV1StorageRoutes, registerLegacyStorageRoutes } from './storage/routes.js';
import type { AccountService } from '../auth/account-service.js';
import type { Principal } from '../auth/principal.js';

/*
 * Response schemas decide what reaches the wire: the serializer writes only the properties they name, in their
 * order, coerced to their types. Each case serializes a real wire object (from the resource's own `toWire…`,
 * with every optional field set and unset) through Fastify and expects exactly `JSON.stringify`'s bytes, so a
 * schema that forgets a field, reorders one or narrows a type fails here.
 */

const project: ProjectRow = {
  id: '5b3a1f9e-0000-4000-8000-000000000001',
  organization_id: 'org-1',
  name: 'proj',
  created_at: '2024-01-01T00:00:00.000Z',
} as ProjectRow;
const audited = { created_at: '2024-03-26T14:51:19.125Z', created_by: 'a@example.com', updated_at: '2024-03-27T10:00:00.000Z', updated_by: 'b@example.com' };

const asset = (over: Partial<AssetRow> = {}): AssetRow => ({
  id: 'asset-id',
  project_id: project.id,
  name: 'movie',
  storage_account_id: 'sa-id',
  storage_account_name: 'store',
  container: 'asset-abc',
  sub_path: null,
  description: 'A movie',
  alternate_id: null,
  container_deletion_policy: 'Retain',
  storage_encryption_format: 'None',
  labels: '{"team":"blue","b":"x"}',
  ...audited,
  ...over,
});

const accountRow = (type: string, over: Partial<StorageAccountRow> = {}): StorageAccountRow => ({
  id: `sa-${type}`,
  project_id: project.id,
  name: 'store',
  type,
  description: 'Main',
  location: 'westeurope',
  config: '{}',
  created_at: audited.created_at,
  created_by: 'a@example.com',
  created_by_id: 'u1',
  updated_at: audited.updated_at,
  updated_by: 'b@example.com',
  updated_by_id: 'u2',
  ...over,
});
const credential = (sanitized: Record<string, unknown>): StorageCredentialRow => ({
  id: 'cred-1',
  storage_account_id: 'sa',
  secret: 'sealed:SECRET-SEALED',
  sanitized: JSON.stringify(sanitized),
  expires_at: '2030-01-01T00:00:00Z',
  created_at: audited.created_at,
  created_by: 'a@example.com',
  created_by_id: 'u1',
});
const sas = {
  sasToken: '?sv=2022-11-02&ss=b&srt=sco&sp=rl&se=2030-01-01T00%3A00%3A00Z&st=2024-01-01',
  signedStart: '2024-01-01',
  signedExpiry: '2030-01-01T00:00:00Z',
};
const azure = (withCredential: boolean, location = 'westeurope'): StorageAccount => {
  const creds = withCredential ? [credential(sas)] : [];
  return {
    projectName: 'default',
    row: accountRow('Microsoft.Storage', { location }),
    config: { url: 'https://acct.blob.core.windows.net' },
    credentials: creds,
    active: creds[0],
  };
};
const s3 = (endpoint?: string): StorageAccount => {
  const creds = [credential({ accessKeyId: 'AKIAEXAMPLEEXAMPLE00' })];
  return {
    projectName: 'default',
    row: accountRow('AWS.S3'),
    config: { bucketName: 'media', region: 'eu-west-1', ...(endpoint ? { endpoint, forcePathStyle: true } : {}) },
    credentials: creds,
    active: creds[0],
  };
};
const google = (endpoint?: string): StorageAccount => {
  const creds = [credential({ gac: { type: 'service_account', project_id: 'p', client_email: 'sa@p.iam.gserviceaccount.com', private_key_id: 'abc' } })];
  return {
    projectName: 'default',
    row: accountRow('Google.Storage', { location: 'local' }),
    config: { bucketName: 'media', ...(endpoint ? { endpoint } : {}) },
    credentials: creds,
    active: creds[0],
  };
};
const local: StorageAccount = { projectName: 'default', row: accountRow('Local', { location: 'local' }), config: { path: '/srv/media' }, credentials: [] };

const token = (over: Partial<TokenRow> = {}): TokenRow => ({
  id: 'tok-1',
  user_id: 'u1',
  organization_id: 'org-1',
  type: 'full-access',
  description: 'CI',
  secret_hash: 'HASH-NEVER-SHOWN',
  permissions: null,
  issued_at: audited.created_at,
  expires_at: '2025-03-26T14:51:19.125Z',
  last_used: null,
  revoked_at: null,
  revoked_by: null,
  ...over,
});

const endpointRow: StreamingEndpointRow = {
  id: 'ep-1',
  project_id: project.id,
  name: 'default',
  location: 'local',
  tags: '{"z":"1","a":"2"}',
  resource_state: 'Running',
  properties: JSON.stringify({
    cdnEnabled: false,
    description: 'Default',
    scaleUnits: 0,
    accessControl: { ip: { allow: [{ address: '10.0.0.0', subnetPrefixLength: 8 }] } },
  }),
  ...audited,
};

const locator = (over: Partial<StreamingLocatorRow> = {}): StreamingLocatorRow => ({
  id: 'loc-1',
  project_id: project.id,
  name: 'loc',
  locator_id: '8f1c2e4a-0000-4000-8000-000000000002',
  asset_id: 'asset-id',
  asset_name: 'movie',
  policy_name: 'Predefined_ClearStreamingOnly',
  start_time: null,
  end_time: null,
  properties: '{}',
  ...audited,
  ...over,
});

const transform = (description: string | null): TransformRow => ({
  id: 'tr-1',
  project_id: project.id,
  name: 'ladder',
  description,
  ...audited,
  outputs: JSON.stringify([
    {
      preset: { '@odata.type': '#Microsoft.Media.BuiltInStandardEncoderPreset', presetName: 'H264MultipleBitrate720p' },
      onError: 'StopProcessingJob',
      relativePriority: 'Normal',
    },
  ]),
});

const job = (over: Partial<JobRow> = {}): JobRow => ({
  id: 'job-1',
  project_id: project.id,
  transform_id: 'tr-1',
  transform_name: 'ladder',
  name: 'job',
  description: null,
  priority: 'Normal',
  correlation_data: '{"ticket":"42","a":"b"}',
  input: '{"@odata.type":"#Microsoft.Media.JobInputAsset","assetName":"movie","files":["a.mp4"]}',
  transform_output: '{}',
  output_asset_id: 'out-id',
  output_asset_name: 'movie-out',
  output_label: 'BuiltInStandardEncoderPreset_0',
  state: 'Processing',
  progress: 42.5,
  error: null,
  start_time: '2024-03-26T15:00:00.000Z',
  end_time: null,
  output_files: '[]',
  ...audited,
  ...over,
});

const listRequest = { top: 2, skip: 0, filter: [], orderBy: [] };

const liveEventProperties = {
  description: 'studio feed',
  useStaticHostname: false,
  streamOptions: ['Default'],
  encoding: { encodingType: 'Standard', presetName: 'Default720p', keyFrameInterval: 'PT2S' },
  input: {
    streamingProtocol: 'RTMP',
    accessToken: '0b9a4c1e-5d2f-4a3b-8c4d-1e2f3a4b5c6d',
    keyFrameIntervalDuration: 'PT2S',
    accessControl: { ip: { allow: [{ name: 'all', address: '0.0.0.0', subnetPrefixLength: 0 }] } },
    timedMetadataEndpoints: [],
  },
  preview: {
    streamingPolicyName: 'Predefined_ClearStreamingOnly',
    previewLocator: '1b9a4c1e-5d2f-4a3b-8c4d-1e2f3a4b5c6d',
    accessControl: { ip: { allow: [] } },
  },
};
const liveEventRow = (over: Partial<LiveEventRow> = {}): LiveEventRow => ({
  id: 'event-id',
  project_id: project.id,
  name: 'studio',
  location: 'local',
  tags: '{"team":"news"}',
  properties: JSON.stringify(liveEventProperties),
  resource_state: 'Running',
  encoding_type: 'Standard',
  access_token: liveEventProperties.input.accessToken,
  preview_locator: liveEventProperties.preview.previewLocator,
  ...audited,
  ...over,
});
const liveEvent = (over: Partial<LiveEventRow> = {}) => {
  const row = liveEventRow(over);
  return { row, properties: JSON.parse(row.properties) as Record<string, unknown>, tags: JSON.parse(row.tags) as Record<string, string> };
};
const liveEndpoints = {
  input: [{ protocol: 'RTMP', url: 'rtmp://127.0.0.1:1935/0b9a4c1e-5d2f-4a3b-8c4d-1e2f3a4b5c6d' }],
  preview: [{ protocol: 'FragmentedMP4', url: 'http://default-proj.localhost:8080/1b9a4c1e-5d2f-4a3b-8c4d-1e2f3a4b5c6d/manifest.mpd' }],
};
const liveOutputRow = (over: Partial<LiveOutputRow> = {}): LiveOutputRow => ({
  id: 'output-id',
  project_id: project.id,
  event_id: 'event-id',
  name: 'archive',
  asset_id: 'asset-id',
  asset_name: 'movie',
  manifest_name: 'archive',
  properties: '{"assetName":"movie","archiveWindowLength":"PT1H","hls":{"fragmentsPerTsSegment":1},"manifestName":"archive"}',
  resource_state: 'Running',
  ...audited,
  ...over,
});

const usageRecords: UsageRecord[] = [
  { day: '2024-04-02', project, meter: encodingMeters.HD, quantity: 1.5 },
  { day: '2024-04-02', project, meter: streamingMeter, quantity: 0.000123456, endpointName: 'default' },
  { day: '2024-04-17', project, meter: storageMeter, quantity: 2 },
];

const cases: Array<[string, TSchema, unknown]> = [
  ['asset, minimal', assetResponse, toWireAsset(asset(), project)],
  ['asset, alternateId and subPath', assetResponse, toWireAsset(asset({ alternate_id: 'alt-1', sub_path: 'in/sub', labels: '{}' }), project)],
  [
    'asset GET',
    assetGetResponse,
    { ...toWireAsset(asset({ alternate_id: 'x' }), project), supplemental: { operation: 'get', subscription: { id: project.id, name: project.name } } },
  ],
  [
    'asset list with next link',
    assetListResponse,
    listBody({
      kind: 'Asset',
      items: [toWireAsset(asset(), project), toWireAsset(asset({ name: 'b' }), project)],
      total: 3,
      request: listRequest,
      url: '/api/ams/proj/assets?$top=2&$filter=name%20eq%20%27a%27',
      project: { id: project.id, name: project.name },
    }),
  ],
  [
    'getFileAccessInfo with subPath',
    fileAccessInfoResponse,
    { storageAccountName: 'store', containerName: 'asset-abc', subPath: 'in/sub', url: 'http://x/files/sa/asset-abc', jwt: 'j.w.t' },
  ],
  ['getFileAccessInfo', fileAccessInfoResponse, { storageAccountName: 'store', containerName: 'asset-abc', url: 'http://x/files/sa/asset-abc', jwt: 'j.w.t' }],
  ['getUploadUrl', uploadUrlResponse, { method: 'PUT', fileName: 'a.mp4', expires: '2024-03-26T15:51:19.000Z', url: 'http://x/files/sa/c/a.mp4?token=t' }],
  [
    'listStreamingLocators',
    assetLocatorsResponse,
    { streamingLocators: [{ name: 'loc', ...locatorProperties(locator({ properties: '{"filters":["f"]}' })) }] },
  ],
  ['v1 storage, Azure with credential', v1StorageResponse, toV1Storage(azure(true))],
  ['v1 storage, Azure without credential, local region', v1StorageResponse, toV1Storage(azure(false, 'local'))],
  ['v1 storage, S3', v1StorageResponse, toV1Storage(s3())],
  ['v1 storage, S3-compatible endpoint', v1StorageResponse, toV1Storage(s3('http://127.0.0.1:9000'))],
  ['v1 storage, Google', v1StorageResponse, toV1Storage(google())],
  ['v1 storage, GCS-compatible endpoint', v1StorageResponse, toV1Storage(google('http://127.0.0.1:4443'))],
  ['v1 storage, Local', v1StorageResponse, toV1Storage(local)],
  [
    'v1 storage list',
    v1StorageListResponse,
    listBody({
      kind: 'StorageAccount',
      items: [toV1Storage(azure(true)), toV1Storage(s3()), toV1Storage(local)],
      total: 3,
      request: { ...listRequest, top: 1000 },
      url: '/x',
    }),
  ],
  ['v1 credential, Azure', v1CredentialResponse, toV1Credential(azure(true), azure(true).credentials[0])],
  ['v1 credential, S3', v1CredentialResponse, toV1Credential(s3(), s3().credentials[0])],
  ['v1 credential, Google', v1CredentialResponse, toV1Credential(google(), google().credentials[0])],
  ['legacy storage, Azure', legacyStorageResponse, toLegacyStorage(azure(true))],
  ['legacy storage, S3', legacyStorageResponse, toLegacyStorage(s3())],
  ['legacy storage, Google', legacyStorageResponse, toLegacyStorage(google())],
  ['legacy storage, Local', legacyStorageResponse, toLegacyStorage(local)],
  ['legacy credential', legacyCredentialResponse, toLegacyCredential(azure(true).credentials[0])],
  ['legacy credential, no SAS', legacyCredentialResponse, toLegacyCredential(credential({ accessKeyId: 'AKIA' }))],
  ['token', tokenResponse, toWireToken(token())],
  [
    'token, restricted and revoked',
    tokenResponse,
    toWireToken(
      token({
        type: 'restricted',
        permissions: '{"ams.asset":{"p1":["read"]}}',
        last_used: '2024-04-01T00:00:00.000Z',
        revoked_at: audited.updated_at,
        revoked_by: 'b@example.com',
      }),
    ),
  ],
  ['created token', createdTokenResponse, toWireToken(token(), 'header.payload.signature')],
  [
    'profile',
    profileResponse,
    {
      kind: 'UserProfile',
      metadata: { id: 'u1' },
      spec: { activeOrganizationId: 'org-1', name: 'Admin', loginEmail: 'a@x', contactEmail: 'a@x', avatar: '', isActive: true, features: {} },
    },
  ],
  [
    'organization',
    organizationResponse,
    {
      kind: 'UserOrganization',
      metadata: { id: 'org-1', name: 'Org' },
      spec: { invite: { state: 'accepted', invitedBy: null, comment: '' }, role: 'Admin', projects: [{ id: project.id, name: project.name }] },
    },
  ],
  ['session token', sessionTokenResponse, { user_id: 'u1', token: 'h.p.s', token_id: 'tok-1', expires: '2025-03-26T14:51:19.125Z' }],
  ['jwks', jwksResponse, { keys: [{ kty: 'EC', x: 'xx', y: 'yy', crv: 'P-256', kid: 'k1', alg: 'ES256', use: 'sig' }] }],
  [
    'endpoint',
    endpointResponse,
    toWireEndpoint(
      { row: endpointRow, properties: JSON.parse(endpointRow.properties) as Record<string, unknown>, tags: { z: '1', a: '2' }, state: 'Running' },
      project,
      (e, p) => `${e}-${p}.localhost`,
    ),
  ],
  ['locator', locatorResponse, toWireLocator(locator(), project)],
  [
    'locator with times and pass-through properties',
    locatorResponse,
    toWireLocator(
      locator({
        start_time: '2024-01-01T00:00:00.000Z',
        end_time: '2030-01-01T00:00:00.000Z',
        properties: '{"suppressed":true,"filters":["a"],"contentKeys":[]}',
      }),
      project,
    ),
  ],
  [
    'listPaths',
    pathsResponse,
    {
      streamingPaths: [{ streamingProtocol: 'Hls', encryptionScheme: 'NoEncryption', paths: ['/a/b.ism/manifest(format=m3u8-cmaf)'] }],
      downloadPaths: ['/a/b.mp4'],
      drm: {},
    },
  ],
  ['predefined policy', policyResponse, toWirePolicy({ name: 'Predefined_ClearKey', properties: predefinedPolicies.Predefined_ClearKey }, project)],
  [
    'custom policy',
    policyResponse,
    toWirePolicy(
      {
        name: 'p',
        properties: { noEncryption: { enabledProtocols: { download: true, dash: true, hls: true, smoothStreaming: false } } },
        row: { id: 'pol-1', project_id: project.id, name: 'p', properties: '{}', ...audited },
      },
      project,
    ),
  ],
  [
    'locator with content keys',
    locatorResponse,
    toWireLocator(
      locator({
        content_keys:
          '[{"id":"5d6a4c1e-7b2a-4c3d-9e8f-102030405060","type":"CommonEncryptionCenc","labelReferenceInStreamingPolicy":"cencDefaultKey","policyName":"p"}]',
      }),
      project,
    ),
  ],
  [
    'listPaths with drm',
    pathsResponse,
    {
      streamingPaths: [
        { streamingProtocol: 'Dash', encryptionScheme: 'CommonEncryptionCenc', paths: ['/a/b.ism/manifest(format=mpd-time-cmaf,encryption=cenc)'] },
      ],
      downloadPaths: [],
      drm: { widevine: { licenseAcquisitionUrl: 'https://wv.example/{ContentKeyId}' }, clearKey: { licenseAcquisitionUrl: '/keydelivery/a/clearkey' } },
    },
  ],
  [
    'content key policy',
    contentKeyPolicyResponse,
    toWireContentKeyPolicy(
      {
        row: { id: 'ckp-1', project_id: project.id, name: 'k', policy_id: 'pid', properties: '{}', options_sealed: 'sealed', ...audited },
        properties: {
          description: 'd',
          options: [
            {
              policyOptionId: 'o',
              name: 'n',
              configuration: { '@odata.type': '#Microsoft.Media.ContentKeyPolicyClearKeyConfiguration' },
              restriction: { '@odata.type': '#Microsoft.Media.ContentKeyPolicyOpenRestriction' },
            },
          ],
          fairPlayAmsCompatibility: true,
        },
      },
      project,
    ),
  ],
  ['transform', transformResponse, toWireTransform(transform('SD ladder'), project)],
  ['transform without description', transformResponse, toWireTransform(transform(null), project)],
  ['job, running', jobResponse, toWireJob(job(), project)],
  [
    'job, described and failed',
    jobResponse,
    toWireJob(
      job({
        description: 'first',
        state: 'Error',
        end_time: audited.updated_at,
        error: '{"code":"ContentMalformed","message":"bad","category":"Content","retry":"DoNotRetry","details":[]}',
      }),
      project,
    ),
  ],
  ['live event', liveEventResponse, toWireLiveEvent(liveEvent(), project, liveEndpoints)],
  [
    'live event, pass-through without tags',
    liveEventResponse,
    toWireLiveEvent(liveEvent({ tags: '{}', resource_state: 'Stopped' }), project, { input: [], preview: [] }),
  ],
  [
    'live event list with next link',
    liveEventListResponse,
    listBody({
      kind: 'LiveEvent',
      items: [toWireLiveEvent(liveEvent(), project, liveEndpoints), toWireLiveEvent(liveEvent({ name: 'b' }), project, liveEndpoints)],
      total: 3,
      request: listRequest,
      url: '/api/ams/proj/liveEvents?$top=2&$label_key=team',
      project: { id: project.id, name: project.name },
    }),
  ],
  ['live event state', liveEventStateResponse, { status: { state: 'Running' } }],
  ['live output', liveOutputResponse, toWireLiveOutput(liveOutputRow(), project, 'studio')],
  [
    'live output list',
    liveOutputListResponse,
    listBody({
      kind: 'LiveOutput',
      items: [
        toWireLiveOutput(liveOutputRow({ name: 'b', properties: '{"assetName":"b","archiveWindowLength":"PT25H","manifestName":"b"}' }), project, 'studio'),
      ],
      total: 1,
      request: listRequest,
      url: '/x',
    }),
  ],
  [
    'stats',
    statsResponse,
    {
      assets: { total: 3 },
      contentKeyPolicies: { total: 0 },
      liveEvents: { running: 1, stopped: 2, total: 3 },
      storageAccounts: { total: 1 },
      streamingEndpoints: { running: 1, stopped: 0, total: 1 },
      streamingLocators: { total: 2 },
      streamingPolicies: { total: 5 },
      transforms: { total: 2 },
      jobs: { total: 4 },
      extra: { subscription_id: project.id },
    },
  ],
  ['subscription', subscriptionResponse, toWireSubscription(project)],
  ['subscription list', subscriptionListResponse, { kind: 'SubscriptionList', items: [toWireSubscription(project)] }],
  [
    'subscription usage',
    usageResponse,
    toWireUsage(project, {
      start: new Date('2024-04-01T00:00:00Z'),
      end: new Date('2024-04-17T10:11:12.345Z'),
      meters: [
        { id: '0b9a4c1e-5d2f-5a3b-8c4d-1e2f3a4b5c6d', unit: 'Minutes', name: 'Encoding', total: 12.5 },
        { id: '1b9a4c1e-5d2f-5a3b-8c4d-1e2f3a4b5c6d', unit: 'GB', name: 'Streaming Egress', total: 0 },
      ],
    }),
  ],
  [
    'project usage',
    projectUsageResponse,
    { supplemental: { records: 3, start: '2024-04-01', end: '2024-04-18', project: project.name }, value: usageRecords.map(toProjectUsageRow) },
  ],
  [
    'organization usage',
    organizationUsageResponse,
    {
      supplemental: {
        records: 3,
        filters: { paymentMethodIds: [], projectNames: ['proj'], meterNames: [] },
        start: '2024-04-01',
        end: '2024-05-01',
        format: 'json',
        download: false,
        granularity: 'day',
        groupBy: ['meter'],
      },
      value: usageRecords.map((r, i) => toMeterDataRow(r, `${r.day}T00:00:00Z`, i === 0 ? '0b9a4c1e-5d2f-4a3b-8c4d-1e2f3a4b5c6d' : undefined)),
    },
  ],
  ['legacy locations', legacyLocationListResponse, { kind: 'LocationList', items: [legacyLocation] }],
  ['v1 locations', v1LocationListResponse, { kind: 'LocationList', value: [v1Location] }],
  ['v1 location', v1LocationResponse, v1Location],
  ['file written', fileWrittenResponse, { name: 'a.mp4', size: 5_000_000_000, etag: '"0x8DC"' }],
];

describe('response schemas', () => {
  const app = Fastify();
  cases.forEach(([, schema, value], i) => app.get(`/case/${i}`, { schema: { response: { 200: schema } } }, async () => value));
  after(() => app.close());

  for (const [i, [name, , value]] of cases.entries()) {
    it(`serialize ${name} byte for byte as JSON.stringify`, async () => {
      const res = await app.inject({ method: 'GET', url: `/case/${i}` });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.body, JSON.stringify(value));
    });
  }
});

/** A storage service double: what a buggy service might hand over, with secrets where none belong. */
function leakyStorage(type: 'Microsoft.Storage' | 'Google.Storage' = 'Microsoft.Storage'): StorageAccountService {
  const leakySanitized =
    type === 'Microsoft.Storage'
      ? { ...sas, sig: 'SECRET-SIG', accountKey: 'SECRET-ACCOUNT-KEY', secretAccessKey: 'SECRET-ACCESS-KEY' }
      : { gac: { type: 'service_account', client_email: 'sa@p.iam.gserviceaccount.com', private_key: 'SECRET-PRIVATE-KEY' }, private_key: 'SECRET-KEY' };
  const row = credential(leakySanitized);
  const account: StorageAccount = {
    projectName: 'default',
    row: accountRow(type),
    config:
      type === 'Microsoft.Storage'
        ? { url: 'https://acct.blob.core.windows.net', secretAccessKey: 'SECRET-CONFIG' }
        : { bucketName: 'media', private_key: 'SECRET-CONFIG' },
    credentials: [row],
    active: row,
  };
  return {
    list: async () => [account],
    get: async () => account,
    find: async () => account,
    findProjectById: async () => project,
    findProject: async () => project,
  } as unknown as StorageAccountService;
}

describe('storage responses never carry a credential', () => {
  const app = Fastify();
  const principal: Principal = { userId: 'u1', email: 'a@example.com', organizationId: project.organization_id, role: 'Admin' };
  app.addHook('preValidation', async (req) => {
    req.project = project;
    req.principal = principal;
  });
  const storage = leakyStorage();
  const v1 = `/api/v1/projects/${project.name}/media`;
  void app.register(async (media) => registerV1StorageRoutes(media, storage), { prefix: '/api/v1/projects/:project/media' });
  const accounts = { findProjectById: async () => project, findProject: async () => project } as unknown as AccountService;
  registerLegacyStorageRoutes(app, storage, accounts);
  after(() => app.close());

  const legacy = `/api/accounts/${project.organization_id}/subscriptions/${project.id}/storage`;
  for (const url of [
    `${v1}/storage`,
    `${v1}/storage/store`,
    `${v1}/storage/store/credentials`,
    `${v1}/storage/store/credentials/cred-1`,
    legacy,
    `${legacy}/sa`,
    `${legacy}/sa/credentials`,
    `${legacy}/sa/credentials/cred-1`,
  ]) {
    it(`GET ${url} drops every secret the service handed over`, async () => {
      const res = await app.inject({ method: 'GET', url });
      assert.equal(res.statusCode, 200, res.body);
      assert.doesNotMatch(res.body, /SECRET/);
      assert.doesNotMatch(res.body, /\bsig\b/);
    });
  }
  it('keeps the sanitized SAS itself', async () => {
    const res = await app.inject({ method: 'GET', url: `${v1}/storage/store` });
    assert.deepEqual(res.json<{ spec: { credential: unknown } }>().spec.credential, sas);
  });
});

describe('Google storage responses never carry the private key', () => {
  const app = Fastify();
  const principal: Principal = { userId: 'u1', email: 'a@example.com', organizationId: project.organization_id, role: 'Admin' };
  app.addHook('preValidation', async (req) => {
    req.project = project;
    req.principal = principal;
  });
  const v1 = `/api/v1/projects/${project.name}/media`;
  void app.register(async (media) => registerV1StorageRoutes(media, leakyStorage('Google.Storage')), { prefix: '/api/v1/projects/:project/media' });
  after(() => app.close());

  for (const url of [`${v1}/storage`, `${v1}/storage/store`, `${v1}/storage/store/credentials`, `${v1}/storage/store/credentials/cred-1`]) {
    it(`GET ${url} drops every secret the service handed over`, async () => {
      const res = await app.inject({ method: 'GET', url });
      assert.equal(res.statusCode, 200, res.body);
      assert.doesNotMatch(res.body, /SECRET|private_key"/);
      assert.match(res.body, /sa@p\.iam\.gserviceaccount\.com/);
    });
  }
});
