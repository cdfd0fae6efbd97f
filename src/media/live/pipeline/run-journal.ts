/**
 * What a run of a live event needs to be adopted by the next process (a restart while the event runs), kept next
 * to its spool files:
 * - `run.json`: the run's settings, its tracks (codec configuration, URL bitrate) and its outputs' recording
 *   starts, rewritten atomically (temporary file + rename) whenever one changes;
 * - `{track}.idx` (and `{track}.{offset}.idx` per later spool chunk, `spool-layout.ts`): one JSON line per closed
 *   segment of the track, appended to its chunk's journal once the segment's bytes are in the chunk: its samples
 *   (offsets into the track's spool, sizes, times, sync flags) and its byte range. A line is written only after its
 *   bytes, so a crash leaves at most spool bytes no line names (cut off when the run is adopted) or a torn last
 *   line (ignored).
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { TrackCodecConfig } from './flv-media.js';
import type { RestoredSegment } from './live-track.js';

export const runFileName = 'run.json';

export interface RunTrackState {
  name: string;
  config: Omit<TrackCodecConfig, 'sampleEntry'> & { sampleEntry: string };
  urlBitrateBps?: number;
  late?: boolean;
}

export interface RunState {
  runId: string;
  /** Wall-clock time of tick 0, once the first sample came. */
  availabilityStartMs?: number;
  targetSegmentSec: number;
  partTargetSec?: number;
  /** The track segment boundaries follow. */
  reference?: string;
  /** In creation order (track ids follow it). */
  tracks: RunTrackState[];
  /** Each output's recording start, wall-clock ms. */
  outputs: Record<string, number>;
}

export function encodeConfig(config: TrackCodecConfig): RunTrackState['config'] {
  return { ...config, sampleEntry: Buffer.from(config.sampleEntry).toString('base64') };
}

export function decodeConfig(config: RunTrackState['config']): TrackCodecConfig {
  return { ...config, sampleEntry: new Uint8Array(Buffer.from(config.sampleEntry, 'base64')) };
}

/** Writes `run.json` atomically: readers see the old or the new state, never part of one. */
export async function writeRunState(runDir: string, state: RunState): Promise<void> {
  await fsp.mkdir(runDir, { recursive: true });
  const file = path.join(runDir, runFileName);
  const temporary = `${file}.tmp`;
  await fsp.writeFile(temporary, JSON.stringify(state));
  await fsp.rename(temporary, file);
}

export async function readRunState(runDir: string): Promise<RunState | undefined> {
  try {
    return JSON.parse(await fsp.readFile(path.join(runDir, runFileName), 'utf8')) as RunState;
  } catch {
    return undefined;
  }
}

/** The run folder under `eventDir` whose `run.json` changed last, or undefined when none has one. */
export async function newestRun(eventDir: string): Promise<string | undefined> {
  let names: string[];
  try {
    names = await fsp.readdir(eventDir);
  } catch {
    return undefined;
  }
  let best: { runId: string; mtimeMs: number } | undefined;
  for (const name of names) {
    const stat = await fsp.stat(path.join(eventDir, name, runFileName)).catch(() => undefined);
    if (stat && (!best || stat.mtimeMs > best.mtimeMs)) best = { runId: name, mtimeMs: stat.mtimeMs };
  }
  return best?.runId;
}

interface JournalLine {
  i: number;
  t: number;
  d: number;
  s: number;
  e: number;
  x?: 1;
  o: number[];
  z: number[];
  ts: number[];
  du: number[];
  c: number[];
  k: string;
}

export function journalLine(segment: RestoredSegment): string {
  const r = segment.samples;
  const n = r.count;
  const line: JournalLine = {
    i: segment.index,
    t: segment.startTicks,
    d: segment.durationTicks,
    s: segment.fileStart,
    e: segment.fileEnd,
    ...(segment.discontinuity ? { x: 1 as const } : {}),
    o: Array.from(r.offsets.subarray(0, n)),
    z: Array.from(r.sizes.subarray(0, n)),
    ts: Array.from(r.dts.subarray(0, n)),
    du: Array.from(r.durations.subarray(0, n)),
    c: Array.from(r.ctsOffsets.subarray(0, n)),
    k: Array.from(r.isSync.subarray(0, n)).join(''),
  };
  return `${JSON.stringify(line)}\n`;
}

/**
 * The segments a journal names, in order, up to the first torn, unreadable or out-of-order line, with the byte
 * length of the journal up to the end of each one's line. `firstIndex`: the index its first line must have (a
 * chunk's journal continues the previous chunk's); undefined: any (the first chunk after a trimmed head). Read as a
 * stream: a long chunk's journal is large.
 */
export async function readJournal(file: string, firstIndex?: number): Promise<{ segments: RestoredSegment[]; lineEnds: number[] }> {
  const segments: RestoredSegment[] = [];
  const lineEnds: number[] = [];
  let stream: fs.ReadStream;
  try {
    await fsp.access(file);
    stream = fs.createReadStream(file, { encoding: 'latin1' });
  } catch {
    return { segments, lineEnds };
  }
  let rest = '';
  let bytes = 0;
  let broken = false;
  // What follows the last newline is a line the crash cut short (or nothing): never read.
  for await (const chunk of stream as AsyncIterable<string>) {
    if (broken) continue;
    let text = rest + chunk;
    let newline: number;
    while ((newline = text.indexOf('\n')) >= 0) {
      const line = text.slice(0, newline);
      text = text.slice(newline + 1);
      const segment = parseLine(line, segments.length === 0 ? firstIndex : segments[0].index + segments.length);
      if (!segment) {
        broken = true;
        break;
      }
      bytes += line.length + 1;
      segments.push(segment);
      lineEnds.push(bytes);
    }
    rest = text;
  }
  return { segments, lineEnds };
}

function parseLine(text: string, expectedIndex: number | undefined): RestoredSegment | undefined {
  let l: JournalLine;
  try {
    l = JSON.parse(text) as JournalLine;
  } catch {
    return undefined;
  }
  const n = Array.isArray(l?.o) ? l.o.length : -1;
  if (
    (expectedIndex === undefined ? !Number.isInteger(l?.i) || l.i < 0 : l.i !== expectedIndex) ||
    n < 0 ||
    l.z?.length !== n ||
    l.ts?.length !== n ||
    l.du?.length !== n ||
    l.c?.length !== n ||
    l.k?.length !== n
  )
    return undefined;
  return {
    index: l.i,
    startTicks: l.t,
    durationTicks: l.d,
    fileStart: l.s,
    fileEnd: l.e,
    discontinuity: l.x === 1,
    samples: {
      count: n,
      offsets: Float64Array.from(l.o),
      sizes: Uint32Array.from(l.z),
      dts: Float64Array.from(l.ts),
      durations: Uint32Array.from(l.du),
      ctsOffsets: Int32Array.from(l.c),
      isSync: Uint8Array.from(l.k, (ch) => (ch === '1' ? 1 : 0)),
    },
  };
}
