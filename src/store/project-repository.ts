import type { Db, DialectName, ProjectProfileRow, ProjectRow } from './database.js';

/** A project with its Management API profile (absent for projects made before migration 008 or by first boot). */
export type ProjectRecord = ProjectRow & { profile: ProjectProfileRow | undefined };

/** Projects as the Management API manages them: create, read with profile, edit, delete. */
export class ProjectRepository {
  constructor(
    private readonly db: Db,
    private readonly dialect: DialectName,
  ) {}

  async listOf(organizationId: string): Promise<ProjectRecord[]> {
    const [projects, profiles] = await Promise.all([
      this.db.selectFrom('projects').selectAll().where('organization_id', '=', organizationId).orderBy('name').execute(),
      this.db
        .selectFrom('project_profiles')
        .innerJoin('projects', 'projects.id', 'project_profiles.project_id')
        .selectAll('project_profiles')
        .where('projects.organization_id', '=', organizationId)
        .execute(),
    ]);
    const byProject = new Map(profiles.map((p) => [p.project_id, p]));
    return projects.map((p) => ({ ...p, profile: byProject.get(p.id) }));
  }

  async find(name: string): Promise<ProjectRecord | undefined> {
    const project = await this.db.selectFrom('projects').selectAll().where('name', '=', name).executeTakeFirst();
    if (!project) return undefined;
    const profile = await this.db.selectFrom('project_profiles').selectAll().where('project_id', '=', project.id).executeTakeFirst();
    return { ...project, profile };
  }

  /** Inserts project and profile together; a name taken meanwhile fails on the unique index, leaving nothing. */
  async insert(project: ProjectRow, profile: ProjectProfileRow): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.insertInto('projects').values(project).execute();
      await trx.insertInto('project_profiles').values(profile).execute();
    });
  }

  async update(projectId: string, changes: { displayName?: string; profile: ProjectProfileRow }): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      if (changes.displayName !== undefined) {
        await trx.updateTable('projects').set({ display_name: changes.displayName }).where('id', '=', projectId).execute();
      }
      const { project_id: _id, ...values } = changes.profile;
      const updated = await trx.updateTable('project_profiles').set(values).where('project_id', '=', projectId).executeTakeFirst();
      if (Number(updated.numUpdatedRows) === 0) await trx.insertInto('project_profiles').values(changes.profile).execute();
    });
  }

  /**
   * Deletes the project and, by cascade, everything it holds, unless it still holds assets: the check and the
   * delete run in one transaction so an asset created meanwhile is never lost with its project. On PostgreSQL the
   * project row is locked first, which an asset insert's foreign-key check waits for; SQLite runs one writer.
   */
  async deleteUnlessHoldingAssets(projectId: string): Promise<'deleted' | 'holds-assets'> {
    return this.db.transaction().execute(async (trx) => {
      if (this.dialect === 'postgres') await trx.selectFrom('projects').select('id').where('id', '=', projectId).forUpdate().execute();
      const asset = await trx.selectFrom('assets').select('id').where('project_id', '=', projectId).limit(1).executeTakeFirst();
      if (asset) return 'holds-assets';
      await trx.deleteFrom('projects').where('id', '=', projectId).execute();
      return 'deleted';
    });
  }
}
