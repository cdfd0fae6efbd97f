import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import { startTestServer, type TestServer } from '../support/server.js';
import { makeLadder } from '../fixtures/media.js';
import { closeBrowser, getBrowser } from './players/play.js';

/**
 * The console's filters in Chromium against a real Reel server: account filters (project navigation) and an
 * asset's filters (its page) created, edited and deleted through forms that show the body they send, the API's
 * refusals shown on the field they name (400) or in the dialog (409 FilterInUse), and filters applied on the
 * playback view: the URLs carry `filter=`, the player loads the filtered URL, and the manifest it names is filtered.
 */
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const shots = path.join(root, 'test-output', 'console-filters');
const V = '/api/v1/projects/default/media';
const ticks = 10_000_000;

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
  body: string | null;
}

describe('web console: filters', () => {
  let server: TestServer;
  let context: BrowserContext;
  let page: Page;
  const requests: Captured[] = [];
  const pageErrors: string[] = [];
  let cookie = '';
  /** The unfiltered and the filtered HLS CMAF URL the playback view showed. */
  let shownUrls: { unfiltered: string; filtered: string } | undefined;
  const ladder = makeLadder();

  const shot = async (name: string) => {
    fs.mkdirSync(shots, { recursive: true });
    await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
  };
  const sent = (method: string, pathname: string) => requests.filter((r) => r.method === method && r.path === pathname);
  const bodyOf = (method: string, pathname: string, index = -1) => JSON.parse(sent(method, pathname).at(index)?.body ?? 'null') as unknown;
  const dialog = () => page.getByRole('dialog');
  const nav = (label: string) => page.getByRole('navigation', { name: 'Main navigation' }).getByRole('link', { name: label, exact: true });
  /** The API as the signed-in admin, for set-up the pages do not do. */
  const api = async (method: string, p: string, body?: unknown) => {
    const res = await fetch(`${server.url}${p}`, {
      method,
      headers: { cookie, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    assert.ok(res.ok, `${method} ${p}: ${res.status} ${text}`);
    return text ? (JSON.parse(text) as unknown) : undefined;
  };
  const input = (name: string) => dialog().getByRole('textbox', { name, exact: true });
  /** Chooses `option` in the Mantine Select or MultiSelect `field` (Tab closes a MultiSelect's list, which stays open). */
  const choose = async (field: Locator, option: string) => {
    await field.click();
    await page.getByRole('option', { name: option, exact: true }).click();
    await page.keyboard.press('Tab');
  };
  /** What the form's "Request body" block shows, parsed. */
  const shownBody = async () => JSON.parse((await dialog().getByTestId('filter-request-body').textContent()) ?? 'null') as unknown;
  /** A playback URL of the endpoint's host, fetched from Node through the server's own address (any other host is the default endpoint). */
  const get = async (url: string) => {
    const u = new URL(url);
    const res = await fetch(`${server.url}${u.pathname}${u.search}`);
    const text = await res.text();
    assert.equal(res.status, 200, `${url}: ${text}`);
    return text;
  };
  /** The first media playlist a master playlist names, and how many segments it lists. */
  const firstMediaPlaylist = async (master: string) => {
    const uri = /^([^#\s].*)$/m.exec(await get(master))?.[1];
    assert.ok(uri, 'the master playlist names a media playlist');
    const text = await get(new URL(uri, master).href);
    return { text, segments: (text.match(/^#EXTINF:/gm) ?? []).length };
  };

  before(async () => {
    ensureConsoleBuilt();
    server = await startTestServer('sqlite', { REEL_LOG_LEVEL: 'warn' });
    const container = path.join(server.localArea(), 'vod', 'clip');
    fs.mkdirSync(container, { recursive: true });
    for (const f of ladder.files) fs.copyFileSync(path.join(ladder.dir, f), path.join(container, f));
    fs.writeFileSync(path.join(container, 'clip.ism'), ladder.ism);
    const browser = await getBrowser();
    context = await browser.newContext({ viewport: { width: 1280, height: 900 }, serviceWorkers: 'block' });
    page = await context.newPage();
    page.setDefaultTimeout(20_000);
    page.on('request', (r) => {
      const u = new URL(r.url());
      if (u.origin === server.url) requests.push({ method: r.method(), path: decodeURIComponent(u.pathname), body: r.postData() });
    });
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(`${server.url}/#/sign-in`);
    await page.getByLabel('Email').fill(server.adminEmail);
    await page.getByLabel('Password').fill(server.adminPassword);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Assets', exact: true }).waitFor();
    cookie = (await context.cookies(server.url)).map((c) => `${c.name}=${c.value}`).join('; ');
    // An asset with media, published: set up through the API (the console's own flows are console.test.ts's).
    await api('PUT', `${V}/storage/vod`, { spec: { type: 'Local', path: path.join(server.localArea(), 'vod') } });
    await api('PUT', `${V}/assets/clip`, { properties: { container: 'clip', storageAccountName: 'vod' } });
    await api('PUT', `${V}/streamingLocators/clip-web`, { properties: { assetName: 'clip', streamingPolicyName: 'Predefined_ClearStreamingOnly' } });
  });
  after(async () => {
    await context?.close().catch(() => undefined);
    await closeBrowser();
    await server?.close();
  });

  it('creates and edits an account filter: time range in seconds sent in timescale units, a track condition, a 400 on its field', async () => {
    await nav('Account filters').click();
    await page.getByRole('heading', { name: 'No account filters' }).waitFor();
    await page.getByRole('button', { name: 'Create account filter' }).click();
    await input('Filter name').fill('first-4s');
    // An end before the start: the API's 400 names presentationTimeRange.endTimestamp, shown under End.
    await input('Start').fill('4');
    await input('End').fill('2');
    await dialog().getByRole('button', { name: 'Add track selection' }).click();
    const condition = dialog().getByRole('group', { name: 'Condition 1 of selection 1' });
    await choose(condition.getByLabel('Operation'), 'NotEqual');
    await condition.getByLabel('Value').fill('Text');
    await dialog().getByRole('button', { name: 'Create filter' }).click();
    await dialog().getByText('Must be after startTimestamp').waitFor();
    assert.equal(sent('PUT', `${V}/accountFilters/first-4s`).length, 1);
    await shot('01-account-filter-400');

    await input('Start').fill('0');
    await input('End').fill('4');
    const expected = {
      properties: {
        presentationTimeRange: { startTimestamp: 0, endTimestamp: 4 * ticks, timescale: ticks },
        tracks: [{ trackSelections: [{ property: 'Type', operation: 'NotEqual', value: 'Text' }] }],
      },
    };
    assert.deepEqual(await shownBody(), expected, 'the form shows the body it sends');
    await dialog().getByRole('button', { name: 'Create filter' }).click();
    const row = page.getByRole('table', { name: 'Account filters' }).getByRole('row').filter({ hasText: 'first-4s' });
    await row.getByText('0 s – 4 s · Type ≠ Text').waitFor();
    assert.deepEqual(bodyOf('PUT', `${V}/accountFilters/first-4s`), expected);

    // Edit: the form opens with the stored values in seconds; a first quality is added and the end moved.
    await row.getByRole('button', { name: 'Edit filter first-4s' }).click();
    assert.equal(await input('End').inputValue(), '4');
    assert.equal(await input('Filter name').isDisabled(), true);
    await input('End').fill('3.5');
    await input('First quality').fill('300000');
    await shot('02-account-filter-edit');
    await dialog().getByRole('button', { name: 'Save filter' }).click();
    await row.getByText('0 s – 3.5 s · first quality 300000 bit/s · Type ≠ Text').waitFor();
    assert.deepEqual(bodyOf('PUT', `${V}/accountFilters/first-4s`), {
      properties: {
        ...expected.properties,
        presentationTimeRange: { startTimestamp: 0, endTimestamp: 35_000_000, timescale: ticks },
        firstQuality: { bitrate: 300000 },
      },
    });
    const stored = (await api('GET', `${V}/accountFilters/first-4s`)) as { properties: unknown };
    assert.deepEqual(stored.properties, (bodyOf('PUT', `${V}/accountFilters/first-4s`) as { properties: unknown }).properties);
  });

  it("creates an asset filter on the asset's page with two track selections", async () => {
    await page.goto(`${server.url}/#/projects/default/assets/clip`);
    await page.getByRole('heading', { name: 'No asset filters' }).waitFor();
    await page.getByRole('button', { name: 'Create asset filter' }).click();
    await input('Filter name').fill('low-video');
    await input('Start').fill('2');
    // Selection 1: audio. Selection 2: video at most 500 kbit/s (two conditions); a third condition added and removed.
    await dialog().getByRole('button', { name: 'Add track selection' }).click();
    await dialog().getByRole('group', { name: 'Condition 1 of selection 1' }).getByLabel('Value').fill('Audio');
    await dialog().getByRole('button', { name: 'Add track selection' }).click();
    await dialog().getByRole('group', { name: 'Condition 1 of selection 2' }).getByLabel('Value').fill('Video');
    await dialog().getByRole('button', { name: 'Add condition to selection 2' }).click();
    const bitrate = dialog().getByRole('group', { name: 'Condition 2 of selection 2' });
    await choose(bitrate.getByLabel('Property'), 'Bitrate');
    // A value the API refuses: its 400 names tracks.1.trackSelections.1.value, shown under that condition's value.
    await bitrate.getByLabel('Value').fill('fast');
    await dialog().getByRole('button', { name: 'Create filter' }).click();
    await bitrate.getByText(/^Must be a bitrate in bit\/s/).waitFor();
    await bitrate.getByLabel('Value').fill('0-500000');
    await dialog().getByRole('button', { name: 'Add condition to selection 2' }).click();
    await dialog().getByRole('button', { name: 'Remove condition 3 of selection 2' }).click();
    const expected = {
      properties: {
        presentationTimeRange: { startTimestamp: 2 * ticks, timescale: ticks },
        tracks: [
          { trackSelections: [{ property: 'Type', operation: 'Equal', value: 'Audio' }] },
          {
            trackSelections: [
              { property: 'Type', operation: 'Equal', value: 'Video' },
              { property: 'Bitrate', operation: 'Equal', value: '0-500000' },
            ],
          },
        ],
      },
    };
    assert.deepEqual(await shownBody(), expected);
    await shot('03-asset-filter-form');
    await dialog().getByRole('button', { name: 'Create filter' }).click();
    const row = page.getByRole('table', { name: 'Asset filters' }).getByRole('row').filter({ hasText: 'low-video' });
    await row.getByText('2 s – end · (Type = Audio) or (Type = Video and Bitrate = 0-500000)').waitFor();
    assert.deepEqual(bodyOf('PUT', `${V}/assets/clip/assetFilters/low-video`), expected);
  });

  it('applies filters on the playback view: filter= in every URL, the player on the filtered URL', async () => {
    await page.goto(`${server.url}/#/projects/default/assets/clip`);
    await page.reload();
    await page.getByRole('heading', { name: 'Playback · clip-web' }).waitFor();
    const unfiltered = await page.getByRole('textbox', { name: 'HLS (m3u8-cmaf)', exact: true }).inputValue();
    await choose(page.getByRole('textbox', { name: 'Filters' }), 'first-4s');
    await page.getByRole('heading', { name: 'Filtered playback URLs (first-4s)' }).waitFor();
    const url = (label: string) => page.getByRole('textbox', { name: label, exact: true }).inputValue();
    const hlsCmaf = await url('HLS (m3u8-cmaf, filter first-4s)');
    assert.equal(hlsCmaf, unfiltered.replace('(format=m3u8-cmaf)', '(format=m3u8-cmaf,filter=first-4s)'));
    assert.match(await url('HLS (m3u8-aapl, filter first-4s)'), /\/clip\.ism\/manifest\(format=m3u8-aapl,filter=first-4s\)$/);
    assert.match(await url('DASH (mpd-time-cmaf, filter first-4s)'), /\/clip\.ism\/manifest\(format=mpd-time-cmaf,filter=first-4s\)$/);
    assert.match(await url('Smooth Streaming (filter first-4s)'), /\/clip\.ism\/manifest\(filter=first-4s\)$/);
    // The player loads the filtered URL.
    await page.waitForFunction((src) => document.querySelector('video')?.dataset.src === src, hlsCmaf);
    await shot('04-filtered-urls');

    // Two filters: joined with ';' in the order picked.
    await choose(page.getByRole('textbox', { name: 'Filters' }), 'low-video');
    assert.match(await url('HLS (m3u8-cmaf, filter first-4s;low-video)'), /\(format=m3u8-cmaf,filter=first-4s;low-video\)$/);

    shownUrls = { unfiltered, filtered: hlsCmaf };
    assert.deepEqual(pageErrors, []);
  });

  it('serves a filtered manifest at the filtered URL the page shows', async () => {
    assert.ok(shownUrls, 'the playback view showed the URLs');
    // first-4s keeps 0–3.5 s of the 6 s presentation (2 s segments): a media playlist with fewer segments.
    const full = await firstMediaPlaylist(shownUrls.unfiltered);
    const cut = await firstMediaPlaylist(shownUrls.filtered);
    assert.ok(cut.segments > 0 && cut.segments < full.segments, `filtered ${cut.segments} segments, unfiltered ${full.segments}:\n${cut.text}`);
  });

  it('creates a locator with filters from the form; a filter a locator names is refused deletion with FilterInUse; others are deleted', async () => {
    await page.goto(`${server.url}/#/projects/default/assets/clip`);
    await page.reload();
    await page.getByRole('heading', { name: 'Playback · clip-web' }).waitFor();
    await page.getByRole('button', { name: 'Create locator' }).first().click();
    await dialog().getByLabel('Locator name').fill('clip-low');
    await choose(dialog().getByRole('textbox', { name: 'Filters' }), 'low-video');
    await dialog().getByRole('button', { name: 'Create locator' }).click();
    await page.getByRole('heading', { name: 'Playback · clip-low' }).waitFor();
    assert.deepEqual(bodyOf('PUT', `${V}/streamingLocators/clip-low`), {
      properties: { assetName: 'clip', streamingPolicyName: 'Predefined_ClearStreamingOnly', filters: ['low-video'] },
    });
    await page.getByText('Locator filters (always applied)').waitFor();
    await nav('Streaming locators').click();
    await page.getByRole('table', { name: 'Streaming locators' }).getByRole('row').filter({ hasText: 'clip-low' }).getByText('low-video').waitFor();
    await page.goBack();
    await shot('05-locator-with-filters');

    // The asset filter is named by clip-low: the API refuses with 409 FilterInUse, shown in the dialog.
    const assetRow = page.getByRole('table', { name: 'Asset filters' }).getByRole('row').filter({ hasText: 'low-video' });
    await assetRow.getByRole('button', { name: 'Delete filter low-video' }).click();
    await dialog().getByRole('button', { name: 'Delete filter' }).click();
    await dialog().getByRole('alert').filter({ hasText: "used by streaming locator 'clip-low'" }).waitFor();
    await shot('06-filter-in-use');
    await dialog().getByRole('button', { name: 'Cancel' }).click();
    assert.ok(await api('GET', `${V}/assets/clip/assetFilters/low-video`));

    await nav('Account filters').click();
    const row = page.getByRole('table', { name: 'Account filters' }).getByRole('row').filter({ hasText: 'first-4s' });
    await row.getByRole('button', { name: 'Delete filter first-4s' }).click();
    await dialog().getByRole('button', { name: 'Delete filter' }).click();
    await page.getByRole('heading', { name: 'No account filters' }).waitFor();
    assert.equal(sent('DELETE', `${V}/accountFilters/first-4s`).length, 1);
    const left = (await api('GET', `${V}/accountFilters`)) as { value: unknown[] };
    assert.deepEqual(left.value, []);
    assert.deepEqual(pageErrors, []);
  });
});
