import type { Db, TransformRow } from './database.js';
import { pageProjectRows, type FieldPageQuery } from './list-query.js';

/** Transforms (`transforms`): every query of the table. */
export class TransformRepository {
  constructor(private readonly db: Db) {}

  async findByName(projectId: string, name: string): Promise<TransformRow | undefined> {
    return this.db.selectFrom('transforms').selectAll().where('project_id', '=', projectId).where('name', '=', name).executeTakeFirst();
  }

  list(projectId: string, query: FieldPageQuery): Promise<{ items: TransformRow[]; total: number }> {
    return pageProjectRows(this.db, 'transforms', projectId, query);
  }

  async insert(row: TransformRow): Promise<void> {
    await this.db.insertInto('transforms').values(row).execute();
  }

  async update(id: string, values: Partial<TransformRow>): Promise<void> {
    await this.db.updateTable('transforms').set(values).where('id', '=', id).execute();
  }

  async delete(id: string): Promise<void> {
    await this.db.deleteFrom('transforms').where('id', '=', id).execute();
  }
}
