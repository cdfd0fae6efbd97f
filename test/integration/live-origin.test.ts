import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { XMLParser } from 'fast-xml-parser';
import type { ProtectionLookup } from '../../src/shared/content-protection.js';
import { request } from '../support/http.js';
import { LiveDouble, archiveAssetId, startLiveOrigin, type LiveOrigin } from '../support/live-origin.js';

// The server runs in this process: tools that read from it must run asynchronously.
const run = promisify(execFile);

const assetLocator = '1a2b3c4d-0000-4111-8222-333344445555';
const previewLocator = '9f8e7d6c-0000-4111-8222-666677778888';
const protectedLocator = '1a2b3c4d-0000-4111-8222-999900001111';
const envelopeKeyId = '0badc0de-0000-4111-8222-000000000001';
const envelopeKey = crypto.randomBytes(16);
const availabilityStartMs = Date.UTC(2026, 11, 2, 9, 0, 0);

type Node = Record<string, unknown>;
const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (n) => ['AdaptationSet', 'Representation', 'S'].includes(n) });
const tag = (text: string, name: string) =>
  text
    .split('\n')
    .find((l) => l.startsWith(`${name}:`))
    ?.slice(name.length + 1);
const segmentUris = (text: string) => text.split('\n').filter((l) => l && !l.startsWith('#'));

describe('origin: live playback through LiveSource', () => {
  let origin: LiveOrigin;
  let live: LiveDouble;
  let dir: string;
  let base: string;
  let videoBitrate = 0;
  // The double's recording: a DVR window of 3 segments ending at `end`, moved on by grow(); `recording` false
  // stands for the stopped output (the runtime answers nothing).
  const position = { end: 3, recording: true };
  const grow = () => (position.end = Math.min(position.end + 1, live.segments));
  const host = 'default-live.stream.test';
  const get = (urlPath: string, headers: Record<string, string> = {}, requestHost = host) => request(`${base}${urlPath}`, { host: requestHost, headers });
  const hls = (format: string) => `/${assetLocator}/manifest.ism/QualityLevels(${videoBitrate})/Manifest(video,format=${format})`;

  before(async () => {
    origin = await startLiveOrigin({
      seconds: 12,
      locators: [
        { name: 'archive', locatorId: assetLocator, policy: 'Predefined_ClearStreamingOnly' },
        { name: 'protected', locatorId: protectedLocator, policy: 'Predefined_ClearKey' },
      ],
      // The protected locator's envelope key, as the store's protection lookup would unseal it.
      protection: (projectId): ProtectionLookup => ({
        locatorKeys: async (id) =>
          id === protectedLocator
            ? {
                projectId,
                projectName: 'live',
                keys: [{ id: envelopeKeyId, type: 'EnvelopeEncryption', value: envelopeKey, label: 'clearKeyDefault', policyName: undefined }],
              }
            : undefined,
        contentKeyPolicy: async () => undefined,
      }),
      live: (whole, recording) =>
        (live = new LiveDouble(whole, recording, {
          availabilityStartMs,
          windowSegments: 3,
          previewLocator,
          position: () => (position.recording ? { end: position.end, isEnded: false } : undefined),
        })),
    });
    ({ base, dir, videoBitrate } = origin);
  });

  after(async () => {
    await origin?.close();
  });

  it('serves live HLS (CMAF) whose media sequence and date move as the recording grows, never stale', async () => {
    assert.ok(live.segments >= 6, `the 12 s recording has ${live.segments} segments`);
    const master = await get(`/${assetLocator}/manifest.ism/manifest(format=m3u8-cmaf)`);
    assert.equal(master.status, 200);
    assert.ok(!master.body.toString().includes('I-FRAME'));

    const first = await get(hls('m3u8-cmaf'));
    assert.equal(first.status, 200);
    const text = first.body.toString();
    assert.equal(tag(text, '#EXT-X-MEDIA-SEQUENCE'), '0');
    assert.equal(tag(text, '#EXT-X-PROGRAM-DATE-TIME'), '2026-12-02T09:00:00.000Z');
    assert.ok(!text.includes('#EXT-X-ENDLIST') && !text.includes('#EXT-X-PLAYLIST-TYPE'));
    assert.equal(segmentUris(text).length, 3);
    assert.equal(first.headers['cache-control'], 'public, max-age=2');
    assert.equal(first.headers['last-modified'], new Date(availabilityStartMs + 6000).toUTCString());
    const etag = first.headers.etag as string;
    // Asked again (a hot route would answer now) and conditionally: the same playlist.
    assert.equal((await get(hls('m3u8-cmaf'))).body.toString(), text);
    assert.equal((await get(hls('m3u8-cmaf'), { 'if-none-match': etag })).status, 304);

    grow();
    const grown = await get(hls('m3u8-cmaf'));
    const grownText = grown.body.toString();
    assert.equal(tag(grownText, '#EXT-X-MEDIA-SEQUENCE'), '1');
    assert.equal(tag(grownText, '#EXT-X-PROGRAM-DATE-TIME'), '2026-12-02T09:00:02.000Z');
    assert.notEqual(grown.headers.etag, etag);
    assert.equal((await get(hls('m3u8-cmaf'), { 'if-none-match': etag })).status, 200);
    assert.deepEqual(segmentUris(grownText).slice(0, 2), segmentUris(text).slice(1));
  });

  it('serves live segments with an ETag that stays the same as the recording grows, and they decode', async () => {
    const text = (await get(hls('m3u8-cmaf'))).body.toString();
    const [uri] = segmentUris(text);
    const segmentPath = `/${assetLocator}/manifest.ism/QualityLevels(${videoBitrate})/${uri}`;
    const before = await get(segmentPath);
    assert.equal(before.status, 200);
    assert.match(String(before.headers['cache-control']), /immutable/);
    assert.equal(before.headers['last-modified'], undefined);
    grow();
    const after = await get(segmentPath);
    assert.equal(after.status, 200);
    assert.equal(after.headers.etag, before.headers.etag);
    assert.equal((await get(segmentPath, { 'if-none-match': before.headers.etag as string })).status, 304);

    const init = await get(`/${assetLocator}/manifest.ism/QualityLevels(${videoBitrate})/Fragments(video=i,format=m3u8-cmaf).mp4`);
    assert.equal(init.status, 200);
    const file = path.join(dir, 'segment.mp4');
    fs.writeFileSync(file, Buffer.concat([init.body, after.body]));
    const { stdout } = await run('ffprobe', [
      '-v',
      'error',
      '-count_frames',
      '-select_streams',
      'v:0',
      '-show_entries',
      'stream=codec_name,nb_read_frames',
      '-of',
      'csv=p=0',
      file,
    ]);
    assert.equal(stdout.trim(), 'h264,50');
  });

  it('serves live HLS as MPEG-TS too, which ffprobe reads over HTTP', async () => {
    const text = (await get(hls('m3u8-aapl'))).body.toString();
    assert.ok(!text.includes('#EXT-X-ENDLIST') && !text.includes('#EXT-X-MAP'));
    assert.ok(segmentUris(text).every((u) => u.endsWith('.ts')));
    const tsUrl = `${base}/${assetLocator}/manifest.ism/QualityLevels(${videoBitrate})/${segmentUris(text)[0]}`;
    const { stdout } = await run(
      'ffprobe',
      ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name,nb_read_frames', '-of', 'csv=p=0', tsUrl],
      {
        timeout: 30_000,
      },
    );
    // (MPEG-TS lists its streams once more under their program.)
    assert.equal(stdout.trim().split('\n')[0], 'h264,50');
    // The whole live playlist: ffmpeg's HLS reader starts near the live edge and finds the video and audio renditions.
    const playlist = `${base}/${assetLocator}/manifest.ism/manifest(format=m3u8-aapl)`;
    const probe = await run('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name', '-of', 'csv=p=0', playlist], { timeout: 30_000 });
    assert.ok(probe.stdout.includes('h264') && probe.stdout.includes('aac'), probe.stdout);
  });

  it('serves a dynamic MPD with the DVR window, a SegmentTimeline of recording ticks and a clock to sync on', async () => {
    const res = await get(`/${assetLocator}/manifest.ism/manifest(format=mpd-time-cmaf)`);
    assert.equal(res.status, 200);
    assert.equal(res.headers['cache-control'], 'public, max-age=2');
    const mpd = (xml.parse(res.body.toString()) as Node).MPD as Node;
    assert.equal(mpd.type, 'dynamic');
    assert.equal(mpd.availabilityStartTime, '2026-12-02T09:00:00.000Z');
    assert.equal(mpd.timeShiftBufferDepth, 'PT6.000S');
    assert.equal(mpd.mediaPresentationDuration, undefined);
    assert.ok(mpd.minimumUpdatePeriod && mpd.publishTime && mpd.suggestedPresentationDelay);
    const timing = mpd.UTCTiming as Node;
    assert.equal(timing.schemeIdUri, 'urn:mpeg:dash:utc:http-iso:2014');
    assert.equal(timing.value, `http://${host}/time`);
    const video = (((mpd.Period as Node).AdaptationSet as Node[])[0].Representation as Node[])[0];
    const s = ((video.SegmentTemplate as Node).SegmentTimeline as Node).S as Node[];
    const window = live.forAsset(archiveAssetId)!.presentation.tracks.find((t) => t.kind === 'video')!.segments;
    assert.equal(Number(s[0].t), window.startTicks[0]);
    assert.ok(window.startTicks[0] > 0);

    const clock = await get('/time');
    assert.equal(clock.status, 200);
    assert.equal(clock.headers['cache-control'], 'no-store');
    assert.ok(Math.abs(Date.parse(clock.body.toString()) - Date.now()) < 60_000);
  });

  it('serves the preview locator (unknown to the store) on any host, clear only; an unknown GUID is still 404', async () => {
    const previewHost = 'myevent-live-preview.stream.test';
    const res = await get(`/${previewLocator}/preview.ism/manifest(format=mpd-time-csf)`, {}, previewHost);
    assert.equal(res.status, 200);
    assert.match(res.body.toString(), /type="dynamic"/);
    const playlist = await get(`/${previewLocator}/preview.ism/QualityLevels(${videoBitrate})/Manifest(video,format=m3u8-cmaf)`, {}, previewHost);
    assert.equal(playlist.status, 200);
    const [uri] = segmentUris(playlist.body.toString());
    assert.equal((await get(`/${previewLocator}/preview.ism/QualityLevels(${videoBitrate})/${uri}`, {}, previewHost)).status, 200);
    assert.equal((await get(`/${previewLocator}/preview.ism/manifest(format=m3u8-cmaf,encryption=cbcs-aapl)`, {}, previewHost)).status, 403);
    assert.equal((await get(`/${previewLocator}/preview.ism/manifest(format=m3u8-cmaf,filter=f1)`, {}, previewHost)).status, 400);
    assert.equal((await get(`/${previewLocator}/movie.mp4`, {}, previewHost)).status, 404);
    const unknown = await get('/00000000-0000-4000-8000-000000000000/preview.ism/manifest(format=m3u8-cmaf)');
    assert.equal(unknown.status, 404);
    assert.match(unknown.body.toString(), /LocatorNotFound/);
  });

  it('serves a protected (AES-128) live stream through the same paths: IVs follow the window media sequence', async () => {
    const text = (await get(`/${protectedLocator}/manifest.ism/QualityLevels(${videoBitrate})/Manifest(video,format=m3u8-aapl)`)).body.toString();
    assert.match(text, new RegExp(`#EXT-X-KEY:METHOD=AES-128,URI="http://${host}/keydelivery/${protectedLocator}/aes/${envelopeKeyId}"`));
    assert.ok(!text.includes('#EXT-X-ENDLIST'));
    const sequence = Number(tag(text, '#EXT-X-MEDIA-SEQUENCE'));
    assert.ok(sequence > 0);
    const res = await get(`/${protectedLocator}/manifest.ism/QualityLevels(${videoBitrate})/${segmentUris(text)[0]}`);
    assert.equal(res.status, 200);
    // No IV in the key tag: the IV is the media sequence number (RFC 8216 §5.2), the first listed segment's index.
    const iv = Buffer.alloc(16);
    iv.writeUInt32BE(sequence, 12);
    const decipher = crypto.createDecipheriv('aes-128-cbc', envelopeKey, iv);
    const file = path.join(dir, 'decrypted.ts');
    fs.writeFileSync(file, Buffer.concat([decipher.update(res.body), decipher.final()]));
    const { stdout } = await run('ffprobe', [
      '-v',
      'error',
      '-count_frames',
      '-select_streams',
      'v:0',
      '-show_entries',
      'stream=codec_name,nb_read_frames',
      '-of',
      'csv=p=0',
      file,
    ]);
    assert.equal(stdout.trim().split('\n')[0], 'h264,50');
  });

  it('slices the live window further with time options: start= is a wall-clock instant on the live timeline', async () => {
    // The window is segments [2, 5) now (4 s to 10 s after tick 0); from 09:00:06 on keeps [3, 5).
    const url = `/${assetLocator}/manifest.ism/QualityLevels(${videoBitrate})/Manifest(video,format=m3u8-cmaf,start=2026-12-02T09:00:06Z)`;
    const text = (await get(url)).body.toString();
    assert.equal(tag(text, '#EXT-X-MEDIA-SEQUENCE'), '3');
    assert.equal(tag(text, '#EXT-X-PROGRAM-DATE-TIME'), '2026-12-02T09:00:06.000Z');
    assert.equal(segmentUris(text).length, 2);
    assert.ok(segmentUris(text).every((u) => u.includes(',start=2026-12-02T09:00:06Z)')));
  });

  it('plays the archive from storage as VOD once the runtime stops answering; the preview is gone', async () => {
    position.recording = false;
    const res = await get(hls('m3u8-cmaf'));
    assert.equal(res.status, 200);
    const text = res.body.toString();
    assert.equal((await get(hls('m3u8-cmaf'))).body.toString(), text);
    assert.equal(tag(text, '#EXT-X-PLAYLIST-TYPE'), 'VOD');
    assert.equal(tag(text, '#EXT-X-MEDIA-SEQUENCE'), '0');
    assert.ok(text.includes('#EXT-X-ENDLIST') && !text.includes('#EXT-X-PROGRAM-DATE-TIME'));
    assert.equal(segmentUris(text).length, live.segments);
    assert.equal(res.headers['cache-control'], 'public, max-age=60');
    const mpd = (await get(`/${assetLocator}/manifest.ism/manifest(format=mpd-time-cmaf)`)).body.toString();
    assert.match(mpd, /type="static"/);
    assert.equal((await get(`/${previewLocator}/preview.ism/manifest(format=m3u8-cmaf)`)).status, 404);
  });

  it('plays live again when the runtime answers for an asset whose VOD answers were kept as hot routes', async () => {
    // Asked twice as VOD above: a hot route holds the answer; a recording into the asset must not be hidden by it.
    position.recording = true;
    const text = (await get(hls('m3u8-cmaf'))).body.toString();
    assert.ok(!text.includes('#EXT-X-ENDLIST'));
    assert.equal(tag(text, '#EXT-X-MEDIA-SEQUENCE'), '2');
  });
});
