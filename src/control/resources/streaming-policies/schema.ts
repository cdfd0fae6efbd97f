import { Type, type Static, type TSchema } from '@sinclair/typebox';
import type { ProjectRow } from '../../../store/database.js';
import { toMkioTime } from '../../../shared/time.js';
import { armId, openObject, systemData, systemDataSchema } from '../envelope.js';
import { listBodySchema } from '../paging.js';
import type { StreamingPolicy } from './service.js';
import { nameRule } from '../names.js';

/** Streaming policy names (§12): MK.IO's 260 characters under the media name rule (names.ts). */
export const streamingPolicyName = nameRule(260);

/**
 * MK.IO's schema requires all four; the .NET client models them as nullable and omits the unset ones (and the
 * obsolete `smoothStreaming`), so each is optional here and stored as `false` when absent (encryption-blocks.ts).
 */
const protocols = Type.Object(
  {
    download: Type.Optional(Type.Boolean()),
    dash: Type.Optional(Type.Boolean()),
    hls: Type.Optional(Type.Boolean()),
    smoothStreaming: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
const trackSelections = Type.Array(
  Type.Object({
    trackSelections: Type.Array(
      Type.Object({
        // Absent means `Unknown`: the .NET client leaves out its enums' first value (stored as Unknown).
        property: Type.Optional(Type.Union([Type.Literal('Unknown'), Type.Literal('FourCC')])),
        operation: Type.Optional(Type.Union([Type.Literal('Unknown'), Type.Literal('Equal')])),
        value: Type.Optional(Type.String()),
      }),
    ),
  }),
);
const contentKeys = Type.Object({
  defaultKey: Type.Optional(Type.Object({ label: Type.Optional(Type.String()), policyName: Type.Optional(Type.String()) })),
  keyToTrackMappings: Type.Optional(
    Type.Array(Type.Object({ label: Type.Optional(Type.String()), policyName: Type.Optional(Type.String()), tracks: Type.Optional(trackSelections) })),
  ),
});
/** A licence or key URL template (§12): an absolute http(s) URL once `{ContentKeyId}`/`{AlternativeMediaId}` are filled (checked in the service). */
const urlTemplate = Type.String({ minLength: 1, maxLength: 1024 });
const optionalTemplate = Type.Optional(Type.Union([urlTemplate, Type.Null()]));
const playReady = Type.Object(
  {
    customLicenseAcquisitionUrlTemplate: optionalTemplate,
    playReadyCustomAttributes: Type.Optional(Type.Union([Type.String({ maxLength: 4096 }), Type.Null()])),
  },
  { additionalProperties: false },
);
const widevine = Type.Object({ customLicenseAcquisitionUrlTemplate: optionalTemplate }, { additionalProperties: false });
const fairPlay = Type.Object(
  // Required by MK.IO's schema, nullable in the .NET client: absent is stored as false.
  { allowPersistentLicense: Type.Optional(Type.Boolean()), customLicenseAcquisitionUrlTemplate: optionalTemplate },
  { additionalProperties: false },
);
const clearKeyConfiguration = Type.Object({ customKeysAcquisitionUrlTemplate: optionalTemplate }, { additionalProperties: false });

const scheme = (extra: Record<string, TSchema> = {}) =>
  Type.Optional(
    Type.Object({
      enabledProtocols: Type.Optional(protocols),
      clearTracks: Type.Optional(trackSelections),
      contentKeys: Type.Optional(contentKeys),
      ...extra,
    }),
  );

/** PUT body (§12): at most one block per scheme; url templates and content key policy names are checked by the service. */
export const policyBody = Type.Object({
  properties: Type.Object(
    {
      defaultContentKeyPolicyName: Type.Optional(Type.String({ maxLength: 260 })),
      noEncryption: Type.Optional(Type.Object({ enabledProtocols: Type.Optional(protocols) })),
      envelopeEncryption: scheme({ customKeyAcquisitionUrlTemplate: optionalTemplate }),
      commonEncryptionCenc: scheme({
        drm: Type.Optional(Type.Object({ playReady: Type.Optional(playReady), widevine: Type.Optional(widevine) }, { additionalProperties: false })),
        clearKeyEncryptionConfiguration: Type.Optional(clearKeyConfiguration),
      }),
      commonEncryptionCbcs: scheme({
        drm: Type.Optional(
          Type.Object(
            { fairPlay: Type.Optional(fairPlay), playReady: Type.Optional(playReady), widevine: Type.Optional(widevine) },
            { additionalProperties: false },
          ),
        ),
        clearKeyEncryptionConfiguration: Type.Optional(clearKeyConfiguration),
      }),
      catalog: Type.Optional(Type.Object({})),
    },
    { additionalProperties: false },
  ),
  name: Type.Optional(Type.String()),
  id: Type.Optional(Type.String()),
  type: Type.Optional(Type.String()),
});

/**
 * The StreamingPolicy resource (§12). `properties` are the policy as given (or predefined) plus `created`: an
 * open object, so the serializer keeps them and their order. Predefined policies have no `systemData`.
 */
export const policyResponse = Type.Object({
  name: Type.String(),
  id: Type.String(),
  type: Type.Literal('Microsoft.Media/mediaservices/streamingPolicies'),
  properties: openObject('StreamingPolicy properties: the encryption schemes and their protocols, then created'),
  systemData: Type.Optional(systemDataSchema),
});
export type WirePolicy = Static<typeof policyResponse>;
export const policyListResponse = listBodySchema(policyResponse);

const epoch = '1970-01-01T00:00:00.000000Z';

export function toWirePolicy(policy: StreamingPolicy, project: ProjectRow): WirePolicy {
  const row = policy.row;
  return {
    name: policy.name,
    id: armId(project.id, project.name, 'streamingPolicies', policy.name),
    type: 'Microsoft.Media/mediaservices/streamingPolicies',
    properties: { ...policy.properties, created: row ? toMkioTime(row.created_at) : epoch },
    ...(row ? { systemData: systemData(row, row.id) } : {}),
  };
}
