import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Db, OrganizationInviteRow, Role } from '../../../store/database.js';
import { BadRequestError, ForbiddenError, notFound } from '../../../shared/errors.js';
import { toMkioTime } from '../../../shared/time.js';
import {
  capabilitiesOf,
  isAllowed,
  isAllowedInOrganization,
  organizationCapabilities,
  projectCapabilities,
  roles,
  userCapabilities,
  type PermissionMap,
  type Principal,
} from '../../auth/principal.js';
import type { TokenService } from '../../auth/token-service.js';
import type { AccountService } from '../../auth/account-service.js';
import type { TeamGrants } from '../../auth/team-grants.js';
import { requireUserCapability } from '../../plugins/user-capability.js';
import { noBody, openObject } from '../envelope.js';
import { refuseListOptions } from '../paging.js';
import { tokenListResponse, toWireToken } from '../user/schema.js';
import { OrganizationService, type ScopeRecord } from './service.js';
import {
  inviteIdParams,
  inviteListResponse,
  invitePostBody,
  inviteResponse,
  inviteSetupBody,
  inviteSetupResponse,
  nameParams,
  organizationIdParams,
  organizationPatchBody,
  organizationResponse,
  roleListResponse,
  roleResponse,
  scopeListResponse,
  scopeResponse,
  teamListResponse,
  teamPatchBody,
  teamPutBody,
  teamResponse,
  tokenIdParams,
  userBriefListResponse,
  userBriefResponse,
  userIdParams,
  userOrganizationListResponse,
  userOrganizationPatchBody,
  userOrganizationResponse,
} from './schema.js';

/** `/api/v1/user/rbac` (MK.IO documents no body): the caller's role and capabilities as a permission map. */
const rbacResponse = openObject("The caller's role and effective capabilities");

/** Who made an organization first boot or an operator created (no recorded author). */
const systemAuthor = { id: '00000000-0000-0000-0000-000000000000', name: 'system', email: 'system' };

/** Reel's three roles as MK.IO role records (fixed ids). */
const roleRecords: Record<Role, { id: string; description: string }> = {
  Admin: {
    id: '7265656c-726f-4c65-8000-000000000001',
    description: 'Manages everything in the organization: members, invitations, teams, tokens, projects and media',
  },
  Contributor: {
    id: '7265656c-726f-4c65-8000-000000000002',
    description: 'Creates and changes media resources; no organization, project or member administration',
  },
  Reader: {
    id: '7265656c-726f-4c65-8000-000000000003',
    description: 'Reads the organization and its media resources; never changes anything or reads secrets',
  },
};

function roleView(role: Role) {
  return {
    kind: 'Role' as const,
    metadata: { id: roleRecords[role].id, name: role, categories: ['organization', 'project'] },
    spec: { description: roleRecords[role].description, capabilities: capabilitiesOf(role).map((capability) => ({ capability })) },
  };
}

function scopeView(scope: ScopeRecord) {
  return {
    kind: 'Scope' as const,
    metadata: { id: scope.id, name: scope.name },
    spec: { description: scope.description, resources: [{ type: scope.type, id: scope.id }] },
  };
}

function inviteView(row: OrganizationInviteRow, organizationName: string) {
  return {
    kind: 'Invite' as const,
    metadata: { id: row.id, created: toMkioTime(row.created_at) },
    spec: {
      email: row.email,
      organizationName,
      invitedByName: row.invited_by_name,
      invitedByEmail: row.invited_by_email,
      comment: row.comment,
      teams: JSON.parse(row.teams) as string[],
      role: row.role,
    },
  };
}

const memberView = (m: { id: string; name: string; email: string; role: Role }) => ({
  kind: 'User' as const,
  metadata: { id: m.id },
  spec: { name: m.name, email: m.email, avatar: '', role: m.role },
});

export interface OrganizationRouteDeps {
  db: Db;
  accounts: AccountService;
  tokens: TokenService;
  grants: TeamGrants;
}

/**
 * Organization administration (Management API): `/api/v1/organization` (the caller's active organization), its
 * users, invites, roles, scopes, teams and tokens; the invitee's side under `/api/v1/user/organizations`; and
 * `/api/v1/user/rbac`. Each route needs the capability MK.IO names for it, checked by `isAllowedInOrganization`.
 */
export function registerOrganizationRoutes(app: FastifyInstance, deps: OrganizationRouteDeps): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const service = new OrganizationService(deps.db, deps.tokens, deps.grants);
  const me = (req: FastifyRequest) => req.principal as Principal;
  const needs = (group: string, action: string) => ({
    preValidation: async (req: FastifyRequest) => {
      if (!isAllowedInOrganization(me(req), group, action)) throw new ForbiddenError('Forbidden', `The caller lacks the ${group}.${action} capability`);
    },
  });
  const base = '/api/v1/organization';

  const organizationView = async (organizationId: string, found?: Awaited<ReturnType<OrganizationService['organization']>>) => {
    const { org, creator } = found ?? (await service.organization(organizationId));
    const author = creator ?? systemAuthor;
    const name = org.profile?.display_name ?? org.name;
    return {
      kind: 'Organization' as const,
      metadata: {
        id: org.id,
        name,
        created: toMkioTime(org.created_at),
        updated: toMkioTime(org.profile?.updated_at ?? org.created_at),
        isActive: true,
        createdById: author.id,
        createdBy: author.id,
        createdByName: author.name,
        createdByEmail: author.email,
      },
      spec: {
        name,
        legalEntityName: org.profile?.legal_entity_name ?? null,
        legalEntityAddress: org.profile?.legal_entity_address ?? null,
        legalEntityOfficer: org.profile?.legal_entity_officer ?? null,
        legalEntityContactEmail: org.profile?.legal_entity_contact_email ?? null,
      },
    };
  };

  r.get(base, { ...needs('core.customer', 'get'), schema: { response: { 200: organizationResponse } } }, async (req) =>
    organizationView(me(req).organizationId),
  );

  r.patch(base, { ...needs('core.customer', 'update'), schema: { body: organizationPatchBody, response: { 200: organizationResponse } } }, async (req) =>
    organizationView(me(req).organizationId, await service.updateOrganization(me(req).organizationId, req.body)),
  );

  // Members.
  r.get(`${base}/users`, { ...needs('core.user', 'get'), schema: { response: { 200: userBriefListResponse } } }, async (req) => {
    refuseListOptions(req.query);
    return { kind: 'UserList' as const, value: (await service.members(me(req).organizationId)).map(memberView) };
  });
  r.get(`${base}/users/:userId`, { ...needs('core.user', 'get'), schema: { params: userIdParams, response: { 200: userBriefResponse } } }, async (req) =>
    memberView(await service.member(me(req).organizationId, req.params.userId)),
  );
  r.delete(
    `${base}/users/:userId`,
    { ...needs('core.user', 'remove'), schema: { params: userIdParams, response: { 200: noBody('Removed from the organization') } } },
    async (req, reply) => {
      await service.removeMember(me(req).organizationId, req.params.userId, me(req));
      return reply.code(200).send();
    },
  );

  // Invitations.
  const organizationName = async (organizationId: string) => (await organizationView(organizationId)).spec.name;
  r.get(`${base}/invites`, { ...needs('core.invite', 'get'), schema: { response: { 200: inviteListResponse } } }, async (req) => {
    refuseListOptions(req.query);
    const name = await organizationName(me(req).organizationId);
    return { kind: 'InviteList' as const, value: (await service.invites(me(req).organizationId)).map((i) => inviteView(i, name)) };
  });
  r.post(`${base}/invites`, { ...needs('core.invite', 'create'), schema: { body: invitePostBody, response: { 201: inviteResponse } } }, async (req, reply) => {
    const { row, setupCode } = await service.createInvite(me(req).organizationId, req.body.spec, me(req));
    const view = inviteView(row, await organizationName(me(req).organizationId));
    return reply.code(201).send(setupCode ? { ...view, spec: { ...view.spec, setupCode } } : view);
  });
  r.get(`${base}/invites/:inviteId`, { ...needs('core.invite', 'get'), schema: { params: inviteIdParams, response: { 200: inviteResponse } } }, async (req) =>
    inviteView(await service.invite(me(req).organizationId, req.params.inviteId), await organizationName(me(req).organizationId)),
  );
  r.delete(
    `${base}/invites/:inviteId`,
    { ...needs('core.invite', 'delete'), schema: { params: inviteIdParams, response: { 200: noBody('Invitation withdrawn') } } },
    async (req, reply) => {
      await service.deleteInvite(me(req).organizationId, req.params.inviteId);
      return reply.code(200).send();
    },
  );

  // Roles and scopes (read-only: Reel's roles are fixed; scopes follow the organization's projects).
  r.get(`${base}/roles`, { ...needs('core.role', 'get'), schema: { response: { 200: roleListResponse } } }, async (req) => {
    refuseListOptions(req.query);
    return { kind: 'RoleList' as const, value: roles.map(roleView) };
  });
  r.get(`${base}/roles/:name`, { ...needs('core.role', 'get'), schema: { params: nameParams, response: { 200: roleResponse } } }, async (req) => {
    const role = roles.find((x) => x === req.params.name);
    if (!role) throw notFound(`Role '${req.params.name}'`);
    return roleView(role);
  });
  r.get(`${base}/scopes`, { ...needs('core.scope', 'get'), schema: { response: { 200: scopeListResponse } } }, async (req) => {
    refuseListOptions(req.query);
    return { kind: 'ScopeList' as const, value: (await service.scopes(me(req).organizationId)).map(scopeView) };
  });
  r.get(`${base}/scopes/:name`, { ...needs('core.scope', 'get'), schema: { params: nameParams, response: { 200: scopeResponse } } }, async (req) =>
    scopeView(await service.scope(me(req).organizationId, req.params.name)),
  );

  // Teams.
  const teamView = (team: Awaited<ReturnType<OrganizationService['team']>>) => ({
    kind: 'Team' as const,
    metadata: { id: team.id, name: team.name },
    spec: {
      description: team.description,
      members: Object.fromEntries(team.members.map((m) => [m.user_id, { isTeamAdmin: m.is_team_admin === 1, name: m.name, email: m.email }])),
      scopes: Object.fromEntries(Object.entries(team.scopeNames).map(([scope, granted]) => [scope, { roles: granted }])),
    },
  });
  r.get(`${base}/teams`, { ...needs('core.team', 'get'), schema: { response: { 200: teamListResponse } } }, async (req) => {
    refuseListOptions(req.query);
    return { kind: 'TeamList' as const, value: (await service.teams(me(req).organizationId)).map(teamView) };
  });
  r.get(`${base}/teams/:name`, { ...needs('core.team', 'get'), schema: { params: nameParams, response: { 200: teamResponse } } }, async (req) =>
    teamView(await service.team(me(req).organizationId, req.params.name)),
  );
  r.put(
    `${base}/teams/:name`,
    { ...needs('core.team', 'create'), schema: { params: nameParams, body: teamPutBody, response: { 200: teamResponse, 201: teamResponse } } },
    async (req, reply) => {
      const { created } = await service.putTeam(me(req).organizationId, req.params.name, req.body);
      return reply.code(created ? 201 : 200).send(teamView(await service.team(me(req).organizationId, req.params.name)));
    },
  );
  r.patch(
    `${base}/teams/:name`,
    { ...needs('core.team', 'update'), schema: { params: nameParams, body: teamPatchBody, response: { 200: teamResponse } } },
    async (req) => {
      await service.patchTeam(me(req).organizationId, req.params.name, req.body);
      return teamView(await service.team(me(req).organizationId, req.params.name));
    },
  );
  r.delete(
    `${base}/teams/:name`,
    { ...needs('core.team', 'delete'), schema: { params: nameParams, response: { 204: noBody('Team deleted') } } },
    async (req, reply) => {
      await service.deleteTeam(me(req).organizationId, req.params.name);
      return reply.code(204).send();
    },
  );

  // Every member's tokens of the organization (never their JWTs: only the creation response carries one).
  r.get(`${base}/tokens`, { ...needs('core.token', 'get'), schema: { response: { 200: tokenListResponse } } }, async (req) => {
    refuseListOptions(req.query);
    return { kind: 'UserTokenList' as const, value: (await deps.tokens.listOfOrganization(me(req).organizationId)).map((t) => toWireToken(t)) };
  });
  r.delete(
    `${base}/tokens/:tokenId`,
    { ...needs('core.token', 'revoke'), schema: { params: tokenIdParams, response: { 204: noBody('Revoked') } } },
    async (req, reply) => {
      await deps.tokens.revokeInOrganization(me(req).organizationId, req.params.tokenId, me(req).email);
      return reply.code(204).send();
    },
  );

  // The caller's effective capabilities, in the permission-map shape restricted tokens use.
  r.get('/api/v1/user/rbac', { schema: { response: { 200: rbacResponse } } }, async (req) => {
    const principal = me(req);
    const organization: Record<string, string[]> = {};
    for (const [group, actions] of Object.entries(organizationCapabilities)) {
      const held = Object.keys(actions).filter((action) => isAllowedInOrganization(principal, group, action));
      if (held.length > 0) organization[group] = held;
    }
    const capabilities: PermissionMap = { 'core.customer': { [principal.organizationId]: organization }, 'core.project': {} };
    for (const project of await deps.accounts.projectsOf(principal.organizationId)) {
      const granted: Record<string, string[]> = {};
      for (const [group, actions] of Object.entries(projectCapabilities)) {
        const held = actions.filter((action) => isAllowed(principal, project.id, group, action));
        if (held.length > 0) granted[group] = held;
      }
      if (Object.keys(granted).length > 0) capabilities['core.project'][project.id] = granted;
    }
    return { kind: 'UserRbac', spec: { userId: principal.userId, organizationId: principal.organizationId, role: principal.role, capabilities } };
  });

  // The invitee's side: memberships (accepted) and invitations (pending) of the caller.
  const acceptedView = async (org: { id: string; name: string; role: string }) => ({
    kind: 'UserOrganization' as const,
    metadata: { id: org.id, name: (await organizationView(org.id)).spec.name },
    spec: {
      invite: { state: 'accepted' as const, invitedBy: null, comment: '' },
      role: org.role,
      projects: (await deps.accounts.projectsOf(org.id)).map((p) => ({ id: p.id, name: p.name })),
    },
  });
  const pendingView = (invite: OrganizationInviteRow & { organization_name: string }) => ({
    kind: 'UserOrganization' as const,
    metadata: { id: invite.organization_id, name: invite.organization_name },
    // The projects of an organization are shown once the invitation is accepted.
    spec: { invite: { state: 'pending' as const, invitedBy: invite.invited_by_email, comment: invite.comment }, role: invite.role, projects: [] },
  });
  const userOrganization = async (principal: Principal, organizationId: string) => {
    const member = (await deps.accounts.organizationsOf(principal.userId)).find((o) => o.id === organizationId);
    if (member) return acceptedView(member);
    const invite = (await service.invitesOf(principal.email)).find((i) => i.organization_id === organizationId);
    if (invite) return pendingView(invite);
    throw notFound(`Organization '${organizationId}'`);
  };

  r.get('/api/v1/user/organizations', { schema: { response: { 200: userOrganizationListResponse } } }, async (req) => {
    const principal = me(req);
    const memberOf = await deps.accounts.organizationsOf(principal.userId);
    const accepted = await Promise.all(memberOf.map(acceptedView));
    const pending = (await service.invitesOf(principal.email)).filter((i) => !memberOf.some((o) => o.id === i.organization_id)).map(pendingView);
    return { kind: 'UserOrganizationList' as const, value: [...accepted, ...pending] };
  });
  r.get('/api/v1/user/organizations/:organizationId', { schema: { params: organizationIdParams, response: { 200: userOrganizationResponse } } }, async (req) =>
    userOrganization(me(req), req.params.organizationId),
  );
  // Accepting and leaving change the caller's own account: a restricted token needs `core.profile.update`.
  const ownAccount = { preValidation: requireUserCapability(userCapabilities.profileUpdate) };
  r.patch(
    '/api/v1/user/organizations/:organizationId',
    { ...ownAccount, schema: { params: organizationIdParams, body: userOrganizationPatchBody, response: { 200: userOrganizationResponse } } },
    async (req) => {
      const principal = me(req);
      const current = await userOrganization(principal, req.params.organizationId);
      if (req.body.spec.invite.state !== 'accepted') {
        throw new BadRequestError('ValidationError', "Invalid request: spec.invite.state can only be set to 'accepted'", {
          extraDetail: { errors: ["spec.invite.state can only be set to 'accepted'"] },
        });
      }
      if (current.spec.invite.state === 'accepted') return current;
      await service.acceptInvite(req.params.organizationId, principal);
      return userOrganization(principal, req.params.organizationId);
    },
  );
  r.delete(
    '/api/v1/user/organizations/:organizationId',
    { ...ownAccount, schema: { params: organizationIdParams, response: { 204: noBody('Left the organization, or declined its invitation') } } },
    async (req, reply) => {
      const principal = me(req);
      const { organizationId } = req.params;
      const member = (await deps.accounts.organizationsOf(principal.userId)).some((o) => o.id === organizationId);
      // Leaving first: it refuses the last Admin before anything changed.
      if (member) await service.removeMember(organizationId, principal.userId, principal);
      const declined = await service.declineInvite(organizationId, principal.email);
      if (!member && !declined) throw notFound(`Organization '${organizationId}'`);
      return reply.code(204).send();
    },
  );
}

/**
 * `POST /auth/invite` (public, Reel's own): the invitee of an e-mail with no Reel account creates it with the
 * invitation's one-time set-up code and a password, joining the organization; then signs in as usual. The code is
 * 24 random bytes kept only as a hash, so guessing is hopeless; a wrong e-mail or code is one 400.
 */
export function registerInviteSetupRoute(app: FastifyInstance, deps: OrganizationRouteDeps): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const service = new OrganizationService(deps.db, deps.tokens, deps.grants);
  r.post('/auth/invite', { schema: { body: inviteSetupBody, response: { 201: inviteSetupResponse } } }, async (req, reply) => {
    const { userId, organizationId } = await service.setUpAccount(req.body);
    return reply.code(201).send({ user_id: userId, organization_id: organizationId });
  });
}
