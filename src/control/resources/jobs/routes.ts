import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ProjectRow } from '../../../store/database.js';
import { resourceName } from '../names.js';
import { transformName } from '../transforms/schema.js';
import { listBody, type ListQuery } from '../paging.js';
import { deleteResponses, noBody } from '../envelope.js';
import type { TransformService } from '../transforms/service.js';
import { jobListResponse, jobName, jobPatchBody, jobPutBody, jobResponse, jobStateResponse, toWireJob } from './schema.js';
import { jobListFields, type JobService } from './service.js';

const transformParams = Type.Object({ project: Type.String(), transform: transformName });
/** Reads accept any media resource name (names.ts); creation enforces the stricter job name rule. */
const params = Type.Object({ project: Type.String(), transform: transformName, name: resourceName });
const putParams = Type.Object({ project: Type.String(), transform: transformName, name: jobName });
const cap = (action: string) => ({ capability: { group: 'ams.job', action } });

/** Jobs (§10), mounted under both media prefixes: per transform, and project-wide at `/jobs`. */
export function registerJobRoutes(app: FastifyInstance, deps: { jobs: JobService; transforms: TransformService }): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { jobs, transforms } = deps;
  const project = (req: FastifyRequest) => req.project as ProjectRow;

  r.get('/jobs', { config: cap('read'), schema: { response: { 200: jobListResponse } } }, async (req) => {
    const { request, page } = jobListFields.parse(req.query as ListQuery);
    const p = project(req);
    const { items, total } = await jobs.list(p.id, page);
    return listBody({ kind: 'Job', items: items.map((j) => toWireJob(j, p)), total, request, url: req.url, project: { id: p.id, name: p.name } });
  });
  r.get('/transforms/:transform/jobs', { config: cap('read'), schema: { params: transformParams, response: { 200: jobListResponse } } }, async (req) => {
    const { request, page } = jobListFields.parse(req.query as ListQuery);
    const p = project(req);
    const transform = await transforms.get(p.id, req.params.transform);
    const { items, total } = await jobs.list(p.id, page, { transformId: transform.id });
    return listBody({ kind: 'Job', items: items.map((j) => toWireJob(j, p)), total, request, url: req.url, project: { id: p.id, name: p.name } });
  });
  r.get('/transforms/:transform/jobs/:name', { config: cap('read'), schema: { params, response: { 200: jobResponse } } }, async (req) =>
    toWireJob(await jobs.get(project(req).id, req.params.transform, req.params.name), project(req)),
  );
  r.get('/transforms/:transform/jobs/:name/state', { config: cap('read'), schema: { params, response: { 200: jobStateResponse } } }, async (req) => ({
    status: { state: (await jobs.get(project(req).id, req.params.transform, req.params.name)).state },
  }));
  r.put(
    '/transforms/:transform/jobs/:name',
    { config: cap('create'), schema: { params: putParams, body: jobPutBody, response: { 201: jobResponse } } },
    async (req, reply) => {
      const row = await jobs.create(project(req), req.params.transform, req.params.name, req.body.properties, req.principal!);
      return reply.code(201).send(toWireJob(row, project(req)));
    },
  );
  r.patch(
    '/transforms/:transform/jobs/:name',
    { config: cap('update'), schema: { params, body: jobPatchBody, response: { 200: jobResponse } } },
    async (req) => {
      const row = await jobs.get(project(req).id, req.params.transform, req.params.name);
      return toWireJob(await jobs.patch(row, req.body.properties, req.principal!), project(req));
    },
  );
  r.post(
    '/transforms/:transform/jobs/:name/cancelJob',
    { config: cap('create'), schema: { params, response: { 200: noBody('Cancel requested') } } },
    async (req, reply) => {
      await jobs.cancel(await jobs.get(project(req).id, req.params.transform, req.params.name));
      return reply.code(200).send();
    },
  );
  r.delete('/transforms/:transform/jobs/:name', { config: cap('delete'), schema: { params, response: deleteResponses } }, async (req, reply) => {
    const transform = await transforms.find(project(req).id, req.params.transform);
    const row = transform ? await jobs.find(transform.id, req.params.name) : undefined;
    if (!row) return reply.code(204).send();
    await jobs.delete(row);
    return reply.code(200).send();
  });
}
