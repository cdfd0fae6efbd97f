/**
 * Where a track's spool chunks live on disk, and reading them back when a run is adopted after a restart.
 *
 * A track's spool is one byte-offset space cut into chunk files at segment boundaries: the chunk starting at offset
 * 0 is `{track}.mp4` (the init segment and the first segments) with its journal `{track}.idx`; the chunk starting
 * at offset X is `{track}.X.mp4` with `{track}.X.idx`. Naming a chunk by its offset lets a restart rebuild the
 * layout from a folder listing, and a run that never reached a second chunk stays one plain fragmented MP4.
 * Chunks are only ever deleted from the head (journal first, then media), so after a crash the chain of chunks
 * whose journals name their bytes is kept, and what is left around it (a head chunk half deleted, a new chunk whose
 * first segment was never journaled) is deleted.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { RestoredSegment } from './live-track.js';
import { readJournal } from './run-journal.js';

/** A chunk kept by adoption: its offset and size in the track's spool. */
export interface KeptChunk {
  offset: number;
  size: number;
}

/** The media file and the journal of the chunk starting at `offset`. */
export function chunkFiles(dir: string, track: string, offset: number): { media: string; journal: string } {
  const base = offset === 0 ? track : `${track}.${offset}`;
  return { media: path.join(dir, `${base}.mp4`), journal: path.join(dir, `${base}.idx`) };
}

/** Offsets of the chunks of `track` that have a media file or a journal in `dir`, ascending. */
export async function listChunks(dir: string, track: string): Promise<number[]> {
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch {
    return [];
  }
  const offsets = new Set<number>();
  for (const name of names) {
    if (!name.startsWith(`${track}.`)) continue;
    const rest = name.slice(track.length + 1);
    const m = /^(?:(\d+)\.)?(mp4|idx)$/.exec(rest);
    if (m) offsets.add(m[1] === undefined ? 0 : Number(m[1]));
  }
  return [...offsets].sort((a, b) => a - b);
}

/** A track's spool as its journals name it. */
export interface SpoolTrackOnDisk {
  /** The segments, in order (the first one after a trimmed head may be any index). */
  segments: RestoredSegment[];
  /** Per segment: the offset of its chunk and the length of that chunk's journal up to the end of its line. */
  where: Array<{ chunk: number; lineEnd: number }>;
  /** Every chunk offset found in the folder (kept or not). */
  found: number[];
}

/**
 * Reads a track's chunks and journals: the longest chain of chunks, each starting where the previous one's last
 * segment ends, whose journal lines name segment bytes that are all in its file. A chunk before the chain whose
 * journal names nothing usable (a head chunk half deleted) is skipped; the chain ends at the first chunk that
 * does not continue it.
 */
export async function readSpoolTrack(dir: string, track: string): Promise<SpoolTrackOnDisk> {
  const found = await listChunks(dir, track);
  const segments: RestoredSegment[] = [];
  const where: SpoolTrackOnDisk['where'] = [];
  let expectedOffset: number | undefined;
  for (const offset of found) {
    if (expectedOffset !== undefined && offset !== expectedOffset) break;
    const files = chunkFiles(dir, track, offset);
    const { size } = await fsp.stat(files.media).catch(() => ({ size: 0 }));
    const next = segments.length > 0 ? segments[segments.length - 1].index + 1 : undefined;
    const journal = await readJournal(files.journal, next);
    let kept = 0;
    // A segment whose bytes are not all in the file (the journal outran an unsynced write) ends the chain.
    for (const s of journal.segments) {
      if (s.fileStart < offset || s.fileEnd > offset + size || s.fileEnd < s.fileStart) break;
      segments.push(s);
      where.push({ chunk: offset, lineEnd: journal.lineEnds[kept] });
      kept++;
    }
    if (kept === 0) {
      if (expectedOffset === undefined) continue;
      break;
    }
    if (kept < journal.segments.length) break;
    expectedOffset = segments[segments.length - 1].fileEnd;
  }
  return { segments, where, found };
}

/**
 * Cuts a track's spool to its segments before `count` (the segments every track kept): chunks holding none of them
 * are deleted, the others cut to their last kept segment (media and journal). Returns the chunks kept and the start
 * of the last one's first segment (the next chunk is cut from there).
 */
export async function cutSpoolTrack(
  dir: string,
  track: string,
  disk: SpoolTrackOnDisk,
  count: number,
): Promise<{ chunks: KeptChunk[]; lastChunkStartTicks: number | undefined }> {
  const kept = new Map<number, { size: number; lineEnd: number; firstStartTicks: number }>();
  disk.segments.forEach((s, i) => {
    if (s.index >= count) return;
    const { chunk, lineEnd } = disk.where[i];
    const k = kept.get(chunk);
    if (k) {
      k.size = s.fileEnd - chunk;
      k.lineEnd = lineEnd;
    } else kept.set(chunk, { size: s.fileEnd - chunk, lineEnd, firstStartTicks: s.startTicks });
  });
  for (const offset of disk.found) {
    const files = chunkFiles(dir, track, offset);
    const k = kept.get(offset);
    if (!k) {
      await fsp.rm(files.journal, { force: true });
      await fsp.rm(files.media, { force: true });
      continue;
    }
    await fsp.truncate(files.media, k.size);
    await fsp.truncate(files.journal, k.lineEnd);
  }
  const chunks = [...kept.entries()].sort((a, b) => a[0] - b[0]).map(([offset, k]) => ({ offset, size: k.size }));
  const last = chunks[chunks.length - 1];
  return { chunks, lastChunkStartTicks: last ? kept.get(last.offset)!.firstStartTicks : undefined };
}
