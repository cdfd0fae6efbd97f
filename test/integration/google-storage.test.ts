import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import { startTestServer, type TestServer } from '../support/server.js';
import { ApiClient, login, tokenFromSession } from '../support/api.js';
import { gcsConfig } from '../support/services.js';
import { makeMp4 } from '../fixtures/media.js';
import { GcsBlobStore } from '../../src/storage/drivers/gcs.js';

/** `Google.Storage` accounts through the API, against the Google Cloud Storage test server (one dialect is enough). */
describe('Google.Storage accounts', () => {
  let server: TestServer;
  let api: ApiClient;
  const V = '/api/v1/projects/default/media';
  const mp4 = makeMp4();

  before(async () => {
    server = await startTestServer('sqlite');
    const cookie = await login(server.url, server.adminEmail, server.adminPassword);
    api = new ApiClient(server.url).withToken((await tokenFromSession(server.url, cookie)).token, 'bearer');
  });
  after(async () => {
    await server?.close();
  });

  it('registers a bucket with a service account key, shows the key without its private key, and reads assets from it', async () => {
    const gcs = gcsConfig();
    const prefix = `gcsmig-${Date.now()}`;
    const direct = new GcsBlobStore({ ...gcs, addressPolicy: { allowPrivate: true } });
    await direct.createContainer(prefix);
    await direct.write(prefix, 'movie.mp4', fs.createReadStream(mp4), { contentType: 'video/mp4' });
    await direct.close();

    // `endpoint` is Reel's extension (an emulator instead of Google), so the body is not MK.IO's schema.
    const reg = await api.put(
      `${V}/storage/gcs`,
      { spec: { type: 'Google.Storage', bucketName: gcs.bucketName, endpoint: gcs.endpoint, description: 'google', credential: { gac: gcs.serviceAccount } } },
      { checkRequest: false },
    );
    assert.equal(reg.status, 201, reg.text);
    assert.equal(reg.body.spec.type, 'Google.Storage');
    assert.equal(reg.body.spec.bucketName, gcs.bucketName);
    assert.equal(reg.body.spec.region, null);
    assert.equal(reg.body.spec.description, 'google');
    assert.deepEqual(reg.body.spec.credential, {
      gac: {
        type: 'service_account',
        project_id: gcs.serviceAccount.project_id,
        client_email: gcs.serviceAccount.client_email,
        private_key_id: gcs.serviceAccount.private_key_id,
      },
    });
    assert.ok(!reg.text.includes('PRIVATE KEY'));

    const credentials = await api.get(`${V}/storage/gcs/credentials`);
    assert.equal(credentials.status, 200, credentials.text);
    assert.equal(credentials.body.value.length, 1);
    assert.equal(credentials.body.value[0].spec.type, 'Google.Storage');
    assert.equal(credentials.body.value[0].spec.credential.gac.client_email, gcs.serviceAccount.client_email);
    assert.ok(!credentials.text.includes('PRIVATE KEY'));

    const added = await api.post(`${V}/storage/gcs/credentials`, { spec: { type: 'Google.Storage', credential: { gac: gcs.serviceAccount } } });
    assert.equal(added.status, 201, added.text);
    assert.ok(!added.text.includes('PRIVATE KEY'));

    const patched = await api.patch(`${V}/storage/gcs`, { spec: { type: 'Google.Storage', description: 'renamed' } });
    assert.equal(patched.status, 200, patched.text);
    assert.equal(patched.body.spec.description, 'renamed');

    const asset = await api.put(`${V}/assets/from-gcs`, { properties: { storageAccountName: 'gcs', container: prefix } });
    assert.equal(asset.status, 201, asset.text);
    const listing = await api.get(`${V}/assets/from-gcs/storage/`);
    assert.deepEqual(listing.body.spec.files, [{ name: 'movie.mp4', size: fs.statSync(mp4).size }]);
    assert.equal(listing.body.spec.mediaInfo['movie.mp4'].tracks.find((t: { type: string }) => t.type === 'audio').codec, 'aac');
  });

  it('refuses a key the service does not accept, and a body without one, saving nothing', async () => {
    const gcs = gcsConfig();
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const otherKey = { ...gcs.serviceAccount, private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
    const wrongKey = await api.put(
      `${V}/storage/gcs-wrong`,
      { spec: { type: 'Google.Storage', bucketName: gcs.bucketName, endpoint: gcs.endpoint, credential: { gac: otherKey } } },
      { checkRequest: false },
    );
    assert.equal(wrongKey.status, 400, wrongKey.text);
    assert.match(wrongKey.body.error.detail, /could not be reached or listed: Google refused the service account key \(invalid_grant\)/);
    assert.ok(!wrongKey.text.includes('PRIVATE KEY'));

    const noKey = await api.put(`${V}/storage/gcs-nokey`, { spec: { type: 'Google.Storage', bucketName: gcs.bucketName } });
    assert.equal(noKey.status, 400, noKey.text);
    assert.match(noKey.body.error.detail, /spec\.credential\.gac is required/);

    const notServiceAccount = await api.put(`${V}/storage/gcs-user`, {
      spec: { type: 'Google.Storage', bucketName: gcs.bucketName, credential: { gac: { type: 'authorized_user', client_id: 'x' } } },
    });
    assert.equal(notServiceAccount.status, 400, notServiceAccount.text);
    assert.match(notServiceAccount.body.error.detail, /service_account/);

    for (const name of ['gcs-wrong', 'gcs-nokey', 'gcs-user']) assert.equal((await api.get(`${V}/storage/${name}`)).status, 404);
  });
});
