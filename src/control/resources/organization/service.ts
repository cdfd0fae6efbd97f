import type { Db, OrganizationInviteRow, Role } from '../../../store/database.js';
import { OrganizationRepository, type MemberRecord, type TeamRecord } from '../../../store/organization-repository.js';
import { AccountRepository } from '../../../store/account-repository.js';
import { newId, randomSecret, sha256Hex } from '../../../shared/ids.js';
import { hashPassword } from '../../auth/password.js';
import { BadRequestError, ConflictError, notFound } from '../../../shared/errors.js';
import type { TokenService } from '../../auth/token-service.js';
import { organizationScopeKey, type TeamGrants } from '../../auth/team-grants.js';
import { roles, type Principal } from '../../auth/principal.js';
import type { OrganizationPatchBody, TeamPatchBody, TeamPutBody } from './schema.js';
import { teamNamePattern } from './schema.js';

/** The name of the organization-wide scope; a project's scope is `{project name}Scope` (MK.IO's example style). */
export const organizationScopeName = 'organizationScope';
const projectScopeSuffix = 'Scope';

/** A team as edited: members by user id, roles by scope name. */
export interface TeamSpec {
  description: string;
  members: Record<string, { isTeamAdmin: boolean }>;
  scopes: Record<string, { roles: string[] }>;
}

/** A scope as listed: the organization, or one project. */
export interface ScopeRecord {
  name: string;
  id: string;
  type: 'organization' | 'project';
  /** What team_roles stores: `organization` or the project id. */
  key: string;
  description: string;
}

/** How long an invitation's set-up code creates an account; after that the Admin invites again. */
export const setupCodeLifetimeMs = 7 * 24 * 3600 * 1000;

const invalid = (message: string) => new BadRequestError('ValidationError', `Invalid request: ${message}`, { extraDetail: { errors: [message] } });

/**
 * Organization administration: the organization's profile, its members, invitations and teams. Capability
 * checks happen in the routes (principal.ts); this enforces the rules of the data: never the last Admin, an
 * invitation only for someone not yet a member, teams only of members and existing scopes and roles, and every
 * change in one transaction.
 */
export class OrganizationService {
  private readonly repository: OrganizationRepository;
  private readonly accounts: AccountRepository;

  constructor(
    db: Db,
    private readonly tokens: TokenService,
    private readonly grants: TeamGrants,
  ) {
    this.repository = new OrganizationRepository(db);
    this.accounts = new AccountRepository(db);
  }

  async organization(organizationId: string) {
    const org = await this.repository.findOrganization(organizationId);
    if (!org) throw notFound(`Organization '${organizationId}'`);
    return { org, creator: await this.repository.firstAdmin(organizationId) };
  }

  async updateOrganization(organizationId: string, body: OrganizationPatchBody) {
    const { org } = await this.organization(organizationId);
    const current = org.profile;
    const pick = (given: string | null | undefined, stored: string | null | undefined) => (given !== undefined ? given : (stored ?? null));
    const { spec } = body;
    await this.repository.saveProfile({
      organization_id: organizationId,
      display_name: spec.name ?? current?.display_name ?? org.name,
      legal_entity_name: pick(spec.legalEntityName, current?.legal_entity_name),
      legal_entity_address: pick(spec.legalEntityAddress, current?.legal_entity_address),
      legal_entity_officer: pick(spec.legalEntityOfficer, current?.legal_entity_officer),
      legal_entity_contact_email: pick(spec.legalEntityContactEmail, current?.legal_entity_contact_email),
      updated_at: new Date().toISOString(),
    });
    return this.organization(organizationId);
  }

  async members(organizationId: string): Promise<MemberRecord[]> {
    return this.repository.members(organizationId);
  }

  async member(organizationId: string, userId: string): Promise<MemberRecord> {
    const found = await this.repository.member(organizationId, userId);
    if (!found) throw notFound(`User '${userId}'`);
    return found;
  }

  /**
   * Removes a member (an Admin removing someone, or a member leaving): never the organization's last Admin. The
   * member's tokens for the organization are revoked and cached callers forgotten, so they stop at once; a
   * session of theirs falls back to another organization of theirs, or is refused.
   */
  async removeMember(organizationId: string, userId: string, by: Principal): Promise<void> {
    await this.repository.transaction(async (trx) => {
      await trx.lockOrganization(organizationId);
      const found = await trx.member(organizationId, userId);
      if (!found) throw notFound(`User '${userId}'`);
      if (found.role === 'Admin' && (await trx.adminCount(organizationId)) <= 1) {
        throw new BadRequestError('LastAdmin', 'The last Admin of an organization cannot be removed');
      }
      await trx.removeMember(organizationId, userId);
    });
    await this.tokens.revokeAllInOrganization(userId, organizationId, by.email);
    this.grants.forget();
  }

  async invites(organizationId: string): Promise<OrganizationInviteRow[]> {
    return this.repository.invites(organizationId);
  }

  async invite(organizationId: string, id: string): Promise<OrganizationInviteRow> {
    const found = await this.repository.invite(organizationId, id);
    if (!found) throw notFound(`Invite '${id}'`);
    return found;
  }

  async createInvite(
    organizationId: string,
    spec: { email: string; comment?: string; teams?: string[]; role?: Role },
    by: Principal,
  ): Promise<{ row: OrganizationInviteRow; setupCode?: string }> {
    const email = spec.email.trim().toLowerCase();
    const teams = [...new Set(spec.teams ?? [])];
    const inviter = await this.accounts.findUser(by.userId);
    return this.repository.transaction(async (trx) => {
      const known = await trx.findUserByEmail(email);
      if (known && (await trx.member(organizationId, known.id))) throw new ConflictError('Conflict', `'${email}' is already a member of this organization`);
      if (await trx.inviteFor(organizationId, email)) throw new ConflictError('Conflict', `'${email}' already has a pending invitation`);
      const existing = new Set((await trx.teams(organizationId)).map((t) => t.name));
      const missing = teams.filter((t) => !existing.has(t));
      if (missing.length > 0) throw new BadRequestError('TeamNotFound', `No team named ${missing.map((t) => `'${t}'`).join(', ')} in this organization`);
      // Reel sends no e-mail: an invitation to someone with no account carries a one-time set-up code, shown
      // once to the Admin to pass on, with which the invitee creates their account (`POST /auth/invite`).
      const setupCode = known ? undefined : randomSecret(24);
      const row: OrganizationInviteRow = {
        id: newId(),
        organization_id: organizationId,
        email,
        role: spec.role ?? 'Reader',
        comment: spec.comment ?? '',
        teams: JSON.stringify(teams),
        invited_by_email: by.email,
        invited_by_name: inviter?.name ?? by.email,
        setup_hash: setupCode ? sha256Hex(setupCode) : null,
        created_at: new Date().toISOString(),
      };
      await trx.insertInvite(row);
      return { row, ...(setupCode ? { setupCode } : {}) };
    });
  }

  async deleteInvite(organizationId: string, id: string): Promise<void> {
    await this.invite(organizationId, id);
    await this.repository.deleteInvite(id);
  }

  /** Invitations addressed to a user's e-mail. */
  async invitesOf(email: string) {
    return this.repository.invitesOf(email.toLowerCase());
  }

  /**
   * Accepts the caller's pending invitation: the membership with the invited role, places in the invited teams
   * that still exist, and the invitation gone, in one transaction.
   */
  async acceptInvite(organizationId: string, user: { userId: string; email: string }): Promise<void> {
    await this.repository.transaction((trx) => acceptIn(trx, organizationId, user));
    this.grants.forget();
  }

  /**
   * Creates the invitee's account from an invitation's set-up code: the user with their password, the membership
   * with the invited role and teams, and the invitation gone, in one transaction. Any wrong part is the same 400.
   */
  async setUpAccount(input: { email: string; code: string; password: string; name?: string }): Promise<{ userId: string; organizationId: string }> {
    const email = input.email.trim().toLowerCase();
    const refused = () => new BadRequestError('InvalidInvite', 'No invitation matches this e-mail and set-up code');
    const invite = await this.repository.inviteBySetup(email, sha256Hex(input.code));
    if (!invite || Date.parse(invite.created_at) + setupCodeLifetimeMs <= Date.now()) throw refused();
    const passwordHash = await hashPassword(input.password);
    const userId = newId();
    await this.repository.transaction(async (trx) => {
      if (await trx.findUserByEmail(email)) throw new ConflictError('Conflict', 'An account with this e-mail exists: sign in and accept the invitation');
      if (!(await trx.inviteBySetup(email, sha256Hex(input.code)))) throw refused();
      await trx.insertUser({ id: userId, email, name: input.name ?? email, password_hash: passwordHash, created_at: new Date().toISOString() });
      await acceptIn(trx, invite.organization_id, { userId, email });
    });
    this.grants.forget();
    return { userId, organizationId: invite.organization_id };
  }

  /** Declines the caller's pending invitation; false when there was none. */
  async declineInvite(organizationId: string, email: string): Promise<boolean> {
    const invite = await this.repository.inviteFor(organizationId, email.toLowerCase());
    return invite ? this.repository.deleteInvite(invite.id) : false;
  }

  /** The organization scope and one scope per project. */
  async scopes(organizationId: string): Promise<ScopeRecord[]> {
    const projects = await this.accounts.projectsOf(organizationId);
    return [
      {
        name: organizationScopeName,
        id: organizationId,
        type: 'organization',
        key: organizationScopeKey,
        description: 'The whole organization: its administration and every project',
      },
      ...projects
        .map((p) => ({
          name: `${p.name}${projectScopeSuffix}`,
          id: p.id,
          type: 'project' as const,
          key: p.id,
          description: `Project '${p.name}'`,
        }))
        // The organization scope's name wins over a project named `organization`.
        .filter((s) => s.name !== organizationScopeName),
    ];
  }

  async scope(organizationId: string, name: string): Promise<ScopeRecord> {
    const found = (await this.scopes(organizationId)).find((s) => s.name === name);
    if (!found) throw notFound(`Scope '${name}'`);
    return found;
  }

  /** Teams with their scopes named; a role on a project deleted since is left out. */
  async teams(organizationId: string, name?: string): Promise<Array<TeamRecord & { scopeNames: Record<string, string[]> }>> {
    const byKey = new Map((await this.scopes(organizationId)).map((s) => [s.key, s.name]));
    return (await this.repository.teams(organizationId, name)).map((team) => {
      const scopeNames: Record<string, string[]> = {};
      for (const { scope, role } of team.roles) {
        const scopeName = byKey.get(scope);
        if (scopeName) (scopeNames[scopeName] ??= []).push(role);
      }
      return { ...team, scopeNames };
    });
  }

  async team(organizationId: string, name: string) {
    const [found] = await this.teams(organizationId, name);
    if (!found) throw notFound(`Team '${name}'`);
    return found;
  }

  /** Creates or replaces a team; `created` tells which. */
  async putTeam(organizationId: string, name: string, body: TeamPutBody): Promise<{ created: boolean }> {
    if (!new RegExp(teamNamePattern).test(name)) throw invalid(`team name must match ${teamNamePattern}`);
    const spec: TeamSpec = {
      description: body.spec.description ?? '',
      members: Object.fromEntries(Object.entries(body.spec.members ?? {}).map(([id, m]) => [id, { isTeamAdmin: m.isTeamAdmin }])),
      scopes: body.spec.scopes ?? {},
    };
    return this.saveTeam(organizationId, name, spec, 'put');
  }

  /** Applies a JSON Patch (MK.IO's team operations) to a team, then saves it as a PUT would. */
  async patchTeam(organizationId: string, name: string, patch: TeamPatchBody): Promise<void> {
    const team = await this.team(organizationId, name);
    const spec: TeamSpec = {
      description: team.description,
      members: Object.fromEntries(team.members.map((m) => [m.user_id, { isTeamAdmin: m.is_team_admin === 1 }])),
      scopes: Object.fromEntries(Object.entries(team.scopeNames).map(([scope, r]) => [scope, { roles: [...r] }])),
    };
    for (const entry of patch) applyTeamPatch(spec, entry);
    await this.saveTeam(organizationId, name, spec, 'patch');
  }

  private async saveTeam(organizationId: string, name: string, spec: TeamSpec, mode: 'put' | 'patch'): Promise<{ created: boolean }> {
    if (spec.description.length > 256) throw invalid('spec.description must be at most 256 characters');
    const scopes = new Map((await this.scopes(organizationId)).map((s) => [s.name, s]));
    const roleRows: Array<{ scope: string; role: Role }> = [];
    for (const [scopeName, { roles: wanted }] of Object.entries(spec.scopes)) {
      const scope = scopes.get(scopeName);
      if (!scope) throw invalid(`spec.scopes: no scope named '${scopeName}' (see /api/v1/organization/scopes)`);
      for (const role of new Set(wanted)) {
        if (!roles.includes(role as Role)) throw invalid(`spec.scopes.${scopeName}.roles: no role named '${role}' (Admin, Contributor or Reader)`);
        roleRows.push({ scope: scope.key, role: role as Role });
      }
    }
    const created = await this.repository.transaction(async (trx) => {
      const memberIds = new Set((await trx.members(organizationId)).map((m) => m.id));
      const members = Object.entries(spec.members).map(([userId, m]) => ({ userId, isTeamAdmin: m.isTeamAdmin }));
      const strangers = members.filter((m) => !memberIds.has(m.userId)).map((m) => m.userId);
      if (strangers.length > 0) throw invalid(`spec.members: ${strangers.map((s) => `'${s}'`).join(', ')} is not a member of this organization`);
      const [existing] = await trx.teams(organizationId, name);
      const now = new Date().toISOString();
      if (!existing && mode === 'patch') throw notFound(`Team '${name}'`);
      const id = existing?.id ?? newId();
      if (existing) await trx.updateTeam(id, { description: spec.description, updated_at: now });
      else await trx.insertTeam({ id, organization_id: organizationId, name, description: spec.description, created_at: now, updated_at: now });
      await trx.replaceTeamContents(id, members, roleRows);
      return !existing;
    });
    this.grants.forget();
    return { created };
  }

  async deleteTeam(organizationId: string, name: string): Promise<void> {
    const team = await this.team(organizationId, name);
    await this.repository.deleteTeam(team.id);
    this.grants.forget();
  }
}

/** Accepts `user`'s pending invitation inside a transaction: membership with the invited role, teams, invitation gone. */
async function acceptIn(trx: OrganizationRepository, organizationId: string, user: { userId: string; email: string }): Promise<void> {
  const invite = await trx.inviteFor(organizationId, user.email.toLowerCase());
  if (!invite) throw notFound(`Organization '${organizationId}'`);
  if (!(await trx.member(organizationId, user.userId))) await trx.addMembership(user.userId, organizationId, invite.role);
  const names = new Set(JSON.parse(invite.teams) as string[]);
  for (const team of await trx.teams(organizationId)) {
    if (!names.has(team.name) || team.members.some((m) => m.user_id === user.userId)) continue;
    await trx.replaceTeamContents(
      team.id,
      [...team.members.map((m) => ({ userId: m.user_id, isTeamAdmin: m.is_team_admin === 1 })), { userId: user.userId, isTeamAdmin: false }],
      team.roles,
    );
  }
  await trx.deleteInvite(invite.id);
}

/** `~1` and `~0` in a JSON Pointer segment (RFC 6901). */
const unescape = (segment: string) => segment.replace(/~1/g, '/').replace(/~0/g, '~');

/**
 * The team operations MK.IO documents as JSON Patch: the description; adding, removing or promoting a member;
 * adding or removing a scope, or one role of a scope (`…/roles/-` to append, `…/roles/{role name or index}` to
 * remove). Anything else is a 400.
 */
export function applyTeamPatch(spec: TeamSpec, entry: { op: string; path: string; value?: unknown }): void {
  const parts = entry.path.split('/').map(unescape);
  const bad = (why: string) => invalid(`patch ${entry.op} ${entry.path}: ${why}`);
  if (parts[0] !== '' || parts[1] !== 'spec') throw bad('paths start with /spec');
  const [, , field, key, sub, item] = parts;
  const needsValue = entry.op !== 'remove';
  if (needsValue && entry.value === undefined) throw bad('a value is required');
  if (field === 'description' && parts.length === 3 && entry.op !== 'remove') {
    if (typeof entry.value !== 'string') throw bad('the description is a string');
    spec.description = entry.value;
    return;
  }
  if (field === 'members' && key && parts.length === 4) {
    if (entry.op === 'remove') {
      if (!spec.members[key]) throw bad('no such member in the team');
      delete spec.members[key];
      return;
    }
    const v = entry.value as { isTeamAdmin?: unknown } | null;
    if (!v || typeof v !== 'object' || typeof v.isTeamAdmin !== 'boolean') throw bad('the value is {"isTeamAdmin": true|false}');
    spec.members[key] = { isTeamAdmin: v.isTeamAdmin };
    return;
  }
  if (field === 'members' && key && sub === 'isTeamAdmin' && parts.length === 5 && entry.op !== 'remove') {
    if (!spec.members[key]) throw bad('no such member in the team');
    if (typeof entry.value !== 'boolean') throw bad('isTeamAdmin is true or false');
    spec.members[key] = { isTeamAdmin: entry.value };
    return;
  }
  if (field === 'scopes' && key && parts.length === 4) {
    if (entry.op === 'remove') {
      if (!spec.scopes[key]) throw bad('the team has no role on that scope');
      delete spec.scopes[key];
      return;
    }
    const v = entry.value as { roles?: unknown } | null;
    if (!v || typeof v !== 'object' || !Array.isArray(v.roles) || !v.roles.every((r) => typeof r === 'string'))
      throw bad('the value is {"roles": [role names]}');
    spec.scopes[key] = { roles: [...v.roles] };
    return;
  }
  if (field === 'scopes' && key && sub === 'roles' && item !== undefined && parts.length === 6) {
    if (entry.op === 'add') {
      if (item !== '-' && !/^\d+$/.test(item)) throw bad('add a role at /roles/-');
      if (typeof entry.value !== 'string') throw bad('a role name is a string');
      const current = (spec.scopes[key] ??= { roles: [] });
      if (!current.roles.includes(entry.value)) current.roles.push(entry.value);
      return;
    }
    if (entry.op === 'remove') {
      const current = spec.scopes[key];
      const index = current ? (/^\d+$/.test(item) ? Number(item) : current.roles.indexOf(item)) : -1;
      if (!current || index < 0 || index >= current.roles.length) throw bad('the team has no such role on that scope');
      current.roles.splice(index, 1);
      if (current.roles.length === 0) delete spec.scopes[key];
      return;
    }
  }
  throw bad('not an operation Reel supports on teams');
}
