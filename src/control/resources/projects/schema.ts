import { Type, type Static } from '@sinclair/typebox';
import { listBodySchema } from '../paging.js';

/** Wire shapes of the Management API's projects (`/api/v1/projects…`, MK.IO ProjectGetSchema and friends). */

/**
 * Project names are DNS labels: they appear in URLs (`/api/ams/{project}`), in streaming host names
 * (`{endpoint}-{project}.{domain}`) and as the directory of the project's local storage area.
 */
export const projectNamePattern = '^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$';
export const projectNameParams = Type.Object({ project: Type.String({ minLength: 1, maxLength: 63, pattern: projectNamePattern }) });

export const projectCreateBody = Type.Object(
  {
    displayName: Type.String({ minLength: 1, maxLength: 255 }),
    locationName: Type.String({ minLength: 1, maxLength: 64 }),
    // MK.IO bills projects to a payment method; Reel has none to check, so the id is optional and only kept.
    paymentMethodId: Type.Optional(Type.String({ format: 'uuid' })),
  },
  { additionalProperties: false },
);
export type ProjectCreateBody = Static<typeof projectCreateBody>;

export const projectPatchBody = Type.Object(
  {
    metadata: Type.Optional(Type.Object({ displayName: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })) }, { additionalProperties: false })),
    spec: Type.Optional(Type.Object({ isActive: Type.Optional(Type.Boolean()), isHidden: Type.Optional(Type.Boolean()) }, { additionalProperties: false })),
  },
  { additionalProperties: false },
);
export type ProjectPatchBody = Static<typeof projectPatchBody>;

export const projectResponse = Type.Object({
  kind: Type.Literal('Project'),
  metadata: Type.Object({
    id: Type.String(),
    name: Type.String(),
    displayName: Type.String(),
    created: Type.String(),
    updated: Type.String(),
    createdById: Type.String(),
    createdBy: Type.String(),
    createdByName: Type.String(),
    createdByEmail: Type.String(),
    cloud: Type.Object({ id: Type.String(), name: Type.String(), displayName: Type.String() }),
  }),
  spec: Type.Object({
    name: Type.String(),
    displayName: Type.String(),
    isActive: Type.Boolean(),
    isHidden: Type.Boolean(),
    locationId: Type.String(),
    locationName: Type.String(),
    locationDisplayName: Type.String(),
    assignedPaymentMethodId: Type.Union([Type.String(), Type.Null()]),
  }),
});
export type ProjectResponse = Static<typeof projectResponse>;

export const projectListResponse = listBodySchema(projectResponse);
