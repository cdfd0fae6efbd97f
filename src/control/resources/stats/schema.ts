import { Type } from '@sinclair/typebox';

const total = Type.Object({ total: Type.Integer() });
const runningStopped = Type.Object({ running: Type.Integer(), stopped: Type.Integer(), total: Type.Integer() });

/**
 * `GET …/stats/` (§5.6): per-project counters; clients read `extra.subscription_id` from it. `transforms` and
 * `jobs` are Reel extensions (MK.IO's stats have no such counters; clients ignore them).
 */
export const statsResponse = Type.Object({
  assets: total,
  contentKeyPolicies: total,
  liveEvents: runningStopped,
  storageAccounts: total,
  streamingEndpoints: runningStopped,
  streamingLocators: total,
  streamingPolicies: total,
  transforms: total,
  jobs: total,
  extra: Type.Object({ subscription_id: Type.String({ format: 'uuid' }) }),
});
