import { pageProjectRows, type FieldPageQuery } from './list-query.js';
import type { Db, StreamingLocatorRow } from './database.js';
import { inTransaction, recordWebhookEvent } from './webhook-repository.js';

/** Streaming locators (`streaming_locators`): every query of the table. */
export class StreamingLocatorRepository {
  constructor(private readonly db: Db) {}

  /** The project's locators (of one asset when `assetId` is given), oldest first. */
  async list(projectId: string, assetId?: string): Promise<StreamingLocatorRow[]> {
    let q = this.db.selectFrom('streaming_locators').selectAll().where('project_id', '=', projectId);
    if (assetId) q = q.where('asset_id', '=', assetId);
    return q.orderBy('created_at').orderBy('name').execute();
  }

  /** One page of the project's rows for a list request, and how many match in all. */
  page(projectId: string, query: FieldPageQuery): Promise<{ items: StreamingLocatorRow[]; total: number }> {
    return pageProjectRows(this.db, 'streaming_locators', projectId, query);
  }

  async findByName(projectId: string, name: string): Promise<StreamingLocatorRow | undefined> {
    return this.db.selectFrom('streaming_locators').selectAll().where('project_id', '=', projectId).where('name', '=', name).executeTakeFirst();
  }

  /** The locator a playback URL names by its GUID (lower case), in any project. */
  async findByLocatorId(locatorId: string): Promise<StreamingLocatorRow | undefined> {
    return this.db.selectFrom('streaming_locators').selectAll().where('locator_id', '=', locatorId).executeTakeFirst();
  }

  /** Whether a locator id is used, by a streaming locator or as a live event's preview locator (one URL space). */
  async isLocatorIdTaken(locatorId: string): Promise<boolean> {
    const taken = await this.db.selectFrom('streaming_locators').select('name').where('locator_id', '=', locatorId).executeTakeFirst();
    if (taken !== undefined) return true;
    const preview = await this.db.selectFrom('live_events').select('name').where('preview_locator', '=', locatorId).executeTakeFirst();
    return preview !== undefined;
  }

  /** A locator of the project that uses the policy, if any. */
  async findUsingPolicy(projectId: string, policyName: string): Promise<{ name: string } | undefined> {
    return this.db.selectFrom('streaming_locators').select('name').where('project_id', '=', projectId).where('policy_name', '=', policyName).executeTakeFirst();
  }

  /** Writes the locator and its `MediaKind.StreamingLocatorCreated` webhook event together. */
  async insert(row: StreamingLocatorRow): Promise<void> {
    await inTransaction(this.db, async (trx) => {
      await trx.insertInto('streaming_locators').values(row).execute();
      await recordWebhookEvent(trx, {
        projectId: row.project_id,
        type: 'MediaKind.StreamingLocatorCreated',
        resource: `streamingLocators/${row.name}`,
        data: { streamingLocatorName: row.name, streamingLocatorId: row.locator_id, assetName: row.asset_name, streamingPolicyName: row.policy_name },
      });
    });
  }

  async update(id: string, values: Partial<StreamingLocatorRow>): Promise<void> {
    await this.db.updateTable('streaming_locators').set(values).where('id', '=', id).execute();
  }

  /** Returns whether a row was deleted. */
  async deleteByName(projectId: string, name: string): Promise<boolean> {
    const result = await this.db.deleteFrom('streaming_locators').where('project_id', '=', projectId).where('name', '=', name).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}
