import { Type, type Static } from '@sinclair/typebox';
import type { AssetRow, ProjectRow } from '../../../store/database.js';
import { armId, systemData } from '../envelope.js';
import { toMkioTime } from '../../../shared/time.js';
import type { AssetInput } from './service.js';
import { nameRule } from '../names.js';

/** Asset names (§7): MK.IO's 260 characters under the media name rule (names.ts). */
export const assetName = nameRule(260);

const labels = Type.Record(Type.String({ pattern: '^[A-Za-z0-9_-]{1,256}$' }), Type.String({ maxLength: 256, pattern: '^[A-Za-z0-9_ -]*$' }), { maxProperties: 32 });

/**
 * PUT body (§7.1). Read-only fields a client echoes back from a GET (assetId, created…) are accepted and ignored,
 * so GET → edit → PUT round trips work; unknown properties are rejected with their name.
 */
export const assetPutBody = Type.Object({
  properties: Type.Object({
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
  }, { additionalProperties: false }),
  labels: Type.Optional(labels),
  name: Type.Optional(Type.String()),
  id: Type.Optional(Type.String()),
  type: Type.Optional(Type.String()),
  systemData: Type.Optional(Type.Object({})),
}, { additionalProperties: false });
export type AssetPutBody = Static<typeof assetPutBody>;

export function assetInput(body: AssetPutBody): AssetInput {
  const p = body.properties;
  return {
    storageAccountName: p.storageAccountName, container: p.container, subPath: p.subPath, description: p.description,
    alternateId: p.alternateId, containerDeletionPolicy: p.containerDeletionPolicy, storageEncryptionFormat: p.storageEncryptionFormat,
    labels: body.labels,
  };
}

export function toWireAsset(row: AssetRow, project: ProjectRow): Record<string, unknown> {
  return {
    name: row.name,
    id: armId(project.id, project.name, 'assets', row.name),
    type: 'Microsoft.Media/mediaservices/assets',
    labels: JSON.parse(row.labels) as Record<string, string>,
    properties: {
      assetId: row.id, container: row.container, storageAccountName: row.storage_account_name, description: row.description,
      ...(row.alternate_id !== null ? { alternateId: row.alternate_id } : {}), containerDeletionPolicy: row.container_deletion_policy,
      storageEncryptionFormat: row.storage_encryption_format, created: toMkioTime(row.created_at), lastModified: toMkioTime(row.updated_at),
      ...(row.sub_path ? { subPath: row.sub_path } : {}),
    },
    systemData: systemData(row, row.id),
  };
}

/** Reel extension (MK.IO has no upload API, §7.3): a signed URL to PUT one file into the asset. */
export const uploadUrlBody = Type.Object({
  fileName: Type.String({ minLength: 1, maxLength: 1024 }),
  expiresInMinutes: Type.Optional(Type.Integer({ minimum: 1, maximum: 24 * 60 })),
}, { additionalProperties: false });
