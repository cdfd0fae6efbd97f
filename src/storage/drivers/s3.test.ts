import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UpstreamError } from '../../shared/errors.js';
import { s3Config } from '../../../test/support/services.js';
import { describeBlobStoreContract } from '../blob-store.contract.js';
import { S3BlobStore } from './s3.js';

describeBlobStoreContract(
  'S3 (s3rver)',
  async () => ({ store: new S3BlobStore(s3Config()), cleanup: async () => undefined }),
  // s3rver checks the access key id but not SigV4 signatures, so the broken credential is an unknown key id.
  async () => new S3BlobStore({ ...s3Config(), accessKeyId: 'NOT-A-KEY', secretAccessKey: 'wrong' }),
);

describe('S3BlobStore failures', () => {
  it('fails fast with a 503 UpstreamError when the endpoint is unreachable', async () => {
    const store = new S3BlobStore({ ...s3Config(), endpoint: 'http://127.0.0.1:9' });
    const started = Date.now();
    try {
      await assert.rejects(store.checkAccess(), (err) => err instanceof UpstreamError && err.status === 503);
      assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
    } finally {
      await store.close();
    }
  });

  it('reports a missing bucket as UpstreamError, not as a missing blob', async () => {
    const store = new S3BlobStore({ ...s3Config(), bucketName: 'reel-no-such-bucket' });
    try {
      await assert.rejects(store.checkAccess(), /bucket does not exist/);
      await assert.rejects(store.read('media', 'file.txt'), UpstreamError);
    } finally {
      await store.close();
    }
  });
});
