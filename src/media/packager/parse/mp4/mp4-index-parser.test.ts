import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, it } from 'node:test';
import {
  makeAc3Mp4,
  makeDelayedAudioMp4,
  makeFragmentedMp4,
  makeH264BFramesMp4,
  makeHevcMp4,
  makeIsmv,
  makeMoovAtEndMp4,
  makeMpeg4PartTwoMp4,
  makeTwoLanguagesMp4,
  probePackets,
  probeStreams,
} from '../../../../../test/fixtures/packager-media.js';
import { MediaError } from '../../../../shared/errors.js';
import type { MediaIndex } from '../../model/media-index.js';
import { allSamples, type SampleTable } from '../../model/sample-table.js';
import { MDAT, MOOF, MOOV, fourccCode, readBoxHeader, readU32, type BoxHeader } from './boxes.js';
import { createMp4IndexParser, type Mp4IndexParserOptions } from './mp4-index-parser.js';
import { avcCodecString, hevcCodecString } from './codec-strings.js';
import { readMp4Index } from './read-mp4-index.js';
import {
  ascii,
  avc1Entry,
  box,
  concatBytes,
  fullBox,
  hvc1Entry,
  mp4aEntry,
  readParts,
  synthFile,
  synthMoov,
  u16,
  u32,
  u64,
  type SynthTrack,
} from '../../../../../test/fixtures/hand-built-mp4.js';

interface Read {
  offset: number;
  length: number;
}

/** Indexes an in-memory file through `readMp4Index`, recording every read. */
async function indexBytes(bytes: Uint8Array, options?: Mp4IndexParserOptions): Promise<{ index: MediaIndex; reads: Read[] }> {
  const reads: Read[] = [];
  const index = await readMp4Index(
    bytes.length,
    (offset, length) => {
      reads.push({ offset, length });
      return Promise.resolve(bytes.subarray(offset, offset + length));
    },
    options,
  );
  return { index, reads };
}

function fileBytes(file: string): Uint8Array {
  return new Uint8Array(fs.readFileSync(file));
}

/** Top-level boxes of a file, and a path lookup (`['moov', 'trak', …]`) returning the first match's absolute header. */
function topLevel(bytes: Uint8Array): BoxHeader[] {
  const out: BoxHeader[] = [];
  for (let o = 0; o + 8 <= bytes.length;) {
    const h = readBoxHeader(bytes, o, bytes.length, 0)!;
    out.push(h);
    o = h.end;
  }
  return out;
}
function locate(bytes: Uint8Array, path: string[]): BoxHeader {
  let start = 0;
  let end = bytes.length;
  let found: BoxHeader | undefined;
  for (const name of path) {
    found = undefined;
    for (let o = start; o + 8 <= end;) {
      const h = readBoxHeader(bytes, o, end, 0)!;
      if (h.type === fourccCode(name)) {
        found = h;
        break;
      }
      o = h.end;
    }
    assert.ok(found, `no ${path.join('/')}`);
    start = found.payload;
    end = found.end;
  }
  return found!;
}
const STBL_PATH = ['moov', 'trak', 'mdia', 'minf', 'stbl'];

function writeU32(bytes: Uint8Array, o: number, v: number): void {
  bytes.set(u32(v), o);
}

async function assertMediaError(p: Promise<unknown>, status: number, code: string, message: RegExp): Promise<MediaError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof MediaError, `expected MediaError, got ${String(err)}`);
    assert.equal(err.status, status, err.detail);
    assert.equal(err.code, code, err.detail);
    assert.match(err.detail, message);
    return err;
  }
  assert.fail(`expected ${code} matching ${message}`);
}

/**
 * Every sample of every track against ffprobe's packet list for the stream of the same index.
 *
 * ffprobe (ffmpeg 5.1 mov demuxer, default `advanced_editlist`) shifts both timestamps by the edit list:
 *   ffprobe.dts = dts − editMediaTimeTicks
 *   ffprobe.pts = dts + ctsOffset − editMediaTimeTicks + max(0, −min(ctsOffset))
 * where our `editMediaTimeTicks` already folds an initial empty edit in (as a negative shift). The last term is
 * ffmpeg's `dts_shift`: with negative composition offsets (trun v1, here only ISMV) it delays pts so pts ≥ dts.
 * Priming samples before the edit are kept with the "discard" flag (`KD`), so counts match one to one.
 * Durations match for every sample but the last, whose duration ffmpeg re-derives (the file's stts/trun value
 * is what we keep). For ISMV, ffprobe ignores the tfxd times (`editShownByFfprobe: false`) and reports AAC
 * durations from the frame size (213333 where the trun alternates 213333/213334), so only its dts are compared.
 */
function assertMatchesFfprobe(file: string, index: MediaIndex, { editShownByFfprobe = true, ffprobeDurations = true } = {}): void {
  index.tracks.forEach((track, i) => {
    const packets = probePackets(file, i);
    const s = allSamples(track.samples);
    const edit = editShownByFfprobe ? track.editMediaTimeTicks : 0;
    let minCts = 0;
    for (let j = 0; j < s.count; j++) minCts = Math.min(minCts, s.ctsOffsets[j]);
    const what = `${file} track ${track.trackId}`;
    assert.equal(s.count, packets.length, `${what}: sample count`);
    assert.deepEqual(
      Array.from(s.sizes),
      packets.map((p) => p.size),
      `${what}: sizes`,
    );
    assert.deepEqual(
      Array.from(s.offsets),
      packets.map((p) => p.pos),
      `${what}: offsets`,
    );
    assert.deepEqual(
      Array.from(s.dts, (d) => d - edit),
      packets.map((p) => p.dts),
      `${what}: dts`,
    );
    assert.deepEqual(
      Array.from(s.dts, (d, j) => d + s.ctsOffsets[j] - edit - minCts),
      packets.map((p) => p.pts),
      `${what}: pts`,
    );
    assert.deepEqual(
      Array.from(s.isSync, (v) => v === 1),
      packets.map((p) => p.flags[0] === 'K'),
      `${what}: sync flags`,
    );
    for (let j = 0; j + 1 < s.count; j++) assert.equal(s.durations[j], s.dts[j + 1] - s.dts[j], `${what}: duration ${j} spans to the next dts`);
    if (ffprobeDurations) {
      const durations = packets.slice(0, -1).flatMap((p, j) => (p.duration === undefined ? [] : [[j, p.duration]]));
      assert.ok(durations.length >= s.count - 2, `${what}: ffprobe durations`);
      assert.deepEqual(
        durations.map(([j]) => [j, s.durations[j]]),
        durations,
        `${what}: durations`,
      );
    }
    let sum = 0;
    for (let j = 0; j < s.count; j++) sum += s.durations[j];
    assert.equal(track.durationTicks, sum, `${what}: durationTicks`);
    assert.equal(s.dts[0], 0, `${what}: dts starts at 0`);
    assertTableAnswersLikeItsRun(track.samples, what);
  });
}

/**
 * Every question the packager asks a table (decode time, next sync sample, bytes and ticks of a range, a run
 * from any first sample, the most negative composition offset) answers as the full expansion says.
 */
function assertTableAnswersLikeItsRun(table: SampleTable, what: string): void {
  const all = allSamples(table);
  const n = all.count;
  const end = n === 0 ? 0 : all.dts[n - 1] + all.durations[n - 1];
  for (let i = 0; i <= n; i++) {
    assert.equal(table.dtsAt(i), i < n ? all.dts[i] : end, `${what}: dtsAt(${i})`);
    let sync = i;
    while (sync < n && all.isSync[sync] === 0) sync++;
    assert.equal(table.nextSyncAtOrAfter(i), sync, `${what}: nextSyncAtOrAfter(${i})`);
    if (i < n) {
      assert.equal(table.firstAtOrAfter(all.dts[i]), all.dts.indexOf(all.dts[i]), `${what}: firstAtOrAfter(dts ${i})`);
      const between = all.dts[i] + 0.5;
      let expected = i;
      while (expected < n && all.dts[expected] < between) expected++;
      assert.equal(table.firstAtOrAfter(between), expected, `${what}: firstAtOrAfter(dts ${i} + 0.5)`);
    }
  }
  assert.equal(table.firstAtOrAfter(-1), 0);
  assert.equal(table.firstAtOrAfter(end + 1), n);
  assert.equal(table.minCtsOffset, Math.min(0, ...all.ctsOffsets), `${what}: minCtsOffset`);
  assert.equal(
    table.totalBytes,
    all.sizes.reduce((a, b) => a + b, 0),
    `${what}: totalBytes`,
  );
  // Runs starting and ending anywhere (mid-chunk, across chunks and stts/ctts runs) are slices of the whole.
  const step = Math.max(1, Math.floor(n / 23));
  for (let first = 0; first < n; first += step) {
    for (const len of [1, 2, 7, 50, n]) {
      const stop = Math.min(n, first + len);
      const run = table.run(first, stop);
      assert.equal(run.first, first);
      assert.equal(run.count, stop - first);
      for (const key of ['offsets', 'sizes', 'dts', 'durations', 'ctsOffsets', 'isSync'] as const) {
        assert.deepEqual(Array.from(run[key]), Array.from(all[key].subarray(first, stop)), `${what}: run(${first}, ${stop}).${key}`);
      }
      let bytes = 0;
      let ticks = 0;
      for (let i = first; i < stop; i++) {
        bytes += all.sizes[i];
        ticks += all.durations[i];
      }
      assert.equal(table.bytesIn(first, stop), bytes, `${what}: bytesIn(${first}, ${stop})`);
      assert.equal(table.ticksIn(first, stop), ticks, `${what}: ticksIn(${first}, ${stop})`);
    }
  }
  assert.throws(() => table.run(0, n + 1), RangeError);
}

const H264_PROFILE: Record<string, number> = { Baseline: 0x42, 'Constrained Baseline': 0x42, Main: 0x4d, High: 0x64 };
const hex2 = (n: number) => n.toString(16).padStart(2, '0');

describe('MP4 index parser against ffprobe', () => {
  it('H.264 with B-frames + AAC (faststart): every sample, codecs, one read', async () => {
    const file = makeH264BFramesMp4();
    const { index, reads } = await indexBytes(fileBytes(file));
    assert.equal(reads.length, 1);
    assert.equal(index.isFragmented, false);
    assert.deepEqual(
      index.tracks.map((t) => t.kind),
      ['video', 'audio'],
    );
    assertMatchesFfprobe(file, index);

    const [v, a] = index.tracks;
    const [vs, as] = probeStreams(file);
    assert.equal(v.codecs, `avc1.${hex2(H264_PROFILE[String(vs.profile)])}00${hex2(Number(vs.level))}`);
    assert.equal(v.fourcc, 'avc1');
    assert.deepEqual(v.video, { width: 320, height: 240, frameRate: 25 });
    assert.equal(v.timescale, 12800);
    const vCts = allSamples(v.samples).ctsOffsets;
    assert.ok(
      vCts.some((c) => c !== vCts[0]),
      'B-frames reorder',
    );
    assert.equal(v.editMediaTimeTicks, vCts[0], 'edit removes the B-frame delay of the first frame');
    assert.equal(a.codecs, 'mp4a.40.2');
    assert.equal(vs.codec_tag_string, 'avc1');
    assert.deepEqual(a.audio, { channels: Number(as.channels), sampleRate: Number(as.sample_rate), aacObjectType: 2 });
    assert.equal(a.editMediaTimeTicks, 1024, 'AAC priming');
    // sampleEntry is the whole stsd entry, copied out of the file.
    assert.equal(readU32(v.sampleEntry, 0), v.sampleEntry.length);
    assert.equal(String.fromCharCode(...v.sampleEntry.subarray(4, 8)), 'avc1');
    assert.notEqual(v.sampleEntry.buffer.byteLength, fs.statSync(file).size, 'a copy, not a view of the moov read');
    // Bitrates: average from sizes and duration; peak ≥ average.
    const vs2 = allSamples(v.samples);
    let bytes = 0;
    for (let i = 0; i < vs2.count; i++) bytes += vs2.sizes[i];
    assert.equal(v.bitrateBps, Math.round((bytes * 8 * v.timescale) / v.durationTicks));
    assert.ok(v.maxBitrateBps >= v.bitrateBps);
    assert.ok(Math.abs(index.durationSec - 4) < 0.05, String(index.durationSec));
  });

  it('H.265 (hvc1): samples and an Annex E codecs string matching the stream profile and level', async () => {
    const file = makeHevcMp4();
    const { index } = await indexBytes(fileBytes(file));
    assertMatchesFfprobe(file, index);
    const [vs] = probeStreams(file);
    assert.equal(vs.profile, 'Main');
    const v = index.tracks[0];
    assert.equal(v.fourcc, 'hvc1');
    // Main → profile 1, compatibility flags 1 and 2 → "6", tier L, level_idc from ffprobe; x265 sets
    // progressive_source + frame_only → constraint byte 0x90.
    assert.equal(v.codecs, `hvc1.1.6.L${vs.level}.90`);
  });

  it('AC-3 5.1 audio only: codecs ac-3, channels from dac3 (the sample entry says 2)', async () => {
    const file = makeAc3Mp4();
    const { index } = await indexBytes(fileBytes(file));
    assertMatchesFfprobe(file, index);
    const [as] = probeStreams(file);
    const a = index.tracks[0];
    assert.equal(a.kind, 'audio');
    assert.equal(a.codecs, 'ac-3');
    assert.deepEqual(a.audio, { channels: 6, sampleRate: 48000 });
    assert.equal(Number(as.channels), 6);
    assert.equal(a.bitrateBps, 384000);
  });

  it('two audio languages', async () => {
    const file = makeTwoLanguagesMp4();
    const { index } = await indexBytes(fileBytes(file));
    assertMatchesFfprobe(file, index);
    assert.deepEqual(
      index.tracks.map((t) => [t.kind, t.language]),
      [
        ['video', 'und'],
        ['audio', 'eng'],
        ['audio', 'fra'],
      ],
    );
  });

  it('an initial empty edit (audio starting 0.5 s late) folds into editMediaTimeTicks as a negative shift', async () => {
    const file = makeDelayedAudioMp4();
    const { index } = await indexBytes(fileBytes(file));
    assertMatchesFfprobe(file, index);
    const a = index.tracks[1];
    assert.ok(a.editMediaTimeTicks < 0);
    const startSec = -a.editMediaTimeTicks / a.timescale;
    assert.ok(Math.abs(startSec - 0.5) < 0.03, String(startSec));
  });

  it('moov at the end: ≤ 4 small reads, none larger than moov + 64 KiB', async () => {
    const file = makeMoovAtEndMp4();
    const bytes = fileBytes(file);
    const boxes = topLevel(bytes);
    const moov = boxes.find((b) => b.type === MOOV)!;
    const mdat = boxes.find((b) => b.type === MDAT)!;
    assert.ok(moov.start > mdat.start && mdat.end - mdat.start > 1_000_000, 'fixture has a big mdat before moov');
    const moovSize = moov.end - moov.start;
    for (const readAheadBytes of [undefined, 4096]) {
      const { index, reads } = await indexBytes(bytes, { readAheadBytes });
      assert.ok(reads.length <= 4, `${reads.length} reads with read-ahead ${readAheadBytes}`);
      for (const r of reads) assert.ok(r.length <= moovSize + 65536, `read of ${r.length} bytes`);
      assert.ok(reads.reduce((n, r) => n + r.length, 0) <= 2 * 65536 + moovSize);
      if (readAheadBytes === undefined) assertMatchesFfprobe(file, index);
    }
  });

  it('fragmented MP4 (frag_keyframe+empty_moov+default_base_moof): samples from every moof', async () => {
    const file = makeFragmentedMp4();
    const bytes = fileBytes(file);
    const { index } = await indexBytes(bytes);
    assert.equal(index.isFragmented, true);
    assertMatchesFfprobe(file, index);
    assert.deepEqual(
      index.tracks.map((t) => t.codecs),
      ['avc1.64000d', 'mp4a.40.2'],
    );
    assert.equal(index.tracks[0].editMediaTimeTicks, 0, 'no edit list in this file');
  });

  it('fragmented MP4: reads moov and moofs, never mdat payloads', async () => {
    const bytes = fileBytes(makeFragmentedMp4());
    const boxes = topLevel(bytes);
    const moofs = boxes.filter((b) => b.type === MOOF);
    assert.ok(moofs.length >= 4);
    const { reads } = await indexBytes(bytes, { readAheadBytes: 16 });
    const needed = boxes.reduce((n, b) => n + (b.type === MDAT ? 16 : b.end - b.start), 0);
    const total = reads.reduce((n, r) => n + r.length, 0);
    assert.ok(total <= needed, `${total} bytes read, boxes other than mdat hold ${needed}`);
    // One header read per box, plus one more for the moov and each moof to read them whole.
    assert.ok(reads.length <= boxes.length + moofs.length + 1, `${reads.length} reads for ${boxes.length} boxes`);
  });

  it('ISMV (tfxd, no tfdt): samples match; tfxd times become the edit (ffprobe ignores tfxd)', async () => {
    const file = makeIsmv();
    const { index } = await indexBytes(fileBytes(file));
    assert.equal(index.isFragmented, true);
    // ffprobe lays the samples out from 0 by their durations and shows no edit; we use tfxd, whose first audio
    // fragment starts one AAC frame (1024/48000 s = 213333 ticks of 10 MHz) early: the encoder's priming.
    assertMatchesFfprobe(file, index, { editShownByFfprobe: false, ffprobeDurations: false });
    assert.deepEqual(
      index.tracks.map((t) => [t.timescale, t.editMediaTimeTicks]),
      [
        [10_000_000, 0],
        [10_000_000, 213333],
      ],
    );
  });
});

describe('MP4 index parser on synthetic tables', () => {
  const video = (over: Partial<SynthTrack> = {}): SynthTrack => ({
    trackId: 1,
    handler: 'vide',
    timescale: 90000,
    sampleEntry: avc1Entry(1920, 1080, 0x64, 0x00, 0x28),
    sampleCount: 10,
    sampleSize: (i) => 1000 + i,
    stts: [[10, 3600]],
    samplesPerChunk: 3,
    syncEvery: 5,
    ...over,
  });
  const audio = (over: Partial<SynthTrack> = {}): SynthTrack => ({
    trackId: 2,
    handler: 'soun',
    timescale: 48000,
    language: 'deu',
    sampleEntry: mp4aEntry(2, 48000, 5),
    sampleCount: 12,
    sampleSize: (i) => 300 + i,
    samplesPerChunk: 5,
    ...over,
  });

  async function index(f: { fileSize: number; read: (o: number, l: number) => Promise<Uint8Array> }): Promise<MediaIndex> {
    return readMp4Index(f.fileSize, f.read);
  }

  it('stsc runs and stco: offsets are chunk offset + sizes of earlier samples in the chunk', async () => {
    const f = synthFile(1000, [video(), audio()]);
    const idx = await index(f);
    const dataStart = f.parts[2].offset + 16;
    const v = allSamples(idx.tracks[0].samples);
    const expected: number[] = [];
    for (let i = 0, off = dataStart; i < 10; i++) {
      expected.push(off);
      off += 1000 + i;
    }
    assert.deepEqual(Array.from(v.offsets), expected);
    assert.deepEqual(
      Array.from(v.dts),
      Array.from({ length: 10 }, (_, i) => i * 3600),
    );
    assert.deepEqual(Array.from(v.isSync), [1, 0, 0, 0, 0, 1, 0, 0, 0, 0]);
    assert.equal(idx.tracks[0].codecs, 'avc1.640028');
    assert.equal(idx.tracks[0].video!.frameRate, 25);
    const a = idx.tracks[1];
    assert.equal(allSamples(a.samples).offsets[0], expected[9] + 1009);
    assert.equal(a.codecs, 'mp4a.40.5');
    assert.equal(a.language, 'deu');
    assert.deepEqual(a.audio, { channels: 2, sampleRate: 48000, aacObjectType: 5 });
  });

  it('co64 beyond 4 GiB, stz2 (4/8/16-bit), constant stsz, ctts v1 negative, elst v1 with an empty edit', async () => {
    const big: SynthTrack = video({
      co64: true,
      sampleSize: () => 600_000_000,
      sampleCount: 10,
      ctts: { version: 1, offset: (i) => (i % 2 ? -3600 : 7200) },
      elst: {
        version: 1,
        entries: [
          [500, -1],
          [10_000, 7200],
        ],
      },
    });
    const f = synthFile(1000, [
      big,
      audio({ stz2: 16, sampleSize: (i) => 700 + i }),
      audio({ trackId: 3, stz2: 8, sampleSize: (i) => 100 + i }),
      audio({ trackId: 4, stz2: 4, sampleSize: (i) => i % 16 }),
      audio({ trackId: 5, constantSize: true, sampleSize: () => 4 }),
    ]);
    assert.ok(f.fileSize > 2 ** 32);
    const idx = await index(f);
    const v = idx.tracks[0];
    assert.equal(allSamples(v.samples).offsets[9], f.parts[2].offset + 16 + 9 * 600_000_000);
    assert.deepEqual(Array.from(allSamples(v.samples).ctsOffsets.subarray(0, 4)), [7200, -3600, 7200, -3600]);
    assert.equal(v.editMediaTimeTicks, 7200 - 500 * 90, 'media_time minus the 0.5 s empty edit in track ticks');
    assert.deepEqual(Array.from(allSamples(idx.tracks[1].samples).sizes.subarray(0, 3)), [700, 701, 702]);
    assert.deepEqual(Array.from(allSamples(idx.tracks[2].samples).sizes.subarray(0, 3)), [100, 101, 102]);
    assert.deepEqual(
      Array.from(allSamples(idx.tracks[3].samples).sizes),
      Array.from({ length: 12 }, (_, i) => i % 16),
    );
    assert.deepEqual(Array.from(allSamples(idx.tracks[4].samples).sizes), new Array(12).fill(4));
  });

  it('skips hint tracks and unsupported text entries; 415 when nothing is left', async () => {
    const hint: SynthTrack = { ...audio({ trackId: 7 }), handler: 'hint' };
    const tx3g: SynthTrack = { ...audio({ trackId: 8 }), handler: 'text', sampleEntry: box('tx3g', new Array(30).fill(0)) };
    const idx = await index(synthFile(1000, [hint, video(), tx3g]));
    assert.deepEqual(
      idx.tracks.map((t) => t.trackId),
      [1],
    );
    const f = synthFile(1000, [hint, tx3g, { ...video(), sampleEntry: box('mp4v', new Array(78).fill(0)) }]);
    await assertMediaError(
      index(f),
      415,
      'UnsupportedCodec',
      /no track the packager can serve: track 8 \(text, sample entry 'tx3g'\); track 1 \(video, sample entry 'mp4v'\)/,
    );
  });

  it('wvtt and stpp text tracks are kept with their four-cc as codecs', async () => {
    const wvtt: SynthTrack = {
      ...audio({ trackId: 3 }),
      handler: 'text',
      sampleEntry: box('wvtt', new Array(6).fill(0), u16(1), box('vttC', ascii('WEBVTT'))),
    };
    const stpp: SynthTrack = {
      ...audio({ trackId: 4 }),
      handler: 'text',
      sampleEntry: box('stpp', new Array(6).fill(0), u16(1), ascii('http://www.w3.org/ns/ttml\0\0\0')),
    };
    const idx = await index(synthFile(1000, [video(), wvtt, stpp]));
    assert.deepEqual(
      idx.tracks.map((t) => [t.kind, t.codecs]),
      [
        ['video', 'avc1.640028'],
        ['text', 'wvtt'],
        ['text', 'stpp'],
      ],
    );
  });

  it('HEVC and AVC codecs strings (ISO/IEC 14496-15 Annex E, RFC 6381)', () => {
    const hvcC = (e: Uint8Array) => e.subarray(86 + 8); // entry header + 78 bytes of fields + hvcC header
    assert.equal(
      hevcCodecString('hvc1', hvcC(hvc1Entry(1, 1, { space: 0, tier: 0, profile: 1, compat: 0x60000000, constraint: [0xb0, 0, 0, 0, 0, 0], level: 93 })), 0),
      'hvc1.1.6.L93.B0',
    );
    assert.equal(
      hevcCodecString(
        'hev1',
        hvcC(hvc1Entry(1, 1, { space: 1, tier: 1, profile: 4, compat: 0x82000000, constraint: [0xb0, 0x23, 0, 0, 0, 0], level: 120 }, 'hev1')),
        0,
      ),
      'hev1.A4.41.H120.B0.23',
    );
    assert.equal(
      hevcCodecString('hvc1', hvcC(hvc1Entry(1, 1, { space: 0, tier: 0, profile: 2, compat: 0x20000000, constraint: [0, 0, 0, 0, 0, 0], level: 150 })), 0),
      'hvc1.2.4.L150',
    );
    assert.equal(avcCodecString('avc3', new Uint8Array([1, 0x4d, 0x40, 0x1e]), 0), 'avc3.4d401e');
  });

  it('a 2-hour 1080p moov (180k video + 337.5k audio samples): tens of ms warm, asserted loosely', async (t) => {
    const videoCount = 180_000;
    const audioCount = 337_500;
    const f = synthFile(
      1000,
      [
        video({
          sampleCount: videoCount,
          stts: [[videoCount, 3600]],
          sampleSize: (i) => (i % 50 === 0 ? 90_000 : 20_000 + (i % 7)),
          samplesPerChunk: 25,
          syncEvery: 50,
          ctts: { version: 0, offset: (i) => [7200, 18000, 3600, 0, 3600][i % 5] },
        }),
        audio({ sampleCount: audioCount, sampleSize: (i) => 370 + (i % 11), samplesPerChunk: 47 }),
      ],
      'moov-at-end',
    );
    const moov = f.parts[2].bytes;
    const parse = (): { ms: number; idx: MediaIndex } => {
      const start = performance.now();
      const parser = createMp4IndexParser(f.fileSize);
      let step = parser.next();
      while ('need' in step) {
        parser.feed(step.need.offset, readParts(f.parts, step.need.offset, step.need.length));
        step = parser.next();
      }
      return { ms: performance.now() - start, idx: step.done };
    };
    const first = parse();
    const again = parse();
    t.diagnostic(
      `moov ${(moov.length / 1e6).toFixed(1)} MB, ${videoCount + audioCount} samples: first parse ${first.ms.toFixed(1)} ms, second ${again.ms.toFixed(1)} ms`,
    );
    assert.deepEqual(
      again.idx.tracks.map((tr) => tr.samples.count),
      [videoCount, audioCount],
    );
    assert.ok(Math.abs(again.idx.durationSec - 7200) < 1);
    assert.equal(again.idx.tracks[0].video!.frameRate, 25);
    // Loose bound: a busy CI machine must not fail this; a regression to per-sample objects or O(n²) would.
  });
});

describe('fragments built by hand', () => {
  const trex = (trackId: number, duration: number, size: number, flags: number) =>
    fullBox('trex', 0, 0, u32(trackId), u32(1), u32(duration), u32(size), u32(flags));
  const emptyVideo: SynthTrack = {
    trackId: 1,
    handler: 'vide',
    timescale: 90000,
    sampleEntry: avc1Entry(640, 360),
    sampleCount: 0,
    sampleSize: () => 0,
    stts: [],
    samplesPerChunk: 1,
  };
  const emptyAudio: SynthTrack = {
    trackId: 2,
    handler: 'soun',
    timescale: 48000,
    sampleEntry: mp4aEntry(2, 48000),
    sampleCount: 0,
    sampleSize: () => 0,
    stts: [],
    samplesPerChunk: 1,
  };

  function file(moofs: (moofOffset: number) => Uint8Array[]): Uint8Array {
    const ftyp = box('ftyp', ascii('iso6'), u32(0), ascii('iso6'));
    const { moov } = synthMoov(1000, [emptyVideo, emptyAudio], 0, [box('mvex', trex(1, 3000, 0, 0x00010000), trex(2, 1024, 200, 0))]);
    const head = concatBytes([ftyp, moov]);
    const parts = moofs(head.length);
    return concatBytes([head, ...parts]);
  }

  it('tfhd base-data-offset, default-base-is-moof, implicit base of a second traf, first-sample-flags, trex defaults, tfdt', async () => {
    // moof 1: traf(video: default-base-is-moof, tfdt v1 = 90000, trun with data offset, first-sample-flags,
    // per-sample sizes) + traf(audio: no base flags → base is the end of the previous traf's data, trex defaults).
    const bytes = file((moofOffset) => {
      const build = (dataOffset: number) =>
        box(
          'moof',
          fullBox('mfhd', 0, 0, u32(1)),
          box(
            'traf',
            fullBox('tfhd', 0, 0x020000, u32(1)),
            fullBox('tfdt', 1, 0, u64(90000)),
            fullBox('trun', 0, 0x001 | 0x004 | 0x200, u32(3), u32(dataOffset), u32(0), u32(500), u32(400), u32(300)),
          ),
          box('traf', fullBox('tfhd', 0, 0, u32(2)), fullBox('trun', 0, 0, u32(2))),
        );
      const probe = build(0);
      const moof = build(probe.length + 8);
      const mdat = box('mdat', new Uint8Array(500 + 400 + 300 + 2 * 200));
      // moof 2: video only, explicit base-data-offset (absolute, at the next mdat's payload), no tfdt → its
      // samples continue from the last one; per-sample flags and signed composition offsets.
      const moof2Offset = moofOffset + moof.length + mdat.length;
      const build2 = (base: number) =>
        box(
          'moof',
          fullBox('mfhd', 0, 0, u32(2)),
          box(
            'traf',
            fullBox('tfhd', 0, 0x01 | 0x08 | 0x10, u32(1), u64(base), u32(6000), u32(111)),
            fullBox('trun', 1, 0x800 | 0x400, u32(2), u32(0x00010000), u32(-3000 >>> 0), u32(0), u32(3000)),
          ),
        );
      const moof2 = build2(moof2Offset + build2(0).length + 8);
      return [moof, mdat, moof2, box('mdat', new Uint8Array(222))];
    });
    const { index } = await indexBytes(bytes);
    const [v, a] = index.tracks;
    const moofs = topLevel(bytes).filter((b) => b.type === MOOF);
    assert.equal(moofs.length, 2);
    const dataStart = moofs[0].end + 8;
    assert.deepEqual(Array.from(allSamples(v.samples).offsets), [dataStart, dataStart + 500, dataStart + 900, moofs[1].end + 8, moofs[1].end + 8 + 111]);
    assert.deepEqual(Array.from(allSamples(v.samples).sizes), [500, 400, 300, 111, 111]);
    assert.deepEqual(Array.from(allSamples(v.samples).durations), [3000, 3000, 3000, 6000, 6000]);
    assert.deepEqual(Array.from(allSamples(v.samples).dts), [0, 3000, 6000, 9000, 15000], 'rebased from tfdt 90000');
    assert.equal(v.editMediaTimeTicks, -90000, 'the tfdt start moves into the edit');
    assert.deepEqual(Array.from(allSamples(v.samples).isSync), [1, 0, 0, 0, 1], 'first-sample-flags sync, trex default non-sync, per-sample flags');
    assert.deepEqual(Array.from(allSamples(v.samples).ctsOffsets), [0, 0, 0, -3000, 3000]);
    assert.deepEqual(Array.from(allSamples(a.samples).offsets), [dataStart + 1200, dataStart + 1400], 'implicit base: end of the previous traf data');
    assert.deepEqual(Array.from(allSamples(a.samples).sizes), [200, 200]);
    assert.deepEqual(Array.from(allSamples(a.samples).durations), [1024, 1024]);
    assert.equal(index.isFragmented, true);
  });

  it('rejects a moof before the moov, a trun that does not fit, and samples beyond the file', async () => {
    const ftyp = box('ftyp', ascii('iso6'), u32(0), ascii('iso6'));
    const moof = box('moof', fullBox('mfhd', 0, 0, u32(1)));
    const { moov } = synthMoov(1000, [emptyVideo], 0, [box('mvex', trex(1, 3000, 0, 0))]);
    await assertMediaError(indexBytes(concatBytes([ftyp, moof, moov])), 422, 'CorruptMedia', new RegExp(`^moof at offset ${ftyp.length}: moof before moov$`));

    const tooMany = file(() => [box('moof', box('traf', fullBox('tfhd', 0, 0x020000, u32(1)), fullBox('trun', 0, 0x200, u32(1000), u32(5))))]);
    await assertMediaError(indexBytes(tooMany), 422, 'CorruptMedia', /^trun at offset \d+: 1000 samples of 4 bytes do not fit in the box/);

    const beyond = file(() => [box('moof', box('traf', fullBox('tfhd', 0, 0x020000, u32(1)), fullBox('trun', 0, 0x200, u32(2), u32(10), u32(1_000_000))))]);
    await assertMediaError(
      indexBytes(beyond),
      422,
      'CorruptMedia',
      /^trun at offset \d+: track 1 sample 1 \(1000000 bytes at offset \d+\) runs past the end of the file/,
    );
    const beyondByDefault = file(() => [box('moof', box('traf', fullBox('tfhd', 0, 0x020000 | 0x10, u32(1), u32(1_000_000)), fullBox('trun', 0, 0, u32(1))))]);
    await assertMediaError(indexBytes(beyondByDefault), 422, 'CorruptMedia', /^trun at offset \d+: 1 samples of 1000000 bytes exceed the file/);

    const absurd = file(() => [box('moof', box('traf', fullBox('tfhd', 0, 0x020000, u32(1)), fullBox('trun', 0, 0, u32(0xffffffff))))]);
    await assertMediaError(indexBytes(absurd), 422, 'CorruptMedia', /^trun at offset \d+: sample_count 4294967295 is absurd/);
  });
});

describe('corrupt and unsupported input', () => {
  it('zero-length file', async () => {
    await assertMediaError(
      readMp4Index(0, () => assert.fail('no read expected')),
      422,
      'CorruptMedia',
      /^file at offset 0: the file is empty/,
    );
  });

  it('a text file', async () => {
    const text = new TextEncoder().encode('Hello, this is not a video at all.\nJust some text that someone uploaded.\n');
    await assertMediaError(indexBytes(text), 422, 'CorruptMedia', /at offset 0: not an MP4 file \(first box has type 'o, t' and size \d+, file is \d+ bytes\)/);
  });

  it('truncated in the middle of the moov (faststart and moov-at-end)', async () => {
    for (const file of [makeH264BFramesMp4(), makeMoovAtEndMp4()]) {
      const bytes = fileBytes(file);
      const moov = topLevel(bytes).find((b) => b.type === MOOV)!;
      const cut = bytes.subarray(0, moov.start + ((moov.end - moov.start) >> 1));
      await assertMediaError(
        indexBytes(cut),
        422,
        'CorruptMedia',
        new RegExp(`^moov at offset ${moov.start}: size ${moov.end - moov.start} runs past the end of the file`),
      );
    }
  });

  it('a box size beyond the file (top level) or beyond its parent (inside moov)', async () => {
    const bytes = fileBytes(makeMoovAtEndMp4());
    const mdat = topLevel(bytes).find((b) => b.type === MDAT)!;
    const a = bytes.slice();
    writeU32(a, mdat.start, 0x7fffffff);
    await assertMediaError(indexBytes(a), 422, 'CorruptMedia', new RegExp(`^mdat at offset ${mdat.start}: size 2147483647 runs past the end of the file`));

    const b = fileBytes(makeH264BFramesMp4()).slice();
    const stsz = locate(b, [...STBL_PATH, 'stsz']);
    writeU32(b, stsz.start, 0x7fffffff);
    await assertMediaError(indexBytes(b), 422, 'CorruptMedia', new RegExp(`^stsz at offset ${stsz.start}: size 2147483647 runs past the end of its parent`));
  });

  it('box sizes 1..7 (top level and nested) are rejected, never looped on', { timeout: 5000 }, async () => {
    const ftyp = box('ftyp', ascii('isom'), u32(0));
    for (let size = 1; size <= 7; size++) {
      const bad = concatBytes([u32(size), ascii('free'), new Array(8).fill(0), box('free', new Array(40).fill(0))]);
      await assertMediaError(indexBytes(concatBytes([ftyp, bad])), 422, 'CorruptMedia', /^free at offset 16: (largesize 0 is smaller|size \d is smaller)/);
      const moov = box('moov', u32(size), ascii('trak'), new Array(24).fill(0));
      await assertMediaError(indexBytes(concatBytes([ftyp, moov])), 422, 'CorruptMedia', /^trak at offset 24: (largesize \d+ is smaller|size \d is smaller)/);
    }
  });

  it('missing stsd / stsz, inconsistent stts, absurd stsz count, sample offsets outside the file', async () => {
    const original = fileBytes(makeH264BFramesMp4());
    const cases: Array<[string, (b: Uint8Array) => void, RegExp]> = [
      ['stsd', (b) => b.set(ascii('xxxx'), locate(b, [...STBL_PATH, 'stsd']).start + 4), /^stbl at offset \d+: track 1 has no stsd box$/],
      ['stsz', (b) => b.set(ascii('xxxx'), locate(b, [...STBL_PATH, 'stsz']).start + 4), /^stbl at offset \d+: track 1 has no stsz or stz2 box$/],
      [
        'stts',
        (b) => {
          const h = locate(b, [...STBL_PATH, 'stts']);
          writeU32(b, h.payload + 8, readU32(b, h.payload + 8) - 1);
        },
        /^stts at offset \d+: describes 99 samples, stsz has 100 \(track 1\)$/,
      ],
      ['stsz count', (b) => writeU32(b, locate(b, [...STBL_PATH, 'stsz']).payload + 8, 0xfffffff0), /^stsz at offset \d+: sample_count 4294967280 is absurd$/],
      [
        'stsz count vs box',
        (b) => writeU32(b, locate(b, [...STBL_PATH, 'stsz']).payload + 8, 1_000_000),
        /^stsz at offset \d+: sample_count 1000000 needs 4000000 bytes, box has 400$/,
      ],
      [
        'stco',
        (b) => writeU32(b, locate(b, [...STBL_PATH, 'stco']).payload + 8, b.length - 10),
        /^stco at offset \d+: track 1 sample 0 \(\d+ bytes at offset \d+\) runs past the end of the file \(\d+ bytes\)$/,
      ],
      ['stss', (b) => writeU32(b, locate(b, [...STBL_PATH, 'stss']).payload + 8, 1000), /^stss at offset \d+: entry 0 names sample 1000, track 1 has 100$/],
      ['mvhd', (b) => b.set(ascii('xxxx'), locate(b, ['moov', 'mvhd']).start + 4), /^moov at offset \d+: no mvhd box$/],
    ];
    for (const [name, mutate, message] of cases) {
      const b = original.slice();
      mutate(b);
      await assertMediaError(indexBytes(b), 422, 'CorruptMedia', message).catch((err: unknown) => assert.fail(`${name}: ${String(err)}`));
    }
  });

  it('a file with only an unsupported codec → 415; with a usable track besides, that codec is skipped', async () => {
    await assertMediaError(indexBytes(fileBytes(makeMpeg4PartTwoMp4())), 415, 'UnsupportedCodec', /track 1 \(video, sample entry 'mp4v'\)/);
    const { index } = await indexBytes(fileBytes(makeMpeg4PartTwoMp4(true)));
    assert.deepEqual(
      index.tracks.map((t) => [t.trackId, t.codecs]),
      [[2, 'mp4a.40.2']],
    );
  });

  it('a short read is an error, not a loop', async () => {
    const bytes = fileBytes(makeMoovAtEndMp4());
    await assertMediaError(
      readMp4Index(bytes.length + 1000, (o, l) => Promise.resolve(bytes.subarray(o, o + l))),
      422,
      'CorruptMedia',
      /read returned \d+ of \d+ bytes/,
    );
    const parser = createMp4IndexParser(bytes.length);
    const first = parser.next();
    assert.ok('need' in first);
    assert.deepEqual(parser.next(), first, 'asking again without a feed repeats the request');
    parser.feed(first.need.offset + 1, bytes.subarray(first.need.offset + 1, first.need.offset + 100));
    assert.throws(
      () => parser.next(),
      (err: unknown) => err instanceof MediaError && /did not return them/.test(err.detail),
    );
  });

  it('random corruption of moov and moof boxes ends in an index or a MediaError, quickly', { timeout: 60_000 }, async () => {
    let seed = 12345;
    const random = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    for (const file of [makeH264BFramesMp4(), makeFragmentedMp4()]) {
      const original = fileBytes(file);
      // Corrupt only index boxes (moov, moof): what the parser reads, as opposed to media payload.
      const targets = topLevel(original).filter((b) => b.type === MOOV || b.type === MOOF);
      let errors = 0;
      for (let round = 0; round < 300; round++) {
        const b = original.slice();
        const flips = 1 + Math.floor(random() * 4);
        for (let i = 0; i < flips; i++) {
          const box = targets[Math.floor(random() * targets.length)];
          const o = box.start + Math.floor(random() * (box.end - box.start));
          b[o] = random() < 0.5 ? Math.floor(random() * 256) : 0xff;
        }
        try {
          await indexBytes(b, { maxReads: 50 });
        } catch (err) {
          assert.ok(err instanceof MediaError, `${file} round ${round}: ${String(err)}`);
          errors++;
        }
      }
      assert.ok(errors > 0);
    }
  });
});
