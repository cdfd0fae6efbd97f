import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { dialects, startTestServer, type TestServer } from '../support/server.js';
import { setUpTenants, type Tenant } from '../support/tenants.js';
import { contractStats, type ApiClient } from '../support/api.js';

/**
 * Live events and live outputs in the control plane (MK.IO §15, §16, issue 16): create-only PUTs on both media
 * prefixes, lists with labels and OData, validation (each bad body answers MK.IO's error body and creates
 * nothing), start/stop and `/state`, outputs recording into existing assets, and tenant isolation. The live
 * runtime is not wired yet, so every state is reached at once (unwired-live-control.ts). Responses are
 * contract-checked by ApiClient against MK.IO's schemas.
 */
type Json = Record<string, any>;

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A body with every member MK.IO's OpenAPI marks required, so ApiClient also checks it as a request. */
const fullBody = (over: Json = {}, input: Json = {}): Json => ({
  location: 'local',
  tags: { team: 'news', desk: 'sports' },
  properties: {
    description: 'studio feed',
    useStaticHostname: false,
    streamOptions: ['Default'],
    encoding: { encodingType: 'PassthroughStandard' },
    input: {
      streamingProtocol: 'RTMP',
      accessToken: `token-${Math.random().toString(36).slice(2, 12)}`,
      keyFrameIntervalDuration: 'PT2S',
      accessControl: { ip: { allow: [{ name: 'office', address: '203.0.113.0', subnetPrefixLength: 24 }] } },
      timedMetadataEndpoints: [],
      ...input,
    },
    preview: { streamingPolicyName: 'Predefined_ClearStreamingOnly', accessControl: { ip: { allow: [] } } },
    ...over,
  },
});

/** Bodies MK.IO refuses, and the field the 400 must name. Sent unchecked as requests (they break the schema). */
const badBodies: Array<[string, Json, RegExp]> = [
  ['an unknown encoding type', fullBody({ encoding: { encodingType: 'Ultra' } }), /encodingType/],
  ['no encoding', { tags: {}, properties: { input: {} } }, /encoding/],
  [
    'a key frame interval of 11 s',
    fullBody({ encoding: { encodingType: 'Standard', keyFrameInterval: 'PT11S' } }, { keyFrameIntervalDuration: '' }),
    /keyFrameInterval/,
  ],
  [
    'a key frame interval of 0.5 s',
    fullBody({ encoding: { encodingType: 'Standard', keyFrameInterval: 'PT0.5S' } }, { keyFrameIntervalDuration: '' }),
    /keyFrameInterval/,
  ],
  [
    'a key frame interval in words',
    fullBody({ encoding: { encodingType: 'Standard', keyFrameInterval: 'two seconds' } }, { keyFrameIntervalDuration: '' }),
    /keyFrameInterval/,
  ],
  [
    'a preset of another encoding type',
    fullBody({ encoding: { encodingType: 'Standard', presetName: 'Default1080p' } }, { keyFrameIntervalDuration: '' }),
    /presetName/,
  ],
  ['a preset on pass-through', fullBody({ encoding: { encodingType: 'PassthroughBasic', presetName: 'Default720p' } }), /presetName/],
  ['an unknown stream option', fullBody({ streamOptions: ['Fast'] }), /streamOptions/],
  ['two stream options', fullBody({ streamOptions: ['Default', 'LowLatency'] }), /streamOptions/],
  ['SRT with PassthroughBasic', fullBody({ encoding: { encodingType: 'PassthroughBasic' } }, { streamingProtocol: 'SRT' }), /streamingProtocol.*SRT/],
  ['SRT with PassthroughStandard', fullBody({}, { streamingProtocol: 'SRT' }), /streamingProtocol.*SRT/],
  ['RTMPS without a certificate', fullBody({}, { streamingProtocol: 'RTMPS' }), /streamingProtocol.*RTMPS/],
  ['FragmentedMP4 ingest', fullBody({}, { streamingProtocol: 'FragmentedMP4' }), /streamingProtocol/],
  ['a 9-character access token', fullBody({}, { accessToken: '123456789' }), /accessToken/],
  ['an 80-character access token', fullBody({}, { accessToken: 'a'.repeat(80) }), /accessToken/],
  ['an access token with a slash', fullBody({}, { accessToken: 'abc/defghijk' }), /accessToken/],
  [
    'an allow entry that is no address',
    fullBody({}, { accessControl: { ip: { allow: [{ name: 'x', address: 'nope', subnetPrefixLength: 0 }] } } }),
    /allow\.0\.address/,
  ],
  [
    'a prefix length of 33',
    fullBody({}, { accessControl: { ip: { allow: [{ name: 'x', address: '10.0.0.0', subnetPrefixLength: 33 }] } } }),
    /subnetPrefixLength/,
  ],
  [
    'a 33-character allow name',
    fullBody({}, { accessControl: { ip: { allow: [{ name: 'n'.repeat(33), address: '10.0.0.0', subnetPrefixLength: 8 }] } } }),
    /name/,
  ],
  ['a pass-through input key frame interval of 20 s', fullBody({}, { keyFrameIntervalDuration: 'PT20S' }), /keyFrameIntervalDuration/],
  ['another preview policy', fullBody({ preview: { streamingPolicyName: 'Predefined_DownloadOnly' } }), /streamingPolicyName/],
  ['a preview locator that is no GUID', fullBody({ preview: { previewLocator: 'not-a-guid' } }), /previewLocator/],
  ['a 4097-character description', fullBody({ description: 'd'.repeat(4097) }), /description/],
  ['17 tags', { ...fullBody(), tags: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v'])) }, /tags/],
  ['a 65-character tag', { ...fullBody(), tags: { team: 't'.repeat(65) } }, /tags/],
  ['a hostname prefix without a static hostname', fullBody({ hostnamePrefix: 'studio' }), /hostnamePrefix/],
  ['transcriptions', fullBody({ transcriptions: [{ language: 'en-US' }] }), /transcriptions/],
  ['an unknown property', fullBody({ dvr: true }), /'dvr'/],
];

for (const dialect of dialects) {
  describe(`live events and live outputs on ${dialect}`, () => {
    let server: TestServer;
    let a: Tenant;
    let b: Tenant;
    let api: ApiClient;
    const checkedBefore = contractStats.responses;

    before(async () => {
      server = await startTestServer(dialect);
      ({ a, b } = await setUpTenants(server, 'live'));
      api = a.admin.api;
      for (const asset of ['archive-1', 'archive-2', 'archive-3', 'archive-4', 'archive-5', 'archive-6', 'archive-7']) {
        const put = await api.put(`${a.v1}/assets/${asset}`, { properties: { storageAccountName: 'local' } });
        assert.equal(put.status, 201, put.text);
      }
    });
    after(async () => {
      await server?.close();
    });

    it('creates a live event once (200, then 409) and reads it on both prefixes', async () => {
      const body = fullBody();
      const created = await api.put(`${a.v1}/liveEvents/studio`, body);
      assert.equal(created.status, 200, created.text);
      const e = created.body;
      assert.equal(e.name, 'studio');
      assert.equal(e.type, 'Microsoft.Media/mediaservices/liveevents');
      assert.match(e.id, new RegExp(`/mediaservices/${a.projectName}/liveEvents/studio$`));
      assert.equal(e.location, 'local');
      assert.deepEqual(e.tags, body.tags);
      assert.equal(e.properties.description, 'studio feed');
      assert.equal(e.properties.resourceState, 'Stopped');
      assert.equal(e.properties.provisioningState, 'Succeeded');
      assert.equal(e.properties.input.accessToken, body.properties.input.accessToken);
      assert.deepEqual(e.properties.input.accessControl, body.properties.input.accessControl);
      // The shared RTMP listener's port (the tests' servers take any free one).
      assert.equal(e.properties.input.endpoints.length, 1);
      assert.equal(e.properties.input.endpoints[0].protocol, 'RTMP');
      assert.match(e.properties.input.endpoints[0].url, new RegExp(`^rtmp://${new URL(server.url).hostname}:\\d+/${body.properties.input.accessToken}$`));
      assert.match(e.properties.preview.previewLocator, uuid);
      assert.equal(e.properties.preview.endpoints.length, 1);
      assert.equal(e.properties.preview.endpoints[0].protocol, 'FragmentedMP4');
      assert.match(
        e.properties.preview.endpoints[0].url,
        new RegExp(`^http://default-${a.projectName}\\..+/${e.properties.preview.previewLocator}/manifest\\.mpd$`),
      );
      assert.equal(e.systemData.createdBy, a.admin.email);

      const again = await api.put(`${a.legacy}/liveEvents/studio`, fullBody({ description: 'changed' }));
      assert.equal(again.status, 409, again.text);
      assert.match(again.body.error.detail, /already exists/);
      const got = await api.get(`${a.legacy}/liveEvents/studio`);
      assert.equal(got.status, 200);
      assert.equal(got.body.properties.description, 'studio feed', 'the 409 changed nothing');
      assert.deepEqual(got.body.properties.input, e.properties.input);
      const state = await api.get(`${a.v1}/liveEvents/studio/state`);
      assert.deepEqual(state.body, { status: { state: 'Stopped' } });
    });

    it('PATCH changes only the pipeline; other members must be sent back unchanged', async () => {
      const read = await api.get(`${a.v1}/liveEvents/studio`);
      const { created: _c, lastModified: _l, provisioningState: _p, resourceState: _r, ...settable } = read.body.properties;
      const same = await api.patch(`${a.legacy}/liveEvents/studio`, { tags: read.body.tags, properties: settable });
      assert.equal(same.status, 200, same.text);
      const piped = await api.patch(`${a.v1}/liveEvents/studio`, { properties: { pipeline: { name: 'Predefined_ACSLiveTranscription' } } });
      assert.equal(piped.status, 200, piped.text);
      assert.deepEqual(piped.body.properties.pipeline, { name: 'Predefined_ACSLiveTranscription' });
      const changed = await api.patch(`${a.v1}/liveEvents/studio`, { properties: { description: 'another feed' } });
      assert.equal(changed.status, 400, changed.text);
      assert.match(changed.body.error.detail, /description cannot be changed/);
      const retagged = await api.patch(`${a.v1}/liveEvents/studio`, { tags: { team: 'other' }, properties: {} });
      assert.equal(retagged.status, 400, retagged.text);
      const got = await api.get(`${a.v1}/liveEvents/studio`);
      assert.equal(got.body.properties.description, 'studio feed');
      assert.deepEqual(got.body.tags, read.body.tags);
      assert.equal((await api.patch(`${a.v1}/liveEvents/nothing`, { properties: {} })).status, 404);
    });

    it('fills in what a minimal body leaves out', async () => {
      const minimal = { tags: {}, properties: { encoding: { encodingType: 'Standard' } } };
      const created = await api.put(`${a.v1}/liveEvents/encoder`, minimal, { checkRequest: false });
      assert.equal(created.status, 200, created.text);
      const p = created.body.properties;
      assert.deepEqual(p.encoding, { encodingType: 'Standard', presetName: 'Default720p', keyFrameInterval: 'PT2S' });
      assert.deepEqual(p.streamOptions, ['Default']);
      assert.equal(p.useStaticHostname, false);
      assert.equal(p.input.streamingProtocol, 'RTMP');
      assert.match(p.input.accessToken, uuid);
      assert.deepEqual(p.input.accessControl, { ip: { allow: [] } });
      assert.equal(p.preview.streamingPolicyName, 'Predefined_ClearStreamingOnly');
      assert.match(p.preview.previewLocator, uuid);

      const premium = await api.put(
        `${a.v1}/liveEvents/premium-srt`,
        { tags: {}, properties: { encoding: { encodingType: 'Premium1080p' }, input: { streamingProtocol: 'SRT' }, streamOptions: ['LowLatency'] } },
        { checkRequest: false },
      );
      assert.equal(premium.status, 200, premium.text);
      assert.equal(premium.body.properties.encoding.presetName, 'Default1080p');
      assert.equal(premium.body.properties.input.endpoints[0].protocol, 'SRT');
      // The shared SRT port (the test server binds any free one; 6000 by default).
      const srtUrl: string = premium.body.properties.input.endpoints[0].url;
      assert.match(srtUrl, /^srt:\/\/.+:\d+\?passphrase=[^&]+&pbkeylen=16$/);
      assert.deepEqual(premium.body.properties.streamOptions, ['LowLatency']);

      // SRT callers' addresses are known (the shared SRT listener sees them): an SRT event takes an office-only list.
      const officeSrt = await api.put(`${a.v1}/liveEvents/office-srt`, fullBody({ encoding: { encodingType: 'Standard' } }, { streamingProtocol: 'SRT' }));
      assert.equal(officeSrt.status, 200, officeSrt.text);
      assert.deepEqual(officeSrt.body.properties.input.accessControl.ip.allow, [{ name: 'office', address: '203.0.113.0', subnetPrefixLength: 24 }]);
      const officeUrl: string = officeSrt.body.properties.input.endpoints[0].url;
      assert.equal(officeUrl.split('?')[0], srtUrl.split('?')[0], 'every SRT event has the one SRT port');
      assert.ok([200, 202, 204].includes((await api.delete(`${a.v1}/liveEvents/office-srt`)).status)); // the listings below count the others

      // A token or preview locator another event holds is refused.
      const token = created.body.properties.input.accessToken;
      const sameToken = await api.put(`${a.v1}/liveEvents/copycat`, fullBody({}, { accessToken: token }));
      assert.equal(sameToken.status, 409, sameToken.text);
      const sameLocator = await api.put(`${a.v1}/liveEvents/copycat`, fullBody({ preview: { previewLocator: p.preview.previewLocator } }));
      assert.equal(sameLocator.status, 409, sameLocator.text);
      assert.equal((await api.get(`${a.v1}/liveEvents/copycat`)).status, 404);
      // Nor may a streaming locator take a preview locator's id: both are played by id on the same hosts.
      const locator = await api.put(`${a.v1}/streamingLocators/copycat`, {
        properties: { assetName: 'archive-7', streamingPolicyName: 'Predefined_ClearStreamingOnly', streamingLocatorId: p.preview.previewLocator },
      });
      assert.equal(locator.status, 409, locator.text);
    });

    for (const [what, body, field] of badBodies) {
      it(`refuses ${what} with 400 and creates nothing`, async () => {
        const res = await api.put(`${a.v1}/liveEvents/refused`, body, { checkRequest: false });
        assert.equal(res.status, 400, res.text);
        assert.equal(typeof res.body.error.code, 'string');
        assert.equal(res.body.status, 400);
        assert.match(res.body.error.detail, field);
        assert.equal((await api.get(`${a.v1}/liveEvents/refused`)).status, 404);
      });
    }

    it('refuses names outside MK.IO rule', async () => {
      for (const name of ['a', 'x'.repeat(33), 'bad_name', '-lead', 'trail-']) {
        const res = await api.put(`${a.v1}/liveEvents/${name}`, fullBody(), { checkRequest: false });
        assert.equal(res.status, 400, `${name}: ${res.text}`);
      }
    });

    it('lists with labels, $filter, $orderby and paging', async () => {
      await api.put(`${a.v1}/liveEvents/weather`, { ...fullBody(), tags: { team: 'weather' } });
      const byKey = await api.get(`${a.v1}/liveEvents?$label_key=desk`);
      assert.deepEqual(
        byKey.body.value.map((e: Json) => e.name),
        ['studio'],
      );
      const byValue = await api.get(`${a.legacy}/liveEvents?$label=team=weather`);
      assert.deepEqual(
        byValue.body.value.map((e: Json) => e.name),
        ['weather'],
      );
      const contains = await api.get(`${a.v1}/liveEvents?$label=team~ea&$orderby=name desc`);
      assert.deepEqual(
        contains.body.value.map((e: Json) => e.name),
        ['weather'],
      );
      const either = await api.get(`${a.v1}/liveEvents?$label=team=weather&$label=team=news&$orderby=name`);
      assert.deepEqual(
        either.body.value.map((e: Json) => e.name),
        ['studio', 'weather'],
      );
      const standard = await api.get(`${a.v1}/liveEvents?$filter=${encodeURIComponent("properties/encoding/encodingType eq 'Standard'")}`);
      assert.deepEqual(
        standard.body.value.map((e: Json) => e.name),
        ['encoder'],
      );
      const named = await api.get(`${a.v1}/liveEvents?$filter=${encodeURIComponent("name eq 'weather'")}`);
      assert.equal(named.body.value.length, 1);
      const badFilter = await api.get(`${a.v1}/liveEvents?$filter=${encodeURIComponent("properties/input eq 'x'")}`);
      assert.equal(badFilter.status, 400);

      const names: string[] = [];
      let next: string | undefined = `${a.v1}/liveEvents?$top=2&$orderby=name`;
      while (next) {
        const page: { body: Json } = await api.get(next);
        names.push(...page.body.value.map((e: Json) => e.name));
        next = page.body['@odata.nextLink'];
      }
      assert.deepEqual(names, ['encoder', 'premium-srt', 'studio', 'weather']);
    });

    it('starts and stops, with /state and the stats counters following', async () => {
      assert.equal((await api.post(`${a.v1}/liveEvents/studio/start`)).status, 200);
      assert.equal((await api.get(`${a.v1}/liveEvents/studio`)).body.properties.resourceState, 'Running');
      assert.deepEqual((await api.get(`${a.v1}/liveEvents/studio/state`)).body, { status: { state: 'Running' } });
      assert.equal((await api.post(`${a.legacy}/liveEvents/studio/start`)).status, 200, 'starting a running event is a no-op');
      const stats = await api.get(`${a.legacy}/stats/`, { contract: false });
      assert.deepEqual(stats.body.liveEvents, { running: 1, stopped: 3, total: 4 });

      // AMS's stop body; MK.IO's OpenAPI documents none (docs/MKIO-DIFFERENCES.md), so it is not checked as a request.
      assert.equal((await api.post(`${a.legacy}/liveEvents/studio/stop`, { removeOutputsOnStop: false }, { checkRequest: false })).status, 200);
      assert.equal((await api.get(`${a.v1}/liveEvents/studio`)).body.properties.resourceState, 'Stopped');
      assert.equal((await api.post(`${a.v1}/liveEvents/studio/stop`)).status, 200, 'stopping a stopped event is a no-op');
      const badStop = await api.post(`${a.v1}/liveEvents/studio/stop`, { removeOutputsOnStop: 'yes' }, { checkRequest: false });
      assert.equal(badStop.status, 400);

      for (const action of ['reset', 'allocate']) {
        const res = await api.post(`${a.v1}/liveEvents/studio/${action}`);
        assert.equal(res.status, 400, res.text);
        assert.match(res.body.error.detail, /not implemented/);
      }
      assert.equal((await api.post(`${a.v1}/liveEvents/nothing/start`)).status, 404);
    });

    it('creates, reads, lists and deletes live outputs; the asset stays', async () => {
      const put = (event: string, name: string, properties: Json, options = {}) =>
        api.put(`${a.v1}/liveEvents/${event}/liveOutputs/${name}`, { properties }, options);
      const created = await put('studio', 'main', {
        assetName: 'archive-1',
        archiveWindowLength: 'PT1H',
        hls: { fragmentsPerTsSegment: 2 },
        rewindWindowLength: 'PT30M',
      });
      assert.equal(created.status, 201, created.text);
      const o = created.body;
      assert.equal(o.name, 'main');
      assert.equal(o.type, 'Microsoft.Media/mediaservices/liveevents/liveoutputs');
      assert.match(o.id, /\/liveEvents\/studio\/liveOutputs\/main$/);
      assert.equal(o.properties.assetName, 'archive-1');
      assert.equal(o.properties.archiveWindowLength, 'PT1H');
      assert.equal(o.properties.manifestName, 'main');
      assert.deepEqual(o.properties.hls, { fragmentsPerTsSegment: 2 });
      assert.equal(o.properties.rewindWindowLength, 'PT30M');
      assert.equal(o.properties.resourceState, 'Running');

      const named = await put('studio', 'named', { assetName: 'archive-2', archiveWindowLength: 'PT25H', manifestName: 'my-manifest' });
      assert.equal(named.status, 201, named.text);
      assert.equal(named.body.properties.manifestName, 'my-manifest');

      const again = await api.put(`${a.legacy}/liveEvents/studio/liveOutputs/main`, { properties: { assetName: 'archive-3', archiveWindowLength: 'PT1H' } });
      assert.equal(again.status, 409, again.text);

      const got = await api.get(`${a.legacy}/liveEvents/studio/liveOutputs/main`);
      assert.deepEqual(got.body, o);
      assert.deepEqual((await api.get(`${a.v1}/liveEvents/studio/liveOutputs/main/state`)).body, { status: { state: 'Running' } });
      const list = await api.get(`${a.v1}/liveEvents/studio/liveOutputs?$orderby=name`);
      assert.deepEqual(
        list.body.value.map((x: Json) => x.name),
        ['main', 'named'],
      );
      assert.equal((await api.get(`${a.v1}/liveEvents/nothing/liveOutputs`)).status, 404);
      assert.equal((await api.get(`${a.v1}/liveEvents/studio/liveOutputs/nothing`)).status, 404);

      assert.equal((await api.delete(`${a.v1}/liveEvents/studio/liveOutputs/named`)).status, 200);
      assert.equal((await api.get(`${a.v1}/liveEvents/studio/liveOutputs/named`)).status, 404);
      assert.equal((await api.delete(`${a.legacy}/liveEvents/studio/liveOutputs/named`)).status, 204);
      assert.equal((await api.get(`${a.v1}/assets/archive-2`)).status, 200, 'the asset outlives its output');
    });

    it('refuses outputs into missing or busy assets, bad windows and a fourth output, creating nothing', async () => {
      const put = (event: string, name: string, properties: Json) =>
        api.put(`${a.v1}/liveEvents/${event}/liveOutputs/${name}`, { properties }, { checkRequest: false });
      const refusals: Array<[string, string, Json, number, RegExp]> = [
        ['studio', 'x1', { assetName: 'no-such-asset', archiveWindowLength: 'PT1H' }, 404, /Asset 'no-such-asset' not found/],
        ['weather', 'x2', { assetName: 'archive-1', archiveWindowLength: 'PT1H' }, 409, /archive-1.*live output 'main' of live event 'studio'/],
        ['studio', 'x3', { assetName: 'archive-3', archiveWindowLength: 'PT59S' }, 400, /archiveWindowLength/],
        ['studio', 'x4', { assetName: 'archive-3', archiveWindowLength: 'PT25H1S' }, 400, /archiveWindowLength/],
        ['studio', 'x5', { assetName: 'archive-3', archiveWindowLength: 'one hour' }, 400, /archiveWindowLength/],
        ['studio', 'x6', { assetName: 'archive-3' }, 400, /archiveWindowLength/],
        ['studio', 'x7', { archiveWindowLength: 'PT1H' }, 400, /assetName/],
        ['studio', 'x8', { assetName: 'archive-3', archiveWindowLength: 'PT1H', manifestName: 'bad.name' }, 400, /manifestName/],
        ['studio', 'x9', { assetName: 'archive-3', archiveWindowLength: 'PT1H', rewindWindowLength: 'PT2H' }, 400, /rewindWindowLength/],
        ['studio', 'bad_name', { assetName: 'archive-3', archiveWindowLength: 'PT1H' }, 400, /./],
      ];
      for (const [event, name, properties, status, detail] of refusals) {
        const res = await put(event, name, properties);
        assert.equal(res.status, status, `${name}: ${res.text}`);
        assert.match(res.body.error.detail, detail);
        if (name !== 'bad_name') assert.equal((await api.get(`${a.v1}/liveEvents/${event}/liveOutputs/${name}`)).status, 404);
      }
      const missing = await put('studio', 'x1', { assetName: 'no-such-asset', archiveWindowLength: 'PT1H' });
      assert.equal(missing.body.error.code, 'AssetNotFound');

      // A PassthroughBasic event keeps at most 8 hours.
      const basic = await api.put(`${a.v1}/liveEvents/basic`, fullBody({ encoding: { encodingType: 'PassthroughBasic' } }));
      assert.equal(basic.status, 200, basic.text);
      const nine = await put('basic', 'long', { assetName: 'archive-3', archiveWindowLength: 'PT8H1M' });
      assert.equal(nine.status, 400, nine.text);
      assert.match(nine.body.error.detail, /8 hours/);
      assert.equal((await put('basic', 'eight', { assetName: 'archive-3', archiveWindowLength: 'PT8H' })).status, 201);

      // At most three outputs on one event.
      assert.equal((await put('studio', 'second', { assetName: 'archive-4', archiveWindowLength: 'PT1M' })).status, 201);
      assert.equal((await put('studio', 'third', { assetName: 'archive-5', archiveWindowLength: 'PT2H' })).status, 201);
      const fourth = await put('studio', 'fourth', { assetName: 'archive-6', archiveWindowLength: 'PT2H' });
      assert.equal(fourth.status, 400, fourth.text);
      assert.equal(fourth.body.error.code, 'TooManyLiveOutputs');
      assert.equal((await api.get(`${a.v1}/liveEvents/studio/liveOutputs`)).body.value.length, 3);
    });

    it('removes the outputs on stop when asked, keeping their assets', async () => {
      assert.equal((await api.post(`${a.v1}/liveEvents/studio/start`)).status, 200);
      assert.equal((await api.post(`${a.v1}/liveEvents/studio/stop`, { removeOutputsOnStop: true }, { checkRequest: false })).status, 200);
      assert.equal((await api.get(`${a.v1}/liveEvents/studio`)).body.properties.resourceState, 'Stopped');
      assert.deepEqual((await api.get(`${a.v1}/liveEvents/studio/liveOutputs`)).body.value, []);
      for (const asset of ['archive-1', 'archive-4', 'archive-5']) assert.equal((await api.get(`${a.v1}/assets/${asset}`)).status, 200);
      // The assets are free again.
      assert.equal(
        (await api.put(`${a.v1}/liveEvents/weather/liveOutputs/reuse`, { properties: { assetName: 'archive-1', archiveWindowLength: 'PT1H' } })).status,
        201,
      );
    });

    it('deletes a running event (stopped first) with its outputs', async () => {
      assert.equal((await api.post(`${a.v1}/liveEvents/weather/start`)).status, 200);
      assert.equal((await api.delete(`${a.legacy}/liveEvents/weather`)).status, 200);
      assert.equal((await api.get(`${a.v1}/liveEvents/weather`)).status, 404);
      assert.equal((await api.delete(`${a.v1}/liveEvents/weather`)).status, 204);
      assert.equal((await api.get(`${a.v1}/assets/archive-1`)).status, 200);
      // Its output is gone, so the asset can be recorded again.
      assert.equal(
        (await api.put(`${a.v1}/liveEvents/studio/liveOutputs/again`, { properties: { assetName: 'archive-1', archiveWindowLength: 'PT1H' } })).status,
        201,
      );
    });

    it("keeps each organization's live events to itself", async () => {
      const other = b.admin.api;
      assert.equal((await other.get(`${a.v1}/liveEvents/studio`)).status, 404);
      assert.equal((await other.get(`${a.v1}/liveEvents`)).status, 404);
      assert.equal((await other.post(`${a.v1}/liveEvents/studio/start`)).status, 404);
      assert.equal((await other.delete(`${a.v1}/liveEvents/studio`)).status, 404);
      assert.equal((await other.get(`${a.v1}/liveEvents/studio/liveOutputs/again`)).status, 404);
      assert.equal(
        (await other.put(`${a.v1}/liveEvents/studio/liveOutputs/steal`, { properties: { assetName: 'archive-7', archiveWindowLength: 'PT1H' } })).status,
        404,
      );
      // Its own project has none, and cannot name another project's asset.
      assert.deepEqual((await other.get(`${b.v1}/liveEvents`)).body.value, []);
      assert.equal((await other.put(`${b.v1}/liveEvents/mine`, fullBody())).status, 200);
      const foreignAsset = await other.put(`${b.v1}/liveEvents/mine/liveOutputs/o`, { properties: { assetName: 'archive-7', archiveWindowLength: 'PT1H' } });
      assert.equal(foreignAsset.status, 404, foreignAsset.text);
      // A Reader of the project reads but does not change.
      assert.equal((await a.reader.api.get(`${a.v1}/liveEvents/studio`)).status, 200);
      assert.equal((await a.reader.api.post(`${a.v1}/liveEvents/studio/start`)).status, 403);
      assert.equal((await a.reader.api.put(`${a.v1}/liveEvents/reader`, fullBody())).status, 403);
      assert.equal((await a.reader.api.delete(`${a.v1}/liveEvents/studio/liveOutputs/again`)).status, 403);
    });

    it('validated every response against MK.IO', () => {
      assert.ok(contractStats.responses - checkedBefore > 100, `only ${contractStats.responses - checkedBefore} responses were contract-checked`);
    });
  });
}

describe('live event ingest host names under a streaming domain (useStaticHostname, hostnamePrefix)', () => {
  let server: TestServer;
  let a: Tenant;

  before(async () => {
    server = await startTestServer('sqlite', { REEL_STREAMING_DOMAIN: 'media.example.net:8443' });
    ({ a } = await setUpTenants(server, 'livehost'));
  });
  after(async () => {
    await server?.close();
  });

  const ingestUrl = (e: Json): URL => new URL(e.properties.input.endpoints[0].url as string);

  it('names each event in-{id} by default, and prefix-project (or name-project) with a static host name that survives re-creation', async () => {
    const api = a.admin.api;
    const plain = await api.put(`${a.v1}/liveEvents/plain`, fullBody());
    assert.equal(plain.status, 200, plain.text);
    const plainUrl = ingestUrl(plain.body);
    assert.match(plainUrl.hostname, /^in-[0-9a-z-]+\.media\.example\.net$/);
    assert.equal(plainUrl.pathname, `/${plain.body.properties.input.accessToken}`);
    // Stable on every read.
    assert.equal(ingestUrl((await api.get(`${a.v1}/liveEvents/plain`)).body).hostname, plainUrl.hostname);

    const prefixed = await api.put(`${a.v1}/liveEvents/studio-b`, fullBody({ useStaticHostname: true, hostnamePrefix: 'Studio7' }));
    assert.equal(prefixed.status, 200, prefixed.text);
    assert.equal(ingestUrl(prefixed.body).hostname, `studio7-${a.projectName.toLowerCase()}.media.example.net`);
    assert.equal(prefixed.body.properties.hostnamePrefix, 'Studio7');

    const named = await api.put(`${a.v1}/liveEvents/newsroom`, fullBody({ useStaticHostname: true }));
    assert.equal(named.status, 200, named.text);
    const namedUrl = ingestUrl(named.body);
    assert.equal(namedUrl.hostname, `newsroom-${a.projectName.toLowerCase()}.media.example.net`);
    // The port is the ingest listener's, not the streaming domain's HTTP port.
    assert.notEqual(namedUrl.port, '8443');

    // Deleted and created again with the same token: the encoder's URL is unchanged (what a static host name is for).
    const token = named.body.properties.input.accessToken as string;
    assert.equal((await api.delete(`${a.v1}/liveEvents/newsroom`)).status, 200);
    const again = await api.put(`${a.v1}/liveEvents/newsroom`, fullBody({ useStaticHostname: true }, { accessToken: token }));
    assert.equal(again.status, 200, again.text);
    assert.equal(ingestUrl(again.body).href, namedUrl.href);
    // Without a static host name, a re-created event gets a new host.
    assert.equal((await api.delete(`${a.v1}/liveEvents/plain`)).status, 200);
    const plainAgain = await api.put(`${a.v1}/liveEvents/plain`, fullBody());
    assert.notEqual(ingestUrl(plainAgain.body).hostname, plainUrl.hostname);
  });
});
