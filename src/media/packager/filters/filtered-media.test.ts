/**
 * A clip of real media, end to end through the packager: ffmpeg-made renditions are indexed and segmented, a time
 * filter is applied, and the HLS and DASH manifests of the clip, with their init and media segments, are served by
 * a small HTTP server to ffprobe, which must find the clip's duration and media that starts at the clip's start.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { makeRenditionSet } from '../../../../test/fixtures/packager-media.js';
import { fillPlan } from '../../../../test/fixtures/mux-media.js';
import { TS_TIMESTAMP_OFFSET_90K } from '../mux/ts/ts-muxer.js';
import {
  applyFilters,
  createManifestContext,
  outputFormat,
  parseFragmentPath,
  parseMediaPlaylistPath,
  readMp4Index,
  segmentTracks,
  SegmentList,
  type ManifestFormat,
  type Presentation,
  type PresentationTrack,
} from '../index.js';

const run = promisify(execFile);
const TS_OFFSET_SEC = TS_TIMESTAMP_OFFSET_90K / 90_000;

async function indexFile(file: string) {
  const fd = fs.openSync(file, 'r');
  try {
    return await readMp4Index(fs.fstatSync(fd).size, async (offset, length) => {
      const bytes = new Uint8Array(length);
      fs.readSync(fd, bytes, 0, length, offset);
      return bytes;
    });
  } finally {
    fs.closeSync(fd);
  }
}

/** The 10 s rendition set (640×360 + AAC, 320×180) as the origin would present it, cut into 2 s segments. */
async function renditionPresentation(): Promise<Presentation> {
  const [hi, lo] = makeRenditionSet();
  const tracks: PresentationTrack[] = [];
  for (const file of [hi, lo]) {
    for (const track of (await indexFile(file)).tracks) {
      if (track.kind === 'text') continue;
      tracks.push({
        name: track.kind === 'video' ? 'video' : 'audio',
        kind: track.kind,
        bitrateBps: Math.max(1, Math.round(track.bitrateBps)),
        language: track.language,
        sourceFile: file,
        track,
        segments: SegmentList.from([]),
      });
    }
  }
  const lists = segmentTracks(
    tracks.map((t) => t.track),
    2,
  );
  tracks.forEach((t, i) => (t.segments = lists[i]));
  return { durationSec: Math.max(...tracks.map((t) => t.track.durationTicks / t.track.timescale)), targetSegmentSec: 2, tracks };
}

/** Serves one presentation under `/a.ism/` the way the origin does, for one format at a time. */
function serve(p: Presentation, format: () => ManifestFormat): http.Server {
  return http.createServer((req, res) => {
    try {
      const rel = decodeURIComponent((req.url ?? '').replace(/^\/a\.ism\//, ''));
      const f = format();
      const row = outputFormat(f);
      const ctx = createManifestContext(f);
      let body: Uint8Array | string;
      if (rel === 'manifest') body = row.manifests.manifest(p, ctx);
      else if (/^QualityLevels\(\d+\)\/Manifest\(/.test(rel)) {
        const r = parseMediaPlaylistPath(rel);
        const track = p.tracks.find((t) => t.bitrateBps === r?.bitrate && t.name === r.trackName);
        assert.ok(track && row.manifests.mediaPlaylist, rel);
        body = row.manifests.mediaPlaylist(p, track, ctx);
      } else {
        const r = parseFragmentPath(rel);
        const track = p.tracks.find((t) => t.bitrateBps === r?.bitrate && t.name === r.trackName);
        assert.ok(r && track, rel);
        const muxer = row.segments;
        if (r.start === 'init') {
          assert.equal(muxer.container, 'fmp4');
          body = muxer.init(track.track);
        } else {
          const segment = track.segments.startingAt(r.start);
          // Only the clip's segments are listed, so only they may be asked for.
          assert.ok(segment, `segment at ${r.start} of ${track.name}@${track.bitrateBps} is in the clip`);
          if (muxer.container === 'fmp4') body = fillPlan(track.sourceFile, muxer.plan(track.track, segment));
          else {
            const plan = muxer.plan(track.track, segment);
            const samples = plan.ranges.map((range) => fillPlan(track.sourceFile, { size: range.length, parts: [range] }));
            body = Buffer.concat(muxer.write(track.track, segment, plan, samples));
          }
        }
      }
      res.writeHead(200, { 'content-length': Buffer.byteLength(body) });
      res.end(body);
    } catch (e) {
      res.writeHead(404);
      res.end(String(e));
    }
  });
}

interface Probe {
  durationSec: number;
  /** Per stream (video, audio): first and last packet presentation time, and the end of the last one. */
  streams: Array<{ codecType: string; firstPts: number; endPts: number }>;
}

async function probe(url: string): Promise<Probe> {
  const { stdout } = await run(
    'ffprobe',
    ['-v', 'error', '-print_format', 'json', '-show_entries', 'format=duration:stream=index,codec_type:packet=stream_index,pts_time,duration_time', url],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  const json = JSON.parse(stdout) as {
    format: { duration?: string };
    streams: Array<{ index: number; codec_type: string }>;
    packets: Array<{ stream_index: number; pts_time?: string; duration_time?: string }>;
  };
  const streams = json.streams.map((s) => {
    const packets = json.packets.filter((pk) => pk.stream_index === s.index && pk.pts_time !== undefined);
    const pts = packets.map((pk) => Number(pk.pts_time));
    const ends = packets.map((pk) => Number(pk.pts_time) + Number(pk.duration_time ?? 0));
    return { codecType: s.codec_type, firstPts: Math.min(...pts), endPts: Math.max(...ends) };
  });
  return { durationSec: Number(json.format.duration), streams };
}

describe('a filtered clip of real media, read by ffprobe', () => {
  let whole: Presentation;
  let server: http.Server;
  let base: string;
  let format: ManifestFormat = 'm3u8-cmaf';

  before(async () => {
    whole = await renditionPresentation();
    // [4 s, 8 s): segments 2 and 3 of five.
    const clip = applyFilters(whole, [{ name: 'clip', presentationTimeRange: { startTimestamp: 40_000_000, endTimestamp: 80_000_000 } }]);
    assert.deepEqual(clip.segmentRange, { first: 2, end: 4 });
    server = serve(clip, () => format);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/a.ism/manifest`;
  });

  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  for (const f of ['m3u8-cmaf', 'm3u8-aapl', 'mpd-time-cmaf'] as const) {
    it(`plays 4 s (± one segment) starting at 4 s (${f})`, async () => {
      format = f;
      const result = await probe(base);
      assert.ok(Math.abs(result.durationSec - 4) <= 2, `duration ${result.durationSec}`);
      assert.deepEqual([...new Set(result.streams.map((s) => s.codecType))].sort(), ['audio', 'video']);
      for (const s of result.streams) {
        const span = s.endPts - s.firstPts;
        assert.ok(Math.abs(span - 4) <= 2, `${s.codecType}: ${span} s of media`);
      }
      // The segments' own timestamps (MPEG-TS ones shifted by the muxer's fixed offset): the clip's media, from 4 s on.
      const offsetSec = f === 'm3u8-aapl' ? TS_OFFSET_SEC : 0;
      for (const s of result.streams) assert.ok(Math.abs(s.firstPts - offsetSec - 4) < 0.5, `${s.codecType} starts at ${s.firstPts}`);
    });
  }
});
