import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ProjectRow } from '../../../store/database.js';
import { listBody, type ListQuery } from '../paging.js';
import { deleteResponses } from '../envelope.js';
import {
  contentKeyPolicyBody,
  contentKeyPolicyListResponse,
  contentKeyPolicyName,
  contentKeyPolicyResponse,
  contentKeyPolicyStateResponse,
  toWireContentKeyPolicy,
} from './schema.js';
import { contentKeyPolicyListFields, type ContentKeyPolicyService } from './service.js';
import { secretsAction } from '../../auth/principal.js';

const cap = (action: string) => ({ capability: { group: 'ams.contentKeyPolicy', action } });
const params = Type.Object({ project: Type.String(), name: contentKeyPolicyName });

export function registerContentKeyPolicyRoutes(app: FastifyInstance, policies: ContentKeyPolicyService): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const project = (req: FastifyRequest) => req.project as ProjectRow;
  r.get('/contentKeyPolicies', { config: cap('read'), schema: { response: { 200: contentKeyPolicyListResponse } } }, async (req) => {
    const { request, page } = contentKeyPolicyListFields.parse(req.query as ListQuery);
    const { items, total } = await policies.page(project(req).id, page);
    return listBody({ kind: 'ContentKeyPolicy', items: items.map((p) => toWireContentKeyPolicy(p, project(req))), total, request, url: req.url });
  });
  r.get('/contentKeyPolicies/:name', { config: cap('read'), schema: { params, response: { 200: contentKeyPolicyResponse } } }, async (req) =>
    toWireContentKeyPolicy(await policies.get(project(req).id, req.params.name), project(req)),
  );
  r.get('/contentKeyPolicies/:name/state', { config: cap('read'), schema: { params, response: { 200: contentKeyPolicyStateResponse } } }, async (req) => {
    await policies.get(project(req).id, req.params.name);
    return { status: { state: 'Created' } };
  });
  r.put(
    '/contentKeyPolicies/:name',
    { config: cap('create'), schema: { params, body: contentKeyPolicyBody, response: { 201: contentKeyPolicyResponse } } },
    async (req, reply) => {
      const created = await policies.create(project(req).id, req.params.name, req.body.properties, req.principal!);
      return reply.code(201).send(toWireContentKeyPolicy(created, project(req)));
    },
  );
  r.patch(
    '/contentKeyPolicies/:name',
    { config: cap('update'), schema: { params, body: contentKeyPolicyBody, response: { 200: contentKeyPolicyResponse } } },
    async (req) => toWireContentKeyPolicy(await policies.update(project(req).id, req.params.name, req.body.properties, req.principal!), project(req)),
  );
  r.delete('/contentKeyPolicies/:name', { config: cap('delete'), schema: { params, response: deleteResponses } }, async (req, reply) => {
    const deleted = await policies.delete(project(req).id, req.params.name);
    return reply.code(deleted ? 200 : 204).send();
  });
  /** The whole resource with its secrets ([NET], [GO]); only for callers who may read secrets. */
  r.post(
    '/contentKeyPolicies/:name/getPolicyPropertiesWithSecrets',
    { config: cap(secretsAction), schema: { params, response: { 200: contentKeyPolicyResponse } } },
    async (req, reply) => {
      const revealed = toWireContentKeyPolicy(await policies.withSecrets(project(req).id, req.params.name), project(req));
      // Secrets: no shared or browser cache may keep a copy.
      return reply.header('cache-control', 'no-store').send(revealed);
    },
  );
}
