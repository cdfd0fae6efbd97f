import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { readMp4Index, segmentTracks } from '../packager/index.js';
import { allSamples } from '../packager/model/sample-table.js';
import { makeMp4 } from '../../../test/fixtures/media.js';
import { ApiClient, login, tokenFromSession } from '../../../test/support/api.js';
import { request } from '../../../test/support/http.js';
import { startTestServer, type TestServer } from '../../../test/support/server.js';
import { LocalBlobStore } from '../../storage/drivers/local.js';
import { buildWarmUpMp4 } from './warm-up-media.js';
import { warmUpOrigin } from './warm-up.js';

const run = promisify(execFile);
const warmUpDirs = () => new Set(fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith('reel-warm-up-')));

describe('origin warm-up', () => {
  it('builds an MP4 that ffprobe and the packager read the same way', async () => {
    for (const shape of [{}, { ctts: true, co64: true }]) {
      const bytes = buildWarmUpMp4(shape);
      const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'warm-up-test-')), 'movie.mp4');
      fs.writeFileSync(file, bytes);
      const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name,nb_frames', '-of', 'json', file], { encoding: 'utf8' });
      fs.rmSync(path.dirname(file), { recursive: true });
      const { streams } = JSON.parse(stdout) as { streams: Array<{ codec_name: string; nb_frames: string }> };
      assert.deepEqual(
        streams.map((s) => [s.codec_name, s.nb_frames]),
        [
          ['h264', '1500'],
          ['aac', '2812'],
        ],
      );
      const index = await readMp4Index(bytes.length, (offset, length) => Promise.resolve(bytes.subarray(offset, offset + length)));
      assert.deepEqual(
        index.tracks.map((t) => [t.kind, t.codecs, t.samples.count]),
        [
          ['video', 'avc1.42c01e', 1500],
          ['audio', 'mp4a.40.2', 2812],
        ],
      );
      assert.equal(segmentTracks(index.tracks, 2)[0].length, 30);
    }
  });

  it('indexes interleaved chunks of varying length (many stsc entries) sample by sample, and a file cut short by one byte fails', async () => {
    for (const shape of [{}, { ctts: true, co64: true }]) {
      const bytes = buildWarmUpMp4(shape);
      const index = await readMp4Index(bytes.length, (offset, length) => Promise.resolve(bytes.subarray(offset, offset + length)));
      const [video, audio] = index.tracks.map((t) => allSamples(t.samples));
      // Each video sample is a NAL unit behind its 4-byte length; each audio sample is 0x21 filler: every offset and
      // size the tables give must land exactly on them, and together they cover the whole mdat payload.
      let covered = 0;
      for (let i = 0; i < video.count; i++) {
        const at = video.offsets[i];
        assert.equal(new DataView(bytes.buffer, bytes.byteOffset + at, 4).getUint32(0), video.sizes[i] - 4, `video sample ${i}`);
        covered += video.sizes[i];
      }
      for (let i = 0; i < audio.count; i++) {
        const at = audio.offsets[i];
        assert.ok(
          bytes.subarray(at, at + audio.sizes[i]).every((b) => b === 0x21),
          `audio sample ${i}`,
        );
        covered += audio.sizes[i];
      }
      const mdatPayload = bytes.length - video.offsets[0];
      assert.equal(covered, mdatPayload);
      const total = (s: typeof video) => s.sizes.reduce((a, b) => a + b, 0);
      assert.equal(index.tracks[1].bitrateBps, Math.round((total(audio) * 8 * 48000) / index.tracks[1].durationTicks));
      // The sample that ends the file is the last of its track: cut one byte and the index names it.
      const lastTrack = [video, audio].findIndex((t) => t.offsets[t.count - 1] + t.sizes[t.count - 1] === bytes.length);
      const last = [video, audio][lastTrack];
      await assert.rejects(
        readMp4Index(bytes.length - 1, (offset, length) => Promise.resolve(bytes.subarray(offset, offset + length))),
        new RegExp(
          `track ${lastTrack + 1} sample ${last.count - 1} \\(${last.sizes[last.count - 1]} bytes at offset ${last.offsets[last.count - 1]}\\) runs past the end of the file`,
        ),
      );
    }
  });

  it('runs every format through without an error and leaves no files behind', async () => {
    const before = warmUpDirs();
    const result = await warmUpOrigin({
      segmentDurationSec: 2,
      parseRounds: 2,
      rounds: 1,
      localStore: (dir) => new LocalBlobStore({ path: dir, allowedRoots: [dir] }),
    });
    assert.equal(result.error, undefined);
    assert.equal(result.presentations, 2);
    // Per file: 5 manifests, 2 HLS formats × 2 media playlists, 5 formats × 2 tracks × 3 segments.
    assert.equal(result.outputs, 2 * (5 + 2 * 2 + 5 * 2 * 3));
    assert.deepEqual(
      [...warmUpDirs()].filter((d) => !before.has(d)),
      [],
    );
  });

  describe('in a running server (warmed up before it listened)', () => {
    let server: TestServer;
    let api: ApiClient;
    const V = '/api/v1/projects/default/media';
    const locatorId = '7e57ab1e-0000-4000-8000-00000000a11c';

    before(async () => {
      server = await startTestServer('sqlite');
      const cookie = await login(server.url, server.adminEmail, server.adminPassword);
      api = new ApiClient(server.url).withToken((await tokenFromSession(server.url, cookie)).token);
      // The same container name as the warm-up's own: nothing it built may answer for it.
      const root = path.join(server.localArea(), 'warm');
      fs.mkdirSync(path.join(root, 'warm-up-0'), { recursive: true });
      fs.copyFileSync(makeMp4({ seconds: 4 }), path.join(root, 'warm-up-0', 'movie.mp4'));
      assert.equal((await api.put(`${V}/storage/warm`, { spec: { type: 'Local', path: root } }, { contract: false })).status, 201);
      assert.equal((await api.put(`${V}/assets/warm`, { properties: { storageAccountName: 'warm', container: 'warm-up-0' } })).status, 201);
      const locator = { assetName: 'warm', streamingPolicyName: 'Predefined_ClearStreamingOnly', streamingLocatorId: locatorId };
      assert.equal((await api.put(`${V}/streamingLocators/warm`, { properties: locator })).status, 201);
    });
    after(async () => {
      await server?.close();
    });

    it("serves the asset's own presentation, not the warm-up's", async () => {
      const res = await request(`${server.url}/${locatorId}/manifest.ism/manifest(format=mpd-time-cmaf)`);
      assert.equal(res.status, 200);
      // 4 s of media, not the warm-up's 60 s.
      assert.match(res.body.toString(), /mediaPresentationDuration="PT4(\.\d+)?S"/);
    });

    it('answers an unknown locator with 404', async () => {
      const res = await request(`${server.url}/00000000-0000-4000-8000-000000000000/manifest.ism/manifest(format=m3u8-cmaf)`);
      assert.equal(res.status, 404);
    });
  });
});
