import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Db, ProjectRow } from '../../../store/database.js';
import { statsResponse } from './schema.js';

/** `GET /api/ams/{project}/stats/` (§5.6): per-project counters; clients read `extra.subscription_id` from it. */
export function registerStatsRoutes(app: FastifyInstance, db: Db): void {
  app.get('/stats', { config: { capability: { group: 'ams.asset', action: 'read' } }, schema: { response: { 200: statsResponse } } }, async (req: FastifyRequest) => {
    const project = req.project as ProjectRow;
    const count = async (table: 'assets' | 'storage_accounts') => {
      const row = await db.selectFrom(table).select((eb) => eb.fn.countAll<number | string>().as('n')).where('project_id', '=', project.id).executeTakeFirstOrThrow();
      return Number(row.n);
    };
    return {
      assets: { total: await count('assets') },
      contentKeyPolicies: { total: 0 },
      liveEvents: { running: 0, stopped: 0, total: 0 },
      storageAccounts: { total: await count('storage_accounts') },
      streamingEndpoints: { running: 0, stopped: 0, total: 0 },
      streamingLocators: { total: 0 },
      streamingPolicies: { total: 0 },
      extra: { subscription_id: project.id },
    };
  });
}
