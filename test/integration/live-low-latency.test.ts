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
import { createAndStartLiveEvent, createRecordingAsset, liveEventBody, makeFlvSource, pushRtmp, recordAndPublish } from '../support/live-events.js';

// The server runs in this process: tools that talk to it run asynchronously, never with *Sync.
const run = promisify(execFile);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Part {
  segmentStart: number;
  index: number;
  durationSec: number;
  independent: boolean;
  uri: string;
}

/** What a test needs of an LL-HLS media playlist: the last segment's number, the parts, the hint, the clock. */
function readPlaylist(text: string) {
  const lines = text.trimEnd().split('\n');
  const sequence = Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(text)?.[1]);
  const segments = lines.filter((l) => l.startsWith('Fragments('));
  const parts: Part[] = lines
    .filter((l) => l.startsWith('#EXT-X-PART:'))
    .map((l) => {
      const uri = /URI="([^"]+)"/.exec(l)![1];
      const m = /=(\d+),format=m3u8-cmaf,part=(\d+)/.exec(uri)!;
      return {
        segmentStart: Number(m[1]),
        index: Number(m[2]),
        durationSec: Number(/DURATION=([\d.]+)/.exec(l)![1]),
        independent: l.includes('INDEPENDENT=YES'),
        uri,
      };
    });
  const firstStart = Number(/=(\d+),format/.exec(segments[0] ?? '')?.[1]);
  const pdt = Date.parse(/#EXT-X-PROGRAM-DATE-TIME:(\S+)/.exec(text)?.[1] ?? '');
  return {
    lines,
    lastMsn: sequence + segments.length - 1,
    segmentStarts: segments.map((l) => Number(/=(\d+),format/.exec(l)![1])),
    parts,
    hint: /#EXT-X-PRELOAD-HINT:TYPE=PART,URI="([^"]+)"/.exec(text)?.[1],
    /** Wall-clock ms of tick 0 (the first frame's arrival), from the first segment's PROGRAM-DATE-TIME. */
    availabilityStartMs: pdt - (firstStart * 1000) / 90000,
  };
}

describe('LowLatency live event: LL-HLS parts, preload hints and blocking playlist reloads over RTMP', () => {
  let server: TestServer;
  let api: ApiClient;
  let source: string;
  let tmp: string;
  const V = '/api/v1/projects/default/media';
  const locatorId = crypto.randomUUID();
  const sourceSec = 16;

  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'reel-ll-test-'));
    source = path.join(tmp, 'source.flv');
    // 1 s GOPs at 25 fps, as an encoder set up for low latency sends them.
    await makeFlvSource(source, { seconds: sourceSec });
    server = await startTestServer('sqlite', { REEL_LIVE_RTMP_PORT: '0' });
    const cookie = await login(server.url, server.adminEmail, server.adminPassword);
    api = new ApiClient(server.url).withToken((await tokenFromSession(server.url, cookie)).token);
    const root = path.join(server.localArea(), 'll');
    await createRecordingAsset(api, V, root, { storageName: 'll', assetName: 'll-recording' });
  });

  after(async () => {
    await server?.close();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('lists parts and a preload hint, serves parts that decode, and holds blocking reloads until the segment is there', async (t) => {
    const { rtmpUrl } = await createAndStartLiveEvent(api, V, 'fast', liveEventBody({ streamOptions: ['LowLatency'], keyFrameIntervalDuration: 'PT1S' }));
    await recordAndPublish(api, V, { eventName: 'fast', assetName: 'll-recording', manifestName: 'fast', locatorName: 'fast', locatorId });

    const live = pushRtmp(source, `${rtmpUrl}/stream`);
    const base = `${server.url}/${locatorId}/fast.ism`;
    let mediaUrl = '';
    let text = '';
    for (let i = 0; i < 100 && !text; i++) {
      const master = await request(`${base}/manifest(format=m3u8-cmaf)`);
      if (master.status === 200) {
        const lines = master.body.toString().split('\n');
        mediaUrl = new URL(lines[lines.findIndex((l) => l.startsWith('#EXT-X-STREAM-INF')) + 1], `${base}/`).toString();
        const res = await request(mediaUrl);
        if (res.status === 200 && res.body.toString().includes('#EXT-X-PART:')) text = res.body.toString();
      }
      if (!text) await sleep(100);
    }
    assert.ok(text, 'the live media playlist lists parts while the stream runs');
    const rel = (uri: string) => new URL(uri, mediaUrl).toString();

    // The playlist: LL-HLS header tags, parts of at most the part target, a hint for the next part.
    const first = readPlaylist(text);
    assert.ok(first.lines.includes('#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1.000'), text);
    assert.ok(first.lines.includes('#EXT-X-PART-INF:PART-TARGET=0.333'), text);
    assert.ok(first.lines.includes('#EXT-X-TARGETDURATION:1'), text);
    assert.ok(first.hint, `a preload hint: ${text}`);
    assert.ok(
      first.parts.every((p) => p.durationSec <= 1 / 3),
      text,
    );
    // TS playlists stay regular live HLS.
    const tsMedia = await request(mediaUrl.replace('format=m3u8-cmaf', 'format=m3u8-aapl'));
    assert.equal(tsMedia.status, 200);
    assert.ok(!tsMedia.body.toString().includes('#EXT-X-PART'), 'no parts in TS playlists');

    // A part decodes after the init segment.
    const init = await request(rel(/#EXT-X-MAP:URI="([^"]+)"/.exec(text)![1]));
    const independent = first.parts.find((p) => p.independent)!;
    const partRes = await request(rel(independent.uri));
    assert.equal(partRes.status, 200);
    assert.equal(partRes.headers['content-type'], 'video/mp4');
    const partFile = path.join(tmp, 'part.mp4');
    fs.writeFileSync(partFile, Buffer.concat([init.body, partRes.body]));
    const probe = JSON.parse(
      (
        await run('ffprobe', [
          '-v',
          'error',
          '-count_frames',
          '-select_streams',
          'v:0',
          '-show_entries',
          'stream=codec_name,width,nb_read_frames',
          '-of',
          'json',
          partFile,
        ])
      ).stdout,
    ) as { streams: Array<{ codec_name: string; width: number; nb_read_frames: string }> };
    assert.deepEqual(probe.streams[0], { codec_name: 'h264', width: 640, nb_read_frames: String(Math.round(independent.durationSec * 25)) });

    // The hinted part does not exist yet: the request is held until it does.
    const hintAsked = Date.now();
    assert.ok(first.hint);
    const hinted = await request(rel(first.hint));
    const hintHeldMs = Date.now() - hintAsked;
    assert.equal(hinted.status, 200, hinted.body.toString().slice(0, 200));
    assert.ok(hinted.body.byteLength > 0);

    // Blocking reload for the next whole segment: answered once it is listed, not before.
    const latest = readPlaylist((await request(mediaUrl)).body.toString());
    const next = latest.lastMsn + 1;
    const asked = Date.now();
    const blocked = await request(`${mediaUrl}?_HLS_msn=${next}`);
    const heldMs = Date.now() - asked;
    assert.equal(blocked.status, 200, blocked.body.toString().slice(0, 200));
    assert.ok(readPlaylist(blocked.body.toString()).lastMsn >= next, `segment ${next} is listed when the blocked reload returns`);
    // A segment already listed answers at once; one too far ahead is refused; _HLS_part alone is malformed.
    assert.equal((await request(`${mediaUrl}?_HLS_msn=${next}`)).status, 200);
    assert.equal((await request(`${mediaUrl}?_HLS_msn=${next + 10}`)).status, 400);
    assert.equal((await request(`${mediaUrl}?_HLS_part=1`)).status, 400);

    // Part by part: each blocking reload for the hinted part returns once it is listed. How long after its
    // frames reached the server (tick 0 is the first frame's arrival, and ffmpeg -re sends in real time)?
    const sinceFirstFrame: number[] = [];
    const sinceLastFrame: number[] = [];
    const partHolds: number[] = [];
    let current = readPlaylist(blocked.body.toString());
    for (let i = 0; i < 16 && sinceFirstFrame.length < 10; i++) {
      // The hint names the next part; the reload asks for the part after the last one listed, as hls.js does.
      const hint = /=(\d+),format=m3u8-cmaf,part=(\d+)/.exec(current.hint ?? '');
      assert.ok(hint, `a preload hint in every live playlist: ${current.hint}`);
      const [segmentStart, k] = [Number(hint[1]), Number(hint[2])];
      const lastPart = current.parts.at(-1)!;
      // The open segment is the one after the last listed; its next part, or its first when none is listed yet.
      const nextPart = lastPart.segmentStart > current.segmentStarts.at(-1)! ? lastPart.index + 1 : 0;
      const at = Date.now();
      const res = await request(`${mediaUrl}?_HLS_msn=${current.lastMsn + 1}&_HLS_part=${nextPart}`);
      const listedMs = Date.now();
      assert.equal(res.status, 200);
      current = readPlaylist(res.body.toString());
      const part = current.parts.find((p) => p.segmentStart === segmentStart && p.index === k);
      // The segment closed without that part (its last part ended it): the next reload catches up.
      if (!part) continue;
      partHolds.push(listedMs - at);
      const offsetSec = current.parts.filter((p) => p.segmentStart === segmentStart && p.index < k).reduce((sum, p) => sum + p.durationSec, 0);
      const startMs = current.availabilityStartMs + (segmentStart * 1000) / 90000 + offsetSec * 1000;
      sinceFirstFrame.push(listedMs - startMs);
      sinceLastFrame.push(listedMs - (startMs + part.durationSec * 1000 - 40));
    }
    assert.ok(sinceFirstFrame.length >= 5, 'blocking reloads follow the parts as they come');
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
    t.diagnostic(`preload-hinted part held ${hintHeldMs} ms; blocking reload for segment ${next} held ${heldMs} ms`);
    t.diagnostic(`part reloads held ${partHolds.join(', ')} ms`);
    t.diagnostic(
      `part listed after its first frame arrived: median ${median(sinceFirstFrame).toFixed(0)} ms (${sinceFirstFrame.map((x) => x.toFixed(0)).join(', ')})`,
    );
    t.diagnostic(
      `part listed after its last frame arrived: median ${median(sinceLastFrame).toFixed(0)} ms (${sinceLastFrame.map((x) => x.toFixed(0)).join(', ')})`,
    );

    live.kill();
    await live.done;
    assert.equal((await api.post(`${V}/liveEvents/fast/stop`)).status, 200);
    // Archived: the VOD playlist has no parts, and a part URL is gone.
    const vod = await request(mediaUrl);
    assert.equal(vod.status, 200);
    assert.ok(!vod.body.toString().includes('#EXT-X-PART') && vod.body.toString().includes('#EXT-X-ENDLIST'));
    assert.equal((await request(rel(independent.uri))).status, 404);
  });
});
