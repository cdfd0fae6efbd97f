import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { dialects, startTestServer, type TestServer } from '../../support/server.js';
import { setUpTenants, type Tenant } from '../../support/tenants.js';
import { request } from '../../support/http.js';
import { makeMp4 } from '../../fixtures/media.js';

/**
 * Issue 10, findings 2 (what /files serves), 12 (single-purpose grants), 14 (in-flight temp files) and 16
 * (416 without Content-Range, stopped endpoints logged as failures), against the real server on both databases.
 */
for (const dialect of dialects) {
  describe(`signed file URLs and playback edges (${dialect})`, () => {
    let server: TestServer;
    let a: Tenant;
    const mp4 = makeMp4({ seconds: 2 });
    const size = fs.statSync(mp4).size;
    let container = '';
    let uploadUrl = '';
    let folder = { url: '', jwt: '' };
    const fileUrl = (blob: string, token = folder.jwt) => `${folder.url}/${blob}?token=${token}`;
    const containerDir = () => path.join(server.dataDir, 'storage', 'default', container);

    before(async () => {
      server = await startTestServer(dialect, { REEL_LOG_LEVEL: 'info' });
      ({ a } = await setUpTenants(server, `files-${dialect}`));
      const created = await a.contributor.api.put(`${a.v1}/assets/upload-me`, { properties: { storageAccountName: 'local' } });
      assert.equal(created.status, 201, created.text);
      container = created.body.properties.container as string;
      const grant = await a.contributor.api.post(`${a.v1}/assets/upload-me/getUploadUrl`, { fileName: 'movie.mp4' }, { contract: false });
      assert.equal(grant.status, 200, grant.text);
      uploadUrl = grant.body.url as string;
      const put = await fetch(uploadUrl, { method: 'PUT', headers: { 'content-type': 'video/mp4' }, body: fs.readFileSync(mp4) });
      assert.equal(put.status, 201, await put.text());
      const info = await a.contributor.api.post(`${a.v1}/assets/upload-me/getFileAccessInfo`, undefined, { contract: false });
      assert.equal(info.status, 200, info.text);
      folder = { url: info.body.url as string, jwt: info.body.jwt as string };
    });
    after(async () => server?.close());

    it('an upload URL only uploads: GET and HEAD with it are refused', async () => {
      for (const method of ['GET', 'HEAD']) {
        const res = await fetch(uploadUrl, { method });
        assert.equal(res.status, 403, `${method} with an upload grant`);
      }
      // As a bearer token too.
      const u = new URL(uploadUrl);
      const bearer = await fetch(`${u.origin}${u.pathname}`, { headers: { authorization: `Bearer ${u.searchParams.get('token')}` } });
      assert.equal(bearer.status, 403);
      const body = await bearer.text();
      assert.ok(!body.includes('ftyp'), 'no file bytes');
    });

    it('a read grant only reads: PUT with a folder-wide or a one-file read grant is refused', async () => {
      assert.equal((await fetch(fileUrl('movie.mp4'))).status, 200, 'the read grant reads');
      const before = fs.readFileSync(path.join(containerDir(), 'movie.mp4'));
      for (const target of ['movie.mp4', 'new.mp4']) {
        const res = await fetch(fileUrl(target), { method: 'PUT', headers: { 'content-type': 'video/mp4' }, body: 'overwritten' });
        assert.equal(res.status, 403, `PUT ${target} with a read grant`);
      }
      assert.deepEqual(fs.readFileSync(path.join(containerDir(), 'movie.mp4')), before);
      assert.ok(!fs.existsSync(path.join(containerDir(), 'new.mp4')));
      // The one-file read grants of asset storage listings (handed to ffprobe) are read grants as well.
      const listing = await a.reader.api.get(`${a.v1}/assets/upload-me/storage/`, { contract: false });
      assert.equal(listing.status, 200);
    });

    it('serves files as inert downloads: safe type, nosniff, sandboxing CSP, attachment', async () => {
      // An HTML page uploaded through a real upload URL, with the type a browser sends for it.
      const html = await a.contributor.api.post(`${a.v1}/assets/upload-me/getUploadUrl`, { fileName: 'page.html' }, { contract: false });
      const put = await fetch(html.body.url as string, {
        method: 'PUT',
        headers: { 'content-type': 'text/html' },
        body: '<script>document.title="pwned"</script>',
      });
      assert.equal(put.status, 201);
      for (const [blob, type] of [
        ['page.html', 'application/octet-stream'],
        ['movie.mp4', null],
      ] as const) {
        for (const method of ['GET', 'HEAD']) {
          const res = await fetch(fileUrl(blob), { method });
          assert.equal(res.status, 200);
          if (type) assert.equal(res.headers.get('content-type'), type);
          assert.doesNotMatch(res.headers.get('content-type') ?? '', /html|xml|svg|javascript/);
          assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
          assert.match(res.headers.get('content-security-policy') ?? '', /(^|;)\s*sandbox\s*(;|$)/);
          assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'none'/);
          assert.match(res.headers.get('content-disposition') ?? '', /^attachment/);
          await res.arrayBuffer();
        }
      }
      // Ranged reads (players, ffprobe) still work.
      const ranged = await fetch(fileUrl('movie.mp4'), { headers: { range: 'bytes=0-9' } });
      assert.equal(ranged.status, 206);
      assert.equal((await ranged.arrayBuffer()).byteLength, 10);
    });

    it('answers an unsatisfiable range with 416 and Content-Range: bytes */size, on /files and the origin', async () => {
      const res = await fetch(fileUrl('movie.mp4'), { headers: { range: `bytes=${size + 10}-` } });
      assert.equal(res.status, 416);
      assert.equal(res.headers.get('content-range'), `bytes */${size}`);
      await res.text();

      const locatorId = '3b6b3a5e-6a53-4b1f-9a55-0c8f1c4b7d21';
      const loc = await a.contributor.api.put(`${a.v1}/streamingLocators/dl`, {
        properties: { assetName: 'upload-me', streamingPolicyName: 'Predefined_DownloadAndClearStreaming', streamingLocatorId: locatorId },
      });
      assert.equal(loc.status, 201, loc.text);
      const whole = await request(`${server.url}/${locatorId}/movie.mp4`);
      assert.equal(whole.status, 200);
      assert.equal(whole.body.length, size);
      const beyond = await request(`${server.url}/${locatorId}/movie.mp4`, { headers: { range: `bytes=${size}-` } });
      assert.equal(beyond.status, 416);
      assert.equal(beyond.headers['content-range'], `bytes */${size}`);
      const zeroSuffix = await request(`${server.url}/${locatorId}/movie.mp4`, { headers: { range: 'bytes=-0' } });
      assert.equal(zeroSuffix.status, 416);
      assert.equal(zeroSuffix.headers['content-range'], `bytes */${size}`);
    });

    it('the origin serves downloads as inert files too (a page uploaded as HTML never renders on the API host)', async () => {
      const res = await request(`${server.url}/3b6b3a5e-6a53-4b1f-9a55-0c8f1c4b7d21/page.html`);
      assert.equal(res.status, 200);
      assert.doesNotMatch(String(res.headers['content-type']), /html/);
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
      assert.match(String(res.headers['content-security-policy']), /(^|;)\s*sandbox\s*(;|$)/);
      assert.match(String(res.headers['content-disposition']), /^attachment/);
      const mp4Res = await request(`${server.url}/3b6b3a5e-6a53-4b1f-9a55-0c8f1c4b7d21/movie.mp4`, { headers: { range: 'bytes=0-3' } });
      assert.equal(mp4Res.status, 206);
      assert.equal(mp4Res.headers['content-type'], 'video/mp4', 'progressive download keeps its media type');
    });

    it('never serves or lists in-flight temp files, even to a folder-wide grant', async () => {
      fs.writeFileSync(path.join(containerDir(), '.reel-tmp-5d1c1b57-2b4e-4a3e-9c1f-6f0a2c0d9e11'), 'half an upload');
      fs.mkdirSync(path.join(containerDir(), 'sub'), { recursive: true });
      fs.writeFileSync(path.join(containerDir(), 'sub', '.reel-tmp-half'), 'half an upload');
      for (const blob of ['.reel-tmp-5d1c1b57-2b4e-4a3e-9c1f-6f0a2c0d9e11', 'sub/.reel-tmp-half']) {
        for (const method of ['GET', 'HEAD']) {
          const res = await fetch(fileUrl(blob), { method });
          assert.ok(res.status === 400 || res.status === 404, `${method} ${blob}: ${res.status}`);
          assert.ok(!(await res.text()).includes('half an upload'));
        }
      }
      const listing = await a.admin.api.get(`${a.v1}/assets/upload-me/storage/`, { contract: false });
      assert.ok(!listing.text.includes('.reel-tmp-'), listing.text);
      // Nor can an upload URL name one.
      const grant = await a.contributor.api.post(`${a.v1}/assets/upload-me/getUploadUrl`, { fileName: '.reel-tmp-x' }, { contract: false });
      assert.equal(grant.status, 400, grant.text);
    });

    it('removes stale temp files of crashed uploads after a restart, and leaves recent ones (a live upload elsewhere)', async () => {
      const stale = path.join(containerDir(), '.reel-tmp-0f9a4e0e-0000-4000-8000-000000000001');
      const staleNested = path.join(containerDir(), 'sub', 'deeper', '.reel-tmp-0f9a4e0e-0000-4000-8000-000000000002');
      const recent = path.join(containerDir(), '.reel-tmp-0f9a4e0e-0000-4000-8000-000000000003');
      fs.mkdirSync(path.dirname(staleNested), { recursive: true });
      for (const f of [stale, staleNested, recent]) fs.writeFileSync(f, 'crashed upload');
      const twoDaysAgo = new Date(Date.now() - 48 * 3600_000);
      for (const f of [stale, staleNested]) fs.utimesSync(f, twoDaysAgo, twoDaysAgo);
      await server.restart();
      // The server's first use of the account sweeps it.
      assert.equal((await fetch(fileUrl('movie.mp4'), { method: 'HEAD' })).status, 200);
      const deadline = Date.now() + 10_000;
      while ((fs.existsSync(stale) || fs.existsSync(staleNested)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.ok(!fs.existsSync(stale), 'a stale temp file is removed');
      assert.ok(!fs.existsSync(staleNested), 'a stale temp file in a folder is removed');
      assert.ok(fs.existsSync(recent), 'a recent temp file may be a live upload of another process');
      assert.ok(fs.existsSync(path.join(containerDir(), 'movie.mp4')), 'blobs are untouched');
    });

    it('a stopped endpoint answers anonymous requests without logging an error (no stack per request)', async () => {
      const locatorId = '3b6b3a5e-6a53-4b1f-9a55-0c8f1c4b7d21';
      assert.equal((await a.admin.api.post(`${a.v1}/streamingEndpoints/default/stop`)).status, 200);
      await new Promise((r) => setTimeout(r, 2100));
      const mark = server.logs().length;
      for (let i = 0; i < 5; i++) {
        const res = await request(`${server.url}/${locatorId}/movie.ism/manifest(format=m3u8-cmaf)`);
        assert.equal(res.status, 503);
        assert.equal(JSON.parse(res.body.toString()).error.code, 'StreamingEndpointStopped');
      }
      const lines = server
        .logs()
        .slice(mark)
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { level: number; msg: string; err?: unknown });
      assert.deepEqual(
        lines.filter((l) => l.level >= 50),
        [],
        'no error-level line',
      );
      assert.ok(
        lines.every((l) => l.err === undefined),
        'no stack',
      );
      assert.ok(lines.length <= 5, `at most one line per request, got ${lines.length}`);
      assert.equal((await a.admin.api.post(`${a.v1}/streamingEndpoints/default/start`)).status, 200);
    });
  });
}
