import { pageProjectRows, type FieldPageQuery } from './list-query.js';
import type { Db, StreamingPolicyRow } from './database.js';

/** Custom streaming policies (`streaming_policies`; the predefined ones are not stored): every query of the table. */
export class StreamingPolicyRepository {
  constructor(private readonly db: Db) {}

  async list(projectId: string): Promise<StreamingPolicyRow[]> {
    return this.db.selectFrom('streaming_policies').selectAll().where('project_id', '=', projectId).orderBy('name').execute();
  }

  /** One page of the project's rows for a list request, and how many match in all. */
  page(projectId: string, query: FieldPageQuery): Promise<{ items: StreamingPolicyRow[]; total: number }> {
    return pageProjectRows(this.db, 'streaming_policies', projectId, query);
  }

  async findByName(projectId: string, name: string): Promise<StreamingPolicyRow | undefined> {
    return this.db.selectFrom('streaming_policies').selectAll().where('project_id', '=', projectId).where('name', '=', name).executeTakeFirst();
  }

  async insert(row: StreamingPolicyRow): Promise<void> {
    await this.db.insertInto('streaming_policies').values(row).execute();
  }

  /** Returns whether a row was deleted. */
  async deleteByName(projectId: string, name: string): Promise<boolean> {
    const result = await this.db.deleteFrom('streaming_policies').where('project_id', '=', projectId).where('name', '=', name).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}
