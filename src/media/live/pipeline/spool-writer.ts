/**
 * The spool: per live track, an append-only fragmented MP4 in one byte-offset space, `{spoolDir}/{eventId}/{runId}`:
 * the init segment (`ftyp` + `moov` with `mvex`), then one `moof` + `mdat` per segment (LowLatency: per part), built
 * by the packager's own fMP4 muxer. The sample offsets recorded in the track are offsets in that space, so the
 * origin's ranged reads serve segments from the spool like from a VOD file.
 *
 * On disk the space is cut into chunk files at segment boundaries (`spool-layout.ts`): `{track}.mp4` from offset 0
 * (the init and the first segments: a run shorter than a chunk is one plain fragmented MP4), then `{track}.{offset}.mp4`
 * for the chunk starting at that offset, each with its journal. A segment never spans chunks, so whole chunks that
 * no window needs any more can be deleted while the event runs (`dropBefore`) without moving an offset.
 */
import fsp, { type FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { ArraySampleTable, type SampleTable } from '../../packager/model/sample-table.js';
import { outputFormat, type Fmp4SegmentMuxer, type TrackIndex } from '../../packager/index.js';
import type { BlobInfo, BlobListing, BlobStore, ByteRange, ReadIntoOptions } from '../../../storage/blob-store.js';
import { NotFoundError, RangeNotSatisfiableError, BadRequestError, GoneError } from '../../../shared/errors.js';
import type { ClosingSegment, LiveTrack } from './live-track.js';
import { chunkFiles, type KeptChunk } from './spool-layout.js';

/** ISO BMFF brands without `styp` per segment (the `mpd-time-csf` muxer): the spool is one plain fragmented file. */
export const spoolMuxer = outputFormat('mpd-time-csf').segments as Fmp4SegmentMuxer;

/** Read handles kept open for chunks other than the one being written (most recently read first out last). */
const maxReadHandles = 4;

interface Chunk {
  /** Offset of its first byte in the track's spool. */
  readonly offset: number;
  readonly path: string;
  readonly journal: string;
  /** Past its last byte: the next chunk's offset, or the committed size for the chunk being written. */
  end: number;
  fh: FileHandle | undefined;
  /** Reads in flight on `fh`: the handle closes once they are done. */
  readers: number;
  dropped: boolean;
}

export interface SpoolChunkOptions {
  /** A new chunk starts with the first segment at least this long after the chunk's first segment. */
  chunkSec: number;
}

/** One track's spool: written in order, readable up to what is committed, its oldest chunks deletable. */
export class SpoolFile {
  /** Bytes written and visible to readers (the end of the offset space). */
  #size = 0;
  #initSize = 0;
  #closed = false;
  /** Writes, journal lines and deletions run one after another in call order. */
  #queue: Promise<unknown> = Promise.resolve();
  #modified = new Date();
  /** Chunks on disk, ascending; the last is the one written. */
  readonly #chunks: Chunk[] = [];
  /** Read handles of older chunks, least recently used first. */
  readonly #readHandles = new Set<Chunk>();
  /** Chunk length in track ticks, and the start of the written chunk's first segment. */
  readonly #chunkTicks: number;
  #chunkStartTicks: number | undefined;
  /** A segment's parts are being written (LowLatency): no new chunk before it closes. */
  #segmentOpen = false;

  private constructor(
    readonly dir: string,
    readonly name: string,
    private readonly trackName: string,
    readonly etag: string,
    timescale: number,
    options: SpoolChunkOptions,
  ) {
    this.#chunkTicks = Math.max(1, Math.round(options.chunkSec * timescale));
  }

  /** Creates the first chunk (and its folder) and writes the track's init segment. */
  static async create(dir: string, track: LiveTrack, etag: string, options: SpoolChunkOptions): Promise<SpoolFile> {
    await fsp.mkdir(dir, { recursive: true });
    const spool = new SpoolFile(dir, `${track.name}.mp4`, track.name, etag, track.timescale, options);
    await spool.#startChunk(0);
    const init = spoolMuxer.init(track.index);
    await spool.#write([init]);
    spool.#initSize = init.byteLength;
    return spool;
  }

  /**
   * Reopens an adopted run's spool (a restart): `chunks` are what the journals name (`readSpoolTrack`), the last
   * one cut to `size` (bytes no journal line names are a write a crash cut short), so the next segment is appended
   * right after the last complete one. `lastChunkStartTicks`: the start of the last chunk's first segment. Without
   * chunks (or a first chunk shorter than its init segment) the spool is started again.
   */
  static async reopen(
    dir: string,
    track: LiveTrack,
    etag: string,
    options: SpoolChunkOptions,
    chunks: readonly KeptChunk[],
    lastChunkStartTicks?: number,
  ): Promise<SpoolFile> {
    await fsp.mkdir(dir, { recursive: true });
    const spool = new SpoolFile(dir, `${track.name}.mp4`, track.name, etag, track.timescale, options);
    const init = spoolMuxer.init(track.index);
    spool.#initSize = init.byteLength;
    const last = chunks[chunks.length - 1];
    if (!last || (chunks.length === 1 && last.offset === 0 && last.size < init.byteLength)) {
      await spool.#startChunk(0, 'w+');
      await spool.#write([init]);
      return spool;
    }
    for (const c of chunks.slice(0, -1)) spool.#chunks.push(spool.#chunk(c.offset, c.offset + c.size));
    await spool.#startChunk(last.offset, 'r+');
    const written = spool.#chunks[spool.#chunks.length - 1];
    await written.fh!.truncate(last.size);
    spool.#size = last.offset + last.size;
    written.end = spool.#size;
    spool.#chunkStartTicks = lastChunkStartTicks;
    return spool;
  }

  #chunk(offset: number, end: number): Chunk {
    const files = chunkFiles(this.dir, this.trackName, offset);
    return { offset, path: files.media, journal: files.journal, end, fh: undefined, readers: 0, dropped: false };
  }

  /** Makes the chunk starting at `offset` the one written (`w+`: a new file; `r+`: an adopted one, `a+` first so it exists). */
  async #startChunk(offset: number, mode: 'w+' | 'r+' = 'w+'): Promise<void> {
    const chunk = this.#chunk(offset, offset);
    if (mode === 'r+') await (await fsp.open(chunk.path, 'a+')).close();
    chunk.fh = await fsp.open(chunk.path, mode);
    const previous = this.#chunks[this.#chunks.length - 1];
    this.#chunks.push(chunk);
    // The chunk written so far becomes a read-only one: its handle is kept as a read handle.
    if (previous?.fh) this.#touchReadHandle(previous);
  }

  get size(): number {
    return this.#size;
  }

  get initSize(): number {
    return this.#initSize;
  }

  get modified(): Date {
    return this.#modified;
  }

  /** Where the oldest byte still on disk is: reads before it are of deleted chunks. */
  get firstOffset(): number {
    return this.#chunks[0]?.offset ?? 0;
  }

  /** Bytes on disk (spool chunks, not their journals). */
  get diskBytes(): number {
    return this.#size - this.firstOffset;
  }

  /** Chunks on disk. */
  get chunkCount(): number {
    return this.#chunks.length;
  }

  /**
   * Writes `segment` (a whole segment or, LowLatency, one part of one) as `moof` + `mdat` at the end of the spool,
   * then commits it to `track` (so it becomes visible only once its bytes are on disk). Calls are serialised:
   * segments and parts land in call order. A segment that starts `chunkSec` or more after the chunk's first one
   * starts a new chunk.
   */
  appendSegment(track: LiveTrack, segment: ClosingSegment): Promise<void> {
    return this.#enqueue(() => this.#append(track, segment));
  }

  /** Appends a journal line of the segment whose bytes start at `fileStart` to its chunk's journal (skipped once the chunk is deleted). */
  appendJournal(fileStart: number, line: string): Promise<void> {
    return this.#enqueue(async () => {
      const chunk = this.#chunkAt(fileStart);
      if (chunk) await fsp.appendFile(chunk.journal, line);
    });
  }

  /**
   * Deletes every chunk that ends at or before `offset` (never the one written), journal first: a crash between
   * the two leaves a chunk no journal names, which adoption deletes. Returns the bytes deleted.
   */
  dropBefore(offset: number): Promise<number> {
    return this.#enqueue(async () => {
      let bytes = 0;
      while (this.#chunks.length > 1 && this.#chunks[0].end <= offset) {
        const chunk = this.#chunks.shift()!;
        chunk.dropped = true;
        this.#readHandles.delete(chunk);
        bytes += chunk.end - chunk.offset;
        await fsp.rm(chunk.journal, { force: true });
        await fsp.rm(chunk.path, { force: true });
        // On POSIX a read in flight keeps reading the unlinked file through its handle.
        if (chunk.readers === 0) await this.#closeHandle(chunk);
      }
      return bytes;
    });
  }

  #enqueue<T>(task: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(task);
    this.#queue = next.catch(() => undefined);
    return next;
  }

  /** Resolves when every write asked so far has finished. */
  flushed(): Promise<void> {
    return this.#queue.then(() => undefined);
  }

  async #append(track: LiveTrack, segment: ClosingSegment): Promise<void> {
    if (this.#closed) return;
    const n = segment.samples.length;
    // A segment whose parts already hold every sample closes without bytes of its own.
    if (n === 0) {
      this.#segmentOpen = false;
      track.commit(segment, new Float64Array(0), this.#size, this.#size);
      return;
    }
    if (!this.#segmentOpen) await this.#rollOver(segment.startTicks);
    this.#segmentOpen = segment.closes === undefined;
    // Plan with offsets relative to the payload: the boxes do not depend on where the file puts them
    // (tfhd default-base-is-moof), so one plan gives the header and the payload's place in the file.
    const rel = new Float64Array(n);
    const sizes = new Uint32Array(n);
    const dts = new Float64Array(n);
    const cts = new Int32Array(n);
    const sync = new Uint8Array(n);
    let at = 0;
    for (let i = 0; i < n; i++) {
      const s = segment.samples[i];
      rel[i] = at;
      sizes[i] = s.data.byteLength;
      at += s.data.byteLength;
      dts[i] = s.dtsTicks;
      cts[i] = s.ctsTicks;
      sync[i] = s.isSync || track.kind === 'audio' ? 1 : 0;
    }
    const samples: SampleTable = new ArraySampleTable({ count: n, offsets: rel, sizes, dts, durations: segment.durations, ctsOffsets: cts, isSync: sync });
    const view: TrackIndex = { ...track.index, samples };
    const plan = spoolMuxer.plan(view, {
      index: segment.index,
      firstSample: 0,
      sampleCount: n,
      startTicks: segment.startTicks,
      durationTicks: segment.durationTicks,
    });
    const header = plan.parts[0] as Uint8Array;
    const fileStart = this.#size;
    const payloadStart = fileStart + header.byteLength;
    const offsets = new Float64Array(n);
    for (let i = 0; i < n; i++) offsets[i] = payloadStart + rel[i];
    const chunks: Uint8Array[] = [header];
    for (let i = 0; i < n; i++) chunks.push(segment.samples[i].data);
    await this.#write(chunks);
    track.commit(segment, offsets, fileStart, this.#size);
  }

  /** A segment starting at `startTicks` begins: in a new chunk when the written one is long enough. */
  async #rollOver(startTicks: number): Promise<void> {
    const written = this.#chunks[this.#chunks.length - 1];
    const hasSegments = written.end > (written.offset === 0 ? this.#initSize : written.offset);
    if (this.#chunkStartTicks === undefined || !hasSegments) {
      this.#chunkStartTicks = startTicks;
      return;
    }
    if (startTicks - this.#chunkStartTicks < this.#chunkTicks) return;
    await this.#startChunk(this.#size);
    this.#chunkStartTicks = startTicks;
  }

  async #write(chunks: Uint8Array[]): Promise<void> {
    const chunk = this.#chunks[this.#chunks.length - 1];
    let position = this.#size - chunk.offset;
    let total = 0;
    for (const c of chunks) total += c.byteLength;
    // writev may write part of the list; continue from where it stopped.
    let rest = chunks;
    while (rest.length > 0) {
      const { bytesWritten } = await chunk.fh!.writev(rest, position);
      position += bytesWritten;
      let skip = bytesWritten;
      const left: Uint8Array[] = [];
      for (const c of rest) {
        if (skip >= c.byteLength) {
          skip -= c.byteLength;
          continue;
        }
        left.push(skip > 0 ? c.subarray(skip) : c);
        skip = 0;
      }
      rest = left;
    }
    this.#size += total;
    chunk.end = this.#size;
    this.#modified = new Date();
  }

  /** The chunk holding byte `offset` (the written one for its end), or undefined when it was deleted. */
  #chunkAt(offset: number): Chunk | undefined {
    const chunks = this.#chunks;
    // The last chunk starting at or before `offset`.
    let lo = 0;
    let hi = chunks.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (chunks[mid].offset <= offset) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (found < 0) return undefined;
    const c = chunks[found];
    return offset < c.end || found === chunks.length - 1 ? c : undefined;
  }

  /**
   * Reads committed bytes at `offset` into `target` (across chunks); fewer when the committed part ends first.
   * Bytes of a deleted chunk are a `GoneError` (410): the segment slid out of every window.
   */
  async readInto(offset: number, target: Uint8Array): Promise<number> {
    if (offset >= this.#size)
      throw new RangeNotSatisfiableError('RangeNotSatisfiable', `offset ${offset} is past the end of '${this.name}'`, { size: this.#size });
    const length = Math.min(target.byteLength, this.#size - offset);
    let done = 0;
    while (done < length) {
      const at = offset + done;
      const chunk = at < this.firstOffset ? undefined : this.#chunkAt(at);
      if (!chunk || chunk.dropped) throw expired(this.name);
      const want = Math.min(length - done, chunk.end - at);
      const n = await this.#readChunk(chunk, at - chunk.offset, target.subarray(done, done + want));
      if (n === 0) break;
      done += n;
    }
    return done;
  }

  async #readChunk(chunk: Chunk, position: number, target: Uint8Array): Promise<number> {
    chunk.readers++;
    try {
      if (!chunk.fh) {
        // A closed spool (the event stopped) opens nothing again: its files are about to be removed.
        if (this.#closed) throw new GoneError('LiveStreamEnded', `The live spool '${this.name}' is closed: the event stopped`);
        const fh = await fsp.open(chunk.path, 'r').catch((err: NodeJS.ErrnoException) => {
          if (err.code === 'ENOENT') throw expired(this.name);
          throw err;
        });
        if (chunk.dropped || chunk.fh) await fh.close();
        else chunk.fh = fh;
        if (chunk.dropped) throw expired(this.name);
      }
      if (chunk !== this.#chunks[this.#chunks.length - 1]) this.#touchReadHandle(chunk);
      let done = 0;
      while (done < target.byteLength) {
        const { bytesRead } = await chunk.fh!.read(target, done, target.byteLength - done, position + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
      return done;
    } finally {
      chunk.readers--;
      if (chunk.dropped && chunk.readers === 0) await this.#closeHandle(chunk);
    }
  }

  /** Marks `chunk`'s read handle most recently used; closes the least recently used idle ones past the limit. */
  #touchReadHandle(chunk: Chunk): void {
    this.#readHandles.delete(chunk);
    this.#readHandles.add(chunk);
    if (this.#readHandles.size <= maxReadHandles) return;
    for (const old of this.#readHandles) {
      if (this.#readHandles.size <= maxReadHandles) break;
      if (old.readers > 0 || old === chunk) continue;
      this.#readHandles.delete(old);
      void this.#closeHandle(old);
    }
  }

  async #closeHandle(chunk: Chunk): Promise<void> {
    const fh = chunk.fh;
    chunk.fh = undefined;
    await fh?.close().catch(() => undefined);
  }

  info(blobName: string): BlobInfo {
    return { name: blobName, size: this.#size, etag: this.etag, lastModified: this.#modified };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    await this.flushed();
    this.#closed = true;
    this.#readHandles.clear();
    for (const chunk of this.#chunks) await this.#closeHandle(chunk);
  }
}

function expired(name: string): GoneError {
  return new GoneError('LiveSegmentExpired', `These bytes of '${name}' slid out of the live event's DVR windows and were deleted`);
}

/**
 * A read-only `BlobStore` over one run's spool files, for the origin: container = the event id, blob =
 * `{runId}/{trackName}.mp4` (the track's whole offset space, whatever chunks it is cut into). Reads stop at the
 * committed size (a segment still being written is never read), and the ETag is stable for the run: the space only
 * grows, and bytes already committed never change (they are deleted, a 410, once no window needs them), so indexes
 * planned from an older size stay valid.
 */
export class SpoolBlobStore implements BlobStore {
  readonly #files = new Map<string, SpoolFile>();

  constructor(
    private readonly container: string,
    private readonly prefix: string,
  ) {}

  add(file: SpoolFile): void {
    this.#files.set(file.name, file);
  }

  /** Info of a file by its name inside the run folder (`video.mp4`), blob name included. */
  fileInfo(name: string): BlobInfo | undefined {
    return this.#files.get(name)?.info(`${this.prefix}/${name}`);
  }

  #file(container: string, name: string): SpoolFile {
    const inside = name.startsWith(`${this.prefix}/`) ? name.slice(this.prefix.length + 1) : undefined;
    const file = container === this.container && inside !== undefined ? this.#files.get(inside) : undefined;
    if (!file) throw new NotFoundError('BlobNotFound', `Live spool file '${name}' not found`);
    return file;
  }

  async checkAccess(): Promise<void> {}
  async location(container: string): Promise<string> {
    return `live-spool:${container}`;
  }
  async listContainers(): Promise<string[]> {
    return [this.container];
  }
  async containerExists(container: string): Promise<boolean> {
    return container === this.container;
  }
  async createContainer(): Promise<void> {
    throw readOnly();
  }
  async deleteContainer(): Promise<void> {
    throw readOnly();
  }
  async list(container: string, prefix: string): Promise<BlobListing> {
    if (container !== this.container || (prefix !== this.prefix && prefix !== '')) return { folders: [], blobs: [] };
    if (prefix === '') return { folders: [this.prefix], blobs: [] };
    return { folders: [], blobs: [...this.#files.values()].map((f) => f.info(`${this.prefix}/${f.name}`)) };
  }
  async stat(container: string, name: string): Promise<BlobInfo | undefined> {
    try {
      return this.#file(container, name).info(name);
    } catch {
      return undefined;
    }
  }
  async read(container: string, name: string, range?: ByteRange): Promise<Readable> {
    const file = this.#file(container, name);
    const start = range?.offset ?? 0;
    const end = Math.min(file.size, range ? start + range.length : file.size);
    if (start >= file.size) throw new RangeNotSatisfiableError('RangeNotSatisfiable', `offset ${start} is past the end of '${name}'`, { size: file.size });
    return Readable.from(readChunks(file, start, end));
  }
  async readInto(container: string, name: string, offset: number, target: Uint8Array, _options?: ReadIntoOptions): Promise<number> {
    return this.#file(container, name).readInto(offset, target);
  }
  async write(): Promise<BlobInfo> {
    throw readOnly();
  }
  async delete(): Promise<void> {
    throw readOnly();
  }
}

/** Streams [start, end) of a spool file in 256 KiB reads. */
export async function* readChunks(file: SpoolFile, start: number, end: number): AsyncGenerator<Uint8Array> {
  const chunk = 256 * 1024;
  for (let at = start; at < end;) {
    const buf = Buffer.allocUnsafe(Math.min(chunk, end - at));
    const n = await file.readInto(at, buf);
    if (n === 0) return;
    yield n === buf.byteLength ? buf : buf.subarray(0, n);
    at += n;
  }
}

function readOnly(): BadRequestError {
  return new BadRequestError('ReadOnlyStorage', 'The live spool is written by the live pipeline only');
}
