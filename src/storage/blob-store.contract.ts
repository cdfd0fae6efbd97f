import assert from 'node:assert/strict';
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { BadRequestError, ConflictError, NotFoundError, RangeNotSatisfiableError, UpstreamError } from '../shared/errors.js';
import type { BlobStore } from './blob-store.js';

const MiB = 1024 * 1024;
/** Spans several 8 MiB blocks/parts and ends in a partial one. */
const bigSize = 20 * MiB + 12_345;
const keystreamKey = randomBytes(16);

/** Deterministic pseudo-random bytes (an AES-CTR keystream), cheap to regenerate for any range. */
function bytesAt(offset: number, length: number): Buffer {
  const iv = Buffer.alloc(16);
  iv.writeBigUInt64BE(BigInt(Math.floor(offset / 16)), 8);
  const skip = offset % 16;
  return createCipheriv('aes-128-ctr', keystreamKey, iv)
    .update(Buffer.alloc(skip + length))
    .subarray(skip);
}

/** A body produced 1 MiB at a time, so nothing ever holds it whole. */
function generatedBody(size: number, onChunk?: (sent: number) => void): Readable {
  return Readable.from(
    (function* () {
      for (let sent = 0; sent < size; sent += MiB) {
        onChunk?.(sent);
        yield bytesAt(sent, Math.min(MiB, size - sent));
      }
    })(),
  );
}

/** Emits `failAfter` bytes, then destroys itself with `error`, as a dropped upload connection does. */
function failingBody(failAfter: number, error: Error): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= failAfter) {
        this.destroy(error);
        return;
      }
      this.push(bytesAt(sent, MiB));
      sent += MiB;
    },
  });
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

async function sha256Of(stream: Readable): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk as Uint8Array);
  return hash.digest('hex');
}

const text = (value: string) => Readable.from([Buffer.from(value)]);
const names = (items: { name: string }[]) => items.map((item) => item.name).sort();

/**
 * The behaviour every `BlobStore` driver must share, run against a real service. `make` returns a store on a
 * reachable account; `makeBroken` (optional) one whose credential the service refuses. Containers are named
 * uniquely per run, so runs sharing a service (or an S3 bucket) do not collide.
 */
export function describeBlobStoreContract(
  name: string,
  make: () => Promise<{ store: BlobStore; cleanup(): Promise<void> }>,
  makeBroken?: () => Promise<BlobStore>,
): void {
  describe(`BlobStore contract: ${name}`, () => {
    const run = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
    const created: string[] = [];
    const containerName = (label: string) => {
      const container = `rc-${run}-${label}`;
      created.push(container);
      return container;
    };
    const main = containerName('main');
    let store: BlobStore;
    let cleanup: () => Promise<void>;

    before(async () => {
      ({ store, cleanup } = await make());
      await store.checkAccess(); // as Reel does when an account is added
      await store.createContainer(main);
    });

    after(async () => {
      for (const container of created) await store?.deleteContainer(container).catch(() => undefined);
      await store?.close?.();
      await cleanup?.();
    });

    it('passes checkAccess with a good credential', async () => {
      await store.checkAccess();
    });

    it('creates, finds, lists and deletes a container', async () => {
      const container = containerName('life');
      assert.equal(await store.containerExists(container), false);
      await store.createContainer(container);
      assert.equal(await store.containerExists(container), true);
      assert.ok((await store.listContainers()).includes(container));
      await assert.rejects(store.createContainer(container), ConflictError);
      await store.write(container, 'inside/file.txt', text('x'));
      await store.deleteContainer(container);
      assert.equal(await store.containerExists(container), false);
      assert.ok(!(await store.listContainers()).includes(container));
      await store.deleteContainer(container); // missing is not an error
    });

    describe('a 20 MiB streamed blob', () => {
      const blob = 'big/video.bin';
      let written: Awaited<ReturnType<BlobStore['write']>>;

      before(async () => {
        written = await store.write(main, blob, generatedBody(bigSize), { contentType: 'application/octet-stream' });
      });

      it('is reported with its name, size and etag', async () => {
        assert.equal(written.name, blob);
        assert.equal(written.size, bigSize);
        assert.ok(written.etag.length > 0);
        const info = await store.stat(main, blob);
        assert.ok(info);
        assert.equal(info.name, blob);
        assert.equal(info.size, bigSize);
        assert.equal(info.etag, written.etag);
        assert.ok(info.lastModified instanceof Date && !Number.isNaN(info.lastModified.getTime()));
      });

      it('reads back intact', async () => {
        const expected = await sha256Of(generatedBody(bigSize));
        assert.equal(await sha256Of(await store.read(main, blob)), expected);
      });

      it('returns exactly the requested bytes for ranges', async () => {
        const ranges = [
          { offset: 0, length: 1 },
          { offset: 0, length: 100 },
          { offset: 8 * MiB - 7, length: 20 }, // crosses a block/part boundary
          { offset: 13 * MiB + 5, length: 2 * MiB },
          { offset: bigSize - 1, length: 1 },
        ];
        for (const range of ranges) {
          const got = await readAll(await store.read(main, blob, range));
          assert.ok(got.equals(bytesAt(range.offset, range.length)), `range ${range.offset}+${range.length}`);
        }
      });

      it('reads ranges straight into a caller buffer (readInto)', async () => {
        for (const range of [
          { offset: 0, length: 1 },
          { offset: 8 * MiB - 7, length: 20 },
          { offset: 13 * MiB + 5, length: 2 * MiB },
        ]) {
          const target = Buffer.alloc(range.length + 8, 0xee);
          const n = await store.readInto(main, blob, range.offset, target.subarray(4, 4 + range.length));
          assert.equal(n, range.length);
          assert.ok(target.subarray(4, 4 + range.length).equals(bytesAt(range.offset, range.length)), `range ${range.offset}+${range.length}`);
          assert.ok(
            target.subarray(0, 4).every((b) => b === 0xee) && target.subarray(4 + range.length).every((b) => b === 0xee),
            'bytes around the target untouched',
          );
        }
        const tail = Buffer.alloc(100);
        assert.equal(await store.readInto(main, blob, bigSize - 10, tail), 10);
        assert.ok(tail.subarray(0, 10).equals(bytesAt(bigSize - 10, 10)));
        await assert.rejects(store.readInto(main, blob, bigSize, Buffer.alloc(1)), RangeNotSatisfiableError);
        await assert.rejects(store.readInto(main, 'no/such/blob.txt', 0, Buffer.alloc(1)), NotFoundError);
      });

      it('sees a rewritten blob through readInto', async () => {
        const name = `${blob}.rewritten`;
        await store.write(main, name, text('first version'));
        const a = Buffer.alloc(5);
        await store.readInto(main, name, 0, a);
        assert.equal(a.toString(), 'first');
        await store.write(main, name, text('again, second'));
        const b = Buffer.alloc(5);
        await store.readInto(main, name, 0, b);
        assert.equal(b.toString(), 'again');
        await store.delete(main, name);
        await assert.rejects(store.readInto(main, name, 0, Buffer.alloc(1)), NotFoundError);
      });

      it('stops downloading when the reader gives up early', async () => {
        // More early exits than an HTTP agent has sockets: leaked downloads would hang here.
        for (let i = 0; i < 60; i++) {
          const stream = await store.read(main, blob);
          for await (const _ of stream) break;
          assert.ok(stream.destroyed);
        }
        assert.equal((await readAll(await store.read(main, blob, { offset: 0, length: 4 }))).length, 4);
      });

      it('cuts a range short at the end and refuses one starting past it', async () => {
        const got = await readAll(await store.read(main, blob, { offset: bigSize - 10, length: 100 }));
        assert.ok(got.equals(bytesAt(bigSize - 10, 10)));
        await assert.rejects(store.read(main, blob, { offset: bigSize, length: 1 }), RangeNotSatisfiableError);
      });
    });

    it('reports missing blobs and containers', async () => {
      const missing = `rc-${run}-missing`;
      assert.equal(await store.stat(main, 'no/such/blob.txt'), undefined);
      assert.equal(await store.stat(missing, 'blob.txt'), undefined);
      await assert.rejects(store.read(main, 'no/such/blob.txt'), NotFoundError);
      await assert.rejects(store.read(missing, 'blob.txt'), NotFoundError);
      await assert.rejects(store.list(missing, ''), NotFoundError);
      await assert.rejects(store.write(missing, 'blob.txt', text('x')), NotFoundError);
      assert.equal(await store.containerExists(missing), false);
    });

    describe('listing', () => {
      const container = containerName('list');
      const files: Record<string, string> = {
        'a.txt': 'a',
        'dir/b.txt': 'bb',
        'dir/sub/c.txt': 'ccc',
        'dir/sub/d.txt': 'dddd',
        'other/e.txt': 'eeeee',
      };

      before(async () => {
        await store.createContainer(container);
        for (const [blob, content] of Object.entries(files)) await store.write(container, blob, text(content));
      });

      it('lists one level at the root', async () => {
        const listing = await store.list(container, '');
        assert.deepEqual(listing.folders.sort(), ['dir', 'other']);
        assert.deepEqual(
          listing.blobs.map((b) => [b.name, b.size]),
          [['a.txt', 1]],
        );
      });

      it('lists one level inside a folder', async () => {
        const listing = await store.list(container, 'dir');
        assert.deepEqual(listing.folders, ['dir/sub']);
        assert.deepEqual(
          listing.blobs.map((b) => [b.name, b.size]),
          [['dir/b.txt', 2]],
        );
        assert.ok(listing.blobs.every((b) => b.etag.length > 0));
      });

      it('lists recursively', async () => {
        const below = await store.list(container, 'dir', { recursive: true });
        assert.deepEqual(below.folders, []);
        assert.deepEqual(names(below.blobs), ['dir/b.txt', 'dir/sub/c.txt', 'dir/sub/d.txt']);
        const all = await store.list(container, '', { recursive: true });
        assert.deepEqual(names(all.blobs), Object.keys(files).sort());
        for (const blob of all.blobs) assert.equal(blob.size, files[blob.name]?.length);
      });

      it('lists a missing folder as empty', async () => {
        assert.deepEqual(await store.list(container, 'nothing/here'), { folders: [], blobs: [] });
      });

      it('drops a folder with its last blob', async () => {
        await store.delete(container, 'dir/sub/c.txt');
        await store.delete(container, 'dir/sub/d.txt');
        const listing = await store.list(container, 'dir');
        assert.deepEqual(listing.folders, []);
        assert.deepEqual(names(listing.blobs), ['dir/b.txt']);
      });
    });

    it('deletes a blob, and deleting a missing one is not an error', async () => {
      await store.write(main, 'doomed/file.txt', text('bye'));
      await store.delete(main, 'doomed/file.txt');
      assert.equal(await store.stat(main, 'doomed/file.txt'), undefined);
      await store.delete(main, 'doomed/file.txt');
      await store.delete(`rc-${run}-missing`, 'file.txt');
    });

    it('keeps unicode, spaces and punctuation in names', async () => {
      const folder = 'Ordner mit Leerzeichen';
      const blob = `${folder}/naïve 文件 #1 & (x) + y=z, 100% ü.txt`;
      await store.write(main, blob, text('unicode'));
      assert.equal((await store.stat(main, blob))?.size, 7);
      assert.equal((await readAll(await store.read(main, blob))).toString(), 'unicode');
      assert.deepEqual(names((await store.list(main, folder)).blobs), [blob]);
      assert.ok((await store.list(main, '')).folders.includes(folder));
    });

    it('overwrites a blob and changes its etag', async () => {
      const first = await store.write(main, 'over/write.txt', text('version one'));
      const second = await store.write(main, 'over/write.txt', text('v2'));
      assert.notEqual(second.etag, first.etag);
      assert.equal((await store.stat(main, 'over/write.txt'))?.etag, second.etag);
      assert.equal((await readAll(await store.read(main, 'over/write.txt'))).toString(), 'v2');
    });

    it('stores an empty blob and a content type where the driver keeps one', async () => {
      const info = await store.write(main, 'empty.txt', Readable.from([]), { contentType: 'text/plain; charset=utf-8' });
      assert.equal(info.size, 0);
      assert.equal((await readAll(await store.read(main, 'empty.txt'))).length, 0);
      const contentType = (await store.stat(main, 'empty.txt'))?.contentType;
      assert.ok(contentType === undefined || contentType === 'text/plain; charset=utf-8', `contentType ${contentType}`);
    });

    it('leaves no blob when the body fails mid-way', async () => {
      for (const failAfter of [MiB, 10 * MiB]) {
        // inside the first block/part, and after one is sent
        const boom = new Error(`body failed after ${failAfter} bytes`);
        const blob = `aborted/failed-${failAfter}.bin`;
        await assert.rejects(store.write(main, blob, failingBody(failAfter, boom)), (err) => err === boom);
        assert.equal(await store.stat(main, blob), undefined);
      }
      assert.deepEqual(await store.list(main, 'aborted', { recursive: true }), { folders: [], blobs: [] });
    });

    it('leaves no blob when the write is aborted through its signal', async () => {
      const controller = new AbortController();
      const reason = new Error('client went away');
      const body = generatedBody(30 * MiB, (sent) => {
        if (sent === 2 * MiB) controller.abort(reason);
      });
      await assert.rejects(store.write(main, 'cancelled/file.bin', body, { signal: controller.signal }), (err) => err === reason);
      assert.equal(await store.stat(main, 'cancelled/file.bin'), undefined);
    });

    it('rejects names that could escape the container', async () => {
      for (const bad of ['../escape.txt', 'a/../../escape.txt', '/etc/passwd', 'a%2F..%2Fb', 'a\\b', 'a//b', '']) {
        await assert.rejects(store.write(main, bad, text('x')), BadRequestError, `write ${JSON.stringify(bad)}`);
        await assert.rejects(store.read(main, bad), BadRequestError, `read ${JSON.stringify(bad)}`);
        await assert.rejects(store.stat(main, bad), BadRequestError, `stat ${JSON.stringify(bad)}`);
        await assert.rejects(store.delete(main, bad), BadRequestError, `delete ${JSON.stringify(bad)}`);
      }
      await assert.rejects(store.createContainer('Not_Valid'), BadRequestError);
      await assert.rejects(store.list(main, '../x'), BadRequestError);
    });

    it('hands out working presigned URLs when it has them', async (t) => {
      if (!store.presign) return t.skip('driver has no presigned URLs');
      const expiresAt = new Date(Date.now() + 3_600_000);
      const putUrl = await store.presign(main, 'presigned/file.txt', { method: 'PUT', expiresAt });
      if (putUrl === undefined) return t.skip('driver returned no URL');
      const put = await fetch(putUrl, { method: 'PUT', body: 'presigned body' });
      assert.ok(put.ok, `PUT ${put.status}`);
      assert.equal((await store.stat(main, 'presigned/file.txt'))?.size, 14);
      const getUrl = await store.presign(main, 'presigned/file.txt', { method: 'GET', expiresAt });
      assert.ok(getUrl);
      const get = await fetch(getUrl);
      assert.equal(await get.text(), 'presigned body');
    });

    if (makeBroken) {
      it('rejects checkAccess with UpstreamError when the service refuses the credential', async () => {
        const broken = await makeBroken();
        try {
          await assert.rejects(broken.checkAccess(), (err) => {
            assert.ok(err instanceof UpstreamError, `got ${String(err)}`);
            assert.doesNotMatch(err.message, /sig=|secret/i);
            return true;
          });
        } finally {
          await broken.close?.();
        }
      });
    }
  });
}
