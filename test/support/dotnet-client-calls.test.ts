import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { addParametersToUrl, dotnetClientCalls, dotnetJson, dotnetListUrl, dotnetNextPageUrl, dotnetRequestInit, fillPath } from './dotnet-client-calls.js';
import { hasDotnetModel } from './dotnet-client-models.js';

describe('.NET client call inventory', () => {
  it('lists 82 distinct calls whose models are all in models.json', () => {
    assert.equal(dotnetClientCalls.length, 82);
    assert.equal(new Set(dotnetClientCalls.map((c) => c.id)).size, 82);
    assert.equal(new Set(dotnetClientCalls.map((c) => `${c.method} ${c.path}`)).size, 82);
    for (const c of dotnetClientCalls) {
      for (const model of [c.requestModel, c.responseModel]) if (model) assert.ok(hasDotnetModel(model), `${c.id}: ${model}`);
      assert.equal(c.body === 'json', c.requestModel !== undefined, c.id);
    }
  });

  it('writes query parameters as AddParametersToUrl does', () => {
    const url = 'https://api.mk.io/api/ams/sub/assets';
    assert.equal(
      dotnetListUrl(url, { orderBy: 'properties/created desc', filter: "name eq 'a b'", top: 10 }),
      `${url}?$orderby=properties/created%20desc&$filter=name%20eq%20'a%20b'&$top=10`,
    );
    assert.equal(addParametersToUrl(`${url}?autoStart=True`, '$top', '1'), `${url}?autoStart=True&$top=1`);
    assert.equal(addParametersToUrl(url, '$label', ['a=1', 'b=2']), `${url}?$label=a=1&$label=b=2`);
    assert.equal(dotnetListUrl(url), url);
  });

  it('follows a host-relative @odata.nextLink after URL-decoding it', () => {
    assert.equal(
      dotnetNextPageUrl('https://api.mk.io/', '/api/ams/sub/assets?$top=1&$skiptoken=1'),
      'https://api.mk.io/api/ams/sub/assets?$top=1&$skiptoken=1',
    );
    assert.equal(dotnetNextPageUrl('https://api.mk.io/', '/api/ams/sub/assets?%24skiptoken=2'), 'https://api.mk.io/api/ams/sub/assets?$skiptoken=2');
  });

  it('sends the headers and body forms HttpClient sends', () => {
    const byId = (id: string) => dotnetClientCalls.find((c) => c.id === id)!;
    assert.deepEqual(dotnetRequestInit(byId('Assets.Get'), 't'), { method: 'GET', headers: { Accept: 'application/json', Authorization: 'Bearer t' } });
    assert.deepEqual(dotnetRequestInit(byId('Assets.GetFileAccessInfo'), 't'), {
      method: 'POST',
      headers: { Accept: 'application/json', Authorization: 'Bearer t', 'Content-Type': 'application/json; charset=utf-8' },
      body: '',
    });
    const put = dotnetRequestInit(byId('Assets.CreateOrUpdate'), 't', { properties: { description: null, storageAccountName: 's' } });
    assert.equal(put.body, '{\n  "properties": {\n    "storageAccountName": "s"\n  }\n}');
    assert.equal(dotnetJson({ a: null, b: [1] }), '{\n  "b": [\n    1\n  ]\n}');
    assert.equal(fillPath('api/ams/{subscriptionName}/assets/{assetName}', { subscriptionName: 's', assetName: 'a' }), 'api/ams/s/assets/a');
  });
});
