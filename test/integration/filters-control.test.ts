import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { dialects, startTestServer, type TestServer } from '../support/server.js';
import { setUpTenants, type Tenant } from '../support/tenants.js';
import type { ApiClient } from '../support/api.js';
import { assertMkioSchema } from '../support/mkio-contract.js';

/**
 * Account filters and asset filters in the control plane (MK.IO §8, issue 15): CRUD on both media prefixes and
 * both asset-filter segments, list paging, validation, tenant isolation, locators naming filters, and an asset's
 * filters going with it. Responses are contract-checked by ApiClient against MK.IO's schemas.
 */
type Json = Record<string, any>;

const goodProperties = {
  presentationTimeRange: { startTimestamp: 0, endTimestamp: 600_000_000, timescale: 10_000_000, forceEndTimestamp: false },
  firstQuality: { bitrate: 1_500_000 },
  tracks: [
    {
      trackSelections: [
        { property: 'Type', operation: 'Equal', value: 'Video' },
        { property: 'Bitrate', operation: 'Equal', value: '0-2000000' },
      ],
    },
    { trackSelections: [{ property: 'Language', operation: 'NotEqual', value: 'en' }] },
  ],
};

const condition = (property: string, operation: string, value: string) => ({ property, operation, value });
const withTracks = (...trackSelections: Json[]) => ({ tracks: [{ trackSelections }] });

/** Bad filter properties, and the field the 400 must name. */
const badInputs: Array<[string, Json, RegExp]> = [
  ['a negative startTimestamp', { presentationTimeRange: { startTimestamp: -1 } }, /presentationTimeRange\.startTimestamp/],
  ['a fractional endTimestamp', { presentationTimeRange: { endTimestamp: 1.5 } }, /presentationTimeRange\.endTimestamp/],
  ['a text startTimestamp', { presentationTimeRange: { startTimestamp: 'soon' } }, /presentationTimeRange\.startTimestamp/],
  ['an end before the start', { presentationTimeRange: { startTimestamp: 100, endTimestamp: 50, timescale: 1 } }, /presentationTimeRange\.endTimestamp/],
  ['an end equal to the start', { presentationTimeRange: { startTimestamp: 100, endTimestamp: 100 } }, /presentationTimeRange\.endTimestamp/],
  ['timescale 0', { presentationTimeRange: { timescale: 0 } }, /presentationTimeRange\.timescale/],
  ['timescale 10^10', { presentationTimeRange: { timescale: 10_000_000_000 } }, /presentationTimeRange\.timescale/],
  ['forceEndTimestamp without endTimestamp', { presentationTimeRange: { forceEndTimestamp: true } }, /presentationTimeRange\.endTimestamp/],
  ['a 5 s presentation window', { presentationTimeRange: { presentationWindowDuration: 5, timescale: 1 } }, /presentationWindowDuration/],
  ['a 301 s live backoff', { presentationTimeRange: { liveBackoffDuration: 301, timescale: 1 } }, /liveBackoffDuration/],
  ['an unknown time range member', { presentationTimeRange: { start: 1 } }, /presentationTimeRange.*'start'/],
  ['firstQuality bitrate 0', { firstQuality: { bitrate: 0 } }, /firstQuality\.bitrate/],
  ['a negative firstQuality bitrate', { firstQuality: { bitrate: -5 } }, /firstQuality\.bitrate/],
  ['firstQuality without bitrate', { firstQuality: {} }, /firstQuality/],
  ['an unknown track property', withTracks(condition('Codec', 'Equal', 'avc1')), /tracks\.0\.trackSelections\.0\.property/],
  ['an unknown operation', withTracks(condition('Type', 'Contains', 'Video')), /tracks\.0\.trackSelections\.0\.operation/],
  ['a Type that is no track type', withTracks(condition('Type', 'Equal', 'Subtitle')), /tracks\.0\.trackSelections\.0\.value/],
  ['a Bitrate that is no number', withTracks(condition('Bitrate', 'Equal', 'fast')), /tracks\.0\.trackSelections\.0\.value/],
  ['a Bitrate range high to low', withTracks(condition('Bitrate', 'Equal', '2000000-1000')), /tracks\.0\.trackSelections\.0\.value/],
  ['a Bitrate range missing its end', withTracks(condition('Bitrate', 'Equal', '1000-')), /tracks\.0\.trackSelections\.0\.value/],
  ['a condition without a value', withTracks({ property: 'Type', operation: 'Equal' }), /tracks\.0\.trackSelections\.0/],
  ['an unknown condition member', withTracks({ ...condition('Type', 'Equal', 'Audio'), negate: true }), /'negate'/],
  ['a selection with no condition', { tracks: [{ trackSelections: [] }] }, /tracks\.0\.trackSelections/],
  [
    '101 track conditions',
    {
      tracks: [
        { trackSelections: Array.from({ length: 60 }, () => condition('Type', 'Equal', 'Audio')) },
        { trackSelections: Array.from({ length: 41 }, () => condition('Language', 'Equal', 'en')) },
      ],
    },
    /properties\.tracks\b.*101/,
  ],
  ['an unknown filter property', { presentationTimeRange: {}, dvr: true }, /'dvr'/],
];

for (const dialect of dialects) {
  describe(`account and asset filters on ${dialect}`, () => {
    let server: TestServer;
    let a: Tenant;
    let b: Tenant;
    let api: ApiClient;

    before(async () => {
      server = await startTestServer(dialect);
      ({ a, b } = await setUpTenants(server, 'filters'));
      api = a.admin.api;
      for (const asset of ['movie', 'trailer']) {
        const put = await api.put(`${a.v1}/assets/${asset}`, { properties: { storageAccountName: 'local' } });
        assert.equal(put.status, 201, put.text);
      }
    });
    after(async () => {
      await server?.close();
    });

    it('creates, reads, updates, lists and deletes account filters on both prefixes', async () => {
      for (const [prefix, other] of [
        [a.legacy, a.v1],
        [a.v1, a.legacy],
      ]) {
        const name = prefix === a.legacy ? 'acct-legacy' : 'acct-v1';
        const created = await api.put(`${prefix}/accountFilters/${name}`, { properties: goodProperties });
        assert.equal(created.status, 201, created.text);
        assert.equal(created.body.name, name);
        assert.equal(created.body.type, 'Microsoft.Media/mediaservices/accountFilters');
        assert.match(created.body.id, new RegExp(`/mediaservices/${a.projectName}/accountFilters/${name}$`));
        assert.deepEqual(created.body.properties, goodProperties);
        assert.equal(created.body.systemData.createdBy, a.admin.email);

        const changed = { presentationTimeRange: { startTimestamp: 10, endTimestamp: 20, timescale: 1 } };
        const updated = await api.put(`${other}/accountFilters/${name}`, { properties: changed });
        assert.equal(updated.status, 200, updated.text);
        assert.deepEqual(updated.body.properties, changed);
        assert.equal(updated.body.systemData.createdAt, created.body.systemData.createdAt);

        const got = await api.get(`${prefix}/accountFilters/${name}`);
        assert.equal(got.status, 200);
        assert.deepEqual(got.body.properties, changed);
        const list = await api.get(`${other}/accountFilters`);
        assert.ok(
          list.body.value.some((f: Json) => f.name === name),
          list.text,
        );

        assert.equal((await api.delete(`${prefix}/accountFilters/${name}`)).status, 200);
        const gone = await api.get(`${other}/accountFilters/${name}`);
        assert.equal(gone.status, 404);
        assert.match(gone.body.error.detail, /not found/);
        assert.equal((await api.delete(`${prefix}/accountFilters/${name}`)).status, 204);
      }
    });

    it('serves asset filters under assetFilters and filters on both prefixes', async () => {
      for (const prefix of [a.legacy, a.v1]) {
        for (const [segment, other] of [
          ['assetFilters', 'filters'],
          ['filters', 'assetFilters'],
        ]) {
          const name = `asset-${segment}-${prefix === a.legacy ? 'legacy' : 'v1'}`;
          // `/filters/` is the .NET client's path, not in MK.IO's OpenAPI: its bodies are checked by schema here.
          const options = (seg: string) => (seg === 'filters' ? { contract: false as const } : {});
          const checked = (seg: string, body: unknown) => {
            if (seg === 'filters') assertMkioSchema('media', 'AssetFilterSchema', body);
          };
          const created = await api.put(`${prefix}/assets/movie/${segment}/${name}`, { properties: goodProperties }, options(segment));
          assert.equal(created.status, 201, created.text);
          checked(segment, created.body);
          assert.equal(created.body.type, 'Microsoft.Media/mediaservices/assets/assetFilters');
          assert.match(created.body.id, new RegExp(`/assets/movie/assetFilters/${name}$`));
          assert.deepEqual(created.body.properties, goodProperties);

          const got = await api.get(`${prefix}/assets/movie/${other}/${name}`, options(other));
          assert.equal(got.status, 200, got.text);
          checked(other, got.body);
          assert.deepEqual(got.body, created.body);
          const updated = await api.put(`${prefix}/assets/movie/${other}/${name}`, { properties: { firstQuality: { bitrate: 800_000 } } }, options(other));
          assert.equal(updated.status, 200, updated.text);
          assert.deepEqual(updated.body.properties, { firstQuality: { bitrate: 800_000 } });

          const list = await api.get(`${prefix}/assets/movie/assetFilters`);
          assert.ok(list.body.value.some((f: Json) => f.name === name));
          // Another asset of the project does not have it.
          assert.equal((await api.get(`${prefix}/assets/trailer/assetFilters/${name}`)).status, 404);
          assert.ok(!(await api.get(`${prefix}/assets/trailer/assetFilters`)).body.value.some((f: Json) => f.name === name));

          assert.equal((await api.delete(`${prefix}/assets/movie/${segment}/${name}`, options(segment))).status, 200);
          assert.equal((await api.get(`${prefix}/assets/movie/${other}/${name}`, options(other))).status, 404);
          assert.equal((await api.delete(`${prefix}/assets/movie/${other}/${name}`, options(other))).status, 204);
        }
      }
      // An asset that does not exist has no filters to list, read or write.
      for (const call of [
        () => api.get(`${a.v1}/assets/ghost/assetFilters`),
        () => api.get(`${a.v1}/assets/ghost/assetFilters/x`),
        () => api.put(`${a.v1}/assets/ghost/assetFilters/x`, { properties: goodProperties }),
        () => api.delete(`${a.v1}/assets/ghost/assetFilters/x`),
      ]) {
        const res = await call();
        assert.equal(res.status, 404, res.text);
        assert.match(res.body.error.detail, /Asset 'ghost' not found/);
      }
    });

    it('does not serve the Go tool’s DELETE …/assetFilters/{filter} without an asset', async () => {
      assert.equal((await api.put(`${a.v1}/assets/movie/assetFilters/go-tool`, { properties: goodProperties })).status, 201);
      const res = await api.delete(`${a.legacy}/assetFilters/go-tool`, { contract: false });
      assert.equal(res.status, 404);
      assert.equal((await api.get(`${a.v1}/assets/movie/assetFilters/go-tool`)).status, 200);
    });

    it('pages, filters and sorts both lists', async () => {
      for (let i = 0; i < 5; i++) {
        assert.equal((await api.put(`${a.v1}/accountFilters/page-${i}`, { properties: { firstQuality: { bitrate: 1000 + i } } })).status, 201);
        assert.equal((await api.put(`${a.v1}/assets/trailer/assetFilters/page-${i}`, { properties: { firstQuality: { bitrate: 1000 + i } } })).status, 201);
      }
      for (const list of [`${a.legacy}/accountFilters`, `${a.v1}/assets/trailer/assetFilters`]) {
        const names: string[] = [];
        let next: string | undefined = `${list}?$filter=${encodeURIComponent("name ge 'page-' and name lt 'page.'")}&$orderby=name desc&$top=2`;
        let pages = 0;
        while (next) {
          const page: { status: number; text: string; body: Json } = await api.get(next);
          assert.equal(page.status, 200, page.text);
          names.push(...page.body.value.map((f: Json) => f.name as string));
          next = page.body['@odata.nextLink'];
          pages++;
        }
        assert.equal(pages, 3);
        assert.deepEqual(names, ['page-4', 'page-3', 'page-2', 'page-1', 'page-0']);
        const one = await api.get(`${list}?$filter=${encodeURIComponent("name eq 'page-3'")}`);
        assert.deepEqual(
          one.body.value.map((f: Json) => f.name),
          ['page-3'],
        );
        assert.equal(one.body.supplemental.pagination.total, 1);
        const bad = await api.get(`${list}?$orderby=bitrate`);
        assert.equal(bad.status, 400);
        assert.equal(bad.body.error.code, 'InvalidOrderBy');
      }
    });

    it('takes 100 track conditions, and the track values in any case', async () => {
      const hundred = {
        tracks: [
          { trackSelections: Array.from({ length: 50 }, () => condition('Type', 'Equal', 'audio')) },
          { trackSelections: Array.from({ length: 50 }, () => condition('Bitrate', 'NotEqual', '128000')) },
        ],
      };
      const res = await api.put(`${a.v1}/accountFilters/hundred`, { properties: hundred });
      assert.equal(res.status, 201, res.text);
      assert.equal(res.body.properties.tracks[0].trackSelections[0].value, 'Audio', 'Type values are stored in MK.IO’s spelling');
    });

    for (const [what, properties, field] of badInputs) {
      it(`refuses ${what} with a 400 naming the field`, async () => {
        for (const path of [`${a.v1}/accountFilters/bad`, `${a.legacy}/assets/movie/assetFilters/bad`]) {
          const res = await api.put(path, { properties }, { checkRequest: false });
          assert.equal(res.status, 400, `${path}: ${res.text}`);
          assert.equal(res.body.error.code, 'ValidationError');
          assert.match(res.body.error.detail, field);
          assert.equal((await api.get(path)).status, 404, 'nothing was created');
        }
      });
    }

    it('refuses a body without properties, and a bad name', async () => {
      const res = await api.put(`${a.v1}/accountFilters/bad`, { name: 'bad' }, { checkRequest: false });
      assert.equal(res.status, 400);
      assert.match(res.body.error.detail, /properties/);
      const named = await api.put(`${a.v1}/accountFilters/bad%3Cname`, { properties: goodProperties }, { checkRequest: false });
      assert.equal(named.status, 400);
      assert.equal(named.body.error.code, 'ValidationError');
    });

    it('keeps tenants apart', async () => {
      assert.equal((await api.put(`${a.v1}/accountFilters/shared-name`, { properties: { firstQuality: { bitrate: 1 } } })).status, 201);
      assert.equal((await api.put(`${a.v1}/assets/movie/assetFilters/shared-name`, { properties: { firstQuality: { bitrate: 1 } } })).status, 201);
      const rival = b.admin.api;
      // Another organization's project is not found, whatever is asked of it.
      for (const res of [
        await rival.get(`${a.v1}/accountFilters`),
        await rival.get(`${a.v1}/accountFilters/shared-name`),
        await rival.delete(`${a.legacy}/accountFilters/shared-name`),
        await rival.get(`${a.v1}/assets/movie/assetFilters/shared-name`),
        await rival.put(`${a.v1}/assets/movie/assetFilters/shared-name`, { properties: { firstQuality: { bitrate: 2 } } }),
      ]) {
        assert.equal(res.status, 404, res.text);
      }
      // The same name in the other project is another filter.
      assert.equal((await rival.put(`${b.v1}/accountFilters/shared-name`, { properties: { firstQuality: { bitrate: 2 } } })).status, 201);
      assert.equal((await api.get(`${a.v1}/accountFilters/shared-name`)).body.properties.firstQuality.bitrate, 1);
      assert.deepEqual(
        (await rival.get(`${b.v1}/accountFilters`)).body.value.map((f: Json) => f.name),
        ['shared-name'],
      );
      assert.equal((await rival.get(`${b.v1}/assets/movie/assetFilters`)).status, 404);
    });

    it('lets a Reader read filters but not change them', async () => {
      assert.equal((await a.reader.api.get(`${a.v1}/accountFilters`)).status, 200);
      assert.equal((await a.reader.api.get(`${a.v1}/assets/movie/assetFilters`)).status, 200);
      assert.equal((await a.reader.api.put(`${a.v1}/accountFilters/reader`, { properties: goodProperties })).status, 403);
      assert.equal((await a.reader.api.put(`${a.v1}/assets/movie/assetFilters/reader`, { properties: goodProperties })).status, 403);
      assert.equal((await a.reader.api.delete(`${a.v1}/accountFilters/shared-name`)).status, 403);
      assert.equal((await a.contributor.api.put(`${a.v1}/accountFilters/contributor`, { properties: goodProperties })).status, 201);
    });

    it('refuses locators naming unknown filters, and deleting a filter an active locator names', async () => {
      const locator = (filters: string[], extra: Json = {}) => ({
        properties: { assetName: 'movie', streamingPolicyName: 'Predefined_ClearStreamingOnly', filters, ...extra },
      });
      assert.equal((await api.put(`${a.v1}/accountFilters/loc-account`, { properties: goodProperties })).status, 201);
      assert.equal((await api.put(`${a.v1}/assets/movie/assetFilters/loc-asset`, { properties: goodProperties })).status, 201);
      assert.equal((await api.put(`${a.v1}/assets/trailer/assetFilters/loc-trailer`, { properties: goodProperties })).status, 201);

      const unknown = await api.put(`${a.v1}/streamingLocators/loc-bad`, locator(['loc-account', 'nope']));
      assert.equal(unknown.status, 400, unknown.text);
      assert.equal(unknown.body.error.code, 'FilterNotFound');
      assert.match(unknown.body.error.detail, /'nope'/);
      // Another asset's filter is not this asset's.
      const foreign = await api.put(`${a.v1}/streamingLocators/loc-bad`, locator(['loc-trailer']));
      assert.equal(foreign.status, 400, foreign.text);
      assert.equal(foreign.body.error.code, 'FilterNotFound');
      // Another project's account filter neither.
      assert.equal((await b.admin.api.put(`${b.v1}/accountFilters/rival-only`, { properties: goodProperties })).status, 201);
      assert.equal((await api.put(`${a.v1}/streamingLocators/loc-bad`, locator(['rival-only']))).status, 400);
      assert.equal((await api.get(`${a.v1}/streamingLocators/loc-bad`)).status, 404, 'nothing was created');
      const tooMany = await api.put(`${a.v1}/streamingLocators/loc-bad`, locator(['loc-account', 'loc-asset', 'loc-account', 'loc-asset']));
      assert.equal(tooMany.status, 400, tooMany.text);

      const ok = await api.put(`${a.legacy}/streamingLocators/loc-ok`, locator(['loc-account', 'loc-asset']));
      assert.equal(ok.status, 201, ok.text);
      assert.deepEqual(ok.body.properties.filters, ['loc-account', 'loc-asset']);

      for (const path of [`${a.v1}/accountFilters/loc-account`, `${a.legacy}/assets/movie/filters/loc-asset`]) {
        const refused = await api.delete(path, path.includes('/filters/') ? { contract: false } : {});
        assert.equal(refused.status, 409, refused.text);
        assert.equal(refused.body.error.code, 'FilterInUse');
        assert.match(refused.body.error.detail, /'loc-ok'/);
      }
      // Editing a filter a locator names is allowed (it takes effect on the next manifests).
      assert.equal((await api.put(`${a.v1}/accountFilters/loc-account`, { properties: { firstQuality: { bitrate: 1 } } })).status, 200);
      // A locator that has ended does not hold its filters.
      const ended = await api.put(
        `${a.v1}/streamingLocators/loc-ended`,
        locator(['loc-account'], { startTime: new Date(Date.now() - 7_200_000).toISOString(), endTime: new Date(Date.now() - 3_600_000).toISOString() }),
      );
      assert.equal(ended.status, 201, ended.text);
      assert.equal((await api.delete(`${a.v1}/streamingLocators/loc-ok`)).status, 200);
      assert.equal((await api.delete(`${a.v1}/accountFilters/loc-account`)).status, 200);
      assert.equal((await api.delete(`${a.v1}/assets/movie/assetFilters/loc-asset`)).status, 200);
    });

    it('deletes an asset’s filters with the asset', async () => {
      assert.equal((await api.put(`${a.v1}/assets/doomed`, { properties: { storageAccountName: 'local' } })).status, 201);
      assert.equal((await api.put(`${a.v1}/assets/doomed/assetFilters/mine`, { properties: goodProperties })).status, 201);
      assert.equal(
        (
          await api.put(`${a.v1}/streamingLocators/doomed-loc`, {
            properties: { assetName: 'doomed', streamingPolicyName: 'Predefined_ClearStreamingOnly', filters: ['mine'] },
          })
        ).status,
        201,
      );
      assert.equal((await api.delete(`${a.v1}/assets/doomed`)).status, 200);
      assert.equal((await api.put(`${a.v1}/assets/doomed`, { properties: { storageAccountName: 'local' } })).status, 201);
      assert.equal((await api.get(`${a.v1}/assets/doomed/assetFilters/mine`)).status, 404);
      assert.deepEqual((await api.get(`${a.v1}/assets/doomed/assetFilters`)).body.value, []);
    });
  });
}
