import type { FastifyRequest } from 'fastify';
import type { Db, Role } from '../../store/database.js';
import { OrganizationRepository } from '../../store/organization-repository.js';
import { TtlCache } from '../../shared/ttl-cache.js';
import { higherRole, type Principal } from './principal.js';

/** The scope key of a team role on the whole organization (project scopes are keyed by the project's id). */
export const organizationScopeKey = 'organization';

/**
 * How long a member's team grants are reused. A team change in this process drops them at once; another API
 * process sees it within this time, as it sees a revoked token (token-service.ts).
 */
const grantsTtlMs = 2000;

interface Grants {
  organizationRole?: Role;
  projectRoles: Record<string, Role>;
}

/**
 * Applies team grants to the caller after authentication: a role a team holds on the organization scope raises
 * the caller's organization role, one on a project scope raises their role in that project only. Teams never
 * lower a role. The result is the single Principal every capability check (principal.ts) reads.
 */
export class TeamGrants {
  private readonly repository: OrganizationRepository;
  private readonly cache = new TtlCache<string, Grants>({ ttlMs: grantsTtlMs, max: 10_000 });

  constructor(db: Db) {
    this.repository = new OrganizationRepository(db);
  }

  async apply(principal: Principal): Promise<Principal> {
    const key = `${principal.organizationId}:${principal.userId}`;
    let grants = this.cache.get(key);
    if (!grants) {
      grants = { projectRoles: {} };
      for (const { scope, role } of await this.repository.grantsOf(principal.organizationId, principal.userId)) {
        if (scope === organizationScopeKey) grants.organizationRole = higherRole(role, grants.organizationRole);
        else grants.projectRoles[scope] = higherRole(role, grants.projectRoles[scope]);
      }
      this.cache.set(key, grants);
    }
    if (!grants.organizationRole && Object.keys(grants.projectRoles).length === 0) return principal;
    return { ...principal, role: higherRole(principal.role, grants.organizationRole), projectRoles: grants.projectRoles };
  }

  /** Forgets every remembered grant (after any team or membership change; rare). */
  forget(): void {
    this.cache.clear();
  }

  /** An `onRequest` hook to run after authentication. */
  hook() {
    return async (request: FastifyRequest): Promise<void> => {
      if (request.principal) request.principal = await this.apply(request.principal);
    };
  }
}
