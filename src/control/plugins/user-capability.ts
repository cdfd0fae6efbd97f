import type { FastifyRequest } from 'fastify';
import { ForbiddenError } from '../../shared/errors.js';
import { isAllowedForUser, type Principal } from '../auth/principal.js';

/**
 * A route hook requiring a user-level capability (`userCapabilities` in principal.ts), for routes that act on
 * the caller's own account and so have no project to scope them.
 */
export function requireUserCapability(capability: { group: string; action: string }) {
  return async function userCapability(request: FastifyRequest): Promise<void> {
    if (!isAllowedForUser(request.principal as Principal, capability)) {
      throw new ForbiddenError('Forbidden', `The caller lacks the ${capability.group}.${capability.action} capability`);
    }
  };
}
