import { Type, type TSchema } from '@sinclair/typebox';
import { toMkioTime } from '../../shared/time.js';

/**
 * An object passed through as stored (presets, `correlationData`, labels, a user's endpoint properties): the
 * response serializer writes every key in the object's own order. A schema that listed known keys would reorder
 * them and drop the unknown ones.
 */
export function openObject(description: string): TSchema {
  return Type.Object({}, { additionalProperties: true, description });
}

/*
 * Response schemas and the wire's byte order: the serializer writes an object's required properties first, then
 * its optional ones, each group in schema order. So in a response schema every property after the first optional
 * one is optional too, even if always present: otherwise it would move ahead of the optional one.
 */

/** A success answered with no body (MK.IO documents deletes and actions so); documented, nothing serialized. */
export function noBody(description: string): TSchema {
  return Type.Null({ description });
}
/** A delete: 200 when something was deleted, 204 when there was nothing to delete. */
export const deleteResponses = { 200: noBody('Deleted'), 204: noBody('There was nothing to delete') };

/** MK.IO time text (`2024-03-26T14:51:19.125280Z`, `toMkioTime`). */
export const mkioTime = Type.String({ description: 'UTC, six fractional digits' });

/** ARM-style resource id as MK.IO emits it; the resource group is literally `default`. */
export function armId(projectId: string, projectName: string, collection: string, name: string): string {
  return `/subscriptions/${projectId}/resourceGroups/default/providers/Microsoft.Media/mediaservices/${projectName}/${collection}/${name}`;
}

/** `systemData` as MK.IO answers it; `internalId` is the resource's own id. */
export const systemDataSchema = Type.Object({
  createdAt: mkioTime,
  createdBy: Type.String(),
  createdByType: Type.Literal('User'),
  lastModifiedAt: mkioTime,
  lastModifiedBy: Type.String(),
  lastModifiedByType: Type.Literal('User'),
  internalId: Type.Optional(Type.String()),
});

export interface SystemData {
  createdAt: string;
  createdBy: string;
  createdByType: 'User';
  lastModifiedAt: string;
  lastModifiedBy: string;
  lastModifiedByType: 'User';
  internalId?: string;
}

export function systemData(row: { created_at: string; created_by: string; updated_at: string; updated_by: string }, internalId?: string): SystemData {
  return {
    createdAt: toMkioTime(row.created_at),
    createdBy: row.created_by,
    createdByType: 'User',
    lastModifiedAt: toMkioTime(row.updated_at),
    lastModifiedBy: row.updated_by,
    lastModifiedByType: 'User',
    ...(internalId ? { internalId } : {}),
  };
}
