/**
 * Issue 15's manifest options against a real server and ffmpeg-made media: `.m3u8`/`.mpd` suffix aliases,
 * `audio-only=false`, HLS I-frame playlists (each entry decoded by ffmpeg as one frame, the source's keyframe),
 * and the VOD time options carried into child URLs.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFile, execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startTestServer, type TestServer } from '../support/server.js';
import { ApiClient, login, tokenFromSession } from '../support/api.js';
import { request } from '../support/http.js';

// The server runs in this process: tools that read from it must run asynchronously, never with *Sync.
const run = promisify(execFile);
const cacheDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', '.cache');

/**
 * 6 s of 640x360 H.264 with 1 s GOPs (keyframes at 0, 1 … 5 s, B-frames on) and AAC: with the server's 2 s
 * segments every segment holds two keyframes, one of them in its middle. Made by ffmpeg once, before the server
 * starts.
 */
function makeShortGopMp4(): string {
  const file = path.join(cacheDir, 'short-gop-640x360-6s.mp4');
  if (fs.existsSync(file)) return file;
  fs.mkdirSync(cacheDir, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp.mp4`;
  execFileSync('ffmpeg', [
    ...['-hide_banner', '-loglevel', 'error', '-y'],
    ...['-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25:duration=6'],
    ...['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000:duration=6'],
    ...['-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-g', '25', '-keyint_min', '25', '-sc_threshold', '0', '-bf', '2', '-b:v', '600k'],
    ...['-c:a', 'aac', '-b:a', '64k', '-metadata:s:a:0', 'language=eng', '-movflags', '+faststart', '-shortest', tmp],
  ]);
  fs.renameSync(tmp, file);
  return file;
}

const ism = `<?xml version="1.0" encoding="utf-8"?>
<smil xmlns="http://www.w3.org/2001/SMIL20/Language">
  <head><meta name="formats" content="mp4-v3" /></head>
  <body>
    <switch>
      <video src="movie.mp4" systemBitrate="600000"><param name="trackID" value="1" valuetype="data" /><param name="trackName" value="video" valuetype="data" /></video>
      <audio src="movie.mp4" systemBitrate="64000" systemLanguage="eng"><param name="trackID" value="2" valuetype="data" /><param name="trackName" value="aac_eng_2_64" valuetype="data" /></audio>
    </switch>
  </body>
</smil>
`;

/** MD5 of every decoded video frame of `input`, in presentation order. */
async function frameHashes(input: string): Promise<string[]> {
  const { stdout } = await run('ffmpeg', ['-v', 'error', '-i', input, '-map', '0:v:0', '-f', 'framemd5', '-'], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(',').pop()!.trim());
}

/** Decode times (seconds) of the source's video keyframes. */
async function sourceKeyframeDts(file: string): Promise<number[]> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'packet=dts_time,flags', '-of', 'csv=p=0', file], {
    encoding: 'utf8',
  });
  return stdout
    .trim()
    .split('\n')
    .map((l) => l.split(','))
    .filter(([, flags]) => flags?.startsWith('K'))
    .map(([dts]) => Number(dts));
}

/** Frames ffprobe decodes from a file, with their picture types. */
async function decodedFrames(file: string): Promise<string[]> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'frame=pict_type,key_frame', '-of', 'csv=p=0', file], {
    encoding: 'utf8',
  });
  // csv rows may end with empty side-data columns: `1,I,`.
  return stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => l.replace(/,+$/, ''));
}

describe('manifest options (issue 15)', () => {
  let server: TestServer;
  let api: ApiClient;
  const V = '/api/v1/projects/default/media';
  const source = makeShortGopMp4();
  const id = '5c0ffee0-1515-4222-8333-444455556666';
  let base: string;
  let sourceFrames: string[];

  before(async () => {
    server = await startTestServer('sqlite');
    const cookie = await login(server.url, server.adminEmail, server.adminPassword);
    api = new ApiClient(server.url).withToken((await tokenFromSession(server.url, cookie)).token);
    const root = path.join(server.localArea(), 'vod');
    fs.mkdirSync(path.join(root, 'short-gop'), { recursive: true });
    fs.copyFileSync(source, path.join(root, 'short-gop', 'movie.mp4'));
    fs.writeFileSync(path.join(root, 'short-gop', 'movie.ism'), ism);
    assert.equal((await api.put(`${V}/storage/vod`, { spec: { type: 'Local', path: root } }, { contract: false })).status, 201);
    assert.equal((await api.put(`${V}/assets/short-gop`, { properties: { storageAccountName: 'vod', container: 'short-gop' } })).status, 201);
    const locator = await api.put(`${V}/streamingLocators/short-gop`, {
      properties: { assetName: 'short-gop', streamingPolicyName: 'Predefined_ClearStreamingOnly', streamingLocatorId: id },
    });
    assert.equal(locator.status, 201);
    base = `${server.url}/${id}/movie.ism`;
    sourceFrames = await frameHashes(source);
  });
  after(async () => {
    await server?.close();
  });

  it('.m3u8 and .mpd suffixes serve the CMAF manifests, or the format= they name, and refuse a mismatch', async () => {
    const pairs: Array<[string, string, string]> = [
      ['manifest.m3u8', 'manifest(format=m3u8-cmaf)', 'application/vnd.apple.mpegurl'],
      ['manifest.mpd', 'manifest(format=mpd-time-cmaf)', 'application/dash+xml'],
      ['manifest(format=m3u8-aapl).m3u8', 'manifest(format=m3u8-aapl)', 'application/vnd.apple.mpegurl'],
      ['manifest(format=mpd-time-csf).mpd', 'manifest(format=mpd-time-csf)', 'application/dash+xml'],
      ['manifest(audio-only=false).m3u8', 'manifest(format=m3u8-cmaf,audio-only=false)', 'application/vnd.apple.mpegurl'],
    ];
    for (const [alias, plain, type] of pairs) {
      const [a, b] = await Promise.all([request(`${base}/${alias}`), request(`${base}/${plain}`)]);
      assert.equal(a.status, 200, `${alias}: ${a.body.toString().slice(0, 200)}`);
      assert.equal(a.headers['content-type'], type, alias);
      assert.equal(a.body.toString(), b.body.toString(), `${alias} is ${plain}`);
    }
    for (const name of ['manifest.m3u8', 'manifest.mpd']) {
      const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', `${base}/${name}`], { encoding: 'utf8' });
      assert.ok(Math.abs(Number(stdout.trim()) - 6) < 0.3, `${name}: duration ${stdout}`);
    }
    const mismatch = await request(`${base}/manifest(format=mpd-time-cmaf).m3u8`);
    assert.equal(mismatch.status, 400);
    const body = JSON.parse(mismatch.body.toString()) as { error: { code: string; detail: string } };
    assert.equal(body.error.code, 'InvalidPlaybackPath');
    assert.match(body.error.detail, /does not match the \.m3u8 suffix/);
  });

  it('audio-only=false leaves the audio-only variant out of the HLS multivariant playlist', async () => {
    const variants = async (options: string) =>
      (await request(`${base}/manifest(${options})`)).body
        .toString()
        .split('\n')
        .filter((l) => l.startsWith('#EXT-X-STREAM-INF:'));
    for (const format of ['m3u8-cmaf', 'm3u8-aapl']) {
      const all = await variants(`format=${format}`);
      assert.equal(all.length, 2, all.join('\n'));
      assert.equal(all.filter((l) => !l.includes('RESOLUTION=')).length, 1, 'an audio-only variant by default');
      const videoOnly = await variants(`format=${format},audio-only=false`);
      assert.deepEqual(videoOnly, [all.find((l) => l.includes('RESOLUTION='))]);
      assert.equal((await variants(`format=${format},audio-only=true`)).length, 2);
    }
    assert.equal((await request(`${base}/manifest(format=m3u8-cmaf,audio-only=maybe)`)).status, 400);
  });

  for (const format of ['m3u8-cmaf', 'm3u8-aapl'] as const) {
    it(`${format}: the I-frame playlist lists every keyframe, each fetched alone decodes to that one source frame`, async () => {
      const master = (await request(`${base}/manifest(format=${format})`)).body.toString();
      const info = master.split('\n').filter((l) => l.startsWith('#EXT-X-I-FRAME-STREAM-INF:'));
      assert.equal(info.length, 1, master);
      assert.match(info[0], /BANDWIDTH=\d+,AVERAGE-BANDWIDTH=\d+,CODECS="avc1\.[0-9a-f]{6}",RESOLUTION=640x360,URI="/);
      const uri = /URI="([^"]+)"/.exec(info[0])![1];
      assert.equal(uri, `QualityLevels(600000)/Manifest(video,format=${format},type=keyframes)`);
      const playlistUrl = `${base}/${uri}`;
      const response = await request(playlistUrl);
      assert.equal(response.status, 200);
      assert.equal(response.headers['content-type'], 'application/vnd.apple.mpegurl');
      const playlist = response.body.toString();
      assert.match(playlist, /\n#EXT-X-I-FRAMES-ONLY\n/);
      assert.match(playlist, /\n#EXT-X-ENDLIST\n$/);
      const entries = playlist.split('\n').filter((l) => l && !l.startsWith('#'));
      const durations = [...playlist.matchAll(/#EXTINF:([\d.]+),/g)].map((m) => Number(m[1]));

      // Only keyframes: one entry per source keyframe (1 s apart), addressed by its decode time (timescale 12800).
      const keyDts = await sourceKeyframeDts(source);
      assert.equal(keyDts.length, 6);
      assert.equal(entries.length, keyDts.length, playlist);
      const starts = entries.map((e) => Number(/=(\d+),/.exec(e)![1]) / 12800);
      const firstDts = keyDts[0];
      assert.deepEqual(
        starts.map((s) => s.toFixed(3)),
        keyDts.map((d) => (d - firstDts).toFixed(3)),
      );
      assert.deepEqual(durations, [1, 1, 1, 1, 1, 1]);

      const map = /#EXT-X-MAP:URI="([^"]+)"/.exec(playlist)?.[1];
      assert.equal(map !== undefined, format === 'm3u8-cmaf');
      const init = map ? (await request(new URL(map, playlistUrl).toString())).body : Buffer.alloc(0);
      const dir = fs.mkdtempSync(path.join(server.dataDir, 'iframes-'));
      for (const [k, entry] of entries.entries()) {
        const res = await request(new URL(entry, playlistUrl).toString());
        assert.equal(res.status, 200, `${entry}: ${res.body.toString().slice(0, 200)}`);
        assert.equal(res.headers['content-type'], format === 'm3u8-cmaf' ? 'video/mp4' : 'video/mp2t');
        const file = path.join(dir, `${k}.${format === 'm3u8-cmaf' ? 'mp4' : 'ts'}`);
        fs.writeFileSync(file, Buffer.concat([init, res.body]));
        assert.deepEqual(await decodedFrames(file), ['1,I'], `${entry}: one key frame`);
        // The keyframe of second k is the source's frame 25 k (presentation order), decoded bit-exact.
        assert.deepEqual(await frameHashes(file), [sourceFrames[25 * k]], `${entry}: the source's frame ${25 * k}`);
      }
      // A repeat (the origin's hot path) answers the same bytes.
      const again = await Promise.all([1, 2].map(() => request(new URL(entries[3], playlistUrl).toString())));
      assert.deepEqual(again[0].body, again[1].body);
    });
  }

  it('keyframe URLs that name no keyframe, audio or DASH answer 4xx', async () => {
    const cases: Array<[string, number]> = [
      ['QualityLevels(600000)/Fragments(video=512,format=m3u8-cmaf,type=keyframes)', 404], // a frame, not a keyframe
      ['QualityLevels(600000)/Fragments(video=999999999,format=m3u8-cmaf,type=keyframes)', 404],
      ['QualityLevels(64000)/Manifest(aac_eng_2_64,format=m3u8-cmaf,type=keyframes)', 404],
      ['QualityLevels(64000)/Fragments(aac_eng_2_64=0,format=m3u8-cmaf,type=keyframes)', 404],
      ['QualityLevels(600000)/Manifest(video,format=mpd-time-cmaf,type=keyframes)', 400],
      ['QualityLevels(600000)/Fragments(video=i,format=m3u8-cmaf,type=keyframes)', 400],
      ['manifest(format=m3u8-cmaf,type=keyframes)', 400],
    ];
    for (const [p, status] of cases) {
      const res = await request(`${base}/${p}`);
      assert.equal(res.status, status, `${p}: ${res.body.toString().slice(0, 200)}`);
      assert.equal(typeof (JSON.parse(res.body.toString()) as { error: { detail: string } }).error.detail, 'string');
    }
  });

  it('vbegin/vend are accepted and carried into every child URL, I-frame playlists included', async () => {
    const master = (await request(`${base}/manifest(format=m3u8-cmaf,vbegin=PT2S,vend=PT4S)`)).body.toString();
    const uris = [...master.matchAll(/URI="([^"]+)"/g)].map((m) => m[1]).concat(master.split('\n').filter((l) => l.startsWith('QualityLevels(')));
    assert.ok(uris.length >= 3, master);
    for (const uri of uris) assert.match(uri, /,vbegin=PT2S,vend=PT4S\)$/, uri);
    const iframes = (await request(`${base}/QualityLevels(600000)/Manifest(video,format=m3u8-cmaf,type=keyframes,vbegin=PT2S,vend=PT4S)`)).body.toString();
    const first = iframes.split('\n').find((l) => l.startsWith('Fragments('));
    assert.match(first ?? '', /type=keyframes,vbegin=PT2S,vend=PT4S\)\.m4s$/);
    assert.equal((await request(`${base}/QualityLevels(600000)/${first}`)).status, 200);
    assert.equal((await request(`${base}/manifest(format=m3u8-cmaf,vbegin=PT4S,vend=PT2S)`)).status, 400);
  });

  it('vbegin/vend trim the media playlists to the segments of that range, with the unfiltered segment URLs', async () => {
    const segments = (text: string) => text.split('\n').filter((l) => l.startsWith('Fragments('));
    const whole = (await request(`${base}/QualityLevels(600000)/Manifest(video,format=m3u8-cmaf)`)).body.toString();
    const clip = (await request(`${base}/QualityLevels(600000)/Manifest(video,format=m3u8-cmaf,vbegin=PT2S,vend=PT4S)`)).body.toString();
    const seconds = [...clip.matchAll(/#EXTINF:([\d.]+),/g)].reduce((sum, m) => sum + Number(m[1]), 0);
    assert.ok(Math.abs(seconds - 2) < 0.05, clip);
    assert.equal(segments(clip).length, 1, clip);
    // The same segment as the unfiltered playlist's second one: same time, only the options differ.
    assert.equal(segments(clip)[0].replace(',vbegin=PT2S,vend=PT4S', ''), segments(whole)[1]);
    const mpdAnswer = await request(`${base}/manifest(format=mpd-time-cmaf,vbegin=PT2S,vend=PT4S)`);
    const mpd = mpdAnswer.body.toString();
    assert.equal(mpdAnswer.status, 200, `${mpdAnswer.status} ${mpd}`);
    // The clip's segments, audio's included (an AAC frame may end a few ms past the video's).
    const duration = Number(/mediaPresentationDuration="PT([\d.]+)S"/.exec(mpd)?.[1]);
    assert.ok(Math.abs(duration - 2) < 0.1, mpd);
  });
});
