import { pageProjectRows, type FieldPageQuery } from './list-query.js';
import type { Db, StreamingEndpointRow, StreamingEndpointState } from './database.js';

/** The endpoint every project has, and the one a playback host that names no endpoint is served by. */
export const defaultEndpointName = 'default';

/**
 * The settings row that records a project's default endpoint was made, so one a user deleted is never made
 * again (and the origin knows an absent default is deleted, not yet to be made).
 */
const defaultEndpointMarker = (projectId: string): string => `default-endpoint:${projectId}`;

/** Streaming endpoints (`streaming_endpoints`) and the default-endpoint markers: every query of them. */
export class StreamingEndpointRepository {
  constructor(private readonly db: Db) {}

  async list(projectId: string): Promise<StreamingEndpointRow[]> {
    return this.db.selectFrom('streaming_endpoints').selectAll().where('project_id', '=', projectId).orderBy('name').execute();
  }

  /** One page of the project's rows for a list request, and how many match in all. */
  page(projectId: string, query: FieldPageQuery): Promise<{ items: StreamingEndpointRow[]; total: number }> {
    return pageProjectRows(this.db, 'streaming_endpoints', projectId, query);
  }

  async findByName(projectId: string, name: string): Promise<StreamingEndpointRow | undefined> {
    return this.db.selectFrom('streaming_endpoints').selectAll().where('project_id', '=', projectId).where('name', '=', name).executeTakeFirst();
  }

  /** Whether the project's default endpoint was ever made (it may have been deleted since). */
  async hasDefaultMarker(projectId: string): Promise<boolean> {
    const made = await this.db.selectFrom('settings').select('key').where('key', '=', defaultEndpointMarker(projectId)).executeTakeFirst();
    return made !== undefined;
  }

  /** Records the marker and inserts `row` as the default endpoint, together; either already present is kept. */
  async insertDefault(row: StreamingEndpointRow): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('settings')
        .values({ key: defaultEndpointMarker(row.project_id), value: row.created_at })
        .onConflict((oc) => oc.column('key').doNothing())
        .execute();
      await trx
        .insertInto('streaming_endpoints')
        .values({ ...row, name: defaultEndpointName })
        .onConflict((oc) => oc.columns(['project_id', 'name']).doNothing())
        .execute();
    });
  }

  async insert(row: StreamingEndpointRow): Promise<void> {
    await this.db.insertInto('streaming_endpoints').values(row).execute();
  }

  async update(id: string, values: Partial<Pick<StreamingEndpointRow, 'properties' | 'tags' | 'updated_at' | 'updated_by'>>): Promise<void> {
    await this.db.updateTable('streaming_endpoints').set(values).where('id', '=', id).execute();
  }

  async setState(id: string, state: StreamingEndpointState, updatedAt: string, updatedBy: string): Promise<void> {
    await this.db
      .updateTable('streaming_endpoints')
      .set({ resource_state: state, updated_at: updatedAt, updated_by: updatedBy })
      .where('id', '=', id)
      .execute();
  }

  /** Returns whether a row was deleted. */
  async deleteByName(projectId: string, name: string): Promise<boolean> {
    const result = await this.db.deleteFrom('streaming_endpoints').where('project_id', '=', projectId).where('name', '=', name).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}
