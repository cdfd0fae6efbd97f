import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseFilter, parseOrderBy } from './odata.js';

const fields = new Set(['name', 'properties/created']);

describe('OData $filter', () => {
  const cases: Array<[string, unknown]> = [
    ["name eq 'x'", [{ field: 'name', op: 'eq', value: 'x' }]],
    ["name eq 'it''s'", [{ field: 'name', op: 'eq', value: "it's" }]],
    ['properties/created ge 2021-01-01T00:00:00Z', [{ field: 'properties/created', op: 'ge', value: '2021-01-01T00:00:00.000Z' }]],
    [
      "properties/created gt 2021-01-01 and name ne 'a b'",
      [
        { field: 'properties/created', op: 'gt', value: '2021-01-01T00:00:00.000Z' },
        { field: 'name', op: 'ne', value: 'a b' },
      ],
    ],
    ['name eq null', [{ field: 'name', op: 'eq', value: null }]],
  ];
  for (const [input, expected] of cases) {
    it(`parses ${input}`, () => assert.deepEqual(parseFilter(input, fields), expected));
  }
  const bad: Array<[string, RegExp]> = [
    ["color eq 'red'", /field 'color' cannot be filtered/],
    ["name like 'x'", /unsupported operator 'like'/],
    ["name eq 'x' or name eq 'y'", /expected 'and'/],
    ["name eq 'x", /unterminated string/],
    ['name eq', /expected <field> <operator> <value>/],
    ['name eq bare', /cannot read value 'bare'/],
    ["name eq 'x' and", /dangling and/],
  ];
  for (const [input, pattern] of bad) {
    it(`rejects ${input}`, () =>
      assert.throws(
        () => parseFilter(input, fields),
        (e: Error & { status?: number }) => e.status === 400 && pattern.test(e.message),
      ));
  }
});

describe('OData $filter and NUL', () => {
  it('rejects a NUL character anywhere (PostgreSQL cannot compare it, SQLite would)', () => {
    assert.throws(
      () => parseFilter("name eq 'a\u0000b'", fields),
      (e: Error & { status?: number }) => e.status === 400 && /NUL character/.test(e.message),
    );
  });
});

describe('OData $orderby', () => {
  it('parses fields and directions', () => {
    assert.deepEqual(parseOrderBy('name desc, properties/created', fields), [
      { field: 'name', direction: 'desc' },
      { field: 'properties/created', direction: 'asc' },
    ]);
  });
  it('rejects unknown fields and directions', () => {
    assert.throws(() => parseOrderBy('size', fields), /cannot be sorted/);
    assert.throws(() => parseOrderBy('name sideways', fields), /Invalid \$orderby/);
  });
});
