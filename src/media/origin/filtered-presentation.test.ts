import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { twoRenditionPresentation } from '../../../test/fixtures/hand-built-presentations.js';
import { FilterError } from '../packager/index.js';
import type { FilterDefinition } from '../../shared/filter-definitions.js';
import { FilteredPresentations } from './filtered-presentation.js';
import type { BuiltPresentation } from './presentation-builder.js';
import { filtersTag, type RequestFilters } from './request-filters.js';

const built = (): BuiltPresentation => ({ ...twoRenditionPresentation(), files: new Map(), etag: '"v1"' });
const requestFilters = (definitions: FilterDefinition[], version = 'r1'): RequestFilters => {
  const names = definitions.map((d) => d.name);
  return { names, definitions, version, tag: filtersTag(names, version) };
};
const english: FilterDefinition = { name: 'english', tracks: [{ trackSelections: [{ property: 'Language', operation: 'NotEqual', value: 'fr' }] }] };

describe('FilteredPresentations', () => {
  it("applies the filters once per presentation and version, keeping the presentation's files and version", () => {
    const cache = new FilteredPresentations();
    const p = built();
    const once = cache.get(p, requestFilters([english]));
    assert.deepEqual(
      once.tracks.map((t) => t.name),
      ['video', 'video', 'aac_eng_2_128'],
    );
    assert.equal(once.etag, p.etag);
    assert.equal(once.files, p.files);
    assert.equal(cache.get(p, requestFilters([english])), once, 'the same object for the same filters and version');
    assert.notEqual(cache.get(p, requestFilters([english], 'r2')), once, 'an edited filter is applied anew');
    assert.equal(cache.get(p, requestFilters([])), p, 'no filters: the presentation itself');
    assert.equal(p.tracks.length, 4, 'the presentation is not modified');
  });

  it('lets a filter that leaves nothing fail every time, as a 400', () => {
    const cache = new FilteredPresentations();
    const none = requestFilters([{ name: 'none', tracks: [{ trackSelections: [{ property: 'Language', operation: 'Equal', value: 'ja' }] }] }]);
    for (let i = 0; i < 2; i++) assert.throws(() => cache.get(built(), none), FilterError);
  });
});
