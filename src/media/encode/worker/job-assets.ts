import type { AssetRow, Db } from '../../../store/database.js';

/** The asset rows the worker reads: a job's input asset by name, its output asset by id. */
export class JobAssets {
  constructor(private readonly db: Db) {}

  async findById(id: string): Promise<AssetRow | undefined> {
    return this.db.selectFrom('assets').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async findByName(projectId: string, name: string): Promise<AssetRow | undefined> {
    return this.db.selectFrom('assets').selectAll().where('project_id', '=', projectId).where('name', '=', name).executeTakeFirst();
  }
}
