import { AccountRepository } from './account-repository.js';
import type { Db, OrganizationInviteRow, OrganizationProfileRow, OrganizationRow, Role, TeamRow } from './database.js';

/** A member as the organization's user routes show them. */
export interface MemberRecord {
  id: string;
  email: string;
  name: string;
  role: Role;
  created_at: string;
}

/** A team with its members and the roles it holds on each scope (`organization` or a project id). */
export interface TeamRecord extends TeamRow {
  members: Array<{ user_id: string; email: string; name: string; is_team_admin: number }>;
  roles: Array<{ scope: string; role: Role }>;
}

/** Organization administration (migration 010): profiles, members, invitations and teams. */
export class OrganizationRepository {
  constructor(private readonly db: Db) {}

  /** Runs `work` in one transaction, with a repository bound to it. */
  async transaction<T>(work: (repository: OrganizationRepository) => Promise<T>): Promise<T> {
    return this.db.transaction().execute((trx) => work(new OrganizationRepository(trx)));
  }

  async findOrganization(id: string): Promise<(OrganizationRow & { profile?: OrganizationProfileRow }) | undefined> {
    const org = await this.db.selectFrom('organizations').selectAll().where('id', '=', id).executeTakeFirst();
    if (!org) return undefined;
    const profile = await this.db.selectFrom('organization_profiles').selectAll().where('organization_id', '=', id).executeTakeFirst();
    return { ...org, ...(profile ? { profile } : {}) };
  }

  async saveProfile(row: OrganizationProfileRow): Promise<void> {
    const { organization_id: _id, ...values } = row;
    await this.db
      .insertInto('organization_profiles')
      .values(row)
      .onConflict((oc) => oc.column('organization_id').doUpdateSet(values))
      .execute();
  }

  /** The first member of the organization who is an Admin (the closest Reel has to MK.IO's "created by"). */
  async firstAdmin(organizationId: string): Promise<{ id: string; name: string; email: string } | undefined> {
    return this.db
      .selectFrom('memberships')
      .innerJoin('users', 'users.id', 'memberships.user_id')
      .select(['users.id', 'users.name', 'users.email'])
      .where('memberships.organization_id', '=', organizationId)
      .where('memberships.role', '=', 'Admin')
      .orderBy('users.created_at')
      .orderBy('users.id')
      .executeTakeFirst();
  }

  async members(organizationId: string): Promise<MemberRecord[]> {
    return this.db
      .selectFrom('memberships')
      .innerJoin('users', 'users.id', 'memberships.user_id')
      .select(['users.id', 'users.email', 'users.name', 'users.created_at', 'memberships.role'])
      .where('memberships.organization_id', '=', organizationId)
      .orderBy('users.email')
      .execute();
  }

  async member(organizationId: string, userId: string): Promise<MemberRecord | undefined> {
    return this.db
      .selectFrom('memberships')
      .innerJoin('users', 'users.id', 'memberships.user_id')
      .select(['users.id', 'users.email', 'users.name', 'users.created_at', 'memberships.role'])
      .where('memberships.organization_id', '=', organizationId)
      .where('users.id', '=', userId)
      .executeTakeFirst();
  }

  /**
   * Serializes membership changes of one organization for the rest of the transaction: a no-op update takes the
   * organization's row lock on PostgreSQL (SQLite's write lock covers the whole database), so two Admins removing
   * each other cannot both pass the last-Admin check.
   */
  async lockOrganization(organizationId: string): Promise<void> {
    await this.db
      .updateTable('organizations')
      .set((eb) => ({ name: eb.ref('name') }))
      .where('id', '=', organizationId)
      .execute();
  }

  async adminCount(organizationId: string): Promise<number> {
    const row = await this.db
      .selectFrom('memberships')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('organization_id', '=', organizationId)
      .where('role', '=', 'Admin')
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** Removes the membership and the user's places in the organization's teams. */
  async removeMember(organizationId: string, userId: string): Promise<void> {
    await this.db
      .deleteFrom('team_members')
      .where('user_id', '=', userId)
      .where('team_id', 'in', (eb) => eb.selectFrom('teams').select('id').where('organization_id', '=', organizationId))
      .execute();
    await this.db.deleteFrom('memberships').where('organization_id', '=', organizationId).where('user_id', '=', userId).execute();
  }

  async findUserByEmail(email: string): Promise<{ id: string; email: string; name: string } | undefined> {
    return this.db.selectFrom('users').select(['id', 'email', 'name']).where('email', '=', email).executeTakeFirst();
  }

  async invites(organizationId: string): Promise<OrganizationInviteRow[]> {
    return this.db.selectFrom('organization_invites').selectAll().where('organization_id', '=', organizationId).orderBy('created_at').orderBy('id').execute();
  }

  async invite(organizationId: string, id: string): Promise<OrganizationInviteRow | undefined> {
    return this.db.selectFrom('organization_invites').selectAll().where('organization_id', '=', organizationId).where('id', '=', id).executeTakeFirst();
  }

  async inviteFor(organizationId: string, email: string): Promise<OrganizationInviteRow | undefined> {
    return this.db.selectFrom('organization_invites').selectAll().where('organization_id', '=', organizationId).where('email', '=', email).executeTakeFirst();
  }

  /** Pending invitations addressed to `email`, with the inviting organization's name. */
  async invitesOf(email: string): Promise<Array<OrganizationInviteRow & { organization_name: string }>> {
    return this.db
      .selectFrom('organization_invites')
      .innerJoin('organizations', 'organizations.id', 'organization_invites.organization_id')
      .leftJoin('organization_profiles', 'organization_profiles.organization_id', 'organizations.id')
      .selectAll('organization_invites')
      .select((eb) => eb.fn.coalesce('organization_profiles.display_name', 'organizations.name').as('organization_name'))
      .where('organization_invites.email', '=', email)
      .orderBy('organization_invites.created_at')
      .execute();
  }

  /** The invitation to `email` whose set-up code hashes to `setupHash`. */
  async inviteBySetup(email: string, setupHash: string): Promise<OrganizationInviteRow | undefined> {
    return this.db.selectFrom('organization_invites').selectAll().where('email', '=', email).where('setup_hash', '=', setupHash).executeTakeFirst();
  }

  async insertUser(row: { id: string; email: string; name: string; password_hash: string; created_at: string }): Promise<void> {
    await this.db
      .insertInto('users')
      .values({ ...row, active_organization_id: null })
      .execute();
  }

  async insertInvite(row: OrganizationInviteRow): Promise<void> {
    await this.db.insertInto('organization_invites').values(row).execute();
  }

  /** Deletes the invite; false when it was not there (already accepted, declined or withdrawn). */
  async deleteInvite(id: string): Promise<boolean> {
    const result = await this.db.deleteFrom('organization_invites').where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  /** The account repository's membership insert, on this repository's database or transaction. */
  async addMembership(userId: string, organizationId: string, role: Role): Promise<void> {
    await new AccountRepository(this.db).insertMembership(userId, organizationId, role);
  }

  async teams(organizationId: string, name?: string): Promise<TeamRecord[]> {
    let query = this.db.selectFrom('teams').selectAll().where('organization_id', '=', organizationId);
    if (name !== undefined) query = query.where('name', '=', name);
    const rows = await query.orderBy('name').execute();
    if (rows.length === 0) return [];
    const ids = rows.map((t) => t.id);
    const members = await this.db
      .selectFrom('team_members')
      .innerJoin('users', 'users.id', 'team_members.user_id')
      .select(['team_members.team_id', 'team_members.user_id', 'team_members.is_team_admin', 'users.email', 'users.name'])
      .where('team_members.team_id', 'in', ids)
      .orderBy('users.email')
      .execute();
    const roles = await this.db.selectFrom('team_roles').selectAll().where('team_id', 'in', ids).orderBy('scope').orderBy('role').execute();
    return rows.map((t) => ({
      ...t,
      members: members.filter((m) => m.team_id === t.id).map(({ team_id: _t, ...m }) => m),
      roles: roles.filter((r) => r.team_id === t.id).map(({ scope, role }) => ({ scope, role })),
    }));
  }

  async insertTeam(row: TeamRow): Promise<void> {
    await this.db.insertInto('teams').values(row).execute();
  }

  async updateTeam(id: string, values: { description: string; updated_at: string }): Promise<void> {
    await this.db.updateTable('teams').set(values).where('id', '=', id).execute();
  }

  /** Replaces a team's members and roles. */
  async replaceTeamContents(
    teamId: string,
    members: Array<{ userId: string; isTeamAdmin: boolean }>,
    roles: Array<{ scope: string; role: Role }>,
  ): Promise<void> {
    await this.db.deleteFrom('team_members').where('team_id', '=', teamId).execute();
    await this.db.deleteFrom('team_roles').where('team_id', '=', teamId).execute();
    if (members.length > 0) {
      await this.db
        .insertInto('team_members')
        .values(members.map((m) => ({ team_id: teamId, user_id: m.userId, is_team_admin: m.isTeamAdmin ? 1 : 0 })))
        .execute();
    }
    if (roles.length > 0)
      await this.db
        .insertInto('team_roles')
        .values(roles.map((r) => ({ team_id: teamId, ...r })))
        .execute();
  }

  async deleteTeam(id: string): Promise<void> {
    await this.db.deleteFrom('teams').where('id', '=', id).execute();
  }

  /** Every role a user's teams hold in the organization, by scope (`organization` or a project id). */
  async grantsOf(organizationId: string, userId: string): Promise<Array<{ scope: string; role: Role }>> {
    return this.db
      .selectFrom('team_members')
      .innerJoin('teams', 'teams.id', 'team_members.team_id')
      .innerJoin('team_roles', 'team_roles.team_id', 'teams.id')
      .select(['team_roles.scope', 'team_roles.role'])
      .where('team_members.user_id', '=', userId)
      .where('teams.organization_id', '=', organizationId)
      .execute();
  }
}
