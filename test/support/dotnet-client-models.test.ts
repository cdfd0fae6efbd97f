import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { dotnetDeserializationErrors, dotnetModels, dotnetReserialize, hasDotnetModel } from './dotnet-client-models.js';

const ok = (model: string, json: unknown) => assert.deepEqual(dotnetDeserializationErrors(model, json), [], `${model} should read`);
const fails = (model: string, json: unknown, pattern: RegExp) => {
  const errors = dotnetDeserializationErrors(model, json);
  assert.ok(
    errors.some((e) => pattern.test(e)),
    `${model}: expected an error matching ${pattern}, got ${JSON.stringify(errors)}`,
  );
};

const storage = (createdById: unknown) => ({
  kind: 'StorageAccountList',
  items: [
    {
      metadata: { id: '8b0f3a57-4d3b-4f3c-9d5e-1c1f6b2a9e01', created: '2024-05-01T10:00:00Z', createdById },
      spec: { name: 'store', type: 'Microsoft.Storage', location: 'local' },
    },
  ],
});

describe('.NET client model checker', () => {
  it('loads the extracted models of the pinned client commit', () => {
    assert.match(dotnetModels().source.commit, /^e01766b/);
    assert.ok(hasDotnetModel('AssetSchema'));
    assert.ok(!hasDotnetModel('NoSuchSchema'));
    assert.throws(() => dotnetDeserializationErrors('NoSuchSchema', {}), /unknown \.NET client model/);
  });

  it('catches the legacy storage list answering createdById with an e-mail where the model has a Guid', () => {
    ok('StorageListResponseSchema', storage('0c4a0d0e-7c43-4a6f-8a0c-2d4bfe5b7d10'));
    ok('StorageListResponseSchema', storage(null));
    fails('StorageListResponseSchema', storage('admin@example.com'), /\$\.items\[0\]\.metadata\.createdById: "admin@example\.com" is not a Guid/);
  });

  it('accepts the Guid formats .NET parses and refuses others', () => {
    ok('StorageMetadataSchema', { id: '8B0F3A574D3B4F3C9D5E1C1F6B2A9E01' });
    ok('StorageMetadataSchema', { id: '{8b0f3a57-4d3b-4f3c-9d5e-1c1f6b2a9e01}' });
    fails('StorageMetadataSchema', { id: '8b0f3a57-4d3b-4f3c-9d5e' }, /not a Guid/);
    fails('StorageMetadataSchema', { id: 42 }, /not a Guid/);
    // Extra.subscription_id is a non-nullable Guid.
    fails('AccountStats', { extra: { subscription_id: null } }, /null cannot be converted to the non-nullable Guid/);
  });

  it('reads DateTime the way the client converter does', () => {
    ok('AssetSchema', { properties: { created: '2024-05-01T10:00:00.123456Z', lastModified: '2024-05-01T10:00:00+02:00' } });
    ok('AssetSchema', { properties: { created: '2024-05-01 10:00:00' } }); // DateTime? goes through DateTime.Parse
    fails('AssetSchema', { properties: { created: 'yesterday' } }, /created: "yesterday" is not a DateTime/);
    fails('AssetSchema', { properties: { created: '2024-13-01T10:00:00Z' } }, /not a DateTime/);
    fails('AssetSchema', { properties: { created: 1714557600 } }, /not a DateTime/);
  });

  it('refuses unknown enum values, and accepts any case and integers as StringEnumConverter does', () => {
    const job = (state: unknown) => ({
      properties: { state, priority: 'Normal', input: { '@odata.type': '#Microsoft.Media.JobInputAsset', assetName: 'in' } },
    });
    ok('JobSchema', job('Processing'));
    ok('JobSchema', job('processing'));
    ok('JobSchema', job(2));
    fails('JobSchema', job('Running'), /state: "Running" is not a value of enum JobState/);
    fails('JobSchema', job(null), /state: null cannot be converted to the non-nullable JobState/);
  });

  it('refuses non-numeric and overflowing numbers', () => {
    ok('StreamingEndpointProperties', { scaleUnits: 3, maxCacheAge: '60' });
    fails('StreamingEndpointProperties', { scaleUnits: 'three' }, /scaleUnits: "three" is not an integer \(int\)/);
    fails('StreamingEndpointProperties', { scaleUnits: 2 ** 31 }, /overflows int/);
    fails('StreamingEndpointProperties', { cdnEnabled: 'yes' }, /cdnEnabled: "yes" is not a bool/);
  });

  it('refuses the wrong JSON kind', () => {
    fails('AssetSchema', [], /\$: expected a JSON object for AssetSchema, got an array/);
    fails('AssetSchema', { properties: 'x' }, /\$\.properties: expected a JSON object for AssetProperties/);
    fails('AssetSchema', { labels: ['a'] }, /labels: expected a JSON object for Dictionary<string>/);
    fails('AssetListResponseSchema', { value: {} }, /value: expected a JSON array/);
    fails('AssetSchema', { name: { a: 1 } }, /name: expected a string, got an object/);
    ok('AssetSchema', { name: 12, description: true }); // primitives convert to string
    fails('AssetSchema', null, /empty or null/);
  });

  it('resolves @odata.type subtypes and refuses unknown ones', () => {
    const transform = (preset: unknown) => ({ properties: { outputs: [{ preset, relativePriority: 'Normal' }] } });
    ok('TransformSchema', transform({ '@odata.type': '#Microsoft.Media.BuiltInStandardEncoderPreset', presetName: 'H264SingleBitrate720p' }));
    fails(
      'TransformSchema',
      transform({ '@odata.type': '#Microsoft.Media.BuiltInStandardEncoderPreset', presetName: 'NoSuchPreset' }),
      /preset\.presetName: "NoSuchPreset" is not a value of enum EncoderNamedPreset/,
    );
    fails(
      'TransformSchema',
      transform({ '@odata.type': '#Microsoft.Media.AudioAnalyzerPreset' }),
      /@odata\.type "#Microsoft\.Media\.AudioAnalyzerPreset" is unknown for TransformPreset/,
    );
    fails('TransformSchema', transform({ presetName: 'H264SingleBitrate720p' }), /@odata\.type is missing for TransformPreset/);
  });

  it('matches property names case-insensitively and ignores unknown members', () => {
    fails('AssetSchema', { Properties: { AssetId: 'nope' } }, /AssetId: "nope" is not a Guid/);
    ok('AssetSchema', { somethingNew: { deeply: ['nested'] } });
  });

  it('reads TimeSpan as an ISO 8601 duration', () => {
    const models = dotnetModels();
    const [cls, prop] = Object.entries(models.classes)
      .flatMap(([name, c]) => Object.entries(c.properties).map(([p, t]) => [name, p, t] as const))
      .find(([, , t]) => t === 'TimeSpan?')!;
    ok(cls, { [prop]: 'PT1H30M' });
    fails(cls, { [prop]: '01:30:00' }, /not an ISO 8601 duration/);
  });

  it('writes a read object back as the client would (read-modify-write)', () => {
    const read = {
      name: 't',
      id: '/x',
      extra: 'dropped',
      properties: {
        created: '2024-05-01T10:00:00.123456Z',
        outputs: [
          {
            onError: null,
            preset: { '@odata.type': '#Microsoft.Media.BuiltInStandardEncoderPreset', presetName: 'h264singlebitrate720p' },
            relativePriority: 'normal',
          },
        ],
      },
      systemData: { createdBy: 'a@b.c', createdAt: '2024-05-01T10:00:00Z' },
    };
    assert.deepEqual(dotnetReserialize('TransformSchema', read), {
      id: '/x',
      name: 't',
      properties: {
        created: '2024-05-01T10:00:00.12Z',
        outputs: [
          { preset: { '@odata.type': '#Microsoft.Media.BuiltInStandardEncoderPreset', presetName: 'H264SingleBitrate720p' }, relativePriority: 'Normal' },
        ],
      },
      systemData: { createdAt: '2024-05-01T10:00:00.00Z', createdBy: 'a@b.c' },
    });
    assert.deepEqual(dotnetReserialize('StorageMetadataSchema', { id: '8B0F3A57-4D3B-4F3C-9D5E-1C1F6B2A9E01' }), {
      id: '8b0f3a57-4d3b-4f3c-9d5e-1c1f6b2a9e01',
    });
  });
});
