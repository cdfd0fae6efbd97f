import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { dialects, startTestServer, type TestServer } from '../support/server.js';
import { ApiClient, login, tokenFromSession } from '../support/api.js';
import { AccountService } from '../../src/control/auth/account-service.js';
import { amsServerManifest, makeMp4 } from '../fixtures/media.js';

for (const dialect of dialects) {
  describe(`streaming endpoints, policies and locators on ${dialect}`, () => {
    let server: TestServer;
    let api: ApiClient;
    const V = '/api/v1/projects/default/media';
    const L = '/api/ams/default';

    before(async () => {
      server = await startTestServer(dialect);
      const cookie = await login(server.url, server.adminEmail, server.adminPassword);
      api = new ApiClient(server.url).withToken((await tokenFromSession(server.url, cookie)).token);
      const dir = path.join(server.localArea(), 'vod');
      fs.mkdirSync(path.join(dir, 'movie'), { recursive: true });
      fs.copyFileSync(makeMp4(), path.join(dir, 'movie', 'movie_320x240_400.mp4'));
      fs.writeFileSync(path.join(dir, 'movie', 'movie.ism'), amsServerManifest('movie_320x240_400.mp4'));
      assert.equal((await api.put(`${V}/storage/vod`, { spec: { type: 'Local', path: dir } }, { contract: false })).status, 201);
      assert.equal((await api.put(`${V}/assets/movie`, { properties: { storageAccountName: 'vod', container: 'movie' } })).status, 201);
    });
    after(async () => {
      await server?.close();
    });

    it('has a running default endpoint and manages others through their states', async () => {
      const list = await api.get(`${V}/streamingEndpoints`);
      assert.deepEqual(
        list.body.value.map((e: { name: string }) => e.name),
        ['default'],
      );
      assert.equal(list.body.value[0].properties.resourceState, 'Running');
      assert.match(list.body.value[0].properties.hostName, /^default-default\.localhost:\d+$/);

      const body = {
        location: 'local',
        tags: { team: 'video' },
        properties: { description: 'second', scaleUnits: 0, accessControl: { ip: { allow: [{ name: 'lo', address: '127.0.0.1', subnetPrefixLength: 8 }] } } },
      };
      const created = await api.put(`${V}/streamingEndpoints/second`, body);
      assert.equal(created.status, 201, created.text);
      assert.equal(created.body.properties.resourceState, 'Stopped');
      assert.equal((await api.put(`${V}/streamingEndpoints/second`, body)).status, 409);
      assert.equal((await api.post(`${V}/streamingEndpoints/second/start`)).status, 200);
      assert.equal((await api.get(`${V}/streamingEndpoints/second`)).body.properties.resourceState, 'Running');
      assert.equal((await api.post(`${V}/streamingEndpoints/second/scale`, { scaleUnit: 2 })).status, 200);
      const scaled = await api.get(`${L}/streamingEndpoints/second`);
      assert.equal(scaled.body.properties.scaleUnits, 2);
      assert.equal(scaled.body.properties.sku.name, 'Premium');
      assert.equal((await api.post(`${V}/streamingEndpoints/second/stop`)).status, 200);
      assert.equal((await api.get(`${V}/streamingEndpoints/second/state`, { contract: false })).body.status.state, 'Stopped');
      const patched = await api.patch(`${V}/streamingEndpoints/second`, { location: 'local', properties: { scaleUnits: 2, description: 'patched' } });
      assert.equal(patched.body.properties.description, 'patched');
      assert.equal((await api.put(`${V}/streamingEndpoints/bad_name!`, body)).status, 400);
      assert.equal((await api.delete(`${V}/streamingEndpoints/second`)).status, 200);
      assert.equal((await api.delete(`${V}/streamingEndpoints/second`)).status, 204);
    });

    it('lists predefined policies and manages custom ones', async () => {
      const list = await api.get(`${V}/streamingPolicies`);
      const names = list.body.value.map((p: { name: string }) => p.name);
      for (const n of [
        'Predefined_DownloadOnly',
        'Predefined_ClearStreamingOnly',
        'Predefined_DownloadAndClearStreaming',
        'Predefined_ClearKey',
        'Predefined_MultiDrmCencStreaming',
        'Predefined_MultiDrmStreaming',
      ]) {
        assert.ok(names.includes(n), n);
      }
      const custom = await api.put(`${V}/streamingPolicies/hls-only`, {
        properties: { noEncryption: { enabledProtocols: { download: false, dash: false, hls: true, smoothStreaming: false } } },
      });
      assert.equal(custom.status, 201, custom.text);
      assert.equal((await api.get(`${L}/streamingPolicies/hls-only`)).body.properties.noEncryption.enabledProtocols.hls, true);
      assert.equal(
        (
          await api.put(`${V}/streamingPolicies/Predefined_ClearKey`, {
            properties: { noEncryption: { enabledProtocols: { download: true, dash: true, hls: true, smoothStreaming: true } } },
          })
        ).status,
        400,
      );
      assert.equal((await api.put(`${V}/streamingPolicies/empty`, { properties: {} })).status, 400);
      assert.equal((await api.delete(`${V}/streamingPolicies/Predefined_ClearKey`)).status, 400);
      assert.equal((await api.delete(`${V}/streamingPolicies/hls-only`)).status, 200);
    });

    it('publishes an asset with a locator that keeps a given GUID, lists its paths, and stays immutable', async () => {
      const id = '9a3c1b52-2d3e-4a8e-9a51-2b8f0c4f6a10';
      const put = await api.put(`${L}/streamingLocators/loc1`, {
        properties: { assetName: 'movie', streamingPolicyName: 'Predefined_DownloadAndClearStreaming', streamingLocatorId: id.toUpperCase() },
      });
      assert.equal(put.status, 201, put.text);
      assert.equal(put.body.properties.streamingLocatorId, id);
      const paths = await api.post(`${V}/streamingLocators/loc1/listPaths`);
      const byProtocol = Object.fromEntries(
        paths.body.streamingPaths.map((p: { streamingProtocol: string; paths: string[] }) => [p.streamingProtocol, p.paths]),
      );
      assert.deepEqual(byProtocol.Hls, [`/${id}/movie.ism/manifest(format=m3u8-cmaf)`, `/${id}/movie.ism/manifest(format=m3u8-aapl)`]);
      assert.deepEqual(byProtocol.Dash, [`/${id}/movie.ism/manifest(format=mpd-time-cmaf)`, `/${id}/movie.ism/manifest(format=mpd-time-csf)`]);
      assert.deepEqual(byProtocol.SmoothStreaming, [`/${id}/movie.ism/manifest`]);
      assert.deepEqual(paths.body.downloadPaths, [`/${id}/movie_320x240_400.mp4`]);

      const onAsset = await api.post(`${L}/assets/movie/listStreamingLocators`);
      assert.equal(onAsset.body.streamingLocators[0].name, 'loc1');
      assert.equal(onAsset.body.streamingLocators[0].streamingLocatorId, id);

      const endTime = new Date(Date.now() + 3600_000).toISOString();
      const updated = await api.put(`${L}/streamingLocators/loc1`, {
        properties: { assetName: 'movie', streamingPolicyName: 'Predefined_DownloadAndClearStreaming', endTime },
      });
      assert.equal(updated.status, 200, updated.text);
      assert.ok(updated.body.properties.endTime.startsWith(endTime.slice(0, 19)));
      const changed = await api.put(`${L}/streamingLocators/loc1`, {
        properties: { assetName: 'movie', streamingPolicyName: 'Predefined_ClearStreamingOnly' },
      });
      assert.equal(changed.status, 409);
      const reused = await api.put(`${L}/streamingLocators/loc2`, {
        properties: { assetName: 'movie', streamingPolicyName: 'Predefined_ClearStreamingOnly', streamingLocatorId: id },
      });
      assert.equal(reused.status, 409);
      assert.equal(
        (await api.put(`${L}/streamingLocators/loc3`, { properties: { assetName: 'nope', streamingPolicyName: 'Predefined_ClearStreamingOnly' } })).status,
        400,
      );
      assert.equal((await api.put(`${L}/streamingLocators/loc3`, { properties: { assetName: 'movie', streamingPolicyName: 'nope' } })).status, 400);
      const list = await api.get(`${V}/streamingLocators?$filter=properties/assetName eq 'movie'`);
      assert.deepEqual(
        list.body.value.map((l: { name: string }) => l.name),
        ['loc1'],
      );
      assert.equal((await api.delete(`${V}/streamingPolicies/Predefined_DownloadAndClearStreaming`)).status, 400);
    });

    it('counts what a project holds in stats', async () => {
      // A project of its own, so the counts are exact whatever the other tests left behind.
      const accounts = new AccountService(server.reel.db);
      const organizationId = (await accounts.findProject('default'))?.organization_id as string;
      const project = await accounts.createProject(organizationId, `stats-${dialect}`);
      const P = `/api/ams/${project.name}`;
      const stats = async () => (await api.get(`${P}/stats/`, { contract: false })).body;

      const empty = await stats();
      assert.deepEqual(empty, {
        assets: { total: 0 },
        contentKeyPolicies: { total: 0 },
        liveEvents: { running: 0, stopped: 0, total: 0 },
        storageAccounts: { total: 0 },
        // The default endpoint, as the endpoint list shows it; the predefined policies, as the policy list does.
        streamingEndpoints: { running: 1, stopped: 0, total: 1 },
        streamingLocators: { total: 0 },
        streamingPolicies: { total: 6 },
        transforms: { total: 0 },
        jobs: { total: 0 },
        extra: { subscription_id: project.id },
      });

      const dir = path.join(server.localArea(project.name), 'media');
      fs.mkdirSync(path.join(dir, 'clip'), { recursive: true });
      assert.equal(
        (await api.put(`/api/v1/projects/${project.name}/media/storage/media`, { spec: { type: 'Local', path: dir } }, { contract: false })).status,
        201,
      );
      for (const asset of ['one', 'two']) {
        assert.equal((await api.put(`${P}/assets/${asset}`, { properties: { storageAccountName: 'media', container: 'clip', subPath: asset } })).status, 201);
      }
      const policy = { properties: { noEncryption: { enabledProtocols: { download: false, dash: true, hls: true, smoothStreaming: false } } } };
      assert.equal((await api.put(`${P}/streamingPolicies/custom`, policy)).status, 201);
      for (const [locator, asset] of [
        ['l1', 'one'],
        ['l2', 'one'],
        ['l3', 'two'],
      ]) {
        const put = await api.put(`${P}/streamingLocators/${locator}`, { properties: { assetName: asset, streamingPolicyName: 'custom' } });
        assert.equal(put.status, 201, put.text);
      }
      const endpoint = { location: 'local', properties: { description: 'extra', scaleUnits: 0 } };
      assert.equal((await api.put(`${P}/streamingEndpoints/stopped1`, endpoint)).status, 201);
      assert.equal((await api.put(`${P}/streamingEndpoints/stopped2`, endpoint)).status, 201);
      assert.equal((await api.put(`${P}/streamingEndpoints/started?autoStart=true`, endpoint)).status, 201);

      const full = await stats();
      assert.deepEqual(full.assets, { total: 2 });
      assert.deepEqual(full.storageAccounts, { total: 1 });
      assert.deepEqual(full.streamingEndpoints, { running: 2, stopped: 2, total: 4 });
      assert.deepEqual(full.streamingLocators, { total: 3 });
      assert.deepEqual(full.streamingPolicies, { total: 7 });

      assert.equal((await api.delete(`${P}/streamingLocators/l3`)).status, 200);
      assert.equal((await api.delete(`${P}/streamingEndpoints/default`)).status, 200);
      const after = await stats();
      assert.deepEqual(after.streamingLocators, { total: 2 });
      assert.deepEqual(after.streamingEndpoints, { running: 1, stopped: 2, total: 3 });
      // The default project's counters are its own.
      assert.equal((await api.get(`${L}/stats/`, { contract: false })).body.streamingLocators.total, 1);
    });
  });
}
