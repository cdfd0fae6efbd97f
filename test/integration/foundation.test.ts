import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { ContainerClient } from '@azure/storage-blob';
import { dialects, startTestServer, type TestServer } from '../support/server.js';
import { ApiClient, contractStats, login, tokenFromSession } from '../support/api.js';
import { assertMkioSchema } from '../support/mkio-contract.js';
import { azuriteSas, azuriteUrl } from '../support/services.js';
import { amsServerManifest, makeMp4 } from '../fixtures/media.js';
import { AccountService } from '../../src/control/auth/account-service.js';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

for (const dialect of dialects) {
  describe(`foundation on ${dialect}`, () => {
    let server: TestServer;
    let cookie: string;
    let api: ApiClient;
    let userId: string;
    const L = '/api/ams/default';
    const V = '/api/v1/projects/default/media';
    const mp4 = makeMp4();

    before(async () => {
      server = await startTestServer(dialect);
      cookie = await login(server.url, server.adminEmail, server.adminPassword);
      const t = await tokenFromSession(server.url, cookie);
      userId = t.user_id;
      api = new ApiClient(server.url).withToken(t.token, 'x-mkio-token');
    });
    after(async () => {
      await server?.close();
    });

    it('runs the KB workflow: login, /auth/token/, register storage, migrate an asset, list it, see files and tracks', async () => {
      // A container that already holds media, as when migrating from AMS.
      const dir = path.join(server.localArea(), 'studio');
      fs.mkdirSync(path.join(dir, 'boulder2', 'thumbs'), { recursive: true });
      fs.copyFileSync(mp4, path.join(dir, 'boulder2', 'clip_320x240_400.mp4'));
      fs.writeFileSync(path.join(dir, 'boulder2', 'clip.ism'), amsServerManifest('clip_320x240_400.mp4'));

      const reg = await api.put(`${V}/storage/miosergio`, { spec: { type: 'Local', path: dir, description: 'studio disk' } }, { contract: false });
      assert.equal(reg.status, 201, reg.text);
      assert.equal(reg.body.metadata.name, 'miosergio');

      const kbBody = { properties: { container: 'boulder2', description: '', storageAccountName: 'miosergio' } };
      const created = await api.put(`${L}/assets/boulder2`, kbBody);
      assert.equal(created.status, 201, created.text);
      assert.equal(created.body.name, 'boulder2');
      assert.equal(created.body.properties.container, 'boulder2');
      assert.equal(created.body.properties.storageAccountName, 'miosergio');
      assert.equal(created.body.type, 'Microsoft.Media/mediaservices/assets');
      assert.match(created.body.properties.created, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
      assert.equal(created.body.systemData.createdBy, server.adminEmail);

      const again = await api.put(`${L}/assets/boulder2`, { properties: { ...kbBody.properties, description: 'climbing' } });
      assert.equal(again.status, 200);
      assert.equal(again.body.properties.description, 'climbing');

      const list = await api.get(`${L}/assets`);
      assert.equal(list.status, 200);
      assert.deepEqual(
        list.body.value.map((a: { name: string }) => a.name),
        ['boulder2'],
      );
      assert.equal(list.body.supplemental.pagination.total, 1);

      const v1 = await api.withToken((api as unknown as { auth: { token: string } }).auth.token, 'bearer').get(`${V}/assets/boulder2`);
      assert.equal(v1.status, 200);
      assert.equal(v1.body.properties.description, 'climbing');

      const storage = await api.get(`${L}/assets/boulder2/storage/`);
      assert.equal(storage.status, 200, storage.text);
      assert.deepEqual(storage.body.spec.folders, [{ name: 'thumbs' }]);
      const files = Object.fromEntries(storage.body.spec.files.map((f: { name: string; size: number }) => [f.name, f.size]));
      assert.equal(files['clip_320x240_400.mp4'], fs.statSync(mp4).size);
      const ism = storage.body.spec.tracks['clip.ism'];
      assert.equal(ism.head.formats, 'mp4-v3');
      assert.equal(ism.body.audio[0].systemLanguage, 'eng');
      const info = storage.body.spec.mediaInfo['clip_320x240_400.mp4'];
      const video = info.tracks.find((t: { type: string }) => t.type === 'video');
      const audio = info.tracks.find((t: { type: string }) => t.type === 'audio');
      assert.equal(video.codec, 'h264');
      assert.equal(video.width, 320);
      assert.equal(video.height, 240);
      assert.equal(video.frameRate, 25);
      assert.ok(video.bitrateBps > 50_000 && video.bitrateBps < 2_000_000, `video bitrate ${video.bitrateBps}`);
      assert.equal(audio.codec, 'aac');
      assert.equal(audio.language, 'eng');
      assert.equal(audio.sampleRateHz, 48000);
      assert.ok(Math.abs(info.durationSec - 2) < 0.2, `duration ${info.durationSec}`);

      // A second asset over a folder of the same container sees only that folder.
      fs.writeFileSync(path.join(dir, 'boulder2', 'thumbs', 'poster.jpg'), 'jpg');
      const sub = await api.put(`${L}/assets/boulder2-thumbs`, { properties: { container: 'boulder2', subPath: 'thumbs', storageAccountName: 'miosergio' } });
      assert.equal(sub.status, 201, sub.text);
      const subStorage = await api.get(`${L}/assets/boulder2-thumbs/storage/`);
      assert.deepEqual(subStorage.body.spec.files, [{ name: 'poster.jpg', size: 3 }]);
      assert.equal((await api.put(`${L}/assets/boulder2-again`, kbBody)).status, 409, 'container already used by boulder2');
      assert.equal((await api.delete(`${L}/assets/boulder2-thumbs`)).status, 200);
      assert.ok(fs.existsSync(path.join(dir, 'boulder2', 'thumbs', 'poster.jpg')), 'Retain keeps the files');

      const stats = await api.get(`${L}/stats/`, { contract: false });
      assert.equal(stats.body.assets.total, 1);
      assert.equal(stats.body.storageAccounts.total, 2);
    });

    it('migrates an asset from an Azure container registered by SAS URL (Azurite)', async () => {
      const container = `mig-${dialect}-${Date.now()}`;
      const containerClient = new ContainerClient(`${azuriteUrl()}/${container}${azuriteSas()}`);
      await containerClient.create();
      await containerClient.getBlockBlobClient('video.mp4').uploadFile(mp4);

      const sasUrl = `${azuriteUrl()}${azuriteSas()}`;
      const reg = await api.put(`${V}/storage/azurite`, { spec: { type: 'Microsoft.Storage', url: sasUrl, description: 'azurite' } }, { checkRequest: false });
      assert.equal(reg.status, 201, reg.text);
      // The SAS signature is a secret: sanitized on the way out, never logged.
      const sig = new URLSearchParams(azuriteSas().slice(1)).get('sig') as string;
      assert.ok(sig.length > 10);
      assert.ok(!reg.text.includes(sig), 'SAS signature returned');
      assert.equal(reg.body.spec.url, azuriteUrl());
      assert.match(reg.body.spec.credential.sasToken, /^\?/);
      assert.ok(!reg.body.spec.credential.sasToken.includes('sig='));

      const created = await api.put(`${L}/assets/from-azure`, { properties: { container, description: '', storageAccountName: 'azurite' } });
      assert.equal(created.status, 201, created.text);
      const storage = await api.get(`${L}/assets/from-azure/storage/`);
      assert.equal(storage.body.spec.files[0].name, 'video.mp4');
      assert.equal(storage.body.spec.mediaInfo['video.mp4'].tracks[0].codec, 'h264');

      // Files come back through a time-limited signed URL, with Range support.
      const access = await api.post(`${L}/assets/from-azure/getFileAccessInfo`);
      assert.equal(access.status, 200);
      const ranged = await fetch(`${access.body.url}/video.mp4`, { headers: { authorization: `Bearer ${access.body.jwt}`, range: 'bytes=100-199' } });
      assert.equal(ranged.status, 206);
      assert.equal(sha256(Buffer.from(await ranged.arrayBuffer())), sha256(fs.readFileSync(mp4).subarray(100, 200)));
      const unsigned = await fetch(`${access.body.url}/video.mp4`);
      assert.equal(unsigned.status, 400);

      // The list holds Local accounts too (a Reel extension MK.IO's schema doesn't know): check the others one by one.
      const list = await api.get(`${V}/storage`, { contract: false });
      const azure = list.body.value.filter((s: { spec: { type: string } }) => s.spec.type !== 'Local');
      assert.equal(azure.length, 1);
      for (const item of azure) assertMkioSchema('media', 'StorageSchemaGet', item);
      assertMkioSchema('media', 'StorageListSchema_v1', { ...list.body, value: azure });
      const text = JSON.stringify(list.body);
      assert.ok(!text.includes(sig));
      assert.ok(!server.logs().includes(sig), 'SAS signature logged');
    });

    it('creates a container when none is given, uploads a file through a signed URL, and deletes by policy', async () => {
      const created = await api.put(`${V}/assets/upload-target`, {
        properties: { storageAccountName: 'local', containerDeletionPolicy: 'Delete' },
        labels: { studio: 'north' },
      });
      assert.equal(created.status, 201, created.text);
      const container = created.body.properties.container as string;
      assert.equal(container, `asset-${created.body.properties.assetId}`);

      const upload = await api.post(`${V}/assets/upload-target/getUploadUrl`, { fileName: 'in/source.mp4' }, { contract: false });
      assert.equal(upload.status, 200, upload.text);
      const bytes = fs.readFileSync(mp4);
      const put = await fetch(upload.body.url, { method: 'PUT', body: bytes });
      assert.equal(put.status, 201, await put.text());
      const storage = await api.get(`${V}/assets/upload-target/storage/`);
      assert.deepEqual(storage.body.spec.folders, [{ name: 'in' }]);

      const access = await api.post(`${V}/assets/upload-target/getFileAccessInfo`);
      const whole = await fetch(`${access.body.url}/in/source.mp4?token=${access.body.jwt}`);
      assert.equal(sha256(Buffer.from(await whole.arrayBuffer())), sha256(bytes));

      // An upload URL is for one file only.
      const other = upload.body.url.replace('in/source.mp4', 'in/other.mp4');
      assert.equal((await fetch(other, { method: 'PUT', body: 'x' })).status, 403);

      const del = await api.delete(`${V}/assets/upload-target`);
      assert.equal(del.status, 200);
      assert.ok(!fs.existsSync(path.join(server.dataDir, 'storage', 'default', container)), 'container should be deleted under the Delete policy');
      assert.equal((await api.delete(`${V}/assets/upload-target`)).status, 204);
    });

    it('pages, sorts and filters asset lists', async () => {
      for (let i = 0; i < 12; i++) {
        const r = await api.put(`${V}/assets/page-${String(i).padStart(2, '0')}`, {
          properties: { storageAccountName: 'local' },
          labels: { batch: i % 2 ? 'odd' : 'even' },
        });
        assert.equal(r.status, 201);
      }
      const first = await api.get(`${V}/assets?$top=5&$orderby=name desc&$filter=name ge 'page-'`);
      assert.deepEqual(
        first.body.value.map((a: { name: string }) => a.name),
        ['page-11', 'page-10', 'page-09', 'page-08', 'page-07'],
      );
      assert.equal(first.body.supplemental.pagination.total, 12);
      const next = first.body['@odata.nextLink'] as string;
      assert.match(next, /^\/api\/v1\/projects\/default\/media\/assets\?.*\$skiptoken=5/);
      const second = await api.get(next);
      assert.deepEqual(
        second.body.value.map((a: { name: string }) => a.name),
        ['page-06', 'page-05', 'page-04', 'page-03', 'page-02'],
      );
      const third = await api.get(second.body['@odata.nextLink']);
      assert.equal(third.body.value.length, 2);
      assert.equal(third.body['@odata.nextLink'], undefined);

      const exact = await api.get(`${L}/assets?$filter=name eq 'page-03'`);
      assert.deepEqual(
        exact.body.value.map((a: { name: string }) => a.name),
        ['page-03'],
      );
      const odd = await api.get(`${L}/assets?$label=batch=odd&$filter=name ge 'page-'`);
      assert.equal(odd.body.value.length, 6);
      const byTime = await api.get(`${L}/assets?$filter=properties/created gt 2000-01-01T00:00:00Z and name lt 'page-02'&$orderby=properties/created`);
      assert.deepEqual(
        byTime.body.value.map((a: { name: string }) => a.name).filter((n: string) => n.startsWith('page-')),
        ['page-00', 'page-01'],
      );
      const bad = await api.get(`${L}/assets?$filter=color eq 'red'`);
      assert.equal(bad.status, 400);
      assert.match(bad.body.error.detail, /color/);
    });

    it('rejects bad input with clear errors and leaves nothing half-created', async () => {
      const before = (await api.get(`${V}/assets?$top=1000`)).body.supplemental.pagination.total;
      const cases: Array<[string, unknown, number, RegExp]> = [
        ['no-such-account', { properties: { storageAccountName: 'nope', container: 'abc' } }, 400, /Storage account 'nope' not found/],
        ['no-such-container', { properties: { storageAccountName: 'local', container: 'does-not-exist' } }, 400, /Container 'does-not-exist' not found/],
        ['bad-container', { properties: { storageAccountName: 'local', container: 'Bad_Name' } }, 400, /container|pattern/i],
        ['escape', { properties: { storageAccountName: 'local', subPath: '../../etc' } }, 400, /subPath/],
        ['unknown-field', { properties: { storageAccountName: 'local', colour: 'red' } }, 400, /colour/],
        ['no-account', { properties: { description: 'x' } }, 400, /storageAccountName is required/],
      ];
      for (const [name, body, status, pattern] of cases) {
        const r = await api.put(`${V}/assets/${name}`, body, { checkRequest: false });
        assert.equal(r.status, status, `${name}: ${r.text}`);
        assert.match(r.body.error.detail, pattern, name);
        assert.equal(r.body.status, status);
        assert.equal(typeof r.body.ref, 'string');
      }
      const badName = await api.put(`${V}/assets/bad%3Cname%3E`, { properties: { storageAccountName: 'local' } });
      assert.equal(badName.status, 400);
      const badJson = await api.call('PUT', `${V}/assets/x1`, '{"properties":', { contract: false });
      assert.equal(badJson.status, 400);
      assert.equal((await api.get(`${V}/assets?$top=1000`)).body.supplemental.pagination.total, before);
      // Dirs of generated containers are not left behind by failed creates.
      const missing = await api.get(`${V}/assets/never-made`);
      assert.equal(missing.status, 404);
      assert.match(missing.body.error.detail, /not found/);

      // Create-time-only fields can't change on update.
      await api.put(`${V}/assets/fixed`, { properties: { storageAccountName: 'local' } });
      const change = await api.put(`${V}/assets/fixed`, { properties: { storageAccountName: 'local', container: 'other-container' } });
      assert.equal(change.status, 400);
      assert.match(change.body.error.detail, /container cannot be changed/);

      // Path tricks on signed file URLs and storage registration.
      const upload = await api.post(`${V}/assets/fixed/getUploadUrl`, { fileName: '../escape.mp4' }, { contract: false });
      assert.equal(upload.status, 400);
      const outside = await api.put(`${V}/storage/outside`, { spec: { type: 'Local', path: '/etc' } }, { contract: false });
      assert.equal(outside.status, 400);
      assert.match(outside.body.error.detail, /could not be reached|allowed|outside/i);
      const wrongSas = await api.put(`${V}/storage/wrong-sas`, {
        spec: { type: 'Microsoft.Storage', url: azuriteUrl(), credential: { sasToken: '?sv=2022-11-02&ss=b&srt=sco&sp=rl&se=2099-01-01T00:00:00Z&sig=AAAA' } },
      });
      assert.equal(wrongSas.status, 400);
      assert.match(wrongSas.body.error.detail, /could not be reached or listed/);
      assert.equal((await api.get(`${V}/storage/wrong-sas`)).status, 404);
      const inUse = await api.delete(`${V}/storage/local`);
      assert.equal(inUse.status, 409);
    });

    it('manages personal tokens: create, use, list, revoke takes effect on the next request', async () => {
      const browser = new ApiClient(server.url, { cookie });
      const profile = await browser.get('/api/v1/user/profile');
      assert.equal(profile.body.spec.loginEmail, server.adminEmail);
      const orgId = profile.body.spec.activeOrganizationId as string;
      const created = await browser.post('/api/v1/user/tokens', { type: 'full-access', organizationId: orgId, description: 'CI' });
      assert.equal(created.status, 201, created.text);
      const jwt = created.body.metadata.JWT as string;
      const id = created.body.metadata.id as string;
      const ci = new ApiClient(server.url).withToken(jwt, 'bearer');
      assert.equal((await ci.get(`${V}/assets?$top=1`)).status, 200);

      const listed = await browser.get('/api/v1/user/tokens');
      const mine = listed.body.value.find((t: { metadata: { id: string } }) => t.metadata.id === id);
      assert.equal(mine.spec.description, 'CI');
      assert.equal(mine.metadata.JWT, undefined, 'the secret is shown once');
      assert.ok(!listed.text.includes(jwt));

      const tooLong = await browser.post('/api/v1/user/tokens', {
        type: 'full-access',
        organizationId: orgId,
        expireDate: new Date(Date.now() + 400 * 86400_000).toISOString(),
      });
      assert.equal(tooLong.status, 400);

      assert.equal((await browser.delete(`/api/v1/user/tokens/${id}`)).status, 200);
      const after = await ci.get(`${V}/assets?$top=1`);
      assert.equal(after.status, 401);
      const anonymous = await new ApiClient(server.url).get(`${V}/assets`);
      assert.equal(anonymous.status, 401);

      const orgs = await browser.get('/api/v1/user/organizations');
      assert.equal(orgs.body.value[0].metadata.name, 'default');
      assert.equal(userId, profile.body.metadata.id);
    });

    it('isolates organizations and enforces roles', async () => {
      const accounts = new AccountService(server.reel.db);
      const org = await accounts.createOrganization(`rival-${dialect}`);
      await accounts.createProject(org.id, `rival-project-${dialect}`);
      const rival = await accounts.createUser(`rival-${dialect}@example.com`, 'rival password 1');
      await accounts.addMember(rival.id, org.id, 'Admin');
      const rivalCookie = await login(server.url, `rival-${dialect}@example.com`, 'rival password 1');
      const rivalApi = new ApiClient(server.url).withToken((await tokenFromSession(server.url, rivalCookie)).token);
      for (const p of [`${L}/assets`, `${L}/assets/boulder2`, `${V}/storage`, `${L}/assets/boulder2/storage/`]) {
        const r = await rivalApi.get(p);
        assert.equal(r.status, 404, `${p} must not be visible to another organization`);
      }
      assert.equal((await rivalApi.get(`/api/ams/rival-project-${dialect}/assets`)).status, 200);
      assert.equal((await api.get(`/api/ams/rival-project-${dialect}/assets`)).status, 404);

      const defaultOrg = (await new ApiClient(server.url, { cookie }).get('/api/v1/user/profile')).body.spec.activeOrganizationId;
      const reader = await accounts.createUser(`reader-${dialect}@example.com`, 'reader password 1');
      await accounts.addMember(reader.id, defaultOrg, 'Reader');
      const readerApi = new ApiClient(server.url).withToken(
        (await tokenFromSession(server.url, await login(server.url, `reader-${dialect}@example.com`, 'reader password 1'))).token,
      );
      assert.equal((await readerApi.get(`${L}/assets`)).status, 200);
      const denied = await readerApi.put(`${L}/assets/reader-made`, { properties: { storageAccountName: 'local' } });
      assert.equal(denied.status, 403);
      assert.equal((await api.get(`${L}/assets/reader-made`)).status, 404);
    });

    it("switches a signed-in session between the user's organizations with PATCH /api/v1/user/profile", async () => {
      const accounts = new AccountService(server.reel.db);
      const second = await accounts.createOrganization(`second-${dialect}`);
      await accounts.createProject(second.id, `second-project-${dialect}`);
      const user = await accounts.createUser(`two-orgs-${dialect}@example.com`, 'two orgs password');
      const home = (await new ApiClient(server.url, { cookie }).get('/api/v1/user/profile')).body.spec.activeOrganizationId as string;
      await accounts.addMember(user.id, home, 'Contributor');
      await accounts.addMember(user.id, second.id, 'Admin');
      const session = new ApiClient(server.url, { cookie: await login(server.url, `two-orgs-${dialect}@example.com`, 'two orgs password') });
      assert.equal((await session.get('/api/v1/user/profile')).body.spec.activeOrganizationId, home);
      assert.equal((await session.get(`/api/ams/second-project-${dialect}/assets`)).status, 404, 'not the active organization yet');

      const switched = await session.patch('/api/v1/user/profile', { spec: { activeOrganizationId: second.id } });
      assert.equal(switched.status, 200, switched.text);
      assert.equal(switched.body.spec.activeOrganizationId, second.id);
      assert.equal((await session.get('/api/v1/user/profile')).body.spec.activeOrganizationId, second.id);
      assert.equal((await session.get(`/api/ams/second-project-${dialect}/assets`)).status, 200);
      assert.equal((await session.get(`${L}/assets`)).status, 404, "the first organization's project is out of scope now");

      const outsider = await session.patch('/api/v1/user/profile', { spec: { activeOrganizationId: '00000000-0000-4000-8000-00000000dead' } });
      assert.equal(outsider.status, 400);
      assert.equal(outsider.body.error.code, 'InvalidOrganization');
      const unknownField = await session.patch('/api/v1/user/profile', { spec: { shoeSize: 44 } }, { checkRequest: false });
      assert.equal(unknownField.status, 400);
      assert.equal((await session.get('/api/v1/user/profile')).body.spec.activeOrganizationId, second.id, 'a refused change changes nothing');
    });

    it('keeps a browser session working with a stale duplicate cookie, and slows repeated failed logins', async () => {
      const res = await fetch(`${server.url}/auth/token/`, { headers: { cookie: `reel_session=stale-value; ${cookie}` } });
      assert.equal(res.status, 200);
      const noSession = await fetch(`${server.url}/auth/token/`);
      assert.equal(noSession.status, 401);
      assert.equal(((await noSession.json()) as { error: { code: string } }).error.code, 'Unauthorized');

      const attempt = () =>
        fetch(`${server.url}/auth/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ email: 'victim@example.com', password: 'guess' }),
        });
      const statuses: number[] = [];
      for (let i = 0; i < 7; i++) statuses.push((await attempt()).status);
      assert.deepEqual(statuses.slice(0, 5), [401, 401, 401, 401, 401]);
      assert.equal(statuses[6], 429);
    });

    it('serves its OpenAPI document and validated a real number of responses against MK.IO', async () => {
      const doc = (await (await fetch(`${server.url}/doc/openapi.json`)).json()) as { paths: Record<string, unknown> };
      assert.ok(doc.paths['/api/ams/{project}/assets/{name}']);
      assert.ok(doc.paths['/api/v1/projects/{project}/media/storage/{name}']);
      assert.equal((await fetch(`${server.url}/doc/ui/`)).status, 200);
      assert.equal((await fetch(`${server.url}/health`)).status, 200);
      assert.ok(contractStats.responses > 40, `only ${contractStats.responses} responses checked`);
    });
  });
}
