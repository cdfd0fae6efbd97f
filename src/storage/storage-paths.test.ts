import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { assertBlobPath, isTempBlobPath, isValidContainerName } from './storage-paths.js';

describe('storage paths', () => {
  it('accepts MK.IO container names and rejects the rest', () => {
    for (const ok of ['abc', 'boulder2', 'asset-3f2a', 'a'.repeat(63)]) assert.ok(isValidContainerName(ok), ok);
    for (const bad of ['ab', 'Abc', 'a--b', '-ab', 'ab-', 'a_b', 'a'.repeat(64), '../x', 'a/b']) assert.ok(!isValidContainerName(bad), bad);
  });
  it('accepts nested blob names with spaces and unicode', () => {
    for (const ok of ['a.mp4', 'folder/a b.mp4', 'vidéo/子.mp4']) assert.equal(assertBlobPath(ok), ok);
  });
  it('rejects every way out of the container', () => {
    for (const bad of ['../x', 'a/../../x', '/etc/passwd', 'a/./b', 'a//b', 'a\\..\\b', 'a%2F..%2Fb', '%2e%2e/x', 'a\u0000b', 'dir/', '']) {
      assert.throws(
        () => assertBlobPath(bad),
        (e: Error & { status?: number }) => e.status === 400,
        JSON.stringify(bad),
      );
    }
  });
  it('reserves the names of in-flight writes in every segment', () => {
    for (const bad of ['.reel-tmp-3f2a', 'a/.reel-tmp-x/b.mp4', 'a/b/.reel-tmp-']) {
      assert.throws(
        () => assertBlobPath(bad),
        (e: Error & { status?: number }) => e.status === 400,
        bad,
      );
    }
    for (const ok of ['.reel-tmp', 'a/x.reel-tmp-1', '.reel-temp-1']) assert.equal(assertBlobPath(ok), ok);
    assert.ok(isTempBlobPath('a/.reel-tmp-1/b') && !isTempBlobPath('a/x.reel-tmp-1'));
  });
});
