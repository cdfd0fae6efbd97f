import type { Db, OrganizationRow, ProjectRow, Role, UserRow } from './database.js';

/** Organizations, projects, users and memberships: every query of those tables. */
export class AccountRepository {
  constructor(private readonly db: Db) {}

  /** Runs `work` in one transaction, with a repository bound to it. */
  async transaction<T>(work: (accounts: AccountRepository) => Promise<T>): Promise<T> {
    return this.db.transaction().execute((trx) => work(new AccountRepository(trx)));
  }

  async insertOrganization(row: OrganizationRow): Promise<void> {
    await this.db.insertInto('organizations').values(row).execute();
  }

  async insertProject(row: ProjectRow): Promise<void> {
    await this.db.insertInto('projects').values(row).execute();
  }

  async insertUser(row: UserRow): Promise<void> {
    await this.db.insertInto('users').values(row).execute();
  }

  /** Adds the membership, and makes the organization the user's active one when they had none. */
  async insertMembership(userId: string, organizationId: string, role: Role): Promise<void> {
    await this.db.insertInto('memberships').values({ user_id: userId, organization_id: organizationId, role }).execute();
    await this.db
      .updateTable('users')
      .set({ active_organization_id: organizationId })
      .where('id', '=', userId)
      .where('active_organization_id', 'is', null)
      .execute();
  }

  async updateUser(userId: string, values: Partial<Pick<UserRow, 'name' | 'active_organization_id'>>): Promise<void> {
    await this.db.updateTable('users').set(values).where('id', '=', userId).execute();
  }

  async findUser(userId: string): Promise<UserRow | undefined> {
    return this.db.selectFrom('users').selectAll().where('id', '=', userId).executeTakeFirst();
  }

  /** What a sign-in checks; `email` as stored (lower case). */
  async findCredentials(email: string): Promise<Pick<UserRow, 'id' | 'password_hash'> | undefined> {
    return this.db.selectFrom('users').select(['id', 'password_hash']).where('email', '=', email).executeTakeFirst();
  }

  async organizationsOf(userId: string): Promise<Array<OrganizationRow & { role: Role }>> {
    return this.db
      .selectFrom('memberships')
      .innerJoin('organizations', 'organizations.id', 'memberships.organization_id')
      .selectAll('organizations')
      .select('memberships.role')
      .where('memberships.user_id', '=', userId)
      .orderBy('organizations.name')
      .execute();
  }

  async projectsOf(organizationId: string): Promise<ProjectRow[]> {
    return this.db.selectFrom('projects').selectAll().where('organization_id', '=', organizationId).orderBy('name').execute();
  }

  async findProject(name: string): Promise<ProjectRow | undefined> {
    return this.db.selectFrom('projects').selectAll().where('name', '=', name).executeTakeFirst();
  }

  async findOrganizationId(name: string): Promise<string | undefined> {
    return (await this.db.selectFrom('organizations').select('id').where('name', '=', name).executeTakeFirst())?.id;
  }

  async findProjectId(name: string): Promise<string | undefined> {
    return (await this.db.selectFrom('projects').select('id').where('name', '=', name).executeTakeFirst())?.id;
  }

  async findProjectById(id: string): Promise<ProjectRow | undefined> {
    return this.db.selectFrom('projects').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** The user's membership in `preferredOrganizationId` when they have one, else any of theirs. */
  async membershipPreferring(userId: string, preferredOrganizationId: string | null): Promise<{ organization_id: string; role: Role } | undefined> {
    return this.db
      .selectFrom('memberships')
      .select(['organization_id', 'role'])
      .where('user_id', '=', userId)
      .orderBy((eb) =>
        eb
          .case()
          .when('organization_id', '=', preferredOrganizationId ?? '')
          .then(0)
          .else(1)
          .end(),
      )
      .executeTakeFirst();
  }
}
