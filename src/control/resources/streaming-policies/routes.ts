import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ProjectRow } from '../../../store/database.js';
import { policyBody, policyListResponse, policyResponse, streamingPolicyName, toWirePolicy } from './schema.js';
import { listBody, type ListQuery } from '../paging.js';
import { deleteResponses } from '../envelope.js';
import { policyListFields, type StreamingPolicyService } from './service.js';

const cap = (action: string) => ({ capability: { group: 'ams.streamingPolicy', action } });
const params = Type.Object({ project: Type.String(), name: streamingPolicyName });

export function registerStreamingPolicyRoutes(app: FastifyInstance, policies: StreamingPolicyService): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const project = (req: FastifyRequest) => req.project as ProjectRow;
  r.get('/streamingPolicies', { config: cap('read'), schema: { response: { 200: policyListResponse } } }, async (req) => {
    const { request, page } = policyListFields.parse(req.query as ListQuery);
    const { items, total } = await policies.page(project(req).id, page);
    return listBody({ kind: 'StreamingPolicy', items: items.map((p) => toWirePolicy(p, project(req))), total, request, url: req.url });
  });
  r.get('/streamingPolicies/:name', { config: cap('read'), schema: { params, response: { 200: policyResponse } } }, async (req) =>
    toWirePolicy(await policies.get(project(req).id, req.params.name), project(req)),
  );
  r.put('/streamingPolicies/:name', { config: cap('create'), schema: { params, body: policyBody, response: { 201: policyResponse } } }, async (req, reply) => {
    const created = await policies.create(project(req).id, req.params.name, req.body.properties, req.principal!);
    return reply.code(201).send(toWirePolicy(created, project(req)));
  });
  r.delete('/streamingPolicies/:name', { config: cap('delete'), schema: { params, response: deleteResponses } }, async (req, reply) => {
    const deleted = await policies.delete(project(req).id, req.params.name);
    return reply.code(deleted ? 200 : 204).send();
  });
}
