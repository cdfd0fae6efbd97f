import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UpstreamError } from '../../shared/errors.js';
import { azuriteSas, azuriteUrl } from '../../../test/support/services.js';
import { describeBlobStoreContract } from '../blob-store.contract.js';
import { AzureBlobStore } from './azure.js';

describeBlobStoreContract(
  'Azure (Azurite)',
  async () => ({ store: new AzureBlobStore({ url: azuriteUrl(), sasToken: azuriteSas() }), cleanup: async () => undefined }),
  // Same SAS with a forged signature: Azurite verifies account SAS signatures.
  async () => new AzureBlobStore({ url: azuriteUrl(), sasToken: azuriteSas().replace(/sig=[^&]+/, 'sig=Zm9yZ2Vk') }),
);

describe('AzureBlobStore failures', () => {
  it('fails fast with a 503 UpstreamError when the account is unreachable', async () => {
    const store = new AzureBlobStore({ url: 'http://127.0.0.1:9/devstoreaccount1', sasToken: azuriteSas() });
    const started = Date.now();
    await assert.rejects(store.checkAccess(), (err) => err instanceof UpstreamError && err.status === 503);
    assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
  });

  it('never puts the SAS into an error message', async () => {
    const sas = azuriteSas().replace(/sig=[^&]+/, 'sig=c2VjcmV0LXNpZw%3D%3D');
    const store = new AzureBlobStore({ url: azuriteUrl(), sasToken: sas });
    await assert.rejects(store.read('media', 'file.txt'), (err) => {
      assert.ok(err instanceof UpstreamError);
      assert.match(err.message, /refused the SAS token/);
      assert.doesNotMatch(err.message, /sig=|c2VjcmV0/);
      return true;
    });
  });

  it('rejects a URL that carries a query', () => {
    assert.throws(() => new AzureBlobStore({ url: `${azuriteUrl()}?sv=1`, sasToken: azuriteSas() }), /must not carry a query/);
  });
});
