// Plays a stream to its end in a real player (hls.js, dash.js or Shaka) inside headless Chromium and reports
// what happened. One browser and one page server are shared per process (per test file); call
// `closeBrowser()` in the file's `after` hook. Every `playToEnd` gets a fresh browser context (no cache, no
// cookies shared between runs).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page, type Request } from 'playwright-core';
import {
  startPlayerPageServer,
  type DrmOptions,
  type KeyRequest,
  type LiveInfo,
  type PlayerName,
  type PlayerPageServer,
  type PlayerState,
  type VariantInfo,
} from './player-page.js';

export type { DrmOptions, KeyRequest, LiveInfo, PlayerName, PlayerState, VariantInfo } from './player-page.js';

/** A key or licence request as it went on the wire (seen by the browser's network layer, not the page). */
export interface WireKeyRequest {
  method: string;
  url: string;
  /** The Authorization header the request carried, if any. */
  authorization?: string;
  /** The response status; 0 when the request failed without a response. */
  status: number;
}

export const CHROMIUM_PATH = process.env.REEL_E2E_CHROMIUM ?? '/usr/bin/chromium';

/** Flags for Chromium in this sandbox-less, offline machine. `--headless` is the new headless mode in Chromium ≥ 132. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--autoplay-policy=no-user-gesture-required',
  '--disable-quic',
];

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const SCREENSHOT_DIR = path.join(root, 'test-output', 'e2e');

export interface PlayOptions {
  /** The stream: an HLS playlist (.m3u8) or DASH manifest (.mpd), on its own origin. */
  url: string;
  player: PlayerName;
  /** Give up after this long (wall clock, from page open). Default 30 s. */
  timeoutMs?: number;
  /** `video.playbackRate`, 0.0625–16 (Chromium's range). Default 4. Every frame is still decoded. */
  playbackRate?: number;
  /** Save a screenshot of the page at the end as test-output/e2e/<name>.png. */
  name?: string;
  /** Protected streams: the token for key/licence requests and the ClearKey licence URL. */
  drm?: DrmOptions;
}

export interface PlayResult {
  /** The `ended` event fired (the player signalled end of stream and the video played up to it). */
  ended: boolean;
  currentTime: number;
  duration: number;
  /**
   * Everything that went wrong: fatal player errors, media element errors, page errors, console errors,
   * failed requests (CORS, connection errors) and HTTP responses ≥ 400, and a timeout note.
   */
  errors: string[];
  /** `video.getVideoPlaybackQuality().totalVideoFrames` at the end. */
  decodedFrames: number;
  /** Path of the PNG when `name` was given. */
  screenshot?: string;

  /** The page's final state: 'ended' | 'error' | 'playing' | 'loading' (the last two mean it timed out). */
  state: PlayerState['state'];
  timedOut: boolean;
  /** 'element': the video fired ended; 'player': dash.js ended the last period itself (it pauses the element at the end). */
  endedBy?: 'element' | 'player';
  droppedFrames: number;
  /** What was played, [start, end] pairs (`video.played`). Playing through without seeks gives one range from ~0 to the end. */
  played: Array<[number, number]>;
  /** The playback rate at the end (what the page actually ran at). */
  playbackRate: number;
  /** Non-fatal player errors and aborted requests: informative, not failures. */
  warnings: string[];
  variants: VariantInfo[];
  videoWidth: number;
  videoHeight: number;
  playerVersion: string;
  loadMode?: string;
  /** Wall-clock milliseconds from opening the page to the end (or error/timeout). */
  wallMs: number;
  /** Page-side milliseconds from script start to first 'playing', and to 'ended'. */
  msToFirstFrame?: number;
  msToEnd?: number;
  /** The page's event log, for diagnosing failures. */
  log: string[];
  /** Key and licence requests as the page made them (`window.reel.keyRequests`). */
  keyRequests: KeyRequest[];
  /** The same requests as the network saw them, with the Authorization header actually sent. */
  wireKeyRequests: WireKeyRequest[];
  /** Player errors about keys, licences or the CDM. */
  drmErrors: string[];
  /** Other requests (manifests, segments) that carried an Authorization header or a `token` parameter: should stay empty. */
  mediaRequestsWithToken: string[];
  /** How many other requests (manifests, segments) went to the stream's origin. */
  mediaRequests: number;
}

let browserPromise: Promise<Browser> | undefined;
let pagesPromise: Promise<PlayerPageServer> | undefined;

let launched: Browser | undefined;

/** The shared browser (launched on first use, and again if it crashed or was closed). */
export function getBrowser(): Promise<Browser> {
  if (launched && !launched.isConnected()) {
    launched = undefined;
    browserPromise = undefined;
  }
  browserPromise ??= chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, timeout: 30_000 }).then(
    (b) => {
      launched = b;
      return b;
    },
    (err: unknown) => {
      browserPromise = undefined;
      throw new Error(`could not launch ${CHROMIUM_PATH} (apt-get install chromium; scripts/setup.mjs --test does it): ${String(err)}`);
    },
  );
  return browserPromise;
}

function getPageServer(): Promise<PlayerPageServer> {
  pagesPromise ??= startPlayerPageServer().catch((err: unknown) => {
    pagesPromise = undefined;
    throw err;
  });
  return pagesPromise;
}

/** Closes the shared browser and page server (call from `after`). Safe to call when nothing was started. */
export async function closeBrowser(): Promise<void> {
  const b = browserPromise;
  const p = pagesPromise;
  browserPromise = undefined;
  launched = undefined;
  pagesPromise = undefined;
  await Promise.allSettled([b?.then((x) => x.close()), p?.then((x) => x.close())]);
}

const FINISHED = "window.reel !== undefined && (window.reel.state === 'ended' || window.reel.state === 'error')";

/** Plays `url` in `player` until the video ends, fails, or `timeoutMs` passes, and reports what it saw. */
export async function playToEnd(options: PlayOptions): Promise<PlayResult> {
  const { url, player, timeoutMs = 30_000, playbackRate = 4, name, drm } = options;
  if (!(playbackRate >= 0.0625 && playbackRate <= 16)) throw new RangeError(`playbackRate ${playbackRate} is outside Chromium's 0.0625–16`);
  const [browser, pages] = await Promise.all([getBrowser(), getPageServer()]);
  const context = await browser.newContext({ viewport: { width: 640, height: 360 }, bypassCSP: false, serviceWorkers: 'block' });
  const errors: string[] = [];
  const warnings: string[] = [];
  const started = Date.now();
  try {
    const page = await context.newPage();
    watch(page, errors, warnings);
    const wire = watchKeyRequests(page, drm, url);
    await page.goto(pages.pageUrl({ player, src: url, playbackRate, drm }), { waitUntil: 'load', timeout: Math.min(timeoutMs, 15_000) });
    const left = Math.max(1, timeoutMs - (Date.now() - started));
    let timedOut = false;
    try {
      await page.waitForFunction(FINISHED, undefined, { timeout: left, polling: 100 });
    } catch (err) {
      if (!(err instanceof Error && err.name === 'TimeoutError')) throw err;
      timedOut = true;
    }
    // Let late reports (a failed request racing the 'error' state, console messages) arrive.
    await page.waitForTimeout(150);
    const state = await page.evaluate<PlayerState | null>('JSON.parse(JSON.stringify(window.reel || null))');
    await wire.settled();
    const wallMs = Date.now() - started;
    if (!state) {
      errors.push('player page did not start (window.reel missing)');
    } else {
      errors.unshift(...state.errors);
      warnings.unshift(...state.warnings);
    }
    if (timedOut) {
      errors.push(
        `timed out after ${timeoutMs} ms in state '${state?.state ?? 'unknown'}' at currentTime ${state?.currentTime.toFixed(3) ?? '?'}` +
          ` of ${state?.duration ?? '?'} (rate ${state?.playbackRate ?? '?'})`,
      );
    }
    let screenshot: string | undefined;
    if (name) {
      fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
      screenshot = path.join(SCREENSHOT_DIR, `${name.replace(/[^\w.-]+/g, '_')}.png`);
      await page.screenshot({ path: screenshot });
    }
    const t = state?.timings;
    return {
      ended: state?.state === 'ended',
      currentTime: state?.currentTime ?? 0,
      duration: state?.duration ?? 0,
      errors: dedupe(errors),
      decodedFrames: state?.decodedFrames ?? 0,
      screenshot,
      state: state?.state ?? 'loading',
      timedOut,
      endedBy: state?.endedBy,
      droppedFrames: state?.droppedFrames ?? 0,
      played: state?.played ?? [],
      playbackRate: state?.playbackRate ?? 0,
      warnings: dedupe(warnings),
      variants: state?.variants ?? [],
      videoWidth: state?.videoWidth ?? 0,
      videoHeight: state?.videoHeight ?? 0,
      playerVersion: state?.playerVersion ?? '',
      loadMode: state?.loadMode,
      wallMs,
      msToFirstFrame: t?.firstPlaying !== undefined ? Math.round(t.firstPlaying - t.start) : undefined,
      msToEnd: t?.ended !== undefined ? Math.round(t.ended - t.start) : undefined,
      log: state?.log ?? [],
      keyRequests: state?.keyRequests ?? [],
      wireKeyRequests: wire.seen,
      mediaRequestsWithToken: wire.mediaWithToken,
      mediaRequests: wire.media(),
      drmErrors: state?.drmErrors ?? [],
    };
  } finally {
    await context.close().catch(() => undefined);
  }
}

/**
 * A player page kept open for the test to drive, step by step (live streams: join, seek back, return to live).
 * `errors()` holds what `playToEnd` would report as errors: the page's fatal player and element errors, console
 * errors, failed requests and HTTP responses ≥ 400.
 */
export interface PlayerSession {
  /** `window.reelLive.info()`: the live window, the edge and the playhead as the player reports them. */
  live(): Promise<LiveInfo>;
  /** Polls `live()` every 250 ms until `until` holds and returns that reading; throws with the last one after `timeoutMs`. */
  waitForLive(until: (info: LiveInfo) => boolean, what: string, timeoutMs: number): Promise<LiveInfo>;
  /** Seeks, through the player's API, to `seconds` behind its live edge; returns the target position. */
  seekBehindEdge(seconds: number): Promise<number>;
  /** The player's own return to the live edge (hls.js `liveSyncPosition`, dash.js `seekToOriginalLive()`, Shaka `goToLive()`). */
  goToLive(): Promise<void>;
  errors(): Promise<string[]>;
  /** The page's event log, for failure messages. */
  log(): Promise<string[]>;
  /** Evaluates `expression` in the page (the player is `window.reelPlayer`, the element `document.querySelector('video')`). */
  evaluate<T>(expression: string): Promise<T>;
  /** Saves a screenshot as test-output/e2e/<name>.png. */
  screenshot(name: string): Promise<string>;
  close(): Promise<void>;
}

/** Opens `url` in `player` (a fresh browser context) and returns once the page script runs; playback starts by itself. */
export async function openPlayer(options: Omit<PlayOptions, 'timeoutMs' | 'name'> & { startAtLiveEdge?: boolean }): Promise<PlayerSession> {
  const { url, player, playbackRate = 1, drm, startAtLiveEdge } = options;
  const [browser, pages] = await Promise.all([getBrowser(), getPageServer()]);
  const context = await browser.newContext({ viewport: { width: 640, height: 360 }, bypassCSP: false, serviceWorkers: 'block' });
  const errors: string[] = [];
  const warnings: string[] = [];
  try {
    const page = await context.newPage();
    watch(page, errors, warnings);
    await page.goto(pages.pageUrl({ player, src: url, playbackRate, drm, startAtLiveEdge }), { waitUntil: 'load', timeout: 15_000 });
    await page.waitForFunction('window.reelLive !== undefined', undefined, { timeout: 15_000 });
    const live = () => page.evaluate<LiveInfo>('window.reelLive.info()');
    return {
      live,
      async waitForLive(until, what, timeoutMs) {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const info = await live();
          if (until(info)) return info;
          if (info.errors.length > 0 || Date.now() > deadline) {
            const log = await page.evaluate<string[]>('window.reel.log');
            throw new Error(`${player}: ${what}: not seen in ${timeoutMs} ms; last ${JSON.stringify(info)}\n${[...errors, ...log.slice(-15)].join('\n')}`);
          }
          await page.waitForTimeout(250);
        }
      },
      seekBehindEdge: (seconds) => page.evaluate<number, number>((s) => (window as unknown as PageLive).reelLive.seekBehindEdge(s), seconds),
      goToLive: () => page.evaluate<void>('window.reelLive.goToLive()'),
      async errors() {
        const state = await page.evaluate<PlayerState>('JSON.parse(JSON.stringify(window.reel))');
        return dedupe([...state.errors, ...errors]);
      },
      log: () => page.evaluate<string[]>('window.reel.log.slice()'),
      evaluate: <T>(expression: string) => page.evaluate<T>(expression),
      async screenshot(name) {
        fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
        const file = path.join(SCREENSHOT_DIR, `${name.replace(/[^\w.-]+/g, '_')}.png`);
        await page.screenshot({ path: file });
        return file;
      },
      close: () => context.close().catch(() => undefined),
    };
  } catch (err) {
    await context.close().catch(() => undefined);
    throw err;
  }
}

interface PageLive {
  reelLive: { seekBehindEdge(seconds: number): number };
}

/** Console errors, uncaught exceptions, failed requests and HTTP errors ≥ 400 (the page's own files included). */
function watch(page: Page, errors: string[], warnings: string[]): void {
  page.on('console', (msg) => {
    // dash.js logs this at error level whenever ClearKey keys come from a licence server rather than from
    // protection data in the page: the normal case, not a fault.
    if (msg.type() === 'error' && msg.text().includes('Failed to retrieve clearkeys from ProtectionData')) warnings.push(`console: ${msg.text()}`);
    else if (msg.type() === 'error') errors.push(`console: ${msg.text()}`);
    else if (msg.type() === 'warning' && warnings.length < 50) warnings.push(`console: ${msg.text()}`);
  });
  page.on('pageerror', (err) => errors.push(`page error: ${err.message}`));
  page.on('crash', () => errors.push('page crashed'));
  page.on('requestfailed', (req) => {
    const failure = req.failure()?.errorText ?? 'unknown';
    const line = `request failed: ${req.method()} ${req.url()} (${failure})`;
    // Players abort requests they no longer need (end of stream, teardown): not a stream fault.
    if (failure === 'net::ERR_ABORTED') warnings.push(line);
    else errors.push(line);
  });
  page.on('response', (res) => {
    if (res.status() >= 400) errors.push(`HTTP ${res.status()} ${res.request().method()} ${res.url()}`);
  });
}

/** Key delivery (`/keydelivery/`) and licence requests with their Authorization header and status, from the network layer. */
function watchKeyRequests(
  page: Page,
  drm: DrmOptions | undefined,
  streamUrl: string,
): { seen: WireKeyRequest[]; mediaWithToken: string[]; media(): number; settled(): Promise<unknown> } {
  const seen: WireKeyRequest[] = [];
  const mediaWithToken: string[] = [];
  let media = 0;
  const streamOrigin = new URL(streamUrl).origin;
  const pending: Array<Promise<unknown>> = [];
  const isKeyRequest = (url: string) => url.includes('/keydelivery/') || (drm?.clearKeyLicenseUrl !== undefined && url.startsWith(drm.clearKeyLicenseUrl));
  const entries = new Map<Request, WireKeyRequest>();
  page.on('request', (req) => {
    if (req.method() === 'OPTIONS') return;
    if (!isKeyRequest(req.url())) {
      if (!req.url().startsWith(streamOrigin)) return;
      media++;
      if (new URL(req.url()).searchParams.has('token')) mediaWithToken.push(req.url());
      pending.push(
        req.allHeaders().then(
          (h) => void (h['authorization'] !== undefined && mediaWithToken.push(req.url())),
          () => undefined,
        ),
      );
      return;
    }
    const entry: WireKeyRequest = { method: req.method(), url: req.url(), status: 0 };
    entries.set(req, entry);
    seen.push(entry);
    // headers() leaves out security-related headers; allHeaders() has what was sent.
    pending.push(
      req.allHeaders().then(
        (h) => (entry.authorization = h['authorization']),
        () => undefined,
      ),
    );
  });
  page.on('response', (res) => {
    const entry = entries.get(res.request());
    if (entry) entry.status = res.status();
  });
  return { seen, mediaWithToken, media: () => media, settled: () => Promise.all(pending) };
}

function dedupe(list: string[]): string[] {
  return [...new Set(list)];
}
