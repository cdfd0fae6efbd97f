/**
 * Asset and account filters as the origin and the packager see them (MK.IO §8, AMS "dynamic manifests"): the
 * control plane stores them, the origin looks them up by name, the packager's filter stage applies them to a
 * presentation before any manifest is written. Values are as MK.IO's API carries them (timestamps in
 * `timescale` units, default timescale 10,000,000 = 100 ns).
 */
export type FilterTrackProperty = 'Unknown' | 'Type' | 'Name' | 'Language' | 'FourCC' | 'Bitrate';
export type FilterTrackOperation = 'Equal' | 'NotEqual';

export interface FilterTrackCondition {
  property: FilterTrackProperty;
  operation: FilterTrackOperation;
  /** Type: Video|Audio|Text; Bitrate: `128000` or a range `0-2000000`; others: compared case-insensitively. */
  value: string;
}

/** Conditions inside one selection are ANDed; the selections of a filter are ORed. */
export interface FilterTrackSelection {
  trackSelections: FilterTrackCondition[];
}

export interface FilterTimeRange {
  startTimestamp?: number;
  endTimestamp?: number;
  presentationWindowDuration?: number;
  liveBackoffDuration?: number;
  /** Units per second of the values above; 10,000,000 when absent. */
  timescale?: number;
  forceEndTimestamp?: boolean;
}

export interface FilterDefinition {
  /** The filter's name as URLs and locators give it. */
  name: string;
  presentationTimeRange?: FilterTimeRange;
  firstQuality?: { bitrate: number };
  tracks?: FilterTrackSelection[];
}

/** AMS allows at most three filters per request (the locator's and the URL's together). */
export const maxFiltersPerRequest = 3;

/**
 * How the origin finds filters: for a locator's asset, each name resolves to the asset's filter of that name, else
 * the project's account filter of that name (AMS: an asset filter shadows an account filter), else undefined.
 * `version` changes whenever any of the returned definitions changes, so caches keyed by it never serve a manifest
 * of an old filter.
 */
export interface FilterLookup {
  filtersFor(projectId: string, assetId: string, names: readonly string[]): Promise<{ definitions: Array<FilterDefinition | undefined>; version: string }>;
}
