import type { FastifyInstance } from 'fastify';
import { isDeepStrictEqual } from 'node:util';
import { Type, type Static } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { AccountService } from '../../auth/account-service.js';
import type { TokenService } from '../../auth/token-service.js';
import { holdsAll, isNarrowed, userCapabilities, type PermissionMap, type Principal } from '../../auth/principal.js';
import {
  createdTokenResponse,
  profilePatchBody,
  profileResponse,
  tokenCreateBody,
  tokenListResponse,
  tokenResponse,
  toWireToken,
  unstoredProfileFields,
} from './schema.js';
import { noBody } from '../envelope.js';
import { BadRequestError, ForbiddenError } from '../../../shared/errors.js';
import { refuseListOptions } from '../paging.js';
import { requireUserCapability } from '../../plugins/user-capability.js';

/**
 * The caller's own profile, tokens and organizations (Management API, §5). Reads of the profile and the
 * organizations need only authentication (as in MK.IO: clients read their organization id there); changing the
 * profile and every token operation need a user-level capability, so a restricted token cannot reach them
 * unless it was granted them.
 */
type ProfilePatch = Static<typeof profilePatchBody>;
type ProfileView = Static<typeof profileResponse>;

/** The read-only parts of a PATCHed profile must be what a GET shows (a round trip), and unstored fields empty. */
function checkProfileEcho(body: ProfilePatch, current: ProfileView): void {
  const refuse = (field: string, why: string) =>
    new BadRequestError('ValidationError', `Invalid request: ${field} ${why}`, { extraDetail: { errors: [`${field} ${why}`] } });
  if (body.kind !== undefined && body.kind !== current.kind) throw refuse('kind', `must be '${current.kind}'`);
  if (body.metadata?.id !== undefined && body.metadata.id.toLowerCase() !== current.metadata.id.toLowerCase())
    throw refuse('metadata.id', 'is not your user id');
  const spec = body.spec as Record<string, unknown>;
  for (const field of ['loginEmail', 'contactEmail', 'avatar', 'isActive'] as const) {
    const given = spec[field];
    if (given !== undefined && given !== null && given !== current.spec[field]) throw refuse(`spec.${field}`, 'cannot be changed');
  }
  const features = spec.features;
  if (features && !isDeepStrictEqual(features, current.spec.features)) throw refuse('spec.features', 'cannot be changed');
  for (const field of unstoredProfileFields) {
    const given = spec[field];
    if (typeof given === 'string' && given.length > 0) throw refuse(`spec.${field}`, 'is not kept by Reel: leave it empty');
  }
}

export function registerUserRoutes(app: FastifyInstance, accounts: AccountService, tokens: TokenService): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const me = (p: Principal | undefined) => p as Principal;
  const needs = (capability: { group: string; action: string }) => ({ preValidation: requireUserCapability(capability) });

  const profileView = (user: { id: string; name: string; email: string }, activeOrganizationId: string) => ({
    kind: 'UserProfile' as const,
    metadata: { id: user.id },
    spec: { activeOrganizationId, name: user.name, loginEmail: user.email, contactEmail: user.email, avatar: '', isActive: true, features: {} },
  });

  r.get('/api/v1/user/profile', { schema: { response: { 200: profileResponse } } }, async (req) =>
    profileView(await accounts.getUser(me(req.principal).userId), me(req.principal).organizationId),
  );

  // The editable part of the profile: the name and the active organization (what a signed-in session acts in; a
  // token stays bound to the organization it was issued for). Other MK.IO profile fields are not stored by Reel.
  r.patch(
    '/api/v1/user/profile',
    {
      ...needs(userCapabilities.profileUpdate),
      schema: { body: profilePatchBody, response: { 200: profileResponse } },
    },
    async (req) => {
      const current = profileView(await accounts.getUser(me(req.principal).userId), me(req.principal).organizationId);
      checkProfileEcho(req.body, current);
      const { name, activeOrganizationId } = req.body.spec;
      const user = await accounts.updateProfile(me(req.principal).userId, {
        ...(name !== undefined ? { name } : {}),
        ...(activeOrganizationId !== undefined ? { activeOrganizationId } : {}),
      });
      return profileView(user, activeOrganizationId ?? me(req.principal).organizationId);
    },
  );

  // `/api/v1/user/organizations…` (memberships and invitations) live with organization administration.

  r.get('/api/v1/user/tokens', { ...needs(userCapabilities.tokenRead), schema: { response: { 200: tokenListResponse } } }, async (req) => {
    refuseListOptions(req.query);
    return { kind: 'UserTokenList' as const, value: (await tokens.list(me(req.principal).userId)).map((t) => toWireToken(t)) };
  });

  r.post(
    '/api/v1/user/tokens',
    { ...needs(userCapabilities.tokenCreate), schema: { body: tokenCreateBody, response: { 201: createdTokenResponse } } },
    async (req, reply) => {
      const principal = me(req.principal);
      const organizationId = req.body.organizationId ?? principal.organizationId;
      const member = (await accounts.organizationsOf(principal.userId)).find((o) => o.id === organizationId);
      if (!member) throw new BadRequestError('InvalidOrganization', `You are not a member of organization '${organizationId}'`);
      const expiresAt = req.body.expireDate ? new Date(req.body.expireDate) : undefined;
      if (isNarrowed(principal)) assertNarrower(principal, { ...req.body, organizationId, expiresAt });
      const { row, jwt } = await tokens.issue({
        userId: principal.userId,
        organizationId,
        type: req.body.type,
        description: req.body.description,
        expiresAt,
        notAfter: isNarrowed(principal) && principal.tokenExpiresAt ? new Date(principal.tokenExpiresAt) : undefined,
        permissions: req.body.permissions ?? null,
      });
      return reply.code(201).send(toWireToken(row, jwt));
    },
  );

  // Both revocations answer 200 with no body, as MK.IO documents them.
  r.delete(
    '/api/v1/user/tokens',
    { ...needs(userCapabilities.tokenRevoke), schema: { response: { 200: noBody('Every token of the caller revoked') } } },
    async (req, reply) => {
      await tokens.revokeAll(me(req.principal).userId, me(req.principal).email);
      return reply.code(200).send();
    },
  );

  const idParams = Type.Object({ tokenId: Type.String() });
  r.get('/api/v1/user/tokens/:tokenId', { ...needs(userCapabilities.tokenRead), schema: { params: idParams, response: { 200: tokenResponse } } }, async (req) =>
    toWireToken(await tokens.get(me(req.principal).userId, req.params.tokenId)),
  );
  r.delete(
    '/api/v1/user/tokens/:tokenId',
    { ...needs(userCapabilities.tokenRevoke), schema: { params: idParams, response: { 200: noBody('Revoked') } } },
    async (req, reply) => {
      await tokens.revoke(me(req.principal).userId, req.params.tokenId, me(req.principal).email);
      return reply.code(200).send();
    },
  );
}

/**
 * A restricted or ephemeral token granted `core.token.create` may mint only what is narrower than itself:
 * another restricted or ephemeral token of its own organization, holding a subset of its capabilities and
 * expiring no later than it does (so a one-hour token cannot turn itself into a one-year one).
 */
function assertNarrower(principal: Principal, wanted: { type: string; organizationId: string; permissions?: PermissionMap | null; expiresAt?: Date }): void {
  if (wanted.type !== 'restricted' && wanted.type !== 'ephemeral') {
    throw new ForbiddenError('Forbidden', `A ${principal.tokenType} token can only create restricted or ephemeral tokens`);
  }
  if (wanted.organizationId !== principal.organizationId) {
    throw new ForbiddenError('Forbidden', `A ${principal.tokenType} token can only create tokens for its own organization`);
  }
  if (wanted.permissions && !holdsAll(principal, wanted.permissions)) {
    throw new ForbiddenError('Forbidden', "The requested permissions are not a subset of the calling token's");
  }
  if (wanted.expiresAt && principal.tokenExpiresAt && wanted.expiresAt.getTime() > Date.parse(principal.tokenExpiresAt)) {
    throw new ForbiddenError('Forbidden', 'A token cannot create a token that outlives it');
  }
}
