import { Type, type Static } from '@sinclair/typebox';
import type { ProjectRow } from '../../../store/database.js';
import type { FilterRow } from '../../../store/filter-repository.js';
import { armId, openObject, systemData, systemDataSchema } from '../envelope.js';
import { listBodySchema } from '../paging.js';
import { nameRule } from '../names.js';

/** Filter names (§8): MK.IO's 260 characters under the media name rule (names.ts). */
export const filterName = nameRule(260);

/** Timestamps are int64 in MK.IO; past 2^53 a JSON number no longer holds an exact integer, so that is the bound. */
const timestamp = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });

/**
 * A filter's `properties` (MK.IO `MediaFilterProperties`, §8). The shape is checked here (unknown members are a
 * 400); enum values, ranges across fields and the condition count are checked by `checkFilterProperties`, which
 * names the field and the allowed values.
 */
export const filterProperties = Type.Object(
  {
    presentationTimeRange: Type.Optional(
      Type.Object(
        {
          startTimestamp: Type.Optional(timestamp),
          endTimestamp: Type.Optional(timestamp),
          presentationWindowDuration: Type.Optional(timestamp),
          liveBackoffDuration: Type.Optional(timestamp),
          timescale: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000_000 })),
          forceEndTimestamp: Type.Optional(Type.Boolean()),
          // v1 additions for live content (§8): kept as given; Reel has no live content to apply them to.
          startTime: Type.Optional(Type.String({ format: 'date-time' })),
          endTime: Type.Optional(Type.String({ format: 'date-time' })),
        },
        { additionalProperties: false },
      ),
    ),
    firstQuality: Type.Optional(Type.Object({ bitrate: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }) }, { additionalProperties: false })),
    tracks: Type.Optional(
      Type.Array(
        Type.Object(
          {
            trackSelections: Type.Array(
              Type.Object(
                { property: Type.String(), operation: Type.String(), value: Type.String({ minLength: 1, maxLength: 1024 }) },
                { additionalProperties: false },
              ),
            ),
          },
          { additionalProperties: false },
        ),
      ),
    ),
  },
  { additionalProperties: false },
);
export type FilterProperties = Static<typeof filterProperties>;

/** PUT body: `properties`, plus the read-only members a client that read the filter may send back (ignored). */
export const filterPutBody = Type.Object(
  {
    properties: filterProperties,
    name: Type.Optional(Type.String()),
    id: Type.Optional(Type.String()),
    type: Type.Optional(Type.String()),
    systemData: Type.Optional(Type.Object({})),
  },
  { additionalProperties: false },
);

const resource = (type: string) =>
  Type.Object({
    name: Type.String(),
    id: Type.String(),
    type: Type.Literal(type),
    properties: openObject('MediaFilterProperties as given: presentationTimeRange, firstQuality, tracks'),
    systemData: systemDataSchema,
  });

export const accountFilterType = 'Microsoft.Media/mediaservices/accountFilters';
export const assetFilterType = 'Microsoft.Media/mediaservices/assets/assetFilters';
export const accountFilterResponse = resource(accountFilterType);
export const assetFilterResponse = resource(assetFilterType);
export const accountFilterListResponse = listBodySchema(accountFilterResponse);
export const assetFilterListResponse = listBodySchema(assetFilterResponse);

export interface WireFilter {
  name: string;
  id: string;
  type: string;
  properties: Record<string, unknown>;
  systemData: ReturnType<typeof systemData>;
}

/** A filter as MK.IO answers it; `assetName` for an asset filter (its id nests under the asset). */
export function toWireFilter(row: FilterRow, project: ProjectRow, assetName?: string): WireFilter {
  return {
    name: row.name,
    id: armId(project.id, project.name, assetName === undefined ? 'accountFilters' : `assets/${assetName}/assetFilters`, row.name),
    type: assetName === undefined ? accountFilterType : assetFilterType,
    properties: JSON.parse(row.properties) as Record<string, unknown>,
    systemData: systemData(row, row.id),
  };
}
