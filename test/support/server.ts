import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import pg from 'pg';
import { startReel, type RunningReel } from '../../src/main.js';
import { loadConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/shared/log.js';
import { pgUrl } from './services.js';

export type TestDialect = 'sqlite' | 'postgres';
export const dialects: TestDialect[] = ['sqlite', 'postgres'];

export interface TestServer {
  reel: RunningReel;
  url: string;
  dataDir: string;
  /** Second Local storage root (the first is `<dataDir>/storage`). */
  storageRoot: string;
  /** A project's own directory under a Local storage root (`<root>/<project>`), where its Local accounts may point. */
  localArea(project?: string, root?: string): string;
  adminEmail: string;
  adminPassword: string;
  /** Every log line the server wrote, to check that no secret reaches the logs. */
  logs: () => string;
  /**
   * Stops the server and starts it again on the same port over the same data dir and database (a process restart),
   * with `env` changed.
   */
  restart(env?: Record<string, string>): Promise<void>;
  close(): Promise<void>;
}

/**
 * The shared test services run on loopback, which Reel refuses to reach for tenants unless the operator allows
 * the host: allow exactly them, as an operator would a local MinIO or Azurite.
 */
function testServiceHosts(): string {
  return [process.env.REEL_TEST_AZURITE_URL, process.env.REEL_TEST_S3_ENDPOINT, process.env.REEL_TEST_GCS_ENDPOINT]
    .flatMap((u) => (u ? [new URL(u).host] : []))
    .join(',');
}

/** A fresh PostgreSQL database per server, dropped on close, so test files never see each other's rows. */
async function createPgDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `reel_test_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  const admin = new pg.Client({ connectionString: pgUrl() });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(pgUrl());
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: pgUrl() });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

/** Starts a real Reel server on a free port over a fresh SQLite file or PostgreSQL database. */
export async function startTestServer(dialect: TestDialect, env: Record<string, string> = {}): Promise<TestServer> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'reel-it-'));
  const storageRoot = path.join(dataDir, 'media');
  fs.mkdirSync(storageRoot);
  const database = dialect === 'postgres' ? await createPgDatabase() : undefined;
  const adminPassword = 'correct horse battery';
  const configFor = (env: Record<string, string>) =>
    loadConfig({
      PORT: '0',
      REEL_LIVE_RTMP_PORT: '0',
      REEL_LIVE_SRT_PORT: '0',
      REEL_DATA_DIR: dataDir,
      REEL_ADMIN_PASSWORD: adminPassword,
      REEL_LOG_LEVEL: 'info',
      REEL_LOCAL_STORAGE_ROOTS: `${path.join(dataDir, 'storage')}:${storageRoot}`,
      REEL_STORAGE_ALLOWED_HOSTS: testServiceHosts(),
      ...(database ? { DATABASE_URL: database.url } : {}),
      ...env,
    });
  let logText = '';
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logText += chunk.toString();
      cb();
    },
  });
  let currentEnv = env;
  let config = configFor(currentEnv);
  const reel = await startWithOriginPortRetry(() => startReel(config, createLogger(env.REEL_LOG_LEVEL ?? 'debug', sink)));
  const server: TestServer = {
    reel,
    url: reel.url,
    dataDir,
    storageRoot,
    adminEmail: config.adminEmail,
    adminPassword,
    localArea: (project = 'default', root = storageRoot) => path.join(root, project),
    logs: () => logText,
    async restart(changes = {}) {
      await server.reel.close();
      currentEnv = { ...currentEnv, ...changes };
      config = configFor(currentEnv);
      server.reel = await startReel({ ...config, port: Number(new URL(server.url).port) }, createLogger(currentEnv.REEL_LOG_LEVEL ?? 'debug', sink));
      server.url = server.reel.url;
    },
    async close() {
      await server.reel.close();
      await database?.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return server;
}

/**
 * With origin processes, Reel listens on a random port and its origin processes on the next one, which another
 * test's ephemeral port may hold at that moment: such a start fails cleanly (nothing left running) and is tried
 * again on a new random port. Any other failure is the test's.
 */
async function startWithOriginPortRetry<T>(start: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (err) {
      if (attempt >= 3 || !(err instanceof Error) || !/origin port .* is in use/.test(err.message)) throw err;
    }
  }
}
