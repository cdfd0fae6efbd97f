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
import { createRecordingAsset, liveEventBody, loopbackOnly, recordAndPublish } from '../support/live-events.js';
import { readIndex } from '../support/live-pipeline.js';
import { EnhancedRtmpPublisher, makeHevcSource, mp4RtmpTags, type RtmpSource } from '../support/enhanced-rtmp-publisher.js';

// H.265 pass-through (issue 16): an encoder pushes HEVC + AAC over enhanced RTMP (RTMPS here), players get it
// live over HLS (CMAF and TS), DASH and Smooth, and the archive holds the pushed frames byte for byte. Debian's
// ffmpeg 5.1 cannot push HEVC over RTMP, so the test's own publisher (test/support/enhanced-rtmp-publisher.ts)
// sends the samples of an x265 MP4. The server runs in this process: ffmpeg and ffprobe run asynchronously.
const run = promisify(execFile);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const sha = (b: Uint8Array) => crypto.createHash('sha256').update(b).digest('hex');
const V = '/api/v1/projects/default/media';

interface Probed {
  streams: Array<{ codec_type: string; codec_name?: string; width?: number; height?: number }>;
  format: { duration?: string };
}
const probe = async (url: string): Promise<Probed> =>
  JSON.parse(
    (await run('ffprobe', ['-v', 'error', '-rw_timeout', '10000000', '-print_format', 'json', '-show_streams', '-show_format', url], { encoding: 'utf8' }))
      .stdout,
  ) as Probed;
const videoOf = (p: Probed) => p.streams.find((s) => s.codec_type === 'video');

/** The video samples of an MP4 on disk, hashed in decode order. */
async function videoSampleHashes(file: string): Promise<string[]> {
  const video = (await readIndex(file)).tracks.find((t) => t.kind === 'video');
  if (!video) return [];
  const samples = video.samples.run(0, video.samples.count);
  const fd = fs.openSync(file, 'r');
  try {
    const hashes: string[] = [];
    for (let i = 0; i < samples.count; i++) {
      const b = Buffer.alloc(samples.sizes[i]);
      fs.readSync(fd, b, 0, samples.sizes[i], samples.offsets[i]);
      hashes.push(sha(b));
    }
    return hashes;
  } finally {
    fs.closeSync(fd);
  }
}

describe('live H.265 over enhanced RTMP', () => {
  let server: TestServer;
  let api: ApiClient;
  let tmp: string;
  let source: RtmpSource;
  let archiveRoot: string;
  const sourceSec = 12;

  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'reel-live-hevc-'));
    // 480x270: 270 lines are coded as 272 (x265's 8-pixel blocks) and cropped back by the SPS conformance window.
    const file = path.join(tmp, 'source.mp4');
    await makeHevcSource(file, { seconds: sourceSec, size: '480x270', gopFrames: 50 });
    source = await mp4RtmpTags(file);
    const cert = path.join(tmp, 'cert.pem');
    const key = path.join(tmp, 'key.pem');
    await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-keyout', key, '-out', cert]);
    server = await startTestServer('sqlite', {
      REEL_LIVE_RTMP_PORT: '0',
      REEL_LIVE_RTMPS_PORT: '0',
      REEL_LIVE_RTMPS_CERT_FILE: cert,
      REEL_LIVE_RTMPS_KEY_FILE: key,
      REEL_LIVE_X264_PRESET: 'ultrafast',
      REEL_LIVE_MAX_RUNGS: '1',
    });
    const cookie = await login(server.url, server.adminEmail, server.adminPassword);
    api = new ApiClient(server.url).withToken((await tokenFromSession(server.url, cookie)).token);
    archiveRoot = path.join(server.localArea(), 'live');
    await createRecordingAsset(api, V, archiveRoot, { storageName: 'live', assetName: 'hevc-recording' });
  });

  after(async () => {
    await server?.close();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('PassthroughStandard over RTMPS: plays live as HEVC (HLS CMAF and TS, DASH, Smooth), then its archive as VOD with the pushed frames', async (t) => {
    const created = await api.put(`${V}/liveEvents/hevc`, liveEventBody({ encoding: { encodingType: 'PassthroughStandard' }, inputIpAllow: loopbackOnly }));
    assert.ok(created.status === 200 || created.status === 201, JSON.stringify(created.body));
    assert.equal((await api.post(`${V}/liveEvents/hevc/start`)).status, 200);
    const endpoints = (await api.get(`${V}/liveEvents/hevc`)).body.properties.input.endpoints as Array<{ protocol: string; url: string }>;
    const rtmpsUrl = endpoints.find((e) => e.protocol === 'RTMPS')?.url;
    assert.ok(rtmpsUrl?.startsWith('rtmps://'), `RTMPS endpoint: ${JSON.stringify(endpoints)}`);
    const locatorId = crypto.randomUUID();
    await recordAndPublish(api, V, { eventName: 'hevc', assetName: 'hevc-recording', manifestName: 'hevc', locatorName: 'hevc', locatorId });

    const publisher = await EnhancedRtmpPublisher.publish(`${rtmpsUrl}/stream`);
    const sending = publisher.sendPaced(source.tags);
    const base = `${server.url}/${locatorId}/hevc.ism`;
    const masterUrl = `${base}/manifest(format=m3u8-cmaf)`;
    let master = '';
    let mediaUrl = '';
    for (let i = 0; i < 150 && !mediaUrl; i++) {
      const res = await request(masterUrl);
      if (res.status === 200) {
        const lines = res.body.toString().split('\n');
        const at = lines.findIndex((l) => l.startsWith('#EXT-X-STREAM-INF'));
        const url = new URL(lines[at + 1], masterUrl).toString();
        const media = await request(url);
        if (media.status === 200 && (media.body.toString().match(/#EXTINF/g) ?? []).length >= 2) {
          master = res.body.toString();
          mediaUrl = url;
        }
      }
      if (!mediaUrl) await sleep(200);
    }
    assert.ok(mediaUrl, 'the live playlist lists segments while the stream runs');
    // The codecs string is the one the packager makes for VOD HEVC (hvc1.{profile}.{compat}.{tier}{level}…).
    assert.match(master, /CODECS="hvc1\.1\.6\.L\d+[^"]*,mp4a\.40\.2"/);
    assert.match(master, /RESOLUTION=480x270/);

    // Health while the push surely runs (the probes below may outlast it on a loaded machine, and an encoder that
    // has sent everything is dropped as idle after 10 s).
    const health = await api.get(`${V}/liveEvents/hevc/ingestHealth`, { contract: false });
    assert.equal(health.status, 200);
    assert.equal(health.body.isConnected, true);
    assert.ok(Math.abs(health.body.frameRate - 25) <= 3, `frame rate ${health.body.frameRate}`);
    assert.equal(health.body.lastError, undefined, 'nothing was refused');

    const hls = await probe(masterUrl);
    assert.deepEqual([videoOf(hls)?.codec_name, videoOf(hls)?.width, videoOf(hls)?.height], ['hevc', 480, 270], 'ffprobe reads HEVC from the live HLS (CMAF)');
    assert.ok(hls.streams.some((s) => s.codec_type === 'audio'));
    const ts = await probe(`${base}/manifest(format=m3u8-aapl)`);
    assert.deepEqual([videoOf(ts)?.codec_name, videoOf(ts)?.width], ['hevc', 480], 'and from the live HLS (TS, stream type 0x24)');
    const mpd = (await request(`${base}/manifest(format=mpd-time-cmaf)`)).body.toString();
    assert.match(mpd, /type="dynamic"/);
    assert.match(mpd, /codecs="hvc1\.1\.6\.L\d+/);
    const dash = await probe(`${base}/manifest(format=mpd-time-cmaf)`);
    assert.deepEqual([videoOf(dash)?.codec_name, videoOf(dash)?.width, videoOf(dash)?.height], ['hevc', 480, 270], 'ffprobe reads HEVC from the live DASH');
    const smooth = (await request(`${base}/manifest`)).body.toString();
    assert.match(smooth, /FourCC="HVC1"/);

    await sending;
    await publisher.close();
    const stopped = await api.post(`${V}/liveEvents/hevc/stop`);
    assert.equal(stopped.status, 200, JSON.stringify(stopped.body));

    // The archive as VOD: as long as what was pushed (± one segment), HEVC, frame for frame the source's samples.
    const vodMedia = (await request(mediaUrl.replace(/\?.*$/, ''))).body.toString();
    assert.match(vodMedia, /#EXT-X-ENDLIST/);
    const total = [...vodMedia.matchAll(/#EXTINF:([\d.]+)/g)].reduce((s, m) => s + Number(m[1]), 0);
    assert.ok(Math.abs(total - source.durationSec) <= 2, `archive plays ${total} s of ${source.durationSec} s pushed`);
    const vod = await probe(masterUrl);
    assert.deepEqual([videoOf(vod)?.codec_name, videoOf(vod)?.width, videoOf(vod)?.height], ['hevc', 480, 270]);
    const files = fs.readdirSync(path.join(archiveRoot, 'recording'));
    let archived: string[] = [];
    for (const f of files.filter((f) => f.endsWith('.mp4'))) {
      const hashes = await videoSampleHashes(path.join(archiveRoot, 'recording', f));
      if (hashes.length > 0) archived = hashes;
    }
    const pushed = source.video.map((s) => sha(s.data));
    assert.equal(archived.length, pushed.length, 'every pushed frame is in the archive');
    assert.deepEqual(archived, pushed, 'archive samples hash-equal the pushed frames');
    t.diagnostic(
      `${master.match(/CODECS="[^"]+"/)?.[0]}; archive ${total.toFixed(2)} s of ${source.durationSec} s pushed; ${archived.length} frames hash-equal`,
    );
  });

  it('a Standard (encoding) event refuses H.265 with a reason its ingest health shows', async () => {
    const created = await api.put(`${V}/liveEvents/hevcenc`, liveEventBody({ encoding: { encodingType: 'Standard', keyFrameInterval: 'PT2S' } }));
    assert.ok(created.status === 200 || created.status === 201, JSON.stringify(created.body));
    assert.equal((await api.post(`${V}/liveEvents/hevcenc/start`)).status, 200);
    const endpoints = (await api.get(`${V}/liveEvents/hevcenc`)).body.properties.input.endpoints as Array<{ protocol: string; url: string }>;
    const publisher = await EnhancedRtmpPublisher.publish(`${endpoints.find((e) => e.protocol === 'RTMP')!.url}/stream`);
    await publisher.sendPaced(
      source.tags.filter((t) => t.timestampMs < 1000),
      4,
    );
    let health = await api.get(`${V}/liveEvents/hevcenc/ingestHealth`, { contract: false });
    for (let i = 0; i < 50 && !health.body.lastError; i++) {
      await sleep(100);
      health = await api.get(`${V}/liveEvents/hevcenc/ingestHealth`, { contract: false });
    }
    assert.match(health.body.lastError ?? '', /'hvc1' \(enhanced RTMP\) cannot be transcoded: live encoding takes H\.264/);
    assert.ok(server.logs().includes('cannot be transcoded'), 'the reason is logged');
    await publisher.close();
    assert.equal((await api.post(`${V}/liveEvents/hevcenc/stop`)).status, 200);
  });
});
