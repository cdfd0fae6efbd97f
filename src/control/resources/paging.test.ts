import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { listBody, maxPageSize, maxSkip, parsePaging } from './paging.js';

describe('parsePaging', () => {
  it('reads whole decimal numbers; a $top beyond a page is a full page', () => {
    assert.deepEqual(parsePaging({}), { top: maxPageSize, skip: 0 });
    assert.deepEqual(parsePaging({ $top: '5', $skiptoken: '10' }), { top: 5, skip: 10 });
    assert.deepEqual(parsePaging({ $top: '99999999' }), { top: maxPageSize, skip: 0 });
    assert.deepEqual(parsePaging({ $skiptoken: String(maxSkip) }), { top: maxPageSize, skip: maxSkip });
  });
  for (const value of ['1e20', '-1', 'abc', '1.5', '0x10', '+1', ' 1', '', '99999999999999999999', String(maxSkip + 1)]) {
    it(`refuses $skiptoken=${JSON.stringify(value)} naming the parameter`, () => {
      assert.throws(
        () => parsePaging({ $skiptoken: value }),
        (e: Error & { status?: number }) => e.status === 400 && e.message.includes('$skiptoken'),
      );
    });
  }
  for (const value of ['1e20', '0', '-1', 'abc', '1.5', '']) {
    it(`refuses $top=${JSON.stringify(value)} naming the parameter`, () => {
      assert.throws(
        () => parsePaging({ $top: value }),
        (e: Error & { status?: number }) => e.status === 400 && e.message.includes('$top'),
      );
    });
  }
  it('refuses a repeated parameter (an array from the query parser)', () => {
    assert.throws(() => parsePaging({ $skiptoken: ['1', '2'] as unknown as string }), /\$skiptoken/);
  });
});

describe('listBody @odata.nextLink', () => {
  it('carries the list options and the next position, nothing else from the request', () => {
    const body = listBody({
      kind: 'Asset',
      items: [1],
      total: 3,
      request: { top: 1, skip: 0, filter: [], orderBy: [] },
      url: "/api/ams/p/assets?$filter=name%20eq%20'a'&$orderby=name&x=%3Cscript%3E&$skiptoken=0",
    });
    assert.equal(body['@odata.nextLink'], '/api/ams/p/assets?$filter=name+eq+%27a%27&$orderby=name&$top=1&$skiptoken=1');
  });
});
