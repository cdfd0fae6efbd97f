/**
 * The time options of a playback URL (MKIO-API.md §17.3) as filters, so that one stage trims presentations
 * whether the trim comes from a named asset/account filter or from the URL:
 *
 * - `vbegin=`/`vend=` (VOD, ISO 8601 durations from the start of the presentation) → a
 *   `presentationTimeRange` with `startTimestamp`/`endTimestamp` in 100 ns units (timescale 10,000,000).
 * - `start=`/`end=` (live and live archives, ISO 8601 UTC instants) → a `presentationTimeRange` in milliseconds
 *   (timescale 1000) from the presentation's wall-clock origin: the `.ism`'s `availabilityStartTime` for a live
 *   archive, else the epoch (AMS's value for "not live"). Milliseconds keep epoch-based values below 2^53.
 *
 * Each is its own definition; the filter stage intersects time ranges like those of named filters. Their names
 * hold characters no filter name may hold (`(`, `)`), so they never shadow or collide with a stored filter, and
 * they are not filters the user named: they do not count towards `maxFiltersPerRequest`.
 */
import type { FilterDefinition } from '../../../../shared/filter-definitions.js';
import type { ManifestOptions } from './manifest-context.js';

/** Names of the definitions below (not valid filter names, so never a stored filter's). */
export const urlTrimFilterName = '(vbegin,vend)';
export const urlWindowFilterName = '(start,end)';

/** 100 ns units per second, MK.IO's default filter timescale. */
const HNS = 10_000_000;

/**
 * The filters a playback URL's time options ask for: none, the VOD trim, the live window, or both.
 * `originMs` is the presentation's wall-clock zero in milliseconds since the epoch (default 0).
 *
 * @example timeOptionFilters(parseManifestOptions('format=m3u8-cmaf,vbegin=PT10S,vend=PT1M'))
 *   // [{ name: '(vbegin,vend)', presentationTimeRange: { startTimestamp: 100000000, endTimestamp: 600000000, timescale: 10000000 } }]
 */
export function timeOptionFilters(options: ManifestOptions, originMs = 0): FilterDefinition[] {
  const out: FilterDefinition[] = [];
  if (options.vbeginSec !== undefined || options.vendSec !== undefined) {
    const range: NonNullable<FilterDefinition['presentationTimeRange']> = { timescale: HNS };
    if (options.vbeginSec !== undefined) range.startTimestamp = Math.round(options.vbeginSec * HNS);
    if (options.vendSec !== undefined) range.endTimestamp = Math.round(options.vendSec * HNS);
    out.push({ name: urlTrimFilterName, presentationTimeRange: range });
  }
  if (options.startMs !== undefined || options.endMs !== undefined) {
    const range: NonNullable<FilterDefinition['presentationTimeRange']> = { timescale: 1000 };
    // An instant before the origin asks for everything from the origin on.
    if (options.startMs !== undefined) range.startTimestamp = Math.max(0, options.startMs - originMs);
    if (options.endMs !== undefined) range.endTimestamp = Math.max(0, options.endMs - originMs);
    out.push({ name: urlWindowFilterName, presentationTimeRange: range });
  }
  return out;
}
