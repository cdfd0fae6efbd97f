/**
 * Benchmark child: a real Reel server (SQLite, `REEL_LOG_LEVEL=warn`) that grants project `default` the
 * benchmark's media store as a Local storage directory. Started by BenchChild as `node --import tsx bench/origin/origin-server.ts`; answers:
 *   start {storeDir, segmentCacheMb?, originProcesses?} → { url, playUrl, token, originProcesses }
 *                                      (token: signed in as the admin, as a user does; playUrl: where playback goes)
 *   heap                               → process.memoryUsage() after a full GC (needs --expose-gc; else without GC)
 *   cpu / memory                       → built in (bench-child.ts)
 *   stop                               → closes the server, removes its data dir
 * Assets, the storage account and locators are created by the parent through the API.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startReel, type RunningReel } from '../../src/main.js';
import { loadConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/shared/log.js';
import { answerParent } from '../support/bench-child.js';
import { freePort } from '../support/free-port.js';

export interface OriginStartOptions {
  storeDir: string;
  /** REEL_SEGMENT_CACHE_MB; the server's default when absent. */
  segmentCacheMb?: number;
  /** REEL_ORIGIN_PROCESSES: with N ≥ 2 the main process forks N origin-only children sharing REEL_ORIGIN_PORT. */
  originProcesses?: number;
  /** More settings, e.g. the live benchmark's `REEL_LIVE_RTMP_PORT`. */
  env?: Record<string, string>;
}

export interface StartedOrigin {
  /** The API (and, with one process, playback). */
  url: string;
  /** Where playback requests go: `RunningReel.originUrl` when the server has origin processes, else `url`. */
  playUrl: string;
  token: string;
  originProcesses: number;
}

async function expect(res: Response, status: number, what: string): Promise<Response> {
  if (res.status !== status) throw new Error(`${what}: HTTP ${res.status} (expected ${status}): ${await res.text()}`);
  return res;
}

let reel: RunningReel | undefined;
let dataDir: string | undefined;

answerParent({
  start: async (payload) => {
    const options = payload as OriginStartOptions;
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'reel-origin-bench-'));
    const password = crypto.randomBytes(12).toString('base64url');
    const processes = options.originProcesses ?? 1;
    const originEnv = processes >= 2 ? { REEL_ORIGIN_PROCESSES: String(processes), REEL_ORIGIN_PORT: String(await freePort()) } : {};
    // Also in the environment: forked origin children may read their settings from it.
    Object.assign(process.env, originEnv);
    const config = loadConfig({
      ...originEnv,
      PORT: '0',
      HOST: '127.0.0.1',
      REEL_LIVE_RTMP_PORT: '0',
      REEL_LIVE_SRT_PORT: '0',
      REEL_DATA_DIR: dataDir,
      REEL_ADMIN_PASSWORD: password,
      REEL_LOG_LEVEL: 'warn',
      REEL_LOCAL_STORAGE_ROOTS: path.join(dataDir, 'storage'),
      REEL_LOCAL_STORAGE_GRANTS: `default=${options.storeDir}`,
      ...(options.segmentCacheMb !== undefined ? { REEL_SEGMENT_CACHE_MB: String(options.segmentCacheMb) } : {}),
      ...options.env,
    });
    reel = await startReel(config, createLogger(config.logLevel));
    const login = await expect(
      await fetch(`${reel.url}/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: config.adminEmail, password }),
      }),
      200,
      'login',
    );
    const cookie = login.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');
    const { token } = (await (await expect(await fetch(`${reel.url}/auth/token/`, { headers: { cookie } }), 200, 'token')).json()) as { token: string };
    // `originUrl` exists once Reel has origin processes; with a Reel without them this is a one-process run.
    const originUrl = (reel as RunningReel & { originUrl?: string }).originUrl;
    const started: StartedOrigin = { url: reel.url, playUrl: originUrl ?? reel.url, token, originProcesses: originUrl ? processes : 1 };
    return started;
  },
  heap: async () => {
    (globalThis as { gc?: () => void }).gc?.();
    return process.memoryUsage();
  },
  stop: async () => {
    await reel?.close().catch((err: unknown) => process.stderr.write(`reel close failed: ${String(err)}\n`));
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  },
});
