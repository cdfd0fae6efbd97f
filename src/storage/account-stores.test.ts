import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { BadRequestError, NotFoundError } from '../shared/errors.js';
import { SecretBox } from '../shared/secret-box.js';
import { AccountStores, type StoredAccount } from './account-stores.js';
import type { BlobStore, StorageAccountSpec } from './blob-store.js';
import { createStoragePolicy } from './storage-policy.js';

/** A driver that records what it was built from and whether it was closed. */
interface FakeStore {
  spec: StorageAccountSpec;
  closed: boolean;
  checked: boolean;
}

function setUp() {
  const box = new SecretBox('a test key that is long enough to use');
  const accounts = new Map<string, StoredAccount>();
  const built: FakeStore[] = [];
  let reads = 0;
  let nowMs = 0;
  const stores = new AccountStores({
    accounts: {
      byId: async (id) => {
        reads++;
        return accounts.get(id);
      },
    },
    box,
    factory: async (spec) => {
      const fake: FakeStore = { spec, closed: false, checked: false };
      built.push(fake);
      return {
        checkAccess: async () => {
          fake.checked = true;
        },
        close: async () => {
          fake.closed = true;
        },
        fake,
      } as unknown as BlobStore;
    },
    policy: createStoragePolicy({ roots: ['/srv/reel'], grants: [], allowPrivate: false, allowedHosts: [] }),
    now: () => nowMs,
  });
  const fakeOf = (store: BlobStore) => (store as unknown as { fake: FakeStore }).fake;
  const s3 = (credentials: StoredAccount['credentials']): StoredAccount => ({
    row: { id: 's3', name: 'bucket', type: 'AWS.S3', config: JSON.stringify({ bucketName: 'media' }) },
    projectName: 'p1',
    credentials,
  });
  const credential = (id: string, secret: Record<string, string>, expiresAt: string | null = null) => ({ id, secret: box.seal(secret), expires_at: expiresAt });
  return {
    stores,
    accounts,
    built,
    fakeOf,
    s3,
    credential,
    reads: () => reads,
    advance: (ms: number) => {
      nowMs += ms;
    },
  };
}

describe('AccountStores', () => {
  it("confines a Local account to its project's area", async () => {
    const t = setUp();
    t.accounts.set('loc', {
      row: { id: 'loc', name: 'local', type: 'Local', config: JSON.stringify({ path: '/srv/reel/p1/media' }) },
      projectName: 'p1',
      credentials: [],
    });
    const store = await t.stores.open('loc');
    assert.deepEqual(t.fakeOf(store).spec, { type: 'Local', config: { path: '/srv/reel/p1/media' }, allowedRoots: [path.resolve('/srv/reel/p1')] });
  });

  it('keeps a driver until the active credential changes, then closes the old one', async () => {
    const t = setUp();
    t.accounts.set('s3', t.s3([t.credential('c1', { accessKeyId: 'AK1', secretAccessKey: 'one' })]));
    const first = await t.stores.open('s3');
    assert.equal(await t.stores.open('s3'), first, 'the same driver while the credential is the same');
    assert.deepEqual(t.fakeOf(first).spec.secret, { accessKeyId: 'AK1', secretAccessKey: 'one' }, 'the credential is unsealed for the driver');
    assert.equal(t.built.length, 1);

    // A credential without expiry outlives one with an expiry: it becomes the active one.
    t.accounts.set(
      's3',
      t.s3([
        t.credential('c0', { accessKeyId: 'AK0', secretAccessKey: 'zero' }, '2030-01-01T00:00:00Z'),
        t.accounts.get('s3')!.credentials[0],
        t.credential('c2', { accessKeyId: 'AK2', secretAccessKey: 'two' }, '2031-01-01T00:00:00Z'),
      ]),
    );
    assert.equal(await t.stores.open('s3'), first, 'c1 (no expiry) is still the active credential');
    t.accounts.set('s3', t.s3([t.credential('c2', { accessKeyId: 'AK2', secretAccessKey: 'two' }, '2031-01-01T00:00:00Z')]));
    const second = await t.stores.open('s3');
    assert.notEqual(second, first);
    assert.equal(t.fakeOf(first).closed, true, "the old credential's driver is closed");
    assert.deepEqual(t.fakeOf(second).spec.secret, { accessKeyId: 'AK2', secretAccessKey: 'two' });
  });

  it('builds one driver for concurrent first lookups', async () => {
    const t = setUp();
    t.accounts.set('s3', t.s3([t.credential('c1', { accessKeyId: 'AK1', secretAccessKey: 'one' })]));
    const [a, b] = await Promise.all([t.stores.open('s3'), t.stores.open('s3')]);
    assert.equal(a, b);
    assert.equal(t.built.length, 1);
  });

  it('refuses a cloud account without a credential, and an unknown account', async () => {
    const t = setUp();
    t.accounts.set('s3', t.s3([]));
    await assert.rejects(t.stores.open('s3'), (err) => err instanceof BadRequestError && err.code === 'NoCredential');
    assert.equal(t.built.length, 0);
    await assert.rejects(t.stores.open('nope'), (err) => err instanceof NotFoundError && err.code === 'StorageAccountNotFound');
    assert.equal(await t.stores.find('nope'), undefined);
  });

  it('reuses a playback lookup for 2 s, and forgets it when the account changes here', async () => {
    const t = setUp();
    t.accounts.set('s3', t.s3([t.credential('c1', { accessKeyId: 'AK1', secretAccessKey: 'one' })]));
    const first = await t.stores.openForPlayback('s3');
    t.advance(1999);
    assert.equal(await t.stores.openForPlayback('s3'), first);
    assert.equal(t.reads(), 1, 'the account is read once within 2 s');
    t.advance(1);
    await t.stores.openForPlayback('s3');
    assert.equal(t.reads(), 2, 'and again after');

    await t.stores.drop('s3');
    assert.equal(t.fakeOf(first).closed, true, "a dropped account's driver is closed");
    const fresh = await t.stores.openForPlayback('s3');
    assert.notEqual(fresh, first, 'a dropped account is looked up again at once');
    assert.equal(t.reads(), 3);
  });

  it('closes every driver at shutdown, and the throwaway driver of a check', async () => {
    const t = setUp();
    t.accounts.set('s3', t.s3([t.credential('c1', { accessKeyId: 'AK1', secretAccessKey: 'one' })]));
    t.accounts.set('loc', {
      row: { id: 'loc', name: 'local', type: 'Local', config: JSON.stringify({ path: '/srv/reel/p1' }) },
      projectName: 'p1',
      credentials: [],
    });
    const opened = await Promise.all([t.stores.open('s3'), t.stores.open('loc')]);
    await t.stores.close();
    assert.deepEqual(
      opened.map((s) => t.fakeOf(s).closed),
      [true, true],
    );

    await t.stores.check(
      { type: 'Microsoft.Storage', projectName: 'p1', config: { url: 'https://a.blob.core.windows.net' }, secret: { sasToken: '?sig=x' } },
      AbortSignal.timeout(1000),
    );
    const probe = t.built.at(-1)!;
    assert.deepEqual([probe.checked, probe.closed], [true, true]);
  });
});
