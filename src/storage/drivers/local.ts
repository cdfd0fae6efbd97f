import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { addAbortSignal, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  BadRequestError,
  ConflictError,
  NotFoundError,
  PreconditionFailedError,
  RangeNotSatisfiableError,
  ReelError,
  UpstreamError,
} from '../../shared/errors.js';
import type { BlobInfo, BlobListing, BlobStore, ByteRange, ReadIntoOptions, WriteOptions } from '../blob-store.js';
import { assertBlobPath, assertContainerName, isValidContainerName, tempNamePrefix } from '../storage-paths.js';
import { assertRange, guardStream } from './driver-utils.js';
import { LocalFileHandles, localEtag, readFully } from './local-file-handles.js';
import { localLocation } from '../../shared/storage-location.js';

export interface LocalBlobStoreOptions {
  /** Absolute directory holding one sub-directory per container. */
  path: string;
  /**
   * Directories this account may use (its project's areas, see local-areas.ts); `path` must lie inside one even
   * after following symlinks.
   */
  allowedRoots: string[];
  /**
   * Remove the stale temp files of writes that died with their process (default true). Off in the origin
   * processes: they only read, and the walk would compete with their first requests for the event loop and
   * libuv's threads; the main process sweeps.
   */
  sweepStaleTempFiles?: boolean;
}

/** In-flight writes go to `<dir>/.reel-tmp-<uuid>` and are renamed into place; listings hide these names. */
const tempPrefix = tempNamePrefix;

/**
 * A temp file left this long since its last write belongs to a write that died with its process (a crash, a
 * kill): the first use of a store removes such files. A live write touches its file with every chunk it
 * receives, and this process skips its own in-flight files whatever their age, so the age only has to outlast
 * a stalled upload of another process sharing the directory (a multi-process deployment): a day.
 */
export const staleTempAgeMs = 24 * 3600_000;

/**
 * Containers are sub-directories of `path`, blobs are files below them and folders are directories (they
 * vanish with their last file, as virtual folders do in object stores). Local stores no content type.
 */
export class LocalBlobStore implements BlobStore {
  readonly #path: string;
  readonly #roots: string[];
  #base: Promise<string> | undefined;
  readonly #handles = new LocalFileHandles({ maxOpen: 64, maxAgeMs: 2000 });
  /** Temp files this instance is writing now: never swept, whatever their age. */
  readonly #inFlight = new Set<string>();
  #sweep: Promise<void> | undefined;
  readonly #sweeps: boolean;
  #closed = false;

  constructor(options: LocalBlobStoreOptions) {
    if (!path.isAbsolute(options.path)) {
      throw new BadRequestError('InvalidStoragePath', `Local storage path '${options.path}' must be absolute`);
    }
    this.#path = path.resolve(options.path);
    this.#roots = options.allowedRoots.map((root) => path.resolve(root));
    this.#sweeps = options.sweepStaleTempFiles ?? true;
    // Lexical check up front so an obviously wrong path fails at creation; symlinks are checked on first use.
    if (!this.#roots.some((root) => isInside(root, this.#path))) throw outsideRoots(this.#path);
  }

  /** Creates the directory when it is missing: a fresh install's embedded default account points at one. */
  async checkAccess(): Promise<void> {
    try {
      const base = await this.#resolveBase(true);
      await fsp.access(base, fs.constants.R_OK | fs.constants.W_OK | fs.constants.X_OK);
      this.#base = Promise.resolve(base);
      this.#startSweep(base);
    } catch (err) {
      throw mapFsError(err, {});
    }
  }

  async location(container: string): Promise<string> {
    return localLocation(await this.#baseDir(), assertContainerName(container));
  }

  async listContainers(limit = Infinity): Promise<string[]> {
    try {
      const entries = await fsp.readdir(await this.#baseDir(), { withFileTypes: true });
      return entries
        .filter((e) => e.isDirectory() && isValidContainerName(e.name))
        .map((e) => e.name)
        .sort(byName)
        .slice(0, limit);
    } catch (err) {
      throw mapFsError(err, {});
    }
  }

  async containerExists(container: string): Promise<boolean> {
    const dir = await this.#containerDir(container);
    try {
      return (await fsp.lstat(dir)).isDirectory();
    } catch (err) {
      if (isMissing(err)) return false;
      throw mapFsError(err, { container });
    }
  }

  async createContainer(container: string): Promise<void> {
    const dir = await this.#containerDir(container);
    try {
      await fsp.mkdir(dir);
    } catch (err) {
      throw mapFsError(err, { container });
    }
  }

  async deleteContainer(container: string): Promise<void> {
    const dir = await this.#containerDir(container);
    try {
      this.#handles.closeAll();
      // rm does not follow symlinks, so a link inside the container cannot make us delete outside it.
      await fsp.rm(dir, { recursive: true, force: true });
    } catch (err) {
      throw mapFsError(err, { container });
    }
  }

  async list(container: string, prefix: string, options?: { recursive?: boolean }): Promise<BlobListing> {
    const dir = await this.#existingContainerDir(container);
    const start = prefix === '' ? dir : await this.#blobPath(container, prefix, 'prefix');
    const listing: BlobListing = { folders: [], blobs: [] };
    const walk = async (current: string): Promise<void> => {
      let entries: fs.Dirent[];
      try {
        entries = await fsp.readdir(current, { withFileTypes: true });
      } catch (err) {
        if (isMissing(err)) return; // an absent folder lists as empty, as in object stores
        throw err;
      }
      for (const entry of entries) {
        if (entry.name.startsWith(tempPrefix)) continue;
        const full = path.join(current, entry.name);
        // Symlinks are skipped: following them could list files outside the container.
        if (entry.isDirectory()) {
          if (options?.recursive) await walk(full);
          else listing.folders.push(relativeName(dir, full));
        } else if (entry.isFile()) {
          const info = await statFile(full, relativeName(dir, full));
          if (info) listing.blobs.push(info);
        }
      }
    };
    try {
      await walk(start);
    } catch (err) {
      throw mapFsError(err, { container });
    }
    listing.folders.sort(byName);
    listing.blobs.sort((a, b) => byName(a.name, b.name));
    return listing;
  }

  async stat(container: string, name: string): Promise<BlobInfo | undefined> {
    const file = await this.#blobPath(container, name);
    try {
      return await statFile(file, name);
    } catch (err) {
      throw mapFsError(err, { container, name });
    }
  }

  async read(container: string, name: string, range?: ByteRange, signal?: AbortSignal): Promise<Readable> {
    if (range) assertRange(range);
    const file = await this.#blobPath(container, name);
    let handle: fsp.FileHandle | undefined;
    try {
      handle = await fsp.open(file, 'r');
      const st = await handle.stat();
      // open() succeeds on directories; a folder is not a blob.
      if (!st.isFile()) throw Object.assign(new Error('not a file'), { code: 'ENOENT' });
      if (range && range.offset >= st.size) throw rangeError(range, st.size);
      const source = handle.createReadStream(range ? { start: range.offset, end: range.offset + range.length - 1 } : {});
      handle = undefined; // the stream owns and closes it now
      if (signal) addAbortSignal(signal, source);
      return guardStream(source, (err) => (signal?.aborted ? signal.reason : mapFsError(err, { container, name })));
    } catch (err) {
      await handle?.close();
      throw mapFsError(err, { container, name });
    }
  }

  async localPath(container: string, name: string): Promise<string | undefined> {
    const file = await this.#blobPath(container, name);
    try {
      return (await fsp.stat(file)).isFile() ? file : undefined;
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw mapFsError(err, { container, name });
    }
  }

  async readInto(container: string, name: string, offset: number, target: Uint8Array, options?: ReadIntoOptions): Promise<number> {
    assertRange({ offset, length: Math.max(1, target.length) });
    assertBlobPath(name, 'blob name');
    const key = `${container}\0${name}`;
    const resolve = () => this.#blobPath(container, name);
    const attempt = () =>
      this.#handles.with(key, resolve, options?.etag, async (fd, file) => {
        if (options?.etag !== undefined && file.etag !== options.etag) {
          throw new PreconditionFailedError('BlobChanged', `Blob '${name}' in container '${container}' changed while it was being read`);
        }
        if (offset >= file.size) return -1; // maybe grown since it was opened: the caller reopens once
        return target.length === 0 ? 0 : readFully(fd, target, offset);
      });
    try {
      let n = await attempt();
      if (n < 0) {
        this.#handles.invalidate(key);
        n = await attempt();
        if (n < 0) throw rangeError({ offset, length: target.length }, (await fsp.stat(await resolve())).size);
      }
      return n;
    } catch (err) {
      throw mapFsError(err, { container, name });
    }
  }

  async write(container: string, name: string, body: Readable, options?: WriteOptions): Promise<BlobInfo> {
    this.#handles.invalidate(`${container}\0${name}`);
    // #blobPath refuses names with a temp segment (storage-paths.ts), so a write never lands on another's temp file.
    const file = await this.#blobPath(container, name);
    const dir = await this.#existingContainerDir(container);
    const parent = path.dirname(file);
    const temp = path.join(parent, `${tempPrefix}${randomUUID()}`);
    this.#inFlight.add(temp);
    // The first stream to fail tells whose error it is: the caller's body (rethrown as is) or the disk (mapped).
    let failure: { from: 'body' | 'disk'; error: unknown } | undefined;
    body.once('error', (error) => {
      failure ??= { from: 'body', error };
    });
    try {
      await fsp.mkdir(parent, { recursive: true });
      const sink = fs.createWriteStream(temp, { flags: 'wx', flush: true });
      sink.once('error', (error) => {
        failure ??= { from: 'disk', error };
      });
      await pipeline(body, sink, { signal: options?.signal });
      await fsp.rename(temp, file);
      this.#handles.invalidate(`${container}\0${name}`);
    } catch (err) {
      body.destroy();
      await fsp.rm(temp, { force: true }).catch(() => undefined);
      await pruneEmptyDirs(parent, dir);
      if (options?.signal?.aborted) throw options.signal.reason;
      if (failure?.from === 'body') throw failure.error;
      // mkdir meeting a file where a folder should be (ENOTDIR, EEXIST), or rename meeting a folder (EISDIR).
      if (['ENOTDIR', 'EEXIST', 'EISDIR', 'ENOTEMPTY'].includes(errorCode(err) ?? '')) throw pathConflict(container, name, err);
      throw mapFsError(err, { container, name });
    } finally {
      this.#inFlight.delete(temp);
    }
    try {
      const info = await statFile(file, name);
      if (!info) throw Object.assign(new Error('vanished after write'), { code: 'ENOENT' });
      return info;
    } catch (err) {
      throw mapFsError(err, { container, name });
    }
  }

  async delete(container: string, name: string): Promise<void> {
    const file = await this.#blobPath(container, name);
    this.#handles.invalidate(`${container}\0${name}`);
    try {
      const st = await fsp.lstat(file);
      if (st.isDirectory()) return; // a folder, not a blob
      await fsp.unlink(file);
      await pruneEmptyDirs(path.dirname(file), path.join(await this.#baseDir(), container));
    } catch (err) {
      if (isMissing(err)) return;
      throw mapFsError(err, { container, name });
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#handles.closeAll();
    await this.#sweep;
  }

  /** The real (symlink-free) base directory, checked against the allowed roots; cached once it exists. */
  #baseDir(): Promise<string> {
    this.#base ??= this.#resolveBase(false).then(
      (base) => {
        this.#startSweep(base);
        return base;
      },
      (err: unknown) => {
        this.#base = undefined;
        throw mapFsError(err, {});
      },
    );
    return this.#base;
  }

  /**
   * Once per store, in the background: removes the temp files of writes that died with their process
   * (`staleTempAgeMs`), in every container. Nothing waits for it; a failure leaves the files for the next start.
   */
  #startSweep(base: string): void {
    if (!this.#sweeps) return;
    this.#sweep ??= this.#sweepStaleTempFiles(base, Date.now() - staleTempAgeMs).catch(() => undefined);
  }

  async #sweepStaleTempFiles(base: string, olderThan: number): Promise<void> {
    const walk = async (dir: string, containerDir: string): Promise<void> => {
      if (this.#closed) return;
      let entries: fs.Dirent[];
      try {
        entries = await fsp.readdir(dir, { withFileTypes: true });
      } catch {
        return; // removed meanwhile, or unreadable: nothing to sweep here
      }
      for (const entry of entries) {
        const full = path.join(dir, entry.name);
        // Symlinks are neither followed nor removed: only real directories and files of this store.
        if (entry.isDirectory()) {
          await walk(full, containerDir);
        } else if (entry.isFile() && entry.name.startsWith(tempPrefix) && !this.#inFlight.has(full)) {
          const st = await fsp.lstat(full).catch(() => undefined);
          if (!st || st.mtimeMs >= olderThan || this.#inFlight.has(full)) continue;
          await fsp.unlink(full).catch(() => undefined);
          if (dir !== containerDir) await pruneEmptyDirs(dir, containerDir);
        }
      }
    };
    const containers = await fsp.readdir(base, { withFileTypes: true });
    for (const entry of containers) {
      if (entry.isDirectory() && isValidContainerName(entry.name)) await walk(path.join(base, entry.name), path.join(base, entry.name));
    }
  }

  async #resolveBase(create: boolean): Promise<string> {
    const roots = await Promise.all(this.#roots.map((root) => realpathNearest(root)));
    // Check the nearest existing ancestor before mkdir so mkdir cannot create directories through a symlink
    // that leads outside the roots.
    const nearest = await realpathNearest(this.#path);
    if (!roots.some((root) => isInside(root, nearest))) throw outsideRoots(this.#path);
    if (create) await fsp.mkdir(this.#path, { recursive: true });
    const real = await fsp.realpath(this.#path);
    if (!roots.some((root) => isInside(root, real))) throw outsideRoots(this.#path);
    if (!(await fsp.stat(real)).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
    return real;
  }

  async #containerDir(container: string): Promise<string> {
    assertContainerName(container);
    return path.join(await this.#baseDir(), container);
  }

  async #existingContainerDir(container: string): Promise<string> {
    const dir = await this.#containerDir(container);
    try {
      if ((await fsp.lstat(dir)).isDirectory()) return dir;
    } catch (err) {
      if (!isMissing(err)) throw mapFsError(err, { container });
    }
    throw containerNotFound(container);
  }

  /** Maps a validated name to its file and proves it stays inside the container, symlinks included. */
  async #blobPath(container: string, name: string, what = 'blob name'): Promise<string> {
    assertBlobPath(name, what);
    const dir = await this.#containerDir(container);
    const file = path.join(dir, ...name.split('/'));
    const escapes = () => new BadRequestError('InvalidPath', `Invalid ${what} '${name.slice(0, 200)}': it leads outside the container`);
    if (!isInside(dir, file) || file === dir) throw escapes();
    try {
      // The base is already real, so a container that is a plain directory resolves to itself.
      const realDir = await realpathNearest(dir);
      const realFile = await realpathNearest(file);
      if (realDir !== dir || !isInside(dir, realFile) || realFile === dir) throw escapes();
    } catch (err) {
      throw mapFsError(err, { container, name });
    }
    return file;
  }
}

/** `child` is `parent` or lies below it (both absolute and normalised). */
function isInside(parent: string, child: string): boolean {
  return child === parent || child.startsWith(parent.endsWith(path.sep) ? parent : parent + path.sep);
}

/** realpath of `p`, or of its nearest existing ancestor with the missing tail appended. */
async function realpathNearest(p: string): Promise<string> {
  const tail: string[] = [];
  for (let current = p; ; current = path.dirname(current)) {
    try {
      return path.join(await fsp.realpath(current), ...tail);
    } catch (err) {
      if (!isMissing(err) || path.dirname(current) === current) throw err;
      tail.unshift(path.basename(current));
    }
  }
}

async function statFile(file: string, name: string): Promise<BlobInfo | undefined> {
  let st: fs.BigIntStats;
  try {
    st = await fsp.stat(file, { bigint: true });
  } catch (err) {
    if (isMissing(err)) return undefined;
    throw err;
  }
  if (!st.isFile()) return undefined;
  return {
    name,
    size: Number(st.size),
    etag: localEtag(st),
    lastModified: new Date(Number(st.mtimeMs)),
  };
}

/** Removes directories left empty by a delete or a failed write, up to (not including) `stopAt`. */
async function pruneEmptyDirs(from: string, stopAt: string): Promise<void> {
  for (let dir = from; dir !== stopAt && isInside(stopAt, dir); dir = path.dirname(dir)) {
    try {
      await fsp.rmdir(dir);
    } catch {
      return; // not empty (or already gone): stop
    }
  }
}

function relativeName(containerDir: string, full: string): string {
  return path.relative(containerDir, full).split(path.sep).join('/');
}

function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function rangeError(range: ByteRange, size: number): RangeNotSatisfiableError {
  return new RangeNotSatisfiableError('InvalidRange', `Range starting at ${range.offset} is beyond the blob's ${size} bytes`, { size });
}

function outsideRoots(p: string): BadRequestError {
  return new BadRequestError('InvalidStoragePath', `Local storage path '${p}' is not inside a directory allowed for storage`);
}

function containerNotFound(container: string): NotFoundError {
  return new NotFoundError('NotFound', `Container '${container}' not found`);
}

/** Unlike object stores, a disk cannot hold both a file `a` and a folder `a/`. */
function pathConflict(container: string, name: string, cause: unknown): ConflictError {
  return new ConflictError('PathConflict', `Blob '${name}' clashes with a folder or file of the same name in container '${container}'`, { cause });
}

function errorCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}

function isMissing(err: unknown): boolean {
  const code = errorCode(err);
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** Converts fs errors at the boundary; messages name the container and blob, never server paths. */
function mapFsError(err: unknown, at: { container?: string; name?: string }): Error {
  if (err instanceof ReelError) return err;
  const code = errorCode(err) ?? 'unknown';
  const options = { cause: err };
  const missingOrClash = ['ENOENT', 'ENOTDIR', 'EEXIST', 'EISDIR', 'ENOTEMPTY'].includes(code);
  if (at.container === undefined && missingOrClash) {
    return new UpstreamError('StorageUnavailable', `Local storage directory is missing or not a directory (${code})`, { ...options, status: 503 });
  }
  switch (code) {
    case 'ENOENT':
    case 'ENOTDIR':
      if (at.name !== undefined) return new NotFoundError('NotFound', `Blob '${at.name}' not found in container '${at.container}'`, options);
      return new NotFoundError('NotFound', `Container '${at.container}' not found`, options);
    case 'EEXIST':
    case 'EISDIR':
    case 'ENOTEMPTY':
      if (at.name !== undefined) return pathConflict(at.container ?? '', at.name, err);
      return new ConflictError('ContainerAlreadyExists', `Container '${at.container}' already exists`, options);
    case 'EACCES':
    case 'EPERM':
      return new UpstreamError('StorageAccessDenied', `Local storage refused access (${code})`, options);
    case 'ENOSPC':
    case 'EDQUOT':
      return new UpstreamError('StorageFull', `Local storage is full (${code})`, { ...options, status: 503 });
    default:
      return new UpstreamError('StorageError', `Local storage failed (${code})`, options);
  }
}
