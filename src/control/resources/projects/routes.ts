import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { ForbiddenError, notFound } from '../../../shared/errors.js';
import { toMkioTime } from '../../../shared/time.js';
import { findLocation, reelLocation } from '../../../shared/locations.js';
import { isAllowedForUser, isAllowedInOrganization, isNarrowed, type Principal } from '../../auth/principal.js';
import { deleteResponses } from '../envelope.js';
import { listBody, parseListQuery, type ListQuery } from '../paging.js';
import type { FilterTerm, OrderTerm } from '../odata.js';
import type { ProjectRecord } from '../../../store/project-repository.js';
import { profileOf, type ProjectService } from './service.js';
import { projectCreateBody, projectListResponse, projectNameParams, projectPatchBody, projectResponse, type ProjectResponse } from './schema.js';

/** Who made projects that have no recorded author (first boot, or before the Management API existed). */
const systemAuthor = { id: '00000000-0000-0000-0000-000000000000', email: 'system', name: 'system' };
/** MK.IO names the cloud a project is hosted in; a Reel project is hosted by the Reel install itself. */
const cloud = { id: '7265656c-0000-4000-8000-000000000001', name: 'reel', displayName: 'Self-hosted Reel' };

export function projectView(project: ProjectRecord): ProjectResponse {
  const profile = profileOf(project);
  const location = findLocation(profile.location_name) ?? reelLocation;
  const author = profile.created_by_id ? { id: profile.created_by_id, email: profile.created_by ?? '', name: profile.created_by ?? '' } : systemAuthor;
  return {
    kind: 'Project',
    metadata: {
      id: project.id,
      name: project.name,
      displayName: project.display_name,
      created: toMkioTime(project.created_at),
      updated: toMkioTime(profile.updated_at),
      createdById: author.id,
      createdBy: author.id,
      createdByName: author.name,
      createdByEmail: author.email,
      cloud,
    },
    spec: {
      name: project.name,
      displayName: project.display_name,
      isActive: profile.is_active === 1,
      isHidden: profile.is_hidden === 1,
      locationId: location.id,
      locationName: location.name,
      locationDisplayName: location.displayName,
      assignedPaymentMethodId: profile.payment_method_id,
    },
  };
}

/**
 * Capabilities MK.IO names for these routes: `core.project.get`, `.create`, `.update` (and `.delete`, which
 * MK.IO's document does not list; Reel adds it). Any member sees the organization's projects; only an Admin
 * creates, edits or deletes them. A restricted token further needs the capability under `core.customer` (its
 * organization), or, to see one project, any grant on that project.
 */
function mayManage(principal: Principal, action: 'create' | 'update' | 'delete'): boolean {
  return isAllowedInOrganization(principal, 'core.project', action);
}
function maySee(principal: Principal, projectId: string): boolean {
  if (!isNarrowed(principal) || isAllowedForUser(principal, { group: 'core.project', action: 'get' })) return true;
  const byId = principal.permissions?.['core.project'];
  return Boolean(byId?.[projectId] ?? byId?.['*']);
}

const filterable = new Set(['name', 'displayName', 'created']);
const fieldOf: Record<string, (p: ProjectResponse) => string> = {
  name: (p) => p.spec.name,
  displayName: (p) => p.spec.displayName,
  created: (p) => p.metadata.created,
};

function matches(p: ProjectResponse, terms: FilterTerm[]): boolean {
  return terms.every((t) => {
    const have = fieldOf[t.field](p);
    const want = t.field === 'created' && typeof t.value === 'string' ? toMkioTime(t.value) : String(t.value);
    const c = have < want ? -1 : have > want ? 1 : 0;
    return { eq: c === 0, ne: c !== 0, gt: c > 0, ge: c >= 0, lt: c < 0, le: c <= 0 }[t.op];
  });
}
function compare(order: OrderTerm[]) {
  return (a: ProjectResponse, b: ProjectResponse): number => {
    for (const o of order) {
      const x = fieldOf[o.field](a);
      const y = fieldOf[o.field](b);
      if (x !== y) return (x < y ? -1 : 1) * (o.direction === 'desc' ? -1 : 1);
    }
    return a.spec.name < b.spec.name ? -1 : 1;
  };
}

/** Management API projects: `GET /api/v1/projects`, and `GET|PUT|PATCH|DELETE /api/v1/projects/{name}`. */
export function registerProjectRoutes(app: FastifyInstance, projects: ProjectService): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const me = (req: FastifyRequest) => req.principal as Principal;
  const guard = (action: 'create' | 'update' | 'delete') => ({
    preValidation: async (req: FastifyRequest) => {
      if (!mayManage(me(req), action)) throw new ForbiddenError('Forbidden', `The caller lacks the core.project.${action} capability`);
    },
  });

  r.get('/api/v1/projects', { schema: { response: { 200: projectListResponse } } }, async (req) => {
    const request = parseListQuery(req.query as ListQuery, filterable, filterable);
    const all = (await projects.list(me(req).organizationId))
      .filter((p) => maySee(me(req), p.id))
      .map(projectView)
      .filter((p) => matches(p, request.filter))
      .sort(compare(request.orderBy));
    return listBody({ kind: 'Project', items: all.slice(request.skip, request.skip + request.top), total: all.length, request, url: req.url });
  });

  r.get('/api/v1/projects/:project', { schema: { params: projectNameParams, response: { 200: projectResponse } } }, async (req) => {
    const project = await projects.get(me(req).organizationId, req.params.project);
    if (!maySee(me(req), project.id)) throw notFound(`Project '${req.params.project}'`);
    return projectView(project);
  });

  r.put(
    '/api/v1/projects/:project',
    { ...guard('create'), schema: { params: projectNameParams, body: projectCreateBody, response: { 201: projectResponse } } },
    async (req, reply) => {
      const project = await projects.create(me(req).organizationId, req.params.project, req.body, { userId: me(req).userId, email: me(req).email });
      return reply.code(201).send(projectView(project));
    },
  );

  r.patch(
    '/api/v1/projects/:project',
    { ...guard('update'), schema: { params: projectNameParams, body: projectPatchBody, response: { 200: projectResponse } } },
    async (req) => projectView(await projects.update(me(req).organizationId, req.params.project, req.body)),
  );

  r.delete('/api/v1/projects/:project', { ...guard('delete'), schema: { params: projectNameParams, response: deleteResponses } }, async (req, reply) => {
    const existed = await projects.exists(me(req).organizationId, req.params.project);
    if (existed) await projects.delete(me(req).organizationId, req.params.project);
    return reply.code(existed ? 200 : 204).send();
  });
}
