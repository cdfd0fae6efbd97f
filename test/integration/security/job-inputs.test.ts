import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { dialects, startTestServer, type TestServer } from '../../support/server.js';
import { ApiClient, login, tokenFromSession } from '../../support/api.js';
import { makeMp4 } from '../../fixtures/media.js';
import { startServerProcess } from '../../support/server-process.js';

/**
 * Issue 10, findings 3, 4 and 15: what a job's input can make the worker's ffmpeg open, and what survives the
 * worker. An attacker's targets are loopback listeners that record every request; a secret is a media file
 * outside every storage root, written by the test.
 */

type Job = { properties: { state: string; outputs: Array<{ state: string; progress: number; error?: { code: string; message: string } }> } };

async function pollJob(api: ApiClient, jobPath: string, done: (job: Job) => boolean): Promise<Job> {
  // A safety net against a hung suite, not a performance threshold.
  const deadline = Date.now() + 5 * 60_000;
  for (;;) {
    const res = await api.get<Job>(jobPath);
    assert.equal(res.status, 200, res.text);
    if (done(res.body)) return res.body;
    if (Date.now() > deadline) assert.fail(`job never got there: ${res.text}`);
    await sleep(200);
  }
}
const isFinal = (job: Job) => ['Finished', 'Error', 'Canceled'].includes(job.properties.state);

/** A loopback listener that records every request (and every connection, in case a request never completes). */
async function listener(handler?: (req: http.IncomingMessage, res: http.ServerResponse) => void) {
  const requests: string[] = [];
  let connections = 0;
  const server = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    if (handler) handler(req, res);
    else res.writeHead(404).end();
  });
  server.on('connection', () => {
    connections++;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    requests,
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const V = '/api/v1/projects/default/media';
const audioPreset = { '@odata.type': '#Microsoft.Media.BuiltInStandardEncoderPreset', presetName: 'AACGoodQualityAudio' };

/** A secret outside every storage root: an MPEG-TS file, whose extension HLS's own extension list lets through. */
function writeSecret(): { dir: string; file: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reel-secret-'));
  const file = path.join(dir, 'secret.ts');
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-i', makeMp4(), '-c', 'copy', '-f', 'mpegts', file]);
  return { dir, file };
}
const playlist = (segment: string) => `#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\n${segment}\n#EXT-X-ENDLIST\n`;

for (const dialect of dialects) {
  describe(`job inputs cannot reach beyond what they name, on ${dialect}`, () => {
    let server: TestServer;
    let redirectServer: TestServer;
    let api: ApiClient;
    // A fresh attacker's target per test, so what one test's job did never shows up in another's.
    const listeners: Array<Awaited<ReturnType<typeof listener>>> = [];
    const newListener = async (handler?: Parameters<typeof listener>[0]) => {
      const l = await listener(handler);
      listeners.push(l);
      return l;
    };
    let vault: string;
    const secret = writeSecret();
    let jobCount = 0;

    before(async () => {
      server = await startTestServer(dialect);
      api = new ApiClient(server.url).withToken((await tokenFromSession(server.url, await login(server.url, server.adminEmail, server.adminPassword))).token);
      vault = path.join(server.localArea(), 'vault');
      fs.mkdirSync(vault, { recursive: true });
      assert.equal((await api.put(`${V}/storage/vault`, { spec: { type: 'Local', path: vault } }, { contract: false })).status, 201);
      assert.equal((await api.put(`${V}/transforms/audio`, { properties: { outputs: [{ preset: audioPreset }] } })).status, 201);
    });
    after(async () => {
      await server?.close();
      await redirectServer?.close();
      for (const l of listeners) await l.close();
      fs.rmSync(secret.dir, { recursive: true, force: true });
    });

    /** An asset on the Local account `vault` whose container holds `files`. */
    async function assetWith(name: string, files: Record<string, string>): Promise<void> {
      fs.mkdirSync(path.join(vault, name));
      for (const [file, content] of Object.entries(files)) fs.writeFileSync(path.join(vault, name, file), content);
      const res = await api.put(`${V}/assets/${name}`, { properties: { storageAccountName: 'vault', container: name } });
      assert.equal(res.status, 201, res.text);
    }

    /** Submits a job and waits for its end; a submission refused with 400 counts as refused too. */
    async function run(client: ApiClient, input: Record<string, unknown>): Promise<{ refusedAtSubmission: boolean; job?: Job; output: string }> {
      const name = `job-${++jobCount}`;
      const output = `${name}-out`;
      const submitted = await client.put(
        `${V}/transforms/audio/jobs/${name}`,
        { properties: { input, outputs: [{ '@odata.type': '#Microsoft.Media.JobOutputAsset', assetName: output }] } },
        { checkRequest: false },
      );
      if (submitted.status === 400) return { refusedAtSubmission: true, output };
      assert.equal(submitted.status, 201, submitted.text);
      return { refusedAtSubmission: false, job: await pollJob(client, `${V}/transforms/audio/jobs/${name}`, isFinal), output };
    }

    /** The job ended in Error with `code`, and its output asset holds no file. */
    async function assertRefused(client: ApiClient, outcome: Awaited<ReturnType<typeof run>>, code: string | RegExp): Promise<void> {
      if (outcome.refusedAtSubmission) return;
      const job = outcome.job!;
      assert.equal(job.properties.state, 'Error', JSON.stringify(job));
      assert.match(job.properties.outputs[0].error?.code ?? '', code instanceof RegExp ? code : new RegExp(`^${code}$`), JSON.stringify(job));
      const listing = await client.get(`${V}/assets/${outcome.output}/storage/`);
      assert.equal(listing.status, 200, listing.text);
      assert.deepEqual(listing.body.spec.files, [], 'the output asset holds nothing');
    }

    // Finding 3: a playlist or list in a Local-storage asset made ffmpeg read files outside every storage root.
    it('refuses an HLS playlist, a concat list and an .mp4 that is really a playlist, reading nothing they name', async () => {
      const target = await newListener();
      await assetWith('m3u8', { 'index.m3u8': playlist(`file://${secret.file}`) });
      await assetWith('disguised', { 'movie.mp4': playlist(`file://${secret.file}`) });
      await assetWith('concat', {
        'list.txt': `ffconcat version 1.0\nfile '${secret.file}'\n`,
        'movie.mp4': `ffconcat version 1.0\nfile 'file:${secret.file}'\n`,
      });
      await assetWith('to-network', { 'movie.mp4': playlist(`http://127.0.0.1:${target.port}/segment.ts`) });
      const atimeBefore = fs.statSync(secret.file).atimeMs;
      for (const [assetName, files, code] of [
        ['m3u8', ['index.m3u8'], 'ContentUnsupported'],
        ['disguised', ['*'], 'ContentUnsupported'],
        ['concat', ['list.txt'], 'ContentUnsupported'],
        ['concat', ['movie.mp4'], 'ContentUnsupported'],
        ['to-network', ['*'], 'ContentUnsupported'],
      ] as const) {
        const outcome = await run(api, { '@odata.type': '#Microsoft.Media.JobInputAsset', assetName, files });
        assert.equal(outcome.refusedAtSubmission, false, 'the submission itself is valid');
        await assertRefused(api, outcome, code);
        assert.match(outcome.job!.properties.outputs[0].error?.message ?? '', /playlists|refers to another location/, `${assetName}: says why`);
      }
      assert.deepEqual(target.requests, [], 'no segment URL was fetched');
      assert.equal(target.connections(), 0);
      // ext4/tmpfs relatime would show a first read after a write; the file was written before any job ran.
      assert.equal(fs.statSync(secret.file).atimeMs, atimeBefore, 'the secret was never opened for reading');
    });

    // The same hole in asset storage listings: ffprobe reads each media file over a signed URL to describe it.
    it("describes an asset's files without following what a playlist disguised as media names", async () => {
      const target = await newListener();
      await assetWith('listed', { 'movie.mp4': playlist(`http://127.0.0.1:${target.port}/segment.ts`), 'local.mp4': playlist(`file://${secret.file}`) });
      const listing = await api.get(`${V}/assets/listed/storage/`);
      assert.equal(listing.status, 200, listing.text);
      assert.deepEqual(target.requests, [], "the listing's probe fetched nothing the playlist names");
      assert.equal(target.connections(), 0);
      assert.deepEqual(listing.body.spec.mediaInfo, {}, 'no media described from the named files');
      assert.ok(listing.body.spec.error['movie.mp4'], JSON.stringify(listing.body.spec));
    });

    // Finding 4 (a): Node's URL parser reads a backslash as '/', ffmpeg's as part of the user-info, so a URL on
    // Reel's own (trusted) origin could name another loopback port to ffmpeg.
    it('refuses a URL that parsers read differently (backslash before an @), and the port it hides receives nothing', async () => {
      const target = await newListener();
      await assetWith('plain', { 'x.txt': 'x' });
      fs.copyFileSync(makeMp4(), path.join(vault, 'plain', 'source.mp4'));
      const access = await api.post(`${V}/assets/plain/getFileAccessInfo`);
      assert.equal(access.status, 200, access.text);
      const own = new URL(access.body.url as string);
      // To Node: Reel's own origin, path /files/…/source.mp4 (a readable signed URL). To ffmpeg: host 127.0.0.1:<target>.
      const raw = `${own.origin}\\@127.0.0.1:${target.port}/..${own.pathname}/source.mp4?token=${access.body.jwt as string}`;
      const outcome = await run(api, { '@odata.type': '#Microsoft.Media.JobInputHttp', files: [raw] });
      assert.deepEqual(target.requests, [], 'the hidden port received nothing');
      assert.equal(target.connections(), 0);
      // Refused at submission (400, nothing created); the worker's own check is covered by http-input-download.test.ts.
      assert.equal(outcome.refusedAtSubmission, true, 'a URL that parsers read differently is refused when the job is submitted');
      assert.equal((await api.get(`${V}/assets/${outcome.output}`)).status, 404, 'no output asset was created for the refused job');
    });

    // Finding 4 (b): the segment URLs inside an HLS input were fetched by ffmpeg without any check.
    it('downloads an HTTP input itself and refuses it when it is a playlist: its segment URLs are never fetched', async () => {
      const target = await newListener();
      await assetWith('remote-playlist', { 'index.m3u8': playlist(`http://127.0.0.1:${target.port}/segment.ts`) });
      const access = await api.post(`${V}/assets/remote-playlist/getFileAccessInfo`);
      assert.equal(access.status, 200, access.text);
      // A URL on Reel's own origin is allowed (trusted); what it serves still may not send ffmpeg elsewhere.
      const outcome = await run(api, {
        '@odata.type': '#Microsoft.Media.JobInputHttp',
        baseUri: `${access.body.url as string}?token=${access.body.jwt as string}`,
        files: ['index.m3u8'],
      });
      assert.deepEqual(target.requests, [], 'the segment URL was never fetched');
      assert.equal(target.connections(), 0);
      await assertRefused(api, outcome, 'ContentUnsupported');
    });

    // Finding 4 (c): redirects were followed without checking where they led.
    it('checks every redirect: an allowed origin redirecting to a loopback port is refused, which receives nothing', async () => {
      const target = await newListener();
      const redirector = await newListener((_req, res) => res.writeHead(302, { location: `http://127.0.0.1:${target.port}/movie.mp4` }).end());
      // Reel's public URL is a trusted origin; here it is the redirecting listener.
      redirectServer = await startTestServer(dialect, { REEL_PUBLIC_URL: `http://127.0.0.1:${redirector.port}` });
      const client = new ApiClient(redirectServer.url).withToken(
        (await tokenFromSession(redirectServer.url, await login(redirectServer.url, redirectServer.adminEmail, redirectServer.adminPassword))).token,
      );
      assert.equal((await client.put(`${V}/transforms/audio`, { properties: { outputs: [{ preset: audioPreset }] } })).status, 201);
      const outcome = await run(client, { '@odata.type': '#Microsoft.Media.JobInputHttp', files: [`http://127.0.0.1:${redirector.port}/movie.mp4`] });
      assert.ok(redirector.requests.length > 0, 'the allowed origin was asked');
      assert.deepEqual(target.requests, [], 'the redirect target received nothing');
      assert.equal(target.connections(), 0);
      await assertRefused(client, outcome, 'DownloadNotAccessible');
      assert.match(outcome.job?.properties.outputs[0].error?.message ?? '', /private address/);
    });
  });
}

/** ffmpeg/ffprobe processes (pid → command line) whose command line names `needle`. */
function toolsNaming(needle: string): Map<number, string> {
  const found = new Map<number, string>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let cmdline: string;
    try {
      cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    const [exe] = cmdline.split('\0');
    if (/(^|\/)(ffmpeg|ffprobe)$/.test(exe) && cmdline.includes(needle)) found.set(Number(entry), cmdline.replace(/\0/g, ' '));
  }
  return found;
}

// Finding 15: kill -9 of the server left its ffmpeg running, and a re-delivered attempt reused its scratch dir.
describe('a worker killed with SIGKILL', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'reel-kill9-'));
  const workRoot = path.join(dataDir, 'work');
  const source = makeMp4({ seconds: 60, width: 1280, height: 720 });
  const env = {
    PORT: '0',
    REEL_LIVE_RTMP_PORT: '0',
    REEL_LIVE_SRT_PORT: '0',
    REEL_DATA_DIR: dataDir,
    REEL_ADMIN_PASSWORD: 'kill nine password',
    REEL_JOB_LEASE_SEC: '2',
    REEL_LOG_LEVEL: 'warn',
  };
  const children: ChildProcess[] = [];
  after(() => {
    for (const c of children) {
      try {
        process.kill(-c.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    for (const pid of toolsNaming(workRoot).keys()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('takes its ffmpeg with it, and the re-delivered attempt works in a scratch directory of its own', async () => {
    const first = await startServerProcess(env);
    children.push(first.child);
    const token = (await tokenFromSession(first.url, await login(first.url, 'admin@localhost', 'kill nine password'))).token;
    const api = new ApiClient(first.url).withToken(token);
    const container = path.join(dataDir, 'storage', 'default', 'source');
    fs.mkdirSync(container, { recursive: true });
    fs.copyFileSync(source, path.join(container, 'source.mp4'));
    assert.equal((await api.put(`${V}/assets/source`, { properties: { storageAccountName: 'local', container: 'source' } })).status, 201);
    const preset = { '@odata.type': '#Microsoft.Media.BuiltInStandardEncoderPreset', presetName: 'H264SingleBitrate720p' };
    assert.equal((await api.put(`${V}/transforms/hd`, { properties: { outputs: [{ preset }] } })).status, 201);
    const jobPath = `${V}/transforms/hd/jobs/long`;
    assert.equal(
      (
        await api.put(jobPath, {
          properties: {
            input: { '@odata.type': '#Microsoft.Media.JobInputAsset', assetName: 'source' },
            outputs: [{ '@odata.type': '#Microsoft.Media.JobOutputAsset', assetName: 'long-out' }],
          },
        })
      ).status,
      201,
    );
    await pollJob(api, jobPath, (j) => j.properties.state === 'Processing' && j.properties.outputs[0].progress > 0);
    const before = toolsNaming(workRoot);
    assert.ok(before.size > 0, 'ffmpeg runs for the job');
    const firstDir = /(\/\S*\/work\/job-[^/\s]+)\//.exec([...before.values()][0])?.[1];
    assert.ok(firstDir, [...before.values()].join('\n'));

    // Only the server process, as the OOM killer or `kill -9 <pid>` would: not its process group.
    process.kill(first.child.pid!, 'SIGKILL');
    const deadline = Date.now() + 3000;
    while (toolsNaming(workRoot).size > 0 && Date.now() < deadline) await sleep(100);
    assert.deepEqual([...toolsNaming(workRoot).values()], [], 'no ffmpeg of the killed server is left running');

    const second = await startServerProcess(env);
    children.push(second.child);
    let secondDir: string | undefined;
    for (let i = 0; i < 600 && !secondDir; i++) {
      secondDir = [...toolsNaming(workRoot).values()].map((c) => /(\/\S*\/work\/job-[^/\s]+)\//.exec(c)?.[1]).find(Boolean);
      if (!secondDir) await sleep(100);
    }
    assert.ok(secondDir, `the job ran again:\n${second.output()}`);
    assert.notEqual(secondDir, firstDir, 'the new attempt has its own scratch directory');
    assert.equal(fs.existsSync(firstDir), false, "the dead attempt's scratch directory was removed");
    process.kill(-second.child.pid!, 'SIGKILL');
  });
});
