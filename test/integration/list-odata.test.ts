import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { dialects, startTestServer, type TestServer } from '../support/server.js';
import { ApiClient, login, tokenFromSession, type ApiResponse } from '../support/api.js';
import { azuriteSas, azuriteUrl } from '../support/services.js';

/**
 * `$filter`, `$orderby`, `$top` and `@odata.nextLink` on every media list, at both prefixes, on both databases.
 * Items are created in an order that is not name order, so sorting by name and by creation time differ.
 */
const V = '/api/v1/projects/default/media';
const L = '/api/ams/default';
const names = ['lst-c', 'lst-a', 'lst-e', 'lst-b', 'lst-d'];
const byName = [...names].sort();
const encoderPreset = { '@odata.type': '#Microsoft.Media.BuiltInStandardEncoderPreset', presetName: 'H264SingleBitrate720p' };
const jobBody = (input: string, output: string) => ({
  properties: {
    input: { '@odata.type': '#Microsoft.Media.JobInputAsset', assetName: input, files: ['*'] },
    outputs: [{ '@odata.type': '#Microsoft.Media.JobOutputAsset', assetName: output }],
  },
});
const openPolicy = {
  properties: {
    options: [
      {
        name: 'open',
        configuration: { '@odata.type': '#Microsoft.Media.ContentKeyPolicyClearKeyConfiguration' },
        restriction: { '@odata.type': '#Microsoft.Media.ContentKeyPolicyOpenRestriction' },
      },
    ],
  },
};

type Item = { name: string; properties?: { created?: string }; systemData?: { createdAt?: string } };
type Named = { name?: string; metadata?: { name: string } };
const nameOf = (i: Named): string => i.name ?? i.metadata!.name;

/** The list as one page (no next link expected). */
async function all(api: ApiClient, url: string): Promise<string[]> {
  const res = await api.get(url);
  assert.equal(res.status, 200, res.text);
  assert.equal(res.body['@odata.nextLink'], undefined);
  return (res.body.value as Named[]).map(nameOf);
}

/**
 * Follows `@odata.nextLink` as MK.IO's .NET client does: URL-decode the link (`+` is a space), put the host in
 * front, and send it (the HTTP stack escapes what must be). Returns every name seen and the number of pages.
 */
async function walk(api: ApiClient, first: string): Promise<{ names: string[]; pages: number }> {
  const seen: string[] = [];
  let pages = 0;
  let url: string | undefined = first;
  while (url !== undefined) {
    const res: ApiResponse = await api.get(url);
    assert.equal(res.status, 200, `${url}: ${res.text}`);
    pages++;
    seen.push(...(res.body.value as Named[]).map(nameOf));
    const next = res.body['@odata.nextLink'] as string | undefined;
    assert.ok(pages < 100, 'the walk ends');
    if (next !== undefined) {
      assert.equal(next.split('?')[0], first.split('?')[0], 'next links are host-relative, on the prefix the list was read at');
      url = encodeURI(decodeURIComponent(next.replace(/\+/g, ' ')));
    } else url = undefined;
  }
  return { names: seen, pages };
}

async function expectError(api: ApiClient, url: string, code: string, option: string): Promise<void> {
  const res = await api.get(url);
  assert.equal(res.status, 400, `${url}: ${res.text}`);
  assert.equal(res.body.error.code, code, url);
  assert.ok(res.body.error.detail.includes(option), `${url}: the detail names ${option}: ${res.body.error.detail}`);
}

for (const dialect of dialects) {
  describe(`list options ($filter, $orderby, $top, nextLink) on ${dialect}`, () => {
    let server: TestServer;
    let api: ApiClient;
    /** Creation times (as the resources show them) by name. */
    const createdOf = new Map<string, string>();

    before(async () => {
      server = await startTestServer(dialect);
      const cookie = await login(server.url, server.adminEmail, server.adminPassword);
      api = new ApiClient(server.url).withToken((await tokenFromSession(server.url, cookie)).token);
      const dir = path.join(server.localArea(), 'lists');
      for (const n of names) fs.mkdirSync(path.join(dir, n), { recursive: true });
      assert.equal((await api.put(`${V}/storage/lists`, { spec: { type: 'Local', path: dir } }, { contract: false })).status, 201);
      for (const n of names) {
        const asset = await api.put(`${V}/assets/${n}`, { properties: { storageAccountName: 'lists', container: n } });
        assert.equal(asset.status, 201, asset.text);
        createdOf.set(n, (asset.body as Item).properties!.created!);
        const t = await api.put(`${V}/transforms/${n}`, { properties: { outputs: [{ preset: encoderPreset }] } });
        assert.equal(t.status, 201, t.text);
        assert.equal((await api.put(`${V}/streamingEndpoints/${n}`, { location: 'local', properties: { description: `d-${n}`, scaleUnits: 0 } })).status, 201);
        const sp = await api.put(`${V}/streamingPolicies/${n}`, {
          properties: { noEncryption: { enabledProtocols: { download: false, dash: true, hls: true, smoothStreaming: false } } },
        });
        assert.equal(sp.status, 201, sp.text);
        assert.equal((await api.put(`${V}/contentKeyPolicies/${n}`, openPolicy)).status, 201);
        const loc = await api.put(`${V}/streamingLocators/${n}`, { properties: { assetName: n, streamingPolicyName: 'Predefined_ClearStreamingOnly' } });
        assert.equal(loc.status, 201, loc.text);
        const storage = await api.put(`${V}/storage/${n}`, {
          spec: { type: 'Microsoft.Storage', url: azuriteUrl(), credential: { sasToken: azuriteSas() }, description: n },
        });
        assert.equal(storage.status, 201, storage.text);
        const live = await api.put(`${V}/liveEvents/${n}`, {
          tags: { list: n },
          properties: {
            description: `d-${n}`,
            useStaticHostname: false,
            streamOptions: ['Default'],
            encoding: { encodingType: n === 'lst-d' ? 'Standard' : 'PassthroughStandard' },
            input: {
              streamingProtocol: 'RTMP',
              accessToken: `token-${n}-token`,
              keyFrameIntervalDuration: n === 'lst-d' ? 'PT2S' : 'PT4S',
              accessControl: { ip: { allow: [] } },
              timedMetadataEndpoints: [],
            },
          },
        });
        assert.equal(live.status, 200, live.text);
      }
      // Jobs: all under `lst-a`, named like the others; their output assets are named `out-…`.
      for (const n of names) {
        const job = await api.put(`${V}/transforms/lst-a/jobs/${n}`, jobBody(n, `out-${n}`));
        assert.equal(job.status, 201, job.text);
      }
    });
    after(async () => {
      await server?.close();
    });

    /** Lists of `names`, with the filter that keeps only them (other items exist: defaults, outputs, Local storage). */
    const lists: Array<{ list: string; mine: string; created?: string }> = [
      { list: 'assets', mine: "name ge 'lst-' and name lt 'lst.'", created: 'properties/created' },
      { list: 'transforms', mine: "name ge 'lst-'", created: 'properties/created' },
      { list: 'transforms/lst-a/jobs', mine: "name ge 'lst-'", created: 'properties/created' },
      { list: 'jobs', mine: "transform eq 'lst-a'", created: 'properties/created' },
      { list: 'streamingEndpoints', mine: "name ge 'lst-'", created: 'properties/created' },
      { list: 'streamingPolicies', mine: "name ge 'lst-'", created: 'properties/created' },
      { list: 'contentKeyPolicies', mine: "name ge 'lst-'", created: 'properties/created' },
      { list: 'streamingLocators', mine: "name ge 'lst-'", created: 'properties/created' },
      { list: 'storage', mine: "type eq 'Microsoft.Storage'", created: 'created' },
      { list: 'liveEvents', mine: "name ge 'lst-'", created: 'properties/created' },
    ];
    const predefined = (got: string[]) => got.filter((n) => n.startsWith('Predefined_'));
    const q = (s: string) => encodeURIComponent(s);

    for (const prefix of [V, L]) {
      for (const { list, mine, created } of lists) {
        if (prefix === L && list === 'storage') continue; // v1 only
        const url = `${prefix}/${list}`;

        it(`${prefix === V ? 'v1' : 'legacy'} ${list}: $orderby name asc/desc and a creation-time sort`, async () => {
          const asc = await all(api, `${url}?$filter=${q(mine)}&$orderby=${q('name asc')}`);
          const desc = await all(api, `${url}?$filter=${q(mine)}&$orderby=${q('name desc')}`);
          const newest = await all(api, `${url}?$filter=${q(mine)}&$orderby=${q(`${created} desc`)}`);
          if (list === 'streamingPolicies') {
            // The predefined policies are always listed, first, whatever the filter and order.
            assert.ok(predefined(asc).length >= 6);
            assert.deepEqual(predefined(desc), predefined(asc));
          }
          const own = (got: string[]) => got.filter((n) => !n.startsWith('Predefined_'));
          assert.deepEqual(own(asc), byName);
          assert.deepEqual(own(desc), [...byName].reverse());
          assert.deepEqual(own(newest), [...names].reverse());
        });

        it(`${prefix === V ? 'v1' : 'legacy'} ${list}: $filter on name and creation time`, async () => {
          const one = await all(api, `${url}?$filter=${q(`${mine} and name eq 'lst-b'`)}`);
          assert.deepEqual(
            one.filter((n) => !n.startsWith('Predefined_')),
            ['lst-b'],
          );
          const none = await all(api, `${url}?$filter=${q("name eq 'no-such-item'")}`);
          assert.deepEqual(
            none.filter((n) => !n.startsWith('Predefined_')),
            [],
          );
          // Creation times of the three newest, as the items show them (Reel's times carry six digits).
          const third = (await api.get(`${url}?$filter=${q(`${mine} and name eq 'lst-e'`)}`)).body.value as Array<Item & { metadata?: { created: string } }>;
          const mineOnly = third.filter((i) => !(i.name ?? '').startsWith('Predefined_'));
          const since = mineOnly[0].properties?.created ?? mineOnly[0].metadata?.created ?? createdOf.get('lst-e')!;
          const recent = await all(api, `${url}?$filter=${q(`${mine} and ${created} ge ${since}`)}&$orderby=${q(created!)}`);
          assert.deepEqual(
            recent.filter((n) => !n.startsWith('Predefined_')),
            ['lst-e', 'lst-b', 'lst-d'],
          );
        });

        it(`${prefix === V ? 'v1' : 'legacy'} ${list}: $top pages and @odata.nextLink reach every item once`, async () => {
          // Storage lists keep to Azure accounts: the Local one is Reel's extension, outside MK.IO's schema.
          const scope = list === 'storage' ? `&$filter=${q(mine)}` : '';
          const everything = await all(api, `${url}?$top=1000${scope}`);
          const { names: walked, pages } = await walk(api, `${url}?$top=2${scope}`);
          assert.deepEqual([...walked].sort(), [...everything].sort());
          assert.equal(new Set(walked).size, walked.length, 'no item twice');
          assert.equal(pages, Math.ceil(everything.length / 2));
          // With a filter and an order: the link carries both, quotes and spaces intact after the client's decoding.
          const sorted = await walk(api, `${url}?$top=2&$filter=${q(`${mine} and name ne 'it''s a b'`)}&$orderby=${q('name desc')}`);
          const own = sorted.names.filter((n) => !n.startsWith('Predefined_'));
          assert.deepEqual(own, [...byName].reverse());
        });

        it(`${prefix === V ? 'v1' : 'legacy'} ${list}: bad options are a 400 naming the option`, async () => {
          await expectError(api, `${url}?$filter=${q("nosuchfield eq 'x'")}`, 'InvalidFilter', '$filter');
          await expectError(api, `${url}?$filter=${q('name eq')}`, 'InvalidFilter', '$filter');
          await expectError(api, `${url}?$filter=${q("name like 'x'")}`, 'InvalidFilter', '$filter');
          await expectError(api, `${url}?$filter=${q(`${created} ge 'yesterday'`)}`, 'InvalidFilter', '$filter');
          await expectError(api, `${url}?$orderby=${q('nosuchfield')}`, 'InvalidOrderBy', '$orderby');
          await expectError(api, `${url}?$orderby=${q('name sideways')}`, 'InvalidOrderBy', '$orderby');
          await expectError(api, `${url}?$top=0`, 'InvalidTop', '$top');
          await expectError(api, `${url}?$skiptoken=-1`, 'InvalidSkipToken', '$skiptoken');
        });
      }
    }

    it('streaming endpoints filter and sort on description, state and scale units', async () => {
      assert.equal((await api.post(`${V}/streamingEndpoints/lst-d/scale`, { scaleUnit: 2 })).status, 200);
      assert.deepEqual(await all(api, `${V}/streamingEndpoints?$filter=${q('properties/scaleUnits gt 1')}`), ['lst-d']);
      assert.deepEqual(await all(api, `${V}/streamingEndpoints?$filter=${q("properties/description eq 'd-lst-a'")}`), ['lst-a']);
      assert.deepEqual(await all(api, `${L}/streamingEndpoints?$filter=${q("properties/resourceState eq 'Running'")}`), ['default']);
      const byUnits = await all(api, `${V}/streamingEndpoints?$filter=${q("name ge 'lst-'")}&$orderby=${q('properties/scaleUnits desc, name')}`);
      assert.deepEqual(byUnits, ['lst-d', 'lst-a', 'lst-b', 'lst-c', 'lst-e']);
      await expectError(api, `${V}/streamingEndpoints?$filter=${q("properties/scaleUnits eq 'two'")}`, 'InvalidFilter', '$filter');
      assert.equal((await api.post(`${V}/streamingEndpoints/lst-d/scale`, { scaleUnit: 0 })).status, 200);
    });

    it('streaming locators filter on the asset name and sort on start and end times', async () => {
      assert.deepEqual(await all(api, `${V}/streamingLocators?$filter=${q("properties/assetName eq 'lst-c'")}`), ['lst-c']);
      assert.equal((await api.get(`${V}/streamingLocators?$orderby=${q('properties/endTime desc, name')}`)).status, 200);
      await expectError(api, `${V}/streamingLocators?$orderby=${q('properties/assetName')}`, 'InvalidOrderBy', '$orderby');
    });

    it('live events filter on description, encoding type and state, and take $label with $filter', async () => {
      assert.deepEqual(await all(api, `${V}/liveEvents?$filter=${q("properties/description eq 'd-lst-c'")}`), ['lst-c']);
      assert.deepEqual(await all(api, `${L}/liveEvents?$filter=${q("properties/encoding/encodingType eq 'Standard'")}`), ['lst-d']);
      assert.deepEqual(await all(api, `${V}/liveEvents?$filter=${q("properties/resourceState ne 'Stopped'")}`), []);
      assert.deepEqual(await all(api, `${V}/liveEvents?$orderby=${q('properties/encoding/encodingType desc, name')}&$filter=${q("name le 'lst-b'")}`), [
        'lst-a',
        'lst-b',
      ]);
      assert.deepEqual(await all(api, `${V}/liveEvents?$label=list=lst-a&$label=list=lst-e&$filter=${q("name ne 'lst-a'")}`), ['lst-e']);
      await expectError(api, `${V}/liveEvents?$label=${q('bad label')}`, 'InvalidLabel', '$label');
    });

    it('jobs filter on state and on the transform', async () => {
      assert.deepEqual(await all(api, `${V}/jobs?$filter=${q("transform eq 'lst-b'")}`), []);
      const states = await api.get(`${V}/jobs?$filter=${q("properties/state ne 'NoSuchState'")}&$orderby=${q('properties/state, name')}`);
      assert.equal(states.status, 200);
      assert.equal(states.body.value.length, names.length);
    });

    it('storage credentials page with $top; they have no fields to filter or sort on', async () => {
      for (let i = 0; i < 2; i++) {
        const cred = await api.post(`${V}/storage/lst-a/credentials`, { spec: { type: 'Microsoft.Storage', credential: { sasToken: azuriteSas() } } });
        assert.equal(cred.status, 201, cred.text);
      }
      const everything = (await api.get(`${V}/storage/lst-a/credentials`)).body.value as Array<{ metadata: { id: string } }>;
      assert.equal(everything.length, 3);
      const seen: string[] = [];
      let url: string | undefined = `${V}/storage/lst-a/credentials?$top=2`;
      while (url) {
        const res: ApiResponse = await api.get(url);
        assert.equal(res.status, 200, res.text);
        seen.push(...(res.body.value as Array<{ metadata: { id: string } }>).map((c) => c.metadata.id));
        const next = res.body['@odata.nextLink'] as string | undefined;
        url = next === undefined ? undefined : encodeURI(decodeURIComponent(next));
      }
      assert.deepEqual(seen.sort(), everything.map((c) => c.metadata.id).sort());
      await expectError(api, `${V}/storage/lst-a/credentials?$filter=${q("name eq 'x'")}`, 'InvalidFilter', '$filter');
      await expectError(api, `${V}/storage/lst-a/credentials?$orderby=created`, 'InvalidOrderBy', '$orderby');
    });

    it('lists without documented options (legacy storage, user tokens) refuse them instead of ignoring them', async () => {
      const profile = await api.get('/api/v1/user/profile');
      const org = profile.body.spec.activeOrganizationId as string;
      const project = (await api.get(`${V}/assets?$top=1`)).body.supplemental.subscription.id as string;
      const legacy = `/api/accounts/${org}/subscriptions/${project}/storage/`;
      assert.equal((await api.get(legacy, { contract: false })).status, 200);
      for (const url of [`${legacy}?$top=1`, `${legacy}?$filter=${q("name eq 'x'")}`, `/api/v1/user/tokens?$orderby=created`]) {
        const res = await api.get(url, { contract: false });
        assert.equal(res.status, 400, `${url}: ${res.text}`);
        assert.equal(res.body.error.code, 'InvalidQuery');
      }
    });
  });
}
