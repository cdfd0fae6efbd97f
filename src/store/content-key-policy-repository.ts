import { pageProjectRows, type FieldPageQuery } from './list-query.js';
import type { ContentKeyPolicyRow, Db } from './database.js';

/** Content key policies (`content_key_policies`): every query of the table. */
export class ContentKeyPolicyRepository {
  constructor(private readonly db: Db) {}

  async list(projectId: string): Promise<ContentKeyPolicyRow[]> {
    return this.db.selectFrom('content_key_policies').selectAll().where('project_id', '=', projectId).orderBy('name').execute();
  }

  /** One page of the project's rows for a list request, and how many match in all. */
  page(projectId: string, query: FieldPageQuery): Promise<{ items: ContentKeyPolicyRow[]; total: number }> {
    return pageProjectRows(this.db, 'content_key_policies', projectId, query);
  }

  async findByName(projectId: string, name: string): Promise<ContentKeyPolicyRow | undefined> {
    return this.db.selectFrom('content_key_policies').selectAll().where('project_id', '=', projectId).where('name', '=', name).executeTakeFirst();
  }

  /** Which of `names` exist in the project (one query for a locator's or a streaming policy's references). */
  async existing(projectId: string, names: string[]): Promise<Set<string>> {
    if (names.length === 0) return new Set();
    const rows = await this.db.selectFrom('content_key_policies').select('name').where('project_id', '=', projectId).where('name', 'in', names).execute();
    return new Set(rows.map((r) => r.name));
  }

  async insert(row: ContentKeyPolicyRow): Promise<void> {
    await this.db.insertInto('content_key_policies').values(row).execute();
  }

  async update(id: string, values: Pick<ContentKeyPolicyRow, 'properties' | 'options_sealed' | 'updated_at' | 'updated_by'>): Promise<void> {
    await this.db.updateTable('content_key_policies').set(values).where('id', '=', id).execute();
  }

  /** Returns whether a row was deleted. */
  async deleteByName(projectId: string, name: string): Promise<boolean> {
    const result = await this.db.deleteFrom('content_key_policies').where('project_id', '=', projectId).where('name', '=', name).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}
