import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { dialects, startTestServer, type TestServer } from '../../support/server.js';
import { setUpTenants, type Tenant } from '../../support/tenants.js';
import { ApiClient } from '../../support/api.js';
import { azuriteSas, azuriteUrl, s3Config } from '../../support/services.js';

const secret = 'internal-service-secret-7f3a';

/** An internal HTTP service an attacker would like to reach: records every request and answers with a secret. */
async function internalService(status = 200): Promise<{ port: number; requests: string[]; close(): Promise<void> }> {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    req.resume();
    // Shaped like an S3/Azure error too, so a driver that copied the service's code or message would leak it.
    res.writeHead(status, { 'content-type': 'application/xml', 'x-ms-error-code': 'LeakedCode7f3a' });
    res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>LeakedCode7f3a</Code><Message>${secret}</Message></Error>`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A TCP forwarder in front of a real test service, counting the connections that reach it. */
async function forwarder(target: string): Promise<{ port: number; connections: () => number; reset(): void; close(): Promise<void> }> {
  const { hostname, port } = new URL(target);
  let count = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    count++;
    const upstream = net.connect(Number(port), hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => s.destroy());
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    connections: () => count,
    reset: () => {
      count = 0;
    },
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

for (const dialect of dialects) {
  describe(`storage accounts are no proxy into private networks on ${dialect}`, () => {
    let server: TestServer;
    let a: Tenant;
    let b: Tenant;
    let target: Awaited<ReturnType<typeof internalService>>;
    let failing: Awaited<ReturnType<typeof internalService>>;
    let s3Proxy: Awaited<ReturnType<typeof forwarder>>;
    let azureProxy: Awaited<ReturnType<typeof forwarder>>;
    let baseHosts: string;
    const s3 = s3Config();
    const s3Spec = (endpoint: string) => ({
      type: 'AWS.S3',
      bucketName: s3.bucketName,
      region: s3.region,
      endpoint,
      credential: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    });
    const azureSpec = (url: string) => ({ type: 'Microsoft.Storage', url, credential: { sasToken: azuriteSas() } });

    before(async () => {
      target = await internalService();
      failing = await internalService(500);
      s3Proxy = await forwarder(s3.endpoint);
      azureProxy = await forwarder(azuriteUrl());
      baseHosts = [new URL(azuriteUrl()).host, new URL(s3.endpoint).host].join(',');
      // The operator trusts the test services, one deliberately failing service, and (for now) the two
      // forwarders under the name `localhost`.
      server = await startTestServer(dialect, {
        REEL_STORAGE_ALLOWED_HOSTS: `${baseHosts},127.0.0.1:${failing.port},localhost:${s3Proxy.port},localhost:${azureProxy.port}`,
      });
      ({ a, b } = await setUpTenants(server, `ssrf${dialect}`));
    });
    after(async () => {
      await server?.close();
      await Promise.all([target?.close(), failing?.close(), s3Proxy?.close(), azureProxy?.close()]);
    });

    it('refuses an Azure url or S3 endpoint on this machine at creation, without sending it anything', async () => {
      const hosts = [
        `127.0.0.1:${target.port}`,
        `localhost:${target.port}`,
        `[::ffff:127.0.0.1]:${target.port}`,
        `0.0.0.0:${target.port}`,
        `[::1]:${target.port}`,
      ];
      for (const [i, host] of hosts.entries()) {
        const azure = await b.admin.api.put(`${b.v1}/storage/az${i}`, { spec: azureSpec(`http://${host}/devstoreaccount1`) }, { contract: false });
        assert.equal(azure.status, 400, `${host}: ${azure.text}`);
        assert.equal(azure.body.error.code, 'StorageAddressNotAllowed', azure.text);
        assert.match(azure.body.error.detail, /spec\.url/);
        const bucket = await b.admin.api.put(`${b.v1}/storage/s3${i}`, { spec: s3Spec(`http://${host}`) }, { contract: false });
        assert.equal(bucket.status, 400, `${host}: ${bucket.text}`);
        // An endpoint whose host is written in a non-canonical form is refused as ambiguous before any lookup.
        const codes = host.includes('::ffff:') ? ['StorageAddressNotAllowed', 'InvalidStorageUrl'] : ['StorageAddressNotAllowed'];
        assert.ok(codes.includes(bucket.body.error.code), bucket.text);
        assert.match(bucket.body.error.detail, /spec\.endpoint/);
        for (const name of [`az${i}`, `s3${i}`]) assert.equal((await b.admin.api.get(`${b.v1}/storage/${name}`, { contract: false })).status, 404);
      }
      // The legacy route takes a SAS URL.
      const legacy = await b.admin.api.post(
        `/api/accounts/${b.organizationId}/subscriptions/${b.projectId}/storage/`,
        {
          spec: { name: 'legacy-ssrf', azureStorageConfiguration: { url: `http://127.0.0.1:${target.port}/devstoreaccount1${azuriteSas()}` } },
        },
        { contract: false },
      );
      assert.equal(legacy.status, 400, legacy.text);
      assert.equal(legacy.body.error.code, 'StorageAddressNotAllowed');
      assert.deepEqual(target.requests, [], 'the internal service received nothing');
    });

    it("never shows a failing storage service's own error text", async () => {
      for (const [kind, spec] of [
        ['s3', s3Spec(`http://127.0.0.1:${failing.port}`)],
        ['az', azureSpec(`http://127.0.0.1:${failing.port}/devstoreaccount1`)],
      ] as const) {
        const res = await a.admin.api.put(`${a.v1}/storage/failing-${kind}`, { spec }, { contract: false });
        assert.equal(res.status, 400, res.text);
        assert.equal(res.body.error.code, 'StorageAccountUnreachable');
        assert.doesNotMatch(res.text, /LeakedCode7f3a|internal-service-secret/);
      }
      assert.ok(failing.requests.length > 0, 'the allowed service was asked');
    });

    it('lets the operator-allowed test services through', async () => {
      assert.equal((await a.admin.api.put(`${a.v1}/storage/azurite`, { spec: azureSpec(azuriteUrl()) }, { checkRequest: false })).status, 201);
      assert.equal((await a.admin.api.put(`${a.v1}/storage/s3rver`, { spec: s3Spec(s3.endpoint) }, { checkRequest: false })).status, 201);
    });

    it('refuses on every use an account whose host is no longer allowed, without connecting to it', async () => {
      const files: Array<{ asset: string; body: string }> = [];
      for (const [kind, spec] of [
        ['s3', s3Spec(`http://localhost:${s3Proxy.port}`)],
        ['az', azureSpec(`http://localhost:${azureProxy.port}/devstoreaccount1`)],
      ] as const) {
        const account = `via-${kind}`;
        const created = await a.admin.api.put(`${a.v1}/storage/${account}`, { spec }, { contract: false });
        assert.equal(created.status, 201, created.text);
        const asset = await a.admin.api.put(`${a.v1}/assets/${account}`, { properties: { storageAccountName: account } });
        assert.equal(asset.status, 201, asset.text);
        const upload = await a.admin.api.post(`${a.v1}/assets/${account}/getUploadUrl`, { fileName: 'clip.txt' }, { contract: false });
        const body = `bytes behind ${kind}`;
        assert.equal((await fetch(upload.body.url, { method: 'PUT', body })).status, 201);
        files.push({ asset: account, body });
      }
      assert.ok(s3Proxy.connections() > 0 && azureProxy.connections() > 0, 'while allowed, the accounts work through the forwarders');

      // `localhost` is no longer trusted: to Reel it is now just a name that resolves to a private address.
      await server.restart({ REEL_STORAGE_ALLOWED_HOSTS: baseHosts });
      s3Proxy.reset();
      azureProxy.reset();
      const api = new ApiClient(server.url).withToken(a.admin.token);
      for (const { asset, body } of files) {
        const listing = await api.get(`${a.v1}/assets/${asset}/storage/`, { contract: false });
        assert.ok(listing.status >= 400, listing.text);
        assert.equal(listing.body.error.code, 'StorageAddressNotAllowed');
        const access = await api.post(`${a.v1}/assets/${asset}/getFileAccessInfo`, undefined, { contract: false });
        assert.equal(access.status, 200, access.text);
        const read = await fetch(`${access.body.url}/clip.txt`, { headers: { authorization: `Bearer ${access.body.jwt}` } });
        const text = await read.text();
        assert.ok(read.status >= 400, `read: ${read.status} ${text}`);
        assert.ok(!text.includes(body));
        const credential = await api.post(
          `${a.v1}/storage/${asset}/credentials`,
          {
            spec: { credential: asset === 'via-s3' ? { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } : { sasToken: azuriteSas() } },
          },
          { contract: false },
        );
        assert.equal(credential.status, 400, credential.text);
        assert.equal(credential.body.error.code, 'StorageAddressNotAllowed');
      }
      assert.equal(s3Proxy.connections(), 0, 'no connection reached the S3 forwarder');
      assert.equal(azureProxy.connections(), 0, 'no connection reached the Azure forwarder');
    });
  });
}
