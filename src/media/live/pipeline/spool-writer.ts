/**
 * The spool: one fragmented MP4 per live track, `{spoolDir}/{eventId}/{runId}/{trackName}.mp4`, written
 * append-only as segments close: the init segment (`ftyp` + `moov` with `mvex`), then one `moof` + `mdat` per
 * segment, built by the packager's own fMP4 muxer, so the file is what the packager would serve and what
 * `readMp4Index` reads back. The sample offsets recorded in the track point at the bytes inside the `mdat`s,
 * so the origin's ranged reads serve segments from the spool like from a VOD file.
 */
import fsp, { type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { ArraySampleTable, type SampleTable } from '../../packager/model/sample-table.js';
import { outputFormat, type Fmp4SegmentMuxer, type TrackIndex } from '../../packager/index.js';
import type { BlobInfo, BlobListing, BlobStore, ByteRange, ReadIntoOptions } from '../../../storage/blob-store.js';
import { NotFoundError, RangeNotSatisfiableError, BadRequestError } from '../../../shared/errors.js';
import type { ClosingSegment, LiveTrack } from './live-track.js';

/** ISO BMFF brands without `styp` per segment (the `mpd-time-csf` muxer): the spool is one plain fragmented file. */
export const spoolMuxer = outputFormat('mpd-time-csf').segments as Fmp4SegmentMuxer;

/** One track's spool file: written in order through one handle, readable up to what is committed. */
export class SpoolFile {
  /** Bytes written and visible to readers. */
  #size = 0;
  #initSize = 0;
  #closed = false;
  /** Writes run one after another in call order. */
  #queue: Promise<unknown> = Promise.resolve();
  #modified = new Date();

  private constructor(
    readonly path: string,
    readonly name: string,
    private readonly fh: FileHandle,
    readonly etag: string,
  ) {}

  /** Creates the file (and its folder) and writes the track's init segment. */
  static async create(dir: string, track: LiveTrack, etag: string): Promise<SpoolFile> {
    await fsp.mkdir(dir, { recursive: true });
    const name = `${track.name}.mp4`;
    const file = path.join(dir, name);
    const fh = await fsp.open(file, 'w+');
    const spool = new SpoolFile(file, name, fh, etag);
    const init = spoolMuxer.init(track.index);
    await spool.#write([init]);
    spool.#initSize = init.byteLength;
    return spool;
  }

  /**
   * Reopens an adopted run's file (a restart): bytes past `size` (a segment the journal does not name, a write
   * cut short by a crash) are cut off, so the next segment is appended right after the last complete one. A file
   * shorter than its init segment is started again.
   */
  static async reopen(dir: string, track: LiveTrack, etag: string, size: number): Promise<SpoolFile> {
    await fsp.mkdir(dir, { recursive: true });
    const name = `${track.name}.mp4`;
    const file = path.join(dir, name);
    const fh = await fsp.open(file, 'a+').then(async (h) => {
      await h.close();
      return fsp.open(file, 'r+');
    });
    const spool = new SpoolFile(file, name, fh, etag);
    const init = spoolMuxer.init(track.index);
    const { size: onDisk } = await fh.stat();
    if (size < init.byteLength || onDisk < size) {
      await fh.truncate(0);
      await spool.#write([init]);
    } else {
      await fh.truncate(size);
      spool.#size = size;
    }
    spool.#initSize = init.byteLength;
    return spool;
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

  /**
   * Writes `segment` (a whole segment or, LowLatency, one part of one) as `moof` + `mdat` at the end of the file,
   * then commits it to `track` (so it becomes visible only once its bytes are on disk). Calls are serialised:
   * segments and parts land in call order.
   */
  appendSegment(track: LiveTrack, segment: ClosingSegment): Promise<void> {
    const next = this.#queue.then(() => this.#append(track, segment));
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
      track.commit(segment, new Float64Array(0), this.#size, this.#size);
      return;
    }
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

  async #write(chunks: Uint8Array[]): Promise<void> {
    let position = this.#size;
    let total = 0;
    for (const c of chunks) total += c.byteLength;
    // writev may write part of the list; continue from where it stopped.
    let rest = chunks;
    while (rest.length > 0) {
      const { bytesWritten } = await this.fh.writev(rest, position);
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
    this.#modified = new Date();
  }

  /** Reads committed bytes at `offset` into `target`; fewer when the committed part ends first. */
  async readInto(offset: number, target: Uint8Array): Promise<number> {
    if (offset >= this.#size)
      throw new RangeNotSatisfiableError('RangeNotSatisfiable', `offset ${offset} is past the end of '${this.name}'`, { size: this.#size });
    const length = Math.min(target.byteLength, this.#size - offset);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await this.fh.read(target, done, length - done, offset + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return done;
  }

  info(blobName: string): BlobInfo {
    return { name: blobName, size: this.#size, etag: this.etag, lastModified: this.#modified };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    await this.flushed();
    this.#closed = true;
    await this.fh.close();
  }
}

/**
 * A read-only `BlobStore` over one run's spool files, for the origin: container = the event id, blob =
 * `{runId}/{trackName}.mp4`. Reads stop at the committed size (a segment still being written is never read), and
 * the ETag is stable for the run: the file only grows, and bytes already committed never change, so indexes
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
