import { sql } from 'kysely';
import type { Db } from './database.js';

/** Bytes the origin wrote for one project's endpoint on one UTC day, to be added to what is stored. */
export interface StreamedIncrement {
  projectId: string;
  endpointName: string;
  /** `YYYY-MM-DD` (UTC). */
  day: string;
  bytes: number;
}

export interface StreamedTotal {
  projectId: string;
  endpointName: string;
  day: string;
  bytes: number;
}

export interface EncodedTotal {
  projectId: string;
  day: string;
  resolutionClass: string;
  seconds: number;
}

/**
 * The usage meters' tables (migration 010): streamed bytes added by the origin processes, encoded seconds
 * recorded by the worker, and the sums the usage reports read. Days are `YYYY-MM-DD` text, compared as text.
 */
export class UsageRepository {
  constructor(private readonly db: Db) {}

  /** Adds each increment to its (project, endpoint, day) row, creating it; concurrent adders sum (one upsert). */
  async addStreamed(increments: StreamedIncrement[]): Promise<void> {
    if (increments.length === 0) return;
    await this.db
      .insertInto('usage_streamed')
      .values(increments.map((i) => ({ project_id: i.projectId, endpoint_name: i.endpointName, day: i.day, bytes: i.bytes })))
      .onConflict((oc) => oc.columns(['project_id', 'endpoint_name', 'day']).doUpdateSet({ bytes: sql<number>`usage_streamed.bytes + excluded.bytes` }))
      .execute();
  }

  /** A finished job's output seconds per resolution class, replacing what an earlier run of the same job recorded. */
  async recordEncoded(jobId: string, projectId: string, day: string, secondsByClass: Record<string, number>): Promise<void> {
    const rows = Object.entries(secondsByClass)
      .filter(([, seconds]) => seconds > 0)
      .map(([resolutionClass, seconds]) => ({ job_id: jobId, resolution_class: resolutionClass, project_id: projectId, day, seconds }));
    await this.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('usage_encoded').where('job_id', '=', jobId).execute();
      if (rows.length > 0) await tx.insertInto('usage_encoded').values(rows).execute();
    });
  }

  /** Streamed bytes of `projectIds` per endpoint and day, for days in [fromDay, toDay). */
  async streamed(projectIds: string[], fromDay: string, toDay: string): Promise<StreamedTotal[]> {
    if (projectIds.length === 0) return [];
    const rows = await this.db
      .selectFrom('usage_streamed')
      .select(['project_id', 'endpoint_name', 'day', 'bytes'])
      .where('project_id', 'in', projectIds)
      .where('day', '>=', fromDay)
      .where('day', '<', toDay)
      .orderBy('day')
      .orderBy('project_id')
      .orderBy('endpoint_name')
      .execute();
    return rows.map((r) => ({ projectId: r.project_id, endpointName: r.endpoint_name, day: r.day, bytes: Number(r.bytes) }));
  }

  /** Encoded seconds of `projectIds` per day and resolution class, for days in [fromDay, toDay). */
  async encoded(projectIds: string[], fromDay: string, toDay: string): Promise<EncodedTotal[]> {
    if (projectIds.length === 0) return [];
    const rows = await this.db
      .selectFrom('usage_encoded')
      .select((eb) => ['project_id', 'day', 'resolution_class', eb.fn.sum<number | string>('seconds').as('seconds')])
      .where('project_id', 'in', projectIds)
      .where('day', '>=', fromDay)
      .where('day', '<', toDay)
      .groupBy(['project_id', 'day', 'resolution_class'])
      .orderBy('day')
      .orderBy('project_id')
      .orderBy('resolution_class')
      .execute();
    return rows.map((r) => ({ projectId: r.project_id, day: r.day, resolutionClass: r.resolution_class, seconds: Number(r.seconds) }));
  }

  /** Where each asset of the project keeps its files, each place once: what the stored-bytes meter lists. */
  async assetPlaces(projectId: string): Promise<Array<{ storageAccountId: string; container: string; subPath: string }>> {
    const rows = await this.db
      .selectFrom('assets')
      .select(['storage_account_id', 'container', 'sub_path'])
      .distinct()
      .where('project_id', '=', projectId)
      .execute();
    return rows.map((r) => ({ storageAccountId: r.storage_account_id, container: r.container, subPath: r.sub_path ?? '' }));
  }

  /** The payment method assigned to each of `projectIds` that has one. */
  async paymentMethods(projectIds: string[]): Promise<Map<string, string>> {
    if (projectIds.length === 0) return new Map();
    const rows = await this.db
      .selectFrom('project_profiles')
      .select(['project_id', 'payment_method_id'])
      .where('project_id', 'in', projectIds)
      .where('payment_method_id', 'is not', null)
      .execute();
    return new Map(rows.map((r) => [r.project_id, r.payment_method_id as string]));
  }
}
