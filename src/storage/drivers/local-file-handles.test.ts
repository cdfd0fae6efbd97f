import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { LocalFileHandles, localEtag, readFully } from './local-file-handles.js';

// Descriptors of this process open on files in `dir`. Not all of the process's descriptors: on Node 24 the loader
// (tsx) opens and closes its own while the test runs (the sockets of its esbuild service, its cache files), which
// made a process-wide count come out short.
const openFds = (dir: string) =>
  fs.readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return fs.readlinkSync(`/proc/self/fd/${fd}`).startsWith(`${fs.realpathSync(dir)}${path.sep}`);
    } catch {
      return false; // the descriptor readdirSync used, closed by now
    }
  }).length;

describe('LocalFileHandles', () => {
  it('reuses one descriptor, reopens for another version, and closes every descriptor it opened', { skip: !fs.existsSync('/proc/self/fd') }, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reel-fds-'));
    const v1 = path.join(dir, 'v1');
    const v2 = path.join(dir, 'v2');
    fs.writeFileSync(v1, 'first version');
    fs.writeFileSync(v2, 'second version');
    const etag2 = localEtag(fs.statSync(v2, { bigint: true }));
    const handles = new LocalFileHandles({ maxOpen: 4, maxAgeMs: 60_000 });
    const before = openFds(dir);
    let current = v1;
    const read = (etag: string | undefined) =>
      handles.with(
        'k',
        async () => current,
        etag,
        async (fd, file) => {
          const bytes = Buffer.alloc(file.size);
          await readFully(fd, bytes, 0);
          return bytes.toString();
        },
      );
    // A read with no version in mind opens v1; while it opens, the blob is replaced and a reader expecting v2 comes.
    const first = read(undefined);
    current = v2;
    const second = read(etag2);
    assert.deepEqual(await Promise.all([first, second]), ['first version', 'second version']);
    assert.equal(await read(etag2), 'second version', 'the current version stays open for the next reader');
    await new Promise((r) => setTimeout(r, 50)); // fs.close is asynchronous
    assert.equal(openFds(dir), before + 1, 'only the current version is still open');
    handles.closeAll();
    await new Promise((r) => setTimeout(r, 50)); // fs.close is asynchronous
    assert.equal(openFds(dir), before);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
