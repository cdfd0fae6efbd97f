import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UpstreamError } from '../../shared/errors.js';
import { azuriteSas, azuriteUrl } from '../../../test/support/services.js';
import { describeBlobStoreContract } from '../blob-store.contract.js';
import { AzureBlobStore } from './azure.js';

/** Azurite runs on loopback: allowed by name, as an operator would allow a local emulator. */
const emulatorOnly = () => ({ allowPrivate: false, allowedHosts: [new URL(azuriteUrl()).host] });

describeBlobStoreContract(
  'Azure (Azurite)',
  async () => ({ store: new AzureBlobStore({ url: azuriteUrl(), sasToken: azuriteSas(), addressPolicy: emulatorOnly() }), cleanup: async () => undefined }),
  // Same SAS with a forged signature: Azurite verifies account SAS signatures.
  async () => new AzureBlobStore({ url: azuriteUrl(), sasToken: azuriteSas().replace(/sig=[^&]+/, 'sig=Zm9yZ2Vk'), addressPolicy: emulatorOnly() }),
);

describe('AzureBlobStore failures', () => {
  it('fails fast with a 503 UpstreamError when the account is unreachable', async () => {
    const store = new AzureBlobStore({ url: 'http://127.0.0.1:9/devstoreaccount1', sasToken: azuriteSas(), addressPolicy: { allowPrivate: true } });
    const started = Date.now();
    await assert.rejects(store.checkAccess(), (err) => err instanceof UpstreamError && err.status === 503);
    assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
  });

  it('never puts the SAS into an error message', async () => {
    const sas = azuriteSas().replace(/sig=[^&]+/, 'sig=c2VjcmV0LXNpZw%3D%3D');
    const store = new AzureBlobStore({ url: azuriteUrl(), sasToken: sas, addressPolicy: emulatorOnly() });
    await assert.rejects(store.read('media', 'file.txt'), (err) => {
      assert.ok(err instanceof UpstreamError);
      assert.match(err.message, /refused the SAS token/);
      assert.doesNotMatch(err.message, /sig=|c2VjcmV0/);
      return true;
    });
  });

  it('rejects a URL that carries a query', () => {
    assert.throws(() => new AzureBlobStore({ url: `${azuriteUrl()}?sv=1`, sasToken: azuriteSas(), addressPolicy: emulatorOnly() }), /must not carry a query/);
  });

  it('refuses every connection to a private address the policy does not allow, whatever the name', async () => {
    // `localhost` names the same emulator, but only its IP:port is allowed: the check is per connection.
    const url = azuriteUrl().replace('127.0.0.1', 'localhost');
    const store = new AzureBlobStore({ url, sasToken: azuriteSas(), addressPolicy: emulatorOnly() });
    try {
      await assert.rejects(store.checkAccess(), (err) => err instanceof UpstreamError && err.code === 'StorageAddressNotAllowed');
      await assert.rejects(store.read('media', 'file.txt'), (err) => err instanceof UpstreamError && err.code === 'StorageAddressNotAllowed');
    } finally {
      await store.close();
    }
  });
});
