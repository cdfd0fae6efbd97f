import type { Db } from '../../../store/database.js';
import { FilterRepository, type FilterRow, type FilterScope } from '../../../store/filter-repository.js';
import { BadRequestError, ConflictError, notFound } from '../../../shared/errors.js';
import { newId } from '../../../shared/ids.js';
import { UniqueViolationError } from '../../../store/store-errors.js';
import type { FieldPageQuery } from '../../../store/list-query.js';
import { auditFields, ListFields } from '../list-fields.js';
import type { AssetService } from '../assets/service.js';
import type { AssetRow } from '../../../store/database.js';
import type { FilterProperties } from './schema.js';

/** `$filter`/`$orderby` fields of both lists, as MK.IO documents them for account and asset filters. */
export const filterListFields = new ListFields(auditFields);

/** AMS's limit on a filter's track conditions, over all its selections. */
export const maxTrackConditions = 100;

const properties = ['Type', 'Name', 'Language', 'FourCC', 'Bitrate', 'Unknown'];
const operations = ['Equal', 'NotEqual'];
const typeValues = ['Video', 'Audio', 'Text'];
/** MK.IO: presentationWindowDuration at least 10 s ([OA]); liveBackoffDuration at most 300 s. */
const minWindowSeconds = 10;
const maxBackoffSeconds = 300;

function invalid(field: string, why: string): BadRequestError {
  const problem = `body.properties.${field} ${why}`;
  return new BadRequestError('ValidationError', `Invalid request: ${problem}`, { extraDetail: { errors: [problem] } });
}

/**
 * What the schema cannot say about a filter (§8): enum values (named with the allowed ones), `Type` and
 * `Bitrate` values, at most 100 conditions, the end after the start, and the live durations' bounds.
 * Returns the properties to store: as given, with `Type` values and enum names in MK.IO's spelling.
 */
export function checkFilterProperties(given: FilterProperties): FilterProperties {
  const range = given.presentationTimeRange;
  if (range) {
    const scale = range.timescale ?? 10_000_000;
    if (range.startTimestamp !== undefined && range.endTimestamp !== undefined && range.endTimestamp <= range.startTimestamp)
      throw invalid('presentationTimeRange.endTimestamp', 'must be after startTimestamp');
    if (range.forceEndTimestamp === true && range.endTimestamp === undefined)
      throw invalid('presentationTimeRange.endTimestamp', 'is required when forceEndTimestamp is true');
    if (range.presentationWindowDuration !== undefined && range.presentationWindowDuration < minWindowSeconds * scale)
      throw invalid(
        'presentationTimeRange.presentationWindowDuration',
        `must be at least ${minWindowSeconds} seconds (${minWindowSeconds * scale} at timescale ${scale})`,
      );
    if (range.liveBackoffDuration !== undefined && range.liveBackoffDuration > maxBackoffSeconds * scale)
      throw invalid(
        'presentationTimeRange.liveBackoffDuration',
        `must be at most ${maxBackoffSeconds} seconds (${maxBackoffSeconds * scale} at timescale ${scale})`,
      );
    if (range.startTime !== undefined && range.endTime !== undefined && Date.parse(range.endTime) <= Date.parse(range.startTime))
      throw invalid('presentationTimeRange.endTime', 'must be after startTime');
  }
  const tracks = given.tracks;
  if (!tracks) return given;
  const count = tracks.reduce((n, s) => n + s.trackSelections.length, 0);
  if (count > maxTrackConditions) throw invalid('tracks', `hold ${count} track conditions in all; at most ${maxTrackConditions} are allowed`);
  const canonical = (allowed: string[], value: string) => allowed.find((a) => a.toLowerCase() === value.toLowerCase());
  const checked = tracks.map((selection, i) => {
    if (selection.trackSelections.length === 0) throw invalid(`tracks.${i}.trackSelections`, 'must hold at least one condition');
    return {
      trackSelections: selection.trackSelections.map((c, j) => {
        const at = `tracks.${i}.trackSelections.${j}`;
        const property = canonical(properties, c.property);
        if (!property) throw invalid(`${at}.property`, `must be one of ${properties.join(', ')}`);
        const operation = canonical(operations, c.operation);
        if (!operation) throw invalid(`${at}.operation`, `must be one of ${operations.join(', ')}`);
        let value = c.value;
        if (property === 'Type') {
          const type = canonical(typeValues, value);
          if (!type) throw invalid(`${at}.value`, `must be one of ${typeValues.join(', ')} for property Type`);
          value = type;
        } else if (property === 'Bitrate') {
          const m = /^(\d{1,10})(?:-(\d{1,10}))?$/.exec(value);
          if (!m || (m[2] !== undefined && Number(m[2]) < Number(m[1])))
            throw invalid(`${at}.value`, "must be a bitrate in bit/s ('128000') or a range low-high ('0-2000000', low not above high) for property Bitrate");
        } else if (value.trim() === '') {
          throw invalid(`${at}.value`, 'must not be blank');
        }
        return { property, operation, value };
      }),
    };
  });
  return { ...given, tracks: checked };
}

interface Actor {
  email: string;
}

/** Account filters (per project) and asset filters (per asset), MK.IO §8. */
/** An asset filter's scope, with the asset it was looked up for (its media length bounds the time range). */
export type AssetFilterScope = FilterScope & { kind: 'asset'; asset?: AssetRow };

/**
 * The media length of an asset in seconds (its longest track), or undefined when it cannot be known now: no
 * media yet, a live output recording into it, files that cannot be read.
 */
export type AssetMediaDuration = (asset: AssetRow) => Promise<number | undefined>;

/** A time range may end this far past the media (AMS rounds durations; the last segment may be short). */
const endToleranceSec = 1;

export class FilterService {
  private readonly repository: FilterRepository;

  constructor(
    db: Db,
    private readonly assets: AssetService,
    private readonly mediaDurationSec?: AssetMediaDuration,
  ) {
    this.repository = new FilterRepository(db);
  }

  accountScope(projectId: string): FilterScope {
    return { kind: 'account', projectId };
  }

  /** The scope of an asset's filters; 404 when the project has no such asset. */
  async assetScope(projectId: string, assetName: string): Promise<AssetFilterScope> {
    const asset = await this.assets.find(projectId, assetName);
    if (!asset) throw notFound(`Asset '${assetName}'`);
    return { kind: 'asset', projectId, assetId: asset.id, asset };
  }

  /**
   * An asset filter's timestamps must fall inside the asset's media (§8 "timestamps beyond the asset"): a start
   * at or past its end selects nothing, an end past it (beyond a second's rounding) names media that is not
   * there. Assets whose length is not known now (being recorded, no media yet) are not checked.
   */
  private async checkInsideAsset(scope: FilterScope, range: FilterProperties['presentationTimeRange']): Promise<void> {
    if (scope.kind !== 'asset' || !range || (range.startTimestamp === undefined && range.endTimestamp === undefined)) return;
    const asset = (scope as AssetFilterScope).asset;
    const durationSec = asset && this.mediaDurationSec ? await this.mediaDurationSec(asset) : undefined;
    if (durationSec === undefined) return;
    const scale = range.timescale ?? 10_000_000;
    const length = `the asset's media lasts ${durationSec.toFixed(3)} s (${Math.round(durationSec * scale)} at timescale ${scale})`;
    if (range.startTimestamp !== undefined && range.startTimestamp / scale >= durationSec)
      throw invalid('presentationTimeRange.startTimestamp', `is beyond the asset: ${length}`);
    if (range.endTimestamp !== undefined && range.endTimestamp / scale > durationSec + endToleranceSec)
      throw invalid('presentationTimeRange.endTimestamp', `is beyond the asset: ${length}`);
  }

  async page(scope: FilterScope, query: FieldPageQuery): Promise<{ items: FilterRow[]; total: number }> {
    return this.repository.page(scope, query);
  }

  async get(scope: FilterScope, name: string): Promise<FilterRow> {
    const row = await this.repository.findByName(scope, name);
    if (!row) throw notFound(`${scope.kind === 'account' ? 'Account' : 'Asset'} filter '${name}'`);
    return row;
  }

  /** PUT: creates (201) or replaces the filter's properties (200). */
  async put(scope: FilterScope, name: string, given: FilterProperties, actor: Actor): Promise<{ row: FilterRow; created: boolean }> {
    const checked = checkFilterProperties(given);
    await this.checkInsideAsset(scope, checked.presentationTimeRange);
    const properties = JSON.stringify(checked);
    const now = new Date().toISOString();
    const update = async (existing: FilterRow) => {
      const values = { properties, revision: newId(), updated_at: now, updated_by: actor.email };
      await this.repository.update(scope, existing.id, values);
      return { row: { ...existing, ...values }, created: false };
    };
    const existing = await this.repository.findByName(scope, name);
    if (existing) return update(existing);
    const row: FilterRow = {
      id: newId(),
      project_id: scope.projectId,
      ...(scope.kind === 'asset' ? { asset_id: scope.assetId } : {}),
      name,
      properties,
      revision: newId(),
      created_at: now,
      created_by: actor.email,
      updated_at: now,
      updated_by: actor.email,
    };
    try {
      await this.repository.insert(scope, row);
    } catch (err) {
      // A concurrent PUT of the same name won: answer as if this one came second.
      const winner = err instanceof UniqueViolationError ? await this.repository.findByName(scope, name) : undefined;
      if (winner) return update(winner);
      // The asset was deleted meanwhile (its row is gone, so the insert broke the reference): as if it came first.
      if (scope.kind === 'asset' && !(await this.repository.assetExists(scope))) throw notFound('Asset');
      throw err;
    }
    return { row, created: true };
  }

  /**
   * 200 when deleted, 204 when there was nothing. MK.IO: a filter "can only be removed when [it is] not
   * referenced by any active streaming locators": a locator of the project (of the asset, for an asset filter)
   * that names it and has not ended refuses the delete with 409 `FilterInUse`.
   */
  async delete(scope: FilterScope, name: string): Promise<boolean> {
    const locators = await this.repository.locatorsNamingFilters(scope.projectId, scope.kind === 'asset' ? scope.assetId : undefined);
    const now = Date.now();
    const user = locators.find((l) => l.filters.includes(name) && (l.endTime === null || Date.parse(l.endTime) > now));
    if (user && (await this.repository.findByName(scope, name)))
      throw new ConflictError('FilterInUse', `Filter '${name}' is used by streaming locator '${user.name}'; delete the locator first`);
    return this.repository.deleteByName(scope, name);
  }
}
