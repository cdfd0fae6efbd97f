import type { Db } from './database.js';

/** How many of each stored resource a project holds. */
export interface ProjectCounts {
  assets: number;
  storageAccounts: number;
  streamingLocators: number;
  /** Custom policies only; the predefined ones are not stored. */
  streamingPolicies: number;
  streamingEndpoints: { running: number; stopped: number; total: number };
  liveEvents: { running: number; stopped: number; total: number };
  contentKeyPolicies: number;
  transforms: number;
  jobs: number;
}

/**
 * The counters of `stats/`: a read model across the aggregates, in one statement (scalar subqueries) so the
 * numbers are of one moment and cost one round trip.
 */
export class ProjectStatsRepository {
  constructor(private readonly db: Db) {}

  async countsOf(projectId: string): Promise<ProjectCounts> {
    const row = await this.db
      .selectNoFrom((eb) => {
        const count = (
          table:
            | 'assets'
            | 'storage_accounts'
            | 'streaming_locators'
            | 'streaming_policies'
            | 'streaming_endpoints'
            | 'content_key_policies'
            | 'transforms'
            | 'jobs'
            | 'live_events',
        ) =>
          eb
            .selectFrom(table)
            .select((c) => c.fn.countAll<number | string>().as('n'))
            .where('project_id', '=', projectId);
        const countIn = (table: 'streaming_endpoints' | 'live_events', state: 'Running' | 'Stopped') =>
          eb
            .selectFrom(table)
            .select((c) => c.fn.countAll<number | string>().as('n'))
            .where('project_id', '=', projectId)
            .where('resource_state', '=', state);
        return [
          count('assets').as('assets'),
          count('storage_accounts').as('storage_accounts'),
          count('streaming_locators').as('streaming_locators'),
          count('streaming_policies').as('streaming_policies'),
          count('streaming_endpoints').as('streaming_endpoints'),
          count('content_key_policies').as('content_key_policies'),
          count('transforms').as('transforms'),
          count('jobs').as('jobs'),
          countIn('streaming_endpoints', 'Running').as('endpoints_running'),
          countIn('streaming_endpoints', 'Stopped').as('endpoints_stopped'),
          count('live_events').as('live_events'),
          countIn('live_events', 'Running').as('live_running'),
          countIn('live_events', 'Stopped').as('live_stopped'),
        ];
      })
      .executeTakeFirstOrThrow();
    // PostgreSQL returns count(*) as bigint text.
    return {
      assets: Number(row.assets),
      storageAccounts: Number(row.storage_accounts),
      streamingLocators: Number(row.streaming_locators),
      streamingPolicies: Number(row.streaming_policies),
      streamingEndpoints: { running: Number(row.endpoints_running), stopped: Number(row.endpoints_stopped), total: Number(row.streaming_endpoints) },
      liveEvents: { running: Number(row.live_running), stopped: Number(row.live_stopped), total: Number(row.live_events) },
      contentKeyPolicies: Number(row.content_key_policies),
      transforms: Number(row.transforms),
      jobs: Number(row.jobs),
    };
  }
}
