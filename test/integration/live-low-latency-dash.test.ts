import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
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

/** A GET that notes when each piece of the body arrived (ms since the request was sent). */
function timedGet(url: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer; arrivals: Array<{ atMs: number; bytes: number }> }> {
  const sent = performance.now();
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        const chunks: Buffer[] = [];
        const arrivals: Array<{ atMs: number; bytes: number }> = [];
        res.on('data', (c: Buffer) => {
          chunks.push(c);
          arrivals.push({ atMs: performance.now() - sent, bytes: c.byteLength });
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), arrivals }));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

/** The top-level box types of an fMP4 body. */
function boxTypes(body: Buffer): string[] {
  const types: string[] = [];
  for (let at = 0; at + 8 <= body.byteLength;) {
    const size = body.readUInt32BE(at);
    types.push(body.toString('latin1', at + 4, at + 8));
    if (size < 8) break;
    at += size;
  }
  return types;
}

/** The video Representation of a live MPD: its templates, timescale and timeline. */
function videoOf(mpd: string) {
  const set = /<AdaptationSet[^>]*contentType="video"[\s\S]*?<\/AdaptationSet>/.exec(mpd)?.[0] ?? '';
  const bandwidth = /<Representation[^>]*bandwidth="(\d+)"/.exec(set)?.[1] ?? '';
  const template = /<SegmentTemplate([^>]*)>/.exec(set)?.[1] ?? '';
  const attr = (name: string) => new RegExp(`${name}="([^"]*)"`).exec(template)?.[1];
  const s = [...set.matchAll(/<S (?:t="(\d+)" )?d="(\d+)"(?: r="(\d+)")?\/>/g)];
  const starts: number[] = [];
  let next = 0;
  for (const [, t, d, r] of s) {
    if (t !== undefined) next = Number(t);
    for (let i = 0; i <= Number(r ?? 0); i++) {
      starts.push(next);
      next += Number(d);
    }
  }
  const url = (template: string | undefined, time: number | 'i') =>
    (template ?? '').replaceAll('&amp;', '&').replace('$Bandwidth$', bandwidth).replace('$Time$', String(time));
  return {
    timescale: Number(attr('timescale')),
    availabilityTimeOffset: attr('availabilityTimeOffset'),
    availabilityTimeComplete: attr('availabilityTimeComplete'),
    starts,
    init: url(attr('initialization'), 'i'),
    media: (time: number) => url(attr('media'), time),
  };
}

async function videoFrames(file: string): Promise<{ codec_name: string; width: number; nb_read_frames: string }> {
  const { stdout } = await run('ffprobe', [
    ...['-v', 'error', '-count_frames', '-select_streams', 'v:0'],
    ...['-show_entries', 'stream=codec_name,width,nb_read_frames', '-of', 'json', file],
  ]);
  return (JSON.parse(stdout) as { streams: Array<{ codec_name: string; width: number; nb_read_frames: string }> }).streams[0];
}

describe('LowLatency live event: low-latency DASH (chunked CMAF) over RTMP', () => {
  let server: TestServer;
  let api: ApiClient;
  let source: string;
  let tmp: string;
  const V = '/api/v1/projects/default/media';
  const locatorId = crypto.randomUUID();
  const sourceSec = 14;

  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'reel-lldash-test-'));
    source = path.join(tmp, 'source.flv');
    // 1 s GOPs at 25 fps, as an encoder set up for low latency sends them.
    await makeFlvSource(source, { seconds: sourceSec });
    server = await startTestServer('sqlite', { REEL_LIVE_RTMP_PORT: '0' });
    const cookie = await login(server.url, server.adminEmail, server.adminPassword);
    api = new ApiClient(server.url).withToken((await tokenFromSession(server.url, cookie)).token);
    const root = path.join(server.localArea(), 'lldash');
    await createRecordingAsset(api, V, root, { storageName: 'lldash', assetName: 'lldash-recording' });
  });

  after(async () => {
    await server?.close();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('lists the open segment with LL attributes and sends it chunked, part by part, before it is complete', async (t) => {
    const { rtmpUrl } = await createAndStartLiveEvent(api, V, 'chunked', liveEventBody({ streamOptions: ['LowLatency'], keyFrameIntervalDuration: 'PT1S' }));
    await recordAndPublish(api, V, { eventName: 'chunked', assetName: 'lldash-recording', manifestName: 'chunked', locatorName: 'chunked', locatorId });

    const live = pushRtmp(source, `${rtmpUrl}/stream`);
    const base = `${server.url}/${locatorId}/chunked.ism`;
    const mpdUrl = `${base}/manifest(format=mpd-time-cmaf)`;
    // Wait for a few closed segments, then for an MPD whose open segment has only just started (its first part).
    let mpd = '';
    for (let i = 0; i < 150; i++) {
      const res = await request(mpdUrl);
      if (res.status === 200 && videoOf(res.body.toString()).starts.length >= 4) {
        mpd = res.body.toString();
        break;
      }
      await sleep(100);
    }
    assert.ok(mpd, 'the dynamic MPD lists segments while the stream runs');

    // The LL signalling.
    assert.match(mpd, /type="dynamic"/);
    assert.match(mpd, /profiles="[^"]*http:\/\/www\.dashif\.org\/guidelines\/low-latency-live-v5/);
    assert.match(mpd, /<ServiceDescription id="0">\s*<Latency target="1000" min="667" max="2000"\/>/);
    assert.match(mpd, /<UTCTiming schemeIdUri="urn:mpeg:dash:utc:http-iso:2014" value="[^"]+\/time"\/>/);
    const video = videoOf(mpd);
    assert.equal(video.availabilityTimeOffset, '0.667');
    assert.equal(video.availabilityTimeComplete, 'false');

    // The open segment is the timeline's last entry; ask for the next open one the moment it appears, so the
    // request arrives while the segment is being written.
    let openStart = video.starts.at(-1)!;
    for (let i = 0; i < 40; i++) {
      const fresh = videoOf((await request(mpdUrl)).body.toString());
      if (fresh.starts.at(-1)! > openStart) {
        openStart = fresh.starts.at(-1)!;
        break;
      }
      await sleep(25);
    }
    const init = await request(`${base}/${video.init}`);
    assert.equal(init.status, 200);
    const open = await timedGet(`${base}/${video.media(openStart)}`);
    assert.equal(open.status, 200, open.body.toString().slice(0, 200));
    assert.equal(open.headers['transfer-encoding'], 'chunked');
    assert.equal(open.headers['content-length'], undefined);
    assert.equal(open.headers['cache-control'], 'no-store');
    assert.equal(open.headers['content-type'], 'video/mp4');
    // Part by part: one moof+mdat per part, the first of them received before the rest had been written.
    const boxes = boxTypes(open.body);
    const moofs = boxes.filter((b) => b === 'moof').length;
    assert.ok(moofs >= 2, `several chunks: ${boxes.join(',')}`);
    const firstByteMs = open.arrivals[0].atMs;
    const lastByteMs = open.arrivals.at(-1)!.atMs;
    assert.ok(open.arrivals[0].bytes < open.body.byteLength, 'the first chunk arrives on its own, before the segment is complete');

    // The chunks decode after the init segment: the whole segment (1 s at 25 fps).
    const chunkedFile = path.join(tmp, 'open.mp4');
    fs.writeFileSync(chunkedFile, Buffer.concat([init.body, open.body]));
    const chunkedProbe = await videoFrames(chunkedFile);
    assert.equal(chunkedProbe.codec_name, 'h264');
    assert.equal(chunkedProbe.width, 640);

    // Once closed, the same URL is the ordinary segment (one moof, a length, cacheable) with the same frames.
    const closed = await request(`${base}/${video.media(openStart)}`);
    assert.equal(closed.status, 200);
    assert.ok(closed.headers['content-length']);
    assert.match(String(closed.headers['cache-control']), /immutable/);
    assert.equal(boxTypes(closed.body).filter((b) => b === 'moof').length, 1);
    const closedFile = path.join(tmp, 'closed.mp4');
    fs.writeFileSync(closedFile, Buffer.concat([init.body, closed.body]));
    assert.deepEqual(await videoFrames(closedFile), chunkedProbe);
    assert.equal(chunkedProbe.nb_read_frames, '25');

    // A segment not written yet is not served.
    assert.equal((await request(`${base}/${video.media(openStart + 10 * video.timescale)}`)).status, 404);
    t.diagnostic(
      `open segment: ${moofs} chunks, ${open.arrivals.length} reads; first byte after ${firstByteMs.toFixed(0)} ms, last after ${lastByteMs.toFixed(0)} ms (${open.arrivals
        .map((a) => `${a.atMs.toFixed(0)} ms: ${a.bytes} B`)
        .join(', ')})`,
    );

    live.kill();
    await live.done;
    assert.equal((await api.post(`${V}/liveEvents/chunked/stop`)).status, 200);
    // Ended or archived: no LL signalling left.
    const after = await request(mpdUrl);
    assert.equal(after.status, 200);
    assert.ok(!after.body.toString().includes('availabilityTimeOffset'));
  });
});
