import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { auditFields, ListFields, pageRecords } from './list-fields.js';
import type { BadRequestError } from '../../shared/errors.js';

const fields = new ListFields({
  ...auditFields,
  'properties/scaleUnits': { column: 'properties', jsonKey: 'scaleUnits', type: 'number' },
  'properties/assetName': { column: 'asset_name', sort: false },
});

const refused = (query: Record<string, string>, code: string, pattern: RegExp) =>
  assert.throws(
    () => fields.parse(query),
    (err: BadRequestError) => err.code === code && pattern.test(err.message),
  );

describe('ListFields', () => {
  it('maps documented fields to where they are stored, in request order', () => {
    const { request, page } = fields.parse({
      $filter: "name eq 'a' and properties/scaleUnits ge 2",
      $orderby: 'created desc, name',
      $top: '5',
      $skiptoken: '10',
    });
    assert.deepEqual(page, {
      filter: [
        { source: { column: 'name' }, op: 'eq', value: 'a' },
        { source: { column: 'properties', jsonKey: 'scaleUnits', type: 'number' }, op: 'ge', value: 2 },
      ],
      orderBy: [
        { source: { column: 'created_at', time: true }, direction: 'desc' },
        { source: { column: 'name' }, direction: 'asc' },
      ],
      top: 5,
      skip: 10,
    });
    assert.equal(request.filter.length, 2);
  });

  it('reads date-times in any ISO form (also quoted, with six digits) as one form', () => {
    for (const v of ['2021-01-01T00:00:00Z', "'2021-01-01T00:00:00.000000Z'", '2021-01-01', '2021-01-01T01:00:00+01:00']) {
      assert.equal(fields.parse({ $filter: `created ge ${v}` }).page.filter[0].value, '2021-01-01T00:00:00.000Z', v);
    }
  });

  it('refuses a value of the wrong kind, naming $filter', () => {
    refused({ $filter: "created ge 'yesterday'" }, 'InvalidFilter', /\$filter.*date-time/);
    refused({ $filter: 'created ge 5' }, 'InvalidFilter', /\$filter.*date-time/);
    refused({ $filter: "properties/scaleUnits eq '2'" }, 'InvalidFilter', /\$filter.*number/);
    refused({ $filter: 'name eq true' }, 'InvalidFilter', /\$filter.*quote/);
  });

  it('keeps filter-only fields out of $orderby', () => {
    assert.equal(fields.parse({ $filter: "properties/assetName eq 'x'" }).page.filter.length, 1);
    refused({ $orderby: 'properties/assetName' }, 'InvalidOrderBy', /\$orderby.*cannot be sorted/);
    refused({ $orderby: 'createdByEmail' }, 'InvalidOrderBy', /\$orderby/);
  });

  it('a list without fields says so', () => {
    const none = new ListFields({});
    assert.throws(
      () => none.parse({ $filter: "name eq 'x'" }),
      (err: BadRequestError) => err.code === 'InvalidFilter' && /this list has no such fields/.test(err.message),
    );
    assert.deepEqual(none.parse({ $top: '2' }).page, { filter: [], orderBy: [], top: 2, skip: 0 });
  });
});

describe('pageRecords', () => {
  const records = [
    { name: 'b', units: 10, region: null },
    { name: 'a', units: 9, region: 'west' },
    { name: 'B', units: 9, region: 'east' },
    { name: 'c', units: null, region: 'west' },
  ];
  const valueOf = (r: (typeof records)[number], field: string) => (field === 'name' ? r.name : field === 'units' ? r.units : r.region);
  const run = (filter: string | undefined, orderBy: string | undefined, top = 100, skip = 0) => {
    const f = new ListFields({ name: { column: 'name' }, units: { column: 'units', type: 'number' }, region: { column: 'region' } });
    const { request } = f.parse({
      ...(filter ? { $filter: filter } : {}),
      ...(orderBy ? { $orderby: orderBy } : {}),
      $top: String(top),
      $skiptoken: String(skip),
    });
    const page = pageRecords(records, request, valueOf);
    return { names: page.items.map((r) => r.name), total: page.total };
  };

  it('compares numbers as numbers and text by code point (upper case first)', () => {
    assert.deepEqual(run('units gt 9', undefined).names, ['b']);
    assert.deepEqual(run(undefined, 'name').names, ['B', 'a', 'b', 'c']);
    assert.deepEqual(run(undefined, 'units desc, name').names, ['b', 'B', 'a', 'c']);
  });

  it('treats missing values as SQL does: only eq/ne null match them; first ascending, last descending', () => {
    assert.deepEqual(run('region eq null', undefined).names, ['b']);
    assert.deepEqual(run('region ne null', undefined).names, ['a', 'B', 'c']);
    assert.deepEqual(run("region ne 'west'", undefined).names, ['B']);
    assert.deepEqual(run(undefined, 'region, name').names, ['b', 'B', 'a', 'c']);
    assert.deepEqual(run(undefined, 'region desc, name').names, ['a', 'c', 'B', 'b']);
  });

  it('pages after filtering and sorting, with the total of matches', () => {
    assert.deepEqual(run("region ne 'x'", 'name', 2, 1), { names: ['a', 'c'], total: 3 });
    assert.deepEqual(run(undefined, 'name desc', 2, 2), { names: ['a', 'B'], total: 4 });
  });
});
