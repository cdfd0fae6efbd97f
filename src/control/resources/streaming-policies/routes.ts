import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ProjectRow } from '../../../store/database.js';
import { armId, systemData } from '../envelope.js';
import { streamingPolicyName } from './schema.js';
import { listBody, pageInMemory, type ListQuery } from '../paging.js';
import { toMkioTime } from '../../../shared/time.js';
import type { StreamingPolicy, StreamingPolicyService } from './service.js';

const protocols = Type.Object({
  download: Type.Boolean(), dash: Type.Boolean(), hls: Type.Boolean(), smoothStreaming: Type.Boolean(),
}, { additionalProperties: false });
const trackSelections = Type.Array(Type.Object({
  trackSelections: Type.Array(Type.Object({
    property: Type.Union([Type.Literal('Unknown'), Type.Literal('FourCC')]),
    operation: Type.Union([Type.Literal('Unknown'), Type.Literal('Equal')]),
    value: Type.Optional(Type.String()),
  })),
}));
const contentKeys = Type.Object({
  defaultKey: Type.Optional(Type.Object({ label: Type.Optional(Type.String()), policyName: Type.Optional(Type.String()) })),
  keyToTrackMappings: Type.Optional(Type.Array(Type.Object({ label: Type.Optional(Type.String()), policyName: Type.Optional(Type.String()), tracks: Type.Optional(trackSelections) }))),
});
const scheme = (extra: Record<string, ReturnType<typeof Type.Object> | ReturnType<typeof Type.String>> = {}) => Type.Optional(Type.Object({
  enabledProtocols: protocols,
  clearTracks: Type.Optional(trackSelections),
  contentKeys: Type.Optional(contentKeys),
  ...extra,
}));

/** PUT body (§12): at most one block per scheme; encryption blocks are stored now and served by the encryption issue. */
const policyBody = Type.Object({
  properties: Type.Object({
    defaultContentKeyPolicyName: Type.Optional(Type.String({ maxLength: 260 })),
    noEncryption: Type.Optional(Type.Object({ enabledProtocols: protocols })),
    envelopeEncryption: scheme({ customKeyAcquisitionUrlTemplate: Type.String({ minLength: 1, maxLength: 1024 }) }),
    commonEncryptionCenc: scheme({ drm: Type.Object({}), clearKeyEncryptionConfiguration: Type.Object({}) }),
    commonEncryptionCbcs: scheme({ drm: Type.Object({}), clearKeyEncryptionConfiguration: Type.Object({}) }),
    catalog: Type.Optional(Type.Object({})),
  }, { additionalProperties: false }),
  name: Type.Optional(Type.String()),
  id: Type.Optional(Type.String()),
  type: Type.Optional(Type.String()),
});

const epoch = '1970-01-01T00:00:00.000000Z';

function toWire(policy: StreamingPolicy, project: ProjectRow): Record<string, unknown> {
  const row = policy.row;
  return {
    name: policy.name,
    id: armId(project.id, project.name, 'streamingPolicies', policy.name),
    type: 'Microsoft.Media/mediaservices/streamingPolicies',
    properties: { ...policy.properties, created: row ? toMkioTime(row.created_at) : epoch },
    ...(row ? { systemData: systemData(row, row.id) } : {}),
  };
}

const cap = (action: string) => ({ capability: { group: 'ams.streamingPolicy', action } });
const params = Type.Object({ project: Type.String(), name: streamingPolicyName });

export function registerStreamingPolicyRoutes(app: FastifyInstance, policies: StreamingPolicyService): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const project = (req: FastifyRequest) => req.project as ProjectRow;
  r.get('/streamingPolicies', { config: cap('read') }, async (req) => {
    const { items, total, request } = pageInMemory(await policies.list(project(req).id), req.query as ListQuery);
    return listBody({ kind: 'StreamingPolicy', items: items.map((p) => toWire(p, project(req))), total, request, url: req.url });
  });
  r.get('/streamingPolicies/:name', { config: cap('read'), schema: { params } }, async (req) => toWire(await policies.get(project(req).id, req.params.name), project(req)));
  r.put('/streamingPolicies/:name', { config: cap('create'), schema: { params, body: policyBody } }, async (req, reply) => {
    const created = await policies.create(project(req).id, req.params.name, req.body.properties, req.principal!);
    return reply.code(201).send(toWire(created, project(req)));
  });
  r.delete('/streamingPolicies/:name', { config: cap('delete'), schema: { params } }, async (req, reply) => {
    const deleted = await policies.delete(project(req).id, req.params.name);
    return reply.code(deleted ? 200 : 204).send();
  });
}
