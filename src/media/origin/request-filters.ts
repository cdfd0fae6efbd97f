import { BadRequestError, NotFoundError } from '../../shared/errors.js';
import { maxFiltersPerRequest, type FilterDefinition, type FilterLookup } from '../../shared/filter-definitions.js';
import type { ResolvedLocator } from './playback-resolver.js';

/** The filters a manifest request applies, found and versioned. */
export interface RequestFilters {
  /** The names, locator's first, then the URL's (duplicates removed). */
  names: string[];
  /** In `names` order. */
  definitions: FilterDefinition[];
  /** The lookup's version of these definitions: changes whenever one of them is edited. */
  version: string;
  /** Identifies names and version in cache keys and ETags (`''` when there are no filters). */
  tag: string;
}

/** The locator's `filters` property (names of asset or account filters), as stored; [] when absent. */
export function locatorFilterNames(resolved: Pick<ResolvedLocator, 'locatorExtra'>): string[] {
  const filters = resolved.locatorExtra.filters;
  return Array.isArray(filters) ? filters.filter((f): f is string => typeof f === 'string' && f.length > 0) : [];
}

/**
 * The filters of a request (AMS dynamic manifests): the locator's, then the URL's `filter=a;b`. A name given
 * twice counts once (a URL repeating the locator's filter asks for nothing more). More than
 * `maxFiltersPerRequest` in all is a 400 (`TooManyFilters`), as AMS refuses it.
 */
export function combineFilterNames(locatorNames: readonly string[], urlNames: readonly string[]): string[] {
  const names: string[] = [];
  for (const name of [...locatorNames, ...urlNames]) if (!names.includes(name)) names.push(name);
  if (names.length > maxFiltersPerRequest) {
    throw new BadRequestError(
      'TooManyFilters',
      `A request may apply at most ${maxFiltersPerRequest} filters (the streaming locator's and the URL's together); this one names ${names.length}: ${names.join(', ').slice(0, 300)}`,
    );
  }
  return names;
}

/** `names` and `version` as one cache-key part; `''` for none (unfiltered keys stay what they were). */
export function filtersTag(names: readonly string[], version: string): string {
  return names.length === 0 ? '' : `${names.join(';')}@${version}`;
}

/**
 * Resolves the named filters for the locator's asset. A name that is neither an asset filter of the asset nor
 * an account filter of the project is a 404 (`FilterNotFound`), as AMS answers it.
 */
export async function lookUpFilters(lookup: FilterLookup, resolved: ResolvedLocator, names: readonly string[]): Promise<RequestFilters> {
  if (names.length === 0) return { names: [], definitions: [], version: '', tag: '' };
  const { definitions, version } = await lookup.filtersFor(resolved.projectId, resolved.asset.id, names);
  const found: FilterDefinition[] = [];
  names.forEach((name, i) => {
    const definition = definitions[i];
    if (!definition)
      throw new NotFoundError('FilterNotFound', `Filter '${name}' is neither an asset filter of this asset nor an account filter of this project`);
    found.push(definition);
  });
  return { names: [...names], definitions: found, version, tag: filtersTag(names, version) };
}

/** A lookup that knows no filter: every name is a 404. For processes and tests that serve no filters. */
export const noFilters: FilterLookup = {
  filtersFor: async (_projectId, _assetId, names) => ({ definitions: names.map(() => undefined), version: '' }),
};

/**
 * Adds the URL's time options (`vbegin`/`vend`, `start`/`end`, as filter definitions from `timeOptionFilters`) to
 * the named filters: their ranges intersect with the filters' in the stage. They are not names, so they do not
 * count towards the three a request may name; their values go into the tag, so each range is its own cache entry.
 */
export function withTimeFilters(filters: RequestFilters | undefined, timeFilters: readonly FilterDefinition[]): RequestFilters | undefined {
  if (timeFilters.length === 0) return filters;
  const base = filters ?? { names: [], definitions: [], version: '', tag: '' };
  const ranges = timeFilters.map((f) => `${f.name}=${JSON.stringify(f.presentationTimeRange ?? {})}`).join(';');
  return { ...base, definitions: [...base.definitions, ...timeFilters], tag: `${base.tag}|t:${ranges}` };
}
