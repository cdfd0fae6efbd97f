import { Type, type Static } from '@sinclair/typebox';
import type { ProjectRow, StoredContentKey, StreamingLocatorRow } from '../../../store/database.js';
import { toMkioTime } from '../../../shared/time.js';
import { armId, openObject, systemData, systemDataSchema } from '../envelope.js';
import { listBodySchema } from '../paging.js';
import { nameRule } from '../names.js';

/** Streaming locator names (§13): MK.IO's 260 characters under the media name rule (names.ts). */
export const streamingLocatorName = nameRule(260);

const isoTime = Type.String({ format: 'date-time' });
export const locatorPutBody = Type.Object({
  properties: Type.Object(
    {
      assetName: Type.String({ minLength: 1, maxLength: 260 }),
      streamingPolicyName: Type.String({ minLength: 1, maxLength: 260 }),
      streamingLocatorId: Type.Optional(Type.String({ format: 'uuid' })),
      startTime: Type.Optional(isoTime),
      endTime: Type.Optional(isoTime),
      defaultContentKeyPolicyName: Type.Optional(Type.String({ maxLength: 260 })),
      contentKeys: Type.Optional(
        Type.Array(
          Type.Object(
            {
              id: Type.String({ format: 'uuid' }),
              type: Type.Optional(Type.Union([Type.Literal('EnvelopeEncryption'), Type.Literal('CommonEncryptionCenc'), Type.Literal('CommonEncryptionCbcs')])),
              value: Type.Optional(Type.String({ maxLength: 64 })),
              labelReferenceInStreamingPolicy: Type.Optional(Type.String({ minLength: 1, maxLength: 260 })),
              policyName: Type.Optional(Type.String({ minLength: 1, maxLength: 260 })),
              tracks: Type.Optional(Type.Array(Type.Unknown())),
            },
            { additionalProperties: false },
          ),
          { maxItems: 64 },
        ),
      ),
      filters: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 260 }))),
      alternativeMediaId: Type.Optional(Type.String()),
      contentId: Type.Optional(Type.String({ minLength: 1, maxLength: 260 })),
      defaultManifestFilename: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9 _.,()-]+$' })),
      suppressed: Type.Optional(Type.Boolean()),
      created: Type.Optional(Type.String()),
      provisioningState: Type.Optional(Type.String()),
      resourceState: Type.Optional(Type.String()),
    },
    { additionalProperties: false },
  ),
  name: Type.Optional(Type.String()),
  id: Type.Optional(Type.String()),
  type: Type.Optional(Type.String()),
});

/**
 * The StreamingLocator resource (§13). `properties` start with the settings MK.IO passes through (filters,
 * contentKeys, suppressed…) in the order given: an open object, so the serializer keeps them and their order.
 */
export const locatorResponse = Type.Object({
  name: Type.String(),
  id: Type.String(),
  type: Type.Literal('Microsoft.Media/mediaservices/streamingLocators'),
  properties: openObject(
    'StreamingLocator properties: the settings given, then assetName, streamingPolicyName, streamingLocatorId, created, startTime, endTime, provisioningState, resourceState',
  ),
  systemData: systemDataSchema,
});
export type WireLocator = Static<typeof locatorResponse>;
export const locatorListResponse = listBodySchema(locatorResponse);
export const locatorStateResponse = Type.Object({ status: Type.Object({ state: Type.String() }) });
export const contentKeysResponse = Type.Object({ contentKeys: Type.Array(openObject('A content key')) });

/** `listPaths` (§13.1): host-less playback and download paths. */
export const pathsResponse = Type.Object({
  streamingPaths: Type.Array(Type.Object({ streamingProtocol: Type.String(), encryptionScheme: Type.String(), paths: Type.Array(Type.String()) })),
  downloadPaths: Type.Array(Type.String()),
  drm: Type.Record(Type.String(), Type.Object({ licenseAcquisitionUrl: Type.String(), certificateUrl: Type.Optional(Type.String()) }), {
    description: 'Licence URLs by DRM: clearKey, playReady, widevine, fairPlay',
  }),
});

/** A locator's content keys as GET shows them: everything but `value` (only `listContentKeys` has it). */
export function storedContentKeys(row: StreamingLocatorRow): StoredContentKey[] {
  return row.content_keys ? (JSON.parse(row.content_keys) as StoredContentKey[]) : [];
}

/** The locator's `properties` as MK.IO shapes them; absent times are omitted (the schema has no null). */
export function locatorProperties(row: StreamingLocatorRow): Record<string, unknown> {
  const extra = JSON.parse(row.properties) as Record<string, unknown>;
  const keys = storedContentKeys(row);
  return {
    ...extra,
    ...(keys.length ? { contentKeys: keys.map((k) => ({ ...k, tracks: [] })) } : {}),
    assetName: row.asset_name,
    streamingPolicyName: row.policy_name,
    streamingLocatorId: row.locator_id,
    created: toMkioTime(row.created_at),
    ...(row.start_time ? { startTime: toMkioTime(row.start_time) } : {}),
    ...(row.end_time ? { endTime: toMkioTime(row.end_time) } : {}),
    provisioningState: 'Succeeded',
    resourceState: 'Created',
  };
}

export function toWireLocator(row: StreamingLocatorRow, project: ProjectRow): WireLocator {
  return {
    name: row.name,
    id: armId(project.id, project.name, 'streamingLocators', row.name),
    type: 'Microsoft.Media/mediaservices/streamingLocators',
    properties: locatorProperties(row),
    systemData: systemData(row, row.id),
  };
}
