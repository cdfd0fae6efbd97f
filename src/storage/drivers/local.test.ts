import assert from 'node:assert/strict';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { BadRequestError, UpstreamError } from '../../shared/errors.js';
import { describeBlobStoreContract } from '../blob-store.contract.js';
import { LocalBlobStore } from './local.js';

async function tempDir(): Promise<string> {
  // realpath: on some systems the temp dir itself is behind a symlink (macOS /tmp).
  return fsp.realpath(await fsp.mkdtemp(path.join(os.tmpdir(), 'reel-local-')));
}

describeBlobStoreContract(
  'Local',
  async () => {
    const root = await tempDir();
    const store = new LocalBlobStore({ path: path.join(root, 'storage'), allowedRoots: [root] });
    return { store, cleanup: () => fsp.rm(root, { recursive: true, force: true }) };
  },
  async () => {
    // Local has no credential; the nearest failure is a directory the process may not use.
    const root = await tempDir();
    await fsp.writeFile(path.join(root, 'storage'), 'a file, not a directory');
    return new LocalBlobStore({ path: path.join(root, 'storage'), allowedRoots: [root] });
  },
);

describe('LocalBlobStore confinement', () => {
  let root: string;
  let allowed: string;
  let outside: string;

  before(async () => {
    root = await tempDir();
    allowed = path.join(root, 'allowed');
    outside = path.join(root, 'outside');
    await fsp.mkdir(allowed);
    await fsp.mkdir(outside);
    await fsp.writeFile(path.join(outside, 'secret.txt'), 'secret');
  });

  after(() => fsp.rm(root, { recursive: true, force: true }));

  it('rejects relative paths and paths outside the allowed roots', () => {
    assert.throws(() => new LocalBlobStore({ path: 'relative/dir', allowedRoots: [allowed] }), BadRequestError);
    assert.throws(() => new LocalBlobStore({ path: outside, allowedRoots: [allowed] }), BadRequestError);
    assert.throws(() => new LocalBlobStore({ path: path.join(allowed, '../outside'), allowedRoots: [allowed] }), BadRequestError);
    assert.throws(() => new LocalBlobStore({ path: allowed, allowedRoots: [] }), BadRequestError);
  });

  it('creates a missing directory on checkAccess', async () => {
    const store = new LocalBlobStore({ path: path.join(allowed, 'fresh', 'storage'), allowedRoots: [allowed] });
    await store.checkAccess();
    assert.ok((await fsp.stat(path.join(allowed, 'fresh', 'storage'))).isDirectory());
  });

  it('rejects a path that leaves the allowed roots through a symlink', async () => {
    await fsp.symlink(outside, path.join(allowed, 'link'));
    const store = new LocalBlobStore({ path: path.join(allowed, 'link'), allowedRoots: [allowed] });
    await assert.rejects(store.checkAccess(), BadRequestError);
    await assert.rejects(store.listContainers(), BadRequestError);
    // Nor may checkAccess create directories through the link.
    const deeper = new LocalBlobStore({ path: path.join(allowed, 'link', 'new'), allowedRoots: [allowed] });
    await assert.rejects(deeper.checkAccess(), BadRequestError);
    await assert.rejects(fsp.stat(path.join(outside, 'new')), { code: 'ENOENT' });
  });

  it('rejects blob paths that leave the container through a symlink', async () => {
    const base = path.join(allowed, 'base');
    const store = new LocalBlobStore({ path: base, allowedRoots: [allowed] });
    await store.checkAccess();
    await store.createContainer('media');
    await fsp.symlink(outside, path.join(base, 'media', 'escape'));
    await assert.rejects(store.read('media', 'escape/secret.txt'), BadRequestError);
    await assert.rejects(store.stat('media', 'escape/secret.txt'), BadRequestError);
    await assert.rejects(store.write('media', 'escape/new.txt', Readable.from(['x'])), BadRequestError);
    await assert.rejects(store.delete('media', 'escape/secret.txt'), BadRequestError);
    await assert.rejects(store.list('media', 'escape'), BadRequestError);
    await assert.rejects(store.readInto('media', 'escape/secret.txt', 0, Buffer.alloc(1)), BadRequestError);
    await assert.rejects(store.localPath('media', 'escape/secret.txt'), BadRequestError);
    assert.equal(await fsp.readFile(path.join(outside, 'secret.txt'), 'utf8'), 'secret');
    await assert.rejects(fsp.stat(path.join(outside, 'new.txt')), { code: 'ENOENT' });
    // A container directory that is itself a symlink is not a container.
    await fsp.symlink(outside, path.join(base, 'linked'));
    assert.equal(await store.containerExists('linked'), false);
    await assert.rejects(store.read('linked', 'secret.txt'), BadRequestError);
    assert.deepEqual(await store.listContainers(), ['media']);
  });

  it('gives a worker the checked local path of a blob, or nothing for a missing one', async () => {
    const store = new LocalBlobStore({ path: path.join(allowed, 'paths'), allowedRoots: [allowed] });
    await store.checkAccess();
    await store.createContainer('media');
    await store.write('media', 'in/source.mp4', Readable.from(['bytes']));
    const file = await store.localPath('media', 'in/source.mp4');
    assert.equal(file, path.join(allowed, 'paths', 'media', 'in', 'source.mp4'));
    assert.equal(await fsp.readFile(file, 'utf8'), 'bytes');
    assert.equal(await store.localPath('media', 'in/missing.mp4'), undefined);
    assert.equal(await store.localPath('media', 'in'), undefined, 'a folder is not a blob');
    await assert.rejects(store.localPath('media', '../paths/media/in/source.mp4'), BadRequestError);
  });

  it('rejects dot-dot, absolute and encoded names and bad container names', async () => {
    const store = new LocalBlobStore({ path: path.join(allowed, 'names'), allowedRoots: [allowed] });
    await store.checkAccess();
    await store.createContainer('media');
    for (const bad of ['..', '../outside/secret.txt', 'a/../../../outside/secret.txt', '/etc/passwd', '%2e%2e/secret.txt', 'a%2Fb', 'a\u0000b']) {
      await assert.rejects(store.read('media', bad), BadRequestError, bad);
    }
    for (const container of ['..', '../outside', 'UPPER', 'a']) {
      await assert.rejects(store.list(container, ''), BadRequestError, container);
    }
  });

  it('reports a directory it cannot use as UpstreamError', async () => {
    await fsp.writeFile(path.join(allowed, 'not-a-dir'), 'x');
    const store = new LocalBlobStore({ path: path.join(allowed, 'not-a-dir'), allowedRoots: [allowed] });
    await assert.rejects(store.checkAccess(), UpstreamError);
  });
});
