import { createHash } from 'node:crypto';
import type { Db } from './database.js';
import { FilterRepository, type FilterRow } from './filter-repository.js';
import type { FilterDefinition, FilterLookup, FilterTrackSelection } from '../shared/filter-definitions.js';
import { TtlCache } from '../shared/ttl-cache.js';

/** The canonical spelling of a `Type` condition's value (MK.IO compares values case-insensitively). */
const typeValues: Record<string, string> = { video: 'Video', audio: 'Audio', text: 'Text' };
const timeFields = ['startTimestamp', 'endTimestamp', 'presentationWindowDuration', 'liveBackoffDuration', 'timescale', 'forceEndTimestamp'] as const;

/** A stored filter (its MK.IO `properties`, validated by the control plane) as the origin and packager see it. */
export function filterDefinition(name: string, properties: Record<string, unknown>): FilterDefinition {
  const definition: FilterDefinition = { name };
  const range = properties.presentationTimeRange as Record<string, unknown> | undefined;
  if (range) {
    const picked: Record<string, unknown> = {};
    for (const field of timeFields) if (range[field] !== undefined && range[field] !== null) picked[field] = range[field];
    definition.presentationTimeRange = picked;
  }
  const first = properties.firstQuality as { bitrate?: number } | undefined;
  if (first && typeof first.bitrate === 'number') definition.firstQuality = { bitrate: first.bitrate };
  const tracks = properties.tracks as FilterTrackSelection[] | undefined;
  if (tracks) {
    definition.tracks = tracks.map((selection) => ({
      trackSelections: selection.trackSelections.map((c) => ({
        property: c.property,
        operation: c.operation,
        value: c.property === 'Type' ? (typeValues[c.value.toLowerCase()] ?? c.value) : c.value,
      })),
    }));
  }
  return definition;
}

/**
 * `FilterLookup` over the store. `assetId` is the asset's row id (a locator's `asset_id`). Each name resolves to
 * the asset's filter of that name, else the project's account filter, else undefined. `version` hashes, per
 * name, which row answered and its `revision` (a fresh id on every write): any edit, a delete, or a new asset
 * filter shadowing an account filter changes it.
 */
export class StoreFilterLookup implements FilterLookup {
  private readonly repository: FilterRepository;

  constructor(db: Db) {
    this.repository = new FilterRepository(db);
  }

  async filtersFor(
    projectId: string,
    assetId: string,
    names: readonly string[],
  ): Promise<{ definitions: Array<FilterDefinition | undefined>; version: string }> {
    if (names.length === 0) return { definitions: [], version: 'none' };
    const [own, shared] = await Promise.all([
      this.repository.findByNames({ kind: 'asset', projectId, assetId }, names),
      this.repository.findByNames({ kind: 'account', projectId }, names),
    ]);
    const byName = (rows: FilterRow[]) => new Map(rows.map((r) => [r.name, r]));
    const assetRows = byName(own);
    const accountRows = byName(shared);
    const hash = createHash('sha256');
    const definitions = names.map((name) => {
      const row = assetRows.get(name) ?? accountRows.get(name);
      hash.update(`${name}\u0000${row ? `${assetRows.has(name) ? 'asset' : 'account'}:${row.id}:${row.revision}` : '-'}\u0000`);
      return row ? filterDefinition(name, JSON.parse(row.properties) as Record<string, unknown>) : undefined;
    });
    return { definitions, version: hash.digest('base64url').slice(0, 22) };
  }
}

/**
 * `lookup` with answers (misses too) kept for `ttlMs`: every manifest request of a filtered locator asks, and
 * must not each reach the database. A filter edit takes effect for new manifest requests within `ttlMs`.
 */
export function cachedFilterLookup(lookup: FilterLookup, ttlMs = 2000): FilterLookup {
  type Answer = Awaited<ReturnType<FilterLookup['filtersFor']>>;
  const cache = new TtlCache<string, Promise<Answer>>({ ttlMs, max: 10_000 });
  return {
    filtersFor(projectId, assetId, names) {
      const key = JSON.stringify([projectId, assetId, names]);
      const hit = cache.get(key);
      if (hit) return hit;
      const loading = lookup.filtersFor(projectId, assetId, names);
      cache.set(key, loading);
      // A failed read is not remembered: the next request tries again.
      loading.catch(() => cache.delete(key));
      return loading;
    },
  };
}
