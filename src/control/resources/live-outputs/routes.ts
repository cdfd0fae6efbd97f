import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ProjectRow } from '../../../store/database.js';
import { listBody, type ListQuery } from '../paging.js';
import { deleteResponses } from '../envelope.js';
import { liveEventName } from '../live-events/schema.js';
import { liveOutputListFields, type LiveOutputService } from './service.js';
import { liveOutputListResponse, liveOutputName, liveOutputPutBody, liveOutputResponse, liveOutputStateResponse, toWireLiveOutput } from './schema.js';

// The event's parameter is `name`, as on the live event routes beside these (one name per path position).
const eventParams = Type.Object({ project: Type.String(), name: liveEventName });
const params = Type.Object({ project: Type.String(), name: liveEventName, output: liveOutputName });
const cap = (action: string) => ({ capability: { group: 'ams.liveOutput', action } });

/** Live outputs of a live event (§16), mounted under both media prefixes. */
export function registerLiveOutputRoutes(app: FastifyInstance, outputs: LiveOutputService): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const project = (req: FastifyRequest) => req.project as ProjectRow;

  r.get('/liveEvents/:name/liveOutputs', { config: cap('read'), schema: { params: eventParams, response: { 200: liveOutputListResponse } } }, async (req) => {
    const { request, page } = liveOutputListFields.parse(req.query as ListQuery);
    const p = project(req);
    const { items, total } = await outputs.page(p.id, req.params.name, page);
    return listBody({
      kind: 'LiveOutput',
      items: items.map((o) => toWireLiveOutput(o, p, req.params.name)),
      total,
      request,
      url: req.url,
      project: { id: p.id, name: p.name },
    });
  });
  r.get('/liveEvents/:name/liveOutputs/:output', { config: cap('read'), schema: { params, response: { 200: liveOutputResponse } } }, async (req) =>
    toWireLiveOutput(await outputs.get(project(req).id, req.params.name, req.params.output), project(req), req.params.name),
  );
  r.get(
    '/liveEvents/:name/liveOutputs/:output/state',
    { config: cap('read'), schema: { params, response: { 200: liveOutputStateResponse } } },
    async (req) => ({
      status: { state: (await outputs.get(project(req).id, req.params.name, req.params.output)).resource_state },
    }),
  );
  r.put(
    '/liveEvents/:name/liveOutputs/:output',
    { config: cap('create'), schema: { params, body: liveOutputPutBody, response: { 201: liveOutputResponse } } },
    async (req, reply) => {
      const created = await outputs.create(project(req).id, req.params.name, req.params.output, req.body, req.principal!);
      return reply.code(201).send(toWireLiveOutput(created, project(req), req.params.name));
    },
  );
  r.delete('/liveEvents/:name/liveOutputs/:output', { config: cap('delete'), schema: { params, response: deleteResponses } }, async (req, reply) => {
    const deleted = await outputs.delete(project(req).id, req.params.name, req.params.output);
    return reply.code(deleted ? 200 : 204).send();
  });
}
