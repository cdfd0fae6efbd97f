import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { startTestServer, dialects, type TestServer } from '../support/server.js';
import { ApiClient, login, tokenFromSession } from '../support/api.js';
import { request, type RawResponse } from '../support/http.js';
import { makeLadder } from '../fixtures/media.js';
import { loadConfig, ConfigError } from '../../src/config/load.js';
import { killGroup, startServerProcess } from '../support/server-process.js';
import os from 'node:os';

/** Whether a process exists (signal 0 only checks). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Established TCP connections on local `port` that `pid` holds, read from /proc as `ss -tnp` would. */
function establishedOn(pid: number, port: number): number {
  const inodes = new Set<string>();
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]);
    } catch {
      // closed while listing
    }
  }
  let count = 0;
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of fs.readFileSync(table, 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      // local_address is HEX_IP:HEX_PORT, state 01 is ESTABLISHED, inode is the 10th column.
      if (cols.length > 9 && parseInt(cols[1].split(':')[1], 16) === port && cols[3] === '01' && inodes.has(cols[9])) count++;
    }
  }
  return count;
}

async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('origin processes: configuration', () => {
  it('refuses a process count that is not a whole number of at least 1, and a port it cannot use', () => {
    for (const value of ['0', '-2', 'two']) {
      assert.throws(
        () => loadConfig({ REEL_ORIGIN_PROCESSES: value }),
        (err: unknown) => {
          assert.ok(err instanceof ConfigError);
          assert.match(err.message, /REEL_ORIGIN_PROCESSES/);
          return true;
        },
      );
    }
    assert.throws(() => loadConfig({ REEL_ORIGIN_PROCESSES: '2', PORT: '9000', REEL_ORIGIN_PORT: '9000' }), /REEL_ORIGIN_PORT: 9000 is PORT itself/);
    assert.throws(() => loadConfig({ REEL_ORIGIN_PROCESSES: '2', PORT: '65535' }), /REEL_ORIGIN_PORT/);
    assert.throws(() => loadConfig({ REEL_ORIGIN_PROCESSES: '2', REEL_ROLES: 'api,worker' }), /REEL_ROLES must include origin/);
    assert.equal(loadConfig({}).originProcesses, 1);
  });
});

for (const dialect of dialects) {
  describe(`origin processes (${dialect})`, () => {
    let server: TestServer;
    let api: ApiClient;
    const V = '/api/v1/projects/default/media';
    const ladder = makeLadder();
    const id = '0d1e2f30-4152-4637-8899-aabbccddeeff';
    const everyPid = new Set<number>();

    before(async () => {
      server = await startTestServer(dialect, { REEL_ORIGIN_PROCESSES: '2' });
      const cookie = await login(server.url, server.adminEmail, server.adminPassword);
      api = new ApiClient(server.url).withToken((await tokenFromSession(server.url, cookie)).token);
      const root = path.join(server.localArea(), 'vod');
      fs.mkdirSync(path.join(root, 'ladder'), { recursive: true });
      for (const f of ladder.files) fs.copyFileSync(path.join(ladder.dir, f), path.join(root, 'ladder', f));
      fs.writeFileSync(path.join(root, 'ladder', 'clip.ism'), ladder.ism);
      assert.equal((await api.put(`${V}/storage/vod`, { spec: { type: 'Local', path: root } }, { contract: false })).status, 201);
      assert.equal((await api.put(`${V}/assets/ladder`, { properties: { storageAccountName: 'vod', container: 'ladder' } })).status, 201);
      const locator = { assetName: 'ladder', streamingPolicyName: 'Predefined_ClearStreamingOnly', streamingLocatorId: id };
      assert.equal((await api.put(`${V}/streamingLocators/ladder`, { properties: locator })).status, 201);
      for (const pid of server.reel.originPids()) everyPid.add(pid);
    });
    after(async () => {
      await server?.close();
      for (const pid of everyPid) assert.equal(alive(pid), false, `origin process ${pid} is gone after close()`);
    });

    it('starts two origin processes on a port of their own, and names that port in endpoint host names (players are pointed there)', async () => {
      const pids = server.reel.originPids();
      assert.equal(pids.length, 2);
      for (const pid of pids) assert.ok(alive(pid));
      assert.notEqual(server.reel.originUrl, server.reel.url);
      const originPort = new URL(server.reel.originUrl).port;
      const endpoint = (await api.get(`${V}/streamingEndpoints/default`)).body as { properties: { hostName: string } };
      assert.equal(endpoint.properties.hostName, `default-default.localhost:${originPort}`);
    });

    it('answers manifests, playlists and segments byte for byte as the main port does', async () => {
      const onBoth = async (p: string, host?: (port: string) => string): Promise<RawResponse> => {
        const [main, origin] = await Promise.all(
          [server.reel.url, server.reel.originUrl].map((base) => request(`${base}${p}`, host ? { host: host(new URL(base).port) } : {})),
        );
        assert.equal(origin.status, 200, `${p}: ${origin.body.toString()}`);
        assert.equal(origin.status, main.status, p);
        assert.ok(origin.body.equals(main.body), `${p}: same bytes`);
        for (const h of [
          'content-type',
          'content-length',
          'etag',
          'cache-control',
          'content-security-policy',
          'x-content-type-options',
          'access-control-allow-origin',
        ])
          assert.equal(origin.headers[h], main.headers[h], `${p}: ${h}`);
        return origin;
      };
      const base = `/${id}/clip.ism`;
      const master = (await onBoth(`${base}/manifest(format=m3u8-cmaf)`)).body.toString();
      const variant = master.split('\n').find((l) => l.includes('QualityLevels(800000)'));
      assert.ok(variant, master);
      const playlist = (await onBoth(`${base}/${variant}`)).body.toString();
      const map = /#EXT-X-MAP:URI="([^"]+)"/.exec(playlist)?.[1];
      const segment = playlist.split('\n').find((l) => l && !l.startsWith('#'));
      assert.ok(map && segment, playlist);
      const dir = path.posix.dirname(`${base}/${variant}`);
      assert.ok((await onBoth(`${dir}/${map}`)).body.length > 0);
      assert.ok((await onBoth(`${dir}/${segment}`)).body.length > 1000);
      // DASH and Smooth too, and the endpoint host name the API hands out (each port under its own host).
      await onBoth(`${base}/manifest(format=mpd-time-cmaf)`);
      await onBoth(`${base}/manifest`, (port) => `default-default.localhost:${port}`);
      // Errors come out the same (apart from the request id).
      const [a, b] = await Promise.all([server.reel.url, server.reel.originUrl].map((u) => request(`${u}/${id}/missing.ism/manifest`)));
      assert.equal(b.status, a.status);
      const body = (r: RawResponse) => ({ ...(JSON.parse(r.body.toString()) as Record<string, unknown>), ref: undefined });
      assert.deepEqual(body(b), body(a));
    });

    it('sees what the main process writes: a stopped endpoint stops serving on the origin port, and starts again', async () => {
      const url = `${server.reel.originUrl}/${id}/clip.ism/manifest(format=m3u8-cmaf)`;
      assert.ok((await api.post(`${V}/streamingEndpoints/default/stop`)).status < 300);
      // Every process reads the change within its resolver cache's 2 s; ask several connections to reach both.
      await until('the stop to reach both processes', async () => {
        const statuses = await Promise.all(Array.from({ length: 8 }, () => request(url).then((r) => r.status)));
        return statuses.every((s) => s === 503) ? true : undefined;
      });
      assert.ok((await api.post(`${V}/streamingEndpoints/default/start`)).status < 300);
      await until('the start to reach both processes', async () => {
        const statuses = await Promise.all(Array.from({ length: 8 }, () => request(url).then((r) => r.status)));
        return statuses.every((s) => s === 200) ? true : undefined;
      });
    });

    it('spreads connections over both processes (the kernel picks, by SO_REUSEPORT)', async () => {
      const port = Number(new URL(server.reel.originUrl).port);
      const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
      try {
        const get = () =>
          new Promise<number>((resolve, reject) => {
            http
              .get(`${server.reel.originUrl}/${id}/clip.ism/manifest(format=m3u8-cmaf)`, { agent }, (res) => {
                res.resume();
                res.on('end', () => resolve(res.statusCode ?? 0));
              })
              .on('error', reject);
          });
        // Earlier tests' idle keep-alive connections go first, so only this test's are counted.
        http.globalAgent.destroy();
        await until('idle connections to close', () => (server.reel.originPids().every((pid) => establishedOn(pid, port) === 0) ? true : undefined));
        // 32 requests at once open 32 connections; kept alive, each stays with the process the kernel gave it.
        const statuses = await Promise.all(Array.from({ length: 32 }, get));
        assert.ok(statuses.every((s) => s === 200));
        const held = server.reel.originPids().map((pid) => establishedOn(pid, port));
        // With 32 connections hashed over two listeners, all landing on one has odds of 2^-31.
        assert.ok(
          held.every((n) => n > 0),
          `connections per process: ${held.join(', ')}`,
        );
        assert.equal(
          held.reduce((a, b) => a + b, 0),
          32,
        );
      } finally {
        agent.destroy();
      }
    });

    it('keeps answering when an origin process dies, and replaces it', async () => {
      const [victim, survivor] = server.reel.originPids();
      process.kill(victim, 'SIGKILL');
      await until('the process to die', () => (alive(victim) ? undefined : true));
      const url = `${server.reel.originUrl}/${id}/clip.ism/manifest(format=m3u8-cmaf)`;
      // New connections go to the listeners left: none is refused.
      for (let i = 0; i < 10; i++) assert.equal((await request(url)).status, 200);
      const pids = await until('a replacement', () => {
        const now = server.reel.originPids();
        return now.length === 2 && !now.includes(victim) ? now : undefined;
      });
      assert.ok(pids.includes(survivor));
      for (const pid of pids) everyPid.add(pid);
      assert.match(server.logs(), /origin process gone; starting another/);
      const statuses = await Promise.all(Array.from({ length: 16 }, () => request(url).then((r) => r.status)));
      assert.ok(statuses.every((s) => s === 200));
    });
  });
}

describe('origin processes: a port in use', () => {
  it('fails to start with a clear message and leaves no origin process behind', async () => {
    const blocker = http.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    const before = childPids();
    try {
      await assert.rejects(startTestServer('sqlite', { REEL_ORIGIN_PROCESSES: '2', REEL_ORIGIN_PORT: String(port) }), /origin port 127\.0\.0\.1:\d+ is in use/);
      assert.deepEqual(
        childPids().filter((p) => !before.includes(p)),
        [],
      );
    } finally {
      blocker.close();
    }
  });
});

describe('origin processes: the main process killed', () => {
  it('takes its origin processes with it, even when it had no chance to stop them', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'reel-it-'));
    const { child, output } = await startServerProcess({
      PORT: '0',
      REEL_LIVE_RTMP_PORT: '0',
      REEL_LIVE_SRT_PORT: '0',
      REEL_DATA_DIR: dataDir,
      REEL_ADMIN_PASSWORD: 'correct horse battery',
      REEL_ORIGIN_PROCESSES: '2',
      REEL_ROLES: 'api,origin',
    });
    try {
      assert.match(output(), /Playback: {2}http:\/\/127\.0\.0\.1:\d+ \(2 origin processes/);
      const origins = childPids(child.pid);
      assert.equal(origins.length, 2, output());
      process.kill(child.pid!, 'SIGKILL');
      await until('the origin processes to exit', () => (origins.some(alive) ? undefined : true), 10_000);
    } finally {
      await killGroup(child, 'SIGKILL');
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

/** The child processes of `parent` (this process by default), from /proc. */
function childPids(parent = process.pid): number[] {
  return fs
    .readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return fs.readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1].split(' ')[1] === String(parent);
      } catch {
        return false;
      }
    })
    .map(Number);
}
