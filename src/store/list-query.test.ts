import assert from 'node:assert/strict';
import { it } from 'node:test';
import { describeOnEachDialect, insertProject } from '../../test/support/store-database.js';
import type { StreamingEndpointRow } from './database.js';
import type { FieldFilter, FieldOrder, FieldSource } from './list-query.js';
import { StreamingEndpointRepository } from './streaming-endpoint-repository.js';

const units: FieldSource = { column: 'properties', jsonKey: 'scaleUnits', type: 'number' };
const description: FieldSource = { column: 'properties', jsonKey: 'description' };
const name: FieldSource = { column: 'name' };

describeOnEachDialect('list pages (fields in columns and in JSON)', (store) => {
  const row = (projectId: string, n: string, properties: Record<string, unknown>, created: string): StreamingEndpointRow => ({
    id: `${projectId}-${n}`,
    project_id: projectId,
    name: n,
    location: 'local',
    tags: '{}',
    properties: JSON.stringify(properties),
    resource_state: 'Stopped',
    created_at: created,
    created_by: 'someone@example.com',
    updated_at: created,
    updated_by: 'someone@example.com',
  });

  const setUp = async () => {
    const { db } = store();
    const projectId = await insertProject(db, `lists-${Math.random().toString(36).slice(2, 8)}`);
    const repo = new StreamingEndpointRepository(db);
    const rows = [
      row(projectId, 'b', { scaleUnits: 10, description: 'ten' }, '2030-01-01T00:00:00.000Z'),
      row(projectId, 'a', { scaleUnits: 9, description: 'nine' }, '2030-01-01T00:00:00.000Z'),
      row(projectId, 'B', { scaleUnits: 9 }, '2030-01-02T00:00:00.000Z'),
      row(projectId, 'c', { scaleUnits: 'many', description: 7 }, '2030-01-03T00:00:00.000Z'),
    ];
    for (const r of rows) await db.insertInto('streaming_endpoints').values(r).execute();
    const page = async (filter: FieldFilter[], orderBy: FieldOrder[], top = 100, skip = 0) => {
      const { items, total } = await repo.page(projectId, { filter, orderBy, top, skip });
      return { names: items.map((i) => i.name), total };
    };
    return page;
  };

  it('compares JSON numbers as numbers; a member of another type is missing', async () => {
    const page = await setUp();
    assert.deepEqual((await page([{ source: units, op: 'gt', value: 9 }], [])).names, ['b']);
    assert.deepEqual((await page([{ source: units, op: 'ge', value: 9 }], [{ source: name, direction: 'asc' }])).names, ['B', 'a', 'b']);
    assert.deepEqual((await page([{ source: units, op: 'eq', value: null }], [])).names, ['c']);
    assert.deepEqual((await page([{ source: description, op: 'eq', value: null }], [{ source: name, direction: 'asc' }])).names, ['B', 'c']);
    assert.deepEqual((await page([{ source: description, op: 'eq', value: 'nine' }], [])).names, ['a']);
  });

  it('sorts text by code point on both databases, missing values first ascending and last descending', async () => {
    const page = await setUp();
    assert.deepEqual((await page([], [{ source: name, direction: 'asc' }])).names, ['B', 'a', 'b', 'c']);
    assert.deepEqual((await page([{ source: name, op: 'gt', value: 'Z' }], [{ source: name, direction: 'asc' }])).names, ['a', 'b', 'c']);
    assert.deepEqual((await page([], [{ source: units, direction: 'desc' }])).names, ['b', 'a', 'B', 'c']);
    assert.deepEqual((await page([], [{ source: units, direction: 'asc' }])).names, ['c', 'a', 'B', 'b']);
  });

  it('breaks ties by creation time, name and id, so pages neither overlap nor skip', async () => {
    const page = await setUp();
    const seen: string[] = [];
    for (let skip = 0; skip < 4; skip += 1) {
      const got = await page([], [{ source: units, direction: 'desc' }], 1, skip);
      assert.equal(got.total, 4);
      seen.push(...got.names);
    }
    assert.deepEqual(seen, ['b', 'a', 'B', 'c']);
  });
});
