import { Type, type Static } from '@sinclair/typebox';
import type { ProjectRow } from '../../../store/database.js';
import { toMkioTime } from '../../../shared/time.js';
import { armId, openObject, systemData, systemDataSchema } from '../envelope.js';
import { listBodySchema } from '../paging.js';
import type { StreamingEndpoint } from './service.js';

/** MK.IO's streaming endpoint name rule ([OA] 1–64, letters, digits and inner hyphens; §11). */
export const streamingEndpointName = Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-zA-Z0-9]+(-*[a-zA-Z0-9])*$' });

const ipAllow = Type.Object({
  address: Type.String({ minLength: 1 }),
  name: Type.Optional(Type.String()),
  subnetPrefixLength: Type.Optional(Type.Integer({ minimum: 0, maximum: 128 })),
});
const endpointProperties = {
  description: Type.Optional(Type.String({ maxLength: 1024 })),
  scaleUnits: Type.Optional(Type.Integer({ minimum: 0, maximum: 10 })),
  sku: Type.Optional(
    Type.Object({ name: Type.Optional(Type.Union([Type.Literal('Standard'), Type.Literal('Premium')])), capacity: Type.Optional(Type.Integer()) }),
  ),
  cdnEnabled: Type.Optional(Type.Boolean()),
  cdnProfile: Type.Optional(Type.String({ maxLength: 100 })),
  cdnProvider: Type.Optional(Type.String()),
  maxCacheAge: Type.Optional(Type.Integer({ minimum: 0, maximum: 2_592_000 })),
  maxManifestCacheAge: Type.Optional(Type.Integer({ minimum: 0, maximum: 2_592_000 })),
  accessControl: Type.Optional(
    Type.Object({
      ip: Type.Optional(Type.Object({ allow: Type.Array(ipAllow) })),
      akamai: Type.Optional(Type.Object({})),
    }),
  ),
  crossSiteAccessPolicies: Type.Optional(
    Type.Object({
      clientAccessPolicy: Type.Optional(Type.Union([Type.String(), Type.Null()])),
      crossDomainPolicy: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    }),
  ),
  customHostNames: Type.Optional(Type.Array(Type.String())),
  publicName: Type.Optional(Type.String({ minLength: 3, maxLength: 63, pattern: '^[a-z0-9]+(-[a-z0-9]+)*$' })),
  serverCredentialNames: Type.Optional(Type.Array(Type.String())),
  shieldCache: Type.Optional(Type.Object({ scaleUnits: Type.Optional(Type.Integer({ minimum: 0, maximum: 1024 })) })),
  urlStyle: Type.Optional(Type.String()),
  advancedSettingsName: Type.Optional(Type.String()),
};
// Read-only fields echoed back from a GET are accepted and ignored.
const readOnly = {
  hostName: Type.Optional(Type.String()),
  cdnBasePath: Type.Optional(Type.String()),
  provisioningState: Type.Optional(Type.String()),
  resourceState: Type.Optional(Type.String()),
  created: Type.Optional(Type.String()),
  lastModified: Type.Optional(Type.String()),
};
const tags = Type.Record(Type.String(), Type.String({ maxLength: 256 }), { maxProperties: 2 });
export const endpointPutBody = Type.Object({
  location: Type.String({ minLength: 1, maxLength: 64 }),
  tags: Type.Optional(tags),
  properties: Type.Object({ ...endpointProperties, ...readOnly }, { additionalProperties: false }),
  name: Type.Optional(Type.String()),
});
export const endpointPatchBody = Type.Object({
  location: Type.Optional(Type.String()),
  tags: Type.Optional(tags),
  properties: Type.Optional(Type.Object({ ...endpointProperties, ...readOnly }, { additionalProperties: false })),
  name: Type.Optional(Type.String()),
});

/** The body's properties without the read-only fields a client echoed back from a GET. */
export const stripReadOnly = (p: Record<string, unknown>): Record<string, unknown> => {
  const { hostName: _h, cdnBasePath: _c, provisioningState: _p, resourceState: _r, created: _cr, lastModified: _l, ...rest } = p;
  return rest;
};

/**
 * The StreamingEndpoint resource (§11). `properties` are the user's own, in the order they were given, followed by
 * the computed ones (sku, hostName, states, times): an open object, so the serializer keeps that order.
 */
export const endpointResponse = Type.Object({
  name: Type.String(),
  id: Type.String(),
  type: Type.Literal('Microsoft.Media/mediaservices/streamingEndpoints'),
  location: Type.String(),
  tags: Type.Record(Type.String(), Type.String()),
  properties: openObject(
    'StreamingEndpoint properties: the settings given, then sku, hostName, cdnBasePath, provisioningState, resourceState, created, lastModified',
  ),
  systemData: systemDataSchema,
});
export type WireEndpoint = Static<typeof endpointResponse>;
export const endpointListResponse = listBodySchema(endpointResponse);
export const endpointStateResponse = Type.Object({ status: Type.Object({ state: Type.String() }) });

/** The StreamingEndpoint resource; `hostName` gives the `{endpoint}-{project}.{domain}` host that routes to it. */
export function toWireEndpoint(e: StreamingEndpoint, project: ProjectRow, hostName: (endpoint: string, project: string) => string): WireEndpoint {
  const scaleUnits = (e.properties.scaleUnits as number | undefined) ?? 0;
  return {
    name: e.row.name,
    id: armId(project.id, project.name, 'streamingEndpoints', e.row.name),
    type: 'Microsoft.Media/mediaservices/streamingEndpoints',
    location: e.row.location,
    tags: e.tags,
    properties: {
      ...e.properties,
      scaleUnits,
      sku: { name: scaleUnits > 0 ? 'Premium' : 'Standard', capacity: scaleUnits > 0 ? scaleUnits * 200 : 600 },
      hostName: hostName(e.row.name, project.name),
      cdnBasePath: '',
      provisioningState: 'Succeeded',
      resourceState: e.state,
      created: toMkioTime(e.row.created_at),
      lastModified: toMkioTime(e.row.updated_at),
    },
    systemData: systemData(e.row, e.row.id),
  };
}
