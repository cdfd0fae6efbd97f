import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { createHttpServer } from '../../src/control/plugins/http-server.js';
import {
  contentKeyIdentifierClaim,
  keyDeliveryPaths,
  odataTypes,
  type ContentKey,
  type ContentKeyPolicy,
  type ProtectionLookup,
} from '../../src/shared/content-protection.js';
import { createLogger } from '../../src/shared/log.js';
import { clearKeyPolicy, openPolicy, signJwt, signSwt, symmetricKey, symmetricTokenKey, tokenRestriction } from '../support/token-keys.js';
import { registerKeyDelivery } from '../../src/media/keys/key-delivery.js';
import { startTestServer, type TestServer } from '../support/server.js';

const secret = symmetricKey();
const otherSecret = symmetricKey();
const projectId = randomUUID();
const locatorId = randomUUID();
const emptyLocatorId = randomUUID();

const key = (type: ContentKey['type'], policyName: string | undefined): ContentKey => ({
  id: randomUUID(),
  type,
  value: randomBytes(16),
  label: type,
  policyName,
});
const keys = {
  envelopeToken: key('EnvelopeEncryption', 'token'),
  envelopeOpen: key('EnvelopeEncryption', 'open'),
  cencToken: key('CommonEncryptionCenc', 'token'),
  cbcsOpen: key('CommonEncryptionCbcs', 'open'),
  cencUnbound: key('CommonEncryptionCenc', 'any-key'),
  cencSwt: key('CommonEncryptionCenc', 'swt'),
  noPolicy: key('EnvelopeEncryption', undefined),
  missingPolicy: key('EnvelopeEncryption', 'nonexistent'),
  drmOnly: key('CommonEncryptionCenc', 'widevine'),
};
const allKeys = Object.values(keys);

const policies: ContentKeyPolicy[] = [
  openPolicy('open'),
  clearKeyPolicy('token', tokenRestriction({ primary: symmetricTokenKey(secret) })),
  clearKeyPolicy('any-key', tokenRestriction({ primary: symmetricTokenKey(secret), requiredClaims: [] })),
  clearKeyPolicy('swt', tokenRestriction({ tokenType: 'Swt', primary: symmetricTokenKey(secret) })),
  {
    name: 'widevine',
    policyId: 'policy-widevine',
    options: [
      {
        policyOptionId: 'o',
        configuration: { '@odata.type': odataTypes.widevineConfiguration, widevineTemplate: '{}' },
        restriction: { '@odata.type': odataTypes.openRestriction },
      },
    ],
  },
];

/** The store's part, in memory: one project, one locator with every kind of key, one locator without keys. */
const lookup: ProtectionLookup = {
  locatorKeys: async (id) =>
    id === locatorId ? { projectId, projectName: 'p', keys: allKeys } : id === emptyLocatorId ? { projectId, projectName: 'p', keys: [] } : undefined,
  contentKeyPolicy: async (project, name) => (project === projectId ? policies.find((p) => p.name === name) : undefined),
};

const logLines: string[] = [];
const errorBodies: string[] = [];
let app: FastifyInstance;
let base: string;

const b64url = (id: string) => Buffer.from(id.replace(/-/g, ''), 'hex').toString('base64url');

async function get(path: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${base}${path}`, { headers });
  const body = Buffer.from(await res.arrayBuffer());
  if (res.status >= 400) errorBodies.push(body.toString('latin1'));
  return { res, body };
}

async function licence(ids: string[], headers: Record<string, string> = {}, query = '') {
  const res = await fetch(`${base}${keyDeliveryPaths.clearKey(locatorId)}${query}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ kids: ids.map(b64url), type: 'temporary' }),
  });
  const text = await res.text();
  if (res.status >= 400) errorBodies.push(text);
  return { res, text };
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const jwtFor = (keyId: string, shape = {}) => signJwt('HS256', secret, { keyId, ...shape });

function assertErrorBody(text: string, status: number, code: string) {
  const body = JSON.parse(text) as { error: { code: string; detail: string }; status: number; ref: string };
  assert.equal(body.status, status);
  assert.equal(body.error.code, code);
  assert.equal(typeof body.error.detail, 'string');
  assert.equal(typeof body.ref, 'string');
}

describe('key delivery routes', () => {
  before(async () => {
    const log = createLogger('info', { write: (line: string) => void logLines.push(line) });
    app = createHttpServer(log);
    // The origin's catch-all playback route, as in the real processes: key delivery's paths must win over it.
    app.get('/:locatorId/*', async () => 'origin');
    registerKeyDelivery(app, { lookup, addressPolicy: { allowPrivate: false } });
    base = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  after(async () => {
    await app.close();
  });

  it('serves an envelope key under an open policy as 16 raw bytes, not stored, with CORS', async () => {
    const { res, body } = await get(keyDeliveryPaths.aes(locatorId, keys.envelopeOpen.id));
    assert.equal(res.status, 200);
    assert.deepEqual(body, keys.envelopeOpen.value);
    assert.equal(res.headers.get('content-type'), 'application/octet-stream');
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
    // Key ids in any case, with braces.
    assert.deepEqual((await get(keyDeliveryPaths.aes(locatorId.toUpperCase(), `{${keys.envelopeOpen.id.toUpperCase()}}`))).body, keys.envelopeOpen.value);
  });

  it('serves a token-restricted envelope key with a valid token in the header or the query', async () => {
    const token = await jwtFor(keys.envelopeToken.id);
    const path = keyDeliveryPaths.aes(locatorId, keys.envelopeToken.id);
    assert.deepEqual((await get(path, bearer(token))).body, keys.envelopeToken.value);
    assert.deepEqual((await get(`${path}?token=${encodeURIComponent(token)}`)).body, keys.envelopeToken.value);
    assert.deepEqual((await get(`${path}?token=${encodeURIComponent(`Bearer ${token}`)}`)).body, keys.envelopeToken.value);
  });

  it('answers 401 for a missing or invalid token, with the MK.IO error body and no key', async () => {
    const path = keyDeliveryPaths.aes(locatorId, keys.envelopeToken.id);
    const id = keys.envelopeToken.id;
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const exp = Math.floor(Date.now() / 1000) + 3600;
    const cases: Array<[string, Record<string, string>]> = [
      ['no token', {}],
      ['expired', bearer(await jwtFor(id, { expiresIn: -3600 }))],
      ['not yet valid', bearer(await jwtFor(id, { notBeforeIn: 3600 }))],
      ['wrong audience', bearer(await jwtFor(id, { audience: 'urn:other' }))],
      ['wrong issuer', bearer(await jwtFor(id, { issuer: 'https://other.example' }))],
      ['wrong key', bearer(await signJwt('HS256', otherSecret, { keyId: id }))],
      ['missing key id claim', bearer(await signJwt('HS256', secret, {}))],
      ['alg none', bearer(`${b64({ alg: 'none' })}.${b64({ iss: 'https://issuer.example', aud: 'urn:reel:test', exp, [contentKeyIdentifierClaim]: id })}.`)],
      ['garbage', bearer('x')],
    ];
    for (const [what, headers] of cases) {
      const { res, body } = await get(path, headers);
      assert.equal(res.status, 401, what);
      assertErrorBody(body.toString(), 401, 'Unauthorized');
      assert.equal(res.headers.get('www-authenticate'), 'Bearer', what);
      assert.equal(res.headers.get('cache-control'), 'no-store', what);
      assert.equal(res.headers.get('access-control-allow-origin'), '*', what);
    }
  });

  it('answers 403 for a valid token bound to another key, and for keys no ClearKey option delivers', async () => {
    const forOther = await jwtFor(keys.cencToken.id);
    const { res, body } = await get(keyDeliveryPaths.aes(locatorId, keys.envelopeToken.id), bearer(forOther));
    assert.equal(res.status, 403);
    assertErrorBody(body.toString(), 403, 'Forbidden');
    for (const k of [keys.noPolicy, keys.missingPolicy]) {
      const r = await get(keyDeliveryPaths.aes(locatorId, k.id));
      assert.equal(r.res.status, 403);
      assertErrorBody(r.body.toString(), 403, 'Forbidden');
    }
    const drm = await licence([keys.drmOnly.id]);
    assert.equal(drm.res.status, 403);
  });

  it('answers 404 for unknown locators and keys', async () => {
    const cases: Array<[string, string]> = [
      [keyDeliveryPaths.aes(randomUUID(), keys.envelopeOpen.id), 'LocatorNotFound'],
      [keyDeliveryPaths.aes('not-a-guid', keys.envelopeOpen.id), 'LocatorNotFound'],
      [keyDeliveryPaths.aes(locatorId, randomUUID()), 'ContentKeyNotFound'],
      [keyDeliveryPaths.aes(locatorId, 'nope'), 'ContentKeyNotFound'],
      [keyDeliveryPaths.aes(emptyLocatorId, keys.envelopeOpen.id), 'ContentKeyNotFound'],
    ];
    for (const [path, code] of cases) {
      const { res, body } = await get(path);
      assert.equal(res.status, 404, path);
      assertErrorBody(body.toString(), 404, code);
      assert.match(JSON.parse(body.toString()).error.detail, /not found/);
    }
  });

  it('gives a CBCS key raw too, as Shaka fetches HLS identity keys, when a ClearKey option releases it', async () => {
    const { res, body } = await get(keyDeliveryPaths.aes(locatorId, keys.cbcsOpen.id));
    assert.equal(res.status, 200);
    assert.deepEqual(Buffer.from(body), keys.cbcsOpen.value);
  });

  it('issues a ClearKey licence for CENC, CBCS and envelope keys', async () => {
    const { res, text } = await licence([keys.cbcsOpen.id, keys.envelopeOpen.id]);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
    assert.deepEqual(JSON.parse(text), {
      keys: [keys.cbcsOpen, keys.envelopeOpen].map((k) => ({ kty: 'oct', kid: b64url(k.id), k: k.value.toString('base64url') })),
      type: 'temporary',
    });
  });

  it('issues only the keys the token allows (a token bound to one key), and refuses when it allows none', async () => {
    const token = await jwtFor(keys.cencToken.id);
    const partial = await licence([keys.cencToken.id, keys.envelopeToken.id], bearer(token));
    assert.equal(partial.res.status, 200);
    assert.deepEqual(JSON.parse(partial.text).keys, [{ kty: 'oct', kid: b64url(keys.cencToken.id), k: keys.cencToken.value.toString('base64url') }]);
    const none = await licence([keys.envelopeToken.id], bearer(token));
    assert.equal(none.res.status, 403);
    assertErrorBody(none.text, 403, 'Forbidden');
    const missing = await licence([keys.cencToken.id]);
    assert.equal(missing.res.status, 401);
    assertErrorBody(missing.text, 401, 'Unauthorized');
    // A restriction without the key id claim lets one token unlock every key of its policy; ?token= works for POST too.
    const unbound = await licence([keys.cencUnbound.id], {}, `?token=${encodeURIComponent(await signJwt('HS256', secret, {}))}`);
    assert.equal(unbound.res.status, 200);
    // SWT: as AMS clients send it (Bearer=, URL-encoded in the query).
    const swt = signSwt(secret, { claims: { [contentKeyIdentifierClaim]: keys.cencSwt.id } });
    assert.equal((await licence([keys.cencSwt.id], { authorization: `Bearer=${swt}` })).res.status, 200);
    assert.equal((await licence([keys.cencSwt.id], {}, `?token=${encodeURIComponent(swt)}`)).res.status, 200);
    assert.equal(
      (await licence([keys.cencSwt.id], bearer(signSwt(otherSecret, { claims: { [contentKeyIdentifierClaim]: keys.cencSwt.id } })))).res.status,
      401,
    );
  });

  it('answers 404 when none of the requested keys is in the locator', async () => {
    const { res, text } = await licence([randomUUID()]);
    assert.equal(res.status, 404);
    assertErrorBody(text, 404, 'ContentKeyNotFound');
    const unknown = await fetch(`${base}${keyDeliveryPaths.clearKey(randomUUID())}`, {
      method: 'POST',
      body: JSON.stringify({ kids: [b64url(keys.cbcsOpen.id)], type: 'temporary' }),
    });
    assert.equal(unknown.status, 404);
  });

  it('reads the licence request strictly, whatever its content type', async () => {
    const post = (body: string, contentType?: string) =>
      fetch(`${base}${keyDeliveryPaths.clearKey(locatorId)}`, { method: 'POST', body, headers: contentType ? { 'content-type': contentType } : {} });
    const kid = b64url(keys.cbcsOpen.id);
    for (const contentType of [undefined, 'application/json', 'text/plain;charset=UTF-8', 'application/octet-stream'])
      assert.equal((await post(JSON.stringify({ kids: [kid], type: 'temporary' }), contentType)).status, 200, String(contentType));
    const bad: Array<[string, string]> = [
      ['not json', '{kids'],
      ['array', '[]'],
      ['extra property', JSON.stringify({ kids: [kid], type: 'temporary', keys: [] })],
      ['no kids', JSON.stringify({ kids: [], type: 'temporary' })],
      ['kids not an array', JSON.stringify({ kids: kid, type: 'temporary' })],
      ['persistent', JSON.stringify({ kids: [kid], type: 'persistent-license' })],
      ['no type', JSON.stringify({ kids: [kid] })],
      ['padded kid', JSON.stringify({ kids: [`${kid}==`], type: 'temporary' })],
      ['short kid', JSON.stringify({ kids: [kid.slice(0, 20)], type: 'temporary' })],
      ['non-canonical kid', JSON.stringify({ kids: [`${kid.slice(0, 21)}${kid.endsWith('B') ? 'C' : 'B'}`], type: 'temporary' })],
      ['too many kids', JSON.stringify({ kids: Array.from({ length: 33 }, () => b64url(randomUUID())), type: 'temporary' })],
      ['empty', ''],
    ];
    for (const [what, body] of bad) {
      const res = await post(body, 'application/json');
      const text = await res.text();
      errorBodies.push(text);
      assert.equal(res.status, 400, what);
      assertErrorBody(text, 400, 'ValidationError');
    }
    const huge = await post(JSON.stringify({ kids: [kid], type: 'temporary', pad: 'x'.repeat(5000) }), 'application/json');
    assert.equal(huge.status, 413);
  });

  it('answers CORS preflights for both routes', async () => {
    for (const path of [keyDeliveryPaths.aes(locatorId, keys.envelopeOpen.id), keyDeliveryPaths.clearKey(locatorId)]) {
      const res = await fetch(`${base}${path}`, {
        method: 'OPTIONS',
        headers: { origin: 'https://player.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
      });
      assert.equal(res.status, 204);
      assert.equal(res.headers.get('access-control-allow-origin'), '*');
      assert.match(res.headers.get('access-control-allow-headers') ?? '', /authorization/);
      assert.match(res.headers.get('access-control-allow-headers') ?? '', /content-type/);
      assert.match(res.headers.get('access-control-allow-methods') ?? '', /GET.*POST/);
    }
  });

  it('logs every refusal with its reason, locator and key id, and never a token or key bytes', async () => {
    const token = await jwtFor(keys.cencToken.id);
    const expired = await jwtFor(keys.envelopeToken.id, { expiresIn: -3600 });
    logLines.length = 0;
    await get(keyDeliveryPaths.aes(locatorId, keys.envelopeToken.id), bearer(token));
    await get(`${keyDeliveryPaths.aes(locatorId, keys.envelopeToken.id)}?token=${encodeURIComponent(expired)}`);
    await licence([keys.envelopeToken.id, keys.cencToken.id], bearer(token));
    const refusals = logLines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'key delivery refused');
    assert.deepEqual(
      refusals.map((r) => [r.status, r.locatorId, r.keyId]),
      [
        [403, locatorId, keys.envelopeToken.id],
        [401, locatorId, keys.envelopeToken.id],
        [403, locatorId, keys.envelopeToken.id],
      ],
    );
    assert.match(String(refusals[0].reason), /names another key/);
    assert.match(String(refusals[1].reason), /expired/);
    const forbidden = [token, expired, token.split('.')[2], expired.split('.')[2], secret.toString('base64')];
    for (const k of allKeys) forbidden.push(k.value.toString('hex'), k.value.toString('base64'), k.value.toString('base64url'), k.value.toString('latin1'));
    for (const line of logLines) for (const f of forbidden) assert.ok(!line.includes(f), `a log line holds a secret: ${line}`);
  });

  it('never puts key bytes in an error body', () => {
    assert.ok(errorBodies.length > 20);
    for (const body of errorBodies)
      for (const k of allKeys)
        for (const form of [k.value.toString('hex'), k.value.toString('base64'), k.value.toString('base64url'), k.value.toString('latin1')])
          assert.ok(!body.includes(form), `an error body holds a key: ${body}`);
  });
});

describe('key delivery in the running server', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer('sqlite', { REEL_ORIGIN_PROCESSES: '2' });
  });
  after(async () => {
    await server?.close();
  });

  it('is served by the main process and the origin processes, ahead of the playback catch-all route', async () => {
    const locator = randomUUID();
    for (const url of [server.url, server.reel.originUrl]) {
      const res = await fetch(`${url}${keyDeliveryPaths.aes(locator, randomUUID())}`);
      assert.equal(res.status, 404, url);
      const body = (await res.json()) as { error: { code: string; detail: string } };
      // The playback route would answer NotFound for the path; key delivery looks the locator up.
      assert.deepEqual(body.error, { code: 'LocatorNotFound', detail: `Streaming locator '${locator}' not found` });
      assert.equal(res.headers.get('access-control-allow-origin'), '*');
      const preflight = await fetch(`${url}${keyDeliveryPaths.clearKey(locator)}`, {
        method: 'OPTIONS',
        headers: { origin: 'https://player.example', 'access-control-request-method': 'POST' },
      });
      assert.equal(preflight.status, 204);
      assert.match(preflight.headers.get('access-control-allow-headers') ?? '', /authorization/);
    }
  });
});
