import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ProjectRow } from '../../../store/database.js';
import { ForbiddenError } from '../../../shared/errors.js';
import { isAllowed, isAllowedForUser, isNarrowed, type Principal } from '../../auth/principal.js';
import { organizationUsageResponse, projectUsageResponse, usageQueryBody } from './schema.js';
import { usageCsv, type UsageService } from './service.js';

const me = (req: FastifyRequest) => req.principal as Principal;

/**
 * `GET /api/v1/projects/{project}/usage` (MK.IO capability `core.project.get`), registered under the project
 * prefix with its project scope: any member of the organization; a restricted token with `core.project.get` at
 * organization scope or in that project.
 */
export function registerProjectUsageRoutes(app: FastifyInstance, usage: UsageService): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  r.get('/usage', { schema: { response: { 200: projectUsageResponse } } }, async (req) => {
    const project = req.project as ProjectRow;
    const principal = me(req);
    if (
      isNarrowed(principal) &&
      !isAllowedForUser(principal, { group: 'core.project', action: 'get' }) &&
      !isAllowed(principal, project.id, 'core.project', 'get')
    )
      throw new ForbiddenError('Forbidden', `The caller lacks the core.project.get capability in project '${project.name}'`);
    return usage.projectReport(project);
  });
}

/**
 * `POST /api/v1/organization/reports/usage` (MK.IO capability `core.customer.get`): the caller's organization's
 * usage, as JSON or CSV, optionally as a download.
 */
export function registerOrganizationUsageRoutes(app: FastifyInstance, usage: UsageService): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  r.post('/api/v1/organization/reports/usage', { schema: { body: usageQueryBody, response: { 200: organizationUsageResponse } } }, async (req, reply) => {
    const principal = me(req);
    if (isNarrowed(principal) && !isAllowedForUser(principal, { group: 'core.customer', action: 'get' }))
      throw new ForbiddenError('Forbidden', 'The caller lacks the core.customer.get capability');
    const report = await usage.organizationReport(principal.organizationId, req.body);
    const csv = report.supplemental.format === 'csv';
    if (report.supplemental.download) {
      const name = `usage-${report.supplemental.start}-${report.supplemental.end}.${csv ? 'csv' : 'json'}`;
      void reply.header('content-disposition', `attachment; filename="${name}"`);
    }
    // Text, not the JSON schema's serializer.
    if (csv) return (reply as FastifyReply).type('text/csv; charset=utf-8').send(usageCsv(report));
    return report;
  });
}
