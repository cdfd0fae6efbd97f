import { Type, type Static } from '@sinclair/typebox';
import type { LiveOutputRow, ProjectRow } from '../../../store/database.js';
import { toMkioTime } from '../../../shared/time.js';
import { armId, openObject, systemData, systemDataSchema } from '../envelope.js';
import { listBodySchema } from '../paging.js';

/** MK.IO's live output name rule ([OA] 1–256, letters, digits and inner hyphens; §16). */
export const liveOutputName = Type.String({ minLength: 1, maxLength: 256, pattern: '^[a-zA-Z0-9]+(-*[a-zA-Z0-9])*$' });
/** `{manifestName}.ism` in playback URLs ([OA] 1–64). */
export const manifestNamePattern = '^[a-zA-Z0-9\\-]+[a-zA-Z0-9]$';

export const liveOutputPutBody = Type.Object({
  name: Type.Optional(Type.String()),
  properties: Type.Object(
    {
      assetName: Type.String({ minLength: 1, maxLength: 260 }),
      archiveWindowLength: Type.String({ minLength: 1, maxLength: 64 }),
      manifestName: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: manifestNamePattern })),
      description: Type.Optional(Type.String({ maxLength: 4096 })),
      hls: Type.Optional(
        Type.Object({ fragmentsPerTsSegment: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000_000 })) }, { additionalProperties: false }),
      ),
      outputSnapTime: Type.Optional(Type.Integer({ minimum: 0 })),
      rewindWindowLength: Type.Optional(Type.String({ maxLength: 64 })),
      // Read-only members a client echoes back from a GET: accepted and ignored.
      created: Type.Optional(Type.String()),
      lastModified: Type.Optional(Type.String()),
      provisioningState: Type.Optional(Type.String()),
      resourceState: Type.Optional(Type.String()),
    },
    { additionalProperties: false },
  ),
});
export type LiveOutputPutBody = Static<typeof liveOutputPutBody>;

/** The LiveOutput resource (§16): the stored properties, then states and times. */
export const liveOutputResponse = Type.Object({
  name: Type.String(),
  id: Type.String(),
  type: Type.Literal('Microsoft.Media/mediaservices/liveevents/liveoutputs'),
  properties: openObject('LiveOutput properties: the settings given (manifestName filled in), provisioningState, resourceState, created, lastModified'),
  systemData: systemDataSchema,
});
export type WireLiveOutput = Static<typeof liveOutputResponse>;
export const liveOutputListResponse = listBodySchema(liveOutputResponse);
export const liveOutputStateResponse = Type.Object({ status: Type.Object({ state: Type.String() }) });

export function toWireLiveOutput(row: LiveOutputRow, project: ProjectRow, eventName: string): WireLiveOutput {
  return {
    name: row.name,
    id: armId(project.id, project.name, `liveEvents/${eventName}/liveOutputs`, row.name),
    type: 'Microsoft.Media/mediaservices/liveevents/liveoutputs',
    properties: {
      ...(JSON.parse(row.properties) as Record<string, unknown>),
      provisioningState: 'Succeeded',
      resourceState: row.resource_state,
      created: toMkioTime(row.created_at),
      lastModified: toMkioTime(row.updated_at),
    },
    systemData: systemData(row, row.id),
  };
}
