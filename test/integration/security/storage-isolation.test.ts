import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ContainerClient } from '@azure/storage-blob';
import { dialects, startTestServer, type TestServer } from '../../support/server.js';
import { setUpTenants, type Tenant } from '../../support/tenants.js';
import { azuriteSas, azuriteUrl, s3Config } from '../../support/services.js';
import { newId } from '../../../src/shared/ids.js';
import { FileGrants } from '../../../src/storage/file-grants.js';

/** Every file under `dir` with its bytes, to prove a victim's files are untouched. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, e.name);
      if (e.isDirectory()) walk(full);
      else out[path.relative(dir, full)] = fs.readFileSync(full).toString('base64');
    }
  };
  walk(dir);
  return out;
}

for (const dialect of dialects) {
  describe(`storage isolation between projects on ${dialect}`, () => {
    let server: TestServer;
    let a: Tenant;
    let b: Tenant;
    /** Tenant a's embedded `local` account lives at `<dataDir>/storage/default`; its asset `victim` is there. */
    let aArea: string;
    let victimDir: string;
    const tag = `iso${dialect}`;

    /** A directory outside the roots that the operator grants to project b only. */
    let granted: string;

    before(async () => {
      granted = fs.mkdtempSync(path.join(os.tmpdir(), 'reel-grant-'));
      server = await startTestServer(dialect, { REEL_LOCAL_STORAGE_GRANTS: `rival-${tag}=${granted}` });
      ({ a, b } = await setUpTenants(server, tag));
      aArea = server.localArea('default', path.join(server.dataDir, 'storage'));
      victimDir = path.join(aArea, 'victim');
      fs.mkdirSync(path.join(victimDir, 'clips'), { recursive: true });
      fs.writeFileSync(path.join(victimDir, 'secret.txt'), 'tenant a secret bytes');
      fs.writeFileSync(path.join(victimDir, 'clips', 'movie.mp4'), Buffer.from('not really a movie'));
      const created = await a.admin.api.put(`${a.v1}/assets/victim`, {
        properties: { storageAccountName: 'local', container: 'victim', containerDeletionPolicy: 'Delete' },
      });
      assert.equal(created.status, 201, created.text);
    });
    after(async () => {
      await server?.close();
      fs.rmSync(granted, { recursive: true, force: true });
    });

    it("refuses a Local account of project b over a's area, a root, '..' tricks or a symlink into a's area", async () => {
      const before = snapshot(aArea);
      const bArea = server.localArea(b.projectName);
      fs.mkdirSync(bArea, { recursive: true });
      fs.symlinkSync(aArea, path.join(bArea, 'link'));
      const attempts = [
        aArea,
        victimDir,
        path.join(server.dataDir, 'storage'),
        server.storageRoot,
        server.localArea('default'),
        `${bArea}/../default`,
        `${path.join(server.dataDir, 'storage', b.projectName)}/../default`,
        path.join(bArea, 'link'),
        path.join(bArea, 'link', 'victim'),
        path.join(bArea, 'link', 'not-yet-there'),
      ];
      for (const [i, dir] of attempts.entries()) {
        const name = `grab${i}`;
        const res = await b.admin.api.put(`${b.v1}/storage/${name}`, { spec: { type: 'Local', path: dir } }, { contract: false });
        assert.equal(res.status, 400, `${dir}: ${res.text}`);
        assert.equal(res.body.error.code, 'InvalidStoragePath', dir);
        assert.match(res.body.error.detail, /spec\.path/);
        assert.equal((await b.admin.api.get(`${b.v1}/storage/${name}`, { contract: false })).status, 404, 'nothing half-created');
      }
      assert.equal(fs.existsSync(path.join(aArea, 'not-yet-there')), false, 'no directory created through the link');
      assert.deepEqual(snapshot(aArea), before, "a's files are untouched");

      // The same request inside b's own area works, in either root: the rule confines, it does not forbid.
      const own = await b.admin.api.put(`${b.v1}/storage/own`, { spec: { type: 'Local', path: path.join(bArea, 'media') } }, { contract: false });
      assert.equal(own.status, 201, own.text);
      const ownFirstRoot = await b.admin.api.put(
        `${b.v1}/storage/own2`,
        { spec: { type: 'Local', path: server.localArea(b.projectName, path.join(server.dataDir, 'storage')) } },
        { contract: false },
      );
      assert.equal(ownFirstRoot.status, 201, ownFirstRoot.text);
    });

    it('lets a granted directory be used by its project only', async () => {
      const mine = await b.admin.api.put(`${b.v1}/storage/granted`, { spec: { type: 'Local', path: path.join(granted, 'media') } }, { contract: false });
      assert.equal(mine.status, 201, mine.text);
      const theirs = await a.admin.api.put(`${a.v1}/storage/granted`, { spec: { type: 'Local', path: path.join(granted, 'media') } }, { contract: false });
      assert.equal(theirs.status, 400, theirs.text);
      assert.equal(theirs.body.error.code, 'InvalidStoragePath');
    });

    it("an account made before the fix that points into a's area can neither read, write nor delete a's files", async () => {
      const before = snapshot(aArea);
      // As an old install would hold them: b's account over a's directory, and b's asset over a's container.
      const now = new Date().toISOString();
      const accountId = newId();
      await server.reel.db
        .insertInto('storage_accounts')
        .values({
          id: accountId,
          project_id: b.projectId,
          name: 'legacy',
          type: 'Local',
          description: '',
          location: 'local',
          config: JSON.stringify({ path: aArea }),
          created_at: now,
          created_by: b.admin.email,
          created_by_id: b.admin.userId,
          updated_at: now,
          updated_by: b.admin.email,
          updated_by_id: b.admin.userId,
        })
        .execute();
      await server.reel.db
        .insertInto('assets')
        .values({
          id: newId(),
          project_id: b.projectId,
          name: 'stolen',
          storage_account_id: accountId,
          storage_account_name: 'legacy',
          container: 'victim',
          sub_path: null,
          description: '',
          alternate_id: null,
          container_deletion_policy: 'Delete',
          storage_encryption_format: 'None',
          labels: '{}',
          created_at: now,
          created_by: b.admin.email,
          updated_at: now,
          updated_by: b.admin.email,
        })
        .execute();

      const listing = await b.admin.api.get(`${b.v1}/assets/stolen/storage/`, { contract: false });
      assert.ok(listing.status >= 400, listing.text);
      assert.doesNotMatch(listing.text, /secret\.txt|movie\.mp4/);

      const access = await b.admin.api.post(`${b.v1}/assets/stolen/getFileAccessInfo`, undefined, { contract: false });
      if (access.status === 200) {
        const read = await fetch(`${access.body.url}/secret.txt`, { headers: { authorization: `Bearer ${access.body.jwt}` } });
        const text = await read.text();
        assert.ok(read.status >= 400, `read through the old account: ${read.status}`);
        assert.doesNotMatch(text, /tenant a secret bytes/);
      }
      const upload = await b.admin.api.post(`${b.v1}/assets/stolen/getUploadUrl`, { fileName: 'secret.txt' }, { contract: false });
      if (upload.status === 200) {
        const put = await fetch(upload.body.url, { method: 'PUT', body: 'overwritten by b' });
        assert.ok(put.status >= 400, `write through the old account: ${put.status}`);
      }
      // File URLs signed before the upgrade (made here with the server's own key) are refused too.
      const grants = new FileGrants(fs.readFileSync(path.join(server.dataDir, 'secret.key'), 'utf8').trim());
      const expires = Math.floor(Date.now() / 1000) + 600;
      const oldRead = await fetch(
        `${server.url}/files/${accountId}/victim/secret.txt?token=${grants.sign({ a: accountId, c: 'victim', p: '', m: 'r', e: expires })}`,
      );
      const oldReadText = await oldRead.text();
      assert.equal(oldRead.status, 400, oldReadText);
      assert.doesNotMatch(oldReadText, /tenant a secret bytes/);
      const oldWrite = await fetch(
        `${server.url}/files/${accountId}/victim/secret.txt?token=${grants.sign({ a: accountId, c: 'victim', p: 'secret.txt', m: 'w', e: expires })}`,
        { method: 'PUT', body: 'overwritten by b' },
      );
      assert.equal(oldWrite.status, 400, await oldWrite.text());

      const newAsset = await b.admin.api.put(
        `${b.v1}/assets/stolen2`,
        { properties: { storageAccountName: 'legacy', container: 'victim' } },
        { contract: false },
      );
      assert.ok(newAsset.status >= 400, newAsset.text);

      // Deleting b's record (policy Delete) must not take a's container with it.
      const deleted = await b.admin.api.delete(`${b.v1}/assets/stolen`, { contract: false });
      assert.ok(deleted.status < 500, deleted.text);
      assert.deepEqual(snapshot(aArea), before, "a's files are untouched");
      await server.reel.db.deleteFrom('assets').where('project_id', '=', b.projectId).where('storage_account_id', '=', accountId).execute();
      await server.reel.db.deleteFrom('storage_accounts').where('id', '=', accountId).execute();
    });

    it('refuses an asset over a cloud container that another project already uses (Azure and S3)', async () => {
      const container = `shared-${tag}`;
      const azure = { type: 'Microsoft.Storage', url: azuriteUrl(), credential: { sasToken: azuriteSas() } };
      assert.equal((await a.admin.api.put(`${a.v1}/storage/az`, { spec: azure }, { checkRequest: false })).status, 201);
      // b spells the same account differently (trailing slash): still the same physical storage.
      assert.equal((await b.admin.api.put(`${b.v1}/storage/az`, { spec: { ...azure, url: `${azuriteUrl()}/` } }, { checkRequest: false })).status, 201);
      await new ContainerClient(`${azuriteUrl()}/${container}${azuriteSas()}`).create();
      assert.equal((await a.admin.api.put(`${a.v1}/assets/cloud`, { properties: { storageAccountName: 'az', container } })).status, 201);
      const grab = await b.admin.api.put(`${b.v1}/assets/grab`, { properties: { storageAccountName: 'az', container } }, { contract: false });
      assert.equal(grab.status, 409, grab.text);
      assert.equal(grab.body.error.code, 'ContainerInUseByAnotherProject');
      assert.doesNotMatch(grab.text, /'cloud'/, "the other project's asset is not named");
      assert.equal((await b.admin.api.get(`${b.v1}/assets/grab`, { contract: false })).status, 404, 'nothing half-created');

      const s3 = s3Config();
      const s3Spec = {
        type: 'AWS.S3',
        bucketName: s3.bucketName,
        endpoint: s3.endpoint,
        region: s3.region,
        credential: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
      };
      assert.equal((await a.admin.api.put(`${a.v1}/storage/s3`, { spec: s3Spec }, { checkRequest: false })).status, 201);
      assert.equal((await b.admin.api.put(`${b.v1}/storage/s3`, { spec: { ...s3Spec, endpoint: `${s3.endpoint}/` } }, { checkRequest: false })).status, 201);
      const made = await a.admin.api.put(`${a.v1}/assets/s3-owned`, { properties: { storageAccountName: 's3' } });
      assert.equal(made.status, 201, made.text);
      const s3Grab = await b.admin.api.put(
        `${b.v1}/assets/s3-grab`,
        { properties: { storageAccountName: 's3', container: made.body.properties.container } },
        { contract: false },
      );
      assert.equal(s3Grab.status, 409, s3Grab.text);
      assert.equal(s3Grab.body.error.code, 'ContainerInUseByAnotherProject');

      // The same project may still put two assets on one container (sub-paths), as before.
      assert.equal((await a.admin.api.put(`${a.v1}/assets/cloud-part`, { properties: { storageAccountName: 'az', container, subPath: 'part' } })).status, 201);
    });

    it('a Delete-policy asset never deletes a container another asset still uses, through any account or project', async () => {
      // Same project, two accounts over the same directory: deleting one asset keeps the other's files.
      const dir = server.localArea('default');
      fs.mkdirSync(path.join(dir, 'twin'), { recursive: true });
      fs.writeFileSync(path.join(dir, 'twin', 'keep.txt'), 'still needed');
      for (const name of ['disk1', 'disk2']) {
        assert.equal((await a.admin.api.put(`${a.v1}/storage/${name}`, { spec: { type: 'Local', path: dir } }, { contract: false })).status, 201);
      }
      assert.equal(
        (await a.admin.api.put(`${a.v1}/assets/twin1`, { properties: { storageAccountName: 'disk1', container: 'twin', containerDeletionPolicy: 'Delete' } }))
          .status,
        201,
      );
      assert.equal((await a.admin.api.put(`${a.v1}/assets/twin2`, { properties: { storageAccountName: 'disk2', container: 'twin' } })).status, 201);
      assert.equal((await a.admin.api.delete(`${a.v1}/assets/twin1`)).status, 200);
      assert.equal(fs.readFileSync(path.join(dir, 'twin', 'keep.txt'), 'utf8'), 'still needed');

      // Across projects: b's asset over the container (as an install from before the fix may hold one) keeps it.
      const container = `kept-${tag}`;
      await new ContainerClient(`${azuriteUrl()}/${container}${azuriteSas()}`).create();
      await new ContainerClient(`${azuriteUrl()}/${container}${azuriteSas()}`).uploadBlockBlob('b.txt', 'b data', 6);
      assert.equal(
        (await a.admin.api.put(`${a.v1}/assets/going`, { properties: { storageAccountName: 'az', container, containerDeletionPolicy: 'Delete' } })).status,
        201,
      );
      const bAccount = await server.reel.db
        .selectFrom('storage_accounts')
        .select('id')
        .where('project_id', '=', b.projectId)
        .where('name', '=', 'az')
        .executeTakeFirstOrThrow();
      const now = new Date().toISOString();
      await server.reel.db
        .insertInto('assets')
        .values({
          id: newId(),
          project_id: b.projectId,
          name: 'old-b',
          storage_account_id: bAccount.id,
          storage_account_name: 'az',
          container,
          sub_path: null,
          description: '',
          alternate_id: null,
          container_deletion_policy: 'Retain',
          storage_encryption_format: 'None',
          labels: '{}',
          created_at: now,
          created_by: b.admin.email,
          updated_at: now,
          updated_by: b.admin.email,
        })
        .execute();
      assert.equal((await a.admin.api.delete(`${a.v1}/assets/going`)).status, 200);
      assert.equal(await new ContainerClient(`${azuriteUrl()}/${container}${azuriteSas()}`).exists(), true, "b's container is kept");

      // With no other user, Delete still deletes.
      assert.equal(
        (await a.admin.api.put(`${a.v1}/assets/alone`, { properties: { storageAccountName: 'az', containerDeletionPolicy: 'Delete' } })).status,
        201,
      );
      const alone = (await a.admin.api.get(`${a.v1}/assets/alone`)).body.properties.container as string;
      assert.equal((await a.admin.api.delete(`${a.v1}/assets/alone`)).status, 200);
      assert.equal(await new ContainerClient(`${azuriteUrl()}/${alone}${azuriteSas()}`).exists(), false);
    });
  });
}
