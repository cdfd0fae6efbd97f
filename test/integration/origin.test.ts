import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { XMLParser } from 'fast-xml-parser';
import { startTestServer, type TestServer } from '../support/server.js';
import { ApiClient, login, tokenFromSession } from '../support/api.js';
import { request } from '../support/http.js';
import { makeHevcMp4, makeLadder } from '../fixtures/media.js';

interface Probe {
  format: { duration: string };
  streams: Array<{ codec_type: string; codec_name: string; width?: number; height?: number }>;
}
// The server runs in this process: tools that read from it must run asynchronously, never with *Sync.
const run = promisify(execFile);
const ffprobe = async (url: string): Promise<Probe> =>
  JSON.parse(
    (await run('ffprobe', ['-v', 'error', '-rw_timeout', '10000000', '-print_format', 'json', '-show_format', '-show_streams', url], { encoding: 'utf8' }))
      .stdout,
  ) as Probe;

/** Hash of every packet's payload, in decode order, of the first stream of `kind` (ffprobe reads it). */
async function packetHashes(input: string, kind: 'v' | 'a'): Promise<string[]> {
  const { stdout } = await run(
    'ffprobe',
    ['-v', 'error', '-select_streams', `${kind}:0`, '-show_entries', 'packet=data_hash', '-show_data_hash', 'SHA256', '-of', 'csv=p=0', input],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  return stdout.trim().split('\n').filter(Boolean);
}

const frameHashes = async (input: string): Promise<string[]> =>
  (await run('ffmpeg', ['-v', 'error', '-i', input, '-map', '0:v:0', '-f', 'framemd5', '-'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })).stdout
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(',').pop()!.trim());

describe('origin: just-in-time packaging from MP4', () => {
  let server: TestServer;
  let api: ApiClient;
  const V = '/api/v1/projects/default/media';
  const ladder = makeLadder();
  const hevc = makeHevcMp4();
  const id = '5c0ffee0-1111-4222-8333-444455556666';
  const hevcId = '5c0ffee0-1111-4222-8333-777788889999';
  let base: string;

  before(async () => {
    server = await startTestServer('sqlite');
    const cookie = await login(server.url, server.adminEmail, server.adminPassword);
    api = new ApiClient(server.url).withToken((await tokenFromSession(server.url, cookie)).token);
    const root = path.join(server.localArea(), 'vod');
    fs.mkdirSync(path.join(root, 'ladder'), { recursive: true });
    fs.mkdirSync(path.join(root, 'hevc'), { recursive: true });
    for (const f of ladder.files) fs.copyFileSync(path.join(ladder.dir, f), path.join(root, 'ladder', f));
    fs.writeFileSync(path.join(root, 'ladder', 'clip.ism'), ladder.ism);
    fs.copyFileSync(hevc, path.join(root, 'hevc', 'movie.mp4'));
    assert.equal((await api.put(`${V}/storage/vod`, { spec: { type: 'Local', path: root } }, { contract: false })).status, 201);
    for (const [asset, container] of [
      ['ladder', 'ladder'],
      ['hevc', 'hevc'],
    ]) {
      assert.equal((await api.put(`${V}/assets/${asset}`, { properties: { storageAccountName: 'vod', container } })).status, 201);
    }
    assert.equal(
      (
        await api.put(`${V}/streamingLocators/ladder`, {
          properties: { assetName: 'ladder', streamingPolicyName: 'Predefined_DownloadAndClearStreaming', streamingLocatorId: id },
        })
      ).status,
      201,
    );
    assert.equal(
      (
        await api.put(`${V}/streamingLocators/hevc`, {
          properties: { assetName: 'hevc', streamingPolicyName: 'Predefined_ClearStreamingOnly', streamingLocatorId: hevcId },
        })
      ).status,
      201,
    );
    base = `${server.url}/${id}/clip.ism`;
  });
  after(async () => {
    await server?.close();
  });

  it('serves every manifest form that ffprobe opens with the right duration and streams', async () => {
    for (const format of ['m3u8-cmaf', 'm3u8-aapl', 'mpd-time-cmaf', 'mpd-time-csf']) {
      const probe = await ffprobe(`${base}/manifest(format=${format})`);
      assert.ok(Math.abs(Number(probe.format.duration) - ladder.seconds) < 0.3, `${format}: duration ${probe.format.duration}`);
      const video = probe.streams.filter((s) => s.codec_type === 'video');
      const audio = probe.streams.filter((s) => s.codec_type === 'audio');
      assert.ok(
        video.some((s) => s.codec_name === 'h264' && s.width === 640 && s.height === 360),
        `${format}: 640x360 h264`,
      );
      assert.ok(
        video.some((s) => s.width === 320 && s.height === 180),
        `${format}: 320x180`,
      );
      assert.ok(
        audio.some((s) => s.codec_name === 'aac'),
        `${format}: aac`,
      );
    }
    const h = await ffprobe(`${server.url}/${hevcId}/manifest.ism/manifest(format=m3u8-cmaf)`);
    assert.ok(h.streams.some((s) => s.codec_name === 'hevc' && s.width === 480));
    assert.ok(Math.abs(Number(h.format.duration) - 4) < 0.3);
    const hd = await ffprobe(`${server.url}/${hevcId}/manifest.ism/manifest(format=mpd-time-cmaf)`);
    assert.ok(hd.streams.some((s) => s.codec_name === 'hevc'));
  });

  it('puts the source samples into CMAF segments byte for byte, and cuts segments on the 2 s keyframes', async () => {
    const master = (await request(`${base}/manifest(format=m3u8-cmaf)`)).body.toString();
    const variant = master.split('\n').find((l) => l.includes('QualityLevels(800000)'));
    assert.ok(variant, master);
    const playlistUrl = `${base}/${variant}`;
    const playlist = (await request(playlistUrl)).body.toString();
    const durations = [...playlist.matchAll(/#EXTINF:([\d.]+)/g)].map((m) => Number(m[1]));
    assert.deepEqual(
      durations.map((d) => Math.round(d * 1000) / 1000),
      [2, 2, 2],
    );
    const map = /#EXT-X-MAP:URI="([^"]+)"/.exec(playlist)?.[1];
    assert.ok(map);
    const uris = playlist.split('\n').filter((l) => l && !l.startsWith('#'));
    const dir = fs.mkdtempSync(path.join(server.dataDir, 'seg-'));
    const joined = path.join(dir, 'joined.mp4');
    const parts = [await request(new URL(map, playlistUrl).toString()), ...(await Promise.all(uris.map((u) => request(new URL(u, playlistUrl).toString()))))];
    for (const p of parts) assert.equal(p.status, 200);
    fs.writeFileSync(joined, Buffer.concat(parts.map((p) => p.body)));
    assert.deepEqual(await packetHashes(joined, 'v'), await packetHashes(path.join(ladder.dir, ladder.files[0]), 'v'));
    assert.equal(parts[1].headers['content-type'], 'video/mp4');
    assert.match(String(parts[1].headers['cache-control']), /immutable/);
  });

  it('muxes MPEG-TS segments that decode to the same frames as the source', async () => {
    const master = (await request(`${base}/manifest(format=m3u8-aapl)`)).body.toString();
    const variant = master.split('\n').find((l) => l.includes('QualityLevels(300000)')) as string;
    const playlistUrl = `${base}/${variant}`;
    const playlist = (await request(playlistUrl)).body.toString();
    assert.doesNotMatch(playlist, /EXT-X-MAP/);
    const uris = playlist.split('\n').filter((l) => l && !l.startsWith('#'));
    const dir = fs.mkdtempSync(path.join(server.dataDir, 'ts-'));
    const joined = path.join(dir, 'joined.ts');
    const parts = await Promise.all(uris.map((u) => request(new URL(u, playlistUrl).toString())));
    for (const p of parts) assert.equal(p.headers['content-type'], 'video/mp2t');
    fs.writeFileSync(joined, Buffer.concat(parts.map((p) => p.body)));
    assert.deepEqual(await frameHashes(joined), await frameHashes(path.join(ladder.dir, ladder.files[1])));
  });

  it('offers side-loaded WebVTT subtitles in HLS and DASH', async () => {
    const master = (await request(`${base}/manifest(format=m3u8-cmaf)`)).body.toString();
    const media = /#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="sub_eng",LANGUAGE="en".*URI="([^"]+)"/.exec(master);
    assert.ok(media, master);
    assert.match(master, /SUBTITLES="subs"/);
    const playlistUrl = `${base}/${media[1]}`;
    const playlist = (await request(playlistUrl)).body.toString();
    const uri = playlist.split('\n').find((l) => l && !l.startsWith('#')) as string;
    const vtt = await request(new URL(uri, playlistUrl).toString());
    assert.equal(vtt.status, 200);
    assert.match(String(vtt.headers['content-type']), /text\/vtt/);
    assert.match(vtt.body.toString(), /^WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000\n/);
    assert.match(vtt.body.toString(), /Cue 3/);
    const ts = (await request(`${base}/manifest(format=m3u8-aapl)`)).body.toString();
    const tsUri = /TYPE=SUBTITLES.*URI="([^"]+)"/.exec(ts)![1];
    const tsPlaylist = (await request(`${base}/${tsUri}`)).body.toString();
    const tsVtt = await request(new URL(tsPlaylist.split('\n').find((l) => l && !l.startsWith('#')) as string, `${base}/${tsUri}`).toString());
    assert.match(tsVtt.body.toString(), /X-TIMESTAMP-MAP=MPEGTS:900000,/);
    const mpd = (await request(`${base}/manifest(format=mpd-time-cmaf)`)).body.toString();
    const baseUrl = /<AdaptationSet[^>]*contentType="text" mimeType="text\/vtt" lang="en">[\s\S]*?<BaseURL>([^<]+)<\/BaseURL>/.exec(mpd);
    assert.ok(baseUrl, mpd);
    const dashVtt = await request(`${base}/${baseUrl[1].replace(/&amp;/g, '&')}`);
    assert.equal(dashVtt.status, 200);
    assert.doesNotMatch(dashVtt.body.toString(), /X-TIMESTAMP-MAP/);
  });

  it('serves a structurally valid Smooth Streaming manifest', async () => {
    const res = await request(`${base}/manifest`);
    assert.equal(res.status, 200);
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(res.body.toString()) as {
      SmoothStreamingMedia: {
        Duration: string;
        TimeScale?: string;
        StreamIndex: Array<{ Type: string; QualityLevels: string; Chunks: string; c: unknown[]; QualityLevel: unknown }>;
      };
    };
    const ssm = doc.SmoothStreamingMedia;
    const streams = Array.isArray(ssm.StreamIndex) ? ssm.StreamIndex : [ssm.StreamIndex];
    const video = streams.find((s) => s.Type === 'video')!;
    assert.equal(video.QualityLevels, '2');
    // Each `c` stands for `r` chunks (itself included) when `r` is present (Smooth 2.2).
    const chunks = (Array.isArray(video.c) ? video.c : [video.c]) as Array<{ r?: string; d: string }>;
    assert.equal(
      Number(video.Chunks),
      chunks.reduce((n, c) => n + Number(c.r ?? 1), 0),
    );
    assert.equal(Number(video.Chunks), 3);
    assert.ok(streams.some((s) => s.Type === 'audio'));
  });

  it('downloads source files with Range, answers HEAD, conditional GET, gzip and CORS', async () => {
    const file = `${server.url}/${id}/${ladder.files[2]}`;
    const ranged = await request(file, { headers: { range: 'bytes=10-19' } });
    assert.equal(ranged.status, 206);
    assert.deepEqual(ranged.body, fs.readFileSync(path.join(ladder.dir, ladder.files[2])).subarray(10, 20));
    const head = await request(`${base}/manifest(format=mpd-time-cmaf)`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.body.length, 0);
    assert.equal(head.headers['content-type'], 'application/dash+xml');
    const etag = String(head.headers.etag);
    assert.equal((await request(`${base}/manifest(format=mpd-time-cmaf)`, { headers: { 'if-none-match': etag } })).status, 304);
    const zipped = await request(`${base}/manifest(format=mpd-time-cmaf)`, { headers: { 'accept-encoding': 'gzip', origin: 'https://player.example' } });
    assert.equal(zipped.headers['content-encoding'], 'gzip');
    assert.match(gunzipSync(zipped.body).toString(), /<MPD/);
    assert.equal(zipped.headers['access-control-allow-origin'], '*');
    assert.match(String(zipped.headers['cache-control']), /max-age=60/);
    // Download is not enabled by the HEVC locator's policy.
    assert.equal((await request(`${server.url}/${hevcId}/movie.mp4`)).status, 403);
  });

  it('serves only inside the locator window, only from running endpoints, and on endpoint hosts', async () => {
    const future = new Date(Date.now() + 3600_000).toISOString();
    const past = new Date(Date.now() - 3600_000).toISOString();
    await api.put(`${V}/streamingLocators/later`, {
      properties: {
        assetName: 'ladder',
        streamingPolicyName: 'Predefined_ClearStreamingOnly',
        streamingLocatorId: '00000000-0000-4000-8000-00000000000a',
        startTime: future,
      },
    });
    await api.put(`${V}/streamingLocators/expired`, {
      properties: {
        assetName: 'ladder',
        streamingPolicyName: 'Predefined_ClearStreamingOnly',
        streamingLocatorId: '00000000-0000-4000-8000-00000000000b',
        startTime: new Date(Date.now() - 7200_000).toISOString(),
        endTime: past,
      },
    });
    assert.equal((await request(`${server.url}/00000000-0000-4000-8000-00000000000a/clip.ism/manifest(format=m3u8-cmaf)`)).status, 404);
    assert.equal((await request(`${server.url}/00000000-0000-4000-8000-00000000000b/clip.ism/manifest(format=m3u8-cmaf)`)).status, 410);
    assert.equal((await request(`${server.url}/00000000-0000-4000-8000-00000000000c/clip.ism/manifest(format=m3u8-cmaf)`)).status, 404);

    const port = new URL(server.url).port;
    assert.equal((await api.put(`${V}/streamingEndpoints/second`, { location: 'local', properties: { scaleUnits: 0 } })).status, 201);
    const onSecond = (p: string) => request(`${server.url}${p}`, { host: `second-default.localhost:${port}` });
    assert.equal((await onSecond(`/${id}/clip.ism/manifest(format=m3u8-cmaf)`)).status, 503, 'a stopped endpoint does not serve');
    await api.post(`${V}/streamingEndpoints/second/start`);
    await new Promise((r) => setTimeout(r, 2100));
    assert.equal((await onSecond(`/${id}/clip.ism/manifest(format=m3u8-cmaf)`)).status, 200);
    assert.equal((await request(`${server.url}/${id}/clip.ism/manifest(format=m3u8-cmaf)`, { host: `nope-default.localhost:${port}` })).status, 404);
    await api.post(`${V}/streamingEndpoints/default/stop`);
    await new Promise((r) => setTimeout(r, 2100));
    assert.equal((await request(`${base}/manifest(format=m3u8-cmaf)`)).status, 503);
    await api.post(`${V}/streamingEndpoints/default/start`);
    await new Promise((r) => setTimeout(r, 2100));
    assert.equal((await request(`${base}/manifest(format=m3u8-cmaf)`)).status, 200);
  });

  it('answers a repeated URL as it did the first time, until its locator is deleted', async () => {
    const again = '5c0ffee0-1111-4222-8333-aaaabbbbcccc';
    await api.put(`${V}/streamingLocators/again`, {
      properties: { assetName: 'ladder', streamingPolicyName: 'Predefined_ClearStreamingOnly', streamingLocatorId: again },
    });
    const root = `${server.url}/${again}/clip.ism`;
    const master = (await request(`${root}/manifest(format=m3u8-cmaf)`)).body.toString();
    const playlistUrl = `${root}/${master.split('\n').find((l) => l.startsWith('QualityLevels(800000)'))}`;
    const playlist = (await request(playlistUrl)).body.toString();
    const segmentUrl = new URL(playlist.split('\n').find((l) => l && !l.startsWith('#')) as string, playlistUrl).toString();
    const withoutDate = (h: Record<string, unknown>) => Object.fromEntries(Object.entries(h).filter(([k]) => k !== 'date'));
    for (const [url, headers] of [
      [playlistUrl, {}],
      [playlistUrl, { 'accept-encoding': 'gzip' }],
      [segmentUrl, {}],
    ] as const) {
      const answers = [await request(url, { headers }), await request(url, { headers }), await request(url, { headers })];
      for (const a of answers.slice(1)) {
        assert.equal(a.status, 200);
        assert.deepEqual(withoutDate(a.headers), withoutDate(answers[0].headers), `${url} ${JSON.stringify(headers)}: same headers every time`);
        assert.ok(a.body.equals(answers[0].body), `${url}: same bytes every time`);
      }
    }
    const conditional = await request(segmentUrl, { headers: { 'if-none-match': String((await request(segmentUrl)).headers.etag) } });
    assert.equal(conditional.status, 304);
    assert.equal((await request(segmentUrl, { method: 'HEAD' })).body.length, 0);

    // An endpoint whose CORS depends on the page's origin answers each request for its own origin.
    const port = new URL(server.url).port;
    const policy =
      '<?xml version="1.0"?><access-policy><cross-domain-access><policy><allow-from><domain uri="https://a.example"/></allow-from></policy></cross-domain-access></access-policy>';
    const created = await api.put(`${V}/streamingEndpoints/picky`, {
      location: 'local',
      properties: { scaleUnits: 0, crossSiteAccessPolicies: { clientAccessPolicy: policy } },
    });
    assert.equal(created.status, 201);
    await api.post(`${V}/streamingEndpoints/picky/start`);
    const onPicky = (origin: string) => request(segmentUrl, { host: `picky-default.localhost:${port}`, headers: { origin } });
    for (const origin of ['https://a.example', 'https://b.example', 'https://a.example', 'https://b.example']) {
      const res = await onPicky(origin);
      assert.equal(res.status, 200);
      assert.equal(res.headers['access-control-allow-origin'], origin === 'https://a.example' ? origin : undefined, origin);
    }

    assert.equal((await api.delete(`${V}/streamingLocators/again`)).status, 200);
    await new Promise((r) => setTimeout(r, 2100)); // the resolver's cache lifetime
    for (const url of [playlistUrl, segmentUrl]) assert.equal((await request(url)).status, 404, `${url} stops with its locator`);
  });

  it('answers bad input with clear errors and stays healthy', async () => {
    const cases: Array<[string, number]> = [
      [`/${id}/clip.ism/QualityLevels(800000)/Fragments(video=99999999999999999999,format=m3u8-cmaf)`, 400],
      [`/${id}/clip.ism/QualityLevels(800000)/Fragments(video=123,format=m3u8-cmaf)`, 404],
      [`/${id}/clip.ism/QualityLevels(1)/Fragments(video=0,format=m3u8-cmaf)`, 404],
      [`/${id}/..%2F..%2Fetc/passwd`, 400],
      [`/${id}/clip.ism/manifest(format=flash)`, 400],
      [`/${id}/clip.ism/manifest(format=m3u8-cmaf,format=mpd-time-cmaf)`, 400],
      [`/${id}/other.ism/manifest(format=m3u8-cmaf)`, 404],
    ];
    for (const [p, status] of cases) {
      const res = await request(`${server.url}${p}`);
      assert.equal(res.status, status, `${p}: ${res.body.toString().slice(0, 200)}`);
      assert.equal(res.headers['access-control-allow-origin'], '*', 'errors carry CORS so players see the status');
      const body = JSON.parse(res.body.toString()) as { error: { code: string; detail: string } };
      assert.equal(typeof body.error.detail, 'string');
      assert.doesNotMatch(res.body.toString(), /\.ts:\d+/);
    }
    // A corrupt MP4 (truncated inside moov) answers an error, never crashes or poisons the cache.
    const root = path.join(server.localArea(), 'vod', 'broken');
    fs.mkdirSync(root, { recursive: true });
    const good = fs.readFileSync(path.join(ladder.dir, ladder.files[0]));
    fs.writeFileSync(path.join(root, 'broken.mp4'), good.subarray(0, Math.floor(good.length / 3)));
    await api.put(`${V}/assets/broken`, { properties: { storageAccountName: 'vod', container: 'broken' } });
    await api.put(`${V}/streamingLocators/broken`, {
      properties: { assetName: 'broken', streamingPolicyName: 'Predefined_ClearStreamingOnly', streamingLocatorId: '00000000-0000-4000-8000-0000000000ff' },
    });
    const broken = await request(`${server.url}/00000000-0000-4000-8000-0000000000ff/manifest.ism/manifest(format=m3u8-cmaf)`);
    assert.ok(broken.status >= 400 && broken.status < 600, String(broken.status));
    assert.match(JSON.parse(broken.body.toString()).error.detail, /moov|truncat|corrupt|offset/i);
    assert.equal((await request(`${server.url}/health`)).status, 200);
    // Fixing the file makes it play: the failure was not cached as a result.
    fs.writeFileSync(path.join(root, 'broken.mp4'), good);
    await new Promise((r) => setTimeout(r, 50));
    const fixed = await request(`${server.url}/00000000-0000-4000-8000-0000000000ff/manifest.ism/manifest(format=m3u8-cmaf)`);
    assert.equal(fixed.status, 200, fixed.body.toString());
  });
});
