import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { writeTtmlMp4 } from '../../../../../test/fixtures/text-media.js';
import { stppMp4, wvttMp4, type WvttCue } from '../../../../../test/fixtures/wvtt-mp4.js';
import type { MediaIndex, TrackIndex } from '../../model/media-index.js';
import { textSegments } from '../../model/segmenter.js';
import { readMp4Index } from '../../parse/mp4/read-mp4-index.js';
import { buildInitSegment } from '../fmp4/init-segment.js';
import { mergeTtmlDocuments, planTextSegment, ttmlDocumentsToMerge, writeMergedTtmlSegment } from '../fmp4/text-segment.js';
import { ArraySampleTable } from '../../model/sample-table.js';
import { isSourceRange } from '../segment-plan.js';
import { planWvttSamples, writeWebVttSegment } from './wvtt-webvtt.js';

const cues: WvttCue[] = [
  { start: 0.5, end: 1.5, text: 'Cue one', id: 'c1' },
  { start: 1, end: 3, text: 'Cue two', settings: 'line:0' },
  { start: 5, end: 7, text: 'Cue three' },
];

async function indexOf(bytes: Uint8Array): Promise<MediaIndex> {
  return readMp4Index(bytes.length, (o, l) => Promise.resolve(bytes.subarray(o, o + l)));
}

/** A segment's bytes from its plan, as the origin sends them. */
function materialize(source: Uint8Array, plan: ReturnType<typeof planTextSegment>): Uint8Array {
  const out = Buffer.concat(plan.parts.map((p) => (isSourceRange(p) ? source.subarray(p.offset, p.offset + p.length) : p)));
  assert.equal(out.length, plan.size);
  return out;
}

interface Packet {
  pts: number;
  data: string;
}

/** What ffprobe reads from an fMP4 file: each packet's time and payload as text. */
function ffprobePackets(file: string): Packet[] {
  const json = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-show_packets', '-show_data', '-of', 'json', file], { encoding: 'utf8' })) as {
    packets: Array<{ pts_time: string; data?: string }>;
  };
  return json.packets.map((p) => ({
    pts: Number(p.pts_time),
    // ffprobe's hex dump: keep the ASCII column.
    data: (p.data ?? '')
      .split('\n')
      .map((l) => l.slice(51))
      .join(''),
  }));
}

/** Boundaries of 2 s segments over 8 s, in ms. */
const grid = [0, 2000, 4000, 6000, 8000];

describe('text tracks inside MP4 (stpp, wvtt)', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reel-text-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('parses an ffmpeg TTML track as an stpp text track with its language and the sample entry verbatim', async () => {
    const file = path.join(dir, 'ttml.mp4');
    writeTtmlMp4(file, cues, 'fre');
    const index = await indexOf(new Uint8Array(fs.readFileSync(file)));
    assert.equal(index.tracks.length, 1);
    const t = index.tracks[0];
    assert.deepEqual([t.kind, t.fourcc, t.codecs, t.language, t.timescale], ['text', 'stpp', 'stpp', 'fre', 1000]);
    assert.equal(Buffer.from(t.sampleEntry.subarray(4, 8)).toString('latin1'), 'stpp');
    assert.ok(Buffer.from(t.sampleEntry).includes('http://www.w3.org/ns/ttml'), 'namespace kept');
    // ffmpeg 5.1 squashes the track into one TTML document.
    assert.equal(t.samples.count, 1);
  });

  it('names the IMSC1 profile in the stpp codecs string when the sample entry declares one (RFC 6381 / 14496-30 Annex A)', async () => {
    const doc = [{ start: 0, ttml: '<tt xmlns="http://www.w3.org/ns/ttml"><body/></tt>' }];
    const codecs = async (options: { namespace?: string; schemaLocation?: string }) =>
      (await indexOf(stppMp4(doc, { durationSec: 2, ...options }))).tracks[0].codecs;
    assert.equal(await codecs({}), 'stpp');
    assert.equal(await codecs({ namespace: 'http://www.w3.org/ns/ttml http://www.w3.org/ns/ttml/profile/imsc1/text' }), 'stpp.ttml.im1t');
    assert.equal(await codecs({ schemaLocation: 'http://www.w3.org/ns/ttml/profile/imsc1/image' }), 'stpp.ttml.im1i');
  });

  it('parses a wvtt track (ISO/IEC 14496-30 writer) with its vttC header, and elng when mdhd says und', async () => {
    const index = await indexOf(wvttMp4(cues, { durationSec: 8, language: 'und', extendedLanguage: 'pt-BR' }));
    const t = index.tracks[0];
    assert.deepEqual([t.kind, t.fourcc, t.codecs, t.language], ['text', 'wvtt', 'wvtt', 'pt-br']);
    // 0–0.5 vtte, 0.5–1 c1, 1–1.5 c1+c2, 1.5–3 c2, 3–5 vtte, 5–7 c3, 7–8 vtte.
    assert.equal(t.samples.count, 7);
  });

  it('fMP4 wvtt segments tile each 2 s segment: clipped cues, a cue spanning a boundary in both, vtte for gaps (ffprobe)', async () => {
    const source = wvttMp4(cues, { durationSec: 8 });
    const track = (await indexOf(source)).tracks[0];
    const segments = textSegments(track, grid, 1000);
    const init = buildInitSegment(track);
    const file = path.join(dir, 'wvtt-frag.mp4');
    fs.writeFileSync(
      file,
      Buffer.concat([init, ...segments.toArray().map((s) => materialize(source, planTextSegment(track, s, s.index + 1, { styp: true })))]),
    );
    // ffprobe reports no packet durations for text it does not decode: each sample's start and payload it does.
    const packets = ffprobePackets(file).map((p) => [p.pts, p.data.includes('payl') ? p.data.replace(/.*payl/, '') : p.data.includes('vtte') ? 'vtte' : '?']);
    assert.deepEqual(packets, [
      [0, 'vtte'],
      [0.5, 'Cue one'],
      [1, 'Cue two'], // the sample holding c1 and c2: the last payl in the dump
      [1.5, 'Cue two'], // clipped at the 2 s boundary…
      [2, 'Cue two'], // …and repeated in the next segment
      [3, 'vtte'],
      [4, 'vtte'], // a segment without any cue is one empty sample
      [5, 'Cue three'],
      [6, 'Cue three'],
      [7, 'vtte'],
    ]);
    // And the durations, from the boxes: each segment's samples add up to its 2 s.
    for (const s of segments.toArray()) {
      const plan = planTextSegment(track, s, s.index + 1);
      const bytes = materialize(source, plan);
      const trun = Buffer.from(bytes).indexOf('trun');
      const count = Buffer.from(bytes).readUInt32BE(trun + 8);
      let total = 0;
      for (let i = 0; i < count; i++) total += Buffer.from(bytes).readUInt32BE(trun + 16 + i * 8);
      assert.equal(total, 2000, `segment ${s.index}`);
    }
  });

  it('fMP4 stpp segments repeat the TTML document in every segment it overlaps, whole (ffprobe)', async () => {
    const file = path.join(dir, 'ttml.mp4');
    writeTtmlMp4(file, cues);
    const source = new Uint8Array(fs.readFileSync(file));
    const track = (await indexOf(source)).tracks[0];
    const segments = textSegments(track, grid, 1000);
    const frag = path.join(dir, 'ttml-frag.mp4');
    fs.writeFileSync(
      frag,
      Buffer.concat([buildInitSegment(track), ...segments.toArray().map((s) => materialize(source, planTextSegment(track, s, s.index + 1)))]),
    );
    // One document per segment (what players parse): the 7 s document in each of the four 2 s segments.
    // ffprobe has no TTML decoder (a data stream without packet durations): the starts tell the tiling.
    const packets = ffprobePackets(frag);
    assert.deepEqual(
      packets.map((p) => p.pts),
      [0, 2, 4, 6],
    );
    const document = Buffer.from(source.subarray(track.samples.run(0, 1).offsets[0])).toString('utf8', 0, track.samples.run(0, 1).sizes[0]);
    for (let i = 0; i < 4; i++) {
      const s = segments.at(i);
      const bytes = materialize(source, planTextSegment(track, s, s.index + 1));
      assert.ok(Buffer.from(bytes).includes(document), `segment ${i} carries the whole document`);
    }
    assert.match(document, /begin="00:00:05.000"\s+end="00:00:07.000"><span[^>]*>Cue three</);
  });

  it('stpp: a segment that two TTML documents overlap carries one document with both bodies; none gives an empty one', () => {
    const docs = [
      '<?xml version="1.0"?>\n<tt xmlns="http://www.w3.org/ns/ttml"><body><div><p begin="00:00:01.000" end="00:00:02.500">First</p></div></body></tt>',
      '<tt:tt xmlns:tt="http://www.w3.org/ns/ttml"><tt:body><tt:div><tt:p begin="00:00:03.000" end="00:00:04.000">Second</tt:p></tt:div></tt:body></tt:tt>',
    ];
    const bytes = docs.map((d) => new TextEncoder().encode(d));
    const source = Buffer.concat(bytes);
    const track = {
      trackId: 1,
      kind: 'text',
      fourcc: 'stpp',
      codecs: 'stpp',
      timescale: 1000,
      editMediaTimeTicks: 0,
      samples: new ArraySampleTable({
        count: 2,
        offsets: Float64Array.of(0, bytes[0].length),
        sizes: Uint32Array.from(bytes.map((b) => b.length)),
        dts: Float64Array.of(0, 3000),
        durations: Uint32Array.of(3000, 3000),
        ctsOffsets: new Int32Array(2),
        isSync: Uint8Array.of(1, 1),
      }),
    } as unknown as TrackIndex;
    const segments = textSegments(track, grid, 1000);
    assert.equal(ttmlDocumentsToMerge(track, segments.at(0)), undefined);
    const ranges = ttmlDocumentsToMerge(track, segments.at(1)) ?? [];
    assert.deepEqual(ranges, [
      { offset: 0, length: bytes[0].length },
      { offset: bytes[0].length, length: bytes[1].length },
    ]);
    const merged = Buffer.concat(
      writeMergedTtmlSegment(
        track,
        segments.at(1),
        2,
        {},
        ranges.map((r) => source.subarray(r.offset, r.offset + r.length)),
      ),
    );
    const trun = merged.indexOf('trun');
    assert.deepEqual([merged.readUInt32BE(trun + 8), merged.readUInt32BE(trun + 16)], [1, 2000], 'one sample lasting the segment');
    const doc = merged.subarray(merged.indexOf('mdat') + 4).toString('utf8');
    assert.equal(
      doc,
      '<?xml version="1.0"?>\n<tt xmlns="http://www.w3.org/ns/ttml"><body><div><p begin="00:00:01.000" end="00:00:02.500">First</p></div>' +
        '<div><p begin="00:00:03.000" end="00:00:04.000">Second</p></div></body></tt>',
    );
    // After the last document: an empty one for the whole segment.
    const empty = materialize(source, planTextSegment(track, segments.at(3), 4));
    assert.match(Buffer.from(empty).toString('utf8'), /<body\/><\/tt>/);
    assert.equal(mergeTtmlDocuments(['<tt><body/></tt>', '<tt><body><p>x</p></body></tt>']), '<tt><body><p>x</p></body></tt>');
    assert.equal(
      mergeTtmlDocuments(['<tt:tt><tt:body></tt:body></tt:tt>', '<tt><body><p>x<br/></p></body></tt>']),
      '<tt:tt><tt:body><tt:p>x<tt:br/></tt:p></tt:body></tt:tt>',
    );
  });

  it('wvtt samples become WebVTT segments whose cues are the source cues (a split cue joined back)', async () => {
    const source = wvttMp4(cues, { durationSec: 8, header: 'WEBVTT\n\nSTYLE\n::cue { color: yellow }' });
    const track: TrackIndex = (await indexOf(source)).tracks[0];
    const segments = textSegments(track, grid, 1000);
    const texts = segments.toArray().map((s) =>
      writeWebVttSegment(
        track,
        s,
        planWvttSamples(track, s).map((r) => source.subarray(r.offset, r.offset + r.length)),
        900000,
      ),
    );
    assert.equal(
      texts[0],
      'WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:900000,LOCAL:00:00:00.000\n\nSTYLE\n::cue { color: yellow }\n\n' +
        'c1\n00:00:00.500 --> 00:00:01.500\nCue one\n\n00:00:01.000 --> 00:00:03.000 line:0\nCue two\n',
    );
    // The cue spanning 2 s is repeated whole in the next segment; 4–6 s holds the start of cue three.
    assert.match(texts[1], /\n00:00:01.000 --> 00:00:03.000 line:0\nCue two\n$/);
    assert.match(texts[2], /\n00:00:05.000 --> 00:00:07.000\nCue three\n$/);
    assert.match(texts[3], /\n00:00:05.000 --> 00:00:07.000\nCue three\n$/);
    assert.doesNotMatch(texts[3], /Cue two/);
  });
});
