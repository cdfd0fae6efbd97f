import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startTestServer, type TestServer } from '../support/server.js';
import { ApiClient, login, tokenFromSession } from '../support/api.js';
import { request } from '../support/http.js';
import { createAndStartLiveEvent, createRecordingAsset, liveEventBody, makeFlvSource, pushRtmp } from '../support/live-events.js';
import { readIndex } from '../support/live-pipeline.js';
import { FlvStreamReader } from '../../src/media/live/ingest/flv-stream-reader.js';

// The server runs in this process: tools that talk to it run asynchronously, never with *Sync.
const run = promisify(execFile);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const sha = (b: Uint8Array) => crypto.createHash('sha256').update(b).digest('hex');

/** Bytes and files under `dir` (recursively), 0 when it is gone. */
async function folderSize(dir: string): Promise<{ bytes: number; files: string[] }> {
  let bytes = 0;
  const files: string[] = [];
  const entries = await fsp.readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    if (!e.isFile()) continue;
    const stat = await fsp.stat(path.join(e.parentPath, e.name)).catch(() => undefined);
    if (!stat) continue; // deleted while listed
    bytes += stat.size;
    files.push(e.name);
  }
  return { bytes, files };
}

const probe = async (url: string) =>
  JSON.parse(
    (await run('ffprobe', ['-v', 'error', '-rw_timeout', '10000000', '-print_format', 'json', '-show_streams', '-show_format', url], { encoding: 'utf8' }))
      .stdout,
  ) as { streams: Array<{ codec_type: string }>; format: { duration?: string } };

/** The media playlist of the first video variant of an HLS master playlist, and its segments' total duration. */
async function videoPlaylist(master: string): Promise<{ text: string; url: string; seconds: number }> {
  const res = await request(master);
  assert.equal(res.status, 200, res.body.toString().slice(0, 300));
  const lines = res.body.toString().split('\n');
  const url = new URL(lines[lines.findIndex((l) => l.startsWith('#EXT-X-STREAM-INF')) + 1], master).toString();
  const media = await request(url);
  assert.equal(media.status, 200);
  const text = media.body.toString();
  return { text, url, seconds: [...text.matchAll(/#EXTINF:([\d.]+)/g)].reduce((s, m) => s + Number(m[1]), 0) };
}

describe('live spool: a running event deletes what no window needs, the windows and the archive stay whole', { timeout: 600_000 }, () => {
  let server: TestServer;
  let api: ApiClient;
  let tmp: string;
  let source: string;
  let archiveRoot: string;
  const V = '/api/v1/projects/default/media';
  const locatorId = crypto.randomUUID();
  const sourceSec = 180;

  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'reel-live-trim-'));
    source = path.join(tmp, 'source.flv');
    await makeFlvSource(source, { seconds: sourceSec, gopFrames: 50, size: '320x180' });
    // 4 s spool chunks and a 20 s preview window, so a 1-minute output window (MK.IO's minimum) is what binds.
    server = await startTestServer('sqlite', { REEL_LIVE_RTMP_PORT: '0', REEL_LIVE_SPOOL_CHUNK_SEC: '4', REEL_LIVE_PREVIEW_WINDOW_SEC: '20' });
    const cookie = await login(server.url, server.adminEmail, server.adminPassword);
    api = new ApiClient(server.url).withToken((await tokenFromSession(server.url, cookie)).token);
    archiveRoot = path.join(server.localArea(), 'trim');
    await createRecordingAsset(api, V, archiveRoot, { storageName: 'trim', assetName: 'channel-archive' });
  });

  after(async () => {
    await server?.close();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('keeps the spool near the 1-minute window over a 3-minute push, plays the window live and archives it', async (t) => {
    const { rtmpUrl, previewLocator } = await createAndStartLiveEvent(api, V, 'channel', liveEventBody());
    const output = await api.put(`${V}/liveEvents/channel/liveOutputs/out`, {
      properties: { assetName: 'channel-archive', archiveWindowLength: 'PT1M', manifestName: 'channel' },
    });
    assert.equal(output.status, 201, JSON.stringify(output.body));
    const locator = await api.put(`${V}/streamingLocators/channel`, {
      properties: { assetName: 'channel-archive', streamingPolicyName: 'Predefined_ClearStreamingOnly', streamingLocatorId: locatorId },
    });
    assert.equal(locator.status, 201);

    // Three minutes of media at six times real time (the timeline follows the encoder's timestamps), the spool
    // folder measured all along.
    const spoolDir = path.join(server.dataDir, 'live');
    const push = pushRtmp(source, `${rtmpUrl}/stream`, ['-readrate', '6']);
    let pushing = true;
    let largest = 0;
    let mostChunks = 0;
    const measuring = (async () => {
      while (pushing) {
        const { bytes, files } = await folderSize(spoolDir);
        largest = Math.max(largest, bytes);
        mostChunks = Math.max(mostChunks, files.filter((f) => f.startsWith('video') && f.endsWith('.mp4')).length);
        await sleep(250);
      }
    })();
    const ended = await push.done;
    pushing = false;
    await measuring;
    assert.equal(ended.code, 0, `the push ran to its end: ${ended.err}`);
    await sleep(500);

    // What the spool keeps: the 60 s window, a 10 s margin and up to one 4 s chunk being written (plus the open
    // segment): about 76 s of the 180 s pushed.
    const flvBytes = fs.statSync(source).size;
    const bytesPerSec = flvBytes / sourceSec;
    const final = await folderSize(spoolDir);
    t.diagnostic(
      `spool: largest ${largest} B (${(largest / bytesPerSec).toFixed(1)} s of media), at the end ${final.bytes} B, ` +
        `at most ${mostChunks} video chunks; ${flvBytes} B pushed (${sourceSec} s)`,
    );
    assert.ok(largest < bytesPerSec * 90, `the spool stays near the window: ${largest} B, ${(largest / bytesPerSec).toFixed(1)} s of media`);
    assert.ok(mostChunks <= Math.ceil(76 / 4) + 2, `${mostChunks} video chunks at most`);
    assert.ok(!final.files.includes('video.mp4'), 'the first chunk is gone');

    // The output's live playlists list its whole 1-minute window, read from the chunks that stayed.
    const base = `${server.url}/${locatorId}/channel.ism`;
    const hls = await videoPlaylist(`${base}/manifest(format=m3u8-cmaf)`);
    assert.ok(!hls.text.includes('#EXT-X-ENDLIST'), 'still live');
    assert.ok(Math.abs(hls.seconds - 60) <= 2, `the live playlist lists ${hls.seconds} s`);
    assert.ok(Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(hls.text)?.[1]) > 0, 'the window slid');
    const liveHls = await probe(`${base}/manifest(format=m3u8-cmaf)`);
    assert.deepEqual(new Set(liveHls.streams.map((s) => s.codec_type)), new Set(['video', 'audio']), 'ffprobe reads the live HLS');
    const mpd = await request(`${base}/manifest(format=mpd-time-cmaf)`);
    assert.match(mpd.body.toString(), /timeShiftBufferDepth="PT1M(0(\.0+)?S)?"|timeShiftBufferDepth="PT60(\.0+)?S"/);
    const liveDash = await probe(`${base}/manifest(format=mpd-time-cmaf)`);
    assert.ok(
      liveDash.streams.some((s) => s.codec_type === 'video'),
      'ffprobe reads the live DASH',
    );
    // Every segment the playlist lists is served (the oldest ones included).
    const segments = hls.text.split('\n').filter((l) => l && !l.startsWith('#'));
    for (const uri of [segments[0], segments[1], segments[segments.length - 1]]) {
      const res = await request(new URL(uri, hls.url).toString());
      assert.equal(res.status, 200, `${uri}: ${res.body.toString().slice(0, 200)}`);
    }
    // The preview plays its own 20 s window.
    const preview = await videoPlaylist(`${server.url}/${previewLocator}/manifest.ism/manifest(format=m3u8-cmaf)`);
    assert.ok(Math.abs(preview.seconds - 20) <= 2, `the preview lists ${preview.seconds} s`);

    // At stop the archive holds the output's whole window, frame for frame, and plays as VOD.
    assert.equal((await api.post(`${V}/liveEvents/channel/stop`)).status, 200);
    // MK.IO's LiveOutput resourceState is Creating, Deleting or Running: an output of a stopped event stays Running.
    assert.equal((await api.get(`${V}/liveEvents/channel/liveOutputs/out`)).body.properties.resourceState, 'Running');
    const vod = await videoPlaylist(`${base}/manifest(format=m3u8-cmaf)`);
    assert.match(vod.text, /#EXT-X-ENDLIST/);
    assert.ok(Math.abs(vod.seconds - 60) <= 2, `the archive plays ${vod.seconds} s`);
    const vodProbe = await probe(`${base}/manifest(format=m3u8-cmaf)`);
    assert.ok(Math.abs(Number(vodProbe.format.duration) - 60) <= 3, `ffprobe: ${vodProbe.format.duration} s`);

    const pushed: string[] = [];
    new FlvStreamReader((tag) => {
      if (tag.type === 9 && tag.data[1] === 1) pushed.push(sha(tag.data.subarray(5)));
    }).push(await fsp.readFile(source));
    const files = await fsp.readdir(path.join(archiveRoot, 'recording'));
    const videoFile = path.join(archiveRoot, 'recording', files.find((f) => f === 'channel_video.mp4') ?? '');
    const track = (await readIndex(videoFile)).tracks[0];
    const samples = track.samples.run(0, track.samples.count);
    const bytes = await fsp.readFile(videoFile);
    const archived = Array.from({ length: samples.count }, (_, i) => sha(bytes.subarray(samples.offsets[i], samples.offsets[i] + samples.sizes[i])));
    assert.ok(Math.abs(archived.length - 60 * 25) <= 50, `${archived.length} frames archived`);
    assert.deepEqual(archived, pushed.slice(-archived.length), 'the archive holds the last minute pushed, frame for frame');
    assert.deepEqual((await folderSize(spoolDir)).files, [], 'the spool is removed at stop');
  });
});
