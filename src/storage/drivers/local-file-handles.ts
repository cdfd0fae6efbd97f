import fs from 'node:fs';

/** An open file shared by concurrent reads; closed once it is retired and the last read is done. */
interface OpenFile {
  fd: number;
  size: number;
  etag: string;
  openedAt: number;
  refs: number;
  retired: boolean;
}

/**
 * Keeps recently used files open so a segment read is one positional `read` on the thread pool instead of
 * realpath + open + fstat + read + close. An entry is reused for at most `maxAgeMs`, then reopened (and its
 * path re-checked by the caller), so a file replaced in place is seen within that time — the same staleness
 * the origin's other caches accept. A replaced file read through an old descriptor still yields the old,
 * self-consistent bytes.
 */
export class LocalFileHandles {
  readonly #open = new Map<string, OpenFile>();
  readonly #opening = new Map<string, Promise<OpenFile>>();

  constructor(private readonly options: { maxOpen: number; maxAgeMs: number; now?: () => number }) {}

  /**
   * Runs `use` with an open descriptor for `key`. `resolve` maps the key to a checked path and is called only
   * when the file must be (re)opened: when none is open, the open one is older than `maxAgeMs`, or it is not
   * the version `etag` names.
   */
  async with<T>(
    key: string,
    resolve: () => Promise<string>,
    etag: string | undefined,
    use: (fd: number, file: { size: number; etag: string }) => Promise<T>,
  ): Promise<T> {
    const file = await this.#acquire(key, resolve, etag);
    try {
      return await use(file.fd, file);
    } finally {
      file.refs--;
      if (file.retired && file.refs === 0) closeQuietly(file.fd);
    }
  }

  async #acquire(key: string, resolve: () => Promise<string>, etag: string | undefined): Promise<OpenFile> {
    const now = (this.options.now ?? Date.now)();
    const hit = this.#open.get(key);
    if (hit && now - hit.openedAt < this.options.maxAgeMs && (etag === undefined || etag === hit.etag)) {
      // Re-insert: Map order is the LRU order.
      this.#open.delete(key);
      this.#open.set(key, hit);
      hit.refs++;
      return hit;
    }
    if (hit) this.#retire(key, hit);
    const opening = this.#opening.get(key);
    // A file opened concurrently with another version in mind is not waited for: open our own.
    if (!opening || (etag !== undefined && (await opening.catch(() => undefined))?.etag !== etag)) {
      const mine: Promise<OpenFile> = openFile(await resolve(), now).finally(() => {
        if (this.#opening.get(key) === mine) this.#opening.delete(key);
      });
      this.#opening.set(key, mine);
      const file = await mine;
      // Another open of this key (for another version) may have finished first: retire it, never leak it.
      const other = this.#open.get(key);
      if (other && other !== file) this.#retire(key, other);
      this.#open.set(key, file);
      while (this.#open.size > this.options.maxOpen) {
        const [oldestKey, oldest] = this.#open.entries().next().value as [string, OpenFile];
        this.#retire(oldestKey, oldest);
      }
      file.refs++;
      return file;
    }
    const file = await opening;
    file.refs++;
    return file;
  }

  #retire(key: string, file: OpenFile): void {
    if (this.#open.get(key) === file) this.#open.delete(key);
    file.retired = true;
    if (file.refs === 0) closeQuietly(file.fd);
  }

  /** Forgets `key` (after a write or delete through this store). */
  invalidate(key: string): void {
    const file = this.#open.get(key);
    if (file) this.#retire(key, file);
  }

  closeAll(): void {
    for (const [key, file] of [...this.#open]) this.#retire(key, file);
  }
}

function openFile(file: string, now: number): Promise<OpenFile> {
  return new Promise((resolve, reject) => {
    fs.open(file, 'r', (err, fd) => {
      if (err) return reject(err);
      fs.fstat(fd, { bigint: true }, (statErr, st) => {
        // open() succeeds on directories; a folder is not a blob.
        const error = statErr ?? (st.isFile() ? undefined : Object.assign(new Error('not a file'), { code: 'ENOENT' }));
        if (error) {
          closeQuietly(fd);
          return reject(error);
        }
        resolve({ fd, size: Number(st.size), etag: localEtag(st), openedAt: now, refs: 0, retired: false });
      });
    });
  });
}

/**
 * A local file's version. Writes rename a new file into place, so the inode changes with every version; size
 * and mtime guard against inode reuse and in-place rewrites.
 */
export function localEtag(st: fs.BigIntStats): string {
  return `"${st.ino.toString(16)}-${st.size.toString(16)}-${st.mtimeNs.toString(16)}"`;
}

function closeQuietly(fd: number): void {
  fs.close(fd, () => undefined);
}

/** Fills `target` from `position`, looping over short reads; returns the bytes read (fewer at end of file). */
export function readFully(fd: number, target: Uint8Array, position: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let done = 0;
    const step = () => {
      fs.read(fd, target, done, target.length - done, position + done, (err, n) => {
        if (err) return reject(err);
        done += n;
        if (n === 0 || done >= target.length) return resolve(done);
        step();
      });
    };
    step();
  });
}
