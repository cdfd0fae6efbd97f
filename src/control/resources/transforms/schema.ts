import { Type, type Static } from '@sinclair/typebox';
import type { ProjectRow, TransformRow } from '../../../store/database.js';
import { armId, mkioTime, openObject, systemData, systemDataSchema } from '../envelope.js';
import { listBodySchema } from '../paging.js';
import { toMkioTime } from '../../../shared/time.js';
import { nameRule } from '../names.js';

/** Transform names (§9): MK.IO's 260 characters under the media name rule (names.ts). */
export const transformName = nameRule(260);

/**
 * One transform output (§9). The preset is only checked for its `@odata.type` here: which presets and which
 * of their fields are supported is the encoding engine's knowledge (`validatePreset`), asked by the service.
 */
export const transformOutput = Type.Object(
  {
    preset: Type.Object({ '@odata.type': Type.String({ minLength: 1, maxLength: 256 }) }, { additionalProperties: true }),
    onError: Type.Optional(Type.Union([Type.Literal('StopProcessingJob'), Type.Literal('ContinueJob')])),
    relativePriority: Type.Optional(Type.Union([Type.Literal('High'), Type.Literal('Normal'), Type.Literal('Low')])),
  },
  { additionalProperties: false },
);
export type TransformOutput = Static<typeof transformOutput>;

/** PUT body. Read-only fields echoed from a GET (created, lastModified, name, id…) are accepted and ignored. */
export const transformPutBody = Type.Object(
  {
    properties: Type.Object(
      {
        description: Type.Optional(Type.Union([Type.String({ maxLength: 1024 }), Type.Null()])),
        outputs: Type.Array(transformOutput, { minItems: 1 }),
        created: Type.Optional(Type.String()),
        lastModified: Type.Optional(Type.String()),
      },
      { additionalProperties: false },
    ),
    name: Type.Optional(Type.String()),
    id: Type.Optional(Type.String()),
    type: Type.Optional(Type.String()),
    systemData: Type.Optional(Type.Object({})),
  },
  { additionalProperties: false },
);
export type TransformPutBody = Static<typeof transformPutBody>;

/** The stored outputs with MK.IO's defaults applied (onError StopProcessingJob, relativePriority Normal). */
export function normalizeOutputs(outputs: TransformOutput[]): Array<Required<TransformOutput>> {
  return outputs.map((o) => ({ preset: o.preset, onError: o.onError ?? 'StopProcessingJob', relativePriority: o.relativePriority ?? 'Normal' }));
}

/** The Transform resource (§9); each output's preset is passed through as given. */
export const transformResponse = Type.Object({
  name: Type.String(),
  id: Type.String(),
  type: Type.Literal('Microsoft.Media/mediaservices/transforms'),
  properties: Type.Object({
    description: Type.Optional(Type.String()),
    outputs: Type.Optional(
      Type.Array(
        Type.Object({
          preset: openObject('The preset as given (`@odata.type` and its settings)'),
          onError: Type.Optional(Type.String()),
          relativePriority: Type.Optional(Type.String()),
        }),
      ),
    ),
    created: Type.Optional(mkioTime),
    lastModified: Type.Optional(mkioTime),
  }),
  systemData: systemDataSchema,
});
export type WireTransform = Static<typeof transformResponse>;
export const transformListResponse = listBodySchema(transformResponse);

export function toWireTransform(row: TransformRow, project: ProjectRow): WireTransform {
  return {
    name: row.name,
    id: armId(project.id, project.name, 'transforms', row.name),
    type: 'Microsoft.Media/mediaservices/transforms',
    properties: {
      ...(row.description !== null ? { description: row.description } : {}),
      outputs: JSON.parse(row.outputs) as WireTransform['properties']['outputs'],
      created: toMkioTime(row.created_at),
      lastModified: toMkioTime(row.updated_at),
    },
    systemData: systemData(row, row.id),
  };
}
