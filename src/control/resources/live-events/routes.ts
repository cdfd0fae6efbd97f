import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ProjectRow } from '../../../store/database.js';
import { BadRequestError, NotFoundError } from '../../../shared/errors.js';
import { listBody, type ListQuery } from '../paging.js';
import { deleteResponses, noBody } from '../envelope.js';
import { parseLabelQuery } from '../assets/service.js';
import { liveEventListFields, type LiveEvent, type LiveEventService } from './service.js';
import {
  ingestHealthResponse,
  liveEventListResponse,
  liveEventName,
  liveEventPatchBody,
  liveEventPutBody,
  liveEventResponse,
  liveEventStateResponse,
  toWireLiveEvent,
  type LiveEventPatchBody,
  type LiveEventPutBody,
} from './schema.js';
import type { LiveEndpointUrl } from './live-event-control.js';

const params = Type.Object({ project: Type.String(), name: liveEventName });

export interface LiveEventRouteDeps {
  events: LiveEventService;
  /** `preview.endpoints` of an event: its preview locator played from the project's default streaming endpoint. */
  previewEndpoints: (project: ProjectRow, previewLocator: string) => LiveEndpointUrl[];
}

const cap = (action: string) => ({ capability: { group: 'ams.liveEvent', action } });
const asArray = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** The `removeOutputsOnStop` of a stop body; no body (the .NET client sends none) means false. */
function removeOutputsOnStop(body: unknown): boolean {
  if (body === undefined || body === null) return false;
  if (typeof body !== 'object' || Array.isArray(body)) throw new BadRequestError('ValidationError', 'Invalid request: body must be an object');
  const { removeOutputsOnStop: remove, ...rest } = body as Record<string, unknown>;
  const unknown = Object.keys(rest)[0];
  if (unknown !== undefined) throw new BadRequestError('ValidationError', `Invalid request: body must NOT have additional property '${unknown}'`);
  if (remove !== undefined && typeof remove !== 'boolean')
    throw new BadRequestError('ValidationError', 'Invalid request: body.removeOutputsOnStop must be boolean');
  return remove === true;
}

/** Live events (§15), mounted under both media prefixes. */
export function registerLiveEventRoutes(app: FastifyInstance, deps: LiveEventRouteDeps): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { events } = deps;
  const project = (req: FastifyRequest) => req.project as ProjectRow;
  const wire = (e: LiveEvent, req: FastifyRequest) =>
    toWireLiveEvent(e, project(req), { input: events.ingestEndpoints(e), preview: deps.previewEndpoints(project(req), e.row.preview_locator) });

  r.get('/liveEvents', { config: cap('read'), schema: { response: { 200: liveEventListResponse } } }, async (req) => {
    const q = req.query as ListQuery;
    const { request, page } = liveEventListFields.parse(q);
    const labels = parseLabelQuery(asArray(q.$label), [...asArray(q.$label_key), ...asArray(q.label_key)]);
    const p = project(req);
    const { items, total } = await events.page(p.id, page, labels);
    return listBody({ kind: 'LiveEvent', items: items.map((e) => wire(e, req)), total, request, url: req.url, project: { id: p.id, name: p.name } });
  });
  r.get('/liveEvents/:name', { config: cap('read'), schema: { params, response: { 200: liveEventResponse } } }, async (req) =>
    wire(await events.get(project(req).id, req.params.name), req),
  );
  r.get('/liveEvents/:name/state', { config: cap('read'), schema: { params, response: { 200: liveEventStateResponse } } }, async (req) => ({
    status: { state: (await events.get(project(req).id, req.params.name)).row.resource_state },
  }));
  // A Reel extension: the console's ingest status. 404 while the event does not run here.
  r.get('/liveEvents/:name/ingestHealth', { config: cap('read'), schema: { params, response: { 200: ingestHealthResponse } } }, async (req) => {
    const event = await events.get(project(req).id, req.params.name);
    const health = events.health(event.row.id);
    if (!health) throw new NotFoundError('LiveEventNotRunning', `Live event '${req.params.name}' is not running`);
    return {
      isConnected: health.isConnected,
      bitrateBps: Math.round(health.bitrateBps),
      frameRate: Math.round(health.frameRate * 100) / 100,
      ...(health.lastFrameMs !== undefined ? { lastFrameTime: new Date(health.lastFrameMs).toISOString() } : {}),
      ...(health.lastError ? { lastError: health.lastError } : {}),
    };
  });
  // MK.IO v1 documents 200 for the create (not 201, §15).
  r.put(
    '/liveEvents/:name',
    { config: cap('create'), schema: { params, body: liveEventPutBody, response: { 200: liveEventResponse } } },
    async (req, reply) => {
      // The type provider reads the schema's string enums (Type.Unsafe) as unknown; the schema itself checked them.
      const created = await events.create(project(req).id, req.params.name, req.body as LiveEventPutBody, req.principal!);
      return reply.code(200).send(wire(created, req));
    },
  );
  r.patch('/liveEvents/:name', { config: cap('update'), schema: { params, body: liveEventPatchBody, response: { 200: liveEventResponse } } }, async (req) =>
    wire(await events.patch(project(req).id, req.params.name, req.body as LiveEventPatchBody, req.principal!), req),
  );
  r.delete('/liveEvents/:name', { config: cap('delete'), schema: { params, response: deleteResponses } }, async (req, reply) => {
    const deleted = await events.delete(project(req).id, req.params.name, req.principal!);
    return reply.code(deleted ? 200 : 204).send();
  });
  // Actions answer 200 with no body once the state is reached (Running, Stopped), as on GET right after.
  r.post('/liveEvents/:name/start', { config: cap('start'), schema: { params, response: { 200: noBody('Running') } } }, async (req, reply) => {
    await events.start(project(req).id, req.params.name, req.principal!);
    return reply.code(200).send();
  });
  r.post('/liveEvents/:name/stop', { config: cap('stop'), schema: { params, response: { 200: noBody('Stopped') } } }, async (req, reply) => {
    await events.stop(project(req).id, req.params.name, { removeOutputsOnStop: removeOutputsOnStop(req.body) }, req.principal!);
    return reply.code(200).send();
  });
  // MK.IO documents both as "NOT IMPLEMENTED", answering 400 (§15); the event must still exist (404 otherwise).
  for (const action of ['reset', 'allocate'] as const) {
    r.post(`/liveEvents/:name/${action}`, { config: cap('create'), schema: { params } }, async (req) => {
      await events.get(project(req).id, req.params.name);
      throw new BadRequestError('NotImplemented', `The live event action '${action}' is not implemented (as in MK.IO); use stop and start`);
    });
  }
}
