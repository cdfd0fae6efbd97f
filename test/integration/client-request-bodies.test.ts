import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { dialects, startTestServer, type TestServer } from '../support/server.js';
import { ApiClient, login, tokenFromSession } from '../support/api.js';
import os from 'node:os';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rsaPair, rsaTokenKey, symmetricKey, symmetricTokenKey, x509Pair, x509TokenKey } from '../support/token-keys.js';
import { azuriteSas, azuriteUrl } from '../support/services.js';

/**
 * Request bodies as MK.IO's official .NET client serializes its models (issue 14): Newtonsoft with
 * `NullValueHandling.Ignore` (unset members absent), enums by their names, `[DataContract]` models leaving out
 * enum members at their first value, dates as `yyyy-MM-ddTHH:mm:ss.ffZ`, time spans as ISO 8601 durations, GUIDs
 * in lower case, and objects fetched with a GET sent back whole. Each is sent as such (not checked against MK.IO's
 * request schema, which the client does not follow either) and the GET afterwards shows what was sent.
 */
type Json = Record<string, any>;

/** A .NET `DateTime` as the client's converter writes it. */
const netDate = (d: Date) => `${d.toISOString().slice(0, 22)}Z`;
const raw = { checkRequest: false } as const;

/** A PKCS #12 file made by openssl, as a FairPlay option needs. */
function pkcs12(): { pfx: string; password: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reel-net-pfx-'));
  try {
    const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'key.pem', '-out', 'cert.pem', '-subj', '/CN=reel-net', '-days', '2');
    const password = `pfx-${randomBytes(6).toString('hex')}`;
    run('pkcs12', '-export', '-inkey', 'key.pem', '-in', 'cert.pem', '-passout', `pass:${password}`, '-out', 'fp.pfx');
    return { pfx: fs.readFileSync(path.join(dir, 'fp.pfx')).toString('base64'), password };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('request bodies as the MK.IO .NET client builds them', () => {
  let server: TestServer;
  let api: ApiClient;
  let cookie: string;
  const V = '/api/v1/projects/default/media';

  before(async () => {
    server = await startTestServer('sqlite');
    cookie = await login(server.url, server.adminEmail, server.adminPassword);
    api = new ApiClient(server.url).withToken((await tokenFromSession(server.url, cookie)).token);
  });
  after(async () => server?.close());

  describe('streaming policies', () => {
    it('takes enabledProtocols without the obsolete smoothStreaming flag and stores the unset ones as false', async () => {
      const body = { properties: { noEncryption: { enabledProtocols: { dash: true, hls: true } } } };
      const put = await api.put(`${V}/streamingPolicies/net-clear`, body, raw);
      assert.equal(put.status, 201, put.text);
      const got = await api.get(`${V}/streamingPolicies/net-clear`);
      assert.deepEqual(got.body.properties.noEncryption.enabledProtocols, { dash: true, hls: true, download: false, smoothStreaming: false });
    });

    it('takes every encryption scheme with only the members the client sets', async () => {
      // Newtonsoft writes members in declaration order: the generated models are alphabetical.
      const body = {
        properties: {
          commonEncryptionCbcs: {
            drm: { fairPlay: { customLicenseAcquisitionUrlTemplate: 'https://fps.example/{ContentKeyId}' } },
            enabledProtocols: { hls: true },
          },
          commonEncryptionCenc: {
            clearTracks: [{ trackSelections: [{ operation: 'Equal', property: 'FourCC', value: 'mp4a' }] }],
            contentKeys: {
              defaultKey: { label: 'cenc-default' },
              // TrackPropertyCondition is a [DataContract]: Unknown (its enums' first value) is left out.
              keyToTrackMappings: [{ label: 'hd', tracks: [{ trackSelections: [{ value: 'avc1' }] }] }],
            },
            drm: { playReady: {}, widevine: {} },
            enabledProtocols: { dash: true },
          },
          envelopeEncryption: { enabledProtocols: { hls: true } },
        },
      };
      const put = await api.put(`${V}/streamingPolicies/net-drm`, body, raw);
      assert.equal(put.status, 201, put.text);
      const p = (await api.get(`${V}/streamingPolicies/net-drm`)).body.properties;
      assert.deepEqual(p.commonEncryptionCbcs.drm.fairPlay, {
        customLicenseAcquisitionUrlTemplate: 'https://fps.example/{ContentKeyId}',
        allowPersistentLicense: false,
      });
      assert.deepEqual(p.commonEncryptionCbcs.enabledProtocols, { download: false, dash: false, hls: true, smoothStreaming: false });
      assert.deepEqual(p.commonEncryptionCenc.clearTracks, body.properties.commonEncryptionCenc.clearTracks);
      assert.deepEqual(p.commonEncryptionCenc.contentKeys, {
        defaultKey: { label: 'cenc-default' },
        keyToTrackMappings: [{ label: 'hd', tracks: [{ trackSelections: [{ value: 'avc1', property: 'Unknown', operation: 'Unknown' }] }] }],
      });
      assert.deepEqual(p.commonEncryptionCenc.drm, { playReady: {}, widevine: {} });
      assert.equal(p.envelopeEncryption.enabledProtocols.hls, true);
    });

    it('answers a PUT on an existing custom policy with 409 (policies are immutable) and leaves it as it was', async () => {
      const again = await api.put(`${V}/streamingPolicies/net-clear`, { properties: { noEncryption: { enabledProtocols: { download: true } } } }, raw);
      assert.equal(again.status, 409);
      assert.match(again.body.error.detail, /cannot be changed: delete it and create it again/);
      assert.equal((await api.get(`${V}/streamingPolicies/net-clear`)).body.properties.noEncryption.enabledProtocols.download, false);
    });

    it('still refuses unknown members and misspelt protocols', async () => {
      for (const properties of [
        { noEncryption: { enabledProtocols: { hls: true, rtmp: true } } },
        { noEncryption: { enabledProtocols: { hls: true } }, unknownBlock: {} },
        { commonEncryptionCenc: { enabledProtocols: { dash: 'yes' } } },
      ]) {
        const res = await api.put(`${V}/streamingPolicies/net-bad`, { properties }, { ...raw, contract: false });
        assert.equal(res.status, 400, JSON.stringify(properties));
      }
      assert.equal((await api.get(`${V}/streamingPolicies/net-bad`, { contract: false })).status, 404);
    });
  });

  describe('assets, transforms and jobs', () => {
    before(async () => {
      // AssetsOperations.CreateOrUpdateAsync: labels only when given, the enum by name, no container when null.
      const asset = await api.put(
        `${V}/assets/net-source`,
        { properties: { alternateId: 'alt-1', containerDeletionPolicy: 'Retain', description: 'from .NET', storageAccountName: 'local' } },
        raw,
      );
      assert.equal(asset.status, 201, asset.text);
      const transform = await api.put(
        `${V}/transforms/net-720p`,
        {
          properties: {
            description: 'built-in',
            outputs: [
              {
                preset: { '@odata.type': '#Microsoft.Media.BuiltInStandardEncoderPreset', presetName: 'H264SingleBitrate720p' },
                relativePriority: 'Normal',
              },
            ],
          },
        },
        raw,
      );
      assert.equal(transform.status, 201, transform.text);
    });

    it('stores an asset as the client wrote it', async () => {
      const got = (await api.get(`${V}/assets/net-source`)).body;
      assert.equal(got.properties.alternateId, 'alt-1');
      assert.equal(got.properties.description, 'from .NET');
      assert.equal(got.properties.containerDeletionPolicy, 'Retain');
      // The GET body as AssetSchema holds it (read-only members included) sent back updates the description.
      const { id, name, type, systemData, properties } = got;
      const put = await api.put(
        `${V}/assets/net-source`,
        { id, labels: { team: 'video' }, name, properties: { ...properties, description: 'edited' }, systemData, type },
        raw,
      );
      assert.equal(put.status, 200, put.text);
      assert.equal((await api.get(`${V}/assets/net-source`)).body.properties.description, 'edited');
    });

    it('takes each preset the client models', async () => {
      const presets: Json[] = [
        { '@odata.type': '#Microsoft.Media.BuiltInStandardEncoderPreset', presetName: 'H264MultipleBitrate1080p' },
        { '@odata.type': '#Microsoft.Media.BuiltInStandardEncoderPreset', presetName: 'AACGoodQualityAudio' },
        { '@odata.type': '#Microsoft.Media.BuiltInAssetConverterPreset', presetName: 'CopyTopBitrateInterleaved' },
        {
          '@odata.type': '#MediaKind.ThumbnailGeneratorPreset',
          baseFilename: 'thumb',
          // ThumbnailGeneratorConfiguration's initial values are always written.
          thumbnails: [{ format: 'Jpeg', height: '180', label: 'small', quality: 70, range: '1', start: 'PT10S', step: '10%', width: '320' }],
        },
        {
          '@odata.type': '#MediaKind.ThumbnailGeneratorPreset',
          thumbnails: [{ format: 'Png', height: '90', quality: 70, range: '100%', spriteColumn: 5, start: '0', step: '10%', width: '160' }],
        },
      ];
      for (const [i, preset] of presets.entries()) {
        const put = await api.put(`${V}/transforms/net-preset-${i}`, { properties: { outputs: [{ preset, relativePriority: 'Low' }] } }, raw);
        assert.equal(put.status, 201, `${preset['@odata.type']}: ${put.text}`);
        const got = (await api.get(`${V}/transforms/net-preset-${i}`)).body.properties.outputs[0];
        assert.deepEqual(got.preset, preset);
        assert.equal(got.relativePriority, 'Low');
      }
    });

    it('refuses the presets Reel does not run with the reason, and keeps nothing', async () => {
      const presets: Array<[Json, RegExp]> = [
        [{ '@odata.type': '#MediaKind.EncoderPreset', config: { gop: '2' }, presetName: 'custom' }, /#MediaKind\.EncoderPreset .* is not supported/],
        [
          {
            '@odata.type': '#MediaKind.TrackInserterPreset',
            tracks: [{ '@odata.type': '#MediaKind.TextTrack', displayName: 'English', languageCode: 'en', playerVisibility: 'Visible' }],
          },
          /#MediaKind\.TrackInserterPreset .* is not supported/,
        ],
        [
          { '@odata.type': '#MediaKind.AIPipelinePreset', pipeline: { '@odata.type': '#MediaKind.VodPipelineArguments' } },
          /#MediaKind\.AIPipelinePreset .* is not supported/,
        ],
      ];
      for (const [preset, expected] of presets) {
        const res = await api.put(
          `${V}/transforms/net-unsupported`,
          { properties: { outputs: [{ preset, relativePriority: 'Normal' }] } },
          { ...raw, contract: false },
        );
        assert.equal(res.status, 400, res.text);
        assert.match(res.body.error.detail, expected);
      }
      assert.equal((await api.get(`${V}/transforms/net-unsupported`, { contract: false })).status, 404);
    });

    it('submits a job with inputDefinitions, and turns correlationData values that are not strings into text', async () => {
      const started = new Date();
      const body = {
        properties: {
          correlationData: { ticket: 42, urgent: true, owner: { team: 'video' }, note: 'plain', gone: null },
          description: 'client job',
          input: {
            '@odata.type': '#Microsoft.Media.JobInputAsset',
            assetName: 'net-source',
            files: ['*'],
            inputDefinitions: [
              // FromAllInputFile as the client's model writes it (with JobInputAsset's type), InputFile, FromEachInputFile.
              { '@odata.type': '#Microsoft.Media.JobInputAsset', includedTracks: [{ '@odata.type': 'VideoTrackDescriptor' }] },
              { '@odata.type': 'InputFile', filename: 'movie.mp4', includedTracks: [{ '@odata.type': 'AudioTrackDescriptor', channelMapping: 'StereoLeft' }] },
              { '@odata.type': 'FromEachInputFile', includedTracks: [{ '@odata.type': '#Microsoft.Media.AudioTrackDescriptor' }] },
            ],
            start: { '@odata.type': '#Microsoft.Media.AbsoluteClipTime', time: 'PT1.5S' },
          },
          outputs: [{ '@odata.type': '#Microsoft.Media.JobOutputAsset', assetName: 'net-out', progress: 0, state: 'Queued' }],
          priority: 'Normal',
          state: 'Queued',
        },
      };
      const put = await api.put(`${V}/transforms/net-720p/jobs/net-job`, body, raw);
      assert.equal(put.status, 201, put.text);
      const job = (await api.get(`${V}/transforms/net-720p/jobs/net-job`)).body;
      assert.deepEqual(job.properties.correlationData, { ticket: '42', urgent: 'true', owner: '{"team":"video"}', note: 'plain' });
      assert.deepEqual(job.properties.input, body.properties.input);
      assert.equal(job.properties.description, 'client job');
      assert.ok(Date.parse(job.properties.created) >= started.getTime() - 1000);

      // JobsOperations.UpdateAsync: the properties read back, edited, sent as a PATCH with their dates as .NET writes them.
      const props = structuredClone(job.properties);
      for (const k of ['created', 'lastModified']) props[k] = netDate(new Date(props[k]));
      props.description = 'edited';
      props.correlationData = { ticket: 43 };
      const patch = await api.patch(`${V}/transforms/net-720p/jobs/net-job`, { properties: props }, raw);
      assert.equal(patch.status, 200, patch.text);
      const patched = (await api.get(`${V}/transforms/net-720p/jobs/net-job`)).body.properties;
      assert.equal(patched.description, 'edited');
      assert.deepEqual(patched.correlationData, { ticket: '43' });

      // Read back through the client's models, the FromAllInputFile definition loses its tracks; the rest must not change.
      const echoed = structuredClone(job.properties.input);
      echoed.inputDefinitions[0] = { '@odata.type': '#Microsoft.Media.JobInputAsset' };
      const lossy = await api.patch(`${V}/transforms/net-720p/jobs/net-job`, { properties: { input: echoed, description: 'again' } }, raw);
      assert.equal(lossy.status, 200, lossy.text);
      assert.deepEqual((await api.get(`${V}/transforms/net-720p/jobs/net-job`)).body.properties.input, body.properties.input);
      // The worker reads the InputFile's file (files names only `*`); net-source holds none, so it names movie.mp4.
      let final: Json;
      for (;;) {
        final = (await api.get(`${V}/transforms/net-720p/jobs/net-job`)).body.properties;
        if (['Finished', 'Error', 'Canceled'].includes(final.state)) break;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      assert.equal(final.state, 'Error');
      assert.equal(final.outputs[0].error.code, 'DownloadNotAccessible');
      assert.match(final.outputs[0].error.message, /movie\.mp4/);

      echoed.inputDefinitions[1].filename = 'other.mp4';
      const changed = await api.patch(`${V}/transforms/net-720p/jobs/net-job`, { properties: { input: echoed } }, { ...raw, contract: false });
      assert.equal(changed.status, 400);
      assert.equal(changed.body.error.code, 'ImmutableProperty');
    });

    it('takes a JobInputHttp with inputDefinitions, and a transform PUT with the GET body sent back', async () => {
      const body = {
        properties: {
          input: {
            '@odata.type': '#Microsoft.Media.JobInputHttp',
            baseUri: 'https://media.example/',
            files: ['movie.mp4'],
            inputDefinitions: [{ '@odata.type': 'InputFile', filename: 'movie.mp4', includedTracks: [{ '@odata.type': 'VideoTrackDescriptor' }] }],
          },
          outputs: [{ '@odata.type': '#Microsoft.Media.JobOutputAsset', assetName: 'net-http-out', progress: 0, state: 'Queued' }],
          priority: 'Low',
          state: 'Queued',
        },
      };
      const put = await api.put(`${V}/transforms/net-720p/jobs/net-http-job`, body, raw);
      assert.equal(put.status, 201, put.text);
      assert.deepEqual((await api.get(`${V}/transforms/net-720p/jobs/net-http-job`)).body.properties.input, body.properties.input);

      const transform = (await api.get(`${V}/transforms/net-720p`)).body;
      const properties = { ...transform.properties, description: 'edited' };
      for (const k of ['created', 'lastModified']) properties[k] = netDate(new Date(properties[k]));
      const again = await api.put(`${V}/transforms/net-720p`, { id: transform.id, name: transform.name, properties, type: transform.type }, raw);
      assert.equal(again.status, 200, again.text);
      assert.equal((await api.get(`${V}/transforms/net-720p`)).body.properties.description, 'edited');
    });

    it('refuses track selections by id, language or bitrate by name, and unknown definition types', async () => {
      const input = (definition: Json) => ({
        properties: {
          input: { '@odata.type': '#Microsoft.Media.JobInputAsset', assetName: 'net-source', inputDefinitions: [definition] },
          outputs: [{ '@odata.type': '#Microsoft.Media.JobOutputAsset', assetName: 'net-out' }],
        },
      });
      const cases: Array<[Json, RegExp]> = [
        [
          { '@odata.type': 'FromAllInputFile', includedTracks: [{ '@odata.type': 'SelectAudioTrackById', trackId: 2 }] },
          /SelectAudioTrackById is not supported/,
        ],
        [
          {
            '@odata.type': 'InputFile',
            filename: 'a.mp4',
            includedTracks: [{ '@odata.type': 'SelectAudioTrackByAttribute', filter: 'Top', filterValue: 'en' }],
          },
          /SelectAudioTrackByAttribute is not supported/,
        ],
        [{ '@odata.type': 'InputFile' }, /filename is required/],
        [{ '@odata.type': 'InputClip', filename: 'a.mp4' }, /InputClip' is not supported/],
        [{ '@odata.type': 'InputFile', filename: 'a.mp4', extra: 1 }, /extra/],
      ];
      for (const [definition, expected] of cases) {
        const res = await api.put(`${V}/transforms/net-720p/jobs/net-refused`, input(definition), { ...raw, contract: false });
        assert.equal(res.status, 400, res.text);
        assert.match(res.body.error.detail, expected);
      }
      assert.equal((await api.get(`${V}/transforms/net-720p/jobs/net-refused`, { contract: false })).status, 404);
    });
  });

  describe('locators, content key policies and endpoints', () => {
    it('takes a content key policy with every option type as the client writes it', async () => {
      const rsa = rsaPair();
      const fairPlay = pkcs12();
      const body = {
        properties: {
          description: 'net',
          fairPlayAmsCompatibility: false,
          options: [
            {
              configuration: { '@odata.type': '#Microsoft.Media.ContentKeyPolicyClearKeyConfiguration' },
              name: 'clearkey',
              restriction: {
                '@odata.type': '#Microsoft.Media.ContentKeyPolicyTokenRestriction',
                alternateVerificationKeys: [rsaTokenKey(rsa.publicKey), x509TokenKey(x509Pair().der)],
                audience: 'urn:reel:test',
                issuer: 'https://issuer.example',
                primaryVerificationKey: symmetricTokenKey(symmetricKey()),
                requiredClaims: [{ claimType: 'urn:microsoft:azure:mediaservices:contentkeyidentifier' }],
                restrictionTokenType: 'Jwt',
              },
            },
            {
              configuration: {
                '@odata.type': '#Microsoft.Media.ContentKeyPolicyPlayReadyConfiguration',
                licenses: [
                  {
                    // ContentKeyPolicyPlayReadyLicense is no [DataContract]: its enums are always written, the unset bool? not.
                    beginDate: netDate(new Date('2030-01-01T00:00:00Z')),
                    contentKeyLocation: { '@odata.type': '#Microsoft.Media.ContentKeyPolicyPlayReadyContentEncryptionKeyFromHeader' },
                    contentType: 'Unspecified',
                    licenseType: 'NonPersistent',
                    // [DataContract] ContentKeyPolicyPlayReadyPlayRight: the enum at Unknown and unset booleans are left out.
                    playRight: { imageConstraintForAnalogComputerMonitorRestriction: true },
                    securityLevel: 'Unknown',
                  },
                ],
              },
              name: 'playready',
              restriction: { '@odata.type': '#Microsoft.Media.ContentKeyPolicyOpenRestriction' },
            },
            {
              // ContentKeyPolicyFairPlayConfiguration writes its enum and long even when unset (Unknown, 0).
              configuration: {
                '@odata.type': '#Microsoft.Media.ContentKeyPolicyFairPlayConfiguration',
                ask: randomBytes(16).toString('base64'),
                fairPlayPfx: fairPlay.pfx,
                fairPlayPfxPassword: fairPlay.password,
                rentalAndLeaseKeyType: 'Unknown',
                rentalDuration: 0,
              },
              name: 'fairplay',
              restriction: { '@odata.type': '#Microsoft.Media.ContentKeyPolicyOpenRestriction' },
            },
            {
              configuration: { '@odata.type': '#Microsoft.Media.ContentKeyPolicyWidevineConfiguration', widevineTemplate: '{}' },
              name: 'widevine',
              restriction: { '@odata.type': '#Microsoft.Media.ContentKeyPolicyOpenRestriction' },
            },
          ],
        },
      };
      const put = await api.put(`${V}/contentKeyPolicies/net-keys`, body, raw);
      assert.equal(put.status, 201, put.text);
      const got = (await api.get(`${V}/contentKeyPolicies/net-keys`)).body.properties;
      assert.deepEqual(
        got.options.map((o: Json) => o.name),
        ['clearkey', 'playready', 'fairplay', 'widevine'],
      );
      const license = got.options[1].configuration.licenses[0];
      assert.equal(license.securityLevel, 'Unknown');
      assert.equal(license.allowTestDevices, false);
      assert.deepEqual(license.playRight, {
        allowPassingVideoContentToUnknownOutput: 'Unknown',
        digitalVideoOnlyContentRestriction: false,
        imageConstraintForAnalogComponentVideoRestriction: false,
        imageConstraintForAnalogComputerMonitorRestriction: true,
      });
    });

    it('takes a locator with its GUID, dates and filters as the client writes them', async () => {
      const id = '5d6a4c1e-7b2a-4c3d-9e8f-102030405061';
      const endTime = netDate(new Date(Date.now() + 86_400_000));
      const body = {
        properties: {
          assetName: 'net-source',
          endTime,
          streamingLocatorId: id,
          streamingPolicyName: 'Predefined_ClearStreamingOnly',
        },
      };
      const put = await api.put(`${V}/streamingLocators/net-locator`, body, raw);
      assert.equal(put.status, 201, put.text);
      const got = (await api.get(`${V}/streamingLocators/net-locator`)).body.properties;
      assert.equal(got.streamingLocatorId, id);
      assert.equal(Date.parse(got.endTime), Date.parse(endTime));
    });

    it('takes a locator PUT again with the properties the client read back (dates as .NET writes them)', async () => {
      const got = (await api.get(`${V}/streamingLocators/net-locator`)).body.properties;
      const clientFields = [
        'alternativeMediaId',
        'assetName',
        'contentId',
        'contentKeys',
        'defaultContentKeyPolicyName',
        'defaultManifestFilename',
        'endTime',
        'filters',
        'startTime',
        'streamingLocatorId',
        'streamingPolicyName',
      ];
      const properties: Json = Object.fromEntries(Object.entries(got).filter(([k, v]) => v !== null && clientFields.includes(k)));
      for (const k of ['endTime', 'startTime']) if (properties[k]) properties[k] = netDate(new Date(properties[k]));
      const again = await api.put(`${V}/streamingLocators/net-locator`, { properties }, raw);
      assert.equal(again.status, 200, again.text);
    });

    it('takes locator content keys without a type (the client never writes CommonEncryptionCenc) and filters', async () => {
      const keyId = '6e7b5d2f-8c3b-4d4e-af90-203040506070';
      const body = {
        properties: {
          // StreamingLocatorContentKey is a [DataContract]: type CommonEncryptionCenc (0) is left out.
          contentKeys: [{ id: keyId, labelReferenceInStreamingPolicy: 'cencDefaultKey', value: Buffer.alloc(16, 7).toString('base64') }],
          assetName: 'net-source',
          filters: [],
          streamingPolicyName: 'Predefined_MultiDrmStreaming',
        },
      };
      const put = await api.put(`${V}/streamingLocators/net-drm-locator`, body, raw);
      assert.equal(put.status, 201, put.text);
      const keys = (await api.post(`${V}/streamingLocators/net-drm-locator/listContentKeys`)).body.contentKeys;
      const cenc = keys.find((k: Json) => k.id === keyId);
      assert.equal(cenc.type, 'CommonEncryptionCenc');
      assert.equal(cenc.value, body.properties.contentKeys[0].value);
      assert.equal(keys.filter((k: Json) => k.type === 'CommonEncryptionCbcs').length, 1, 'the CBCS key is generated');
      // Sent again as read back (keys without values, CENC's type left out by the client's model): the same locator.
      const read = (await api.get(`${V}/streamingLocators/net-drm-locator`)).body.properties;
      const echoedKeys = read.contentKeys.map(({ type, ...rest }: Json) => (type === 'CommonEncryptionCenc' ? rest : { type, ...rest }));
      const again = await api.put(
        `${V}/streamingLocators/net-drm-locator`,
        {
          properties: {
            assetName: read.assetName,
            contentKeys: echoedKeys,
            streamingLocatorId: read.streamingLocatorId,
            streamingPolicyName: read.streamingPolicyName,
          },
        },
        raw,
      );
      assert.equal(again.status, 200, again.text);

      // Without CENC in the policy and without a label naming the scheme, a key's type cannot be guessed.
      const policy = { properties: { commonEncryptionCbcs: { enabledProtocols: { hls: true } }, envelopeEncryption: { enabledProtocols: { hls: true } } } };
      assert.equal((await api.put(`${V}/streamingPolicies/net-cbcs-aes`, policy, raw)).status, 201);
      const unknown = await api.put(
        `${V}/streamingLocators/net-untyped`,
        { properties: { assetName: 'net-source', contentKeys: [{ id: '7f8c6e3a-9d4c-4e5f-b0a1-304050607080' }], streamingPolicyName: 'net-cbcs-aes' } },
        { ...raw, contract: false },
      );
      assert.equal(unknown.status, 400);
      assert.match(unknown.body.error.detail, /contentKeys\[0\]\.type is required/);
      const labelled = await api.put(
        `${V}/streamingLocators/net-labelled`,
        {
          properties: {
            assetName: 'net-source',
            contentKeys: [{ id: '8a9d7f4b-0e5d-4f60-b1b2-405060708090', labelReferenceInStreamingPolicy: 'cbcsDefaultKey' }],
            streamingPolicyName: 'net-cbcs-aes',
          },
        },
        raw,
      );
      assert.equal(labelled.status, 201, labelled.text);
    });

    it('takes a streaming endpoint, its PATCH and scale as the client writes them', async () => {
      const body = {
        location: 'local',
        properties: {
          accessControl: { ip: { allow: [{ address: '0.0.0.0', name: 'all', subnetPrefixLength: 0 }] } },
          cdnEnabled: false,
          description: 'net',
          maxCacheAge: 300,
          scaleUnits: 0,
          // StreamingEndpointsCurrentSku: capacity has an initial value, so it is written; name Standard (the
          // enum's first value in a [DataContract] model) is not.
          sku: { capacity: 600 },
        },
        tags: {},
      };
      const put = await api.put(`${V}/streamingEndpoints/net-se`, body, raw);
      assert.equal(put.status, 201, put.text);
      const got = (await api.get(`${V}/streamingEndpoints/net-se`)).body;
      assert.equal(got.properties.description, 'net');
      assert.equal(got.properties.maxCacheAge, 300);
      // StreamingEndpointsOperations.UpdateAsync with the properties a GET gave (read-only members and .NET dates included).
      const kept = ['accessControl', 'cdnEnabled', 'cdnProfile', 'created', 'crossSiteAccessPolicies', 'customHostNames', 'description', 'hostName'];
      const readBack: Json = Object.fromEntries(
        Object.entries(got.properties).filter(
          ([k, v]) => v !== null && [...kept, 'lastModified', 'maxCacheAge', 'provisioningState', 'resourceState', 'scaleUnits', 'sku'].includes(k),
        ),
      );
      for (const k of ['created', 'lastModified']) if (readBack[k]) readBack[k] = netDate(new Date(readBack[k]));
      readBack.description = 'edited';
      const patch = await api.patch(`${V}/streamingEndpoints/net-se`, { location: got.location, properties: readBack, tags: got.tags ?? {} }, raw);
      assert.equal(patch.status, 200, patch.text);
      assert.equal((await api.get(`${V}/streamingEndpoints/net-se`)).body.properties.description, 'edited');
      const scale = await api.post(`${V}/streamingEndpoints/net-se/scale`, { scaleUnit: 1 }, raw);
      assert.ok(scale.status < 300, scale.text);
    });
  });

  describe('profile and tokens', () => {
    it('takes the whole profile a GET returned back in a PATCH, and refuses changes to its read-only fields', async () => {
      const browser = new ApiClient(server.url, { cookie });
      const profile = (await browser.get('/api/v1/user/profile')).body;
      const edited = structuredClone(profile);
      edited.spec.name = 'Renamed Admin';
      const patch = await browser.patch('/api/v1/user/profile', edited, raw);
      assert.equal(patch.status, 200, patch.text);
      assert.equal((await browser.get('/api/v1/user/profile')).body.spec.name, 'Renamed Admin');
      for (const [field, value] of [
        ['loginEmail', 'someone@else.example'],
        ['isActive', false],
        ['company', 'ACME'],
      ] as const) {
        const bad = structuredClone(profile);
        bad.spec[field] = value;
        const res = await browser.patch('/api/v1/user/profile', bad, { ...raw, contract: false });
        assert.equal(res.status, 400, `${field}: ${res.text}`);
        assert.match(res.body.error.detail, new RegExp(`spec\\.${field}`));
      }
      const other = structuredClone(profile);
      other.metadata.id = '00000000-0000-0000-0000-000000000000';
      assert.equal((await browser.patch('/api/v1/user/profile', other, { ...raw, contract: false })).status, 400);
    });

    it('creates a token from CreateTokenSchema as the client writes it', async () => {
      const browser = new ApiClient(server.url, { cookie });
      const orgId = (await browser.get('/api/v1/user/profile')).body.spec.activeOrganizationId as string;
      const expireDate = netDate(new Date(Date.now() + 3_600_000));
      const res = await browser.post('/api/v1/user/tokens', { description: 'net', expireDate, organizationId: orgId, type: 'full-access' }, raw);
      assert.equal(res.status, 201, res.text);
      assert.equal(res.body.spec.description, 'net');
    });
  });
});

for (const dialect of dialects) {
  describe(`storage bodies as the .NET client builds them (${dialect})`, () => {
    let server: TestServer;
    let api: ApiClient;
    const V = '/api/v1/projects/default/media';

    before(async () => {
      server = await startTestServer(dialect);
      const cookie = await login(server.url, server.adminEmail, server.adminPassword);
      api = new ApiClient(server.url).withToken((await tokenFromSession(server.url, cookie)).token);
    });
    after(async () => server?.close());

    it('takes spec.type in a v1 PATCH when it names the account type, and refuses a change of type', async () => {
      const dir = path.join(server.localArea(), 'net-storage');
      fs.mkdirSync(dir, { recursive: true });
      assert.equal((await api.put(`${V}/storage/net-local`, { spec: { type: 'Local', path: dir } }, { contract: false })).status, 201);
      const patch = await api.patch(`${V}/storage/net-local`, { spec: { type: 'Local', description: 'patched' } }, { ...raw, contract: false });
      assert.equal(patch.status, 200, patch.text);
      assert.equal((await api.get(`${V}/storage/net-local`, { contract: false })).body.spec.description, 'patched');
      const changed = await api.patch(`${V}/storage/net-local`, { spec: { type: 'AWS.S3', description: 'x' } }, { ...raw, contract: false });
      assert.equal(changed.status, 400);
      assert.match(changed.body.error.detail, /spec\.type cannot be changed/);
      assert.equal((await api.get(`${V}/storage/net-local`, { contract: false })).body.spec.description, 'patched');
    });

    it('creates legacy Azure storage and a credential from StorageSchema and CredentialSchema as the client writes them', async () => {
      const stats = await api.get('/api/ams/default/stats/', { contract: false });
      const orgId = (await api.get('/api/v1/user/profile')).body.spec.activeOrganizationId as string;
      const base = `/api/accounts/${orgId}/subscriptions/${stats.body.extra.subscription_id as string}/storage/`;
      // StorageAccountsOperations.CreateAsync sets type; the sample passes the SAS URL as the url.
      const spec = {
        azureStorageConfiguration: { url: `${azuriteUrl()}/${azuriteSas()}` },
        description: 'net azure',
        location: 'francecentral',
        name: 'net-azure',
        type: 'Microsoft.Storage',
      };
      const created = await api.post(base, { spec }, { contract: false });
      assert.equal(created.status, 201, created.text);
      const id = created.body.metadata.id as string;
      assert.equal((await api.get(`${V}/storage/net-azure`, { contract: false })).body.spec.description, 'net azure');
      const credential = await api.post(`${base}${id}/credentials/`, { spec: { azureCredential: { sasToken: azuriteSas() } } }, { contract: false });
      assert.equal(credential.status, 201, credential.text);
      // UpdateAsync: PUT of the spec read back (azureStorageConfiguration with its null private link left out).
      const read = (await api.get(`${base}${id}/`, { contract: false })).body.spec;
      const update = {
        azureStorageConfiguration: { url: read.azureStorageConfiguration.url },
        description: 'edited',
        location: read.location,
        name: read.name,
        type: read.type,
      };
      const put = await api.put(`${base}${id}/`, { spec: update }, { contract: false });
      assert.equal(put.status, 200, put.text);
      assert.equal(put.body.spec.description, 'edited');
    });

    it('takes the legacy update (PUT) and PATCH with the spec the client read, whatever the account type', async () => {
      const stats = await api.get('/api/ams/default/stats/', { contract: false });
      const subscriptionId = stats.body.extra.subscription_id as string;
      const orgId = stats.body.extra.customer_id ?? (await api.get('/api/v1/user/profile')).body.spec.activeOrganizationId;
      const base = `/api/accounts/${orgId}/subscriptions/${subscriptionId}/storage/`;
      const listed = await api.get(base, { contract: false });
      assert.equal(listed.status, 200, listed.text);
      const account = listed.body.items.find((s: Json) => s.spec.name === 'net-local');
      // StorageSchema keeps name, type, location, description (and azureStorageConfiguration, null here).
      const spec = { description: 'legacy put', location: account.spec.location, name: 'net-local', type: account.spec.type };
      const put = await api.put(`${base}${account.metadata.id}/`, { spec }, { contract: false });
      assert.equal(put.status, 200, put.text);
      assert.equal(put.body.spec.description, 'legacy put');
      const patch = await api.patch(`${base}${account.metadata.id}/`, { spec: { type: account.spec.type, description: 'legacy patch' } }, { contract: false });
      assert.equal(patch.status, 200, patch.text);
      assert.equal((await api.get(`${V}/storage/net-local`, { contract: false })).body.spec.description, 'legacy patch');
      const renamed = await api.put(`${base}${account.metadata.id}/`, { spec: { ...spec, name: 'other' } }, { contract: false });
      assert.equal(renamed.status, 400);
      const retyped = await api.patch(`${base}${account.metadata.id}/`, { spec: { type: 'Microsoft.Storage' } }, { contract: false });
      assert.equal(retyped.status, 400);
    });
  });
}
