import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { pino } from 'pino';
import { LiveRelay, createRelaySecret, relayedClientAddress, type LiveTargets } from './live-relay.js';

/** A plain GET to `url` with `headers`; the whole answer. */
function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

describe('LiveRelay', () => {
  const secret = createRelaySecret();
  const seen: http.IncomingHttpHeaders[] = [];
  let main: http.Server;
  let mainUrl = '';
  let origin: FastifyInstance;
  let originUrl = '';
  let relay: LiveRelay;
  let targets: LiveTargets | Error = { assetIds: ['asset-1'], previewLocators: [] };

  before(async () => {
    // The "main process": answers in three writes, so a relay that buffered would still pass but one that
    // dropped the body or the headers would not.
    main = http.createServer((req, res) => {
      seen.push(req.headers);
      res.writeHead(200, { 'content-type': 'text/plain', etag: '"v1"', 'x-from': 'main' });
      res.write('one ');
      setTimeout(() => {
        res.write('two ');
        res.end(`${req.method} ${req.url}`);
      }, 20);
    });
    await new Promise<void>((resolve) => main.listen(0, '127.0.0.1', resolve));
    mainUrl = `http://127.0.0.1:${(main.address() as AddressInfo).port}`;
    relay = new LiveRelay({
      targetUrl: mainUrl,
      secret,
      load: async () => {
        if (targets instanceof Error) throw targets;
        return targets;
      },
      refreshMs: 60_000,
      log: pino({ level: 'silent' }),
    });
    await relay.refresh();
    origin = Fastify();
    origin.get('/:id/*', async (req, reply) => (relay.isLiveAsset((req.params as { id: string }).id) ? relay.relay(req, reply) : 'local'));
    originUrl = await origin.listen({ port: 0, host: '127.0.0.1' });
  });
  after(async () => {
    relay.close();
    await origin.close();
    await new Promise((resolve) => main.close(resolve));
  });

  it('streams the main process answer back with its status and headers, and the request as the client sent it', async () => {
    const res = await get(`${originUrl}/asset-1/a.ism/manifest(format=m3u8-cmaf)?x=1`, {
      host: 'default-default.localhost:1234',
      range: 'bytes=0-9',
      'x-reel-relay-client': '203.0.113.9',
      'x-reel-relay-secret': 'forged',
    });
    assert.equal(res.status, 200);
    assert.equal(res.body, 'one two GET /asset-1/a.ism/manifest(format=m3u8-cmaf)?x=1');
    assert.equal(res.headers['x-from'], 'main');
    assert.equal(res.headers.etag, '"v1"');
    const sent = seen.at(-1)!;
    assert.equal(sent.host, 'default-default.localhost:1234', 'the Host header is the client’s (endpoint host names)');
    assert.equal(sent.range, 'bytes=0-9');
    assert.equal(sent['x-reel-relay-client'], '127.0.0.1', 'the client address is the connection’s, not one the client named');
    assert.equal(sent['x-reel-relay-secret'], secret);
    assert.equal((await get(`${originUrl}/asset-2/a.ism/manifest`)).body, 'local', 'what is not live is served here');
  });

  it('keeps the last targets when the store cannot be read, and follows it when it can', async () => {
    targets = new Error('database gone');
    await relay.refresh();
    assert.equal(relay.isLiveAsset('asset-1'), true);
    targets = { assetIds: [], previewLocators: ['0d1e2f30-4152-4637-8899-aabbccddeeff'] };
    await relay.refresh();
    assert.equal(relay.isLiveAsset('asset-1'), false);
    assert.equal(relay.isLivePreview('0D1E2F30-4152-4637-8899-AABBCCDDEEFF'), true);
  });

  it('answers 502 when the main process cannot be reached', async () => {
    const gone = new LiveRelay({
      targetUrl: 'http://127.0.0.1:1',
      secret,
      load: async () => ({ assetIds: ['a'], previewLocators: [] }),
      log: pino({ level: 'silent' }),
    });
    const app = Fastify();
    app.get('/*', async (req, reply) => gone.relay(req, reply));
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const res = await get(`${url}/a/manifest`);
      assert.equal(res.status, 502);
      assert.match(res.body, /LiveRelayFailed/);
    } finally {
      gone.close();
      await app.close();
    }
  });
});

describe('relayedClientAddress', () => {
  const secret = createRelaySecret();
  const address = relayedClientAddress(secret);
  const req = (headers: Record<string, string>) => ({ ip: '127.0.0.1', headers }) as unknown as FastifyRequest;

  it('takes the relayed client address only with the secret', () => {
    assert.equal(address(req({ 'x-reel-relay-client': '203.0.113.9', 'x-reel-relay-secret': secret })), '203.0.113.9');
    assert.equal(address(req({ 'x-reel-relay-client': '203.0.113.9', 'x-reel-relay-secret': 'guessed' })), '127.0.0.1');
    assert.equal(address(req({ 'x-reel-relay-client': '203.0.113.9' })), '127.0.0.1');
    assert.equal(address(req({})), '127.0.0.1');
  });
});
