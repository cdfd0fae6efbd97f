import { applyFilters } from '../packager/index.js';
import type { BuiltPresentation } from './presentation-builder.js';
import type { RequestFilters } from './request-filters.js';

/** At most this many filter combinations are kept per presentation (filter edits make new ones). */
const maxPerPresentation = 32;

/**
 * The presentation as the request's filters leave it, kept with the presentation it came from (so it lives
 * exactly as long): a manifest cache miss, or a media playlist's track lookup, costs one filter pass per
 * presentation version, filter set and filter version, not one per request.
 */
export class FilteredPresentations {
  readonly #cache = new WeakMap<BuiltPresentation, Map<string, BuiltPresentation>>();

  get(presentation: BuiltPresentation, filters: RequestFilters): BuiltPresentation {
    if (filters.definitions.length === 0) return presentation;
    let byTag = this.#cache.get(presentation);
    if (!byTag) this.#cache.set(presentation, (byTag = new Map()));
    const hit = byTag.get(filters.tag);
    if (hit) return hit;
    // A filter that is invalid or leaves nothing to play throws the stage's FilterError (400), never kept.
    const filtered = applyFilters(presentation, filters.definitions);
    if (byTag.size >= maxPerPresentation) byTag.delete(byTag.keys().next().value!);
    byTag.set(filters.tag, filtered);
    return filtered;
  }
}
