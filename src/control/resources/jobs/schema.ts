import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { JobRow, ProjectRow } from '../../../store/database.js';
import { armId, mkioTime, openObject, systemData, systemDataSchema } from '../envelope.js';
import { listBodySchema } from '../paging.js';
import { toMkioTime } from '../../../shared/time.js';
import { BadRequestError } from '../../../shared/errors.js';
import { assetName } from '../assets/schema.js';

/** MK.IO job name rule ([NET]); at least two characters. */
export const jobName = Type.String({ maxLength: 260, pattern: '^[a-zA-Z0-9]([-_.]*[a-zA-Z0-9])*$' });

const priority = Type.Union([Type.Literal('High'), Type.Literal('Normal'), Type.Literal('Low')]);
const clipTime = Type.Object(
  {
    '@odata.type': Type.String({ minLength: 1 }),
    time: Type.Optional(Type.String()),
    trigger: Type.Optional(Type.Object({}, { additionalProperties: true })),
  },
  { additionalProperties: false },
);

/**
 * A track of `inputDefinitions[].includedTracks` as the .NET client writes it: `@odata.type` without the
 * `#Microsoft.Media.` prefix (both are accepted), unset enums left out. Which types Reel runs: `checkInputDefinitions`.
 */
const includedTrack = Type.Object(
  {
    '@odata.type': Type.String({ minLength: 1, maxLength: 128 }),
    channelMapping: Type.Optional(Type.String({ maxLength: 64 })),
    trackId: Type.Optional(Type.Integer()),
    attribute: Type.Optional(Type.String({ maxLength: 64 })),
    filter: Type.Optional(Type.String({ maxLength: 64 })),
    filterValue: Type.Optional(Type.String({ maxLength: 1024 })),
  },
  { additionalProperties: false },
);
/** AMS `InputFile`, `FromAllInputFile`, `FromEachInputFile` ([NET] `inputDefinitions`). */
const inputDefinition = Type.Object(
  {
    '@odata.type': Type.String({ minLength: 1, maxLength: 128 }),
    filename: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
    includedTracks: Type.Optional(Type.Array(includedTrack, { maxItems: 32 })),
  },
  { additionalProperties: false },
);
const inputDefinitions = Type.Optional(Type.Array(inputDefinition, { maxItems: 100 }));
export type InputDefinition = Static<typeof inputDefinition>;

/** `#Microsoft.Media.JobInputAsset` (§10.1). */
export const jobInputAsset = Type.Object(
  {
    '@odata.type': Type.Literal('#Microsoft.Media.JobInputAsset'),
    assetName: Type.String({ minLength: 1, maxLength: 260 }),
    files: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 1024 }), { maxItems: 100 })),
    label: Type.Optional(Type.String({ maxLength: 1024 })),
    start: Type.Optional(clipTime),
    end: Type.Optional(clipTime),
    inputDefinitions,
  },
  { additionalProperties: false },
);
export type JobInputAsset = Static<typeof jobInputAsset>;

/** `#Microsoft.Media.JobInputHttp` (§10.1); start/end are "not implemented" in MK.IO and refused here. */
export const jobInputHttp = Type.Object(
  {
    '@odata.type': Type.Literal('#Microsoft.Media.JobInputHttp'),
    baseUri: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
    files: Type.Array(Type.String({ minLength: 1, maxLength: 4096 }), { minItems: 1, maxItems: 100 }),
    label: Type.Optional(Type.String({ maxLength: 1024 })),
    inputDefinitions,
  },
  { additionalProperties: false },
);
export type JobInputHttp = Static<typeof jobInputHttp>;
export type JobInput = JobInputAsset | JobInputHttp;

/** `#Microsoft.Media.JobOutputAsset`; the read-only fields a GET returns are accepted and ignored. */
export const jobOutputAsset = Type.Object(
  {
    '@odata.type': Type.Literal('#Microsoft.Media.JobOutputAsset'),
    assetName,
    label: Type.Optional(Type.String({ maxLength: 1024 })),
    state: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    progress: Type.Optional(Type.Union([Type.Integer(), Type.Null()])),
    startTime: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    endTime: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    error: Type.Optional(Type.Object({}, { additionalProperties: true })),
  },
  { additionalProperties: false },
);
export type JobOutputAsset = Static<typeof jobOutputAsset>;

/** The input is checked per `@odata.type` by the service (`checkJobInput`), so errors name the right fields. */
const anyInput = Type.Object({ '@odata.type': Type.String() }, { additionalProperties: true });
const readOnlyProperties = {
  state: Type.Optional(Type.String()),
  created: Type.Optional(Type.String()),
  lastModified: Type.Optional(Type.String()),
  startTime: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  endTime: Type.Optional(Type.Union([Type.String(), Type.Null()])),
};
const envelope = {
  name: Type.Optional(Type.String()),
  id: Type.Optional(Type.String()),
  type: Type.Optional(Type.String()),
  systemData: Type.Optional(Type.Object({})),
};

/** What a PATCH may change (MK.IO): the same fields on create. */
const editableProperties = {
  description: Type.Optional(Type.Union([Type.String({ maxLength: 1024 }), Type.Null()])),
  priority: Type.Optional(priority),
  /** MK.IO stores strings; the .NET client's model holds any value, so others are turned into text (`correlationText`). */
  correlationData: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
};

export const jobPutBody = Type.Object(
  {
    properties: Type.Object(
      {
        input: anyInput,
        outputs: Type.Array(jobOutputAsset, { minItems: 1 }),
        ...editableProperties,
        ...readOnlyProperties,
      },
      { additionalProperties: false },
    ),
    ...envelope,
  },
  { additionalProperties: false },
);
export type JobPutBody = Static<typeof jobPutBody>;

/** PATCH: description, priority and correlationData change; input and outputs may be echoed back unchanged. */
export const jobPatchBody = Type.Object(
  {
    properties: Type.Object(
      {
        input: Type.Optional(anyInput),
        outputs: Type.Optional(Type.Array(jobOutputAsset)),
        ...editableProperties,
        ...readOnlyProperties,
      },
      { additionalProperties: false },
    ),
    ...envelope,
  },
  { additionalProperties: false },
);
export type JobPatchBody = Static<typeof jobPatchBody>;

function problems(schema: TSchema, value: unknown, at: string): string[] {
  return [...Value.Errors(schema, value)].map((e) => `${at}${e.path.replace(/\//g, '.')} ${e.message}`);
}

/** Validates a job input against the schema its `@odata.type` names; every problem is listed in the 400. */
export function checkJobInput(input: Record<string, unknown>): JobInput {
  const type = input['@odata.type'];
  const schema = type === '#Microsoft.Media.JobInputAsset' ? jobInputAsset : type === '#Microsoft.Media.JobInputHttp' ? jobInputHttp : undefined;
  if (!schema) {
    throw new BadRequestError(
      'ValidationError',
      `properties.input.@odata.type '${String(type)}' is not supported: use #Microsoft.Media.JobInputAsset or #Microsoft.Media.JobInputHttp`,
    );
  }
  const list = problems(schema, input, 'properties.input');
  if (list.length > 0) throw new BadRequestError('ValidationError', `Invalid request: ${list.join('; ')}`, { extraDetail: { errors: list } });
  checkInputDefinitions((input as JobInput).inputDefinitions ?? []);
  return input as JobInput;
}

const bare = (type: string) => type.replace(/^#Microsoft\.Media\./, '');
/** The .NET client writes `FromAllInputFile` with the type `#Microsoft.Media.JobInputAsset` (a slip in its model). */
const definitionTypes = new Set(['InputFile', 'FromAllInputFile', 'FromEachInputFile', 'JobInputAsset']);
const selectingTracks = new Set(['SelectVideoTrackById', 'SelectVideoTrackByAttribute', 'SelectAudioTrackById', 'SelectAudioTrackByAttribute']);

/**
 * `inputDefinitions` Reel can honour: `InputFile` names a file to read (like `files`), and a definition's
 * `includedTracks` may say "all video" / "all audio" (`VideoTrackDescriptor`, `AudioTrackDescriptor`), which is
 * what the encoder reads anyway. Picking tracks by id, language or bitrate is not implemented: refused by name.
 */
function checkInputDefinitions(definitions: InputDefinition[]): void {
  const fail = (message: string) => new BadRequestError('ValidationError', `Invalid request: ${message}`, { extraDetail: { errors: [message] } });
  definitions.forEach((definition, i) => {
    const at = `properties.input.inputDefinitions[${i}]`;
    const type = bare(definition['@odata.type']);
    if (!definitionTypes.has(type))
      throw fail(`${at}.@odata.type '${definition['@odata.type']}' is not supported: use InputFile, FromAllInputFile or FromEachInputFile`);
    if (type === 'InputFile' && definition.filename === undefined) throw fail(`${at}.filename is required for InputFile`);
    if (type !== 'InputFile' && definition.filename !== undefined) throw fail(`${at}.filename is only allowed on InputFile`);
    (definition.includedTracks ?? []).forEach((track, j) => {
      const trackType = bare(track['@odata.type']);
      if (selectingTracks.has(trackType))
        throw fail(
          `${at}.includedTracks[${j}]: ${trackType} is not supported: Reel reads every video and audio track of an input (use VideoTrackDescriptor or AudioTrackDescriptor, or leave includedTracks out)`,
        );
      if (trackType !== 'VideoTrackDescriptor' && trackType !== 'AudioTrackDescriptor')
        throw fail(`${at}.includedTracks[${j}].@odata.type '${track['@odata.type']}' is not a track type`);
    });
  });
}

/** The file names an input's `InputFile` definitions give, read when `files` names none. */
export function inputDefinitionFiles(input: { inputDefinitions?: Array<{ '@odata.type'?: string; filename?: string }> }): string[] {
  return (input.inputDefinitions ?? []).flatMap((d) => (d.filename !== undefined && bare(d['@odata.type'] ?? '') === 'InputFile' ? [d.filename] : []));
}

/**
 * `correlationData` as stored: MK.IO's map of strings. The .NET client's values are objects, so numbers and
 * booleans become their text, objects and arrays their JSON, and a `null` entry is left out.
 */
export function correlationText(data: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(data)) {
    if (value === null || value === undefined) continue;
    out[key] = typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value);
  }
  return out;
}

const nullableTime = Type.Union([mkioTime, Type.Null()]);

/** The Job resource (§10): `correlationData` and `input` are passed through as given. */
export const jobResponse = Type.Object({
  name: Type.String(),
  id: Type.String(),
  type: Type.Literal('Microsoft.Media/mediaservices/transforms/jobs'),
  properties: Type.Object({
    created: mkioTime,
    lastModified: mkioTime,
    state: Type.String(),
    description: Type.Optional(Type.String()),
    priority: Type.Optional(Type.String()),
    correlationData: Type.Optional(Type.Record(Type.String(), Type.String())),
    input: Type.Optional(openObject('The job input as given (JobInputAsset, JobInputHttp, clips)')),
    outputs: Type.Optional(
      Type.Array(
        Type.Object({
          '@odata.type': Type.Literal('#Microsoft.Media.JobOutputAsset'),
          assetName: Type.String(),
          label: Type.String(),
          state: Type.String(),
          progress: Type.Number(),
          startTime: nullableTime,
          endTime: nullableTime,
          error: Type.Optional(openObject('Why the output failed: code, message, category, retry, details')),
        }),
      ),
    ),
    startTime: Type.Optional(nullableTime),
    endTime: Type.Optional(nullableTime),
  }),
  systemData: systemDataSchema,
});
export type WireJob = Static<typeof jobResponse>;
export const jobListResponse = listBodySchema(jobResponse);
export const jobStateResponse = Type.Object({ status: Type.Object({ state: Type.String() }) });

/** The MK.IO Job resource. The single output shares the job's state, progress and times. */
export function toWireJob(row: JobRow, project: ProjectRow): WireJob {
  const startTime = row.start_time ? toMkioTime(row.start_time) : null;
  const endTime = row.end_time ? toMkioTime(row.end_time) : null;
  const error = row.error ? (JSON.parse(row.error) as Record<string, unknown>) : undefined;
  return {
    name: row.name,
    id: armId(project.id, project.name, `transforms/${row.transform_name}/jobs`, row.name),
    type: 'Microsoft.Media/mediaservices/transforms/jobs',
    properties: {
      created: toMkioTime(row.created_at),
      lastModified: toMkioTime(row.updated_at),
      state: row.state,
      ...(row.description !== null ? { description: row.description } : {}),
      priority: row.priority,
      correlationData: JSON.parse(row.correlation_data) as Record<string, string>,
      input: JSON.parse(row.input) as Record<string, unknown>,
      outputs: [
        {
          '@odata.type': '#Microsoft.Media.JobOutputAsset' as const,
          assetName: row.output_asset_name,
          label: row.output_label,
          state: row.state,
          progress: row.progress,
          startTime,
          endTime,
          ...(error ? { error } : {}),
        },
      ],
      startTime,
      endTime,
    },
    systemData: systemData(row, row.id),
  };
}
