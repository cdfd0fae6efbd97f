import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { dialects, startTestServer, type TestServer } from '../support/server.js';
import { ApiClient, login, tokenFromSession } from '../support/api.js';
import { request } from '../support/http.js';
import { makeMp4 } from '../fixtures/media.js';
import { AccountService } from '../../src/control/auth/account-service.js';

// Encodes run in the worker inside this test process; media files are made by ffmpeg before any server starts.
const shortSource = makeMp4({ seconds: 4, width: 640, height: 360 });
const longSource = makeMp4({ seconds: 60, width: 1280, height: 720 });

const encoderPreset = (presetName: string) => ({ '@odata.type': '#Microsoft.Media.BuiltInStandardEncoderPreset', presetName });
const jobBody = (assetName: string, outputAssetName: string, extra: Record<string, unknown> = {}) => ({
  properties: {
    input: { '@odata.type': '#Microsoft.Media.JobInputAsset', assetName, files: ['*'] },
    outputs: [{ '@odata.type': '#Microsoft.Media.JobOutputAsset', assetName: outputAssetName }],
    ...extra,
  },
});

type Job = {
  name: string;
  properties: {
    state: string;
    startTime: string | null;
    endTime: string | null;
    outputs: Array<{
      state: string;
      progress: number;
      label: string;
      assetName: string;
      error?: { code: string; message: string; category: string; retry: string };
    }>;
  };
};

/** Polls a job (each response checked against MK.IO's Job schema by ApiClient) until `done` holds. */
async function pollJob(api: ApiClient, jobPath: string, done: (job: Job) => boolean, seen: Set<string> = new Set()): Promise<Job> {
  // A safety net against a hung suite, not a performance threshold.
  const deadline = Date.now() + 15 * 60_000;
  for (;;) {
    const res = await api.get<Job>(jobPath);
    assert.equal(res.status, 200, res.text);
    seen.add(res.body.properties.state);
    if (done(res.body)) return res.body;
    if (Date.now() > deadline) assert.fail(`job never got there: ${res.text}`);
    await sleep(200);
  }
}

const isFinal = (job: Job) => ['Finished', 'Error', 'Canceled'].includes(job.properties.state);

for (const dialect of dialects) {
  describe(`transforms and encoding jobs on ${dialect}`, () => {
    let server: TestServer;
    let api: ApiClient;
    const V = '/api/v1/projects/default/media';
    const L = '/api/ams/default';
    let vodRoot: string;

    before(async () => {
      server = await startTestServer(dialect);
      const cookie = await login(server.url, server.adminEmail, server.adminPassword);
      api = new ApiClient(server.url).withToken((await tokenFromSession(server.url, cookie)).token);
      // A migrated AMS container: the source file sits in the Local account's container before the asset exists.
      vodRoot = path.join(server.localArea(), 'vod');
      for (const [dir, file, content] of [
        ['short', 'source.mp4', shortSource],
        ['long', 'long.mp4', longSource],
      ] as const) {
        fs.mkdirSync(path.join(vodRoot, dir), { recursive: true });
        fs.copyFileSync(content, path.join(vodRoot, dir, file));
      }
      fs.mkdirSync(path.join(vodRoot, 'broken'), { recursive: true });
      // Not media at all: ffmpeg must refuse it and say why.
      fs.writeFileSync(path.join(vodRoot, 'broken', 'broken.mp4'), Buffer.alloc(64 * 1024, 0x5a));
      assert.equal((await api.put(`${V}/storage/vod`, { spec: { type: 'Local', path: vodRoot } }, { contract: false })).status, 201);
      for (const [asset, container] of [
        ['short', 'short'],
        ['long', 'long'],
        ['broken', 'broken'],
      ]) {
        const res = await api.put(`${V}/assets/${asset}`, { properties: { storageAccountName: 'vod', container } });
        assert.equal(res.status, 201, res.text);
      }
    });
    after(async () => {
      await server?.close();
    });

    it('creates, reads, updates, lists and deletes transforms at both prefixes, refusing bad bodies with the reason', async () => {
      const body = { properties: { description: 'SD ladder', outputs: [{ preset: encoderPreset('H264MultipleBitrateSD') }] } };
      const created = await api.put(`${V}/transforms/sd`, body);
      assert.equal(created.status, 201, created.text);
      assert.equal(created.body.type, 'Microsoft.Media/mediaservices/transforms');
      assert.equal(created.body.name, 'sd');
      assert.deepEqual(created.body.properties.outputs, [
        { preset: encoderPreset('H264MultipleBitrateSD'), onError: 'StopProcessingJob', relativePriority: 'Normal' },
      ]);
      assert.match(created.body.properties.created, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
      assert.match(created.body.id, /\/providers\/Microsoft\.Media\/mediaservices\/default\/transforms\/sd$/);
      assert.equal(created.body.systemData.createdBy, server.adminEmail);

      const legacy = await api.get(`${L}/transforms/sd`);
      assert.equal(legacy.status, 200);
      assert.deepEqual(legacy.body, created.body);

      const updated = await api.put(`${L}/transforms/sd`, {
        properties: { outputs: [{ preset: encoderPreset('H264SingleBitrateSD'), onError: 'ContinueJob', relativePriority: 'High' }] },
      });
      assert.equal(updated.status, 200, updated.text);
      assert.equal(updated.body.properties.description, 'SD ladder', 'PUT without description keeps it');
      assert.equal(updated.body.properties.outputs[0].preset.presetName, 'H264SingleBitrateSD');
      assert.equal(updated.body.properties.outputs[0].onError, 'ContinueJob');

      assert.equal((await api.put(`${V}/transforms/audio`, { properties: { outputs: [{ preset: encoderPreset('AACGoodQualityAudio') }] } })).status, 201);
      const list = await api.get(`${V}/transforms?$orderby=name desc`);
      assert.deepEqual(
        list.body.value.map((t: { name: string }) => t.name),
        ['sd', 'audio'],
      );
      assert.equal(list.body.supplemental.kind, 'Transform');
      const filtered = await api.get(`${L}/transforms?$filter=name eq 'audio'`);
      assert.deepEqual(
        filtered.body.value.map((t: { name: string }) => t.name),
        ['audio'],
      );
      const paged = await api.get(`${V}/transforms?$top=1`);
      assert.equal(paged.body.value.length, 1);
      assert.ok(paged.body['@odata.nextLink']);
      assert.equal((await api.get(`${V}/transforms?$filter=properties/outputs eq 'x'`)).status, 400);

      const badPreset = await api.put(`${V}/transforms/bad`, { properties: { outputs: [{ preset: encoderPreset('H264NoSuchLadder') }] } });
      assert.equal(badPreset.status, 400);
      assert.equal(badPreset.body.error.code, 'ValidationError');
      assert.match(badPreset.body.error.detail, /H264NoSuchLadder/);
      const unknownType = await api.put(
        `${V}/transforms/bad`,
        { properties: { outputs: [{ preset: { '@odata.type': '#Microsoft.Media.VideoAnalyzerPreset' } }] } },
        { checkRequest: false },
      );
      assert.equal(unknownType.status, 400);
      assert.match(unknownType.body.error.detail, /VideoAnalyzerPreset/);
      const unknownProperty = await api.put(
        `${V}/transforms/bad`,
        { properties: { outputs: [{ preset: encoderPreset('H264SingleBitrateSD'), colour: 'red' }] } },
        { checkRequest: false },
      );
      assert.equal(unknownProperty.status, 400);
      assert.match(unknownProperty.body.error.detail, /colour/);
      const two = await api.put(`${V}/transforms/bad`, {
        properties: { outputs: [{ preset: encoderPreset('H264SingleBitrateSD') }, { preset: encoderPreset('AACGoodQualityAudio') }] },
      });
      assert.equal(two.status, 400);
      assert.match(two.body.error.detail, /exactly one output/);
      const none = await api.put(`${V}/transforms/bad`, { properties: { outputs: [] } });
      assert.equal(none.status, 400);
      const badEnum = await api.put(
        `${V}/transforms/bad`,
        { properties: { outputs: [{ preset: encoderPreset('H264SingleBitrateSD'), onError: 'Explode' }] } },
        { checkRequest: false },
      );
      assert.equal(badEnum.status, 400);
      assert.equal((await api.get(`${V}/transforms/bad`)).status, 404);

      assert.equal((await api.delete(`${V}/transforms/audio`)).status, 200);
      assert.equal((await api.delete(`${L}/transforms/audio`)).status, 204);
      assert.equal((await api.get(`${V}/transforms/audio`)).status, 404);
    });

    it('runs a job on a migrated asset to Finished, into an output asset it creates, and the origin plays the result', async () => {
      assert.equal((await api.put(`${V}/transforms/ladder`, { properties: { outputs: [{ preset: encoderPreset('H264MultipleBitrateSD') }] } })).status, 201);
      const submitted = await api.put(
        `${V}/transforms/ladder/jobs/first-job`,
        jobBody('short', 'short-encoded', { description: 'first', correlationData: { ticket: '42' } }),
      );
      assert.equal(submitted.status, 201, submitted.text);
      assert.equal(submitted.body.type, 'Microsoft.Media/mediaservices/transforms/jobs');
      assert.match(submitted.body.id, /\/transforms\/ladder\/jobs\/first-job$/);
      assert.ok(['Queued', 'Scheduled', 'Processing'].includes(submitted.body.properties.state));
      assert.equal(submitted.body.properties.priority, 'Normal');
      assert.deepEqual(submitted.body.properties.correlationData, { ticket: '42' });
      assert.equal(submitted.body.properties.outputs[0].label, 'BuiltInStandardEncoderPreset_0');
      assert.equal((await api.get(`${V}/assets/short-encoded`)).status, 200, 'the output asset was created at submission');
      assert.equal((await api.put(`${V}/transforms/ladder/jobs/first-job`, jobBody('short', 'short-encoded'))).status, 409);

      const seen = new Set<string>([submitted.body.properties.state]);
      let maxProgress = 0;
      const job = await pollJob(
        api,
        `${V}/transforms/ladder/jobs/first-job`,
        (j) => {
          maxProgress = Math.max(maxProgress, j.properties.outputs[0].progress);
          return isFinal(j);
        },
        seen,
      );
      assert.equal(job.properties.state, 'Finished', JSON.stringify(job));
      assert.equal(job.properties.outputs[0].state, 'Finished');
      assert.equal(job.properties.outputs[0].progress, 100);
      assert.ok(job.properties.startTime && job.properties.endTime && job.properties.endTime >= job.properties.startTime);
      assert.ok(seen.has('Finished'));
      assert.equal((await api.get(`${V}/transforms/ladder/jobs/first-job/state`)).body.status.state, 'Finished');

      const listing = await api.get(`${V}/assets/short-encoded/storage/`);
      assert.equal(listing.status, 200, listing.text);
      const files: string[] = listing.body.spec.files.map((f: { name: string }) => f.name);
      const ism = files.find((f) => f.endsWith('.ism'));
      assert.ok(ism, `no .ism among ${files.join(', ')}`);
      const videos = listing.body.spec.tracks[ism].body.video as Array<{ src: string; systemBitrate: string }>;
      assert.ok(videos.length >= 1);
      for (const v of videos) assert.ok(files.includes(v.src), `${v.src} named by the .ism is in the container`);
      assert.deepEqual(listing.body.spec.error, {});

      // Playback of the output through the origin.
      const locatorId = dialect === 'sqlite' ? '0b5d4c3e-aaaa-4bbb-8ccc-000000000001' : '0b5d4c3e-aaaa-4bbb-8ccc-000000000002';
      assert.equal(
        (
          await api.put(`${V}/streamingLocators/encoded`, {
            properties: { assetName: 'short-encoded', streamingPolicyName: 'Predefined_ClearStreamingOnly', streamingLocatorId: locatorId },
          })
        ).status,
        201,
      );
      const base = `${server.url}/${locatorId}/${encodeURIComponent(ism.slice(0, -4))}.ism`;
      const master = await request(`${base}/manifest(format=m3u8-cmaf)`);
      assert.equal(master.status, 200, master.body.toString());
      const variants = master.body
        .toString()
        .split('\n')
        .filter((l) => l && !l.startsWith('#') && l.includes('QualityLevels'));
      // Every video rendition the .ism names is a variant of the master playlist.
      const streams = master.body
        .toString()
        .split('\n')
        .filter((l) => l.startsWith('#EXT-X-STREAM-INF') && l.includes('RESOLUTION='));
      assert.equal(streams.length, videos.length, master.body.toString());
      for (const v of videos)
        assert.ok(
          variants.some((u) => u.startsWith(`QualityLevels(${v.systemBitrate})/`)),
          `rendition ${v.src} in ${master.body.toString()}`,
        );
      const playlistUrl = `${base}/${variants[0]}`;
      const playlist = (await request(playlistUrl)).body.toString();
      const segment = playlist.split('\n').find((l) => l && !l.startsWith('#'));
      assert.ok(segment, playlist);
      const media = await request(new URL(segment, playlistUrl).toString());
      assert.equal(media.status, 200);
      assert.equal(media.headers['content-type'], 'video/mp4');
      assert.ok(media.body.length > 0);
    });

    it("runs a JobInputHttp job from a URL, with a SAS-style query on baseUri, into an output asset of the project's first storage account", async () => {
      const access = await api.post(`${V}/assets/short/getFileAccessInfo`);
      assert.equal(access.status, 200, access.text);
      const input = { '@odata.type': '#Microsoft.Media.JobInputHttp', baseUri: `${access.body.url}?token=${access.body.jwt}`, files: ['source.mp4'] };
      const submitted = await api.put(`${V}/transforms/ladder/jobs/from-http`, {
        properties: { input, outputs: [{ '@odata.type': '#Microsoft.Media.JobOutputAsset', assetName: 'http-encoded', label: 'web' }] },
      });
      assert.equal(submitted.status, 201, submitted.text);
      assert.equal(submitted.body.properties.outputs[0].label, 'web');
      assert.deepEqual(submitted.body.properties.input, input);
      const job = await pollJob(api, `${V}/transforms/ladder/jobs/from-http`, isFinal);
      assert.equal(job.properties.state, 'Finished', JSON.stringify(job));
      const asset = await api.get(`${V}/assets/http-encoded`);
      assert.equal(asset.body.properties.storageAccountName, 'local');
      const files = (await api.get(`${V}/assets/http-encoded/storage/`)).body.spec.files.map((f: { name: string }) => f.name) as string[];
      assert.ok(
        files.some((f) => f.endsWith('.ism')),
        files.join(', '),
      );
    });

    it('refuses submissions it cannot run, naming the problem', async () => {
      const missingAsset = await api.put(`${V}/transforms/ladder/jobs/nope`, jobBody('no-such-asset', 'whatever'));
      assert.equal(missingAsset.status, 400);
      assert.equal(missingAsset.body.error.code, 'AssetNotFound');
      assert.match(missingAsset.body.error.detail, /not found/);
      assert.equal((await api.get(`${V}/assets/whatever`)).status, 404, 'no output asset made for a refused job');
      const missingTransform = await api.put(`${V}/transforms/no-such-transform/jobs/nope`, jobBody('short', 'whatever'));
      assert.equal(missingTransform.status, 404);
      assert.match(missingTransform.body.error.detail, /not found/);
      const badName = await api.put(`${V}/transforms/ladder/jobs/-bad-`, jobBody('short', 'whatever'), { checkRequest: false });
      assert.equal(badName.status, 400);
      const twoOutputs = await api.put(`${V}/transforms/ladder/jobs/two`, {
        properties: {
          ...jobBody('short', 'a').properties,
          outputs: [
            { '@odata.type': '#Microsoft.Media.JobOutputAsset', assetName: 'a' },
            { '@odata.type': '#Microsoft.Media.JobOutputAsset', assetName: 'b' },
          ],
        },
      });
      assert.equal(twoOutputs.status, 400);
      const badInput = await api.put(
        `${V}/transforms/ladder/jobs/bad-input`,
        { properties: { ...jobBody('short', 'a').properties, input: { '@odata.type': '#Microsoft.Media.JobInputAsset', assetName: 'short', volume: 11 } } },
        { checkRequest: false },
      );
      assert.equal(badInput.status, 400);
      assert.match(badInput.body.error.detail, /volume/);
      const badClip = await api.put(`${V}/transforms/ladder/jobs/bad-clip`, {
        properties: {
          ...jobBody('short', 'a').properties,
          input: {
            '@odata.type': '#Microsoft.Media.JobInputAsset',
            assetName: 'short',
            start: { '@odata.type': '#Microsoft.Media.AbsoluteClipTime', time: 'PT10S' },
            end: { '@odata.type': '#Microsoft.Media.AbsoluteClipTime', time: 'PT5S' },
          },
        },
      });
      assert.equal(badClip.status, 400);
      const fileUri = await api.put(`${V}/transforms/ladder/jobs/file-uri`, {
        properties: { ...jobBody('short', 'a').properties, input: { '@odata.type': '#Microsoft.Media.JobInputHttp', files: ['file:///etc/passwd'] } },
      });
      assert.equal(fileUri.status, 400, 'only http(s) inputs');
    });

    it('refuses a JobInputHttp URL that leads to this machine or a private network (cloud metadata, databases)', async () => {
      for (const [name, baseUri] of [
        ['to-metadata', 'http://169.254.169.254/latest/'],
        ['to-loopback', 'http://127.0.0.1:1/'],
      ] as const) {
        const input = { '@odata.type': '#Microsoft.Media.JobInputHttp', baseUri, files: ['movie.mp4'] };
        const submitted = await api.put(`${V}/transforms/ladder/jobs/${name}`, {
          properties: { input, outputs: [{ '@odata.type': '#Microsoft.Media.JobOutputAsset', assetName: `${name}-out` }] },
        });
        assert.equal(submitted.status, 201, submitted.text);
        const job = await pollJob(api, `${V}/transforms/ladder/jobs/${name}`, isFinal);
        assert.equal(job.properties.state, 'Error', JSON.stringify(job));
        assert.equal(job.properties.outputs[0].error?.code, 'DownloadNotAccessible');
        assert.match(job.properties.outputs[0].error?.message ?? '', /private address/);
        // Leave the job lists to the tests below as they expect them.
        assert.equal((await api.delete(`${V}/transforms/ladder/jobs/${name}`)).status, 200);
      }
    });

    it("ends a job on a corrupt input in Error with ContentMalformed and ffmpeg's reason", async () => {
      const submitted = await api.put(`${L}/transforms/ladder/jobs/corrupt`, jobBody('broken', 'broken-encoded'));
      assert.equal(submitted.status, 201, submitted.text);
      const job = await pollJob(api, `${L}/transforms/ladder/jobs/corrupt`, isFinal);
      assert.equal(job.properties.state, 'Error', JSON.stringify(job));
      const error = job.properties.outputs[0].error;
      assert.ok(error);
      assert.equal(error.code, 'ContentMalformed');
      assert.equal(error.category, 'Content');
      assert.equal(error.retry, 'DoNotRetry');
      assert.match(error.message, /invalid data|moov atom|could not find|error/i);
      assert.doesNotMatch(error.message, /token=/, 'no signed URL in the message');
      const listing = await api.get(`${V}/assets/broken-encoded/storage/`);
      assert.deepEqual(listing.body.spec.files, [], 'a failed job leaves no files');
    });

    it("takes AMS presets beyond MK.IO's schema (StandardEncoderPreset, AdaptiveStreaming), checked without the MK.IO contract", async () => {
      // MK.IO's OpenAPI knows neither preset (docs/MKIO-DIFFERENCES.md): these transform bodies are Reel extensions.
      const preset = {
        '@odata.type': '#Microsoft.Media.StandardEncoderPreset',
        codecs: [
          { '@odata.type': '#Microsoft.Media.AacAudio', channels: 2, samplingRate: 48000, bitrate: 96000, profile: 'AacLc' },
          {
            '@odata.type': '#Microsoft.Media.H264Video',
            keyFrameInterval: 'PT2S',
            layers: [{ '@odata.type': '#Microsoft.Media.H264Layer', bitrate: 300000, width: '320', height: '180', label: 'small' }],
          },
        ],
        formats: [{ '@odata.type': '#Microsoft.Media.Mp4Format', filenamePattern: 'Custom-{Basename}-{Label}-{Bitrate}{Extension}' }],
      };
      const created = await api.put(`${V}/transforms/ams-custom`, { properties: { outputs: [{ preset }] } }, { contract: false });
      assert.equal(created.status, 201, created.text);
      assert.deepEqual(created.body.properties.outputs[0].preset, preset);
      assert.deepEqual((await api.get(`${L}/transforms/ams-custom`, { contract: false })).body, created.body);
      const adaptive = await api.put(`${V}/transforms/ams-adaptive`, { properties: { outputs: [{ preset: encoderPreset('AdaptiveStreaming') }] } });
      assert.equal(adaptive.status, 201, adaptive.text);
      assert.equal((await api.delete(`${V}/transforms/ams-adaptive`)).status, 200);
      const badCodec = await api.put(
        `${V}/transforms/ams-bad`,
        { properties: { outputs: [{ preset: { ...preset, codecs: [{ '@odata.type': '#Microsoft.Media.Vp9Video' }] } }] } },
        { contract: false },
      );
      assert.equal(badCodec.status, 400, badCodec.text);
      assert.match(badCodec.body.error.detail, /Vp9Video/);

      // The job resource itself is MK.IO's, so its responses are checked as usual.
      assert.equal((await api.put(`${V}/transforms/ams-custom/jobs/custom-layers`, jobBody('short', 'custom-encoded'))).status, 201);
      const job = await pollJob(api, `${V}/transforms/ams-custom/jobs/custom-layers`, isFinal);
      assert.equal(job.properties.state, 'Finished', JSON.stringify(job));
      assert.equal(job.properties.outputs[0].label, 'StandardEncoderPreset_0');
      const files = (await api.get(`${V}/assets/custom-encoded/storage/`)).body.spec.files.map((f: { name: string }) => f.name) as string[];
      assert.ok(
        files.some((f) => /^Custom-source-small-\d+\.mp4$/.test(f)),
        files.join(', '),
      );
    });

    it('cancels a running job within seconds and removes what it wrote; deleting a transform cancels and removes its jobs', async () => {
      assert.equal((await api.put(`${V}/transforms/slow`, { properties: { outputs: [{ preset: encoderPreset('H264MultipleBitrate720p') }] } })).status, 201);
      assert.equal((await api.put(`${V}/transforms/slow/jobs/long-one`, jobBody('long', 'long-encoded'))).status, 201);
      await pollJob(api, `${V}/transforms/slow/jobs/long-one`, (j) => j.properties.state === 'Processing' && j.properties.outputs[0].progress > 0);
      const cancel = await api.post(`${V}/transforms/slow/jobs/long-one/cancelJob`);
      assert.equal(cancel.status, 200, cancel.text);
      const seen = new Set<string>();
      const job = await pollJob(api, `${V}/transforms/slow/jobs/long-one`, isFinal, seen);
      assert.equal(job.properties.state, 'Canceled');
      assert.ok(job.properties.endTime);
      const listing = await api.get(`${V}/assets/long-encoded/storage/`);
      assert.deepEqual(listing.body.spec.files, [], 'no outputs left in the output container');
      assert.equal((await api.post(`${V}/transforms/slow/jobs/long-one/cancelJob`)).status, 200, 'canceling a final job changes nothing');
      assert.equal((await api.get(`${V}/transforms/slow/jobs/long-one`)).body.properties.state, 'Canceled');

      // A queued job behind nothing is taken at once; cancel it while it runs by deleting its transform.
      assert.equal((await api.put(`${V}/transforms/slow/jobs/long-two`, jobBody('long', 'long-encoded-2'))).status, 201);
      await pollJob(api, `${V}/transforms/slow/jobs/long-two`, (j) => j.properties.state === 'Processing');
      assert.equal((await api.delete(`${V}/transforms/slow`)).status, 200);
      assert.equal((await api.get(`${V}/transforms/slow/jobs/long-two`)).status, 404);
      assert.equal((await api.get(`${V}/jobs?$filter=transform eq 'slow'`)).body.value.length, 0);
      // Its runner notices the record is gone, stops ffmpeg and removes its outputs.
      const deadline = Date.now() + 5 * 60_000;
      for (;;) {
        const files = (await api.get(`${V}/assets/long-encoded-2/storage/`)).body.spec.files as unknown[];
        const idle = !fs.readdirSync(path.join(server.dataDir, 'work')).some((d) => d.startsWith('job-'));
        if (files.length === 0 && idle) break;
        assert.ok(Date.now() < deadline, 'the deleted job was never stopped');
        await sleep(200);
      }
    });

    it('lists jobs project-wide and per transform, filtered by state and transform, and patches only what MK.IO allows', async () => {
      const all = await api.get(`${V}/jobs`);
      assert.equal(all.status, 200);
      assert.equal(all.body.supplemental.kind, 'Job');
      assert.deepEqual(
        all.body.value.map((j: { name: string }) => j.name).sort(),
        ['corrupt', 'custom-layers', 'first-job', 'from-http'],
        'the jobs of the deleted transform went with it',
      );
      const finished = await api.get(`${V}/jobs?$filter=properties/state eq 'Finished'`);
      assert.deepEqual(
        finished.body.value.map((j: { name: string }) => j.name),
        ['first-job', 'from-http', 'custom-layers'],
      );
      const errored = await api.get(`${L}/jobs?$filter=properties/state eq 'Error' and transform eq 'ladder'`);
      assert.deepEqual(
        errored.body.value.map((j: { name: string }) => j.name),
        ['corrupt'],
      );
      const ordered = await api.get(`${V}/transforms/ladder/jobs?$orderby=name desc`);
      assert.deepEqual(
        ordered.body.value.map((j: { name: string }) => j.name),
        ['from-http', 'first-job', 'corrupt'],
      );
      assert.equal((await api.get(`${V}/transforms/no-such/jobs`)).status, 404);
      assert.equal((await api.get(`${V}/jobs?$filter=properties/input eq 'x'`)).status, 400);

      const current = (await api.get(`${V}/transforms/ladder/jobs/first-job`)).body;
      const patched = await api.patch(`${V}/transforms/ladder/jobs/first-job`, {
        properties: {
          input: current.properties.input,
          outputs: [{ '@odata.type': '#Microsoft.Media.JobOutputAsset', assetName: 'short-encoded' }],
          description: 'patched',
          priority: 'High',
          correlationData: { ticket: '43' },
        },
      });
      assert.equal(patched.status, 200, patched.text);
      assert.equal(patched.body.properties.description, 'patched');
      assert.equal(patched.body.properties.priority, 'High');
      assert.deepEqual(patched.body.properties.correlationData, { ticket: '43' });
      assert.equal(patched.body.properties.state, 'Finished');
      const changedInput = await api.patch(
        `${V}/transforms/ladder/jobs/first-job`,
        { properties: { input: { '@odata.type': '#Microsoft.Media.JobInputAsset', assetName: 'long' } } },
        { checkRequest: false },
      );
      assert.equal(changedInput.status, 400);
      assert.match(changedInput.body.error.detail, /input/);
      const changedOutput = await api.patch(
        `${V}/transforms/ladder/jobs/first-job`,
        { properties: { outputs: [{ '@odata.type': '#Microsoft.Media.JobOutputAsset', assetName: 'elsewhere' }] } },
        { checkRequest: false },
      );
      assert.equal(changedOutput.status, 400);
      const unknown = await api.patch(`${V}/transforms/ladder/jobs/first-job`, { properties: { state: 'Finished', colour: 'red' } }, { checkRequest: false });
      assert.equal(unknown.status, 400);
      assert.match(unknown.body.error.detail, /colour/);
      assert.equal(
        (await api.patch(`${V}/transforms/ladder/jobs/missing`, { properties: { input: current.properties.input, outputs: current.properties.outputs } }))
          .status,
        404,
      );
    });

    it("hides another organization's transforms and jobs", async () => {
      const accounts = new AccountService(server.reel.db);
      const org = await accounts.createOrganization(`rival-enc-${dialect}`);
      await accounts.createProject(org.id, `rival-enc-project-${dialect}`);
      await accounts.createUser(`rival-enc-${dialect}@example.com`, 'rival password 1').then((u) => accounts.addMember(u.id, org.id, 'Admin'));
      const rival = new ApiClient(server.url).withToken(
        (await tokenFromSession(server.url, await login(server.url, `rival-enc-${dialect}@example.com`, 'rival password 1'))).token,
      );
      for (const p of [
        `${L}/transforms`,
        `${L}/transforms/ladder`,
        `${V}/jobs`,
        `${V}/transforms/ladder/jobs`,
        `${V}/transforms/ladder/jobs/first-job`,
        `${V}/transforms/ladder/jobs/first-job/state`,
      ]) {
        const res = await rival.get(p);
        assert.equal(res.status, 404, `${p} must not be visible to another organization`);
      }
      assert.equal((await rival.post(`${V}/transforms/ladder/jobs/first-job/cancelJob`)).status, 404);
      assert.equal((await rival.put(`${V}/transforms/ladder/jobs/intruder`, jobBody('short', 'x'))).status, 404);
      assert.equal((await rival.delete(`${V}/transforms/ladder`)).status, 404);
      assert.equal((await rival.get(`/api/v1/projects/rival-enc-project-${dialect}/media/jobs`)).body.value.length, 0);
      assert.equal((await api.get(`${V}/transforms/ladder`)).status, 200);
    });

    it('deletes a finished job (200, then 204)', async () => {
      assert.equal((await api.delete(`${V}/transforms/ladder/jobs/corrupt`)).status, 200);
      assert.equal((await api.delete(`${V}/transforms/ladder/jobs/corrupt`)).status, 204);
      assert.equal((await api.get(`${V}/transforms/ladder/jobs/corrupt`)).status, 404);
    });
  });
}
