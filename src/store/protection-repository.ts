import type { ContentKeyPolicyRow, Db } from './database.js';

/** What key delivery and the origin read about a locator's protection, by its playback GUID. */
export interface LocatorProtectionRow {
  project_id: string;
  project_name: string;
  /** The locator's remaining MK.IO properties (JSON), for `alternativeMediaId`. */
  properties: string;
  content_keys: string | null;
  content_key_values: string | null;
}

/** The read side of content protection: a locator's keys and a project's content key policy, still sealed. */
export class ProtectionRepository {
  constructor(private readonly db: Db) {}

  async locatorByLocatorId(locatorId: string): Promise<LocatorProtectionRow | undefined> {
    const row = await this.db
      .selectFrom('streaming_locators')
      .innerJoin('projects', 'projects.id', 'streaming_locators.project_id')
      .select([
        'streaming_locators.project_id as project_id',
        'projects.name as project_name',
        'streaming_locators.properties as properties',
        'streaming_locators.content_keys as content_keys',
        'streaming_locators.content_key_values as content_key_values',
      ])
      .where('streaming_locators.locator_id', '=', locatorId)
      .executeTakeFirst();
    return row ? { ...row, content_keys: row.content_keys ?? null, content_key_values: row.content_key_values ?? null } : undefined;
  }

  async policy(projectId: string, name: string): Promise<Pick<ContentKeyPolicyRow, 'name' | 'policy_id' | 'options_sealed'> | undefined> {
    return this.db
      .selectFrom('content_key_policies')
      .select(['name', 'policy_id', 'options_sealed'])
      .where('project_id', '=', projectId)
      .where('name', '=', name)
      .executeTakeFirst();
  }
}
