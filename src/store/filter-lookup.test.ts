import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import { describeOnEachDialect, insertProject } from '../../test/support/store-database.js';
import { cachedFilterLookup, StoreFilterLookup } from './filter-lookup.js';
import { FilterRepository, type FilterScope } from './filter-repository.js';
import type { FilterLookup } from '../shared/filter-definitions.js';

describeOnEachDialect('StoreFilterLookup', (store) => {
  let projectId: string;
  let otherProjectId: string;
  let filters: FilterRepository;
  let lookup: StoreFilterLookup;
  let seq = 0;
  const audit = () => {
    const now = new Date().toISOString();
    return { created_at: now, created_by: 'a', updated_at: now, updated_by: 'a' };
  };
  const asset = (id: string, project: string) => ({ kind: 'asset', projectId: project, assetId: id }) as const;
  const account = (project: string) => ({ kind: 'account', projectId: project }) as const;

  async function put(scope: FilterScope, name: string, properties: Record<string, unknown>): Promise<void> {
    const existing = await filters.findByName(scope, name);
    const revision = `r${++seq}`;
    if (existing) {
      await filters.update(scope, existing.id, { properties: JSON.stringify(properties), revision, updated_at: new Date().toISOString(), updated_by: 'a' });
      return;
    }
    await filters.insert(scope, {
      id: `f${seq}`,
      project_id: scope.projectId,
      ...(scope.kind === 'asset' ? { asset_id: scope.assetId } : {}),
      name,
      properties: JSON.stringify(properties),
      revision,
      ...audit(),
    });
  }

  before(async () => {
    const { db } = store();
    projectId = await insertProject(db, 'filters');
    otherProjectId = await insertProject(db, 'filters-other');
    for (const [id, project] of [
      ['movie', projectId],
      ['trailer', projectId],
      ['foreign', otherProjectId],
    ]) {
      await db
        .insertInto('storage_accounts')
        .values({
          id: `account-${id}`,
          project_id: project,
          name: `media-${id}`,
          type: 'Local',
          description: '',
          location: 'local',
          config: '{}',
          ...audit(),
          created_by_id: 'a',
          updated_by_id: 'a',
        })
        .execute();
      await db
        .insertInto('assets')
        .values({
          id,
          project_id: project,
          name: id,
          storage_account_id: `account-${id}`,
          storage_account_name: `media-${id}`,
          container: id,
          sub_path: null,
          description: '',
          alternate_id: null,
          container_deletion_policy: 'Retain',
          storage_encryption_format: 'None',
          labels: '{}',
          ...audit(),
        })
        .execute();
    }
    filters = new FilterRepository(db);
    lookup = new StoreFilterLookup(db);
  });

  it('resolves an asset filter ahead of the account filter of the same name, and answers undefined for unknown names', async () => {
    await put(account(projectId), 'audio', { tracks: [{ trackSelections: [{ property: 'Type', operation: 'Equal', value: 'audio' }] }] });
    await put(account(projectId), 'first10', { presentationTimeRange: { startTimestamp: 0, endTimestamp: 10, timescale: 1 } });
    await put(asset('movie', projectId), 'first10', {
      presentationTimeRange: { startTimestamp: 0, endTimestamp: 20, timescale: 1 },
      firstQuality: { bitrate: 500000 },
    });

    const movie = await lookup.filtersFor(projectId, 'movie', ['first10', 'audio', 'nothing']);
    assert.deepEqual(movie.definitions, [
      { name: 'first10', presentationTimeRange: { startTimestamp: 0, endTimestamp: 20, timescale: 1 }, firstQuality: { bitrate: 500000 } },
      // Type values are handed on in their canonical spelling.
      { name: 'audio', tracks: [{ trackSelections: [{ property: 'Type', operation: 'Equal', value: 'Audio' }] }] },
      undefined,
    ]);
    // Another asset of the project sees only the account filter.
    const trailer = await lookup.filtersFor(projectId, 'trailer', ['first10']);
    assert.deepEqual(trailer.definitions, [{ name: 'first10', presentationTimeRange: { startTimestamp: 0, endTimestamp: 10, timescale: 1 } }]);
    // Another project sees none of them, even given this project's asset id.
    assert.deepEqual((await lookup.filtersFor(otherProjectId, 'movie', ['first10', 'audio'])).definitions, [undefined, undefined]);
    assert.deepEqual(await lookup.filtersFor(projectId, 'movie', []), { definitions: [], version: 'none' });
  });

  it('changes version on every edit, delete and new shadowing filter, and keeps it otherwise', async () => {
    const names = ['v-filter'];
    const versions = new Set<string>();
    const versionNow = async () => (await lookup.filtersFor(projectId, 'trailer', names)).version;
    const note = async () => {
      const v = await versionNow();
      assert.ok(!versions.has(v), `version ${v} seen before`);
      versions.add(v);
      assert.equal(await versionNow(), v, 'the version is stable while nothing changes');
      return v;
    };
    const none = await note(); // no filter
    await put(account(projectId), 'v-filter', { firstQuality: { bitrate: 1 } });
    await note();
    // The same content written again is still an edit.
    await put(account(projectId), 'v-filter', { firstQuality: { bitrate: 1 } });
    const accountOnly = await note();
    await put(asset('trailer', projectId), 'v-filter', { firstQuality: { bitrate: 2 } });
    await note();
    assert.deepEqual((await lookup.filtersFor(projectId, 'trailer', names)).definitions, [{ name: 'v-filter', firstQuality: { bitrate: 2 } }]);
    await put(asset('trailer', projectId), 'v-filter', { firstQuality: { bitrate: 3 } });
    await note();
    // Deleting the asset filter uncovers the account filter: the version changes back to that filter's.
    await filters.deleteByName(asset('trailer', projectId), 'v-filter');
    assert.equal(await versionNow(), accountOnly);
    assert.deepEqual((await lookup.filtersFor(projectId, 'trailer', names)).definitions, [{ name: 'v-filter', firstQuality: { bitrate: 1 } }]);
    await filters.deleteByName(account(projectId), 'v-filter');
    // Back to no filter at all: the same answer as at first, so the same version.
    assert.equal(await versionNow(), none);
    // An edit of another filter does not change this one's version.
    const before = await versionNow();
    await put(account(projectId), 'unrelated', { firstQuality: { bitrate: 3 } });
    assert.equal(await versionNow(), before);
  });

  it('deletes an asset’s filters with the asset', async () => {
    const { db } = store();
    await put(asset('foreign', otherProjectId), 'gone', { firstQuality: { bitrate: 1 } });
    assert.equal((await lookup.filtersFor(otherProjectId, 'foreign', ['gone'])).definitions.length, 1);
    await db.deleteFrom('assets').where('id', '=', 'foreign').execute();
    assert.equal(await db.selectFrom('asset_filters').select('id').where('asset_id', '=', 'foreign').executeTakeFirst(), undefined);
  });

  it('caches answers for a short while, and forgets failures', async () => {
    let calls = 0;
    let fail = true;
    const inner: FilterLookup = {
      filtersFor: async (_p, _a, names) => {
        calls++;
        if (fail) throw new Error('database down');
        return { definitions: names.map(() => undefined), version: String(calls) };
      },
    };
    const cached = cachedFilterLookup(inner, 60_000);
    await assert.rejects(cached.filtersFor('p', 'a', ['x']));
    fail = false;
    const first = await cached.filtersFor('p', 'a', ['x']);
    assert.deepEqual(await cached.filtersFor('p', 'a', ['x']), first);
    assert.equal(calls, 2);
    await cached.filtersFor('p', 'a', ['x', 'y']);
    await cached.filtersFor('p', 'b', ['x']);
    assert.equal(calls, 4);
    const expiring = cachedFilterLookup(inner, 0);
    await expiring.filtersFor('p', 'a', ['x']);
    await expiring.filtersFor('p', 'a', ['x']);
    assert.equal(calls, 6);
  });
});
