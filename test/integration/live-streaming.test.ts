import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startTestServer, type TestServer } from '../support/server.js';
import { ApiClient, login, tokenFromSession } from '../support/api.js';
import { request } from '../support/http.js';
import { createRecordingAsset, liveEventBody, loopbackOnly, pushRtmp } from '../support/live-events.js';
import { FlvStreamReader } from '../../src/media/live/ingest/flv-stream-reader.js';
import { readMp4Index } from '../../src/media/packager/index.js';

// The server runs in this process: tools that talk to it run asynchronously, never with *Sync.
const run = promisify(execFile);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const sha = (b: Uint8Array) => crypto.createHash('sha256').update(b).digest('hex');

/** The coded video frames of an FLV file (AVCPacketType 1 bodies without their 5-byte header), hashed in order. */
function flvFrameHashes(file: string): string[] {
  const hashes: string[] = [];
  new FlvStreamReader((tag) => {
    if (tag.type === 9 && tag.data[1] === 1) hashes.push(sha(tag.data.subarray(5)));
  }).push(fs.readFileSync(file));
  return hashes;
}

async function videoSampleHashes(file: string): Promise<string[]> {
  const fd = fs.openSync(file, 'r');
  try {
    const index = await readMp4Index(fs.fstatSync(fd).size, async (offset, length) => {
      const b = Buffer.alloc(length);
      fs.readSync(fd, b, 0, length, offset);
      return b;
    });
    const video = index.tracks.find((t) => t.kind === 'video');
    if (!video) return [];
    const run = video.samples.run(0, video.samples.count);
    const hashes: string[] = [];
    for (let i = 0; i < run.count; i++) {
      const b = Buffer.alloc(run.sizes[i]);
      fs.readSync(fd, b, 0, run.sizes[i], run.offsets[i]);
      hashes.push(sha(b));
    }
    return hashes;
  } finally {
    fs.closeSync(fd);
  }
}

const probe = async (url: string) =>
  JSON.parse(
    (await run('ffprobe', ['-v', 'error', '-rw_timeout', '10000000', '-print_format', 'json', '-show_streams', '-show_format', url], { encoding: 'utf8' }))
      .stdout,
  ) as {
    streams: Array<{ codec_type: string; width?: number }>;
    format: { duration?: string };
  };

describe('live streaming: RTMP pass-through into a live output, played live and then as VOD', () => {
  let server: TestServer;
  let api: ApiClient;
  let source: string;
  let tmp: string;
  let archiveRoot: string;
  const V = '/api/v1/projects/default/media';
  const locatorId = crypto.randomUUID();
  const sourceSec = 12;

  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'reel-live-test-'));
    source = path.join(tmp, 'source.flv');
    await run('ffmpeg', [
      '-hide_banner',
      '-loglevel',
      'error',
      '-f',
      'lavfi',
      '-i',
      `testsrc2=size=640x360:rate=25:duration=${sourceSec}`,
      '-f',
      'lavfi',
      '-i',
      `sine=frequency=440:duration=${sourceSec}`,
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-g',
      '50',
      '-keyint_min',
      '50',
      '-sc_threshold',
      '0',
      '-pix_fmt',
      'yuv420p',
      '-c:a',
      'aac',
      '-b:a',
      '96k',
      '-f',
      'flv',
      source,
    ]);
    server = await startTestServer('sqlite', { REEL_LIVE_RTMP_PORT: '0' });
    const cookie = await login(server.url, server.adminEmail, server.adminPassword);
    api = new ApiClient(server.url).withToken((await tokenFromSession(server.url, cookie)).token);
    archiveRoot = path.join(server.localArea(), 'live');
    await createRecordingAsset(api, V, archiveRoot, { storageName: 'live', assetName: 'recording' });
  });

  after(async () => {
    await server?.close();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('runs an event, refuses what it must, plays the live output live and its archive as VOD', async () => {
    const created = await api.put(`${V}/liveEvents/studio`, liveEventBody({ description: 'studio feed', inputIpAllow: loopbackOnly }));
    assert.ok(created.status === 200 || created.status === 201, JSON.stringify(created.body));
    const token = created.body.properties.input.accessToken as string;
    const rtmpUrl = (created.body.properties.input.endpoints as Array<{ protocol: string; url: string }>).find((e) => e.protocol === 'RTMP')?.url ?? '';
    assert.ok(rtmpUrl.startsWith('rtmp://'), `RTMP endpoint: ${JSON.stringify(created.body.properties.input.endpoints)}`);
    assert.ok(rtmpUrl.includes(token), 'the RTMP URL carries the access token');

    // A stopped event refuses its encoder at connect time.
    const early = await pushRtmp(source, `${rtmpUrl}/stream`, ['-t', '1']).done;
    assert.notEqual(early.code, 0, 'a push to a stopped event is refused');

    assert.equal((await api.post(`${V}/liveEvents/studio/start`)).status, 200);
    assert.equal((await api.get(`${V}/liveEvents/studio`)).body.properties.resourceState, 'Running');
    const output = await api.put(`${V}/liveEvents/studio/liveOutputs/archive`, {
      properties: { assetName: 'recording', archiveWindowLength: 'PT10M', manifestName: 'studio' },
    });
    assert.equal(output.status, 201, JSON.stringify(output.body));
    assert.equal(
      (
        await api.put(`${V}/streamingLocators/studio`, {
          properties: { assetName: 'recording', streamingPolicyName: 'Predefined_ClearStreamingOnly', streamingLocatorId: locatorId },
        })
      ).status,
      201,
    );

    // A wrong token is refused at connect time and never reaches the event.
    const wrong = await pushRtmp(source, `${rtmpUrl.replace(token, 'not-the-token-0000')}/stream`, ['-t', '1']).done;
    assert.notEqual(wrong.code, 0, 'a wrong token is refused');
    const logs = server.logs();
    assert.ok(!logs.includes(token), 'the access token is never logged');

    const live = pushRtmp(source, `${rtmpUrl}/stream`);
    const base = `${server.url}/${locatorId}/studio.ism`;
    // Live HLS: the media playlist grows, with no ENDLIST, while the stream runs.
    let media = '';
    let mediaUrl = '';
    for (let i = 0; i < 100; i++) {
      const master = await request(`${base}/manifest(format=m3u8-cmaf)`);
      if (master.status === 200) {
        const lines = master.body.toString().split('\n');
        const video = lines.findIndex((l) => l.startsWith('#EXT-X-STREAM-INF'));
        mediaUrl = new URL(lines[video + 1], `${base}/manifest(format=m3u8-cmaf)`).toString();
        const res = await request(mediaUrl);
        if (res.status === 200 && (res.body.toString().match(/#EXTINF/g) ?? []).length >= 2) {
          media = res.body.toString();
          break;
        }
      }
      await sleep(200);
    }
    assert.ok(media, 'the live playlist lists segments while the stream runs');
    assert.ok(!media.includes('#EXT-X-ENDLIST'), 'a live playlist has no ENDLIST');
    assert.match(media, /#EXT-X-MEDIA-SEQUENCE:\d+/);
    assert.match(media, /#EXT-X-PROGRAM-DATE-TIME:/);
    const liveProbe = await probe(`${base}/manifest(format=m3u8-cmaf)`);
    assert.deepEqual(new Set(liveProbe.streams.map((s) => s.codec_type)), new Set(['video', 'audio']), 'ffprobe reads the live HLS');
    const mpd = await request(`${base}/manifest(format=mpd-time-cmaf)`);
    assert.equal(mpd.status, 200);
    assert.match(mpd.body.toString(), /type="dynamic"/);
    assert.match(mpd.body.toString(), /timeShiftBufferDepth="PT10M(0(\.0+)?S)?"/);
    const dashProbe = await probe(`${base}/manifest(format=mpd-time-cmaf)`);
    assert.ok(
      dashProbe.streams.some((s) => s.codec_type === 'video'),
      'ffprobe reads the live DASH',
    );

    // The preview locator plays the event itself.
    const event = (await api.get(`${V}/liveEvents/studio`)).body;
    const previewLocator = event.properties.preview.previewLocator as string;
    const preview = await request(`${server.url}/${previewLocator}/manifest.ism/manifest(format=m3u8-cmaf)`);
    assert.equal(preview.status, 200, preview.body.toString().slice(0, 300));

    // Ingest health (a Reel extension the console shows) while the encoder sends.
    const health = await api.get(`${V}/liveEvents/studio/ingestHealth`, { contract: false });
    assert.equal(health.status, 200);
    assert.equal(health.body.isConnected, true);
    assert.ok(Math.abs(health.body.frameRate - 25) <= 2, `frame rate ${health.body.frameRate}`);
    assert.ok(health.body.bitrateBps > 50_000, `bitrate ${health.body.bitrateBps}`);
    assert.ok(Date.now() - Date.parse(health.body.lastFrameTime) < 5000, 'last frame is recent');

    // A second encoder on the same event is refused while the first one publishes.
    const second = await pushRtmp(source, `${rtmpUrl}/stream`, ['-t', '1']).done;
    assert.notEqual(second.code, 0, 'one encoder at a time');

    const ended = await live.done;
    assert.equal(ended.code, 0, `the push ran to its end: ${ended.err}`);
    const stopped = await api.post(`${V}/liveEvents/studio/stop`);
    assert.equal(stopped.status, 200, JSON.stringify(stopped.body));
    assert.equal((await api.get(`${V}/liveEvents/studio`)).body.properties.resourceState, 'Stopped');
    assert.equal((await api.get(`${V}/liveEvents/studio/ingestHealth`, { contract: false })).status, 404, 'no health once stopped');

    // After stop, the same locator serves the archive as VOD, as long as what was pushed (± one segment).
    const vod = await request(`${base}/manifest(format=m3u8-cmaf)`);
    assert.equal(vod.status, 200, vod.body.toString().slice(0, 300));
    const vodMedia = (await request(mediaUrl.replace(/\?.*$/, ''))).body.toString();
    assert.match(vodMedia, /#EXT-X-ENDLIST/);
    const total = [...vodMedia.matchAll(/#EXTINF:([\d.]+)/g)].reduce((s, m) => s + Number(m[1]), 0);
    assert.ok(Math.abs(total - sourceSec) <= 2, `archive plays ${total} s of ${sourceSec} s pushed`);

    // Sample hashes: what the archive holds is what was pushed, frame for frame.
    const files = fs.readdirSync(path.join(archiveRoot, 'recording'));
    assert.ok(
      files.some((f) => f.endsWith('.ism')),
      `an .ism next to the archive: ${files.join(', ')}`,
    );
    const pushed = flvFrameHashes(source);
    let archived: string[] = [];
    for (const f of files.filter((f) => f.endsWith('.mp4'))) {
      const hashes = await videoSampleHashes(path.join(archiveRoot, 'recording', f));
      if (hashes.length > 0) archived = hashes;
    }
    assert.equal(archived.length, pushed.length, 'every pushed frame is in the archive');
    assert.deepEqual(archived, pushed, 'archive samples hash-equal the pushed frames');

    // And a push to the stopped event is refused again.
    const late = await pushRtmp(source, `${rtmpUrl}/stream`, ['-t', '1']).done;
    assert.notEqual(late.code, 0);
  });
});
