import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BadRequestError, NotFoundError } from '../../shared/errors.js';
import type { FilterDefinition, FilterLookup } from '../../shared/filter-definitions.js';
import type { ResolvedLocator } from './playback-resolver.js';
import { combineFilterNames, filtersTag, locatorFilterNames, lookUpFilters, noFilters } from './request-filters.js';

/** A lookup over fixed asset and account filters (asset filters shadow account filters, as the store does). */
function lookupOf(assetFilters: Record<string, FilterDefinition>, accountFilters: Record<string, FilterDefinition>, version = 'v1'): FilterLookup {
  return {
    filtersFor: async (_projectId, _assetId, names) => ({ definitions: names.map((n) => assetFilters[n] ?? accountFilters[n]), version }),
  };
}

const resolvedWith = (locatorExtra: Record<string, unknown>) => ({ projectId: 'p', asset: { id: 'a' }, locatorExtra }) as unknown as ResolvedLocator;

describe('request filters', () => {
  it("combines the locator's filters first, then the URL's, each name once", () => {
    assert.deepEqual(combineFilterNames([], []), []);
    assert.deepEqual(combineFilterNames(['acct'], []), ['acct']);
    assert.deepEqual(combineFilterNames([], ['a', 'b']), ['a', 'b']);
    assert.deepEqual(combineFilterNames(['acct'], ['a', 'b']), ['acct', 'a', 'b']);
    assert.deepEqual(combineFilterNames(['acct'], ['acct', 'a']), ['acct', 'a'], 'the URL repeating the locator filter adds nothing');
  });

  it('refuses more than three filters in all with a 400', () => {
    assert.throws(
      () => combineFilterNames(['x', 'y'], ['a', 'b']),
      (err: unknown) => err instanceof BadRequestError && err.code === 'TooManyFilters' && /at most 3/.test(err.message),
    );
    assert.throws(() => combineFilterNames([], ['a', 'b', 'c', 'd']), BadRequestError);
    assert.deepEqual(combineFilterNames(['x', 'y'], ['x', 'a']), ['x', 'y', 'a'], 'three distinct names pass');
  });

  it("reads the locator's filters property, ignoring what is not a name", () => {
    assert.deepEqual(locatorFilterNames(resolvedWith({})), []);
    assert.deepEqual(locatorFilterNames(resolvedWith({ filters: null })), []);
    assert.deepEqual(locatorFilterNames(resolvedWith({ filters: ['f1', '', 3, 'f2'] })), ['f1', 'f2']);
  });

  it('resolves names to definitions in order and tags them with the version', async () => {
    const trim: FilterDefinition = { name: 'trim', presentationTimeRange: { startTimestamp: 0, endTimestamp: 100_000_000 } };
    const audio: FilterDefinition = { name: 'en', tracks: [{ trackSelections: [{ property: 'Language', operation: 'Equal', value: 'en' }] }] };
    const lookup = lookupOf({ trim }, { en: audio, trim: { name: 'trim' } }, 'v7');
    const found = await lookUpFilters(lookup, resolvedWith({}), ['en', 'trim']);
    assert.deepEqual(found.names, ['en', 'trim']);
    assert.deepEqual(found.definitions, [audio, trim], 'the asset filter shadows the account filter of the same name');
    assert.equal(found.version, 'v7');
    assert.equal(found.tag, 'en;trim@v7');
    assert.notEqual(filtersTag(['en', 'trim'], 'v8'), found.tag, 'an edit changes the tag');
    assert.notEqual(filtersTag(['trim', 'en'], 'v7'), found.tag, 'the order is part of the tag');
    assert.equal(filtersTag([], 'v7'), '');
  });

  it('answers an unknown name with a 404 naming it', async () => {
    await assert.rejects(
      lookUpFilters(lookupOf({}, { en: { name: 'en' } }), resolvedWith({}), ['en', 'nope']),
      (err: unknown) => err instanceof NotFoundError && err.code === 'FilterNotFound' && /'nope'/.test(err.message),
    );
    await assert.rejects(lookUpFilters(noFilters, resolvedWith({}), ['any']), NotFoundError);
    assert.equal((await lookUpFilters(noFilters, resolvedWith({}), [])).tag, '', 'no names: no lookup, no tag');
  });
});
