import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ProjectRow } from '../../../store/database.js';
import { listBody, type ListQuery } from '../paging.js';
import { deleteResponses, noBody } from '../envelope.js';
import { endpointListFields, type StreamingEndpoint, type StreamingEndpointService } from './service.js';
import {
  endpointListResponse,
  endpointPatchBody,
  endpointPutBody,
  endpointResponse,
  endpointStateResponse,
  streamingEndpointName,
  stripReadOnly,
  toWireEndpoint,
} from './schema.js';
import { isTrue, queryBoolean } from '../query-values.js';

const params = Type.Object({ project: Type.String(), name: streamingEndpointName });

export interface EndpointRouteDeps {
  endpoints: StreamingEndpointService;
  /** `{endpoint}-{project}.{domain}` host that routes to this endpoint. */
  hostName: (endpoint: string, project: string) => string;
}

const cap = (action: string) => ({ capability: { group: 'ams.streamingEndpoint', action } });

export function registerStreamingEndpointRoutes(app: FastifyInstance, deps: EndpointRouteDeps): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { endpoints } = deps;
  const project = (req: FastifyRequest) => req.project as ProjectRow;
  const wire = (e: StreamingEndpoint, req: FastifyRequest) => toWireEndpoint(e, project(req), deps.hostName);

  r.get('/streamingEndpoints', { config: cap('read'), schema: { response: { 200: endpointListResponse } } }, async (req) => {
    const { request, page } = endpointListFields.parse(req.query as ListQuery);
    const { items, total } = await endpoints.page(project(req).id, page);
    return listBody({ kind: 'StreamingEndpoint', items: items.map((e) => wire(e, req)), total, request, url: req.url });
  });
  r.get('/streamingEndpoints/:name', { config: cap('read'), schema: { params, response: { 200: endpointResponse } } }, async (req) =>
    wire(await endpoints.get(project(req).id, req.params.name), req),
  );
  r.get('/streamingEndpoints/:name/state', { config: cap('read'), schema: { params, response: { 200: endpointStateResponse } } }, async (req) => ({
    status: { state: (await endpoints.get(project(req).id, req.params.name)).state },
  }));
  r.put(
    '/streamingEndpoints/:name',
    {
      config: cap('create'),
      schema: { params, body: endpointPutBody, querystring: Type.Object({ autoStart: Type.Optional(queryBoolean) }), response: { 201: endpointResponse } },
    },
    async (req, reply) => {
      const created = await endpoints.create(
        project(req).id,
        req.params.name,
        {
          location: req.body.location,
          tags: req.body.tags,
          properties: stripReadOnly(req.body.properties),
        },
        isTrue(req.query.autoStart),
        req.principal!,
      );
      return reply.code(201).send(wire(created, req));
    },
  );
  r.patch(
    '/streamingEndpoints/:name',
    { config: cap('update'), schema: { params, body: endpointPatchBody, response: { 200: endpointResponse } } },
    async (req) =>
      wire(
        await endpoints.update(
          project(req).id,
          req.params.name,
          { tags: req.body.tags, properties: req.body.properties ? stripReadOnly(req.body.properties) : undefined },
          req.principal!,
        ),
        req,
      ),
  );
  r.delete('/streamingEndpoints/:name', { config: cap('delete'), schema: { params, response: deleteResponses } }, async (req, reply) => {
    const deleted = await endpoints.delete(project(req).id, req.params.name);
    return reply.code(deleted ? 200 : 204).send();
  });
  // Actions answer 200 with no body (MK.IO documents them so); the state is visible on GET at once.
  for (const [action, state] of [
    ['start', 'Running'],
    ['stop', 'Stopped'],
    ['restart', 'Running'],
  ] as const) {
    r.post(
      `/streamingEndpoints/:name/${action}`,
      { config: cap(action === 'restart' ? 'start' : action), schema: { params, response: { 200: noBody(`${state}: visible on GET at once`) } } },
      async (req, reply) => {
        await endpoints.setState(project(req).id, req.params.name, state, req.principal!);
        return reply.code(200).send();
      },
    );
  }
  r.post(
    '/streamingEndpoints/:name/scale',
    {
      config: cap('scale'),
      schema: { params, body: Type.Object({ scaleUnit: Type.Integer({ minimum: 0, maximum: 10 }) }), response: { 200: noBody('Scaled') } },
    },
    async (req, reply) => {
      await endpoints.scale(project(req).id, req.params.name, req.body.scaleUnit, req.principal!);
      return reply.code(200).send();
    },
  );
}
