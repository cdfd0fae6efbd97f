import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ProjectRow, WebhookEventRow, WebhookRuleRow } from '../../../store/database.js';
import type { AttemptRecord } from '../../../store/webhook-repository.js';
import { toMkioTime } from '../../../shared/time.js';
import { deleteResponses } from '../envelope.js';
import { listBody, parsePaging, type ListQuery } from '../paging.js';
import { eventListResponse, ruleBody, ruleListResponse, ruleParams, ruleResponse } from './schema.js';
import type { WebhookRuleService } from './service.js';

/** MK.IO's capability names for these routes: `webhooks.config.get|create|update|delete`. */
const cap = (action: string) => ({ capability: { group: 'webhooks.config', action } });

/** The rule as shown: never its authentication values or signing secret (except a generated secret, once). */
function toWireRule(rule: WebhookRuleRow, generatedSecret?: string) {
  return {
    metadata: { id: rule.id, name: rule.name },
    spec: {
      url: rule.url,
      enabled: rule.enabled === 1,
      events: JSON.parse(rule.events) as string[],
      headers: JSON.parse(rule.headers) as Record<string, string>,
      queryParams: JSON.parse(rule.query_params) as Record<string, string>,
      ...(generatedSecret ? { signingSecret: generatedSecret } : {}),
    },
  };
}

function toWireEvent(row: WebhookEventRow) {
  return {
    id: row.id,
    created: toMkioTime(row.created_at),
    status: row.status,
    source: row.source,
    type: row.type,
    attempts: row.attempts,
    history: JSON.parse(row.history) as AttemptRecord[],
  };
}

/** `/api/v1/projects/{project}/webhook/rules…` (MK.IO Management API), registered under the project prefix. */
export function registerWebhookRoutes(app: FastifyInstance, rules: WebhookRuleService): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const project = (req: FastifyRequest) => req.project as ProjectRow;

  r.get('/webhook/rules', { config: cap('get'), schema: { response: { 200: ruleListResponse } } }, async (req) => ({
    value: (await rules.list(project(req).id)).map((rule) => toWireRule(rule)),
  }));
  r.get('/webhook/rules/:name', { config: cap('get'), schema: { params: ruleParams, response: { 200: ruleResponse } } }, async (req) =>
    toWireRule(await rules.get(project(req).id, req.params.name)),
  );
  r.put(
    '/webhook/rules/:name',
    { config: cap('create'), schema: { params: ruleParams, body: ruleBody, response: { 200: ruleResponse, 201: ruleResponse } } },
    async (req, reply) => {
      const { rule, created, generatedSecret } = await rules.put(project(req).id, req.params.name, req.body);
      return reply.code(created ? 201 : 200).send(toWireRule(rule, generatedSecret));
    },
  );
  r.delete('/webhook/rules/:name', { config: cap('delete'), schema: { params: ruleParams, response: deleteResponses } }, async (req, reply) => {
    const deleted = await rules.delete(project(req).id, req.params.name);
    return reply.code(deleted ? 200 : 204).send();
  });
  r.get('/webhook/rules/:name/events', { config: cap('get'), schema: { params: ruleParams, response: { 200: eventListResponse } } }, async (req) => {
    const paging = parsePaging(req.query as ListQuery);
    const { rows, total } = await rules.events(project(req).id, req.params.name, paging);
    return listBody({
      kind: 'WebhookEvent',
      items: rows.map(toWireEvent),
      total,
      request: { ...paging, filter: [], orderBy: [] },
      url: req.url,
      project: { id: project(req).id, name: project(req).name },
    });
  });
}
