import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ProjectRow } from '../../../store/database.js';
import { armId, systemData } from '../envelope.js';
import { listBody, pageInMemory, type ListQuery } from '../paging.js';
import { toMkioTime } from '../../../shared/time.js';
import type { StreamingEndpoint, StreamingEndpointService } from './service.js';
import { streamingEndpointName } from './schema.js';

const params = Type.Object({ project: Type.String(), name: streamingEndpointName });

const ipAllow = Type.Object({ address: Type.String({ minLength: 1 }), name: Type.Optional(Type.String()), subnetPrefixLength: Type.Optional(Type.Integer({ minimum: 0, maximum: 128 })) });
const endpointProperties = {
  description: Type.Optional(Type.String({ maxLength: 1024 })),
  scaleUnits: Type.Optional(Type.Integer({ minimum: 0, maximum: 10 })),
  sku: Type.Optional(Type.Object({ name: Type.Optional(Type.Union([Type.Literal('Standard'), Type.Literal('Premium')])), capacity: Type.Optional(Type.Integer()) })),
  cdnEnabled: Type.Optional(Type.Boolean()),
  cdnProfile: Type.Optional(Type.String({ maxLength: 100 })),
  cdnProvider: Type.Optional(Type.String()),
  maxCacheAge: Type.Optional(Type.Integer({ minimum: 0, maximum: 2_592_000 })),
  maxManifestCacheAge: Type.Optional(Type.Integer({ minimum: 0, maximum: 2_592_000 })),
  accessControl: Type.Optional(Type.Object({
    ip: Type.Optional(Type.Object({ allow: Type.Array(ipAllow) })),
    akamai: Type.Optional(Type.Object({})),
  })),
  crossSiteAccessPolicies: Type.Optional(Type.Object({
    clientAccessPolicy: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    crossDomainPolicy: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  })),
  customHostNames: Type.Optional(Type.Array(Type.String())),
  publicName: Type.Optional(Type.String({ minLength: 3, maxLength: 63, pattern: '^[a-z0-9]+(-[a-z0-9]+)*$' })),
  serverCredentialNames: Type.Optional(Type.Array(Type.String())),
  shieldCache: Type.Optional(Type.Object({ scaleUnits: Type.Optional(Type.Integer({ minimum: 0, maximum: 1024 })) })),
  urlStyle: Type.Optional(Type.String()),
  advancedSettingsName: Type.Optional(Type.String()),
};
// Read-only fields echoed back from a GET are accepted and ignored.
const readOnly = {
  hostName: Type.Optional(Type.String()), cdnBasePath: Type.Optional(Type.String()), provisioningState: Type.Optional(Type.String()),
  resourceState: Type.Optional(Type.String()), created: Type.Optional(Type.String()), lastModified: Type.Optional(Type.String()),
};
const tags = Type.Record(Type.String(), Type.String({ maxLength: 256 }), { maxProperties: 2 });
const putBody = Type.Object({
  location: Type.String({ minLength: 1, maxLength: 64 }),
  tags: Type.Optional(tags),
  properties: Type.Object({ ...endpointProperties, ...readOnly }, { additionalProperties: false }),
  name: Type.Optional(Type.String()),
});
const patchBody = Type.Object({
  location: Type.Optional(Type.String()),
  tags: Type.Optional(tags),
  properties: Type.Optional(Type.Object({ ...endpointProperties, ...readOnly }, { additionalProperties: false })),
  name: Type.Optional(Type.String()),
});

const stripReadOnly = (p: Record<string, unknown>): Record<string, unknown> => {
  const { hostName: _h, cdnBasePath: _c, provisioningState: _p, resourceState: _r, created: _cr, lastModified: _l, ...rest } = p;
  return rest;
};

export interface EndpointRouteDeps {
  endpoints: StreamingEndpointService;
  /** `{endpoint}-{project}.{domain}` host that routes to this endpoint. */
  hostName: (endpoint: string, project: string) => string;
}

function toWire(e: StreamingEndpoint, project: ProjectRow, deps: EndpointRouteDeps): Record<string, unknown> {
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
      hostName: deps.hostName(e.row.name, project.name),
      cdnBasePath: '',
      provisioningState: 'Succeeded',
      resourceState: e.state,
      created: toMkioTime(e.row.created_at),
      lastModified: toMkioTime(e.row.updated_at),
    },
    systemData: systemData(e.row, e.row.id),
  };
}

const cap = (action: string) => ({ capability: { group: 'ams.streamingEndpoint', action } });

export function registerStreamingEndpointRoutes(app: FastifyInstance, deps: EndpointRouteDeps): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { endpoints } = deps;
  const project = (req: FastifyRequest) => req.project as ProjectRow;
  const wire = (e: StreamingEndpoint, req: FastifyRequest) => toWire(e, project(req), deps);

  r.get('/streamingEndpoints', { config: cap('read') }, async (req) => {
    const { items, total, request } = pageInMemory(await endpoints.list(project(req).id), req.query as ListQuery);
    return listBody({ kind: 'StreamingEndpoint', items: items.map((e) => wire(e, req)), total, request, url: req.url });
  });
  r.get('/streamingEndpoints/:name', { config: cap('read'), schema: { params } }, async (req) => wire(await endpoints.get(project(req).id, req.params.name), req));
  r.get('/streamingEndpoints/:name/state', { config: cap('read'), schema: { params } }, async (req) => ({ status: { state: (await endpoints.get(project(req).id, req.params.name)).state } }));
  r.put('/streamingEndpoints/:name', {
    config: cap('create'),
    schema: { params, body: putBody, querystring: Type.Object({ autoStart: Type.Optional(Type.Boolean()) }) },
  }, async (req, reply) => {
    const created = await endpoints.create(project(req).id, req.params.name, {
      location: req.body.location, tags: req.body.tags, properties: stripReadOnly(req.body.properties),
    }, req.query.autoStart === true, req.principal!);
    return reply.code(201).send(wire(created, req));
  });
  r.patch('/streamingEndpoints/:name', { config: cap('update'), schema: { params, body: patchBody } }, async (req) =>
    wire(await endpoints.update(project(req).id, req.params.name, { tags: req.body.tags, properties: req.body.properties ? stripReadOnly(req.body.properties) : undefined }, req.principal!), req));
  r.delete('/streamingEndpoints/:name', { config: cap('delete'), schema: { params } }, async (req, reply) => {
    const deleted = await endpoints.delete(project(req).id, req.params.name);
    return reply.code(deleted ? 200 : 204).send();
  });
  // Actions answer 200 with no body (MK.IO documents them so); the state is visible on GET at once.
  for (const [action, state] of [['start', 'Running'], ['stop', 'Stopped'], ['restart', 'Running']] as const) {
    r.post(`/streamingEndpoints/:name/${action}`, { config: cap(action === 'restart' ? 'start' : action), schema: { params } }, async (req, reply) => {
      await endpoints.setState(project(req).id, req.params.name, state, req.principal!);
      return reply.code(200).send();
    });
  }
  r.post('/streamingEndpoints/:name/scale', { config: cap('scale'), schema: { params, body: Type.Object({ scaleUnit: Type.Integer({ minimum: 0, maximum: 10 }) }) } }, async (req, reply) => {
    await endpoints.scale(project(req).id, req.params.name, req.body.scaleUnit, req.principal!);
    return reply.code(200).send();
  });
}
