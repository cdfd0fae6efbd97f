import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { dialects, startTestServer, type TestServer } from '../support/server.js';
import { setUpTenants, type Tenant } from '../support/tenants.js';
import type { ApiClient, CallOptions } from '../support/api.js';

/**
 * The role matrix (issue 14): every role (Admin, Contributor, Reader, and a restricted token holding only
 * `ams.asset` read on the project) × every resource family × read and write, against the statuses MK.IO's roles
 * give. The same table is in docs/SECURITY.md ("Role matrix"); change both together.
 *
 * A write is a real change where one is cheap (a create under a name unique to the caller), else a delete of
 * something absent: 204/200 (or 404 where a route reports a missing resource) shows the capability was granted,
 * 403 that it was not. Responses are contract-checked by ApiClient against MK.IO's documents.
 */
type Who = 'admin' | 'contributor' | 'reader' | 'restricted';
const everyone: Who[] = ['admin', 'contributor', 'reader', 'restricted'];

interface Call {
  method: string;
  path: string;
  body?: unknown;
  options?: CallOptions;
}
interface Row {
  family: string;
  /** Statuses for admin, contributor, reader, restricted. */
  read: [number, number, number, number];
  write: [number, number, number, number];
  readCall: (t: Tenant) => Call;
  /** `tag` is unique per caller, so creates never collide. */
  writeCall: (t: Tenant, tag: string) => Call | Promise<Call>;
}

const encoderPreset = { '@odata.type': '#Microsoft.Media.BuiltInStandardEncoderPreset', presetName: 'AACGoodQualityAudio' };
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
const unknownId = '00000000-0000-4000-8000-00000000cafe';
/** A live event with every member MK.IO's schema requires (so it is contract-checked as a request too). */
const liveEventBody = (accessToken: string) => ({
  tags: {},
  properties: {
    useStaticHostname: false,
    streamOptions: ['Default'],
    encoding: { encodingType: 'PassthroughStandard' },
    input: { streamingProtocol: 'RTMP', accessToken, keyFrameIntervalDuration: 'PT2S', accessControl: { ip: { allow: [] } }, timedMetadataEndpoints: [] },
  },
});

const table: Row[] = [
  {
    family: 'assets',
    read: [200, 200, 200, 200],
    write: [201, 201, 403, 403],
    readCall: (t) => ({ method: 'GET', path: `${t.v1}/assets` }),
    writeCall: (t, tag) => ({ method: 'PUT', path: `${t.v1}/assets/mx-${tag}`, body: { properties: { storageAccountName: 'local' } } }),
  },
  {
    family: 'transforms',
    read: [200, 200, 200, 403],
    write: [201, 201, 403, 403],
    readCall: (t) => ({ method: 'GET', path: `${t.v1}/transforms` }),
    writeCall: (t, tag) => ({ method: 'PUT', path: `${t.v1}/transforms/mx-${tag}`, body: { properties: { outputs: [{ preset: encoderPreset }] } } }),
  },
  {
    family: 'jobs',
    read: [200, 200, 200, 403],
    write: [204, 204, 403, 403],
    readCall: (t) => ({ method: 'GET', path: `${t.v1}/transforms/matrix/jobs` }),
    writeCall: (t, tag) => ({ method: 'DELETE', path: `${t.v1}/transforms/matrix/jobs/mx-${tag}` }),
  },
  {
    family: 'streaming locators',
    read: [200, 200, 200, 403],
    write: [201, 201, 403, 403],
    readCall: (t) => ({ method: 'GET', path: `${t.v1}/streamingLocators` }),
    writeCall: (t, tag) => ({
      method: 'PUT',
      path: `${t.v1}/streamingLocators/mx-${tag}`,
      body: { properties: { assetName: 'matrix', streamingPolicyName: 'Predefined_ClearStreamingOnly' } },
    }),
  },
  {
    family: 'streaming locator content keys (secrets)',
    read: [200, 200, 403, 403],
    write: [200, 200, 403, 403],
    readCall: (t) => ({ method: 'POST', path: `${t.v1}/streamingLocators/matrix/listContentKeys` }),
    writeCall: (t) => ({ method: 'POST', path: `${t.v1}/streamingLocators/matrix/listContentKeys` }),
  },
  {
    family: 'streaming policies',
    read: [200, 200, 200, 403],
    write: [201, 201, 403, 403],
    readCall: (t) => ({ method: 'GET', path: `${t.v1}/streamingPolicies` }),
    writeCall: (t, tag) => ({
      method: 'PUT',
      path: `${t.v1}/streamingPolicies/mx-${tag}`,
      body: { properties: { noEncryption: { enabledProtocols: { download: false, dash: true, hls: true, smoothStreaming: false } } } },
    }),
  },
  {
    family: 'account filters',
    read: [200, 200, 200, 403],
    write: [201, 201, 403, 403],
    readCall: (t) => ({ method: 'GET', path: `${t.v1}/accountFilters` }),
    writeCall: (t, tag) => ({ method: 'PUT', path: `${t.v1}/accountFilters/mx-${tag}`, body: { properties: { firstQuality: { bitrate: 1000 } } } }),
  },
  {
    family: 'asset filters',
    read: [200, 200, 200, 403],
    write: [201, 201, 403, 403],
    readCall: (t) => ({ method: 'GET', path: `${t.v1}/assets/matrix/assetFilters` }),
    writeCall: (t, tag) => ({ method: 'PUT', path: `${t.v1}/assets/matrix/assetFilters/mx-${tag}`, body: { properties: { firstQuality: { bitrate: 1000 } } } }),
  },
  {
    family: 'content key policies',
    read: [200, 200, 200, 403],
    write: [201, 201, 403, 403],
    readCall: (t) => ({ method: 'GET', path: `${t.v1}/contentKeyPolicies` }),
    writeCall: (t, tag) => ({ method: 'PUT', path: `${t.v1}/contentKeyPolicies/mx-${tag}`, body: openPolicy }),
  },
  {
    family: 'content key policy secrets',
    read: [200, 200, 403, 403],
    write: [200, 200, 403, 403],
    readCall: (t) => ({ method: 'POST', path: `${t.v1}/contentKeyPolicies/matrix/getPolicyPropertiesWithSecrets`, options: { contract: false } }),
    writeCall: (t) => ({ method: 'POST', path: `${t.v1}/contentKeyPolicies/matrix/getPolicyPropertiesWithSecrets`, options: { contract: false } }),
  },
  {
    family: 'streaming endpoints',
    read: [200, 200, 200, 403],
    write: [201, 201, 403, 403],
    readCall: (t) => ({ method: 'GET', path: `${t.v1}/streamingEndpoints` }),
    writeCall: (t, tag) => ({
      method: 'PUT',
      path: `${t.v1}/streamingEndpoints/mx-${tag}`,
      body: { location: 'local', properties: { description: 'matrix', scaleUnits: 0 } },
    }),
  },
  {
    family: 'live events',
    read: [200, 200, 200, 403],
    write: [200, 200, 403, 403],
    readCall: (t) => ({ method: 'GET', path: `${t.v1}/liveEvents` }),
    writeCall: (t, tag) => ({ method: 'PUT', path: `${t.v1}/liveEvents/mx-${tag}`, body: liveEventBody(`mx-token-${tag}`) }),
  },
  {
    family: 'live outputs',
    read: [200, 200, 200, 403],
    write: [204, 204, 403, 403],
    readCall: (t) => ({ method: 'GET', path: `${t.v1}/liveEvents/matrix/liveOutputs` }),
    writeCall: (t, tag) => ({ method: 'DELETE', path: `${t.v1}/liveEvents/matrix/liveOutputs/mx-${tag}` }),
  },
  {
    family: 'storage',
    read: [200, 200, 200, 403],
    write: [204, 204, 403, 403],
    // A `Local` account is Reel's own type, outside MK.IO's enum: the list is not contract-checked.
    readCall: (t) => ({ method: 'GET', path: `${t.v1}/storage`, options: { contract: false } }),
    writeCall: (t, tag) => ({ method: 'DELETE', path: `${t.v1}/storage/mx-${tag}` }),
  },
  {
    family: 'projects',
    read: [200, 200, 200, 200],
    write: [200, 403, 403, 403],
    readCall: (t) => ({ method: 'GET', path: `/api/v1/projects/${t.projectName}` }),
    writeCall: (t) => ({ method: 'PATCH', path: `/api/v1/projects/${t.projectName}`, body: { spec: { isHidden: false } } }),
  },
  {
    family: 'webhook rules',
    read: [200, 200, 200, 403],
    write: [204, 204, 403, 403],
    readCall: (t) => ({ method: 'GET', path: `/api/v1/projects/${t.projectName}/webhook/rules`, options: { contract: 'management' } }),
    writeCall: (t, tag) => ({ method: 'DELETE', path: `/api/v1/projects/${t.projectName}/webhook/rules/mx-${tag}`, options: { contract: 'management' } }),
  },
  {
    family: 'organization',
    read: [200, 200, 200, 403],
    write: [200, 403, 403, 403],
    readCall: () => ({ method: 'GET', path: '/api/v1/organization' }),
    writeCall: () => ({ method: 'PATCH', path: '/api/v1/organization', body: { spec: { legalEntityOfficer: 'Matrix Officer' } } }),
  },
  {
    family: 'organization users',
    read: [200, 200, 200, 403],
    write: [404, 403, 403, 403],
    readCall: () => ({ method: 'GET', path: '/api/v1/organization/users' }),
    writeCall: () => ({ method: 'DELETE', path: `/api/v1/organization/users/${unknownId}` }),
  },
  {
    family: 'organization invites',
    read: [200, 403, 403, 403],
    write: [201, 403, 403, 403],
    readCall: () => ({ method: 'GET', path: '/api/v1/organization/invites' }),
    writeCall: (_t, tag) => ({
      method: 'POST',
      path: '/api/v1/organization/invites',
      body: { spec: { email: `mx-${tag}@example.com`, comment: '' } },
      options: { checkRequest: false },
    }),
  },
  {
    family: 'organization roles and scopes',
    read: [200, 200, 200, 403],
    write: [404, 404, 404, 404],
    readCall: () => ({ method: 'GET', path: '/api/v1/organization/scopes' }),
    // Reel's roles and scopes are fixed: there is no write route (MK.IO has none either).
    writeCall: () => ({ method: 'PUT', path: '/api/v1/organization/roles/Reader', body: {}, options: { contract: false } }),
  },
  {
    family: 'organization teams',
    read: [200, 200, 200, 403],
    write: [201, 403, 403, 403],
    readCall: () => ({ method: 'GET', path: '/api/v1/organization/teams' }),
    writeCall: (_t, tag) => ({ method: 'PUT', path: `/api/v1/organization/teams/mx-${tag}`, body: { spec: { description: 'matrix' } } }),
  },
  {
    family: 'organization tokens',
    read: [200, 403, 403, 403],
    write: [404, 403, 403, 403],
    readCall: () => ({ method: 'GET', path: '/api/v1/organization/tokens' }),
    writeCall: () => ({ method: 'DELETE', path: `/api/v1/organization/tokens/${unknownId}` }),
  },
];

for (const dialect of dialects) {
  describe(`role matrix on ${dialect}`, () => {
    let server: TestServer;
    let a: Tenant;
    let clients: Record<Who, ApiClient>;

    before(async () => {
      server = await startTestServer(dialect);
      ({ a } = await setUpTenants(server, `matrix-${dialect}`));
      const api = a.admin.api;
      const setUp: Array<[string, unknown]> = [
        [`${a.v1}/assets/matrix`, { properties: { storageAccountName: 'local' } }],
        [`${a.v1}/transforms/matrix`, { properties: { outputs: [{ preset: encoderPreset }] } }],
        [`${a.v1}/contentKeyPolicies/matrix`, openPolicy],
        [`${a.v1}/streamingLocators/matrix`, { properties: { assetName: 'matrix', streamingPolicyName: 'Predefined_ClearStreamingOnly' } }],
      ];
      for (const [path, body] of setUp) {
        const res = await api.put(path, body);
        assert.equal(res.status, 201, `${path}: ${res.text}`);
      }
      // A live event is created with 200 (MK.IO v1).
      const live = await api.put(`${a.v1}/liveEvents/matrix`, liveEventBody(`matrix-token-${dialect}`));
      assert.equal(live.status, 200, live.text);
      clients = {
        admin: a.admin.api,
        contributor: a.contributor.api,
        reader: a.reader.api,
        restricted: (await a.restricted({ 'ams.asset': ['read'] })).api,
      };
    });
    after(async () => server?.close());

    for (const row of table) {
      for (const [kind, expected] of [
        ['read', row.read],
        ['write', row.write],
      ] as const) {
        it(`${row.family}: ${kind}`, async () => {
          const seen: Record<string, number> = {};
          for (const [i, who] of everyone.entries()) {
            const call = kind === 'read' ? row.readCall(a) : await row.writeCall(a, `${who}-${dialect}`);
            const res = await clients[who].call(call.method, call.path, call.body, call.options);
            seen[who] = res.status;
            assert.equal(res.status, expected[i], `${who} ${call.method} ${call.path}: ${res.text.slice(0, 300)}`);
          }
          assert.deepEqual(Object.values(seen), [...expected]);
        });
      }
    }
  });
}
