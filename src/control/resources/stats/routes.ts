import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ProjectRow } from '../../../store/database.js';
import type { StatsService } from './service.js';
import { statsResponse } from './schema.js';

/** `GET /api/ams/{project}/stats/` (§5.6): per-project counters; clients read `extra.subscription_id` from it. */
export function registerStatsRoutes(app: FastifyInstance, stats: StatsService): void {
  app.get(
    '/stats',
    { config: { capability: { group: 'ams.asset', action: 'read' } }, schema: { response: { 200: statsResponse } } },
    async (req: FastifyRequest) => {
      const project = req.project as ProjectRow;
      const counts = await stats.countsOf(project.id);
      return {
        assets: { total: counts.assets },
        contentKeyPolicies: { total: counts.contentKeyPolicies },
        liveEvents: counts.liveEvents,
        storageAccounts: { total: counts.storageAccounts },
        streamingEndpoints: counts.streamingEndpoints,
        streamingLocators: { total: counts.streamingLocators },
        streamingPolicies: { total: counts.streamingPolicies },
        transforms: { total: counts.transforms },
        jobs: { total: counts.jobs },
        extra: { subscription_id: project.id },
      };
    },
  );
}
