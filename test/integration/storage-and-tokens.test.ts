import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { S3Client, PutObjectCommand } from '@aws-sdk/client-s3';
import { startTestServer, type TestServer } from '../support/server.js';
import { ApiClient, login, tokenFromSession } from '../support/api.js';
import { azuriteSas, azuriteUrl, s3Config } from '../support/services.js';
import { makeMp4 } from '../fixtures/media.js';

/** One dialect is enough here: these paths don't differ by database (foundation.test.ts covers both). */
describe('storage types, legacy paths, restricted tokens, large uploads', () => {
  let server: TestServer;
  let cookie: string;
  let token: string;
  let api: ApiClient;
  const V = '/api/v1/projects/default/media';
  const mp4 = makeMp4();

  before(async () => {
    server = await startTestServer('sqlite');
    cookie = await login(server.url, server.adminEmail, server.adminPassword);
    token = (await tokenFromSession(server.url, cookie)).token;
    api = new ApiClient(server.url).withToken(token, 'bearer');
  });
  after(async () => {
    await server?.close();
  });

  it('registers an S3 bucket and migrates an asset from a prefix of it', async () => {
    const s3 = s3Config();
    const prefix = `s3mig-${Date.now()}`;
    const client = new S3Client({
      region: s3.region,
      endpoint: s3.endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    });
    await client.send(new PutObjectCommand({ Bucket: s3.bucketName, Key: `${prefix}/movie.mp4`, Body: fs.readFileSync(mp4) }));
    client.destroy();

    const reg = await api.put(
      `${V}/storage/bucket`,
      {
        spec: {
          type: 'AWS.S3',
          bucketName: s3.bucketName,
          endpoint: s3.endpoint,
          region: s3.region,
          credential: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
        },
      },
      { checkRequest: false },
    );
    assert.equal(reg.status, 201, reg.text);
    assert.equal(reg.body.spec.bucketName, s3.bucketName);
    assert.equal(reg.body.spec.credential, undefined, 'S3 credentials are never shown');
    assert.ok(!reg.text.includes(s3.secretAccessKey));

    const asset = await api.put(`${V}/assets/from-s3`, { properties: { storageAccountName: 'bucket', container: prefix } });
    assert.equal(asset.status, 201, asset.text);
    const listing = await api.get(`${V}/assets/from-s3/storage/`);
    assert.deepEqual(listing.body.spec.files, [{ name: 'movie.mp4', size: fs.statSync(mp4).size }]);
    assert.equal(listing.body.spec.mediaInfo['movie.mp4'].tracks.find((t: { type: string }) => t.type === 'audio').codec, 'aac');

    const wrongKey = await api.put(
      `${V}/storage/wrong-key`,
      { spec: { type: 'AWS.S3', bucketName: s3.bucketName, endpoint: s3.endpoint, credential: { accessKeyId: 'NOTAKEY', secretAccessKey: 'x' } } },
      { checkRequest: false },
    );
    assert.equal(wrongKey.status, 400);
    assert.match(wrongKey.body.error.detail, /could not be reached or listed/);
    const awsFormat = await api.put(
      `${V}/storage/aws-format`,
      { spec: { type: 'AWS.S3', bucketName: 'my-bucket', credential: { accessKeyId: 'short', secretAccessKey: 'x' } } },
      { checkRequest: false },
    );
    assert.equal(awsFormat.status, 400);
    assert.match(awsFormat.body.error.detail, /accessKeyId must match/);
  });

  it('serves the legacy organization/subscription storage paths', async () => {
    const browser = new ApiClient(server.url, { cookie });
    const orgId = (await browser.get('/api/v1/user/profile')).body.spec.activeOrganizationId as string;
    const stats = await api.get('/api/ams/default/stats/', { contract: false });
    const subscriptionId = stats.body.extra.subscription_id as string;
    const legacy = new ApiClient(server.url).withToken(token, 'x-mkio-token');
    const base = `/api/accounts/${orgId}/subscriptions/${subscriptionId}/storage/`;

    const created = await legacy.post(base, {
      spec: {
        name: 'legacy-azure',
        location: 'francecentral',
        description: 'legacy',
        type: 'Microsoft.Storage',
        azureStorageConfiguration: { url: `${azuriteUrl()}${azuriteSas()}` },
      },
    });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.body.spec.azureStorageConfiguration.url, azuriteUrl());
    const id = created.body.metadata.id as string;
    const listed = await legacy.get(base);
    assert.ok(listed.body.items.some((s: { metadata: { id: string } }) => s.metadata.id === id));
    const creds = await legacy.get(`${base}${id}/credentials/`);
    assert.equal(creds.body.items.length, 1);
    assert.ok(!creds.body.items[0].spec.azureCredential.sasTokenSanitized.includes('sig='));
    assert.equal((await legacy.post(`${base}${id}/credentials/`, { spec: { azureCredential: { sasToken: azuriteSas() } } })).status, 201);
    // The Go migration tool's spelling: singular `subscription` and the project name.
    const goStyle = await legacy.get(`/api/accounts/${orgId}/subscription/default/storage/`);
    assert.equal(goStyle.status, 200);
    assert.equal((await legacy.get(`/api/accounts/${orgId}/subscriptions/00000000-0000-0000-0000-000000000000/storage/`)).status, 404);
    assert.equal((await legacy.delete(`${base}${id}/`)).status, 200);
    assert.equal((await legacy.get(`${base}${id}/`)).status, 404);
  });

  it('limits a restricted token to the capabilities it was given', async () => {
    const browser = new ApiClient(server.url, { cookie });
    const orgId = (await browser.get('/api/v1/user/profile')).body.spec.activeOrganizationId as string;
    const projectId = (await api.get('/api/ams/default/stats/', { contract: false })).body.extra.subscription_id as string;
    const created = await browser.post('/api/v1/user/tokens', {
      type: 'restricted',
      organizationId: orgId,
      description: 'read assets',
      permissions: { 'core.project': { [projectId]: { 'ams.asset': ['read'] } } },
    });
    assert.equal(created.status, 201, created.text);
    assert.deepEqual(created.body.spec.permissions, { 'core.project': { [projectId]: { 'ams.asset': ['read'] } } });
    const restricted = new ApiClient(server.url).withToken(created.body.metadata.JWT, 'bearer');
    assert.equal((await restricted.get(`${V}/assets`)).status, 200);
    assert.equal((await restricted.put(`${V}/assets/not-allowed`, { properties: { storageAccountName: 'local' } })).status, 403);
    assert.equal((await restricted.get(`${V}/storage`, { contract: false })).status, 403);
    assert.equal((await restricted.post('/api/v1/user/tokens', { type: 'full-access', organizationId: orgId })).status, 403);
    const noPermissions = await browser.post('/api/v1/user/tokens', { type: 'restricted', organizationId: orgId });
    assert.equal(noPermissions.status, 400);
  });

  it('streams a 1 GiB upload to storage without holding it in memory', async () => {
    const created = await api.put(`${V}/assets/big`, { properties: { storageAccountName: 'local' } });
    assert.equal(created.status, 201);
    const upload = await api.post(`${V}/assets/big/getUploadUrl`, { fileName: 'big.bin' }, { contract: false });
    const totalBytes = 1024 * 1024 * 1024;
    const chunk = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 31) & 0xff;
    const hash = createHash('sha256');
    let sent = 0;
    const body = new Readable({
      read() {
        if (sent >= totalBytes) {
          this.push(null);
          return;
        }
        hash.update(chunk);
        sent += chunk.length;
        this.push(chunk);
      },
    });
    // `curl -T -` is the client, as a user would run it; this process is the server alone.
    const rssBefore = process.memoryUsage().rss;
    let rssPeak = rssBefore;
    const sampler = setInterval(() => {
      rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
    }, 100);
    const curl = spawn('curl', ['-sS', '--fail-with-body', '-T', '-', upload.body.url], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    curl.stdout.on('data', (d: Buffer) => {
      output += d.toString();
    });
    curl.stderr.on('data', (d: Buffer) => {
      output += d.toString();
    });
    await pipeline(body, curl.stdin);
    const code = await new Promise((resolve) => curl.on('close', resolve));
    clearInterval(sampler);
    assert.equal(code, 0, output);
    assert.equal(JSON.parse(output).size, totalBytes);
    const rssGrowth = rssPeak - rssBefore;
    const listing = await api.get(`${V}/assets/big/storage/`);
    assert.deepEqual(listing.body.spec.files, [{ name: 'big.bin', size: totalBytes }]);
    // A buffered upload would add the whole GiB here.
    assert.ok(rssGrowth < 256 * 1024 * 1024, `RSS grew by ${Math.round(rssGrowth / 1048576)} MiB`);

    const access = await api.post(`${V}/assets/big/getFileAccessInfo`);
    const download = await fetch(`${access.body.url}/big.bin`, { headers: { authorization: `Bearer ${access.body.jwt}` } });
    const check = createHash('sha256');
    for await (const part of download.body as unknown as AsyncIterable<Uint8Array>) check.update(part);
    assert.equal(check.digest('hex'), hash.digest('hex'));
  });

  it('never writes tokens, passwords or SAS signatures to its logs', () => {
    const logs = server.logs();
    assert.ok(logs.length > 0);
    const sig = new URLSearchParams(azuriteSas().slice(1)).get('sig') as string;
    for (const secret of [token, server.adminPassword, sig, s3Config().secretAccessKey === 'S3RVER' ? 'unused-marker' : s3Config().secretAccessKey]) {
      assert.ok(!logs.includes(secret), 'a secret reached the logs');
    }
  });
});
