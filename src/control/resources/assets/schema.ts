import { Type, type Static } from '@sinclair/typebox';
import type { AssetRow, ProjectRow } from '../../../store/database.js';
import { armId, mkioTime, openObject, systemData, systemDataSchema } from '../envelope.js';
import { listBodySchema } from '../paging.js';
import { toMkioTime } from '../../../shared/time.js';
import type { AssetInput } from './service.js';
import { nameRule } from '../names.js';

/** Asset names (§7): MK.IO's 260 characters under the media name rule (names.ts). */
export const assetName = nameRule(260);

const labels = Type.Record(Type.String({ pattern: '^[A-Za-z0-9_-]{1,256}$' }), Type.String({ maxLength: 256, pattern: '^[A-Za-z0-9_ -]*$' }), {
  maxProperties: 32,
});

/**
 * PUT body (§7.1). Read-only fields a client echoes back from a GET (assetId, created…) are accepted and ignored,
 * so GET → edit → PUT round trips work; unknown properties are rejected with their name.
 */
export const assetPutBody = Type.Object(
  {
    properties: Type.Object(
      {
        storageAccountName: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
        container: Type.Optional(Type.String({ minLength: 3, maxLength: 63 })),
        subPath: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
        description: Type.Optional(Type.String({ maxLength: 4096 })),
        alternateId: Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Null()])),
        containerDeletionPolicy: Type.Optional(Type.Union([Type.Literal('Delete'), Type.Literal('Retain')])),
        storageEncryptionFormat: Type.Optional(Type.Union([Type.Literal('None'), Type.Literal('MediaStorageClientEncryption')])),
        encryptionScope: Type.Optional(Type.String()),
        assetId: Type.Optional(Type.String()),
        created: Type.Optional(Type.String()),
        lastModified: Type.Optional(Type.String()),
      },
      { additionalProperties: false },
    ),
    labels: Type.Optional(labels),
    name: Type.Optional(Type.String()),
    id: Type.Optional(Type.String()),
    type: Type.Optional(Type.String()),
    systemData: Type.Optional(Type.Object({})),
  },
  { additionalProperties: false },
);
export type AssetPutBody = Static<typeof assetPutBody>;

export function assetInput(body: AssetPutBody): AssetInput {
  const p = body.properties;
  return {
    storageAccountName: p.storageAccountName,
    container: p.container,
    subPath: p.subPath,
    description: p.description,
    alternateId: p.alternateId,
    containerDeletionPolicy: p.containerDeletionPolicy,
    storageEncryptionFormat: p.storageEncryptionFormat,
    labels: body.labels,
  };
}

/** The Asset resource as MK.IO answers it (§7). */
export const assetResponse = Type.Object({
  name: Type.String(),
  id: Type.String(),
  type: Type.Literal('Microsoft.Media/mediaservices/assets'),
  labels: Type.Record(Type.String(), Type.String()),
  properties: Type.Object({
    assetId: Type.String(),
    container: Type.String(),
    storageAccountName: Type.String(),
    description: Type.String(),
    alternateId: Type.Optional(Type.String()),
    containerDeletionPolicy: Type.Optional(Type.String()),
    storageEncryptionFormat: Type.Optional(Type.String()),
    created: Type.Optional(mkioTime),
    lastModified: Type.Optional(mkioTime),
    subPath: Type.Optional(Type.String()),
  }),
  systemData: systemDataSchema,
});
export type WireAsset = Static<typeof assetResponse>;
export const assetListResponse = listBodySchema(assetResponse);

/** GET of one asset adds where it was read from. */
export const assetGetResponse = Type.Object({
  ...assetResponse.properties,
  supplemental: Type.Object({ operation: Type.Literal('get'), subscription: Type.Object({ id: Type.String(), name: Type.String() }) }),
});

export const assetStateResponse = Type.Object({ status: Type.Object({ state: Type.String() }) });

/** `listStreamingLocators`: each locator's name and properties, passed through as the locator answers them. */
export const assetLocatorsResponse = Type.Object({ streamingLocators: Type.Array(openObject('A streaming locator: name and properties')) });

/** `GET …/assets/{name}/storage/` (§7.4, storage-listing.ts). */
export const assetStorageResponse = Type.Object({
  metadata: Type.Object({ id: Type.String(), name: Type.String() }),
  spec: Type.Object({
    formatHint: Type.Literal('ams.v0'),
    container: Type.String(),
    folders: Type.Array(Type.Object({ name: Type.String() })),
    files: Type.Array(Type.Object({ name: Type.String(), size: Type.Number() })),
    tracks: openObject('Tracks of each .ism manifest, by file name'),
    mediaInfo: openObject('Reel extension: tracks read from each media file, by file name'),
    error: Type.Record(Type.String(), Type.String(), { description: 'Why a file could not be read, by file name' }),
  }),
});

/** `getFileAccessInfo`: a read grant for the asset's container (or subPath). */
export const fileAccessInfoResponse = Type.Object({
  storageAccountName: Type.String(),
  containerName: Type.String(),
  subPath: Type.Optional(Type.String()),
  url: Type.Optional(Type.String()),
  jwt: Type.Optional(Type.String()),
});

export const uploadUrlResponse = Type.Object({
  method: Type.Literal('PUT'),
  fileName: Type.String(),
  expires: Type.String(),
  url: Type.String(),
});

export function toWireAsset(row: AssetRow, project: ProjectRow): WireAsset {
  return {
    name: row.name,
    id: armId(project.id, project.name, 'assets', row.name),
    type: 'Microsoft.Media/mediaservices/assets',
    labels: JSON.parse(row.labels) as Record<string, string>,
    properties: {
      assetId: row.id,
      container: row.container,
      storageAccountName: row.storage_account_name,
      description: row.description,
      ...(row.alternate_id !== null ? { alternateId: row.alternate_id } : {}),
      containerDeletionPolicy: row.container_deletion_policy,
      storageEncryptionFormat: row.storage_encryption_format,
      created: toMkioTime(row.created_at),
      lastModified: toMkioTime(row.updated_at),
      ...(row.sub_path ? { subPath: row.sub_path } : {}),
    },
    systemData: systemData(row, row.id),
  };
}

/** Reel extension (MK.IO has no upload API, §7.3): a signed URL to PUT one file into the asset. */
export const uploadUrlBody = Type.Object(
  {
    fileName: Type.String({ minLength: 1, maxLength: 1024 }),
    expiresInMinutes: Type.Optional(Type.Integer({ minimum: 1, maximum: 24 * 60 })),
  },
  { additionalProperties: false },
);
