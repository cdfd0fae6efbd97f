/**
 * Hand-built presentations for the manifest writers' tests (imported only by `*.test.ts`): two video
 * renditions with two audio languages, an H.265 case, and a 2-hour case, plus the sample entries of real
 * ffmpeg-made MP4s for the codec configuration tests.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AudioInfo, TrackIndex, TrackKind, VideoInfo } from '../../model/media-index.js';
import type { Presentation, PresentationTrack } from '../../model/presentation.js';
import type { TrackSegment } from '../../model/segment.js';
import { emptySampleTable } from '../../model/sample-table.js';
import { SegmentList } from '../../model/segment.js';

export interface TrackSpec {
  kind: TrackKind;
  name: string;
  bitrateBps: number;
  language?: string;
  timescale: number;
  fourcc: string;
  codecs: string;
  /** Measured average and peak; default bitrateBps × 0.95 and × 1.2. */
  averageBps?: number;
  peakBps?: number;
  video?: VideoInfo;
  audio?: AudioInfo;
  sampleEntry?: Uint8Array;
  /** Duration of each segment, ticks. */
  durations: number[];
  /** Start of the first segment, ticks (default 0). */
  firstStartTicks?: number;
}

const emptySamples = emptySampleTable();

export function makeTrack(spec: TrackSpec, trackId = 1): PresentationTrack {
  const segments: TrackSegment[] = [];
  let start = spec.firstStartTicks ?? 0;
  for (let i = 0; i < spec.durations.length; i++) {
    segments.push({ index: i, firstSample: 0, sampleCount: 0, startTicks: start, durationTicks: spec.durations[i] });
    start += spec.durations[i];
  }
  const track: TrackIndex = {
    trackId,
    kind: spec.kind,
    fourcc: spec.fourcc,
    codecs: spec.codecs,
    timescale: spec.timescale,
    durationTicks: start - (spec.firstStartTicks ?? 0),
    language: spec.language ?? 'und',
    bitrateBps: spec.averageBps ?? Math.round(spec.bitrateBps * 0.95),
    maxBitrateBps: spec.peakBps ?? Math.round(spec.bitrateBps * 1.2),
    sampleEntry: spec.sampleEntry ?? new Uint8Array(0),
    editMediaTimeTicks: 0,
    video: spec.video,
    audio: spec.audio,
    samples: emptySamples,
  };
  return { name: spec.name, kind: spec.kind, bitrateBps: spec.bitrateBps, language: spec.language ?? 'und', sourceFile: `${spec.name}.mp4`, track, segments: SegmentList.from(segments) };
}

/** Video segment durations: `count` segments of `segmentTicks`, the last one `lastTicks`. */
export function videoDurations(count: number, segmentTicks: number, lastTicks = segmentTicks): number[] {
  const out = new Array<number>(count).fill(segmentTicks);
  out[count - 1] = lastTicks;
  return out;
}

/**
 * Audio segment durations that follow video boundaries (`boundariesSec`, cumulative) in whole AAC frames of
 * 1024 samples, as the segmenter cuts them: durations vary by a frame from one segment to the next.
 */
export function audioDurations(boundariesSec: number[], sampleRate: number, totalSec: number): number[] {
  const frame = 1024;
  const out: number[] = [];
  let prev = 0;
  for (let i = 0; i < boundariesSec.length; i++) {
    const end = i === boundariesSec.length - 1 ? Math.ceil((totalSec * sampleRate) / frame) * frame : Math.round((boundariesSec[i] * sampleRate) / frame) * frame;
    out.push(end - prev);
    prev = end;
  }
  return out;
}

function boundaries(durations: number[], timescale: number): number[] {
  let acc = 0;
  return durations.map((d) => (acc += d) / timescale);
}

/** 61 s: 1280x720 and 640x360 H.264 at 25 fps (timescale 12800, 2 s segments), English and French AAC. */
export function twoRenditionPresentation(entries?: { video?: Uint8Array; audio?: Uint8Array }): Presentation {
  const vDur = videoDurations(31, 25600, 12800);
  const cuts = boundaries(vDur, 12800);
  const aDur = audioDurations(cuts, 48000, 61);
  const video = (name: string, bitrateBps: number, width: number, height: number, codecs: string, id: number) =>
    makeTrack({ kind: 'video', name, bitrateBps, timescale: 12800, fourcc: 'avc1', codecs, video: { width, height, frameRate: 25 }, durations: vDur, sampleEntry: entries?.video }, id);
  const audio = (name: string, language: string, bitrateBps: number, id: number) =>
    makeTrack({ kind: 'audio', name, bitrateBps, language, timescale: 48000, fourcc: 'mp4a', codecs: 'mp4a.40.2', audio: { channels: 2, sampleRate: 48000, aacObjectType: 2 }, durations: aDur, sampleEntry: entries?.audio }, id);
  return {
    durationSec: 61,
    targetSegmentSec: 2,
    tracks: [
      video('video', 3400000, 1280, 720, 'avc1.64001f', 1),
      video('video', 1200000, 640, 360, 'avc1.4d401e', 1),
      audio('aac_eng_2_128', 'eng', 128000, 2),
      audio('aac_fra_2_96', 'fra', 96000, 2),
    ],
  };
}

/** 20 s of 1920x1080 H.265 at 29.97 fps (timescale 30000, 60-frame segments) with English AAC. */
export function hevcPresentation(entries?: { video?: Uint8Array; audio?: Uint8Array }): Presentation {
  const vDur = videoDurations(10, 60060, 59059);
  const totalSec = vDur.reduce((a, b) => a + b, 0) / 30000;
  const aDur = audioDurations(boundaries(vDur, 30000), 48000, totalSec);
  return {
    durationSec: totalSec,
    targetSegmentSec: 2,
    tracks: [
      makeTrack({ kind: 'video', name: 'video', bitrateBps: 6000000, timescale: 30000, fourcc: 'hvc1', codecs: 'hvc1.1.6.L120.90', video: { width: 1920, height: 1080, frameRate: 30000 / 1001 }, durations: vDur, sampleEntry: entries?.video }, 1),
      makeTrack({ kind: 'audio', name: 'aac_eng_2_128', bitrateBps: 128000, language: 'eng', timescale: 48000, fourcc: 'mp4a', codecs: 'mp4a.40.2', audio: { channels: 2, sampleRate: 48000, aacObjectType: 2 }, durations: aDur, sampleEntry: entries?.audio }, 2),
    ],
  };
}

/** 2 hours in 3600 segments of 2 s: two H.264 renditions (timescale 90000) and two AAC languages. */
export function twoHourPresentation(): Presentation {
  const vDur = videoDurations(3600, 180000);
  const aDur = audioDurations(boundaries(vDur, 90000), 48000, 7200);
  const video = (bitrateBps: number, width: number, height: number) =>
    makeTrack({ kind: 'video', name: 'video', bitrateBps, timescale: 90000, fourcc: 'avc1', codecs: 'avc1.640028', video: { width, height, frameRate: 25 }, durations: vDur }, 1);
  const audio = (name: string, language: string) =>
    makeTrack({ kind: 'audio', name, bitrateBps: 128000, language, timescale: 48000, fourcc: 'mp4a', codecs: 'mp4a.40.2', audio: { channels: 2, sampleRate: 48000 }, durations: aDur }, 2);
  return { durationSec: 7200, targetSegmentSec: 2, tracks: [video(6000000, 1920, 1080), video(3000000, 1280, 720), audio('aac_eng_2_128', 'eng'), audio('aac_spa_2_128', 'spa')] };
}

const cacheDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../../test/fixtures/.cache');

/** A 1 s H.265 (`hvc1`) + AAC MP4 made by ffmpeg with libx265, cached beside `makeMp4`'s files. */
export function makeHevcMp4(): string {
  const file = path.join(cacheDir, 'testsrc-hevc-320x240-1s.mp4');
  if (fs.existsSync(file)) return file;
  fs.mkdirSync(cacheDir, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp.mp4`;
  execFileSync('ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25:duration=1',
    '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000:duration=1',
    '-c:v', 'libx265', '-preset', 'ultrafast', '-x265-params', 'log-level=error', '-tag:v', 'hvc1', '-pix_fmt', 'yuv420p',
    '-c:a', 'aac', '-b:a', '64k', '-shortest', tmp,
  ]);
  fs.renameSync(tmp, file);
  return file;
}

/** The first `stsd` sample entry (the whole box) of each of the file's video and audio tracks. */
export function readSampleEntries(file: string): { video?: Uint8Array; audio?: Uint8Array } {
  const bytes = new Uint8Array(fs.readFileSync(file));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const children = (start: number, end: number) => {
    const out: Array<{ type: string; start: number; end: number }> = [];
    for (let at = start; at + 8 <= end; ) {
      const size = view.getUint32(at);
      const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
      if (size < 8 || at + size > end) break;
      out.push({ type, start: at + 8, end: at + size });
      at += size;
    }
    return out;
  };
  const child = (box: { start: number; end: number }, type: string) => children(box.start, box.end).find((b) => b.type === type);
  const result: { video?: Uint8Array; audio?: Uint8Array } = {};
  const moov = children(0, bytes.length).find((b) => b.type === 'moov');
  if (!moov) throw new Error(`${file}: no moov`);
  for (const trak of children(moov.start, moov.end).filter((b) => b.type === 'trak')) {
    const mdia = child(trak, 'mdia');
    const hdlr = mdia && child(mdia, 'hdlr');
    const stsd = mdia && child(mdia, 'minf') && child(child(child(mdia, 'minf')!, 'stbl')!, 'stsd');
    if (!hdlr || !stsd) continue;
    const handler = String.fromCharCode(...bytes.subarray(hdlr.start + 8, hdlr.start + 12));
    const entryAt = stsd.start + 8;
    const entry = bytes.subarray(entryAt, entryAt + view.getUint32(entryAt));
    if (handler === 'vide') result.video ??= entry;
    if (handler === 'soun') result.audio ??= entry;
  }
  return result;
}

/**
 * NAL units of the first access unit(s) of `file`'s video as ffmpeg writes them in Annex B with the
 * `h264_mp4toannexb`/`hevc_mp4toannexb` filter, which inserts the parameter sets from the sample entry:
 * an independent reading of the same codec configuration.
 */
export function ffmpegAnnexBNalUnits(file: string, codec: 'h264' | 'hevc'): Uint8Array[] {
  const out = execFileSync('ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-i', file, '-map', '0:v:0', '-c:v', 'copy', '-bsf:v', `${codec}_mp4toannexb`, '-frames:v', '1', '-f', codec, '-',
  ], { maxBuffer: 64 * 1024 * 1024 });
  const bytes = new Uint8Array(out);
  const starts: Array<{ at: number; len: number }> = [];
  for (let i = 0; i + 3 <= bytes.length; i++) {
    if (bytes[i] === 0 && bytes[i + 1] === 0 && bytes[i + 2] === 1) {
      starts.push({ at: i + 3, len: 3 });
      i += 2;
    }
  }
  const nals: Uint8Array[] = [];
  for (let k = 0; k < starts.length; k++) {
    let end = k + 1 < starts.length ? starts[k + 1].at - 3 : bytes.length;
    while (end > starts[k].at && bytes[end - 1] === 0) end--; // trailing zero of a 4-byte start code
    nals.push(bytes.subarray(starts[k].at, end));
  }
  return nals;
}

/** The codec extradata ffprobe reports for a stream (`a:0`, `v:0`), upper-case hex: what our parse must match. */
export function ffprobeExtradataHex(file: string, stream: string): string {
  const out = execFileSync('ffprobe', ['-v', 'error', '-select_streams', stream, '-show_streams', '-show_data', file]).toString();
  const lines = out.slice(out.indexOf('extradata=') + 'extradata='.length).split('\n').slice(1);
  let hex = '';
  for (const line of lines) {
    const m = /^[0-9a-f]{8}: ((?:[0-9a-f]{2,4} ?)+)/.exec(line);
    if (!m) break;
    hex += m[1].replace(/ /g, '');
  }
  return hex.toUpperCase();
}
