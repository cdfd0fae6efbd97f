import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHmac } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { dialects, startTestServer, type TestServer } from '../support/server.js';
import { setUpTenants, type Tenant } from '../support/tenants.js';

/**
 * Webhook rules (MK.IO Management API, issue 14): a real HTTP receiver gets each event once, in order per
 * resource, signed with the rule's secret and carrying the rule's headers and authentication; a receiver that is
 * down gets the retries and then the event, across a restart; an endpoint that never answers well ends Failed.
 */
interface Received {
  headers: http.IncomingHttpHeaders;
  url: string;
  raw: string;
  body: { id: string; type: string; source: string; time: string; data: Record<string, any> };
}

/** An HTTP receiver on 127.0.0.1 that records every delivery and answers `status()` (200 by default). */
async function receiver(port = 0, status: () => number = () => 200) {
  const got: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      got.push({ headers: req.headers, url: req.url ?? '', raw, body: JSON.parse(raw) as Received['body'] });
      res.writeHead(status()).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    got,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Waits for `check` to hold: a safety net against a hung suite, not a timing threshold. */
async function until<T>(what: string | (() => string), check: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
    await sleep(50);
  }
}

const signingSecret = 'rule signing secret 0123456789';
const allEvents = [
  'MediaKind.JobStarted',
  'MediaKind.JobFinished',
  'MediaKind.StreamingLocatorCreated',
  'Reel.AssetCreated',
  'Reel.AssetUpdated',
  'Reel.AssetDeleted',
];

for (const dialect of dialects) {
  describe(`webhooks on ${dialect}`, () => {
    let server: TestServer;
    let a: Tenant;
    let b: Tenant;
    let hook: Awaited<ReturnType<typeof receiver>>;
    let W: string;

    before(async () => {
      server = await startTestServer(dialect, { REEL_WEBHOOK_ALLOW_PRIVATE: 'true', REEL_WEBHOOK_RETRY_BASE_MS: '100', REEL_WEBHOOK_MAX_ATTEMPTS: '4' });
      ({ a, b } = await setUpTenants(server, `webhooks-${dialect}`));
      hook = await receiver();
      W = `/api/v1/projects/${a.projectName}/webhook/rules`;
    });
    after(async () => {
      await hook?.close();
      await server?.close();
    });

    it('saves a rule in MK.IO’s shape and never shows its authentication or signing secret', async () => {
      const spec = {
        url: `${hook.url}/events?team=media`,
        enabled: true,
        events: allEvents,
        headers: { 'x-team': 'media' },
        queryParams: { source: 'reel' },
        authentication: { headers: { authorization: 'Bearer webhook-auth-token' }, queryParams: { code: 'query-auth-code' } },
        signingSecret,
      };
      // MK.IO's schema has neither Reel's events nor `signingSecret`: the request is Reel's, the answer MK.IO's.
      const made = await a.contributor.api.put(`${W}/all`, { spec }, { checkRequest: false });
      assert.equal(made.status, 201, made.text);
      assert.match(made.body.metadata.id, /^[0-9a-f-]{36}$/);
      assert.deepEqual(made.body.spec, { url: spec.url, enabled: true, events: allEvents, headers: spec.headers, queryParams: spec.queryParams });
      const got = await a.reader.api.get(`${W}/all`);
      assert.deepEqual(got.body, made.body);
      assert.deepEqual(
        (await a.reader.api.get(W)).body.value.map((r: any) => r.metadata.name),
        ['all'],
      );
      const row = await server.reel.db.selectFrom('webhook_rules').selectAll().where('name', '=', 'all').executeTakeFirstOrThrow();
      for (const secret of ['webhook-auth-token', 'query-auth-code', signingSecret]) {
        assert.ok(!JSON.stringify(row).includes(secret), 'secrets are sealed at rest');
        assert.ok(!got.text.includes(secret));
      }
    });

    it('generates a signing secret when none is given and shows it once', async () => {
      const made = await a.admin.api.put(`${W}/generated`, { spec: { url: `${hook.url}/gen`, enabled: false, events: ['MediaKind.JobFinished'] } });
      assert.equal(made.status, 201);
      assert.equal(typeof made.body.spec.signingSecret, 'string');
      assert.ok(made.body.spec.signingSecret.length >= 32);
      assert.equal((await a.admin.api.get(`${W}/generated`)).body.spec.signingSecret, undefined);
      const replaced = await a.admin.api.put(`${W}/generated`, { spec: { url: `${hook.url}/gen2`, enabled: false, events: ['MediaKind.JobStarted'] } });
      assert.equal(replaced.status, 200);
      assert.equal(replaced.body.spec.signingSecret, undefined, 'an update keeps the secret and does not show it');
      assert.equal(replaced.body.spec.url, `${hook.url}/gen2`);
      assert.equal((await a.admin.api.delete(`${W}/generated`, { contract: false })).status, 200);
      assert.equal((await a.admin.api.get(`${W}/generated`)).status, 404);
    });

    it('refuses bad rules, Readers’ changes and other organizations, and saves nothing', async () => {
      const base = { url: `${hook.url}/x`, enabled: true, events: ['MediaKind.JobFinished'] };
      const cases: Array<[string, unknown]> = [
        ['no url', { spec: { enabled: true, events: ['MediaKind.JobFinished'] } }],
        ['ftp url', { spec: { ...base, url: 'ftp://example.com/x' } }],
        ['credentials in url', { spec: { ...base, url: 'http://user:pw@example.com/x' } }],
        ['unknown event', { spec: { ...base, events: ['MediaKind.Everything'] } }],
        ['no events', { spec: { ...base, events: [] } }],
        ['reserved header', { spec: { ...base, headers: { 'x-reel-signature-256': 'forged' } } }],
        ['header with newline', { spec: { ...base, headers: { 'x-a': 'b\r\nx-c: d' } } }],
        ['short secret', { spec: { ...base, signingSecret: 'short' } }],
        ['unknown property', { spec: { ...base, colour: 'red' } }],
      ];
      for (const [what, body] of cases) {
        const res = await a.admin.api.put(`${W}/bad`, body, { checkRequest: false });
        assert.equal(res.status, 400, `${what}: ${res.text}`);
      }
      assert.equal((await a.reader.api.put(`${W}/bad`, { spec: base })).status, 403);
      assert.equal((await a.admin.api.get(`${W}/bad`)).status, 404, 'nothing was saved');
      assert.equal((await b.admin.api.get(`${W}/all`)).status, 404);
      assert.equal((await b.admin.api.put(`${W}/theirs`, { spec: base })).status, 404);
    });

    it('delivers each event once, in order per resource, signed, with the rule’s headers and authentication', async () => {
      const V = a.v1;
      assert.equal((await a.admin.api.put(`${V}/assets/hooked`, { properties: { storageAccountName: 'local' } })).status, 201);
      assert.equal((await a.admin.api.put(`${V}/assets/hooked`, { properties: { storageAccountName: 'local', description: 'now described' } })).status, 200);
      const locator = await a.admin.api.put(`${V}/streamingLocators/hooked-loc`, {
        properties: { assetName: 'hooked', streamingPolicyName: 'Predefined_ClearStreamingOnly' },
      });
      assert.equal(locator.status, 201, locator.text);
      await a.admin.api.put(`${V}/transforms/hooks`, {
        properties: { outputs: [{ preset: { '@odata.type': '#Microsoft.Media.BuiltInStandardEncoderPreset', presetName: 'H264SingleBitrate720p' } }] },
      });
      // An input on a private address fails at once (REEL_JOB_HTTP_ALLOW_PRIVATE is off): a quick start and end.
      const job = await a.admin.api.put(`${V}/transforms/hooks/jobs/doomed`, {
        properties: {
          input: { '@odata.type': '#Microsoft.Media.JobInputHttp', baseUri: 'http://127.0.0.1:1/', files: ['movie.mp4'] },
          outputs: [{ '@odata.type': '#Microsoft.Media.JobOutputAsset', assetName: 'doomed-out' }],
          correlationData: { ticket: 'T-1' },
        },
      });
      assert.equal(job.status, 201, job.text);
      await until('the job to end', async () =>
        ['Error', 'Finished'].includes((await a.admin.api.get(`${V}/transforms/hooks/jobs/doomed`)).body.properties.state),
      );
      assert.equal((await a.admin.api.delete(`${V}/streamingLocators/hooked-loc`)).status, 200);
      assert.equal((await a.admin.api.delete(`${V}/assets/hooked`)).status, 200);

      const expected = (type: string, source: string) => ({ type, source: `/api/v1/projects/${a.projectName}/media/${source}` });
      const wanted = [
        expected('Reel.AssetCreated', 'assets/hooked'),
        expected('Reel.AssetUpdated', 'assets/hooked'),
        expected('MediaKind.StreamingLocatorCreated', 'streamingLocators/hooked-loc'),
        expected('Reel.AssetCreated', 'assets/doomed-out'),
        expected('MediaKind.JobStarted', 'transforms/hooks/jobs/doomed'),
        expected('MediaKind.JobFinished', 'transforms/hooks/jobs/doomed'),
        expected('Reel.AssetDeleted', 'assets/hooked'),
      ];
      const mine = () => hook.got.filter((g) => g.url.startsWith('/events'));
      await until(
        () => `every event (got ${JSON.stringify(mine().map((g) => [g.body.type, g.body.source]))})`,
        () => mine().length >= wanted.length || undefined,
      );
      await sleep(500); // anything sent twice would arrive now
      const got = mine();
      assert.deepEqual(
        [...got.map((g) => ({ type: g.body.type, source: g.body.source }))].sort((x, y) => (x.source + x.type).localeCompare(y.source + y.type)),
        [...wanted].sort((x, y) => (x.source + x.type).localeCompare(y.source + y.type)),
      );
      assert.equal(new Set(got.map((g) => g.body.id)).size, got.length, 'each event once');
      const order = (source: string) => got.filter((g) => g.body.source.endsWith(source)).map((g) => g.body.type);
      assert.deepEqual(order('assets/hooked'), ['Reel.AssetCreated', 'Reel.AssetUpdated', 'Reel.AssetDeleted']);
      assert.deepEqual(order('jobs/doomed'), ['MediaKind.JobStarted', 'MediaKind.JobFinished']);
      for (const g of got) {
        const signature = `sha256=${createHmac('sha256', signingSecret).update(g.raw).digest('hex')}`;
        assert.equal(g.headers['x-reel-signature-256'], signature);
        assert.equal(g.headers['x-reel-event-id'], g.body.id);
        assert.equal(g.headers['x-reel-event-type'], g.body.type);
        assert.equal(g.headers['x-team'], 'media');
        assert.equal(g.headers.authorization, 'Bearer webhook-auth-token');
        const query = new URL(g.url, 'http://x').searchParams;
        assert.deepEqual([query.get('team'), query.get('source'), query.get('code')], ['media', 'reel', 'query-auth-code']);
      }
      const finished = got.find((g) => g.body.type === 'MediaKind.JobFinished')!;
      assert.equal(finished.body.data.state, 'Error');
      assert.deepEqual(finished.body.data.correlationData, { ticket: 'T-1' });
      assert.deepEqual(
        [
          got.find((g) => g.body.type === 'MediaKind.JobStarted')!.body.data.previousState,
          got.find((g) => g.body.type === 'MediaKind.JobStarted')!.body.data.state,
        ],
        ['Queued', 'Scheduled'],
      );

      const events = await a.reader.api.get(`${W}/all/events`);
      assert.equal(events.status, 200, events.text);
      assert.equal(events.body.value.length, wanted.length);
      for (const e of events.body.value) {
        assert.equal(e.status, 'Sent');
        assert.equal(e.attempts, 1);
        assert.equal(e.history[0].statusCode, 200);
      }
      const logs = server.logs();
      for (const secret of ['webhook-auth-token', 'query-auth-code', signingSecret]) assert.ok(!logs.includes(secret), `the log holds ${secret}`);
    });

    it('retries while the receiver is down, keeps the event across a restart, then delivers it', async () => {
      const spare = await receiver();
      const port = spare.port;
      await spare.close(); // nothing listens on `port` now
      assert.equal(
        (
          await a.admin.api.put(
            `${W}/later`,
            { spec: { url: `http://127.0.0.1:${port}/later`, enabled: true, events: ['Reel.AssetCreated'], signingSecret } },
            { checkRequest: false },
          )
        ).status,
        201,
      );
      assert.equal((await a.admin.api.put(`${a.v1}/assets/while-down`, { properties: { storageAccountName: 'local' } })).status, 201);
      const retrying = await until('a failed attempt', async () => {
        const list = (await a.admin.api.get(`${W}/later/events`)).body.value;
        return list[0]?.status === 'Retrying' ? list[0] : undefined;
      });
      assert.match(retrying.history[0].error, /ECONNREFUSED/);
      await server.restart();
      const back = await receiver(port);
      try {
        const got = await until('the delivery after the receiver came back', () => back.got[0]);
        assert.equal(got.body.type, 'Reel.AssetCreated');
        assert.equal(got.body.data.assetName, 'while-down');
        const event = await until('Sent', async () => {
          const e = (await a.admin.api.get(`${W}/later/events`)).body.value[0];
          return e.status === 'Sent' ? e : undefined;
        });
        assert.ok(event.attempts >= 2);
        assert.equal(event.history.at(-1).statusCode, 200);
        await sleep(300);
        assert.equal(back.got.length, 1, 'delivered once');
      } finally {
        await back.close();
        await a.admin.api.delete(`${W}/later`, { contract: false });
      }
    });

    it('marks an event Failed after the last attempt when the receiver keeps refusing it', async () => {
      const refusing = await receiver(0, () => 503);
      try {
        await a.admin.api.put(
          `${W}/refused`,
          { spec: { url: `${refusing.url}/r`, enabled: true, events: ['Reel.AssetCreated'], signingSecret } },
          { checkRequest: false },
        );
        await a.admin.api.put(`${a.v1}/assets/refused`, { properties: { storageAccountName: 'local' } });
        const failed = await until('Failed', async () => {
          const e = (await a.admin.api.get(`${W}/refused/events`)).body.value[0];
          return e?.status === 'Failed' ? e : undefined;
        });
        assert.equal(failed.attempts, 4);
        assert.deepEqual(
          failed.history.map((h: any) => h.statusCode),
          [503, 503, 503, 503],
        );
        assert.equal(refusing.got.length, 4);
      } finally {
        await refusing.close();
      }
    });

    it('refuses this machine and private networks unless REEL_WEBHOOK_ALLOW_PRIVATE, when saved and when delivered', async () => {
      await server.restart({ REEL_WEBHOOK_ALLOW_PRIVATE: 'false' });
      for (const url of ['http://127.0.0.1:9/x', 'http://localhost/x', 'http://[::1]/x', 'http://10.1.2.3/x', 'http://169.254.169.254/latest']) {
        const res = await a.admin.api.put(`${W}/private`, { spec: { url, enabled: true, events: ['Reel.AssetCreated'] } });
        assert.equal(res.status, 400, `${url}: ${res.text}`);
      }
      // The rule saved while private addresses were allowed is refused at delivery, and says so.
      await a.admin.api.put(`${a.v1}/assets/after-lockdown`, { properties: { storageAccountName: 'local' } });
      const before = hook.got.length;
      const refused = await until('a refused attempt', async () => {
        const list = (await a.admin.api.get(`${W}/all/events?$top=1000`)).body.value;
        const e = list.find((x: any) => x.source.endsWith('assets/after-lockdown'));
        return e && e.history.length > 0 ? e : undefined;
      });
      assert.match(refused.history[0].error, /refused/);
      assert.equal(hook.got.length, before, 'nothing reached the receiver');
    });
  });
}
