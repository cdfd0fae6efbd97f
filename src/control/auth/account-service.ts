import type { Db, OrganizationRow, ProjectRow, Role, UserRow } from '../../store/database.js';
import { AccountRepository } from '../../store/account-repository.js';
import { newId, randomSecret } from '../../shared/ids.js';
import { ConflictError, notFound, BadRequestError } from '../../shared/errors.js';
import { hashPassword } from './password.js';

/** The organization and project a first start creates (and legacy clients name in paths). */
export const defaultProjectName = 'default';

/** Organizations (legacy "customer"), projects (legacy "subscription"), users and memberships. */
export class AccountService {
  private readonly repository: AccountRepository;

  constructor(db: Db | AccountRepository) {
    this.repository = db instanceof AccountRepository ? db : new AccountRepository(db);
  }

  async createOrganization(name: string): Promise<OrganizationRow> {
    const row = { id: newId(), name, created_at: new Date().toISOString() };
    await this.repository.insertOrganization(row);
    return row;
  }

  async createProject(organizationId: string, name: string): Promise<ProjectRow> {
    if (await this.repository.findProjectId(name)) throw new ConflictError('Conflict', `Project '${name}' already exists`);
    const row = { id: newId(), organization_id: organizationId, name, display_name: name, created_at: new Date().toISOString() };
    await this.repository.insertProject(row);
    return row;
  }

  async createUser(email: string, password: string, name = email): Promise<UserRow> {
    const row: UserRow = {
      id: newId(),
      email: email.toLowerCase(),
      name,
      password_hash: await hashPassword(password),
      active_organization_id: null,
      created_at: new Date().toISOString(),
    };
    await this.repository.insertUser(row);
    return row;
  }

  async addMember(userId: string, organizationId: string, role: Role): Promise<void> {
    await this.repository.insertMembership(userId, organizationId, role);
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
    if (Object.keys(set).length > 0) await this.repository.updateUser(userId, set);
    return this.getUser(userId);
  }

  async getUser(userId: string): Promise<UserRow> {
    const row = await this.repository.findUser(userId);
    if (!row) throw notFound(`User '${userId}'`);
    return row;
  }

  async organizationsOf(userId: string): Promise<Array<OrganizationRow & { role: Role }>> {
    return this.repository.organizationsOf(userId);
  }

  async projectsOf(organizationId: string): Promise<ProjectRow[]> {
    return this.repository.projectsOf(organizationId);
  }

  async findProject(name: string): Promise<ProjectRow | undefined> {
    return this.repository.findProject(name);
  }

  async findProjectById(id: string): Promise<ProjectRow | undefined> {
    return this.repository.findProjectById(id);
  }

  /**
   * First start: the admin user in organization `default` with project `default`. Returns the generated
   * password when none was configured (printed once by main.ts), or undefined when nothing was created.
   */
  async bootstrap(
    adminEmail: string,
    adminPassword: string | undefined,
  ): Promise<{ password?: string; created: boolean; projectId: string; adminUserId: string }> {
    // First start is told by the organization, not the project: an admin may delete project `default` later.
    if (await this.repository.findOrganizationId(defaultProjectName)) {
      return { created: false, projectId: (await this.repository.findProjectId(defaultProjectName)) ?? '', adminUserId: '' };
    }
    const password = adminPassword ?? randomSecret(12);
    return this.repository.transaction(async (trx) => {
      const tx = new AccountService(trx);
      const org = await tx.createOrganization(defaultProjectName);
      const project = await tx.createProject(org.id, defaultProjectName);
      const user = await tx.createUser(adminEmail, password, 'Administrator');
      await tx.addMember(user.id, org.id, 'Admin');
      return { password: adminPassword ? undefined : password, created: true, projectId: project.id, adminUserId: user.id };
    });
  }
}
