import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { dialects, startTestServer, type TestServer } from '../../support/server.js';
import { setUpTenants, type Tenant } from '../../support/tenants.js';
import { ApiClient } from '../../support/api.js';
import { AccountService } from '../../../src/control/auth/account-service.js';

/**
 * Issue 10, findings 6, 7, 13 and 16 (login-token expiry): what a restricted token may do to the user's own
 * tokens and profile, cross-site requests riding the session cookie, and the sign-in throttle.
 */

interface Raw {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json: any;
}

/** One HTTP request from a chosen loopback address, so the server sees distinct client IPs (no proxy trust). */
function send(url: string, options: { method?: string; headers?: Record<string, string>; body?: string; from?: string } = {}): Promise<Raw> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        hostname: u.hostname,
        port: u.port,
        path: `${u.pathname}${u.search}`,
        method: options.method ?? 'GET',
        headers: { ...(options.body !== undefined ? { 'content-length': String(Buffer.byteLength(options.body)) } : {}), ...options.headers },
        ...(options.from ? { localAddress: options.from } : {}),
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = text ? JSON.parse(text) : undefined;
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

const evil = 'https://evil.example';

for (const dialect of dialects) {
  describe(`auth security (${dialect})`, () => {
    let server: TestServer;
    let a: Tenant;
    before(async () => {
      server = await startTestServer(dialect);
      ({ a } = await setUpTenants(server, `auth-${dialect}`));
    });
    after(async () => server?.close());

    const tokenRows = async (userId: string) => server.reel.db.selectFrom('api_tokens').select(['id', 'revoked_at']).where('user_id', '=', userId).execute();
    const login = (email: string, password: string, from?: string, headers: Record<string, string> = {}) =>
      send(`${server.url}/auth/login`, {
        method: 'POST',
        from,
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ email, password }),
      });

    describe('finding 6: token and profile operations need their own capabilities', () => {
      it('refuses a restricted token holding only ams.asset:[read] every token and profile change, and the other tokens keep working', async () => {
        const { api: narrow, tokenId: narrowId } = await a.restricted({ 'ams.asset': ['read'] });
        assert.equal((await narrow.get(`${a.v1}/assets`)).status, 200, 'what it was granted works');
        const other = await a.admin.browser.post('/api/v1/user/tokens', { type: 'full-access', organizationId: a.organizationId, description: 'the CI token' });
        assert.equal(other.status, 201);
        const otherId = other.body.metadata.id as string;
        const otherApi = new ApiClient(server.url).withToken(other.body.metadata.JWT as string);
        const rowsBefore = (await tokenRows(a.admin.userId)).length;
        const nameBefore = (await a.admin.api.get('/api/v1/user/profile')).body.spec.name as string;

        const attempts = [
          await narrow.get('/api/v1/user/tokens'),
          await narrow.get(`/api/v1/user/tokens/${otherId}`),
          await narrow.get(`/api/v1/user/tokens/${narrowId}`),
          await narrow.post('/api/v1/user/tokens', {
            type: 'restricted',
            organizationId: a.organizationId,
            permissions: { 'core.project': { [a.projectId]: { 'ams.asset': ['read'] } } },
          }),
          await narrow.post('/api/v1/user/tokens', { type: 'full-access', organizationId: a.organizationId }),
          await narrow.delete(`/api/v1/user/tokens/${otherId}`),
          await narrow.delete('/api/v1/user/tokens'),
          await narrow.patch('/api/v1/user/profile', { spec: { name: 'Owned' } }),
        ];
        for (const res of attempts) {
          assert.equal(res.status, 403, res.text);
          assert.equal(res.body.error.code, 'Forbidden');
        }
        assert.equal((await tokenRows(a.admin.userId)).length, rowsBefore, 'no token was created');
        assert.ok(
          (await tokenRows(a.admin.userId)).every((r) => r.revoked_at === null),
          'no token was revoked',
        );
        assert.equal((await otherApi.get(`${a.v1}/assets`)).status, 200, 'the other token still works');
        assert.equal((await a.admin.api.get(`${a.v1}/assets`)).status, 200);
        assert.equal((await narrow.get(`${a.v1}/assets`)).status, 200, 'and so does the restricted one');
        assert.equal((await a.admin.api.get('/api/v1/user/profile')).body.spec.name, nameBefore, 'the profile is unchanged');
        // Reading one's own profile needs no capability (MK.IO: authentication only); clients read the org id there.
        assert.equal((await narrow.get('/api/v1/user/profile')).status, 200);
      });

      it('lets a restricted token granted core.token manage tokens, but only mint narrower ones', async () => {
        const granted = await a.admin.browser.post('/api/v1/user/tokens', {
          type: 'restricted',
          organizationId: a.organizationId,
          description: 'token manager',
          permissions: {
            'core.project': { [a.projectId]: { 'ams.asset': ['read'] } },
            'core.customer': { [a.organizationId]: { 'core.token': ['get', 'create', 'revoke'] } },
          },
        });
        assert.equal(granted.status, 201, granted.text);
        const manager = new ApiClient(server.url).withToken(granted.body.metadata.JWT as string, 'bearer');
        const listed = await manager.get('/api/v1/user/tokens');
        assert.equal(listed.status, 200);
        assert.ok(listed.body.value.some((t: { metadata: { id: string } }) => t.metadata.id === granted.body.metadata.id));
        assert.equal((await manager.get(`/api/v1/user/tokens/${granted.body.metadata.id}`)).status, 200);

        const narrower = await manager.post('/api/v1/user/tokens', {
          type: 'restricted',
          organizationId: a.organizationId,
          description: 'narrower',
          permissions: { 'core.project': { [a.projectId]: { 'ams.asset': ['read'] } } },
        });
        assert.equal(narrower.status, 201, narrower.text);
        const narrowerApi = new ApiClient(server.url).withToken(narrower.body.metadata.JWT as string);
        assert.equal((await narrowerApi.get(`${a.v1}/assets`)).status, 200);

        const broader = await manager.post('/api/v1/user/tokens', {
          type: 'restricted',
          organizationId: a.organizationId,
          permissions: { 'core.project': { [a.projectId]: { 'ams.asset': ['read', 'create'] } } },
        });
        assert.equal(broader.status, 403, 'it cannot grant what it does not hold');
        assert.equal((await manager.post('/api/v1/user/tokens', { type: 'full-access', organizationId: a.organizationId })).status, 403);
        assert.equal((await manager.patch('/api/v1/user/profile', { spec: { name: 'Owned' } })).status, 403, 'core.token is not core.profile');

        assert.equal((await manager.delete(`/api/v1/user/tokens/${narrower.body.metadata.id}`)).status, 200);
        assert.equal((await narrowerApi.get(`${a.v1}/assets`)).status, 401, 'the revocation took effect');
      });

      it('lets a restricted token granted core.profile:update edit the profile', async () => {
        const granted = await a.contributor.browser.post('/api/v1/user/tokens', {
          type: 'restricted',
          organizationId: a.organizationId,
          permissions: { 'core.user': { [a.contributor.userId]: { 'core.profile': ['update'] } } },
        });
        assert.equal(granted.status, 201, granted.text);
        const editor = new ApiClient(server.url).withToken(granted.body.metadata.JWT as string);
        const edited = await editor.patch('/api/v1/user/profile', { spec: { name: 'Contributor (edited)' } });
        assert.equal(edited.status, 200, edited.text);
        assert.equal((await a.contributor.api.get('/api/v1/user/profile')).body.spec.name, 'Contributor (edited)');
        assert.equal((await editor.get('/api/v1/user/tokens')).status, 403);
        assert.equal((await editor.get(`${a.v1}/assets`)).status, 403, 'no media capability either');
      });

      it('names the real limit when a login or ephemeral token expires too late (finding 16)', async () => {
        const login = await a.admin.browser.post('/api/v1/user/tokens', {
          type: 'login',
          organizationId: a.organizationId,
          expireDate: new Date(Date.now() + 2 * 86400_000).toISOString(),
        });
        assert.equal(login.status, 400);
        assert.equal(login.body.error.code, 'InvalidExpireDate');
        assert.match(login.body.error.detail, /12 hours/);
        assert.doesNotMatch(login.body.error.detail, /year/);
        const ephemeral = await a.admin.browser.post('/api/v1/user/tokens', {
          type: 'ephemeral',
          organizationId: a.organizationId,
          expireDate: new Date(Date.now() + 2 * 3600_000).toISOString(),
          permissions: { 'core.project': { [a.projectId]: { 'ams.asset': ['read'] } } },
        });
        assert.equal(ephemeral.status, 400);
        assert.match(ephemeral.body.error.detail, /1 hour/);
        const fullAccess = await a.admin.browser.post('/api/v1/user/tokens', {
          type: 'full-access',
          organizationId: a.organizationId,
          expireDate: new Date(Date.now() + 400 * 86400_000).toISOString(),
        });
        assert.equal(fullAccess.status, 400);
        assert.match(fullAccess.body.error.detail, /one year/);
        const inLimit = await a.admin.browser.post('/api/v1/user/tokens', {
          type: 'login',
          organizationId: a.organizationId,
          expireDate: new Date(Date.now() + 3600_000).toISOString(),
        });
        assert.equal(inLimit.status, 201, inLimit.text);
      });
    });

    describe('finding 7: cross-site requests with the session cookie', () => {
      const endpointState = async () => (await a.admin.api.get(`${a.v1}/streamingEndpoints/default`)).body.properties.resourceState as string;

      it('refuses cookie-authenticated writes from another site and changes nothing', async () => {
        const cookie = a.admin.cookie;
        assert.equal(await endpointState(), 'Running');
        const kept = await a.admin.api.put(`${a.v1}/assets/csrf-kept`, { properties: { storageAccountName: 'local' } });
        assert.equal(kept.status, 201, kept.text);
        const before = await tokenRows(a.admin.userId);
        const revokedBefore = before.filter((r) => r.revoked_at !== null).length;

        const crossSite: Array<{ method: string; path: string; headers: Record<string, string>; body?: string }> = [
          { method: 'POST', path: `${a.v1}/streamingEndpoints/default/stop`, headers: { origin: evil, 'content-type': 'text/plain' }, body: 'x' },
          {
            method: 'POST',
            path: `${a.v1}/streamingEndpoints/default/stop`,
            headers: { 'sec-fetch-site': 'cross-site', 'content-type': 'text/plain' },
            body: 'x',
          },
          { method: 'POST', path: `${a.v1}/streamingEndpoints/default/stop`, headers: { 'sec-fetch-site': 'same-site' } },
          { method: 'POST', path: `${a.v1}/streamingEndpoints/default/stop`, headers: { origin: 'null' } },
          {
            method: 'POST',
            path: '/api/v1/user/tokens',
            headers: { origin: evil, 'content-type': 'text/plain' },
            body: JSON.stringify({ type: 'full-access', organizationId: a.organizationId }),
          },
          {
            method: 'POST',
            path: '/api/v1/user/tokens',
            headers: { 'sec-fetch-site': 'cross-site', 'content-type': 'application/json' },
            body: JSON.stringify({ type: 'full-access', organizationId: a.organizationId }),
          },
          {
            method: 'PUT',
            path: `${a.v1}/assets/csrf-made`,
            headers: { origin: evil, 'content-type': 'text/plain' },
            body: JSON.stringify({ properties: { storageAccountName: 'local' } }),
          },
          {
            method: 'PUT',
            path: `${a.v1}/assets/csrf-made`,
            headers: { origin: `${server.url}.evil.example`, 'content-type': 'application/json' },
            body: JSON.stringify({ properties: { storageAccountName: 'local' } }),
          },
          { method: 'DELETE', path: `${a.v1}/assets/csrf-kept`, headers: { origin: evil } },
          { method: 'DELETE', path: `${a.v1}/assets/csrf-kept`, headers: { 'sec-fetch-site': 'cross-site' } },
          {
            method: 'PATCH',
            path: '/api/v1/user/profile',
            headers: { origin: evil, 'content-type': 'application/json' },
            body: JSON.stringify({ spec: { name: 'Owned' } }),
          },
          { method: 'DELETE', path: '/api/v1/user/tokens', headers: { origin: evil } },
        ];
        for (const r of crossSite) {
          const res = await send(`${server.url}${r.path}`, { method: r.method, headers: { cookie, ...r.headers }, body: r.body });
          assert.equal(res.status, 403, `${r.method} ${r.path} ${JSON.stringify(r.headers)}: ${res.text}`);
          assert.equal(res.json.error.code, 'CrossSiteRequestRefused');
        }
        assert.equal(await endpointState(), 'Running', 'the endpoint was not stopped');
        assert.equal((await a.admin.api.get(`${a.v1}/assets/csrf-made`)).status, 404, 'no asset was created');
        assert.equal((await a.admin.api.get(`${a.v1}/assets/csrf-kept`)).status, 200, 'no asset was deleted');
        const rows = await tokenRows(a.admin.userId);
        assert.equal(rows.length, before.length, 'no token was created');
        assert.equal(rows.filter((r) => r.revoked_at !== null).length, revokedBefore, 'no token was revoked');
        assert.notEqual((await a.admin.api.get('/api/v1/user/profile')).body.spec.name, 'Owned');
        assert.equal((await a.admin.browser.get(`${a.v1}/assets`)).status, 200, 'the session still works');
      });

      it('accepts same-origin and header-less cookie requests, and tokens from anywhere', async () => {
        const cookie = a.admin.cookie;
        const json = { 'content-type': 'application/json' };
        const sameOrigin = await send(`${server.url}${a.v1}/assets/csrf-same-origin`, {
          method: 'PUT',
          headers: { cookie, origin: server.url, 'sec-fetch-site': 'same-origin', ...json },
          body: JSON.stringify({ properties: { storageAccountName: 'local' } }),
        });
        assert.equal(sameOrigin.status, 201, sameOrigin.text);
        // A script with a cookie jar (curl -b) sends neither header.
        const noHeaders = await send(`${server.url}${a.v1}/assets/csrf-same-origin`, { method: 'DELETE', headers: { cookie } });
        assert.equal(noHeaders.status, 200, noHeaders.text);
        // A token is not an ambient credential: a page cannot make the browser send it, so Origin does not matter.
        const byToken = await send(`${server.url}${a.v1}/assets/csrf-token`, {
          method: 'PUT',
          headers: { 'x-mkio-token': a.admin.token, origin: evil, 'sec-fetch-site': 'cross-site', ...json },
          body: JSON.stringify({ properties: { storageAccountName: 'local' } }),
        });
        assert.equal(byToken.status, 201, byToken.text);
        // A GET with the cookie from another site is a read the attacker cannot see: allowed (links keep working).
        const read = await send(`${server.url}${a.v1}/assets`, { headers: { cookie, 'sec-fetch-site': 'cross-site' } });
        assert.equal(read.status, 200);
      });

      it('refuses cross-site sign-in and sign-out', async () => {
        const crossLogin = await login(a.reader.email, a.reader.password, undefined, { origin: evil });
        assert.equal(crossLogin.status, 403, crossLogin.text);
        assert.equal(crossLogin.json.error.code, 'CrossSiteRequestRefused');
        assert.equal(crossLogin.headers['set-cookie'], undefined, 'no session was opened');
        const sameSiteLogin = await login(a.reader.email, a.reader.password, undefined, { 'sec-fetch-site': 'same-site' });
        assert.equal(sameSiteLogin.status, 403);
        const fresh = await login(a.reader.email, a.reader.password, undefined, { origin: server.url, 'sec-fetch-site': 'same-origin' });
        assert.equal(fresh.status, 200, fresh.text);
        const cookie = String(fresh.headers['set-cookie']).split(';')[0];

        const crossLogout = await send(`${server.url}/auth/logout`, { method: 'POST', headers: { cookie, origin: evil } });
        assert.equal(crossLogout.status, 403);
        assert.equal((await new ApiClient(server.url, { cookie }).get('/api/v1/user/profile')).status, 200, 'still signed in');
        const logout = await send(`${server.url}/auth/logout`, { method: 'POST', headers: { cookie, origin: server.url } });
        assert.equal(logout.status, 204);
        assert.equal((await new ApiClient(server.url, { cookie }).get('/api/v1/user/profile')).status, 401);
      });

      it("refuses /auth/token/ on a cross-site navigation and reuses the session's token on repeated opens", async () => {
        const accounts = new AccountService(server.reel.db);
        const user = await accounts.createUser(`kb-${dialect}@example.com`, 'kb user password');
        await accounts.addMember(user.id, a.organizationId, 'Contributor');
        const signedIn = await login(`kb-${dialect}@example.com`, 'kb user password');
        assert.equal(signedIn.status, 200);
        const cookie = String(signedIn.headers['set-cookie']).split(';')[0];
        const open = (headers: Record<string, string> = {}) => send(`${server.url}/auth/token/`, { headers: { cookie, ...headers } });

        for (const site of ['cross-site', 'same-site']) {
          const refused = await open({ 'sec-fetch-site': site, 'sec-fetch-mode': 'navigate' });
          assert.equal(refused.status, 403, refused.text);
          assert.equal(refused.json.error.code, 'CrossSiteRequestRefused');
        }
        assert.equal((await tokenRows(user.id)).length, 0, 'a cross-site navigation mints no token');

        const first = await open({ 'sec-fetch-site': 'none', 'sec-fetch-mode': 'navigate' });
        assert.equal(first.status, 200, first.text);
        assert.equal(first.json.user_id, user.id);
        const again = [await open({ 'sec-fetch-site': 'same-origin' }), await open(), await open({ 'sec-fetch-site': 'none' })];
        for (const res of again) {
          assert.equal(res.status, 200);
          assert.equal(res.json.token_id, first.json.token_id);
          assert.equal(res.json.token, first.json.token, 'the same token is shown again');
        }
        assert.equal((await tokenRows(user.id)).length, 1, 'one token row for the session');
        const kb = new ApiClient(server.url).withToken(first.json.token as string);
        assert.equal((await kb.get(`${a.v1}/assets`)).status, 200);

        // Revoked: the next open issues a fresh token.
        assert.equal((await kb.delete(`/api/v1/user/tokens/${first.json.token_id}`)).status, 200);
        const replaced = await open();
        assert.equal(replaced.status, 200);
        assert.notEqual(replaced.json.token_id, first.json.token_id);
        assert.equal((await new ApiClient(server.url).withToken(replaced.json.token as string).get(`${a.v1}/assets`)).status, 200);
        assert.equal((await tokenRows(user.id)).length, 2);
        // Another session of the same user gets its own token.
        const second = String((await login(`kb-${dialect}@example.com`, 'kb user password')).headers['set-cookie']).split(';')[0];
        const other = await send(`${server.url}/auth/token/`, { headers: { cookie: second } });
        assert.notEqual(other.json.token_id, replaced.json.token_id);
      });
    });

    describe('finding 13: the sign-in throttle', () => {
      it('throttles one e-mail per client address: other users of that address and that e-mail elsewhere are not blocked', async () => {
        const victim = a.contributor;
        const statuses: number[] = [];
        for (let i = 0; i < 7; i++) statuses.push((await login(victim.email, 'wrong guess', '127.0.0.2')).status);
        assert.deepEqual(statuses.slice(0, 5), [401, 401, 401, 401, 401]);
        const blocked = await login(victim.email, victim.password, '127.0.0.2');
        assert.equal(blocked.status, 429, 'the guessing address waits, even with the right password');
        assert.ok(Number(blocked.headers['retry-after']) >= 1);
        assert.equal(blocked.json.error.code, 'TooManyRequests');

        const neighbour = await login(a.reader.email, a.reader.password, '127.0.0.2');
        assert.equal(neighbour.status, 200, `another user behind the same address signs in: ${neighbour.text}`);
        const elsewhere = await login(victim.email, victim.password, '127.0.0.3');
        assert.equal(elsewhere.status, 200, `the victim signs in from another address: ${elsewhere.text}`);
      });

      it('does not check a burst of parallel guesses all at once', async () => {
        const burst = await Promise.all(Array.from({ length: 12 }, () => login(`burst-${dialect}@example.com`, 'parallel guess', '127.0.0.20')));
        const checked = burst.filter((r) => r.status === 401).length;
        assert.ok(checked >= 1 && checked <= 5, `${checked} of 12 parallel guesses were checked: ${burst.map((r) => r.status).join(',')}`);
        for (const r of burst.filter((x) => x.status === 429)) assert.ok(Number(r.headers['retry-after']) >= 1);
      });

      it('blocks an address that tries many e-mails, only that address', async () => {
        const statuses: number[] = [];
        for (let i = 0; i < 60; i++) {
          const res = await login(`nobody-${i}-${dialect}@example.com`, 'guess', '127.0.0.4');
          statuses.push(res.status);
          if (res.status === 429) break;
        }
        assert.ok(
          statuses.slice(0, 20).every((s) => s === 401),
          `a few failures with different e-mails are not blocked: ${statuses.join(',')}`,
        );
        assert.equal(statuses.at(-1), 429, 'a spraying address is blocked eventually');
        const sprayed = await login(a.admin.email, a.admin.password, '127.0.0.4');
        assert.equal(sprayed.status, 429);
        const retryAfter = Number(sprayed.headers['retry-after']);
        assert.ok(retryAfter >= 1 && retryAfter <= 15 * 60, `Retry-After ${retryAfter}`);
        assert.equal((await login(a.admin.email, a.admin.password, '127.0.0.5')).status, 200, 'other addresses are not affected');
      });

      it('slows an account guessed from many addresses by a few seconds at most', async () => {
        const victim = a.reader;
        for (const from of ['127.0.0.10', '127.0.0.11', '127.0.0.12', '127.0.0.13', '127.0.0.14']) {
          for (let i = 0; i < 5; i++) await login(victim.email, 'distributed guess', from);
        }
        const started = Date.now();
        let res = await login(victim.email, victim.password, '127.0.0.15');
        let waits = 0;
        while (res.status === 429 && waits < 3) {
          const retryAfter = Number(res.headers['retry-after']);
          assert.ok(retryAfter >= 1 && retryAfter <= 5, `the account-wide slow-down is capped: Retry-After ${retryAfter}`);
          await new Promise((r) => setTimeout(r, retryAfter * 1000));
          res = await login(victim.email, victim.password, '127.0.0.15');
          waits++;
        }
        assert.equal(res.status, 200, res.text);
        assert.ok(Date.now() - started < 12_000, 'the owner got in within seconds');
      });
    });
  });
}
