import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UpstreamError } from '../../shared/errors.js';
import { s3Config } from '../../../test/support/services.js';
import { describeBlobStoreContract } from '../blob-store.contract.js';
import { S3BlobStore } from './s3.js';

/** The S3 test server runs on loopback: allowed by name, as an operator would allow a local MinIO. */
const serverOnly = () => ({ allowPrivate: false, allowedHosts: [new URL(s3Config().endpoint).host] });

describeBlobStoreContract(
  'S3 (s3rver)',
  async () => ({ store: new S3BlobStore({ ...s3Config(), addressPolicy: serverOnly() }), cleanup: async () => undefined }),
  // s3rver checks the access key id but not SigV4 signatures, so the broken credential is an unknown key id.
  async () => new S3BlobStore({ ...s3Config(), accessKeyId: 'NOT-A-KEY', secretAccessKey: 'wrong', addressPolicy: serverOnly() }),
);

describe('S3BlobStore failures', () => {
  it('fails fast with a 503 UpstreamError when the endpoint is unreachable', async () => {
    const store = new S3BlobStore({ ...s3Config(), endpoint: 'http://127.0.0.1:9', addressPolicy: { allowPrivate: true } });
    const started = Date.now();
    try {
      await assert.rejects(store.checkAccess(), (err) => err instanceof UpstreamError && err.status === 503);
      assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
    } finally {
      await store.close();
    }
  });

  it('reports a missing bucket as UpstreamError, not as a missing blob', async () => {
    const store = new S3BlobStore({ ...s3Config(), bucketName: 'reel-no-such-bucket', addressPolicy: serverOnly() });
    try {
      await assert.rejects(store.checkAccess(), /bucket does not exist/);
      await assert.rejects(store.read('media', 'file.txt'), UpstreamError);
    } finally {
      await store.close();
    }
  });

  it('refuses every connection to a private address the policy does not allow, whatever the name', async () => {
    const store = new S3BlobStore({ ...s3Config(), endpoint: s3Config().endpoint.replace('127.0.0.1', 'localhost'), addressPolicy: serverOnly() });
    try {
      await assert.rejects(store.checkAccess(), (err) => err instanceof UpstreamError && err.code === 'StorageAddressNotAllowed');
      await assert.rejects(store.read('media', 'file.txt'), (err) => err instanceof UpstreamError && err.code === 'StorageAddressNotAllowed');
    } finally {
      await store.close();
    }
  });
});
