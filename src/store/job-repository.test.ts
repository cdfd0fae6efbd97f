import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openDatabase, type Db, type JobRow } from './database.js';
import { migrateToLatest } from './migrate.js';
import { JobRepository } from './job-repository.js';
import { canMoveJob, jobStates, jobStatesMovingInto, unfinishedJobStates, type JobState } from './job-states.js';

describe('the job state machine', () => {
  it('lets no final state move', () => {
    for (const from of ['Finished', 'Error', 'Canceled'] as const) for (const to of jobStates) assert.equal(canMoveJob(from, to), false, `${from} → ${to}`);
  });

  const cases: Array<[JobState, JobState[]]> = [
    // The worker ends a job from any unfinished state; the API cancels what is not final yet.
    ['Finished', [...unfinishedJobStates]],
    ['Error', [...unfinishedJobStates]],
    ['Canceled', [...unfinishedJobStates]],
    ['Canceling', ['Queued', 'Scheduled', 'Processing']],
    ['Scheduled', ['Queued', 'Scheduled', 'Processing']],
    ['Processing', ['Scheduled']],
    ['Queued', ['Scheduled', 'Processing']],
  ];
  for (const [to, from] of cases) {
    it(`moves into ${to} only from ${from.join(', ')}`, () => {
      assert.deepEqual(new Set(jobStatesMovingInto(to)), new Set(from));
    });
  }
});

describe('JobRepository on SQLite', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'reel-job-repo-'));
  let db: Db;
  let jobs: JobRepository;
  const now = new Date().toISOString();
  const audit = { created_at: now, created_by: 'a@b', updated_at: now, updated_by: 'a@b' };
  const job = (id: string, state: JobState): JobRow => ({
    id,
    project_id: 'p',
    transform_id: 't',
    transform_name: 'tr',
    name: id,
    description: null,
    priority: 'Normal',
    correlation_data: '{}',
    input: '{}',
    transform_output: '{}',
    output_asset_id: 'out',
    output_asset_name: 'out',
    output_label: 'l',
    state,
    progress: 0,
    error: null,
    start_time: null,
    end_time: null,
    output_files: '[]',
    ...audit,
  });

  before(async () => {
    db = openDatabase({ dataDir }).db;
    await migrateToLatest(db);
    await db.insertInto('organizations').values({ id: 'o', name: 'o', created_at: now }).execute();
    await db.insertInto('projects').values({ id: 'p', organization_id: 'o', name: 'p', display_name: 'p', created_at: now }).execute();
    await db
      .insertInto('transforms')
      .values({ id: 't', project_id: 'p', name: 'tr', description: null, outputs: '[]', ...audit })
      .execute();
    jobs = new JobRepository(db);
  });
  after(async () => {
    await db.destroy();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('moves a job along allowed transitions with the values given, and reports a move another process made first', async () => {
    await jobs.insert(job('j1', 'Queued'));
    assert.equal(await jobs.transition('j1', 'Scheduled', { values: { progress: 0, start_time: now } }), true);
    assert.equal(await jobs.transition('j1', 'Processing'), true);
    await jobs.recordProgress('j1', 40);
    assert.equal((await jobs.findById('j1'))?.progress, 40);
    assert.equal(await jobs.transition('j1', 'Finished', { values: { progress: 100, end_time: now } }), true);
    const row = await jobs.findById('j1');
    assert.equal(row?.state, 'Finished');
    assert.equal(row?.end_time, now);
    // Final: nothing moves it, and a late progress write does not touch it.
    assert.equal(await jobs.transition('j1', 'Canceled'), false);
    await jobs.recordProgress('j1', 50);
    assert.equal((await jobs.findById('j1'))?.progress, 100);
    assert.equal(await jobs.transition('missing', 'Canceling'), false);
  });

  it('refuses a move the state machine does not allow, writing nothing', async () => {
    await jobs.insert(job('j2', 'Finished'));
    await assert.rejects(jobs.transition('j2', 'Queued', { from: ['Finished'] }), /cannot move from Finished to Queued/);
    await assert.rejects(jobs.transition('j2', 'Processing', { from: ['Queued'] }), /cannot move from Queued to Processing/);
    assert.equal(await jobs.stateOf('j2'), 'Finished');
  });

  it('lists the unfinished and the cancelable jobs', async () => {
    await jobs.insert(job('j3', 'Canceling'));
    await jobs.insert(job('j4', 'Processing'));
    assert.deepEqual((await jobs.listUnfinished()).map((r) => r.id).sort(), ['j3', 'j4']);
    assert.deepEqual(
      (await jobs.listCancelable('t')).map((r) => r.id),
      ['j4'],
    );
  });
});
