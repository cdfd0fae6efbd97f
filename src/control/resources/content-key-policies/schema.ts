import { Type, type Static } from '@sinclair/typebox';
import type { ProjectRow } from '../../../store/database.js';
import { toMkioTime } from '../../../shared/time.js';
import type { ContentKeyPolicyOption } from '../../../shared/content-protection.js';
import { armId, openObject, systemData, systemDataSchema } from '../envelope.js';
import { listBodySchema } from '../paging.js';
import { nameRule } from '../names.js';
import type { ContentKeyPolicyView } from './service.js';

/** Content key policy names (§14): 260 characters under the media name rule (names.ts). */
export const contentKeyPolicyName = nameRule(260);

/**
 * PUT and PATCH body (§14; PATCH is the full schema too). `options` are checked field by field in the service
 * (policy-options.ts) so a 400 names the field; read-only fields a client copies from a GET are accepted and ignored.
 */
export const contentKeyPolicyBody = Type.Object({
  properties: Type.Object(
    {
      description: Type.Optional(Type.String({ maxLength: 1024 })),
      options: Type.Array(Type.Unknown()),
      fairPlayAmsCompatibility: Type.Optional(Type.Boolean()),
      policyId: Type.Optional(Type.String()),
      created: Type.Optional(Type.String()),
      lastModified: Type.Optional(Type.String()),
    },
    { additionalProperties: false },
  ),
  name: Type.Optional(Type.String()),
  id: Type.Optional(Type.String()),
  type: Type.Optional(Type.String()),
  systemData: Type.Optional(Type.Unknown()),
});
export type ContentKeyPolicyBody = Static<typeof contentKeyPolicyBody>;

export const contentKeyPolicyResponse = Type.Object({
  name: Type.String(),
  id: Type.String(),
  type: Type.Literal('Microsoft.Media/mediaservices/contentKeyPolicies'),
  properties: openObject(
    'ContentKeyPolicy properties: policyId, created, lastModified, description, options (secrets null unless asked for), fairPlayAmsCompatibility',
  ),
  systemData: systemDataSchema,
});
export type WireContentKeyPolicy = Static<typeof contentKeyPolicyResponse>;
export const contentKeyPolicyListResponse = listBodySchema(contentKeyPolicyResponse);
export const contentKeyPolicyStateResponse = Type.Object({ status: Type.Object({ state: Type.String() }) });

export function toWireContentKeyPolicy(view: ContentKeyPolicyView, project: ProjectRow): WireContentKeyPolicy {
  const { row, properties } = view;
  const { description, options, fairPlayAmsCompatibility } = properties;
  return {
    name: row.name,
    id: armId(project.id, project.name, 'contentKeyPolicies', row.name),
    type: 'Microsoft.Media/mediaservices/contentKeyPolicies',
    properties: {
      policyId: row.policy_id,
      created: toMkioTime(row.created_at),
      lastModified: toMkioTime(row.updated_at),
      ...(description !== undefined ? { description } : {}),
      options: options satisfies ContentKeyPolicyOption[],
      ...(fairPlayAmsCompatibility !== undefined ? { fairPlayAmsCompatibility } : {}),
    },
    systemData: systemData(row, row.id),
  };
}
