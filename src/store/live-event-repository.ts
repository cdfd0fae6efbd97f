import { sql, type Expression, type SqlBool } from 'kysely';
import type { Db, LiveEventResourceState, LiveEventRow, LiveOutputResourceState, LiveOutputRow } from './database.js';
import type { AssetLabelQuery } from './asset-repository.js';
import { dialectOf, fieldComparison, fieldOrdering, type FieldPageQuery } from './list-query.js';
import { inTransaction, recordWebhookEvent } from './webhook-repository.js';

/** Live event states the runtime must act on or resume: everything but Stopped (and Deleting, which is gone next). */
export const activeLiveEventStates: readonly LiveEventResourceState[] = ['Starting', 'Running', 'Stopping'];

/** Counters of a project's live events for the stats resource. */
export interface LiveEventCounts {
  running: number;
  stopped: number;
  total: number;
}

/** Live events (`live_events`) and live outputs (`live_outputs`): every query of both tables. */
export class LiveEventRepository {
  private readonly dialect: 'sqlite' | 'postgres';

  constructor(private readonly db: Db) {
    this.dialect = dialectOf(db);
  }

  // Events.

  async findEventByName(projectId: string, name: string): Promise<LiveEventRow | undefined> {
    return this.db.selectFrom('live_events').selectAll().where('project_id', '=', projectId).where('name', '=', name).executeTakeFirst();
  }

  async findEventById(id: string): Promise<LiveEventRow | undefined> {
    return this.db.selectFrom('live_events').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** The event an ingest connection names by its access token (RTMP path, SRT passphrase), across projects. */
  async findEventByAccessToken(accessToken: string): Promise<LiveEventRow | undefined> {
    return this.db.selectFrom('live_events').selectAll().where('access_token', '=', accessToken).executeTakeFirst();
  }

  /** The event whose preview a locator id names, across projects. */
  async findEventByPreviewLocator(previewLocator: string): Promise<LiveEventRow | undefined> {
    return this.db.selectFrom('live_events').selectAll().where('preview_locator', '=', previewLocator).executeTakeFirst();
  }

  /** Whether a value is already some event's access token or preview locator (both unique across projects). */
  async isAccessTokenTaken(accessToken: string): Promise<boolean> {
    return (await this.findEventByAccessToken(accessToken)) !== undefined;
  }

  async isPreviewLocatorTaken(previewLocator: string): Promise<boolean> {
    const event = await this.findEventByPreviewLocator(previewLocator);
    if (event) return true;
    // Streaming locators and preview locators share one URL space on the origin.
    const locator = await this.db.selectFrom('streaming_locators').select('id').where('locator_id', '=', previewLocator).executeTakeFirst();
    return locator !== undefined;
  }

  /** Ids of the events whose state asks the runtime for something (resumed or finished at boot). */
  async listActiveEventIds(): Promise<string[]> {
    const rows = await this.db.selectFrom('live_events').select('id').where('resource_state', 'in', activeLiveEventStates).orderBy('created_at').execute();
    return rows.map((r) => r.id);
  }

  /** One page of the project's events for a list request (fields, then `$label`/`$label_key` over `tags`). */
  async pageEvents(projectId: string, query: FieldPageQuery, labels: AssetLabelQuery): Promise<{ items: LiveEventRow[]; total: number }> {
    const base = this.db
      .selectFrom('live_events')
      .where('project_id', '=', projectId)
      .where((eb) =>
        eb.and([
          ...query.filter.map((t) => fieldComparison(this.dialect, t)),
          ...labels.keys.map((k) => sql<SqlBool>`${this.tagValue(k)} is not null`),
          ...groupByKey(labels.values).map((alternatives) =>
            eb.or(
              alternatives.map((v) =>
                v.contains
                  ? sql<SqlBool>`${this.tagValue(v.key)} like ${`%${v.value.replace(/[\\%_]/g, (c) => `\\${c}`)}%`} escape '\\'`
                  : sql<SqlBool>`${this.tagValue(v.key)} = ${v.value}`,
              ),
            ),
          ),
        ]),
      );
    const [items, count] = await Promise.all([
      base.selectAll().orderBy(fieldOrdering(this.dialect, query.orderBy)).limit(query.top).offset(query.skip).execute(),
      base.select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { items, total: Number(count.n) };
  }

  /** A tag's value as SQL text; keys are validated by the service and still bound as parameters. */
  private tagValue(key: string): Expression<string | null> {
    return this.dialect === 'postgres' ? sql<string | null>`(tags::jsonb ->> ${key})` : sql<string | null>`json_extract(tags, ${`$."${key}"`})`;
  }

  async insertEvent(row: LiveEventRow): Promise<void> {
    await this.db.insertInto('live_events').values(row).execute();
  }

  /** Replaces the stored properties (PATCH of `pipeline`, the one member MK.IO lets change). */
  async updateEventProperties(id: string, properties: string, updatedAt: string, updatedBy: string): Promise<void> {
    await this.db.updateTable('live_events').set({ properties, updated_at: updatedAt, updated_by: updatedBy }).where('id', '=', id).execute();
  }

  /**
   * Moves an event to `state`. Reaching Running or Stopped from another state also records MK.IO's
   * `MediaKind.ChannelInstanceStarted`/`…Stopped` webhook event, in the same transaction; with `failure` (the
   * runtime could not reach the state asked for) it records `MediaKind.ChannelInstanceError` instead.
   */
  async setEventState(id: string, state: LiveEventResourceState, updatedAt: string, updatedBy: string, failure?: string): Promise<void> {
    await inTransaction(this.db, async (trx) => {
      const before = await trx.selectFrom('live_events').selectAll().where('id', '=', id).executeTakeFirst();
      if (!before) return;
      await trx.updateTable('live_events').set({ resource_state: state, updated_at: updatedAt, updated_by: updatedBy }).where('id', '=', id).execute();
      const reached = state === 'Running' ? 'MediaKind.ChannelInstanceStarted' : state === 'Stopped' ? 'MediaKind.ChannelInstanceStopped' : undefined;
      const type = failure !== undefined ? 'MediaKind.ChannelInstanceError' : reached;
      if (!type || (failure === undefined && before.resource_state === state)) return;
      await recordWebhookEvent(trx, {
        projectId: before.project_id,
        type,
        resource: `liveEvents/${before.name}`,
        data: {
          liveEventName: before.name,
          liveEventId: before.id,
          previousState: before.resource_state,
          state,
          ...(failure !== undefined ? { error: failure } : {}),
        },
      });
    });
  }

  /** Deletes the event and, by cascade, its outputs. Returns whether a row was deleted. */
  async deleteEvent(id: string): Promise<boolean> {
    const result = await this.db.deleteFrom('live_events').where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async countEvents(projectId: string): Promise<LiveEventCounts> {
    const rows = await this.db
      .selectFrom('live_events')
      .select((eb) => ['resource_state', eb.fn.countAll<number | string>().as('n')])
      .where('project_id', '=', projectId)
      .groupBy('resource_state')
      .execute();
    const counts: LiveEventCounts = { running: 0, stopped: 0, total: 0 };
    for (const r of rows) {
      const n = Number(r.n);
      counts.total += n;
      if (r.resource_state === 'Running') counts.running += n;
      if (r.resource_state === 'Stopped') counts.stopped += n;
    }
    return counts;
  }

  /**
   * What the live runtime may be serving live now, for processes without one (origin processes): the assets that
   * outputs of active events record into, and those events' preview locators. Active rather than only Running, so
   * a start or a stop in progress is asked of the runtime too (it answers from storage when it has nothing live).
   */
  async listLiveTargets(): Promise<{ assetIds: string[]; previewLocators: string[] }> {
    const [outputs, events] = await Promise.all([
      this.db
        .selectFrom('live_outputs')
        .innerJoin('live_events', 'live_events.id', 'live_outputs.event_id')
        .select('live_outputs.asset_id')
        .where('live_events.resource_state', 'in', activeLiveEventStates)
        .execute(),
      this.db.selectFrom('live_events').select('preview_locator').where('resource_state', 'in', activeLiveEventStates).execute(),
    ]);
    return { assetIds: outputs.map((o) => o.asset_id), previewLocators: events.map((e) => e.preview_locator.toLowerCase()) };
  }

  // Outputs.

  async findOutputByName(eventId: string, name: string): Promise<LiveOutputRow | undefined> {
    return this.db.selectFrom('live_outputs').selectAll().where('event_id', '=', eventId).where('name', '=', name).executeTakeFirst();
  }

  /** The live output recording into an asset, whatever its event. */
  async findOutputByAsset(assetId: string): Promise<(LiveOutputRow & { event_name: string }) | undefined> {
    return this.db
      .selectFrom('live_outputs')
      .innerJoin('live_events', 'live_events.id', 'live_outputs.event_id')
      .selectAll('live_outputs')
      .select('live_events.name as event_name')
      .where('live_outputs.asset_id', '=', assetId)
      .executeTakeFirst();
  }

  /** Every output of an event, oldest first (what the runtime records). */
  async listOutputs(eventId: string): Promise<LiveOutputRow[]> {
    return this.db.selectFrom('live_outputs').selectAll().where('event_id', '=', eventId).orderBy('created_at').orderBy('name').execute();
  }

  async countOutputs(eventId: string): Promise<number> {
    const row = await this.db
      .selectFrom('live_outputs')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('event_id', '=', eventId)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async countProjectOutputs(projectId: string): Promise<number> {
    const row = await this.db
      .selectFrom('live_outputs')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('project_id', '=', projectId)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async pageOutputs(eventId: string, query: FieldPageQuery): Promise<{ items: LiveOutputRow[]; total: number }> {
    const base = this.db
      .selectFrom('live_outputs')
      .where('event_id', '=', eventId)
      .where((eb) => eb.and(query.filter.map((t) => fieldComparison(this.dialect, t))));
    const [items, count] = await Promise.all([
      base.selectAll().orderBy(fieldOrdering(this.dialect, query.orderBy)).limit(query.top).offset(query.skip).execute(),
      base.select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { items, total: Number(count.n) };
  }

  async insertOutput(row: LiveOutputRow): Promise<void> {
    await this.db.insertInto('live_outputs').values(row).execute();
  }

  async setOutputState(id: string, state: LiveOutputResourceState, updatedAt: string): Promise<void> {
    await this.db.updateTable('live_outputs').set({ resource_state: state, updated_at: updatedAt }).where('id', '=', id).execute();
  }

  /** Returns whether a row was deleted. */
  async deleteOutput(id: string): Promise<boolean> {
    const result = await this.db.deleteFrom('live_outputs').where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async deleteOutputsOfEvent(eventId: string): Promise<number> {
    const result = await this.db.deleteFrom('live_outputs').where('event_id', '=', eventId).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}

function groupByKey(values: AssetLabelQuery['values']): Array<AssetLabelQuery['values']> {
  const groups = new Map<string, AssetLabelQuery['values']>();
  for (const v of values) groups.set(v.key, [...(groups.get(v.key) ?? []), v]);
  return [...groups.values()];
}
