/**
 * WebVTT-in-MP4 (`wvtt`, ISO/IEC 14496-30 §7) back to WebVTT text, for HLS, which carries WebVTT subtitles as
 * text segments (RFC 8216 §3.5), never as fMP4. One HLS segment is the WebVTT file of the source samples that
 * overlap the segment's span (see `textSegments`):
 * - the header is the sample entry's `vttC` configuration (the file header: `WEBVTT`, STYLE, REGION blocks),
 *   with `X-TIMESTAMP-MAP` added as for side-loaded files (MPEGTS 0 for CMAF, the TS muxer's offset for TS);
 * - each `vttc` box of a sample is a cue (`iden` → identifier, `sttg` → settings, `payl` → text) lasting the
 *   sample's time; `vtte` (no cue) and `vtta` (comments) give nothing;
 * - a cue that the file splits over consecutive samples (because another cue overlaps it, §7.5) is joined back:
 *   the same `vttc` bytes in the next sample, starting where the previous one ended, extend the cue (samples just
 *   outside the segment are read too, so that a split on the other side of a boundary is joined as well);
 * - times are the samples' whole times, not clipped to the segment: a cue spanning a segment boundary is written,
 *   identical, in both segments, which players merge (hls.js and AVPlayer drop a cue equal to one they have).
 */
import type { TrackIndex } from '../../model/media-index.js';
import type { TrackSegment } from '../../model/segment.js';
import type { SourceRange } from '../segment-plan.js';
import { webVttWithTimestampMap } from './webvtt.js';

const decoder = new TextDecoder('utf-8');

function type(b: Uint8Array, o: number): string {
  return String.fromCharCode(b[o + 4], b[o + 5], b[o + 6], b[o + 7]);
}

function size(b: Uint8Array, o: number): number {
  return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}

/** The boxes in b[start, end) as [type, payload start, end]; stops at a malformed size. */
function boxes(b: Uint8Array, start: number, end: number): Array<[string, number, number]> {
  const out: Array<[string, number, number]> = [];
  let o = start;
  while (o + 8 <= end) {
    const n = size(b, o);
    if (n < 8 || o + n > end) break;
    out.push([type(b, o), o + 8, o + n]);
    o += n;
  }
  return out;
}

/** The WebVTT file header of a `wvtt` sample entry (its `vttC` box), `WEBVTT` when it has none. */
export function wvttHeader(sampleEntry: Uint8Array): string {
  // SampleEntry: box header (8), reserved (6), data_reference_index (2), then the child boxes.
  for (const [t, from, to] of boxes(sampleEntry, 16, sampleEntry.length)) {
    if (t !== 'vttC') continue;
    const text = decoder.decode(sampleEntry.subarray(from, to)).replace(/\r\n?/g, '\n').trimEnd();
    if (/^\uFEFF?WEBVTT/.test(text)) return text;
  }
  return 'WEBVTT';
}

/**
 * Samples read on either side of a segment, so that a cue split over several samples (§7.5) is joined back whole
 * even where the split falls outside the segment. Text samples are small; a cue split more often is cut there.
 */
const CONTEXT_SAMPLES = 8;

/** The samples read for a segment: its own and `CONTEXT_SAMPLES` on either side. */
function sampleWindow(track: TrackIndex, segment: TrackSegment): { first: number; end: number } {
  return {
    first: Math.max(0, segment.firstSample - CONTEXT_SAMPLES),
    end: Math.min(track.samples.count, segment.firstSample + segment.sampleCount + CONTEXT_SAMPLES),
  };
}

/** The bytes of the source samples to read for a segment, in order (one range per sample). */
export function planWvttSamples(track: TrackIndex, segment: TrackSegment): SourceRange[] {
  const { first, end } = sampleWindow(track, segment);
  const run = track.samples.run(first, end);
  const ranges: SourceRange[] = new Array<SourceRange>(run.count);
  for (let i = 0; i < run.count; i++) ranges[i] = { offset: run.offsets[i], length: run.sizes[i] };
  return ranges;
}

/** A cue being read: its text block without timing, and its times in ticks. */
interface OpenCue {
  key: string;
  id: string;
  settings: string;
  text: string;
  start: number;
  end: number;
}

function timestamp(ticks: number, timescale: number): string {
  const ms = Math.max(0, Math.round((ticks * 1000) / timescale));
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(Math.floor(ms / 3_600_000))}:${pad(Math.floor(ms / 60_000) % 60)}:${pad(Math.floor(ms / 1000) % 60)}.${pad(ms % 1000, 3)}`;
}

/** The cues of one sample's bytes. */
function sampleCues(b: Uint8Array): Array<Omit<OpenCue, 'start' | 'end'>> {
  const cues: Array<Omit<OpenCue, 'start' | 'end'>> = [];
  for (const [t, from, to] of boxes(b, 0, b.length)) {
    if (t !== 'vttc') continue;
    let id = '';
    let settings = '';
    let text = '';
    for (const [c, cFrom, cTo] of boxes(b, from, to)) {
      const value = decoder.decode(b.subarray(cFrom, cTo));
      if (c === 'iden') id = value;
      else if (c === 'sttg') settings = value;
      else if (c === 'payl') text = value;
    }
    cues.push({ key: `${id}\u0000${settings}\u0000${text}`, id, settings, text });
  }
  return cues;
}

/**
 * The WebVTT text of a segment from the bytes of the samples `planWvttSamples` named (same order), with
 * `X-TIMESTAMP-MAP=MPEGTS:{mpegTs90k},LOCAL:00:00:00.000`. Cue times are media times (decode time minus the
 * track's edit), the timeline of the audio/video segments.
 */
export function writeWebVttSegment(track: TrackIndex, segment: TrackSegment, samples: Uint8Array[], mpegTs90k: number): string {
  const { first, end: last } = sampleWindow(track, segment);
  const run = track.samples.run(first, last);
  const done: OpenCue[] = [];
  let open: OpenCue[] = [];
  for (let i = 0; i < run.count; i++) {
    const start = run.dts[i];
    const end = start + run.durations[i];
    const next: OpenCue[] = [];
    for (const cue of sampleCues(samples[i])) {
      const continued = open.findIndex((c) => c.key === cue.key && c.end === start);
      if (continued >= 0) {
        const c = open.splice(continued, 1)[0];
        c.end = end;
        next.push(c);
      } else next.push({ ...cue, start, end });
    }
    done.push(...open);
    open = next;
  }
  done.push(...open);
  // Only the cues shown during the segment (the context samples only complete them).
  const from = segment.startTicks;
  const to = from + segment.durationTicks;
  const shown = done.filter((c) => c.end > from && c.start < to).sort((a, b) => a.start - b.start || a.end - b.end);
  const ts = track.timescale;
  const edit = track.editMediaTimeTicks;
  const blocks = shown.map((c) => {
    // A cue's text may not hold an empty line (it would end the cue) nor `-->` on its id line.
    const text = c.text
      .replace(/\r\n?/g, '\n')
      .replace(/\n{2,}/g, '\n')
      .trimEnd();
    const id = c.id.replace(/[\r\n]/g, ' ').replace(/-->/g, '--');
    const timing = `${timestamp(c.start - edit, ts)} --> ${timestamp(c.end - edit, ts)}${c.settings ? ` ${c.settings.replace(/[\r\n]/g, ' ')}` : ''}`;
    return `${id ? `${id}\n` : ''}${timing}\n${text}`;
  });
  const header = wvttHeader(track.sampleEntry);
  return webVttWithTimestampMap(`${header}\n\n${blocks.join('\n\n')}${blocks.length > 0 ? '\n' : ''}`, mpegTs90k);
}
