import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { dialects, startTestServer, type TestServer } from '../support/server.js';
import { setUpTenants, type Tenant } from '../support/tenants.js';
import { AccountService } from '../../src/control/auth/account-service.js';

/**
 * Management API projects (issue 14): `GET /api/v1/projects`, `GET|PUT|PATCH|DELETE /api/v1/projects/{name}`,
 * answered in MK.IO's shapes (checked against its Management API document by ApiClient), per role and tenant.
 */
const guid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const paymentMethodId = '3f1c2b6e-7d7a-4c44-9d0e-2a1b5c6d7e8f';
const create = (displayName: string, extra: Record<string, unknown> = {}) => ({ displayName, locationName: 'local', paymentMethodId, ...extra });

for (const dialect of dialects) {
  describe(`Management API projects on ${dialect}`, () => {
    let server: TestServer;
    let a: Tenant;
    let b: Tenant;

    before(async () => {
      server = await startTestServer(dialect);
      ({ a, b } = await setUpTenants(server, `projects-${dialect}`));
    });
    after(async () => server?.close());

    it('lists the organization’s projects only, in MK.IO’s list shape', async () => {
      const list = await a.reader.api.get('/api/v1/projects');
      assert.equal(list.status, 200);
      assert.deepEqual(
        list.body.value.map((p: any) => p.spec.name),
        ['default'],
      );
      const [p] = list.body.value;
      assert.equal(p.metadata.id, a.projectId);
      assert.match(p.spec.locationId, guid);
      assert.equal(p.spec.locationName, 'local');
      assert.equal(p.spec.isActive, true);
      assert.equal(list.body.supplemental.pagination.total, 1);
      const rival = await b.reader.api.get('/api/v1/projects');
      assert.deepEqual(
        rival.body.value.map((p: any) => p.spec.name),
        [b.projectName],
      );
    });

    it('creates a project an Admin names, with its own local storage, and serves media in it at once', async () => {
      const made = await a.admin.api.put('/api/v1/projects/studio-one', create('Studio One'));
      assert.equal(made.status, 201, made.text);
      assert.equal(made.body.spec.name, 'studio-one');
      assert.equal(made.body.spec.displayName, 'Studio One');
      assert.equal(made.body.spec.assignedPaymentMethodId, paymentMethodId);
      assert.equal(made.body.metadata.createdById, a.admin.userId);
      assert.equal(made.body.metadata.createdByEmail, a.admin.email);
      assert.match(made.body.metadata.id, guid);

      const got = await a.contributor.api.get('/api/v1/projects/studio-one');
      assert.deepEqual(got.body, made.body);
      // Reel's embedded Local type is not in MK.IO's storage enum, so this one list is not contract-checked.
      const storage = await a.admin.api.get('/api/v1/projects/studio-one/media/storage', { contract: false });
      assert.deepEqual(
        storage.body.value.map((s: any) => [s.metadata.name, s.spec.type]),
        [['local', 'Local']],
      );
      const asset = await a.contributor.api.put('/api/ams/studio-one/assets/first', { properties: { storageAccountName: 'local' } });
      assert.equal(asset.status, 201, asset.text);
      assert.ok(fs.existsSync(path.join(server.dataDir, 'storage', 'studio-one')), 'the project has its own storage area');

      const names = (await a.admin.api.get('/api/v1/projects')).body.value.map((p: any) => p.spec.name);
      assert.deepEqual(names, ['default', 'studio-one']);
      // The other organization neither sees nor reaches it.
      assert.equal((await b.admin.api.get('/api/v1/projects/studio-one')).status, 404);
      assert.equal((await b.admin.api.get('/api/ams/studio-one/assets')).status, 404);
      assert.ok(!(await b.admin.api.get('/api/v1/projects')).body.value.some((p: any) => p.spec.name === 'studio-one'));
    });

    it('refuses a taken name (in any organization), a bad name, an unknown location or property, and creates nothing', async () => {
      const taken = await a.admin.api.put('/api/v1/projects/studio-one', create('Again'));
      assert.equal(taken.status, 409);
      const rivalTaken = await b.admin.api.put(`/api/v1/projects/${a.projectName}`, create('Mine'));
      assert.equal(rivalTaken.status, 409);
      for (const bad of ['Upper', 'a..b', '-edge', 'x_y', 'a'.repeat(64)]) {
        const res = await a.admin.api.put(`/api/v1/projects/${encodeURIComponent(bad)}`, create('Bad'), { contract: false });
        assert.equal(res.status, 400, `${bad}: ${res.text}`);
      }
      const where = await a.admin.api.put('/api/v1/projects/elsewhere', create('Elsewhere', { locationName: 'westeurope' }));
      assert.equal(where.status, 400);
      assert.match(where.body.error.detail ?? where.body.error.message, /locationName/);
      const extra = await a.admin.api.put('/api/v1/projects/extra', { ...create('Extra'), color: 'red' }, { checkRequest: false });
      assert.equal(extra.status, 400);
      const missing = await a.admin.api.put('/api/v1/projects/missing', { locationName: 'local' }, { checkRequest: false });
      assert.equal(missing.status, 400);
      assert.match(missing.text, /displayName/);
      // Without a payment method (Reel bills nobody) the project is made, with none assigned.
      const unpaid = await a.admin.api.put('/api/v1/projects/unpaid', { displayName: 'Unpaid', locationName: 'local' }, { checkRequest: false });
      assert.equal(unpaid.status, 201);
      assert.equal(unpaid.body.spec.assignedPaymentMethodId, null);
      for (const name of ['elsewhere', 'extra', 'missing']) {
        assert.equal((await a.admin.api.get(`/api/v1/projects/${name}`)).status, 404, `${name} was not created`);
      }
    });

    it('lets only an Admin create, edit and delete; Contributors and Readers read', async () => {
      for (const who of [a.contributor, a.reader]) {
        const put = await who.api.put(`/api/v1/projects/by-${who.role.toLowerCase()}`, create('Nope'));
        assert.equal(put.status, 403, put.text);
        assert.equal((await a.admin.api.get(`/api/v1/projects/by-${who.role.toLowerCase()}`)).status, 404);
        assert.equal((await who.api.patch('/api/v1/projects/studio-one', { metadata: { displayName: 'Hijacked' } })).status, 403);
        assert.equal((await who.api.delete('/api/v1/projects/unpaid', { contract: false })).status, 403);
        assert.equal((await who.api.get('/api/v1/projects/studio-one')).status, 200);
      }
      assert.equal((await a.admin.api.get('/api/v1/projects/studio-one')).body.spec.displayName, 'Studio One');
      assert.equal((await a.admin.api.get('/api/v1/projects/unpaid')).status, 200);
    });

    it('narrows a restricted token to the projects it holds grants on', async () => {
      const { api } = await a.restricted({ 'ams.asset': ['read'] });
      const list = await api.get('/api/v1/projects');
      assert.deepEqual(
        list.body.value.map((p: any) => p.spec.name),
        ['default'],
      );
      assert.equal((await api.get('/api/v1/projects/studio-one')).status, 404);
      assert.equal((await api.put('/api/v1/projects/by-token', create('Token'))).status, 403);
    });

    it('edits the display name and the active and hidden flags', async () => {
      const edited = await a.admin.api.patch('/api/v1/projects/studio-one', {
        metadata: { displayName: 'Studio 1' },
        spec: { isActive: false, isHidden: true },
      });
      assert.equal(edited.status, 200, edited.text);
      assert.equal(edited.body.spec.displayName, 'Studio 1');
      assert.equal(edited.body.metadata.displayName, 'Studio 1');
      assert.equal(edited.body.spec.isActive, false);
      assert.equal(edited.body.spec.isHidden, true);
      assert.deepEqual((await a.reader.api.get('/api/v1/projects/studio-one')).body.spec, edited.body.spec);
      const bad = await a.admin.api.patch('/api/v1/projects/studio-one', { spec: { isActive: 'no' } }, { checkRequest: false });
      assert.equal(bad.status, 400);
      assert.equal((await b.admin.api.patch('/api/v1/projects/studio-one', { spec: { isActive: true } })).status, 404);
    });

    it('pages, sorts and filters the list as OData options ask', async () => {
      const desc = await a.admin.api.get('/api/v1/projects?$orderby=name%20desc');
      assert.deepEqual(
        desc.body.value.map((p: any) => p.spec.name),
        ['unpaid', 'studio-one', 'default'],
      );
      const one = await a.admin.api.get("/api/v1/projects?$filter=name%20eq%20'unpaid'");
      assert.deepEqual(
        one.body.value.map((p: any) => p.spec.name),
        ['unpaid'],
      );
      const seen: string[] = [];
      let next: string | undefined = '/api/v1/projects?$top=1';
      while (next) {
        const page: any = await a.admin.api.get(next);
        assert.equal(page.status, 200);
        seen.push(...page.body.value.map((p: any) => p.spec.name));
        next = page.body['@odata.nextLink'];
      }
      assert.deepEqual(seen, ['default', 'studio-one', 'unpaid']);
      assert.equal((await a.admin.api.get('/api/v1/projects?$orderby=color')).status, 400);
    });

    it('refuses to delete a project holding assets, then deletes it and everything it held', async () => {
      const refused = await a.admin.api.delete('/api/v1/projects/studio-one', { contract: false });
      assert.equal(refused.status, 409);
      assert.equal(refused.body.error.code, 'ProjectInUse');
      assert.equal((await a.admin.api.get('/api/ams/studio-one/assets/first')).status, 200, 'nothing was deleted');
      // Another organization's admin cannot delete it, and learns nothing.
      assert.equal((await b.admin.api.delete('/api/v1/projects/studio-one', { contract: false })).status, 204);

      assert.equal((await a.admin.api.delete('/api/ams/studio-one/assets/first')).status, 200);
      await a.admin.api.put('/api/ams/studio-one/transforms/kept', {
        properties: { outputs: [{ preset: { '@odata.type': '#Microsoft.Media.BuiltInStandardEncoderPreset', presetName: 'H264SingleBitrate720p' } }] },
      });
      const deleted = await a.admin.api.delete('/api/v1/projects/studio-one', { contract: false });
      assert.equal(deleted.status, 200, deleted.text);
      assert.equal((await a.admin.api.get('/api/v1/projects/studio-one')).status, 404);
      assert.equal((await a.admin.api.get('/api/ams/studio-one/transforms')).status, 404);
      assert.equal((await a.admin.api.delete('/api/v1/projects/studio-one', { contract: false })).status, 204);
      for (const table of ['storage_accounts', 'transforms', 'streaming_endpoints', 'project_profiles'] as const) {
        const rows = await server.reel.db
          .selectFrom(table)
          .selectAll()
          .where('project_id', 'not in', server.reel.db.selectFrom('projects').select('id'))
          .execute();
        assert.equal(rows.length, 0, `${table} rows outlived their project`);
      }
      // The name is free again.
      assert.equal((await a.admin.api.put('/api/v1/projects/studio-one', create('Studio One again'))).status, 201);
    });

    it('keeps a deleted first-start project deleted across a restart', async () => {
      assert.equal((await a.admin.api.delete('/api/v1/projects/default', { contract: false })).status, 200);
      await server.restart();
      const accounts = new AccountService(server.reel.db);
      assert.equal(await accounts.findProject('default'), undefined, 'first boot did not run again');
      assert.equal((await a.admin.api.get('/api/v1/projects/default')).status, 404);
      assert.ok((await a.admin.api.get('/api/v1/projects')).body.value.length >= 2);
    });
  });
}
