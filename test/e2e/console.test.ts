import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SignJWT } from 'jose';
import type { BrowserContext, Page, Request, Response } from 'playwright-core';
import { AccountService } from '../../src/control/auth/account-service.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { makeLadder, makeMp4 } from '../fixtures/media.js';
import { closeBrowser, getBrowser } from './players/play.js';
import { contentKeyIdentifierClaim } from '../../src/shared/content-protection.js';

/**
 * The web console in Chromium against a real Reel server: the MK.IO support KB's migration flow done through
 * the pages (sign in, token, storage, migrate, publish, play), with every resource action checked on the wire.
 */
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const shots = path.join(root, 'test-output', 'console');
const V = '/api/v1/projects/default/media';

/** `npm test`'s set-up builds the console; a direct run of this file builds it when it is missing. */
function ensureConsoleBuilt(): void {
  if (fs.existsSync(path.join(root, 'console', 'dist', 'index.html'))) return;
  execFileSync(
    process.execPath,
    [path.join(root, 'node_modules/vite/bin/vite.js'), 'build', '--config', path.join(root, 'console/vite.config.ts'), '--logLevel', 'warn'],
    { stdio: 'inherit', cwd: root },
  );
}

interface Captured {
  method: string;
  path: string;
  url: string;
  body: string | null;
}

describe('web console', () => {
  let server: TestServer;
  let context: BrowserContext;
  let page: Page;
  const requests: Captured[] = [];
  const pageErrors: string[] = [];
  /** Anything the console's Content-Security-Policy blocked (Chromium reports each on the console). */
  const cspViolations: string[] = [];
  const ladder = makeLadder();
  /** The API token the KB flow got from /auth/token/, for set-up the page does not do. */
  let apiToken = '';

  const shot = async (name: string) => {
    fs.mkdirSync(shots, { recursive: true });
    await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
  };
  const sent = (method: string, pathname: string) => requests.filter((r) => r.method === method && r.path === pathname);
  const dialog = () => page.getByRole('dialog');
  const nav = (label: string) => page.getByRole('navigation', { name: 'Main navigation' }).getByRole('link', { name: label, exact: true });
  const api = (p: string, init: RequestInit & { token: string }) =>
    fetch(`${server.url}${p}`, { ...init, headers: { 'x-mkio-token': init.token, ...(init.headers ?? {}) } });

  before(async () => {
    ensureConsoleBuilt();
    server = await startTestServer('sqlite', { REEL_LOG_LEVEL: 'warn' });
    // The KB's starting point: a container that already holds an encoded asset, in storage Reel can reach.
    const container = path.join(server.localArea(), 'vod', 'boulder2');
    fs.mkdirSync(container, { recursive: true });
    for (const f of ladder.files) fs.copyFileSync(path.join(ladder.dir, f), path.join(container, f));
    fs.writeFileSync(path.join(container, 'clip.ism'), ladder.ism);
    const browser = await getBrowser();
    context = await browser.newContext({ viewport: { width: 1280, height: 860 }, serviceWorkers: 'block' });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
    page = await context.newPage();
    page.setDefaultTimeout(20_000);
    page.on('request', (r) => {
      const u = new URL(r.url());
      requests.push({ method: r.method(), path: decodeURIComponent(u.pathname), url: r.url(), body: r.postData() });
    });
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => {
      if (/Content.Security.Policy/i.test(m.text())) cspViolations.push(m.text());
    });
  });
  after(async () => {
    await context?.close().catch(() => undefined);
    await closeBrowser();
    await server?.close();
  });

  it('does the KB flow: sign in, token from /auth/token/, Local storage, migrate, locator, playback', async () => {
    await page.goto(`${server.url}/`);
    await page.getByRole('heading', { name: 'Sign in to Reel' }).waitFor();
    await shot('01-sign-in');
    await page.getByLabel('Email').fill(server.adminEmail);
    await page.getByLabel('Password').fill('wrong password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'Could not sign in' }).waitFor();
    await page.getByLabel('Password').fill(server.adminPassword);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Assets', exact: true }).waitFor();
    await page.getByRole('button', { name: `Account menu for ${server.adminEmail}` }).waitFor();
    assert.equal(sent('POST', '/auth/login').length, 2);

    // The KB: with the browser session, /auth/token/ hands out a token for scripts.
    const res = await page.goto(`${server.url}/auth/token/`);
    assert.equal(res?.status(), 200);
    const { token, user_id: userId } = (await res.json()) as { token: string; user_id: string };
    assert.ok(token && userId);
    apiToken = token;
    assert.equal((await api(`${V}/assets`, { token })).status, 200);

    await page.goto(`${server.url}/#/projects/default/storage`);
    await page.getByRole('heading', { name: 'Storage accounts' }).waitFor();
    await page.getByRole('button', { name: 'Add storage account' }).first().click();
    await dialog().getByRole('radio', { name: 'Local path' }).check({ force: true });
    await dialog().getByLabel('Name').fill('vod');
    await dialog().getByLabel('Directory path').fill(path.join(server.localArea(), 'vod'));
    await dialog().getByRole('button', { name: 'Add account' }).click();
    const row = page.getByRole('table', { name: 'Storage accounts' }).getByRole('row').filter({ hasText: 'vod' });
    await row.getByText('Connected', { exact: true }).waitFor();
    const [storagePut] = sent('PUT', `${V}/storage/vod`);
    assert.deepEqual(JSON.parse(storagePut.body ?? ''), { spec: { type: 'Local', path: path.join(server.localArea(), 'vod') } });
    await shot('02-storage-accounts');

    await nav('Assets').click();
    await page.getByRole('heading', { name: 'No assets yet' }).waitFor();
    await shot('03-assets-empty');
    await page.getByRole('button', { name: 'Migrate asset' }).first().click();
    await dialog().getByLabel('Asset name').fill('boulder2');
    await dialog().getByLabel('Storage account').click();
    await page.getByRole('option', { name: 'vod' }).click();
    await dialog().getByLabel('Container').fill('boulder2');
    await shot('04-migrate-form');
    requests.length = 0;
    await dialog().getByRole('button', { name: 'Migrate' }).click();
    await page.getByRole('heading', { name: 'boulder2', exact: true }).waitFor();

    // The wire: exactly the KB's request, as a script sends it.
    const migrate = requests.filter((r) => r.method === 'PUT' && r.path.includes('/assets/'));
    assert.equal(migrate.length, 1, JSON.stringify(migrate));
    assert.equal(migrate[0].path, `${V}/assets/boulder2`);
    assert.deepEqual(JSON.parse(migrate[0].body ?? ''), { properties: { container: 'boulder2', description: '', storageAccountName: 'vod' } });

    // Asset detail: the container's files from GET .../storage/.
    const files = page.getByRole('table', { name: 'Files' });
    await files.getByText('clip_640x360_800.mp4').waitFor();
    await files.getByText('clip.ism').waitFor();
    await page.getByRole('heading', { name: 'Not published' }).waitFor();

    await page.getByRole('button', { name: 'Create locator' }).first().click();
    await dialog().getByLabel('Locator name').fill('boulder2-web');
    await dialog().getByRole('button', { name: 'Create locator' }).click();
    await page.getByRole('table', { name: 'Streaming locators' }).getByText('boulder2-web').waitFor();
    const [locatorPut] = sent('PUT', `${V}/streamingLocators/boulder2-web`);
    assert.deepEqual(JSON.parse(locatorPut.body ?? ''), { properties: { assetName: 'boulder2', streamingPolicyName: 'Predefined_ClearStreamingOnly' } });

    // Playback in the embedded Shaka Player through the endpoint's own host (Chromium resolves *.localhost).
    const playedPast = (seconds: number, format: string) =>
      page.waitForFunction(
        ([s, f]) => {
          const v = document.querySelector('video');
          return v !== null && (v.dataset.src ?? '').includes(f as string) && v.currentTime > (s as number);
        },
        [seconds, format],
        { timeout: 60_000, polling: 100 },
      );
    await playedPast(3, 'm3u8-cmaf');
    const hlsUrl = await page.getByRole('textbox', { name: 'HLS (m3u8-cmaf)' }).inputValue();
    assert.match(hlsUrl, /^http:\/\/default-default\.localhost:\d+\/[0-9a-f-]{36}\/clip\.ism\/manifest\(format=m3u8-cmaf\)$/);
    assert.ok(requests.some((r) => r.path.endsWith('/listPaths') && r.method === 'POST'));
    await shot('05-asset-playing-hls');

    await page.getByText('DASH', { exact: true }).click();
    await playedPast(1, 'mpd-time-cmaf');
    await shot('06-asset-playing-dash');
    assert.deepEqual(pageErrors, []);
    assert.deepEqual(cspViolations, [], 'the console plays under its CSP');
  });

  it('plays a protected path: a token field, the token on key and licence requests only', async () => {
    // A locator of Reel's own protection: a content key policy with ClearKey behind a JWT (HS256, issuer, audience,
    // the content key identifier claim) and a streaming policy with clear, AES-128 HLS and CENC DASH, made through
    // the API; the console plays what listPaths lists, Reel's origin encrypts and Reel's key delivery checks the token.
    const admin = apiToken;
    assert.ok(admin, 'the KB flow got a token');
    const secret = crypto.randomBytes(32);
    const issuer = 'https://console-e2e.example';
    const audience = 'urn:reel:console-e2e';
    const put = async (p: string, body: unknown) => {
      const res = await api(`${V}${p}`, { token: admin, method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      assert.equal(res.status, 201, `${p}: ${await res.text()}`);
    };
    await put('/contentKeyPolicies/console-jwt', {
      properties: {
        options: [
          {
            name: 'clearkey-jwt',
            configuration: { '@odata.type': '#Microsoft.Media.ContentKeyPolicyClearKeyConfiguration' },
            restriction: {
              '@odata.type': '#Microsoft.Media.ContentKeyPolicyTokenRestriction',
              issuer,
              audience,
              restrictionTokenType: 'Jwt',
              primaryVerificationKey: { '@odata.type': '#Microsoft.Media.ContentKeyPolicySymmetricTokenKey', keyValue: secret.toString('base64') },
              alternateVerificationKeys: [],
              requiredClaims: [{ claimType: contentKeyIdentifierClaim }],
            },
          },
        ],
      },
    });
    const hlsOnly = { download: false, dash: false, hls: true, smoothStreaming: false };
    const dashOnly = { download: false, dash: true, hls: false, smoothStreaming: false };
    await put('/streamingPolicies/console-protected', {
      properties: {
        defaultContentKeyPolicyName: 'console-jwt',
        noEncryption: { enabledProtocols: { download: false, dash: true, hls: true, smoothStreaming: false } },
        envelopeEncryption: { enabledProtocols: hlsOnly, contentKeys: { defaultKey: { label: 'aes' } } },
        commonEncryptionCenc: { enabledProtocols: dashOnly, contentKeys: { defaultKey: { label: 'cenc' } }, clearKeyEncryptionConfiguration: {} },
      },
    });
    await put('/streamingLocators/boulder2-protected', { properties: { assetName: 'boulder2', streamingPolicyName: 'console-protected' } });
    const keysRes = await api(`${V}/streamingLocators/boulder2-protected/listContentKeys`, { token: admin, method: 'POST' });
    const keyIds = ((await keysRes.json()) as { contentKeys: Array<{ id: string }> }).contentKeys.map((k) => k.id);
    assert.equal(keyIds.length, 2);

    /** Requests to the streaming endpoint's host, with the Authorization header they carried and the answer's status. */
    const seen: Array<{ url: string; authorization?: string; status?: number }> = [];
    const entries = new Map<Request, (typeof seen)[number]>();
    const onRequest = (r: Request) => {
      if (!/localhost:\d+\//.test(r.url()) || r.method() === 'OPTIONS') return;
      const entry: (typeof seen)[number] = { url: r.url() };
      seen.push(entry);
      entries.set(r, entry);
      void r.allHeaders().then((h) => (entry.authorization = h['authorization']));
    };
    const onResponse = (res: Response) => {
      const entry = entries.get(res.request());
      if (entry) entry.status = res.status();
    };
    page.on('request', onRequest);
    page.on('response', onResponse);
    const keyRequests = () => seen.filter((h) => h.url.includes('/keydelivery/'));
    try {
      // From the streaming locators page, a locator's Play opens its asset's page with that locator chosen.
      await page.goto(`${server.url}/#/projects/default/streaming-locators`);
      await page.reload();
      await page.getByRole('link', { name: 'Play locator boulder2-protected' }).click();
      await page.waitForFunction(() => location.hash === '#/projects/default/assets/boulder2?locator=boulder2-protected');
      await page.getByRole('heading', { name: 'Playback · boulder2-protected' }).waitFor();
      // The clear path plays first, with no token field.
      await page.getByRole('radiogroup', { name: 'Encryption' }).waitFor();
      assert.equal(await page.getByLabel('Playback token').count(), 0);

      // AES-128 HLS without a token: Reel refuses the key (401) and the player asks for a token.
      await page.getByText('AES-128', { exact: true }).click();
      const tokenField = page.getByLabel('Playback token');
      await tokenField.waitFor();
      await page.getByRole('alert').filter({ hasText: 'needs a valid playback token' }).waitFor({ timeout: 30_000 });
      await shot('06a-protected-needs-token');
      assert.ok(keyRequests().length > 0, JSON.stringify(seen));
      assert.ok(
        keyRequests().every((k) => k.url.includes('/aes/') && k.status === 401 && k.authorization === undefined),
        JSON.stringify(keyRequests()),
      );

      const playedPast = (seconds: number, format: string) =>
        page.waitForFunction(
          ([s, f]) => {
            const v = document.querySelector('video');
            return v !== null && (v.dataset.src ?? '').includes(f as string) && v.currentTime > (s as number);
          },
          [seconds, format],
          { timeout: 60_000, polling: 100 },
        );
      // One token for both of the locator's keys: the content key identifier claim may list several.
      const token = await new SignJWT({ [contentKeyIdentifierClaim]: keyIds })
        .setProtectedHeader({ alg: 'HS256' })
        .setIssuer(issuer)
        .setAudience(audience)
        .setExpirationTime('10m')
        .sign(secret);
      seen.length = 0;
      await tokenField.fill(token);
      await page.getByRole('button', { name: 'Play with token' }).click();
      await playedPast(3, 'encryption=cbc');
      await shot('06b-protected-hls-playing');
      const hlsKeys = keyRequests();
      assert.ok(hlsKeys.length > 0, JSON.stringify(seen));
      assert.ok(
        hlsKeys.every((h) => h.url.includes('/aes/') && h.authorization === `Bearer ${token}` && h.status === 200),
        JSON.stringify(hlsKeys),
      );

      // CENC DASH through the ClearKey licence URL of listPaths' drm section, with the same token.
      await page.getByText('DASH', { exact: true }).click();
      await page.getByText('CENC', { exact: true }).click();
      await playedPast(2, 'encryption=cenc');
      await shot('06c-protected-dash-playing');
      const licences = seen.filter((h) => h.url.includes('/clearkey'));
      assert.ok(licences.length > 0, JSON.stringify(seen));
      assert.ok(
        licences.every((h) => h.authorization === `Bearer ${token}` && h.status === 200),
        JSON.stringify(licences),
      );
      await page.getByRole('textbox', { name: 'ClearKey licence URL' }).waitFor();

      // Manifests and segments never carry the token.
      const media = seen.filter((h) => !h.url.includes('/keydelivery/'));
      assert.ok(media.length > 5);
      assert.deepEqual(
        media.filter((h) => h.authorization !== undefined || h.url.includes('token=')),
        [],
      );
      // The token went nowhere near the API, nor into Reel's log.
      assert.ok(!requests.some((r) => r.url.startsWith(server.url) && (r.body ?? '').includes(token)));
      assert.ok(!server.logs().includes(token.split('.')[2]));
      assert.deepEqual(pageErrors, []);
      assert.deepEqual(cspViolations, [], 'protected playback stays within the console CSP');
    } finally {
      page.off('request', onRequest);
      page.off('response', onResponse);
    }
  });

  it('shows an API validation error next to the form field it concerns', async () => {
    await page.goto(`${server.url}/#/projects/default/assets`);
    await page.getByRole('button', { name: 'Migrate asset' }).first().click();
    await dialog().getByLabel('Asset name').fill('too-short');
    await dialog().getByLabel('Storage account').click();
    await page.getByRole('option', { name: 'vod' }).click();
    await dialog().getByLabel('Container').fill('ab');
    requests.length = 0;
    await dialog().getByRole('button', { name: 'Migrate' }).click();
    const container = dialog().getByLabel('Container');
    await page.waitForFunction(() => document.querySelector('[aria-invalid="true"]') !== null);
    assert.equal(await container.getAttribute('aria-invalid'), 'true');
    // The server's own words, under the field (the input names its error text with aria-describedby).
    const describedBy = (await container.getAttribute('aria-describedby')) ?? '';
    const errorText = await page.evaluate(
      (ids) =>
        ids
          .split(' ')
          .map((id) => document.getElementById(id)?.textContent ?? '')
          .join(' '),
      describedBy,
    );
    assert.match(errorText, /fewer than 3 characters/);
    const [put] = sent('PUT', `${V}/assets/too-short`);
    assert.deepEqual(JSON.parse(put.body ?? ''), { properties: { container: 'ab', description: '', storageAccountName: 'vod' } });
    await shot('07-migrate-validation-error');

    // A rule only the server knows (the container must exist) lands on the same field.
    await container.fill('no-such-container');
    await dialog().getByRole('button', { name: 'Migrate' }).click();
    await dialog()
      .getByText(/Container 'no-such-container' not found/)
      .waitFor();
    await dialog().getByRole('button', { name: 'Cancel' }).click();
  });

  it('creates a personal API token, shows it once with a copy button, and revokes it', async () => {
    await page.getByRole('button', { name: `Account menu for ${server.adminEmail}` }).click();
    const legacy = page.getByRole('menuitem', { name: /\/auth\/token\// });
    assert.equal(await legacy.getAttribute('href'), '/auth/token/');
    await page.getByRole('menuitem', { name: 'Personal API tokens' }).click();
    await page.getByRole('heading', { name: 'Personal API tokens' }).waitFor();
    // The token /auth/token/ issued in the first test is listed.
    await page.getByRole('table', { name: 'API tokens' }).getByText('Issued by /auth/token/').waitFor();

    await page.getByRole('button', { name: 'Create token' }).first().click();
    await dialog().getByLabel('Description').fill('nightly migration');
    await dialog().getByRole('button', { name: 'Create token' }).click();
    await dialog().getByText('Copy the token now').waitFor();
    const jwt = await dialog().getByRole('textbox', { name: 'Token' }).inputValue();
    assert.match(jwt, /^ey[\w-]+\.[\w-]+\.[\w-]+$/);
    const [create] = sent('POST', '/api/v1/user/tokens');
    const body = JSON.parse(create.body ?? '') as Record<string, string>;
    assert.equal(body.type, 'full-access');
    assert.equal(body.description, 'nightly migration');
    assert.ok(Date.parse(body.expireDate) > Date.now());
    await dialog().getByRole('button', { name: 'Copy Token' }).click();
    await dialog().getByRole('button', { name: 'Copy Token' }).filter({ hasText: 'Copied' }).waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), jwt);
    await shot('08-token-created');
    await dialog().getByRole('button', { name: 'Done' }).click();
    assert.equal((await fetch(`${server.url}/api/v1/user/profile`, { headers: { authorization: `Bearer ${jwt}` } })).status, 200);

    const row = page.getByRole('table', { name: 'API tokens' }).getByRole('row').filter({ hasText: 'nightly migration' });
    await row.getByText('Active').waitFor();
    // Shown once: the list never carries the JWT again.
    assert.equal(await page.getByText(jwt).count(), 0);
    await row.getByRole('button', { name: 'Revoke token nightly migration' }).click();
    await dialog().getByRole('button', { name: 'Revoke token' }).click();
    await row.getByText('Revoked').waitFor();
    const tokenId = await row.getAttribute('data-token-id');
    assert.equal(sent('DELETE', `/api/v1/user/tokens/${tokenId}`).length, 1);
    assert.equal((await fetch(`${server.url}/api/v1/user/profile`, { headers: { authorization: `Bearer ${jwt}` } })).status, 401);
    await shot('09-tokens');
  });

  it('uploads a local file into a new asset with a progress bar', async () => {
    const file = makeMp4({ seconds: 4, width: 640, height: 360 });
    await page.goto(`${server.url}/#/projects/default/assets`);
    await page.getByRole('table', { name: 'Assets' }).getByRole('link', { name: 'boulder2', exact: true }).waitFor();
    await page.getByRole('button', { name: 'Upload file' }).first().click();
    // Record every value the progress bar shows.
    await page.evaluate(() => {
      const seen: number[] = [];
      (window as unknown as { uploadProgress: number[] }).uploadProgress = seen;
      new MutationObserver(() => {
        const bar = document.querySelector('[role="progressbar"][aria-label="Upload progress"]');
        const v = bar?.getAttribute('aria-valuenow');
        if (v !== null && v !== undefined && seen.at(-1) !== Number(v)) seen.push(Number(v));
      }).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['aria-valuenow'] });
    });
    await dialog().getByLabel('Asset name').fill('uploaded');
    await dialog().getByLabel('Storage account').click();
    await page.getByRole('option', { name: 'vod' }).click();
    await page.locator('input[type="file"]').setInputFiles(file);
    requests.length = 0;
    await dialog().getByRole('button', { name: 'Upload' }).click();
    await dialog().getByText('Upload complete').waitFor({ timeout: 60_000 });
    await shot('10-upload-complete');
    const progress = await page.evaluate(() => (window as unknown as { uploadProgress: number[] }).uploadProgress);
    assert.equal(progress.at(-1), 100, `progress values: ${progress.join(',')}`);
    assert.deepEqual(
      [...progress].sort((a, b) => a - b),
      progress,
      'progress never goes back',
    );

    assert.deepEqual(JSON.parse(sent('PUT', `${V}/assets/uploaded`)[0].body ?? ''), { properties: { storageAccountName: 'vod' } });
    assert.deepEqual(JSON.parse(sent('POST', `${V}/assets/uploaded/getUploadUrl`)[0].body ?? ''), { fileName: path.basename(file) });
    const upload = requests.filter((r) => r.method === 'PUT' && r.path.startsWith('/files/'));
    assert.equal(upload.length, 1);
    await dialog().getByRole('link', { name: 'Open asset uploaded' }).click();
    const files = page.getByRole('table', { name: 'Files' });
    await files.getByText(path.basename(file)).waitFor();
    const size = fs.statSync(file).size;
    const login = await fetch(`${server.url}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: server.adminEmail, password: server.adminPassword }),
    });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0];
    const listing = (await (await fetch(`${server.url}${V}/assets/uploaded/storage/`, { headers: { cookie } })).json()) as {
      spec: { files: Array<{ name: string; size: number }> };
    };
    assert.deepEqual(listing.spec.files, [{ name: path.basename(file), size }]);
  });

  it('stops and starts a streaming endpoint, showing its state', async () => {
    await page.goto(`${server.url}/#/projects/default/streaming-endpoints`);
    const row = page.getByRole('table', { name: 'Streaming endpoints' }).getByRole('row').filter({ hasText: 'default' });
    await row.getByText('Running', { exact: true }).waitFor();
    await row.getByRole('button', { name: 'Stop default' }).click();
    await row.getByText('Stopped', { exact: true }).waitFor();
    await shot('11-endpoint-stopped');
    await row.getByRole('button', { name: 'Start default' }).click();
    await row.getByText('Running', { exact: true }).waitFor();
    assert.equal(sent('POST', `${V}/streamingEndpoints/default/stop`).length, 1);
    assert.equal(sent('POST', `${V}/streamingEndpoints/default/start`).length, 1);
  });

  it('creates a transform from a preset and shows a job run to the end', async () => {
    await page.goto(`${server.url}/#/projects/default/transforms`);
    await page.getByRole('heading', { name: 'No transforms yet' }).waitFor();
    await page.getByRole('button', { name: 'Create transform' }).first().click();
    await dialog().getByLabel('Name').fill('repackage');
    await dialog().getByLabel('Preset').click();
    await page.getByRole('option', { name: 'CopyTopBitrateInterleaved' }).click();
    await dialog().getByRole('button', { name: 'Create transform' }).click();
    await page.getByRole('table', { name: 'Transforms' }).getByText('repackage').waitFor();
    assert.deepEqual(JSON.parse(sent('PUT', `${V}/transforms/repackage`)[0].body ?? ''), {
      properties: { outputs: [{ preset: { '@odata.type': '#Microsoft.Media.BuiltInAssetConverterPreset', presetName: 'CopyTopBitrateInterleaved' } }] },
    });

    await page.goto(`${server.url}/#/projects/default/assets/uploaded`);
    await page.getByRole('button', { name: 'Encode…' }).click();
    // The transform list loads, and the first transform is chosen, before the rest is filled in.
    await page.waitForFunction(() => [...document.querySelectorAll('[role="dialog"] input')].some((i) => (i as HTMLInputElement).value === 'repackage'));
    await dialog().getByLabel('Job name').fill('first-job');
    await dialog().getByLabel('Output asset').fill('uploaded-copy');
    await dialog().getByRole('button', { name: 'Submit job' }).click();
    await page.getByRole('heading', { name: 'Jobs', exact: true }).waitFor();
    assert.deepEqual(JSON.parse(sent('PUT', `${V}/transforms/repackage/jobs/first-job`)[0].body ?? ''), {
      properties: {
        input: { '@odata.type': '#Microsoft.Media.JobInputAsset', assetName: 'uploaded' },
        outputs: [{ '@odata.type': '#Microsoft.Media.JobOutputAsset', assetName: 'uploaded-copy' }],
      },
    });
    const row = page.getByRole('table', { name: 'Jobs' }).getByRole('row').filter({ hasText: 'first-job' });
    await row.getByText('Finished', { exact: true }).waitFor({ timeout: 120_000 });
    assert.equal(await row.getByRole('progressbar', { name: 'Progress of job first-job' }).getAttribute('aria-valuenow'), '100');

    // A job that fails shows the engine's error in its row: an asset with nothing to encode.
    const cookie = (await context.cookies(server.url)).map((c) => `${c.name}=${c.value}`).join('; ');
    const empty = await fetch(`${server.url}${V}/assets/empty`, {
      method: 'PUT',
      headers: { cookie, 'content-type': 'application/json' },
      body: JSON.stringify({ properties: { storageAccountName: 'vod' } }),
    });
    assert.equal(empty.status, 201);
    await page.goto(`${server.url}/#/projects/default/jobs`);
    await page.getByRole('button', { name: 'Submit job' }).first().click();
    await page.waitForFunction(() => [...document.querySelectorAll('[role="dialog"] input')].some((i) => (i as HTMLInputElement).value === 'repackage'));
    await dialog().getByLabel('Input asset').click();
    await page.getByRole('option', { name: 'empty', exact: true }).click();
    await dialog().getByLabel('Job name').fill('doomed-job');
    await dialog().getByRole('button', { name: 'Submit job' }).click();
    const failed = page.getByRole('table', { name: 'Jobs' }).getByRole('row').filter({ hasText: 'doomed-job' });
    await failed.getByText('Error', { exact: true }).waitFor({ timeout: 120_000 });
    const message = await failed.getByRole('alert').textContent();
    assert.match(message ?? '', /\w/, 'the job error is shown');
    await dialog().waitFor({ state: 'hidden' });
    await shot('12-jobs');
  });

  it("switches organization through PATCH /api/v1/user/profile and opens that organization's project", async () => {
    const accounts = new AccountService(server.reel.db);
    const org = await accounts.createOrganization('studio-two');
    await accounts.createProject(org.id, 'studio-two-vod');
    const admin = (await server.reel.db.selectFrom('users').select('id').where('email', '=', server.adminEmail).executeTakeFirstOrThrow()).id;
    await accounts.addMember(admin, org.id, 'Admin');
    await page.goto(`${server.url}/#/projects/default/assets`);
    await page.reload();
    await page.getByRole('textbox', { name: 'Organization' }).first().click();
    await page.getByRole('option', { name: 'studio-two' }).click();
    await page.waitForFunction(() => location.hash.startsWith('#/projects/studio-two-vod/assets'));
    const patches = sent('PATCH', '/api/v1/user/profile');
    assert.equal(patches.length, 1);
    assert.deepEqual(JSON.parse(patches[0].body ?? '{}'), { spec: { activeOrganizationId: org.id } });
    await page.getByRole('heading', { name: 'No assets yet' }).waitFor();
    await shot('13-organization-switched');
    // Back to the first organization, so later tests act where they expect.
    const home = (await accounts.organizationsOf(admin)).find((o) => o.id !== org.id)?.id as string;
    await page.getByRole('textbox', { name: 'Organization' }).first().click();
    await page.getByRole('option', { name: 'default' }).click();
    await page.waitForFunction(() => location.hash.startsWith('#/projects/default/assets'));
    assert.deepEqual(JSON.parse(sent('PATCH', '/api/v1/user/profile')[1].body ?? '{}'), { spec: { activeOrganizationId: home } });
  });

  it('works in a narrow window: navigation behind a labelled menu button', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${server.url}/#/projects/default/assets`);
    await page.reload();
    await page.getByRole('table', { name: 'Assets' }).getByRole('link', { name: 'boulder2', exact: true }).waitFor();
    await shot('13-assets-narrow');
    await page.getByRole('button', { name: 'Open navigation' }).click();
    await nav('Storage accounts').click();
    await page.getByRole('heading', { name: 'Storage accounts' }).waitFor();
    await shot('14-storage-narrow');
    assert.deepEqual(pageErrors, []);
    assert.deepEqual(cspViolations, []);
  });
});
