import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { dialects, startTestServer, type TestServer } from '../support/server.js';
import { ApiClient } from '../support/api.js';
import { setUpTenants, type Tenant } from '../support/tenants.js';
import { AccountService } from '../../src/control/auth/account-service.js';
import { makeMp4 } from '../fixtures/media.js';

/**
 * What MK.IO's .NET client does before its first media call, against a real Reel: it checks that the token is
 * a JWT, reads the customer id from the profile and the subscription id from `stats/`, then lists subscriptions,
 * their usage and the locations; and the GUIDs and dates its models read. The server runs without a worker, so
 * a submitted job stays queued and its output asset pending for as long as the test needs.
 */

const guid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** ISO 8601 with a time and an offset: what Newtonsoft reads into a DateTime. */
const dateTime = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
/** The compact JWS form `JsonWebTokenHandler.CanReadToken` accepts. */
const jws = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

const decodePart = (part: string) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;

for (const dialect of dialects) {
  describe(`MK.IO client bootstrap on ${dialect}`, () => {
    let server: TestServer;
    let a: Tenant;
    let b: Tenant;
    /** Tenant a's admin with a Bearer token, as the .NET client sends it. */
    let client: ApiClient;

    before(async () => {
      server = await startTestServer(dialect, { REEL_ROLES: 'api,origin' });
      ({ a, b } = await setUpTenants(server, `boot-${dialect}`));
      client = new ApiClient(server.url).withToken(a.admin.token, 'bearer');
    });
    after(async () => {
      await server?.close();
    });

    it('issues tokens the client accepts as JWTs, and answers the calls it derives its ids from', async () => {
      const created = await a.admin.api.post('/api/v1/user/tokens', { type: 'full-access', organizationId: a.organizationId, description: 'client' });
      assert.equal(created.status, 201, created.text);
      for (const token of [a.admin.token, created.body.metadata.JWT as string]) {
        assert.match(token, jws);
        const [header, payload] = token.split('.') as [string, string];
        assert.equal(decodePart(header).typ, 'JWT');
        const claims = decodePart(payload);
        assert.match(String(claims.jti), guid);
        assert.equal(typeof claims.exp, 'number');
      }
      assert.match(created.body.metadata.id, guid);
      assert.match(created.body.spec.organizationId, guid);
      assert.match(created.body.spec.issued, dateTime);
      assert.match(created.body.spec.expires, dateTime);

      // Customer id: the profile's activeOrganizationId. Subscription id: stats' extra.subscription_id.
      const profile = await client.get('/api/v1/user/profile');
      assert.equal(profile.status, 200);
      assert.match(profile.body.metadata.id, guid);
      assert.equal(profile.body.spec.activeOrganizationId, a.organizationId);
      const stats = await client.get(`${a.legacy}/stats/`, { contract: false });
      assert.equal(stats.status, 200);
      assert.equal(stats.body.extra.subscription_id, a.projectId);
      assert.match(stats.body.extra.subscription_id, guid);

      const orgs = await client.get('/api/v1/user/organizations');
      assert.ok(orgs.body.value.every((o: { metadata: { id: string } }) => guid.test(o.metadata.id)));
      const tokens = await client.get('/api/v1/user/tokens');
      for (const t of tokens.body.value) {
        assert.match(t.metadata.id, guid);
        assert.match(t.spec.organizationId, guid);
        assert.match(t.spec.issued, dateTime);
        if (t.spec.lastUsed !== null) assert.ok(!Number.isNaN(Date.parse(t.spec.lastUsed)));
      }
    });

    it('lists the subscriptions (projects) of the customer, one subscription, and its usage', async () => {
      const location = (await client.get('/api/locations/', { contract: false })).body.items[0];

      const list = await client.get(`/api/accounts/${a.organizationId}/subscriptions/`, { contract: false });
      assert.equal(list.status, 200, list.text);
      assert.equal(list.body.kind, 'SubscriptionList');
      const mine = list.body.items.find((s: { metadata: { id: string } }) => s.metadata.id === a.projectId);
      assert.ok(mine, 'the project is one of the subscriptions');
      assert.ok(!list.text.includes(b.projectId) && !list.text.includes(b.projectName), 'no other organization shows');
      assert.match(mine.metadata.created, dateTime);
      assert.match(mine.metadata.updated, dateTime);
      assert.equal(mine.spec.name, a.projectName);
      assert.equal(mine.spec.customerId, a.organizationId);
      assert.equal(mine.spec.locationId, location.metadata.id);
      assert.equal(mine.spec.isActive, true);
      assert.equal(mine.spec.projectSubscriptionId, a.projectId);
      for (const field of ['createdById', 'productPublicationId', 'azureSubscriptionId']) assert.match(mine.spec[field], guid, field);

      const one = await client.get(`/api/accounts/${a.organizationId}/subscriptions/${a.projectId}/`, { contract: false });
      assert.equal(one.status, 200);
      assert.deepEqual(one.body, mine);

      const usage = await client.get(`/api/accounts/${a.organizationId}/subscriptions/${a.projectId}/usage/`, { contract: false });
      assert.equal(usage.status, 200, usage.text);
      assert.equal(usage.body.Kind, 'SubscriptionMeterUsage');
      assert.equal(usage.body.metadata.accountId, a.organizationId);
      assert.equal(usage.body.metadata.subscriptionId, a.projectId);
      assert.match(usage.body.metadata.start, /^\d{4}-\d{2}-01T00:00:00\.000000Z$/);
      assert.match(usage.body.metadata.end, dateTime);
      const items = usage.body.spec.items as Array<{ spec: { meterName: string; meterUnitName: string; total: number } }>;
      assert.deepEqual(
        items.map((i) => [i.spec.meterName, i.spec.meterUnitName]),
        [
          ['Encoding', 'Minutes'],
          ['Encoding SD', 'Minutes'],
          ['Encoding HD', 'Minutes'],
          ['Encoding UHD', 'Minutes'],
          ['Encoding Audio', 'Minutes'],
          ['Streaming Egress', 'GB'],
          ['Storage', 'GB'],
          ['Live Event', 'Hours'],
        ],
      );
      // Nothing encoded, streamed or live yet; the storage meter measures the project's assets now.
      for (const i of items) if (i.spec.meterName !== 'Storage') assert.equal(i.spec.total, 0, i.spec.meterName);
      assert.ok(usage.body.spec.items.every((i: { spec: { meterUnitId: string } }) => guid.test(i.spec.meterUnitId)));
    });

    it('offers the one location Reel has, legacy and v1', async () => {
      const legacy = await client.get('/api/locations/', { contract: false });
      assert.equal(legacy.status, 200);
      assert.equal(legacy.body.kind, 'LocationList');
      assert.equal(legacy.body.items.length, 1);
      const [item] = legacy.body.items;
      assert.match(item.metadata.id, guid);
      assert.equal(item.metadata.name, 'local');
      assert.equal(typeof item.metadata.displayName, 'string');

      const list = await client.get('/api/v1/locations', { contract: 'management' });
      assert.equal(list.status, 200);
      assert.deepEqual(
        list.body.value.map((l: { metadata: unknown }) => l.metadata),
        [item.metadata],
      );
      const one = await client.get('/api/v1/locations/local', { contract: 'management' });
      assert.equal(one.status, 200);
      assert.deepEqual(one.body, list.body.value[0]);
      assert.equal(one.body.spec.cloud.region.name, 'local');
      const unknown = await client.get('/api/v1/locations/francecentral', { contract: 'management' });
      assert.equal(unknown.status, 404);

      // The default streaming endpoint stands in that location.
      const endpoint = await client.get(`${a.legacy}/streamingEndpoints/default`);
      assert.equal(endpoint.body.location, 'local');
    });

    it("keeps organizations apart and answers 404 for ids it doesn't know", async () => {
      const other = new ApiClient(server.url).withToken(b.admin.token, 'bearer');
      const paths = [
        `/api/accounts/${a.organizationId}/subscriptions/`,
        `/api/accounts/${a.organizationId}/subscriptions/${a.projectId}/`,
        `/api/accounts/${a.organizationId}/subscriptions/${a.projectId}/usage/`,
        `/api/accounts/${b.organizationId}/subscriptions/${a.projectId}/`,
        `/api/accounts/${b.organizationId}/subscriptions/${a.projectId}/usage/`,
        `/api/accounts/${a.organizationId}/subscriptions/${a.projectId}/storage/`,
      ];
      for (const path of paths) {
        const res = await other.get(path, { contract: false });
        assert.equal(res.status, 404, `${path}: ${res.text}`);
        assert.equal(res.body.error.code, 'NotFound');
        assert.ok(!res.text.includes(a.projectName), `${path} names the other organization's project`);
      }
      // Its own subscriptions, and only those.
      const own = await other.get(`/api/accounts/${b.organizationId}/subscriptions/`, { contract: false });
      assert.deepEqual(
        own.body.items.map((s: { metadata: { id: string } }) => s.metadata.id),
        [b.projectId],
      );

      const unknownId = '6f1c2a8e-0d6b-4b8e-9d4e-3a0c6f1b2c3d';
      for (const path of [
        `/api/accounts/${unknownId}/subscriptions/`,
        `/api/accounts/${a.organizationId}/subscriptions/${unknownId}/`,
        `/api/accounts/${a.organizationId}/subscriptions/${unknownId}/usage/`,
        `/api/accounts/${a.organizationId}/subscriptions/not-a-guid/`,
        `/api/accounts/${a.organizationId}/subscriptions/a%00b/usage/`,
        `/api/accounts/a%00b/subscriptions/`,
      ]) {
        const res = await client.get(path, { contract: false });
        assert.equal(res.status, 404, `${path}: ${res.text}`);
      }

      // A restricted token sees the projects its permissions name.
      const accounts = new AccountService(server.reel.db);
      const hidden = await accounts.createProject(a.organizationId, `hidden-${dialect}`);
      const restricted = await a.restricted({ 'ams.asset': ['read'] });
      const seen = await restricted.api.get(`/api/accounts/${a.organizationId}/subscriptions/`, { contract: false });
      assert.equal(seen.status, 200);
      assert.deepEqual(
        seen.body.items.map((s: { metadata: { id: string } }) => s.metadata.id),
        [a.projectId],
      );
      assert.equal((await restricted.api.get(`/api/accounts/${a.organizationId}/subscriptions/${hidden.id}/`, { contract: false })).status, 404);
      assert.equal((await client.get(`/api/accounts/${a.organizationId}/subscriptions/${hidden.id}/`, { contract: false })).status, 200);

      // Without a token: 401 with the MK.IO error body.
      const anonymous = await new ApiClient(server.url).get(`/api/accounts/${a.organizationId}/subscriptions/`, { contract: false });
      assert.equal(anonymous.status, 401);
    });

    it('gives legacy storage accounts and credentials GUIDs where the client reads GUIDs', async () => {
      const base = `/api/accounts/${a.organizationId}/subscriptions/${a.projectId}/storage/`;
      const list = await client.get(base, { contract: false });
      assert.equal(list.status, 200, list.text);
      assert.ok(list.body.items.length >= 1);
      for (const account of list.body.items) {
        assert.match(account.metadata.id, guid);
        assert.equal(account.metadata.createdById, a.admin.userId);
        assert.equal(account.metadata.updatedById, a.admin.userId);
        assert.match(account.metadata.created, dateTime);
        assert.match(account.metadata.updated, dateTime);
        assert.ok(account.status.activeCredentialId === null || guid.test(account.status.activeCredentialId));
      }
      assert.ok(!list.text.includes(server.adminEmail), 'legacy ids are GUIDs, not e-mail addresses');
      const one = await client.get(`${base}${list.body.items[0].metadata.id}/`, { contract: false });
      assert.equal(one.status, 200);
      assert.equal(one.body.metadata.createdById, a.admin.userId);
    });

    it('counts every resource in stats and reports asset and locator states as they are', async () => {
      const accounts = new AccountService(server.reel.db);
      const project = await accounts.createProject(a.organizationId, `counted-${dialect}`);
      const P = `/api/ams/${project.name}`;
      const stats = async () => {
        const res = await client.get(`${P}/stats/`, { contract: false });
        assert.equal(res.status, 200, res.text);
        return res.body;
      };
      assert.deepEqual(await stats(), {
        assets: { total: 0 },
        contentKeyPolicies: { total: 0 },
        liveEvents: { running: 0, stopped: 0, total: 0 },
        storageAccounts: { total: 0 },
        streamingEndpoints: { running: 1, stopped: 0, total: 1 },
        streamingLocators: { total: 0 },
        streamingPolicies: { total: 6 },
        transforms: { total: 0 },
        jobs: { total: 0 },
        extra: { subscription_id: project.id },
      });

      const V = `/api/v1/projects/${project.name}/media`;
      fs.mkdirSync(path.join(server.localArea(project.name), 'source'), { recursive: true });
      const storage = await client.put(`${V}/storage/disk`, { spec: { type: 'Local', path: server.localArea(project.name) } }, { contract: false });
      assert.equal(storage.status, 201, storage.text);
      const source = await client.put(`${P}/assets/source`, { properties: { storageAccountName: 'disk', container: 'source' } });
      assert.equal(source.status, 201, source.text);
      const key = {
        properties: {
          options: [
            {
              name: 'clear',
              configuration: { '@odata.type': '#Microsoft.Media.ContentKeyPolicyClearKeyConfiguration' },
              restriction: { '@odata.type': '#Microsoft.Media.ContentKeyPolicyOpenRestriction' },
            },
          ],
        },
      };
      const policy = await client.put(`${P}/contentKeyPolicies/open`, key);
      assert.equal(policy.status, 201, policy.text);
      const custom = { properties: { noEncryption: { enabledProtocols: { download: false, dash: true, hls: true, smoothStreaming: false } } } };
      assert.equal((await client.put(`${P}/streamingPolicies/custom`, custom)).status, 201);
      const locator = await client.put(`${P}/streamingLocators/watch`, { properties: { assetName: 'source', streamingPolicyName: 'custom' } });
      assert.equal(locator.status, 201, locator.text);
      assert.equal((await client.put(`${P}/streamingEndpoints/spare`, { location: 'local', properties: { scaleUnits: 0 } })).status, 201);
      const preset = { '@odata.type': '#Microsoft.Media.BuiltInStandardEncoderPreset', presetName: 'H264SingleBitrate720p' };
      assert.equal((await client.put(`${P}/transforms/sd`, { properties: { outputs: [{ preset }] } })).status, 201);
      const job = await client.put(`${P}/transforms/sd/jobs/first`, {
        properties: {
          input: { '@odata.type': '#Microsoft.Media.JobInputAsset', assetName: 'source', files: ['*'] },
          outputs: [{ '@odata.type': '#Microsoft.Media.JobOutputAsset', assetName: 'encoded' }],
        },
      });
      assert.equal(job.status, 201, job.text);

      assert.deepEqual(await stats(), {
        assets: { total: 2 },
        contentKeyPolicies: { total: 1 },
        liveEvents: { running: 0, stopped: 0, total: 0 },
        storageAccounts: { total: 1 },
        streamingEndpoints: { running: 1, stopped: 1, total: 2 },
        streamingLocators: { total: 1 },
        streamingPolicies: { total: 7 },
        transforms: { total: 1 },
        jobs: { total: 1 },
        extra: { subscription_id: project.id },
      });

      // No worker runs here: the job waits, so its output asset is Pending until the job ends.
      const V2 = `/api/v1/projects/${project.name}/media`;
      const state = async (asset: string) => (await client.get(`${V2}/assets/${asset}/state`)).body.status.state;
      assert.equal(await state('source'), 'Ready');
      assert.equal(await state('encoded'), 'Pending');
      assert.equal((await client.post(`${P}/transforms/sd/jobs/first/cancelJob`)).status, 200);
      assert.equal((await client.get(`${P}/transforms/sd/jobs/first`)).body.properties.state, 'Canceled');
      assert.equal(await state('encoded'), 'Ready');

      const locatorState = await client.get(`${V2}/streamingLocators/watch/state`);
      assert.equal(locatorState.body.status.state, 'Created');
      const read = await client.get(`${P}/streamingLocators/watch`);
      assert.match(read.body.properties.streamingLocatorId, guid);
      assert.match(read.body.properties.created, dateTime);
      const asset = await client.get(`${P}/assets/source`);
      assert.match(asset.body.properties.assetId, guid);
      assert.match(asset.body.systemData.createdAt, dateTime);
      assert.match(policy.body.properties.policyId, guid);
    });

    it('measures encoding minutes in the usage report', async () => {
      const project = (await new AccountService(server.reel.db).findProject(`counted-${dialect}`))!;
      const P = `/api/ams/${project.name}`;
      const usagePath = `/api/accounts/${a.organizationId}/subscriptions/${project.id}/usage/`;
      const meterTotal = async (name: string) => {
        const usage = await client.get(usagePath, { contract: false });
        return usage.body.spec.items.find((i: { spec: { meterName: string } }) => i.spec.meterName === name).spec.total as number;
      };
      // The job canceled before it started encoded nothing.
      assert.equal(await meterTotal('Encoding'), 0);

      fs.copyFileSync(makeMp4(), path.join(server.localArea(project.name), 'source', 'clip.mp4'));
      const submitted = await client.put(`${P}/transforms/sd/jobs/second`, {
        properties: {
          input: { '@odata.type': '#Microsoft.Media.JobInputAsset', assetName: 'source', files: ['*'] },
          outputs: [{ '@odata.type': '#Microsoft.Media.JobOutputAsset', assetName: 'encoded-2' }],
        },
      });
      assert.equal(submitted.status, 201, submitted.text);
      // Now a worker takes the job and runs it to its end.
      await server.restart({ REEL_ROLES: 'api,origin,worker' });
      let job = (await client.get(`${P}/transforms/sd/jobs/second`)).body;
      while (!['Finished', 'Error', 'Canceled'].includes(job.properties.state)) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        job = (await client.get(`${P}/transforms/sd/jobs/second`)).body;
      }
      assert.equal(job.properties.state, 'Finished', JSON.stringify(job.properties.outputs));
      // One rendition of the 2 s source, 320×240 (never upscaled): 2 s of SD output.
      const minutes = await meterTotal('Encoding');
      assert.ok(Math.abs(minutes - 2 / 60) < 0.2 / 60, String(minutes));
      assert.equal(await meterTotal('Encoding SD'), minutes);
    });
  });
}
