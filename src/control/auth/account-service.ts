import type { Db, OrganizationRow, ProjectRow, UserRow } from '../../store/database.js';
import { newId, randomSecret } from '../../shared/ids.js';
import { ConflictError, notFound, BadRequestError } from '../../shared/errors.js';
import { hashPassword } from './password.js';
import type { Role } from './principal.js';

/** Organizations (legacy "customer"), projects (legacy "subscription"), users and memberships. */
export class AccountService {
  constructor(private readonly db: Db) {}

  async createOrganization(name: string): Promise<OrganizationRow> {
    const row = { id: newId(), name, created_at: new Date().toISOString() };
    await this.db.insertInto('organizations').values(row).execute();
    return row;
  }

  async createProject(organizationId: string, name: string): Promise<ProjectRow> {
    const existing = await this.db.selectFrom('projects').select('id').where('name', '=', name).executeTakeFirst();
    if (existing) throw new ConflictError('Conflict', `Project '${name}' already exists`);
    const row = { id: newId(), organization_id: organizationId, name, display_name: name, created_at: new Date().toISOString() };
    await this.db.insertInto('projects').values(row).execute();
    return row;
  }

  async createUser(email: string, password: string, name = email): Promise<UserRow> {
    const row: UserRow = {
      id: newId(), email: email.toLowerCase(), name, password_hash: await hashPassword(password),
      active_organization_id: null, created_at: new Date().toISOString(),
    };
    await this.db.insertInto('users').values(row).execute();
    return row;
  }

  async addMember(userId: string, organizationId: string, role: Role): Promise<void> {
    await this.db.insertInto('memberships').values({ user_id: userId, organization_id: organizationId, role }).execute();
    await this.db.updateTable('users').set({ active_organization_id: organizationId })
      .where('id', '=', userId).where('active_organization_id', 'is', null).execute();
  }

  /** Edits what a user may change of their own profile; the active organization must be one of theirs. */
  async updateProfile(userId: string, changes: { name?: string; activeOrganizationId?: string }): Promise<UserRow> {
    if (changes.activeOrganizationId !== undefined && !(await this.organizationsOf(userId)).some((o) => o.id === changes.activeOrganizationId)) {
      throw new BadRequestError('InvalidOrganization', `You are not a member of organization '${changes.activeOrganizationId}'`);
    }
    const set = {
      ...(changes.name !== undefined ? { name: changes.name } : {}),
      ...(changes.activeOrganizationId !== undefined ? { active_organization_id: changes.activeOrganizationId } : {}),
    };
    if (Object.keys(set).length > 0) await this.db.updateTable('users').set(set).where('id', '=', userId).execute();
    return this.getUser(userId);
  }

  async getUser(userId: string): Promise<UserRow> {
    const row = await this.db.selectFrom('users').selectAll().where('id', '=', userId).executeTakeFirst();
    if (!row) throw notFound(`User '${userId}'`);
    return row;
  }

  async organizationsOf(userId: string): Promise<Array<OrganizationRow & { role: Role }>> {
    const rows = await this.db.selectFrom('memberships').innerJoin('organizations', 'organizations.id', 'memberships.organization_id')
      .selectAll('organizations').select('memberships.role').where('memberships.user_id', '=', userId).orderBy('organizations.name').execute();
    return rows.map((r) => ({ ...r, role: r.role }));
  }

  async projectsOf(organizationId: string): Promise<ProjectRow[]> {
    return this.db.selectFrom('projects').selectAll().where('organization_id', '=', organizationId).orderBy('name').execute();
  }

  async findProject(name: string): Promise<ProjectRow | undefined> {
    return this.db.selectFrom('projects').selectAll().where('name', '=', name).executeTakeFirst();
  }

  async findProjectById(id: string): Promise<ProjectRow | undefined> {
    return this.db.selectFrom('projects').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /**
   * First start: the admin user in organization `default` with project `default`. Returns the generated
   * password when none was configured (printed once by main.ts), or undefined when nothing was created.
   */
  async bootstrap(adminEmail: string, adminPassword: string | undefined): Promise<{ password?: string; created: boolean; projectId: string; adminUserId: string }> {
    const existing = await this.db.selectFrom('projects').select('id').where('name', '=', 'default').executeTakeFirst();
    if (existing) return { created: false, projectId: existing.id, adminUserId: '' };
    const password = adminPassword ?? randomSecret(12);
    return this.db.transaction().execute(async (trx) => {
      const tx = new AccountService(trx);
      const org = await tx.createOrganization('default');
      const project = await tx.createProject(org.id, 'default');
      const user = await tx.createUser(adminEmail, password, 'Administrator');
      await tx.addMember(user.id, org.id, 'Admin');
      return { password: adminPassword ? undefined : password, created: true, projectId: project.id, adminUserId: user.id };
    });
  }
}
