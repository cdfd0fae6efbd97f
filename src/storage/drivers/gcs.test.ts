import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { BadRequestError, UpstreamError } from '../../shared/errors.js';
import { gcsConfig } from '../../../test/support/services.js';
import { describeBlobStoreContract } from '../blob-store.contract.js';
import { GcsBlobStore } from './gcs.js';

/** The test server runs on loopback: allowed by name, as an operator would allow a local emulator. */
const serverOnly = () => ({ allowPrivate: false, allowedHosts: [new URL(gcsConfig().endpoint).host] });

/** The same service account with another key: its JWTs carry a signature the token endpoint cannot verify. */
function otherKey(serviceAccount: Record<string, string>): Record<string, string> {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...serviceAccount, private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

const store = (overrides: Partial<ConstructorParameters<typeof GcsBlobStore>[0]> = {}) => {
  const { endpoint, bucketName, serviceAccount } = gcsConfig();
  return new GcsBlobStore({ endpoint, bucketName, serviceAccount, addressPolicy: serverOnly(), ...overrides });
};

describeBlobStoreContract(
  'Google Cloud Storage (Firebase emulator)',
  async () => ({ store: store(), cleanup: async () => undefined }),
  async () => store({ serviceAccount: otherKey(gcsConfig().serviceAccount) }),
);

describe('GcsBlobStore failures', () => {
  it('refuses a key that is not a service account key, naming the field', () => {
    const { serviceAccount } = gcsConfig();
    assert.throws(
      () => store({ serviceAccount: { ...serviceAccount, type: 'authorized_user' } }),
      (err) => err instanceof BadRequestError && /gac: type/.test(err.detail),
    );
    assert.throws(
      () => store({ serviceAccount: { ...serviceAccount, private_key: 'not a key' } }),
      (err) => err instanceof BadRequestError && /private_key/.test(err.detail),
    );
  });

  it('reports a refused key as StorageAccessDenied without the key in the message', async () => {
    const broken = store({ serviceAccount: otherKey(gcsConfig().serviceAccount) });
    try {
      await assert.rejects(broken.read('media', 'file.txt'), (err) => {
        assert.ok(err instanceof UpstreamError && err.code === 'StorageAccessDenied', String(err));
        assert.doesNotMatch(err.message, /PRIVATE KEY|ya29/);
        return true;
      });
    } finally {
      await broken.close();
    }
  });

  it('fails fast with a 503 UpstreamError when the endpoint is unreachable', async () => {
    const unreachable = store({ endpoint: 'http://127.0.0.1:9', addressPolicy: { allowPrivate: true } });
    const started = Date.now();
    try {
      await assert.rejects(unreachable.checkAccess(), (err) => err instanceof UpstreamError && err.status === 503);
      assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
    } finally {
      await unreachable.close();
    }
  });

  it('reports a missing bucket as UpstreamError, not as a missing blob', async () => {
    const missing = store({ bucketName: 'reel-no-such-bucket' });
    try {
      await assert.rejects(missing.checkAccess(), /bucket does not exist/);
      await assert.rejects(missing.read('media', 'file.txt'), (err) => err instanceof UpstreamError && err.code === 'StorageBucketNotFound');
    } finally {
      await missing.close();
    }
  });

  it('refuses every connection to a private address the policy does not allow, the token endpoint included', async () => {
    const { endpoint, serviceAccount } = gcsConfig();
    // The storage endpoint by another name than the allowed one: refused.
    const byName = store({ endpoint: endpoint.replace('127.0.0.1', 'localhost') });
    // The allowed endpoint, but a key whose token_uri points elsewhere on this machine: refused as well.
    const tokenElsewhere = store({ serviceAccount: { ...serviceAccount, token_uri: serviceAccount.token_uri.replace('127.0.0.1', 'localhost') } });
    try {
      for (const s of [byName, tokenElsewhere]) {
        await assert.rejects(s.checkAccess(), (err) => err instanceof UpstreamError && err.code === 'StorageAddressNotAllowed');
        await assert.rejects(s.read('media', 'file.txt'), (err) => err instanceof UpstreamError && err.code === 'StorageAddressNotAllowed');
      }
    } finally {
      await byName.close();
      await tokenElsewhere.close();
    }
  });
});
