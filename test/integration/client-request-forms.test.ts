import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../support/server.js';
import { ApiClient, login, tokenFromSession } from '../support/api.js';

/**
 * Requests as MK.IO's official .NET client builds them (issue 14): `Content-Type: application/json` with an
 * empty body on bodyless POSTs, and query booleans written the .NET way (`True`/`False`).
 */
describe('MK.IO client request forms', () => {
  let server: TestServer;
  let api: ApiClient;
  const V = '/api/v1/projects/default/media';
  const endpoint = { location: 'local', properties: { description: 'dotnet', scaleUnits: 0 } };

  before(async () => {
    server = await startTestServer('sqlite');
    const cookie = await login(server.url, server.adminEmail, server.adminPassword);
    api = new ApiClient(server.url).withToken((await tokenFromSession(server.url, cookie)).token);
  });
  after(async () => server?.close());

  it('reads autoStart=True and autoStart=False as the .NET client writes them, and refuses other words', async () => {
    assert.equal((await api.put(`${V}/streamingEndpoints/dotnet-on?autoStart=True`, endpoint)).status, 201);
    assert.equal((await api.put(`${V}/streamingEndpoints/dotnet-off?autoStart=False`, endpoint)).status, 201);
    assert.equal((await api.get(`${V}/streamingEndpoints/dotnet-on`)).body.properties.resourceState, 'Running');
    assert.equal((await api.get(`${V}/streamingEndpoints/dotnet-off`)).body.properties.resourceState, 'Stopped');
    const bad = await api.put(`${V}/streamingEndpoints/dotnet-bad?autoStart=yes`, endpoint, { contract: false });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error.detail, /autoStart/);
    assert.equal((await api.get(`${V}/streamingEndpoints/dotnet-bad`, { contract: false })).status, 404, 'nothing half-created');
  });

  it('takes an empty JSON body as no body on bodyless POSTs, and still asks for a body where one is needed', async () => {
    const stop = await api.post(`${V}/streamingEndpoints/dotnet-on/stop`, '', { checkRequest: false });
    assert.equal(stop.status, 200, stop.text);
    assert.equal((await api.get(`${V}/streamingEndpoints/dotnet-on`)).body.properties.resourceState, 'Stopped');
    const scale = await api.post(`${V}/streamingEndpoints/dotnet-on/scale`, '  ', { checkRequest: false, contract: false });
    assert.equal(scale.status, 400);
    assert.equal(scale.body.error.code, 'ValidationError');
    const broken = await api.post(`${V}/streamingEndpoints/dotnet-on/scale`, '{"scaleUnit":', { checkRequest: false, contract: false });
    assert.equal(broken.status, 400);
  });
});
