import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ProjectRow } from '../../../store/database.js';
import { listBody, type ListQuery } from '../paging.js';
import { deleteResponses } from '../envelope.js';
import { toWireTransform, transformListResponse, transformName, transformPutBody, transformResponse } from './schema.js';
import { transformListFields, type TransformService } from './service.js';
import type { JobService } from '../jobs/service.js';

const params = Type.Object({ project: Type.String(), name: transformName });
const cap = (action: string) => ({ capability: { group: 'ams.transform', action } });

/** Transforms (§9), mounted under both media prefixes. */
export function registerTransformRoutes(app: FastifyInstance, deps: { transforms: TransformService; jobs: JobService }): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { transforms, jobs } = deps;
  const project = (req: FastifyRequest) => req.project as ProjectRow;

  r.get('/transforms', { config: cap('read'), schema: { response: { 200: transformListResponse } } }, async (req) => {
    const { request, page } = transformListFields.parse(req.query as ListQuery);
    const p = project(req);
    const { items, total } = await transforms.list(p.id, page);
    return listBody({ kind: 'Transform', items: items.map((t) => toWireTransform(t, p)), total, request, url: req.url, project: { id: p.id, name: p.name } });
  });
  r.get('/transforms/:name', { config: cap('read'), schema: { params, response: { 200: transformResponse } } }, async (req) =>
    toWireTransform(await transforms.get(project(req).id, req.params.name), project(req)),
  );
  r.put(
    '/transforms/:name',
    { config: cap('create'), schema: { params, body: transformPutBody, response: { 200: transformResponse, 201: transformResponse } } },
    async (req, reply) => {
      const { description, outputs } = req.body.properties;
      const { row, created } = await transforms.put(project(req).id, req.params.name, { description, outputs }, req.principal!);
      return reply.code(created ? 201 : 200).send(toWireTransform(row, project(req)));
    },
  );
  // AMS deleted a transform's jobs with it; unfinished ones are canceled first (docs/MKIO-DIFFERENCES.md).
  r.delete('/transforms/:name', { config: cap('delete'), schema: { params, response: deleteResponses } }, async (req, reply) => {
    const row = await transforms.find(project(req).id, req.params.name);
    if (!row) return reply.code(204).send();
    await jobs.cancelAllOf(row);
    await transforms.delete(row);
    return reply.code(200).send();
  });
}
