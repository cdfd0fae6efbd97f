import { Type, type Static } from '@sinclair/typebox';
import type { LiveEventRow, ProjectRow } from '../../../store/database.js';
import { toMkioTime } from '../../../shared/time.js';
import { armId, openObject, systemData, systemDataSchema } from '../envelope.js';
import { listBodySchema } from '../paging.js';
import type { LiveEndpointUrl } from './live-event-control.js';

/** A stored live event, read: the row with its JSON parsed. */
export interface LiveEvent {
  row: LiveEventRow;
  /** The stored MK.IO properties (defaults filled in), without computed members. */
  properties: Record<string, unknown>;
  tags: Record<string, string>;
}

/** MK.IO's live event name rule ([OA] 2–32 characters, letters, digits and inner hyphens; §15). */
export const liveEventName = Type.String({ minLength: 2, maxLength: 32, pattern: '^[a-zA-Z0-9]+(-*[a-zA-Z0-9])*$' });

export const encodingTypes = ['None', 'PassthroughBasic', 'PassthroughStandard', 'Standard', 'Premium1080p'] as const;
export type EncodingType = (typeof encodingTypes)[number];
export const ingestProtocols = ['RTMP', 'RTMPS', 'SRT'] as const;
export type IngestProtocol = (typeof ingestProtocols)[number];

/** A string enum as one `enum` keyword, so a wrong value's 400 lists the allowed ones (not one error per literal). */
const literals = <T extends string>(values: readonly T[]) => Type.Unsafe<T>({ type: 'string', enum: [...values] });

const ipRange = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 32 })),
    address: Type.String({ minLength: 1 }),
    subnetPrefixLength: Type.Optional(Type.Integer({ minimum: 0, maximum: 32 })),
  },
  { additionalProperties: false },
);
const ipAccessControl = Type.Object(
  { ip: Type.Optional(Type.Object({ allow: Type.Array(ipRange, { maxItems: 100 }) }, { additionalProperties: false })) },
  { additionalProperties: false },
);
// Read-only members a client echoes back from a GET: accepted and ignored.
const endpointsEcho = Type.Optional(Type.Array(Type.Object({ protocol: Type.Optional(Type.String()), url: Type.Optional(Type.String()) })));

const encoding = Type.Object(
  {
    encodingType: literals(encodingTypes),
    presetName: Type.Optional(Type.String({ maxLength: 64 })),
    keyFrameInterval: Type.Optional(Type.String({ maxLength: 64 })),
    stretchMode: Type.Optional(literals(['None', 'AutoSize', 'AutoFit'])),
  },
  { additionalProperties: false },
);
const input = Type.Object(
  {
    streamingProtocol: Type.Optional(literals(ingestProtocols)),
    // Spliced into the ingest URLs (RTMP path, SRT query), so URL-safe characters only.
    accessToken: Type.Optional(Type.String({ minLength: 10, maxLength: 79, pattern: '^[A-Za-z0-9._~-]+$' })),
    keyFrameIntervalDuration: Type.Optional(Type.String({ maxLength: 64 })),
    accessControl: Type.Optional(ipAccessControl),
    timedMetadataEndpoints: Type.Optional(Type.Array(Type.Object({ url: Type.String({ maxLength: 2048 }) }, { additionalProperties: false }), { maxItems: 8 })),
    endpoints: endpointsEcho,
  },
  { additionalProperties: false },
);
const preview = Type.Object(
  {
    streamingPolicyName: Type.Optional(Type.String({ maxLength: 260 })),
    previewLocator: Type.Optional(Type.String({ format: 'uuid' })),
    accessControl: Type.Optional(ipAccessControl),
    alternativeMediaId: Type.Optional(Type.String({ maxLength: 260 })),
    endpoints: endpointsEcho,
  },
  { additionalProperties: false },
);
const crossSiteAccessPolicies = Type.Object(
  {
    clientAccessPolicy: Type.Optional(Type.Union([Type.String({ maxLength: 65_536 }), Type.Null()])),
    crossDomainPolicy: Type.Optional(Type.Union([Type.String({ maxLength: 65_536 }), Type.Null()])),
  },
  { additionalProperties: false },
);

const settableProperties = {
  description: Type.Optional(Type.String({ maxLength: 4096 })),
  useStaticHostname: Type.Optional(Type.Boolean()),
  hostnamePrefix: Type.Optional(Type.String({ maxLength: 63, pattern: '^([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)?$' })),
  streamOptions: Type.Optional(Type.Array(literals(['Default', 'LowLatency']), { minItems: 1, maxItems: 1 })),
  encoding: Type.Optional(encoding),
  input: Type.Optional(input),
  preview: Type.Optional(preview),
  crossSiteAccessPolicies: Type.Optional(crossSiteAccessPolicies),
  transcriptions: Type.Optional(Type.Array(Type.Unknown(), { maxItems: 0 })),
  pipeline: Type.Optional(Type.Object({ name: Type.String({ maxLength: 255 }), arguments: Type.Optional(Type.Object({})) })),
};
const readOnly = {
  created: Type.Optional(Type.String()),
  lastModified: Type.Optional(Type.String()),
  provisioningState: Type.Optional(Type.String()),
  resourceState: Type.Optional(Type.String()),
};
const tags = Type.Record(Type.String({ minLength: 1, maxLength: 64 }), Type.String({ maxLength: 64 }), { maxProperties: 16 });

export const liveEventPutBody = Type.Object({
  location: Type.Optional(Type.String({ maxLength: 64 })),
  tags: Type.Optional(tags),
  name: Type.Optional(Type.String()),
  properties: Type.Object({ ...settableProperties, ...readOnly }, { additionalProperties: false }),
});
export type LiveEventPutBody = Static<typeof liveEventPutBody>;
export type LiveEventGivenProperties = LiveEventPutBody['properties'];

/** PATCH: MK.IO lets only `pipeline` change; other members may be sent back unchanged (read-modify-write). */
export const liveEventPatchBody = Type.Object({
  location: Type.Optional(Type.String({ maxLength: 64 })),
  tags: Type.Optional(tags),
  name: Type.Optional(Type.String()),
  properties: Type.Optional(Type.Object({ ...settableProperties, ...readOnly }, { additionalProperties: false })),
});
export type LiveEventPatchBody = Static<typeof liveEventPatchBody>;

/**
 * The LiveEvent resource (§15). `properties` are the stored ones (as given, defaults filled in) with the computed
 * endpoint lists, states and times: an open object, so the serializer keeps their order.
 */
export const liveEventResponse = Type.Object({
  name: Type.String(),
  id: Type.String(),
  type: Type.Literal('Microsoft.Media/mediaservices/liveevents'),
  location: Type.String(),
  tags: Type.Record(Type.String(), Type.String()),
  properties: openObject(
    'LiveEvent properties: the settings given (defaults filled in), input.endpoints and preview.endpoints, provisioningState, resourceState, created, lastModified',
  ),
  systemData: systemDataSchema,
});
export type WireLiveEvent = Static<typeof liveEventResponse>;
export const liveEventListResponse = listBodySchema(liveEventResponse);
export const liveEventStateResponse = Type.Object({ status: Type.Object({ state: Type.String() }) });

/** Reel's ingest health of a running event (not an MK.IO member: the console's status panel reads it). */
export const ingestHealthResponse = Type.Object({
  isConnected: Type.Boolean(),
  bitrateBps: Type.Number(),
  frameRate: Type.Number(),
  lastFrameTime: Type.Optional(Type.String()),
  /** The last problem with the stream (an unsupported codec, a refused reconnect with another codec configuration). */
  lastError: Type.Optional(Type.String()),
});

/** What a wire event needs besides the stored one: its computed endpoint lists. */
export interface LiveEventEndpoints {
  input: LiveEndpointUrl[];
  preview: LiveEndpointUrl[];
}

export function toWireLiveEvent(e: LiveEvent, project: ProjectRow, endpoints: LiveEventEndpoints): WireLiveEvent {
  const p = e.properties;
  return {
    name: e.row.name,
    id: armId(project.id, project.name, 'liveEvents', e.row.name),
    type: 'Microsoft.Media/mediaservices/liveevents',
    location: e.row.location,
    tags: e.tags,
    properties: {
      ...p,
      input: { ...(p.input as Record<string, unknown>), endpoints: endpoints.input },
      preview: { ...(p.preview as Record<string, unknown>), endpoints: endpoints.preview },
      provisioningState: 'Succeeded',
      resourceState: e.row.resource_state,
      created: toMkioTime(e.row.created_at),
      lastModified: toMkioTime(e.row.updated_at),
    },
    systemData: systemData(e.row, e.row.id),
  };
}
