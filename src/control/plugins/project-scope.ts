import type { FastifyRequest } from 'fastify';
import type { ProjectRow } from '../../store/database.js';
import { ForbiddenError, notFound } from '../../shared/errors.js';
import { TtlCache } from '../../shared/ttl-cache.js';
import { isAllowed, type Principal } from '../auth/principal.js';
import type { AccountService } from '../auth/account-service.js';

declare module 'fastify' {
  interface FastifyRequest {
    project?: ProjectRow;
  }
  interface FastifyContextConfig {
    /** RBAC capability a route needs, MK.IO style: group `ams.asset`, action `read`. */
    capability?: { group: string; action: string };
  }
}

/** Small cache: the project row is read on every media call and changes almost never. */
const cacheTtlMs = 5000;

/**
 * Resolves `{project}` and enforces tenancy: a project of another organization is reported as not found
 * (never "forbidden", which would confirm it exists), then checks the route's capability for the caller.
 */
export function createProjectScope(accounts: AccountService) {
  // A missing project is remembered too (as null), so probing names costs no more queries than using one.
  const cache = new TtlCache<string, ProjectRow | null>({ ttlMs: cacheTtlMs, max: 1000 });
  const projectScope = async function projectScope(request: FastifyRequest): Promise<void> {
    const name = (request.params as { project?: string }).project ?? '';
    const principal = request.principal as Principal;
    let project = cache.get(name);
    if (project === undefined) {
      project = (await accounts.findProject(name)) ?? null;
      cache.set(name, project);
    }
    if (!project || project.organization_id !== principal.organizationId) throw notFound(`Project '${name}'`);
    const capability = request.routeOptions.config.capability;
    if (capability && !isAllowed(principal, project.id, capability.group, capability.action)) {
      throw new ForbiddenError('Forbidden', `The caller lacks the ${capability.group}.${capability.action} capability in project '${name}'`);
    }
    request.project = project;
  };
  /** Drops what this process remembers of a project the Management API just created or deleted. */
  const forget = (name: string): void => cache.delete(name);
  return Object.assign(projectScope, { forget });
}
