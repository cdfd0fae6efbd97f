import type { Db, JobRow } from './database.js';
import { dialectOf, fieldComparison, fieldOrdering, type FieldFilter, type FieldOrder } from './list-query.js';
import { canMoveJob, jobStatesMovingInto, unfinishedJobStates, type JobState } from './job-states.js';
import { InternalError } from '../shared/errors.js';
import { inTransaction, recordWebhookEvent } from './webhook-repository.js';
import type { WebhookEventType } from '../shared/webhook-events.js';

/**
 * The webhook event MK.IO names for a move: started when a worker takes the job from the queue (where Reel sets the
 * job's startTime, before its inputs are fetched), finished when it ends in any final state.
 */
function jobEventFor(from: JobState, to: JobState): WebhookEventType | undefined {
  if (to === 'Scheduled') return from === 'Queued' ? 'MediaKind.JobStarted' : undefined;
  return to === 'Finished' || to === 'Error' || to === 'Canceled' ? 'MediaKind.JobFinished' : undefined;
}
/** States whose entry may raise a webhook event; other moves skip the read and the transaction. */
const eventfulStates = new Set<JobState>(['Scheduled', 'Finished', 'Error', 'Canceled']);

function parseCorrelation(text: string): Record<string, unknown> {
  try {
    const value = JSON.parse(text) as unknown;
    return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

export type JobColumn = keyof JobRow;

export interface JobListQuery {
  transformId?: string;
  filter: FieldFilter[];
  orderBy: FieldOrder[];
  top: number;
  skip: number;
}

/** What may be written together with a change of state. */
export type JobStateValues = Partial<Pick<JobRow, 'progress' | 'error' | 'start_time' | 'end_time' | 'output_files'>>;
/** What a user may change on a job after submission. */
export type JobDetails = Partial<Pick<JobRow, 'description' | 'priority' | 'correlation_data' | 'updated_at' | 'updated_by'>>;

/**
 * Encoding jobs (`jobs`): every query of the table, for the API and the worker. A job's state changes only
 * through `transition`, which refuses a move the state machine (job-states.ts) does not allow. The queue's own
 * table belongs to src/queue/drivers/sql-job-queue.ts.
 */
export class JobRepository {
  constructor(private readonly db: Db) {}

  async findById(id: string): Promise<JobRow | undefined> {
    return this.db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async findByName(transformId: string, name: string): Promise<JobRow | undefined> {
    return this.db.selectFrom('jobs').selectAll().where('transform_id', '=', transformId).where('name', '=', name).executeTakeFirst();
  }

  /** One page of a project's jobs (of one transform when `transformId`), and how many match in all. */
  async list(projectId: string, query: JobListQuery): Promise<{ items: JobRow[]; total: number }> {
    let base = this.db.selectFrom('jobs').where('project_id', '=', projectId);
    if (query.transformId) base = base.where('transform_id', '=', query.transformId);
    const dialect = dialectOf(this.db);
    base = base.where((eb) => eb.and(query.filter.map((f) => fieldComparison(dialect, f))));
    const [items, count] = await Promise.all([
      base.selectAll().orderBy(fieldOrdering(dialect, query.orderBy)).limit(query.top).offset(query.skip).execute(),
      base.select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { items, total: Number(count.n) };
  }

  /** A transform's jobs that can still be canceled. */
  async listCancelable(transformId: string): Promise<JobRow[]> {
    return this.db.selectFrom('jobs').selectAll().where('transform_id', '=', transformId).where('state', 'in', jobStatesMovingInto('Canceling')).execute();
  }

  /** Every job not yet in a final state, for a starting worker to offer to the queue again. */
  async listUnfinished(): Promise<Array<Pick<JobRow, 'id' | 'priority'>>> {
    return this.db.selectFrom('jobs').select(['id', 'priority']).where('state', 'in', unfinishedJobStates).execute();
  }

  /** Whether any job writes into this asset. */
  async hasJobWritingInto(assetId: string): Promise<boolean> {
    return (await this.db.selectFrom('jobs').select('id').where('output_asset_id', '=', assetId).executeTakeFirst()) !== undefined;
  }

  /** Whether a job that has not ended yet writes into this asset. */
  async hasUnfinishedJobWritingInto(assetId: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('jobs')
      .select('id')
      .where('output_asset_id', '=', assetId)
      .where('state', 'in', [...unfinishedJobStates])
      .executeTakeFirst();
    return row !== undefined;
  }

  async stateOf(id: string): Promise<JobState | undefined> {
    return (await this.db.selectFrom('jobs').select('state').where('id', '=', id).executeTakeFirst())?.state;
  }

  /** Writes a new job; a taken (transform, name) is a `UniqueViolationError`. */
  async insert(row: JobRow): Promise<void> {
    await this.db.insertInto('jobs').values(row).execute();
  }

  async setOutputAsset(id: string, assetId: string): Promise<void> {
    await this.db.updateTable('jobs').set({ output_asset_id: assetId }).where('id', '=', id).execute();
  }

  async updateDetails(id: string, values: JobDetails): Promise<void> {
    await this.db.updateTable('jobs').set(values).where('id', '=', id).execute();
  }

  async delete(id: string): Promise<void> {
    await this.db.deleteFrom('jobs').where('id', '=', id).execute();
  }

  /**
   * Moves a job to `to` if its state is one of `from` (by default every state the machine lets move into `to`),
   * with `values` written in the same statement. Returns whether the record changed: false when the job is
   * gone or another process moved it first. A `from` the machine does not allow is a programming error.
   */
  async transition(id: string, to: JobState, options: { from?: readonly JobState[]; values?: JobStateValues } = {}): Promise<boolean> {
    const from = options.from ?? jobStatesMovingInto(to);
    const illegal = from.filter((state) => !canMoveJob(state, to));
    if (illegal.length > 0) throw new InternalError('InternalError', `A job cannot move from ${illegal.join(', ')} to ${to}`);
    if (!eventfulStates.has(to)) return this.move(this.db, id, to, from, options.values);
    // The webhook event is written in the same transaction as the state it reports: both exist or neither.
    return inTransaction(this.db, async (trx) => {
      const before = await trx.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
      if (!before || !(await this.move(trx, id, to, from, options.values))) return false;
      const event = jobEventFor(before.state, to);
      if (!event) return true;
      await recordWebhookEvent(trx, {
        projectId: before.project_id,
        type: event,
        resource: `transforms/${before.transform_name}/jobs/${before.name}`,
        data: {
          transformName: before.transform_name,
          jobName: before.name,
          previousState: before.state,
          state: to,
          correlationData: parseCorrelation(before.correlation_data),
          outputAssetName: before.output_asset_name,
        },
      });
      return true;
    });
  }

  private async move(db: Db, id: string, to: JobState, from: readonly JobState[], values: JobStateValues | undefined): Promise<boolean> {
    const result = await db
      .updateTable('jobs')
      .set({ ...values, state: to, updated_at: new Date().toISOString() })
      .where('id', '=', id)
      .where('state', 'in', from)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** A running job's progress; written only while it is Processing, so a late tick never overwrites an end. */
  async recordProgress(id: string, progress: number): Promise<void> {
    await this.db.updateTable('jobs').set({ progress }).where('id', '=', id).where('state', '=', 'Processing').execute();
  }

  /** The blob paths a job has written (or begun writing) into its output asset, for cleanup after a crash. */
  async recordOutputFiles(id: string, blobs: readonly string[]): Promise<void> {
    await this.db
      .updateTable('jobs')
      .set({ output_files: JSON.stringify(blobs) })
      .where('id', '=', id)
      .execute();
  }
}
