import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import { startTestServer, type TestServer } from '../support/server.js';
import { closeBrowser, getBrowser } from './players/play.js';

/**
 * The console's live pages in Chromium against a real Reel server: the live events page in the navigation, the
 * create form and the MK.IO body it sends (`PUT …/liveEvents/{name}`), the list's states, the event's page (ingest
 * URLs as OBS asks for them, ingest health, preview, live outputs), and start, stop and delete. Every action is a
 * public API call whose body the test reads from the browser's requests, as a person scripting it would.
 *
 * Three parts: the form and its request; the live events API (list, states, outputs, delete); the live runtime
 * (start → Running, an encoder pushing, health, preview and output playback).
 */

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const shots = path.join(root, 'test-output', 'console-live');
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

/** The create body MK.IO documents, as the form sends it. */
function expectedBody(o: { protocol: 'RTMP' | 'SRT'; encodingType: string; streamOption?: string; description?: string }) {
  return {
    properties: {
      description: o.description ?? '',
      encoding: { encodingType: o.encodingType },
      input: { streamingProtocol: o.protocol, accessControl: { ip: { allow: [{ name: 'all', address: '0.0.0.0', subnetPrefixLength: 0 }] } } },
      streamOptions: [o.streamOption ?? 'Default'],
      useStaticHostname: false,
      preview: { streamingPolicyName: 'Predefined_ClearStreamingOnly', accessControl: { ip: { allow: [] } } },
    },
    tags: {},
  };
}

interface Captured {
  method: string;
  path: string;
  body: string | null;
}

/** One signed-in browser page on a fresh server (its storage account `local` holds new assets), shared by the parts below. */
function consoleSession() {
  const s = {
    server: undefined as unknown as TestServer,
    context: undefined as unknown as BrowserContext,
    page: undefined as unknown as Page,
    requests: [] as Captured[],
    pageErrors: [] as string[],
  };
  before(async () => {
    ensureConsoleBuilt();
    s.server = await startTestServer('sqlite', { REEL_LOG_LEVEL: 'warn' });
    const browser = await getBrowser();
    s.context = await browser.newContext({ viewport: { width: 1280, height: 900 }, serviceWorkers: 'block' });
    s.page = await s.context.newPage();
    s.page.setDefaultTimeout(20_000);
    s.page.on('request', (r) => {
      const u = new URL(r.url());
      if (u.origin === s.server.url) s.requests.push({ method: r.method(), path: decodeURIComponent(u.pathname), body: r.postData() });
    });
    s.page.on('pageerror', (e) => s.pageErrors.push(e.message));
    await s.page.goto(`${s.server.url}/#/sign-in`);
    await s.page.getByLabel('Email').fill(s.server.adminEmail);
    await s.page.getByLabel('Password').fill(s.server.adminPassword);
    await s.page.getByRole('button', { name: 'Sign in' }).click();
    await s.page.getByRole('heading', { name: 'Assets', exact: true }).waitFor();
  });
  after(async () => {
    await s.context?.close().catch(() => undefined);
    await closeBrowser();
    await s.server?.close();
  });
  const page = () => s.page;
  const dialog = () => s.page.getByRole('dialog');
  return {
    s,
    page,
    dialog,
    sent: (method: string, pathname: string) => s.requests.filter((r) => r.method === method && r.path === pathname),
    bodyOf: (method: string, pathname: string) =>
      JSON.parse(s.requests.filter((r) => r.method === method && r.path === pathname).at(-1)?.body ?? 'null') as unknown,
    nav: (label: string) => s.page.getByRole('navigation', { name: 'Main navigation' }).getByRole('link', { name: label, exact: true }),
    shot: async (name: string) => {
      fs.mkdirSync(shots, { recursive: true });
      await s.page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
    },
    /** Chooses `option` in a Mantine Select. */
    choose: async (field: Locator, option: string) => {
      await field.click();
      await s.page.getByRole('option', { name: option, exact: true }).click();
    },
    /** What the create form's "Request body" block shows, parsed. */
    shownBody: async () => JSON.parse((await dialog().getByTestId('live-event-request-body').textContent()) ?? 'null') as unknown,
    /** Fills the create form (the dialog must be open). */
    fillEvent: async (o: { name: string; description?: string; protocol: 'RTMP' | 'SRT'; encoding: string; lowLatency?: boolean }) => {
      await dialog().getByRole('textbox', { name: 'Name', exact: true }).fill(o.name);
      await dialog()
        .getByRole('textbox', { name: 'Description', exact: true })
        .fill(o.description ?? '');
      await dialog().getByText(o.protocol, { exact: true }).click();
      await dialog().getByRole('textbox', { name: 'Encoding' }).click();
      await s.page.getByRole('option', { name: o.encoding, exact: true }).click();
      await dialog().getByRole('textbox', { name: 'Latency' }).click();
      await s.page.getByRole('option', { name: o.lowLatency ? 'Low latency' : 'Default', exact: true }).click();
    },
    /** Clicks a ConfirmButton (`name`), then the dialog's confirming button (`confirm`). */
    confirm: async (scope: Locator | Page, name: string, confirm: string) => {
      await scope.getByRole('button', { name, exact: true }).click();
      await dialog().getByRole('button', { name: confirm, exact: true }).click();
    },
  };
}

describe('web console: live events, the form and its request (any server)', () => {
  const c = consoleSession();

  it('has a Live events page in the navigation whose create form shows and sends MK.IO’s body, then shows the API’s answer', async () => {
    const page = c.page();
    await c.nav('Live events').click();
    await page.getByRole('heading', { name: 'Live events', exact: true }).waitFor();
    await page.getByRole('button', { name: 'Create live event' }).first().click();
    await c.fillEvent({ name: 'studio-a', description: 'Studio A', protocol: 'SRT', encoding: 'Standard (720p encoding)', lowLatency: true });
    const srt = expectedBody({ protocol: 'SRT', encodingType: 'Standard', streamOption: 'LowLatency', description: 'Studio A' });
    assert.deepEqual(await c.shownBody(), srt, 'the form shows the body it sends');
    // Back to RTMP pass-through with default latency: the shown body follows every field.
    await c.fillEvent({ name: 'studio-a', description: '', protocol: 'RTMP', encoding: 'Pass-through basic' });
    const rtmp = expectedBody({ protocol: 'RTMP', encodingType: 'PassthroughBasic' });
    assert.deepEqual(await c.shownBody(), rtmp);
    await c.shot('01-create-form');

    const answered = page.waitForResponse((r) => r.request().method() === 'PUT' && r.url().endsWith(`${V}/liveEvents/studio-a`));
    await c.dialog().getByRole('button', { name: 'Create live event' }).click();
    const response = await answered;
    assert.deepEqual(c.bodyOf('PUT', `${V}/liveEvents/studio-a`), rtmp, 'the request carries the shown body');
    if (response.ok()) {
      // A server with the live events API: the dialog closes on the created event.
      await c.dialog().waitFor({ state: 'detached' });
    } else {
      // Any refusal (a server without live events answers 404) is shown in the dialog with the server's words.
      const detail = ((await response.json()) as { error?: { detail?: string } }).error?.detail;
      assert.ok(detail, `an MK.IO error body: ${await response.text()}`);
      await c.dialog().getByRole('alert').filter({ hasText: detail }).waitFor();
      await c.dialog().getByRole('button', { name: 'Cancel' }).click();
    }
    assert.deepEqual(c.s.pageErrors, []);
  });
});

describe('web console: live events with the live events API', () => {
  const c = consoleSession();
  const table = () => c.page().getByRole('table', { name: 'Live events' });
  const row = (name: string) => table().getByRole('row').filter({ hasText: name });

  it('creates events through the form: listed Stopped; SRT with pass-through refused with the API’s 400 on the protocol field', async () => {
    const page = c.page();
    await c.nav('Live events').click();
    await page.getByRole('heading', { name: 'No live events' }).waitFor();
    await page.getByRole('button', { name: 'Create live event' }).first().click();
    await c.fillEvent({ name: 'studio-a', description: 'Studio A', protocol: 'RTMP', encoding: 'Pass-through basic' });
    await c.dialog().getByRole('button', { name: 'Create live event' }).click();
    await row('studio-a').getByLabel('State: Stopped').waitFor();
    assert.deepEqual(
      c.bodyOf('PUT', `${V}/liveEvents/studio-a`),
      expectedBody({ protocol: 'RTMP', encodingType: 'PassthroughBasic', description: 'Studio A' }),
    );
    await row('studio-a').getByText('RTMP', { exact: true }).waitFor();

    await page.getByRole('button', { name: 'Create live event' }).first().click();
    await c.fillEvent({ name: 'studio-srt', protocol: 'SRT', encoding: 'Pass-through basic' });
    await c.dialog().getByRole('button', { name: 'Create live event' }).click();
    await c
      .dialog()
      .getByText(/SRT needs an encoding live event/)
      .waitFor();
    await c.shot('02-srt-passthrough-refused');
    await c.dialog().getByRole('textbox', { name: 'Encoding' }).click();
    await page.getByRole('option', { name: 'Standard (720p encoding)', exact: true }).click();
    await c.dialog().getByRole('button', { name: 'Create live event' }).click();
    await row('studio-srt').getByLabel('State: Stopped').waitFor();
    assert.deepEqual(c.bodyOf('PUT', `${V}/liveEvents/studio-srt`), expectedBody({ protocol: 'SRT', encodingType: 'Standard' }));
    await c.shot('03-list');
  });

  it('shows an event’s page: RTMP server and stream key for OBS, not running, and live outputs created into a new asset and deleted', async () => {
    const page = c.page();
    await row('studio-a').getByRole('link', { name: 'studio-a' }).click();
    await page.getByRole('heading', { name: 'studio-a', exact: true }).waitFor();
    const server = await page.getByRole('textbox', { name: 'RTMP server', exact: true }).inputValue();
    assert.match(server, /^rtmp:\/\/[^/]+:\d+\/[A-Za-z0-9._~-]+$/);
    assert.equal(await page.getByRole('textbox', { name: 'Stream key', exact: true }).inputValue(), 'stream');
    assert.equal(await page.getByRole('textbox', { name: 'RTMP URL for ffmpeg', exact: true }).inputValue(), `${server}/stream`);
    await page.getByText('Not running: start the event to receive a stream.').waitFor();
    const preview = await page.getByRole('textbox', { name: 'Preview DASH URL', exact: true }).inputValue();
    const event = (await (await page.request.get(`${c.s.server.url}${V}/liveEvents/studio-a`)).json()) as {
      properties: { preview: { previewLocator: string; endpoints: Array<{ url: string }> } };
    };
    assert.equal(preview, event.properties.preview.endpoints[0].url);
    assert.equal(
      await page.getByRole('textbox', { name: 'Preview HLS URL', exact: true }).inputValue(),
      `${new URL(preview).origin}/${event.properties.preview.previewLocator}/manifest.ism/manifest(format=m3u8-cmaf)`,
    );

    await page.getByRole('heading', { name: 'No live outputs' }).waitFor();
    await page.getByRole('button', { name: 'Create live output' }).first().click();
    await c.dialog().getByRole('textbox', { name: 'Output name' }).fill('archive1');
    await c.dialog().getByRole('textbox', { name: 'New asset name' }).fill('studio-a-rec');
    await c.dialog().getByRole('textbox', { name: 'Archive window' }).fill('PT30M');
    await c.shot('04-create-output');
    await c.dialog().getByRole('button', { name: 'Create live output' }).click();
    const outputs = page.getByRole('table', { name: 'Live outputs' });
    await outputs.getByRole('row').filter({ hasText: 'archive1' }).getByText('PT30M').waitFor();
    assert.deepEqual(c.bodyOf('PUT', `${V}/assets/studio-a-rec`), { properties: { storageAccountName: 'local' } });
    assert.deepEqual(c.bodyOf('PUT', `${V}/liveEvents/studio-a/liveOutputs/archive1`), {
      properties: { assetName: 'studio-a-rec', archiveWindowLength: 'PT30M', manifestName: 'manifest', description: '' },
    });
    await c.shot('05-event-page');

    // Play: the asset has no locator yet, so "Publish" creates one, and the asset page's playback view shows it.
    await outputs.getByRole('button', { name: 'Play live output archive1' }).click();
    await page.getByRole('heading', { name: 'Asset studio-a-rec is not published' }).waitFor();
    await page.getByRole('button', { name: 'Publish', exact: true }).click();
    await page.getByRole('heading', { name: /^Playback · studio-a-rec-/ }).waitFor();
    const locatorPut = c.s.requests.filter((r) => r.method === 'PUT' && r.path.startsWith(`${V}/streamingLocators/studio-a-rec-`));
    assert.equal(locatorPut.length, 1);
    assert.deepEqual(JSON.parse(locatorPut[0].body ?? 'null'), {
      properties: { assetName: 'studio-a-rec', streamingPolicyName: 'Predefined_ClearStreamingOnly' },
    });
    assert.match(await page.getByRole('textbox', { name: 'HLS (m3u8-cmaf)', exact: true }).inputValue(), /\/manifest\.ism\/manifest\(format=m3u8-cmaf\)$/);
    await c.shot('06-output-published');

    // The output's asset page, and back.
    await outputs.getByRole('link', { name: 'studio-a-rec' }).click();
    await page.getByRole('heading', { name: 'studio-a-rec', exact: true }).waitFor();
    await page.goBack();
    await c.confirm(outputs, 'Delete live output archive1', 'Delete output');
    await page.getByRole('heading', { name: 'No live outputs' }).waitFor();
    assert.equal(c.sent('DELETE', `${V}/liveEvents/studio-a/liveOutputs/archive1`).length, 1);

    // A second output records into the existing asset, picked from the assets list.
    await page.getByRole('button', { name: 'Create live output' }).first().click();
    await c.dialog().getByRole('textbox', { name: 'Output name' }).fill('archive2');
    await c.dialog().getByText('An existing asset', { exact: true }).click();
    await c.choose(c.dialog().getByRole('textbox', { name: 'Asset' }), 'studio-a-rec');
    await c.dialog().getByRole('button', { name: 'Create live output' }).click();
    await outputs.getByRole('row').filter({ hasText: 'archive2' }).getByText('PT1H').waitFor();
    assert.deepEqual(c.bodyOf('PUT', `${V}/liveEvents/studio-a/liveOutputs/archive2`), {
      properties: { assetName: 'studio-a-rec', archiveWindowLength: 'PT1H', manifestName: 'manifest', description: '' },
    });
    assert.equal(c.sent('PUT', `${V}/assets/studio-a-rec`).length, 1, 'no asset created for an existing one');
  });

  it('deletes events from the list after confirming', async () => {
    const page = c.page();
    await c.nav('Live events').click();
    await c.confirm(row('studio-srt'), 'Delete live event studio-srt', 'Delete event');
    await row('studio-srt').waitFor({ state: 'detached' });
    assert.equal(c.sent('DELETE', `${V}/liveEvents/studio-srt`).length, 1);
    await c.confirm(row('studio-a'), 'Delete live event studio-a', 'Delete event');
    await page.getByRole('heading', { name: 'No live events' }).waitFor();
    assert.deepEqual(((await (await page.request.get(`${c.s.server.url}${V}/liveEvents`)).json()) as { value: unknown[] }).value, []);
    assert.deepEqual(c.s.pageErrors, []);
  });
});

describe('web console: live events with the live runtime', () => {
  const c = consoleSession();
  let encoder: ChildProcess | undefined;
  after(() => {
    encoder?.kill('SIGKILL');
  });
  /** The page's <video> plays `urlPart` past `seconds`. */
  const playsPast = (urlPart: string, seconds: number) =>
    c.page().waitForFunction(
      ([f, s]) => {
        const v = document.querySelector('video');
        return v !== null && (v.dataset.src ?? '').includes(f) && v.currentTime > s;
      },
      [urlPart, seconds] as const,
      { timeout: 60_000, polling: 200 },
    );

  it('starts an event, shows its health while ffmpeg pushes to the URL shown, plays the preview and a live output, and stops it', async () => {
    const page = c.page();
    await c.nav('Live events').click();
    await page.getByRole('button', { name: 'Create live event' }).first().click();
    await c.fillEvent({ name: 'studio-live', protocol: 'RTMP', encoding: 'Pass-through basic' });
    await c.dialog().getByRole('button', { name: 'Create live event' }).click();
    await page.getByRole('table', { name: 'Live events' }).getByRole('link', { name: 'studio-live' }).click();
    await page.getByRole('heading', { name: 'studio-live', exact: true }).waitFor();

    // A live output recording into a new asset, created before the start.
    await page.getByRole('button', { name: 'Create live output' }).first().click();
    await c.dialog().getByRole('textbox', { name: 'Output name' }).fill('archive1');
    await c.dialog().getByRole('textbox', { name: 'New asset name' }).fill('studio-live-rec');
    await c.dialog().getByRole('button', { name: 'Create live output' }).click();
    await page.getByRole('table', { name: 'Live outputs' }).getByText('archive1').waitFor();

    await c.confirm(page, 'Start studio-live', 'Start event');
    await page.getByRole('status', { name: 'Live event state' }).getByText('Running').waitFor({ timeout: 60_000 });
    assert.deepEqual(c.bodyOf('POST', `${V}/liveEvents/studio-live/start`), {});
    await page.getByText('No encoder connected').waitFor();

    const ingest = await page.getByRole('textbox', { name: 'RTMP URL for ffmpeg', exact: true }).inputValue();
    assert.match(ingest, /^rtmp:\/\/[^/]+:\d+\/[A-Za-z0-9._~-]+\/stream$/);
    encoder = spawn(
      'ffmpeg',
      [
        ...['-hide_banner', '-loglevel', 'error', '-re'],
        ...['-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000'],
        ...['-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-g', '50', '-pix_fmt', 'yuv420p', '-b:v', '800k'],
        ...['-c:a', 'aac', '-b:a', '96k', '-t', '120', '-f', 'flv', ingest],
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );

    // Health, polled every 2 s: connected, a bitrate, 25 fps, a last frame time.
    const health = page.getByRole('region', { name: 'Ingest health' });
    await health.getByText('Connected', { exact: true }).waitFor({ timeout: 30_000 });
    await health.getByText(/\d+(\.\d)? (kbit|Mbit)\/s/).waitFor();
    await health.getByText(/^2[45](\.\d+)? fps$/).waitFor({ timeout: 30_000 });
    assert.notEqual(await health.getByText('Last frame').locator('xpath=following-sibling::*[1]').textContent(), '—');

    // The preview plays in the player (HLS form of the preview locator).
    await playsPast('manifest(format=m3u8-cmaf)', 2);
    await c.shot('07-running-preview');

    // The output's asset: published (a locator), then played on the same page.
    await page.getByRole('button', { name: 'Play live output archive1' }).click();
    await page.getByRole('button', { name: 'Publish' }).click();
    await page.getByRole('heading', { name: /^Playback · studio-live-rec-/ }).waitFor();
    const locatorPut = c.s.requests.filter((r) => r.method === 'PUT' && r.path.startsWith(`${V}/streamingLocators/studio-live-rec-`)).at(-1);
    assert.deepEqual(JSON.parse(locatorPut?.body ?? 'null'), {
      properties: { assetName: 'studio-live-rec', streamingPolicyName: 'Predefined_ClearStreamingOnly' },
    });
    await playsPast('/manifest.ism/manifest(format=m3u8-cmaf)', 2);
    await c.shot('08-output-playback');

    await c.confirm(page, 'Stop studio-live', 'Stop event');
    await page.getByRole('status', { name: 'Live event state' }).getByText('Stopped').waitFor({ timeout: 60_000 });
    assert.deepEqual(c.bodyOf('POST', `${V}/liveEvents/studio-live/stop`), { removeOutputsOnStop: false });
    await page.getByText('Not running: start the event to receive a stream.').waitFor();
    encoder.kill('SIGKILL');
    assert.deepEqual(c.s.pageErrors, []);
  });
});
