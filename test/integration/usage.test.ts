import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { dialects, startTestServer, type TestServer } from '../support/server.js';
import type { ApiClient } from '../support/api.js';
import { request } from '../support/http.js';
import { setUpTenants, type Tenant } from '../support/tenants.js';
import { makeMp4 } from '../fixtures/media.js';

// Made by ffmpeg before any server starts: played, stored and encoded (1280×720: an HD output).
const source = makeMp4({ seconds: 4, width: 1280, height: 720 });
const sourceBytes = fs.statSync(source).size;

interface ProjectRow {
  meterName: string;
  unit: string;
  solution: string;
  family: string;
  quantity: number;
  date?: string;
  streamingEndpoint?: string;
}
interface ProjectReport {
  supplemental: { records: number; start: string; end: string; project: string };
  value: ProjectRow[];
}
interface OrgRow extends ProjectRow {
  project: string;
  cost: string;
  currency: string;
}
interface OrgReport {
  supplemental: { records: number; start: string; end: string; granularity: string; filters: Record<string, string[]> };
  value: OrgRow[];
}

const today = () => new Date().toISOString().slice(0, 10);
const dayAfter = (day: string, n = 1) => new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);
const REPORT = '/api/v1/organization/reports/usage';
const V = '/api/v1/projects/default/media';

/** An asset on the embedded Local account, its file uploaded through the signed upload URL as a client would, and a locator. */
async function publishMovie(api: ApiClient, locatorId: string): Promise<void> {
  assert.equal((await api.put(`${V}/assets/movie`, { properties: { storageAccountName: 'local' } })).status, 201);
  const upload = await api.post(`${V}/assets/movie/getUploadUrl`, { fileName: 'movie.mp4' }, { contract: false });
  assert.equal(upload.status, 200, upload.text);
  const put = await fetch(upload.body.url as string, { method: 'PUT', body: fs.readFileSync(source) });
  assert.ok(put.ok, await put.text());
  const locator = { assetName: 'movie', streamingPolicyName: 'Predefined_ClearStreamingOnly', streamingLocatorId: locatorId };
  assert.equal((await api.put(`${V}/streamingLocators/movie`, { properties: locator })).status, 201);
}

const projectReportOf = async (client: ApiClient, project = 'default') => {
  const res = await client.get<ProjectReport>(`/api/v1/projects/${project}/usage`, { contract: 'management' });
  assert.equal(res.status, 200, res.text);
  return res.body;
};
const streamedBytes = (report: ProjectReport, endpoint: string) =>
  Math.round(report.value.filter((r) => r.meterName === 'streaming_egress' && r.streamingEndpoint === endpoint).reduce((sum, r) => sum + r.quantity, 0) * 1e9);

/**
 * Plays the movie's HLS stream through `origin` on `host` — manifest, one variant playlist, then its init and
 * media segments `rounds` times — and returns the body bytes received and how many responses carried them.
 */
async function playMovie(origin: string, host: string, locatorId: string, rounds: number, headers: Record<string, string> = {}) {
  const base = `${origin}/${locatorId}/manifest.ism`;
  let bodyBytes = 0;
  let responses = 0;
  const play = async (url: string) => {
    const res = await request(url, { host, headers });
    assert.equal(res.status, 200, `${url}: ${res.body.toString().slice(0, 200)}`);
    bodyBytes += res.body.length;
    responses++;
    return res.body.toString();
  };
  const master = await play(`${base}/manifest(format=m3u8-cmaf)`);
  const lines = master.split('\n');
  const variant = lines[lines.findIndex((l) => l.startsWith('#EXT-X-STREAM-INF')) + 1];
  assert.ok(variant, master);
  const playlistUrl = `${base}/${variant}`;
  const playlist = await play(playlistUrl);
  const init = /#EXT-X-MAP:URI="([^"]+)"/.exec(playlist)?.[1];
  assert.ok(init, playlist);
  const segments = playlist.split('\n').filter((l) => l && !l.startsWith('#'));
  assert.ok(segments.length >= 2, playlist);
  const urlOf = (uri: string) => new URL(uri, playlistUrl).toString();
  for (let round = 0; round < rounds; round++) {
    await play(urlOf(init));
    for (const segment of segments) await play(urlOf(segment));
  }
  return { bodyBytes, responses };
}
/** A safety net against a hung suite, not a performance threshold. */
const patience = 10 * 60_000;

for (const dialect of dialects) {
  describe(`usage metering and reports on ${dialect}`, () => {
    let server: TestServer;
    let a: Tenant;
    let b: Tenant;
    let api: ApiClient;
    const locatorId = '0e5a9e00-1234-4abc-8def-0123456789ab';
    let endpointHost: string;

    const projectReport = (client: ApiClient = api, project = 'default') => projectReportOf(client, project);

    before(async () => {
      server = await startTestServer(dialect);
      ({ a, b } = await setUpTenants(server, `usage-${dialect}`));
      api = a.admin.api;
      await publishMovie(api, locatorId);
      assert.equal((await api.put(`${V}/streamingEndpoints/metered?autoStart=True`, { location: 'local', properties: { scaleUnits: 0 } })).status, 201);
      endpointHost = `metered-default.localhost:${new URL(server.url).port}`;
    });
    after(async () => server?.close());

    it("reports the asset's stored bytes as the size of the uploaded file", async () => {
      const report = await projectReport();
      const storage = report.value.filter((r) => r.meterName === 'storage');
      assert.equal(storage.length, 1, JSON.stringify(report.value));
      assert.equal(storage[0].unit, 'gigabytes');
      assert.equal(storage[0].date, `${today()}T00:00:00Z`);
      assert.equal(Math.round(storage[0].quantity * 1e9), sourceBytes);
      assert.equal(report.supplemental.project, 'default');
      assert.equal(report.supplemental.records, report.value.length);
      assert.equal(report.supplemental.start, `${today().slice(0, 7)}-01`);
    });

    it('counts the bytes each streaming endpoint sent, per endpoint and day', async () => {
      // Twice each: the second time a segment is answered before routing (hot routes), which is metered too.
      const { bodyBytes, responses } = await playMovie(server.url, endpointHost, locatorId, 2);
      const base = `${server.url}/${locatorId}/manifest.ism`;
      // The same URL on another host is the `default` endpoint's traffic, not `metered`'s.
      const other = await request(`${base}/manifest(format=m3u8-cmaf)`);
      assert.equal(other.status, 200);

      const deadline = Date.now() + patience;
      let report = await projectReport();
      // The origin adds its counters to the table every few seconds.
      while (streamedBytes(report, 'metered') < bodyBytes || streamedBytes(report, 'default') < other.body.length) {
        if (Date.now() > deadline) assert.fail(`streamed bytes never reached ${bodyBytes}: ${JSON.stringify(report.value)}`);
        await sleep(500);
        report = await projectReport();
      }
      const counted = streamedBytes(report, 'metered');
      // What was counted is what the socket took: the bodies plus each response's status line and headers.
      assert.ok(counted >= bodyBytes && counted <= bodyBytes + responses * 2048, `counted ${counted}, bodies ${bodyBytes} in ${responses} responses`);
      const rows = report.value.filter((r) => r.streamingEndpoint === 'metered');
      assert.equal(rows.length, 1);
      assert.deepEqual(
        { ...rows[0], quantity: 0 },
        {
          meterName: 'streaming_egress',
          unit: 'gigabytes',
          solution: 'Streaming',
          family: 'Video On Demand',
          quantity: 0,
          date: `${today()}T00:00:00Z`,
          streamingEndpoint: 'metered',
        },
      );
      const otherCounted = streamedBytes(report, 'default');
      assert.ok(otherCounted >= other.body.length && otherCounted <= other.body.length + 2048, `default: ${otherCounted}`);

      // The organization report says the same, per day and endpoint.
      const org = await api.post<OrgReport>(
        REPORT,
        { startDate: today(), endDate: dayAfter(today()), meterNames: ['streaming_egress'] },
        { contract: 'management' },
      );
      assert.equal(org.status, 200, org.text);
      const orgRow = org.body.value.find((r) => r.streamingEndpoint === 'metered');
      assert.ok(orgRow, org.text);
      assert.equal(Math.round(orgRow.quantity * 1e9), counted);
      assert.equal(orgRow.project, 'default');
      assert.equal(orgRow.date, `${today()}T00:00:00Z`);
      assert.ok(org.body.value.every((r) => r.meterName === 'streaming_egress'));
    });

    it('meters a finished encoding job in the resolution class of its output, and audio-only jobs as audio', async () => {
      const preset = (presetName: string) => ({ '@odata.type': '#Microsoft.Media.BuiltInStandardEncoderPreset', presetName });
      assert.equal((await api.put(`${V}/transforms/hd`, { properties: { outputs: [{ preset: preset('H264SingleBitrate720p') }] } })).status, 201);
      assert.equal((await api.put(`${V}/transforms/sound`, { properties: { outputs: [{ preset: preset('AACGoodQualityAudio') }] } })).status, 201);
      const job = (transform: string, output: string) => ({
        properties: {
          input: { '@odata.type': '#Microsoft.Media.JobInputAsset', assetName: 'movie', files: ['*'] },
          outputs: [{ '@odata.type': '#Microsoft.Media.JobOutputAsset', assetName: output }],
        },
      });
      assert.equal((await api.put(`${V}/transforms/hd/jobs/hd-job`, job('hd', 'movie-hd'))).status, 201);
      assert.equal((await api.put(`${V}/transforms/sound/jobs/sound-job`, job('sound', 'movie-sound'))).status, 201);
      const deadline = Date.now() + patience;
      for (const path of [`${V}/transforms/hd/jobs/hd-job`, `${V}/transforms/sound/jobs/sound-job`]) {
        for (;;) {
          const state = (await api.get(path)).body.properties.state as string;
          if (state === 'Finished') break;
          assert.ok(!['Error', 'Canceled'].includes(state), `${path}: ${state}`);
          if (Date.now() > deadline) assert.fail(`${path} never finished`);
          await sleep(250);
        }
      }
      const report = await projectReport();
      const minutes = (meter: string) => report.value.filter((r) => r.meterName === meter).reduce((s, r) => s + r.quantity, 0);
      // One 1280×720 rendition of a 4 s source: 4 s of HD; the AAC job: 4 s of audio.
      assert.ok(Math.abs(minutes('video_encoding_ondemand_hd') - 4 / 60) < 0.2 / 60, `HD ${minutes('video_encoding_ondemand_hd')}`);
      assert.ok(Math.abs(minutes('audio_encoding_ondemand') - 4 / 60) < 0.2 / 60, `audio ${minutes('audio_encoding_ondemand')}`);
      assert.equal(minutes('video_encoding_ondemand_sd'), 0);
      assert.equal(minutes('video_encoding_ondemand_uhd'), 0);
      const hd = report.value.find((r) => r.meterName === 'video_encoding_ondemand_hd');
      assert.deepEqual({ unit: hd?.unit, solution: hd?.solution, date: hd?.date }, { unit: 'minutes', solution: 'Encoding', date: `${today()}T00:00:00Z` });

      // The stored bytes now include the job outputs, listed from storage.
      const stored = Math.round(report.value.find((r) => r.meterName === 'storage')!.quantity * 1e9);
      assert.ok(stored > sourceBytes, `stored ${stored}`);

      // The legacy subscription usage reports the same numbers, summed over the month.
      const legacy = await api.get(`/api/accounts/${a.organizationId}/subscriptions/${a.projectId}/usage/`, { contract: false });
      assert.equal(legacy.status, 200, legacy.text);
      const total = (name: string) =>
        (legacy.body.spec.items as Array<{ spec: { meterName: string; total: number } }>).find((i) => i.spec.meterName === name)?.spec.total;
      assert.ok(Math.abs(total('Encoding')! - (minutes('video_encoding_ondemand_hd') + minutes('audio_encoding_ondemand'))) < 1e-5);
      assert.ok(Math.abs(total('Encoding HD')! - minutes('video_encoding_ondemand_hd')) < 1e-5);
      assert.ok(Math.abs(total('Encoding Audio')! - minutes('audio_encoding_ondemand')) < 1e-5);
      assert.equal(Math.round(total('Storage')! * 1e9), stored);
      const streamed = report.value.filter((r) => r.meterName === 'streaming_egress').reduce((s, r) => s + r.quantity, 0);
      assert.equal(Math.round(total('Streaming Egress')! * 1e9), Math.round(streamed * 1e9));
      assert.equal(total('Live Event'), 0);
    });

    it('answers the organization report by granularity, filters and format', async () => {
      const month = await api.post<OrgReport>(
        REPORT,
        { startDate: `${today().slice(0, 7)}-01`, endDate: dayAfter(today()), granularity: 'month' },
        { contract: 'management' },
      );
      assert.equal(month.status, 200, month.text);
      assert.equal(month.body.supplemental.granularity, 'month');
      assert.ok(month.body.value.length > 0);
      for (const row of month.body.value) {
        assert.equal(row.date, `${today().slice(0, 7)}-01T00:00:00Z`);
        assert.equal(row.project, 'default');
        assert.equal(row.cost, '0.00');
      }
      // Per month, one row per project, meter and endpoint.
      const keys = month.body.value.map((r) => `${r.project}/${r.meterName}/${r.streamingEndpoint ?? ''}`);
      assert.equal(new Set(keys).size, keys.length);

      const byProject = await api.post<OrgReport>(
        REPORT,
        { startDate: today(), endDate: dayAfter(today()), projectNames: ['default'], meterNames: ['storage'] },
        { contract: 'management' },
      );
      assert.equal(byProject.status, 200);
      assert.deepEqual(
        byProject.body.value.map((r) => [r.project, r.meterName]),
        [['default', 'storage']],
      );
      assert.deepEqual(byProject.body.supplemental.filters, { paymentMethodIds: [], projectNames: ['default'], meterNames: ['storage'] });

      // A range in the past has no stored-bytes measurement and no usage.
      const past = await api.post<OrgReport>(REPORT, { startDate: '2020-01-01', endDate: '2020-02-01' }, { contract: 'management' });
      assert.equal(past.status, 200);
      assert.deepEqual(past.body.value, []);

      const csv = await api.call('POST', REPORT, { startDate: today(), endDate: dayAfter(today()), format: 'csv', download: true }, { contract: false });
      assert.equal(csv.status, 200);
      assert.match(csv.headers.get('content-type') ?? '', /^text\/csv/);
      assert.match(csv.headers.get('content-disposition') ?? '', /^attachment; filename="usage-/);
      const lines = csv.text.trim().split('\r\n');
      assert.equal(lines[0], 'date,project,meterName,unit,quantity,cost,currency,solution,family,streamingEndpoint');
      assert.ok(lines.some((l) => l.includes(',streaming_egress,') && l.endsWith(',metered')));
    });

    it('refuses malformed report requests with 400', async () => {
      const bad = async (body: Record<string, unknown>, pattern: RegExp) => {
        const res = await api.call('POST', REPORT, body, { contract: false });
        assert.equal(res.status, 400, `${JSON.stringify(body)}: ${res.text}`);
        assert.match(res.text, pattern);
      };
      await bad({ startDate: '2026-03-01', endDate: '2026-02-01' }, /endDate/);
      await bad({ startDate: '2026-03-01', endDate: '2026-03-01' }, /endDate/);
      await bad({ startDate: '2026-03-01', endDate: '2026-04-01', sort: 'date' }, /sort/);
      await bad({ startDate: '2026-02-30', endDate: '2026-03-01' }, /startDate/);
      await bad({ startDate: '2026-03-01' }, /endDate/);
      await bad({ startDate: '2026-01-01', endDate: '2026-03-01', granularity: 'hour' }, /31 days/);
      await bad({ startDate: '2024-01-01', endDate: '2026-01-01', granularity: 'day' }, /366 days/);
      await bad({ startDate: '2026-01-01', endDate: '2026-02-01', granularity: 'fortnight' }, /granularity/);
      await bad({ startDate: '2026-01-01', endDate: '2026-02-01', groupBy: ['project'] }, /groupBy/);
      await bad({ startDate: '2026-01-01', endDate: '2026-02-01', meterNames: ['gold_plating'] }, /gold_plating/);
      await bad(
        { startDate: '2026-01-01', endDate: '2026-02-01', projectNames: ['default'], paymentMethodIds: ['a1b2c3d4-e5f6-7890-abcd-ef1234567890'] },
        /together/,
      );
      // A year of monthly rows is fine (no limit past `day`).
      assert.equal((await api.post(REPORT, { startDate: '2020-01-01', endDate: '2026-01-01', granularity: 'month' }, { contract: 'management' })).status, 200);
    });

    it("keeps each organization's usage to itself", async () => {
      // Another organization's project is not found, as on every project route.
      assert.equal((await b.admin.api.get('/api/v1/projects/default/usage', { contract: 'management' })).status, 404);
      const own = await projectReport(b.admin.api, b.projectName);
      assert.deepEqual(
        own.value.map((r) => [r.meterName, r.quantity]),
        [['storage', 0]],
      );
      const theirs = await b.admin.api.post<OrgReport>(REPORT, { startDate: today(), endDate: dayAfter(today()) }, { contract: 'management' });
      assert.equal(theirs.status, 200);
      assert.ok(
        theirs.body.value.every((r) => r.project === b.projectName),
        theirs.text,
      );
      assert.equal(
        (await b.admin.api.post(REPORT, { startDate: today(), endDate: dayAfter(today()), projectNames: ['default'] }, { contract: 'management' })).status,
        404,
      );
      const mine = await api.post<OrgReport>(REPORT, { startDate: today(), endDate: dayAfter(today()) }, { contract: 'management' });
      assert.ok(
        mine.body.value.every((r) => r.project === 'default'),
        mine.text,
      );
      // Every member reads usage; a restricted token without the capabilities does not.
      assert.equal((await a.reader.api.get('/api/v1/projects/default/usage', { contract: 'management' })).status, 200);
      assert.equal((await a.reader.api.post(REPORT, { startDate: today(), endDate: dayAfter(today()) }, { contract: 'management' })).status, 200);
      const narrow = await a.restricted({ 'ams.asset': ['read'] });
      assert.equal((await narrow.api.get('/api/v1/projects/default/usage', { contract: 'management' })).status, 403);
      assert.equal((await narrow.api.post(REPORT, { startDate: today(), endDate: dayAfter(today()) }, { contract: 'management' })).status, 403);
      const granted = await a.restricted({ 'core.project': ['get'] });
      assert.equal((await granted.api.get('/api/v1/projects/default/usage', { contract: 'management' })).status, 200);
    });
  });
}

for (const dialect of dialects) {
  describe(`usage metering with several origin processes on ${dialect}`, () => {
    let server: TestServer;
    let api: ApiClient;
    const locatorId = '0e5a9e00-1234-4abc-8def-0123456789ac';

    before(async () => {
      server = await startTestServer(dialect, { REEL_ORIGIN_PROCESSES: '2' });
      api = (await setUpTenants(server, `usage-procs-${dialect}`)).a.admin.api;
      await publishMovie(api, locatorId);
    });
    after(async () => server?.close());

    it('sums what every origin process sent, and writes the last counts when they stop', async () => {
      const originPort = new URL(server.reel.originUrl).port;
      assert.notEqual(server.reel.originUrl, server.reel.url);
      // A connection per request, so the kernel spreads them over both processes.
      const played = await playMovie(server.reel.originUrl, `default-default.localhost:${originPort}`, locatorId, 3, { connection: 'close' });
      // Stopping the server stops the origin processes, which write their counters as they close. It comes back
      // without origin processes: their port (main + 1) was free only while they held it, and another test's
      // ephemeral port may have taken it since.
      await server.restart({ REEL_ORIGIN_PROCESSES: '1' });
      const counted = streamedBytes(await projectReportOf(api), 'default');
      assert.ok(
        counted >= played.bodyBytes && counted <= played.bodyBytes + played.responses * 2048,
        `counted ${counted}, bodies ${played.bodyBytes} in ${played.responses} responses`,
      );
    });
  });
}
