import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import { describeOnEachDialect, insertProject } from '../../test/support/store-database.js';
import { AssetRepository } from './asset-repository.js';
import type { AssetRow } from './database.js';

describeOnEachDialect('AssetRepository', (store) => {
  let assets: AssetRepository;
  let projectId: string;
  const asset = (name: string, changes: Partial<AssetRow> = {}): AssetRow => ({
    id: `id-${name}`,
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
    created_at: `2030-01-01T00:00:0${name.length % 10}.000Z`,
    created_by: 'a',
    updated_at: '2030-01-01T00:00:00.000Z',
    updated_by: 'a',
    storage_location: null,
    ...changes,
  });

  before(async () => {
    const { db, dialect } = store();
    projectId = await insertProject(db, 'assets');
    const now = new Date().toISOString();
    await db
      .insertInto('storage_accounts')
      .values({
        id: 'account',
        project_id: projectId,
        name: 'media',
        type: 'Local',
        description: '',
        location: 'local',
        config: JSON.stringify({ path: '/srv/media' }),
        created_at: now,
        created_by: 'a',
        created_by_id: 'a',
        updated_at: now,
        updated_by: 'a',
        updated_by_id: 'a',
      })
      .execute();
    assets = new AssetRepository(db, dialect);
    for (const row of [
      asset('outer', { storage_location: 'file:///srv/media/show/' }),
      asset('inner', { storage_location: 'file:///srv/media/show/season1/ep1/' }),
      asset('sibling', { storage_location: 'file:///srv/media/showcase/' }),
      asset('cloud', { storage_location: 'azure://account/show' }),
      asset('unplaced'),
      asset('labelled', { labels: JSON.stringify({ team: 'video', note: '100%_done' }) }),
      asset('other-label', { labels: JSON.stringify({ team: 'audio' }) }),
    ])
      await assets.insert(row);
  });

  it('finds assets whose local directory contains or lies inside a location, and cloud containers exactly', async () => {
    const names = async (location: string) => (await assets.findOverlapping(location)).map((r) => r.name).sort();
    // Locations end in `/` (storage-location.ts), so `showcase/` is no neighbour of `show/`.
    assert.deepEqual(await names('file:///srv/media/show/season1/'), ['inner', 'outer']);
    assert.deepEqual(await names('file:///srv/media/show/'), ['inner', 'outer']);
    assert.deepEqual(await names('file:///srv/media/other/'), []);
    assert.deepEqual(await names('azure://account/show'), ['cloud']);
    assert.deepEqual(await names('azure://account/sho'), []);
  });

  it('lists assets without a location with their account settings', async () => {
    const unplaced = await assets.findUnplaced();
    const byName = new Map(unplaced.map((r) => [r.name, r]));
    assert.ok(byName.has('unplaced'));
    assert.equal(byName.get('unplaced')?.type, 'Local');
    assert.deepEqual(JSON.parse(byName.get('unplaced')?.config ?? '{}'), { path: '/srv/media' });
    assert.ok(!byName.has('outer'));
  });

  it('filters by label keys, exact values and contained text (with % and _ taken literally)', async () => {
    const page = { filter: [], orderBy: [{ source: { column: 'name' }, direction: 'asc' as const }], top: 100, skip: 0 };
    const names = async (labels: Parameters<AssetRepository['list']>[2]) => (await assets.list(projectId, page, labels)).items.map((r) => r.name);
    assert.deepEqual(await names({ keys: ['team'], values: [] }), ['labelled', 'other-label']);
    assert.deepEqual(await names({ keys: [], values: [{ key: 'team', value: 'video', contains: false }] }), ['labelled']);
    assert.deepEqual(
      await names({
        keys: [],
        values: [
          { key: 'team', value: 'video', contains: false },
          { key: 'team', value: 'audio', contains: false },
        ],
      }),
      ['labelled', 'other-label'],
    );
    assert.deepEqual(await names({ keys: [], values: [{ key: 'note', value: '0%_d', contains: true }] }), ['labelled']);
    assert.deepEqual(await names({ keys: [], values: [{ key: 'note', value: '0%xd', contains: true }] }), []);
    const filtered = await assets.list(
      projectId,
      { ...page, filter: [{ source: { column: 'name' }, op: 'gt' as const, value: 'other-label' }], top: 1 },
      { keys: [], values: [] },
    );
    assert.equal(filtered.total, 3);
    assert.deepEqual(
      filtered.items.map((r) => r.name),
      ['outer'],
    );
  });
});
