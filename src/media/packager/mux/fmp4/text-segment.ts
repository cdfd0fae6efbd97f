/**
 * The fMP4 media segment of a text track (`stpp` TTML/IMSC1 or `wvtt` WebVTT, ISO/IEC 14496-30; CMAF §9 text
 * tracks): the same boxes as `planMediaSegment` ([styp] moof(mfhd, traf(tfhd, tfdt, trun)) mdat). `tfdt` is the
 * segment's start, so the text timeline matches the audio/video one segment by segment. Every text sample is a
 * sync sample; there are no composition offsets.
 * - `wvtt`: the samples are the segment's `textPieces`: source samples clipped to the segment's span (their bytes
 *   repeated verbatim in every segment they overlap: a WebVTT cue continued in the next sample is the same cue) and
 *   an empty `vtte` sample for each gap.
 * - `stpp`: exactly one sample, one TTML document, lasting the whole segment (DASH-IF IOP §6.4.4 and CMAF ask for
 *   one TTML sample per segment; hls.js and Shaka Player parse a segment's `mdat` as one document). The document is
 *   the source sample overlapping the segment, verbatim (its times are on the track timeline, so repeating it in
 *   every segment it overlaps is exact), or an empty document when none does. When several source documents
 *   overlap one segment, their bodies are merged into one document (`ttmlDocumentsToMerge`, `writeMergedTtmlSegment`),
 *   which needs their bytes first, unlike every other plan.
 */
import type { TrackIndex } from '../../model/media-index.js';
import type { TrackSegment } from '../../model/segment.js';
import type { SegmentPart, SegmentPlan, SourceRange } from '../segment-plan.js';
import { emptyTextSample, textPieces, type TextPiece } from '../text/text-samples.js';
import { BOX_HEADER_SIZE, BoxWriter, FULL_BOX_HEADER_SIZE, fourcc } from './box-writer.js';
import { fragmentTrackId } from './init-segment.js';
import { MFHD_SIZE, STYP_SIZE, SYNC_SAMPLE_FLAGS, TFDT_SIZE, writeFragmentHead, type MediaSegmentOptions } from './media-segment.js';

const TFHD = fourcc('tfhd');
const TFDT = fourcc('tfdt');
const TRUN = fourcc('trun');
const MDAT = fourcc('mdat');

const TFHD_DEFAULT_SAMPLE_FLAGS_PRESENT = 0x000020;
const TFHD_DEFAULT_BASE_IS_MOOF = 0x020000;
const TRUN_FLAGS = 0x000001 | 0x000100 | 0x000200; // data offset, sample duration, sample size

const TFHD_SIZE = FULL_BOX_HEADER_SIZE + 8;

/** One sample of a text segment: its duration and either built bytes or a source range. */
interface TextSample {
  durationTicks: number;
  bytes: Uint8Array | SourceRange;
}

/** The boxes and payload parts of a text segment made of `samples`. */
function textSegmentPlan(track: TrackIndex, segment: TrackSegment, sequenceNumber: number, options: MediaSegmentOptions, samples: TextSample[]): SegmentPlan {
  let payloadSize = 0;
  for (const t of samples) payloadSize += sizeOf(t.bytes);
  const stypSize = options.styp === true ? STYP_SIZE : 0;
  const trunSize = FULL_BOX_HEADER_SIZE + 8 + samples.length * 8;
  const trafSize = BOX_HEADER_SIZE + TFHD_SIZE + TFDT_SIZE + trunSize;
  const moofSize = BOX_HEADER_SIZE + MFHD_SIZE + trafSize;
  const headerSize = stypSize + moofSize + BOX_HEADER_SIZE;

  const w = BoxWriter.allocate(headerSize);
  writeFragmentHead(w, stypSize, moofSize, sequenceNumber, trafSize);
  w.fullBox(TFHD_SIZE, TFHD, 0, TFHD_DEFAULT_BASE_IS_MOOF | TFHD_DEFAULT_SAMPLE_FLAGS_PRESENT);
  w.u32(fragmentTrackId(track));
  w.u32(SYNC_SAMPLE_FLAGS);
  w.fullBox(TFDT_SIZE, TFDT, 1, 0);
  w.u64(segment.startTicks);
  w.fullBox(trunSize, TRUN, 0, TRUN_FLAGS);
  w.u32(samples.length);
  w.i32(moofSize + BOX_HEADER_SIZE);
  for (const t of samples) {
    w.u32(t.durationTicks);
    w.u32(sizeOf(t.bytes));
  }
  // Text segments are small (a few kB of cues): a 32-bit mdat always fits.
  w.box(BOX_HEADER_SIZE + payloadSize, MDAT);

  const parts: SegmentPart[] = [w.finish()];
  let current: SourceRange | undefined;
  for (const t of samples) {
    if (t.bytes instanceof Uint8Array) {
      parts.push(t.bytes);
      current = undefined;
    } else if (current !== undefined && current.offset + current.length === t.bytes.offset) current.length += t.bytes.length;
    else parts.push((current = { ...t.bytes }));
  }
  return { size: headerSize + payloadSize, parts };
}

function sizeOf(bytes: Uint8Array | SourceRange): number {
  return bytes instanceof Uint8Array ? bytes.byteLength : bytes.length;
}

/** The distinct source samples a segment's pieces use, in order. */
function sourceSamples(pieces: TextPiece[]): number[] {
  const out: number[] = [];
  for (const p of pieces) if (p.sample >= 0 && out[out.length - 1] !== p.sample) out.push(p.sample);
  return out;
}

/**
 * Plans the fMP4 segment of a text track: built boxes and filler samples, and the source samples as ranges. For an
 * `stpp` segment that several documents overlap (see `ttmlDocumentsToMerge`) it writes them as consecutive samples,
 * which is valid ISO BMFF but not what players expect: the origin merges those instead.
 */
export function planTextSegment(track: TrackIndex, segment: TrackSegment, sequenceNumber: number, options: MediaSegmentOptions = {}): SegmentPlan {
  const { run, pieces } = textPieces(track, segment);
  const filler = emptyTextSample(track.fourcc);
  const range = (i: number): SourceRange => ({ offset: run.offsets[i], length: run.sizes[i] });
  const used = sourceSamples(pieces);
  if (track.fourcc === 'stpp' && used.length <= 1) {
    const bytes = used.length === 1 ? range(used[0]) : filler;
    return textSegmentPlan(track, segment, sequenceNumber, options, [{ durationTicks: segment.durationTicks, bytes }]);
  }
  return textSegmentPlan(
    track,
    segment,
    sequenceNumber,
    options,
    pieces.map((p) => ({ durationTicks: p.durationTicks, bytes: p.sample < 0 ? filler : range(p.sample) })),
  );
}

/** The TTML documents to read and merge for an `stpp` segment that several overlap; undefined when one or none does. */
export function ttmlDocumentsToMerge(track: TrackIndex, segment: TrackSegment): SourceRange[] | undefined {
  if (track.fourcc !== 'stpp') return undefined;
  const { run, pieces } = textPieces(track, segment);
  const used = sourceSamples(pieces);
  return used.length > 1 ? used.map((i) => ({ offset: run.offsets[i], length: run.sizes[i] })) : undefined;
}

const decoder = new TextDecoder('utf-8');
const encoder = new TextEncoder();

/**
 * One TTML document from several (in time order): the first one whole, with the content of the others' `body`
 * elements appended to its own. Their times are all on the track timeline, so the union shows each cue when its
 * own document did. Styles and regions are the first document's (documents of one track share them in practice);
 * the merged TTML elements take the first document's prefix for the TTML namespace.
 */
export function mergeTtmlDocuments(documents: string[]): string {
  const first = documents[0];
  const prefix = (doc: string) => /<([\w.-]+:)?body\b/.exec(doc)?.[1] ?? '';
  const to = prefix(first);
  const extra = documents
    .slice(1)
    .map((doc) => {
      const from = prefix(doc);
      const content = /<((?:[\w.-]+:)?body)\b[^>]*>([\s\S]*)<\/\1\s*>/.exec(doc)?.[2] ?? '';
      if (from === to) return content;
      // The TTML elements take the first document's prefix for the TTML namespace (`tt:p` → `p`, or back).
      const name = from === '' ? '(?![\\w.-]+:)' : from.replace(/[.]/g, '\\.');
      return content.replace(new RegExp(`<(/?)${name}(?=[\\w.-])`, 'g'), `<$1${to}`);
    })
    .join('');
  const close = /<\/((?:[\w.-]+:)?body)\s*>(?![\s\S]*<\/(?:[\w.-]+:)?body\s*>)/.exec(first);
  if (close) return first.slice(0, close.index) + extra + first.slice(close.index);
  // `<body/>`: open it.
  return first.replace(/<((?:[\w.-]+:)?body)\b([^>]*?)\/>/, (_all, name: string, attrs: string) => `<${name}${attrs}>${extra}</${name}>`);
}

/** The `stpp` segment whose documents `ttmlDocumentsToMerge` named, from their bytes: one merged document. */
export function writeMergedTtmlSegment(
  track: TrackIndex,
  segment: TrackSegment,
  sequenceNumber: number,
  options: MediaSegmentOptions,
  documents: Uint8Array[],
): Uint8Array[] {
  const merged = encoder.encode(mergeTtmlDocuments(documents.map((d) => decoder.decode(d))));
  const plan = textSegmentPlan(track, segment, sequenceNumber, options, [{ durationTicks: segment.durationTicks, bytes: merged }]);
  return plan.parts as Uint8Array[];
}
