import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { dialects, startTestServer, type TestServer } from '../../support/server.js';
import http from 'node:http';
import { ApiClient, login, tokenFromSession, type ApiResponse } from '../../support/api.js';

// Issue 10, findings 8–11: creates under races, paging options, deep JSON bodies and resource names.

const preset = { '@odata.type': '#Microsoft.Media.BuiltInStandardEncoderPreset', presetName: 'H264SingleBitrate720p' };
const jobBody = (output: string, extraInput: Record<string, unknown> = {}) => ({
  properties: {
    input: { '@odata.type': '#Microsoft.Media.JobInputAsset', assetName: 'src', ...extraInput },
    outputs: [{ '@odata.type': '#Microsoft.Media.JobOutputAsset', assetName: output }],
  },
});
const policyBody = { properties: { noEncryption: { enabledProtocols: { download: false, dash: true, hls: true, smoothStreaming: false } } } };
const endpointBody = { location: 'local', properties: { description: 'raced', scaleUnits: 0 } };

/** Status counts, e.g. `{ 200: 14, 201: 1 }`. */
function tally(responses: ApiResponse[]): Record<number, number> {
  const out: Record<number, number> = {};
  for (const r of responses) out[r.status] = (out[r.status] ?? 0) + 1;
  return out;
}

/** `{ "trigger": { "trigger": … } }` nested `depth` levels, built as text (no recursion anywhere in the test). */
function deepObject(depth: number): string {
  return `${'{"trigger":'.repeat(depth)}{}${'}'.repeat(depth)}`;
}

/**
 * A request sent byte for byte: fetch (WHATWG URL) folds `/x/..` and `/x/%2E%2E` away before sending, an
 * attacker's client does not.
 */
function raw(baseUrl: string, token: string, method: string, rawPath: string, body?: unknown): Promise<{ status: number; body: any; text: string }> {
  const u = new URL(baseUrl);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        hostname: u.hostname,
        port: u.port,
        path: rawPath,
        method,
        headers: { 'x-mkio-token': token, accept: 'application/json', ...(payload ? { 'content-type': 'application/json' } : {}) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, text, body: text ? JSON.parse(text) : undefined });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

for (const dialect of dialects) {
  describe(`input hardening on ${dialect}`, () => {
    let server: TestServer;
    let api: ApiClient;
    const V = '/api/v1/projects/default/media';
    const L = '/api/ams/default';
    let storageDir: string;
    let token: string;

    /** Names of a collection, read through its list (so nothing is counted that the API would not show). */
    const names = async (collection: string): Promise<string[]> => {
      const res = await api.get(`${V}/${collection}`, { contract: false });
      assert.equal(res.status, 200, res.text);
      return (res.body.value as Array<{ name?: string; metadata?: { name: string } }>).map((v) => v.name ?? v.metadata!.name);
    };

    before(async () => {
      // No worker: submitted jobs stay queued, so nothing but the API touches the rows under test.
      server = await startTestServer(dialect, { REEL_ROLES: 'api,origin' });
      const cookie = await login(server.url, server.adminEmail, server.adminPassword);
      token = (await tokenFromSession(server.url, cookie)).token;
      api = new ApiClient(server.url).withToken(token);
      storageDir = path.join(server.localArea(), 'vod');
      fs.mkdirSync(path.join(storageDir, 'src'), { recursive: true });
      fs.writeFileSync(path.join(storageDir, 'src', 'a.mp4'), 'not really media');
      assert.equal((await api.put(`${V}/storage/vod`, { spec: { type: 'Local', path: storageDir } }, { contract: false })).status, 201);
      assert.equal((await api.put(`${V}/assets/src`, { properties: { storageAccountName: 'vod', container: 'src' } })).status, 201);
      assert.equal((await api.put(`${V}/transforms/tr`, { properties: { outputs: [{ preset }] } })).status, 201);
    });
    after(async () => {
      await server?.close();
    });

    describe('finding 8: concurrent creates of one name', () => {
      const N = 15;
      const race = (call: () => Promise<ApiResponse>) => Promise.all(Array.from({ length: N }, call));

      it('assets: one 201, the rest 200 (PUT updates an existing asset), one row', async () => {
        const results = await race(() => api.put(`${V}/assets/raced-asset`, { properties: { storageAccountName: 'vod', description: 'raced' } }));
        assert.deepEqual(tally(results), { 201: 1, 200: N - 1 }, results.map((r) => r.text).join('\n'));
        assert.equal((await names('assets')).filter((n) => n === 'raced-asset').length, 1);
      });

      it('transforms: one 201, the rest 200, one row', async () => {
        const results = await race(() => api.put(`${V}/transforms/raced-transform`, { properties: { outputs: [{ preset }] } }));
        assert.deepEqual(tally(results), { 201: 1, 200: N - 1 }, results.map((r) => r.text).join('\n'));
        assert.equal((await names('transforms')).filter((n) => n === 'raced-transform').length, 1);
      });

      it('streaming locators: one 201, the rest 200 for the same body, one row', async () => {
        const body = { properties: { assetName: 'src', streamingPolicyName: 'Predefined_ClearStreamingOnly' } };
        const results = await race(() => api.put(`${V}/streamingLocators/raced-locator`, body));
        assert.deepEqual(tally(results), { 201: 1, 200: N - 1 }, results.map((r) => r.text).join('\n'));
        assert.equal((await names('streamingLocators')).filter((n) => n === 'raced-locator').length, 1);
      });

      it('streaming policies: one 201, the rest 409 as for any existing policy, one row', async () => {
        const results = await race(() => api.put(`${V}/streamingPolicies/raced-policy`, policyBody));
        assert.deepEqual(tally(results), { 201: 1, 409: N - 1 }, results.map((r) => r.text).join('\n'));
        assert.equal((await names('streamingPolicies')).filter((n) => n === 'raced-policy').length, 1);
      });

      it('streaming endpoints: one 201, the rest 409 (create-only PUT), one row', async () => {
        const results = await race(() => api.put(`${V}/streamingEndpoints/raced-endpoint`, endpointBody));
        assert.deepEqual(tally(results), { 201: 1, 409: N - 1 }, results.map((r) => r.text).join('\n'));
        assert.equal((await names('streamingEndpoints')).filter((n) => n === 'raced-endpoint').length, 1);
      });

      it('storage accounts (v1 PUT): one 201, the rest 200 for the same body, one row', async () => {
        const dir = path.join(server.localArea(), 'raced');
        fs.mkdirSync(dir, { recursive: true });
        const results = await race(() => api.put(`${V}/storage/raced-storage`, { spec: { type: 'Local', path: dir } }, { contract: false }));
        assert.deepEqual(tally(results), { 201: 1, 200: N - 1 }, results.map((r) => r.text).join('\n'));
        assert.equal((await names('storage')).filter((n) => n === 'raced-storage').length, 1);
      });

      it('jobs of one name: one 201, the rest 409 (create-only PUT), one row', async () => {
        const results = await race(() => api.put(`${V}/transforms/tr/jobs/raced-job`, jobBody('raced-job-out')));
        assert.deepEqual(tally(results), { 201: 1, 409: N - 1 }, results.map((r) => r.text).join('\n'));
        const jobs = await api.get(`${V}/transforms/tr/jobs`);
        assert.equal(jobs.body.value.filter((j: { name: string }) => j.name === 'raced-job').length, 1);
      });

      it('N jobs auto-creating one output asset: all accepted, the asset created once', async () => {
        const results = await Promise.all(Array.from({ length: 10 }, (_, i) => api.put(`${V}/transforms/tr/jobs/shared-out-${i}`, jobBody('shared-output'))));
        assert.deepEqual(tally(results), { 201: 10 }, results.map((r) => r.text).join('\n'));
        assert.equal((await names('assets')).filter((n) => n === 'shared-output').length, 1);
        for (const r of results) assert.equal(r.body.properties.outputs[0].assetName, 'shared-output');
      });

      it('the losers of every race left no asset and no container behind', async () => {
        assert.equal((await names('assets')).filter((n) => n === 'raced-job-out').length, 1);
        const assets = await api.get(`${V}/assets`);
        const containers = new Set((assets.body.value as Array<{ properties: { container: string } }>).map((a) => a.properties.container));
        const onDisk = fs.readdirSync(storageDir).filter((d) => d.startsWith('asset-'));
        assert.deepEqual(
          onDisk.filter((d) => !containers.has(d)),
          [],
        );
      });
    });

    describe('finding 9: paging options', () => {
      const lists = ['assets', 'jobs', 'transforms', 'transforms/tr/jobs', 'streamingLocators', 'streamingPolicies', 'streamingEndpoints', 'storage'];
      const bad = ['1e20', '-1', 'abc', '1.5', '0x10', '99999999999999999999', ''];

      for (const list of lists) {
        it(`${list}: absurd $skiptoken and $top are a 400 naming the parameter, never a 500`, async () => {
          for (const [param, value] of [...bad.map((v) => ['$skiptoken', v]), ...bad.map((v) => ['$top', v]), ['$top', '0']]) {
            const res = await api.get(`${V}/${list}?${param}=${encodeURIComponent(value)}`, { contract: false });
            assert.equal(res.status, 400, `${list} ${param}=${value}: ${res.text}`);
            assert.ok(res.body.error.detail.includes(param), res.text);
          }
          // Far past the end but a sane number: an empty page that says where it started.
          const past = await api.get(`${V}/${list}?$skiptoken=1000000`, { contract: false });
          assert.equal(past.status, 200, past.text);
          assert.deepEqual(past.body.value, []);
          assert.equal(past.body['@odata.nextLink'], undefined);
        });
      }

      it('@odata.nextLink carries only the validated list options, not whatever else was sent', async () => {
        for (const n of ['page-a', 'page-b']) {
          assert.equal((await api.put(`${V}/transforms/${n}`, { properties: { outputs: [{ preset }] } })).status, 201);
        }
        const res = await api.get(`${L}/transforms?$top=1&evil=%3Cscript%3E&$orderby=name`);
        assert.equal(res.status, 200, res.text);
        const next = res.body['@odata.nextLink'] as string;
        assert.match(next, /\$top=1/);
        assert.match(next, /\$skiptoken=1/);
        assert.match(next, /\$orderby=name/);
        assert.doesNotMatch(next, /evil|script/);
      });
    });

    describe('finding 10: deeply nested JSON', () => {
      it('a 20,000-level nested trigger is a 400 and leaves no output asset behind', async () => {
        const before = await names('assets');
        const body = `{"properties":{"input":{"@odata.type":"#Microsoft.Media.JobInputAsset","assetName":"src","start":{"@odata.type":"#Microsoft.Media.AbsoluteClipTime","time":"PT1S","trigger":${deepObject(20_000)}}},"outputs":[{"@odata.type":"#Microsoft.Media.JobOutputAsset","assetName":"deep-out"}]}}`;
        const res = await api.put(`${V}/transforms/tr/jobs/deep`, body, { contract: false });
        assert.equal(res.status, 400, res.text);
        assert.match(res.body.error.detail, /nest/i);
        assert.deepEqual(await names('assets'), before);
        assert.equal((await api.get(`${V}/assets/deep-out`)).status, 404);
        assert.equal((await api.get(`${V}/transforms/tr/jobs/deep`)).status, 404);
      });

      it('deep bodies are refused on every route, before anything parses them', async () => {
        const deepPreset = `{"properties":{"outputs":[{"preset":{"@odata.type":"#Microsoft.Media.BuiltInStandardEncoderPreset","presetName":"H264SingleBitrate720p","x":${deepObject(5000)}}}]}}`;
        for (const [method, route, body] of [
          ['PUT', `${V}/transforms/deep-t`, deepPreset],
          ['PUT', `${V}/assets/deep-a`, `{"a":${deepObject(5000)}}`],
          ['POST', '/auth/login', `{"email":${deepObject(5000)}}`],
          ['PUT', `${V}/streamingPolicies/deep-p`, `[${'['.repeat(5000)}${']'.repeat(5000)}]`],
        ] as const) {
          const res = await api.call(method, route, body, { contract: false });
          assert.equal(res.status, 400, `${method} ${route}: ${res.text}`);
          assert.match(res.body.error.detail, /nest/i, res.text);
        }
        assert.equal((await api.get(`${V}/transforms/deep-t`)).status, 404);
      });

      it('a job refused for any reason leaves no output asset behind', async () => {
        const before = await names('assets');
        const refused = await api.put(
          `${V}/transforms/tr/jobs/bad-clip`,
          jobBody('never-made', { start: { '@odata.type': '#Microsoft.Media.AbsoluteClipTime', time: 'soon' } }),
          { checkRequest: false },
        );
        assert.equal(refused.status, 400, refused.text);
        assert.deepEqual(await names('assets'), before);
      });

      it('ordinary nesting (a preset of a few levels) is still accepted', async () => {
        const res = await api.put(`${V}/transforms/nested-ok`, { properties: { outputs: [{ preset: { ...preset, extra: undefined } }] } });
        assert.equal(res.status, 201, res.text);
      });
    });

    describe('siblings: NUL characters anywhere a client can put them', () => {
      it('a NUL in any JSON string is a 400 on both databases (PostgreSQL cannot store it), and nothing is created', async () => {
        const res = await api.put(`${V}/assets/nul-description`, { properties: { storageAccountName: 'vod', description: 'a\u0000b' } }, { contract: false });
        assert.equal(res.status, 400, res.text);
        assert.match(res.body.error.detail, /NUL/);
        assert.equal((await api.get(`${V}/assets/nul-description`)).status, 404);
        const transform = await api.put(`${V}/transforms/nul-t`, { properties: { description: '\u0000', outputs: [{ preset }] } }, { contract: false });
        assert.equal(transform.status, 400, transform.text);
      });

      it('a NUL in a query or a non-name path parameter is never a 500', async () => {
        const projectId = (await api.get(`${V}/assets/src`)).body.supplemental.subscription.id as string;
        const org = (await api.get('/api/v1/user/profile', { contract: false })).body.spec.activeOrganizationId as string;
        for (const at of [
          `${V}/assets?$filter=${encodeURIComponent("name eq 'a\u0000b'")}`,
          `${V}/storage/vod/credentials/a%00b`,
          `/api/accounts/${org}/subscriptions/${projectId}/storage/a%00b`,
          `/api/accounts/${org}/subscriptions/${projectId}/storage/a%00b/credentials`,
          '/api/ams/a%00b/assets',
        ]) {
          const res = await raw(server.url, token, 'GET', at);
          assert.ok(res.status === 400 || res.status === 404, `${at}: ${res.text}`);
        }
      });
    });

    describe('finding 11: one name rule per resource', () => {
      const badNames = ['..', '.', 'a\u0000b', 'a\nb', 'a\rb', 'tab\tname', 'ends-with.', 'x'.repeat(261)];
      const enc = (name: string) => (name === '.' || name === '..' ? name : encodeURIComponent(name));
      const kinds: Array<{ collection: string; body: unknown }> = [
        { collection: 'assets', body: { properties: { storageAccountName: 'vod' } } },
        { collection: 'transforms', body: { properties: { outputs: [{ preset }] } } },
        { collection: 'streamingPolicies', body: policyBody },
        { collection: 'streamingLocators', body: { properties: { assetName: 'src', streamingPolicyName: 'Predefined_ClearStreamingOnly' } } },
        { collection: 'streamingEndpoints', body: endpointBody },
        { collection: 'storage', body: { spec: { type: 'Local', path: path.join('/tmp', 'never') } } },
        { collection: 'transforms/tr/jobs', body: jobBody('named-out') },
      ];

      for (const kind of kinds) {
        it(`${kind.collection}: '..', NUL, CR/LF, tab, a trailing dot and over-long names are a 400 naming the field; nothing is created`, async () => {
          const before = kind.collection.includes('/') ? [] : await names(kind.collection);
          for (const name of badNames) {
            const at = `${V}/${kind.collection}/${enc(name)}`;
            const put = await raw(server.url, token, 'PUT', at, kind.body);
            assert.equal(put.status, 400, `${JSON.stringify(name)}: ${put.text}`);
            assert.match(put.body.error.detail, /params\.name/, put.text);
            // Reading or deleting a name that can never exist answers the same 400, never a 500.
            const get = await raw(server.url, token, 'GET', at);
            assert.equal(get.status, 400, `GET ${JSON.stringify(name)}: ${get.text}`);
            const del = await raw(server.url, token, 'DELETE', at);
            assert.equal(del.status, 400, `DELETE ${JSON.stringify(name)}: ${del.text}`);
          }
          if (!kind.collection.includes('/')) assert.deepEqual(await names(kind.collection), before);
        });
      }

      it('legacy storage create refuses the same names in spec.name', async () => {
        const org = (await api.get('/api/v1/user/profile', { contract: false })).body.spec.activeOrganizationId as string;
        const projectId = (await api.get(`${V}/assets/src`)).body.supplemental.subscription.id as string;
        for (const name of badNames) {
          const res = await api.post(
            `/api/accounts/${org}/subscriptions/${projectId}/storage`,
            { spec: { name, azureStorageConfiguration: { url: 'http://127.0.0.1:9/?sv=1&sig=2' } } },
            { contract: false },
          );
          assert.equal(res.status, 400, `${JSON.stringify(name)}: ${res.text}`);
          // The body check refuses an escaped NUL before the schema does; every other name fails the name rule.
          assert.match(res.body.error.detail, name.includes('\u0000') ? /NUL/ : /spec\.name/, res.text);
        }
        assert.deepEqual(
          (await names('storage')).filter((n) => badNames.includes(n)),
          [],
        );
      });

      it('a job output asset name follows the asset rule', async () => {
        for (const name of ['..', 'a\u0000b', 'a\nb', 'x.']) {
          const res = await api.put(`${V}/transforms/tr/jobs/out-${badNames.indexOf(name)}`, jobBody(name), { checkRequest: false, contract: false });
          assert.equal(res.status, 400, `${JSON.stringify(name)}: ${res.text}`);
        }
      });

      it('names MK.IO users have (dots, spaces, underscores, unicode) still work', async () => {
        for (const name of ['my.asset', 'with space', 'under_score', 'Ünïcødé', 'v1.2-final']) {
          const res = await api.put(`${V}/assets/${enc(name)}`, { properties: { storageAccountName: 'vod' } });
          assert.equal(res.status, 201, `${name}: ${res.text}`);
          assert.equal(res.body.name, name);
          assert.equal((await api.get(`${V}/assets/${enc(name)}`)).status, 200);
        }
      });
    });
  });
}
