import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import { describeOnEachDialect, insertProject } from '../../../../test/support/store-database.js';
import { createLogger } from '../../../shared/log.js';
import { BadRequestError, UnavailableError } from '../../../shared/errors.js';
import { AssetService } from '../assets/service.js';
import { LiveOutputService } from '../live-outputs/service.js';
import type { LiveEventControl } from './live-event-control.js';
import { LiveEventService } from './service.js';

/**
 * What the runtime sees when the service asks it to reconcile: the runtime reads the store, so each call
 * records the event's state and its outputs at that moment. A stand-in for src/media/live behind the one seam
 * (LiveEventControl) the API owns; the store is real.
 */
describeOnEachDialect('LiveEventService and the runtime seam', (store) => {
  let events: LiveEventService;
  let outputs: LiveOutputService;
  let projectId: string;
  const seen: Array<{ state: string | undefined; outputs: string[] }> = [];
  let failNext: Error | undefined;
  const actor = { email: 'a@example.com' };

  before(async () => {
    const { db, dialect } = store();
    projectId = await insertProject(db, 'live');
    const now = new Date().toISOString();
    const audit = { created_at: now, created_by: 'a', updated_at: now, updated_by: 'a' };
    await db
      .insertInto('storage_accounts')
      .values({
        id: 'account',
        project_id: projectId,
        name: 'media',
        type: 'Local',
        description: '',
        location: 'local',
        config: '{}',
        ...audit,
        created_by_id: 'a',
        updated_by_id: 'a',
      })
      .execute();
    for (const name of ['rec-1', 'rec-2']) {
      await db
        .insertInto('assets')
        .values({
          id: `asset-${name}`,
          project_id: projectId,
          name,
          storage_account_id: 'account',
          storage_account_name: 'media',
          container: name,
          sub_path: null,
          description: '',
          alternate_id: null,
          container_deletion_policy: 'Retain',
          storage_encryption_format: 'None',
          labels: '{}',
          ...audit,
        })
        .execute();
    }
    // A webhook rule asking for the live events' MK.IO event types (the outbox records one row per event).
    await db
      .insertInto('webhook_rules')
      .values({
        id: 'rule',
        project_id: projectId,
        name: 'live',
        url: 'https://hooks.example.com/live',
        enabled: 1,
        events: JSON.stringify(['MediaKind.ChannelInstanceStarted', 'MediaKind.ChannelInstanceStopped', 'MediaKind.ChannelInstanceError']),
        headers: '{}',
        query_params: '{}',
        secrets_sealed: '',
        created_at: now,
        updated_at: now,
      })
      .execute();
    const control: LiveEventControl = {
      reconcile: async (eventId) => {
        const row = await events.repository.findEventById(eventId);
        seen.push({ state: row?.resource_state, outputs: (await events.repository.listOutputs(eventId)).map((o) => o.name) });
        const failure = failNext;
        failNext = undefined;
        if (failure) throw failure;
      },
      health: () => undefined,
      ingestEndpoints: () => [],
    };
    const log = createLogger('silent');
    events = new LiveEventService({ db, control, rtmpsAvailable: false, log });
    // Only `find` of the asset service is used by live outputs; storage is never touched.
    outputs = new LiveOutputService(events, new AssetService(db, dialect, undefined as never, undefined as never, log));
    await events.create(projectId, 'studio', { properties: { encoding: { encodingType: 'PassthroughStandard' } } }, actor);
  });

  const state = async () => (await events.get(projectId, 'studio')).row.resource_state;

  it('start: the runtime sees Starting, then the event is Running', async () => {
    seen.length = 0;
    await events.start(projectId, 'studio', actor);
    assert.deepEqual(seen, [{ state: 'Starting', outputs: [] }]);
    assert.equal(await state(), 'Running');
  });

  it('an output added or removed while running is reconciled after the row changed', async () => {
    seen.length = 0;
    await outputs.create(projectId, 'studio', 'main', { properties: { assetName: 'rec-1', archiveWindowLength: 'PT1H' } }, actor);
    await outputs.create(projectId, 'studio', 'backup', { properties: { assetName: 'rec-2', archiveWindowLength: 'PT1H' } }, actor);
    assert.equal(await outputs.delete(projectId, 'studio', 'backup'), true);
    assert.deepEqual(seen, [
      { state: 'Running', outputs: ['main'] },
      { state: 'Running', outputs: ['main', 'backup'] },
      { state: 'Running', outputs: ['main'] },
    ]);
  });

  it('an output the runtime cannot record is not kept', async () => {
    failNext = new UnavailableError('LiveRuntimeUnavailable', 'no recorder');
    await assert.rejects(
      outputs.create(projectId, 'studio', 'doomed', { properties: { assetName: 'rec-2', archiveWindowLength: 'PT1H' } }, actor),
      /no recorder/,
    );
    assert.equal(await events.repository.findOutputByName((await events.get(projectId, 'studio')).row.id, 'doomed'), undefined);
  });

  it('stop: the runtime sees Stopping with the outputs, which removeOutputsOnStop deletes afterwards', async () => {
    seen.length = 0;
    await events.stop(projectId, 'studio', { removeOutputsOnStop: true }, actor);
    assert.deepEqual(seen, [{ state: 'Stopping', outputs: ['main'] }]);
    assert.equal(await state(), 'Stopped');
    assert.deepEqual(await events.repository.listOutputs((await events.get(projectId, 'studio')).row.id), []);
  });

  it('outputs of a stopped event are written without asking the runtime', async () => {
    seen.length = 0;
    await outputs.create(projectId, 'studio', 'later', { properties: { assetName: 'rec-1', archiveWindowLength: 'PT1H' } }, actor);
    assert.deepEqual(seen, []);
  });

  it('a start the runtime refuses leaves the event Stopped and answers its error', async () => {
    seen.length = 0;
    failNext = new BadRequestError('IngestPortBusy', 'port in use');
    await assert.rejects(events.start(projectId, 'studio', actor), /port in use/);
    assert.equal(await state(), 'Stopped');
    assert.deepEqual(
      seen.map((s) => s.state),
      ['Starting', 'Stopped'],
    );
  });

  it('concurrent start and stop run one after the other', async () => {
    seen.length = 0;
    await Promise.all([events.start(projectId, 'studio', actor), events.stop(projectId, 'studio', { removeOutputsOnStop: false }, actor)]);
    assert.deepEqual(
      seen.map((s) => s.state),
      ['Starting', 'Stopping'],
    );
    assert.equal(await state(), 'Stopped');
  });

  it('records ChannelInstanceStarted and ChannelInstanceStopped for each state reached, ChannelInstanceError for a failure', async () => {
    const rows = await store().db.selectFrom('webhook_events').select(['type', 'source', 'payload']).orderBy('seq').execute();
    // start, stop, a failed start (back to Stopped from Starting), start, stop.
    assert.deepEqual(
      rows.map((r) => r.type),
      [
        'MediaKind.ChannelInstanceStarted',
        'MediaKind.ChannelInstanceStopped',
        'MediaKind.ChannelInstanceError',
        'MediaKind.ChannelInstanceStarted',
        'MediaKind.ChannelInstanceStopped',
      ],
    );
    assert.equal(rows[0].source, '/api/v1/projects/live/media/liveEvents/studio');
    const data = (JSON.parse(rows[0].payload) as { data: Record<string, unknown> }).data;
    assert.deepEqual(data, {
      liveEventName: 'studio',
      liveEventId: (await events.get(projectId, 'studio')).row.id,
      previousState: 'Starting',
      state: 'Running',
    });
  });

  it('delete of a running event stops it first (archives finished), then removes it and its outputs', async () => {
    await events.start(projectId, 'studio', actor);
    seen.length = 0;
    assert.equal(await events.delete(projectId, 'studio', actor), true);
    assert.deepEqual(seen, [{ state: 'Stopping', outputs: ['later'] }]);
    assert.equal(await events.find(projectId, 'studio'), undefined);
    assert.equal(await events.delete(projectId, 'studio', actor), false);
  });

  it('a deleted project takes its live events and outputs with it (both cascades at once)', async () => {
    const { db } = store();
    await events.create(projectId, 'last', { properties: { encoding: { encodingType: 'PassthroughStandard' } } }, actor);
    await outputs.create(projectId, 'last', 'kept', { properties: { assetName: 'rec-1', archiveWindowLength: 'PT1H' } }, actor);
    await db.deleteFrom('projects').where('id', '=', projectId).execute();
    assert.deepEqual(await db.selectFrom('live_events').select('id').execute(), []);
    assert.deepEqual(await db.selectFrom('live_outputs').select('id').execute(), []);
  });
});
