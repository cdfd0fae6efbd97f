/**
 * Benchmark child: a real Reel server (SQLite or a fresh PostgreSQL database) holding a seeded project.
 * Started by BenchChild as `node --import tsx bench/support/reel-server.ts <sqlite|postgres>`; answers:
 *   seed {count}  → { url, token, names, seedMs }   (first asset through the API, the rest straight into `assets`)
 *   dbPids        → pids of the PostgreSQL backends serving this server (none on SQLite)
 *   cpu           → CPU ms used so far
 *   stop          → closes the server, drops the database, removes the data dir
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { sql } from 'kysely';
import { startReel, type RunningReel } from '../../src/main.js';
import { loadConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/shared/log.js';
import type { AssetRow } from '../../src/store/database.js';
import { answerParent } from './bench-child.js';

export type BenchDialect = 'sqlite' | 'postgres';

export interface SeededReel {
  url: string;
  /** Sent as `x-mkio-token`. */
  token: string;
  project: string;
  /** Every asset name in the project, in creation order. */
  names: string[];
  seedMs: number;
}

/** The server PostgreSQL database is created in; `REEL_BENCH_PG_URL` overrides it. */
export function adminPgUrl(): string {
  return process.env.REEL_BENCH_PG_URL ?? process.env.REEL_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
}

const project = 'default';
/** Rows per INSERT: 15 columns × 500 stays far below SQLite's and PostgreSQL's bound-parameter limits. */
const batchRows = 500;

async function createPgDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `reel_bench_${process.pid}_${crypto.randomBytes(4).toString('hex')}`;
  const query = async (text: string) => {
    const c = new pg.Client({ connectionString: adminPgUrl() });
    await c.connect();
    try {
      await c.query(text);
    } finally {
      await c.end();
    }
  };
  await query(`create database ${name}`);
  const url = new URL(adminPgUrl());
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => query(`drop database if exists ${name} with (force)`) };
}

async function api(url: string, init: RequestInit & { expect: number }): Promise<Response> {
  const res = await fetch(url, init);
  if (res.status !== init.expect) throw new Error(`${init.method ?? 'GET'} ${url}: HTTP ${res.status} (expected ${init.expect}): ${await res.text()}`);
  return res;
}

/** Signs in as the bootstrapped admin and takes a token the way a user does (`/auth/login`, `/auth/token/`). */
async function tokenFor(url: string, email: string, password: string): Promise<string> {
  const login = await api(`${url}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
    expect: 200,
  });
  const cookie = login.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
  const issued = await api(`${url}/auth/token/`, { headers: { cookie }, expect: 200 });
  const { token } = (await issued.json()) as { token: string };
  return token;
}

/** Same key paths, recursively: a seeded asset must look exactly like one the API created. */
function shapeOf(value: unknown, prefix = ''): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [`${prefix}:${value === null ? 'null' : typeof value}`];
  return Object.entries(value as Record<string, unknown>)
    .flatMap(([k, v]) => shapeOf(v, `${prefix}/${k}`))
    .sort();
}

async function seed(reel: RunningReel, email: string, password: string, count: number): Promise<SeededReel> {
  const started = performance.now();
  const token = await tokenFor(reel.url, email, password);
  const headers = { 'x-mkio-token': token, 'content-type': 'application/json' };
  const assetUrl = (name: string) => `${reel.url}/api/ams/${project}/assets/${name}`;

  // The first asset goes through the real API, so the path (auth, storage account, container) is proven.
  await api(assetUrl('bench-0'), { method: 'PUT', headers, body: JSON.stringify({ properties: { storageAccountName: 'local' } }), expect: 201 });
  const first = await reel.db.selectFrom('assets').selectAll().where('name', '=', 'bench-0').executeTakeFirstOrThrow();
  const local = await reel.db
    .selectFrom('storage_accounts')
    .select(['id', 'name'])
    .where('project_id', '=', first.project_id)
    .where('name', '=', 'local')
    .executeTakeFirstOrThrow();
  if (local.id !== first.storage_account_id) throw new Error('bench-0 is not on the local storage account');

  // The rest: the values a real create writes (see AssetService.create), one millisecond apart so the
  // list order (created_at, name) is the creation order, inserted in batches inside one transaction.
  const names = Array.from({ length: count }, (_, i) => `bench-${i}`);
  const baseMs = Date.parse(first.created_at);
  await reel.db.transaction().execute(async (trx) => {
    for (let start = 1; start < count; start += batchRows) {
      const rows: AssetRow[] = [];
      for (let i = start; i < Math.min(count, start + batchRows); i++) {
        const id = crypto.randomUUID();
        const at = new Date(baseMs + i).toISOString();
        rows.push({
          ...first,
          id,
          name: names[i],
          storage_account_id: local.id,
          storage_account_name: local.name,
          container: `asset-${id}`,
          created_at: at,
          updated_at: at,
        });
      }
      await trx.insertInto('assets').values(rows).execute();
    }
  });

  // A few seeded assets must read back through the API exactly like the one the API created.
  const get = async (name: string) =>
    (await (await api(assetUrl(name), { headers, expect: 200 })).json()) as { name: string; properties: { storageAccountName: string } };
  const reference = shapeOf(await get('bench-0'));
  for (const i of [1, Math.floor(count / 2), count - 1]) {
    const body = await get(names[i]);
    if (body.name !== names[i] || body.properties.storageAccountName !== 'local' || shapeOf(body).join() !== reference.join()) {
      throw new Error(`seeded asset ${names[i]} does not read back like bench-0: ${JSON.stringify(body)}`);
    }
  }
  return { url: reel.url, token, project, names, seedMs: Math.round(performance.now() - started) };
}

async function main(): Promise<void> {
  const dialect = process.argv[2] as BenchDialect;
  if (dialect !== 'sqlite' && dialect !== 'postgres') throw new Error(`usage: reel-server.ts <sqlite|postgres> (got '${dialect}')`);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'reel-bench-'));
  const database = dialect === 'postgres' ? await createPgDatabase() : undefined;
  const password = crypto.randomBytes(12).toString('base64url');
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    REEL_LIVE_RTMP_PORT: '0',
    REEL_LIVE_SRT_PORT: '0',
    REEL_DATA_DIR: dataDir,
    REEL_ADMIN_PASSWORD: password,
    REEL_LOG_LEVEL: 'warn',
    ...(database ? { DATABASE_URL: database.url } : {}),
  });
  let reel: RunningReel | undefined;
  const cleanup = async () => {
    await reel?.close().catch((err: unknown) => process.stderr.write(`reel close failed: ${String(err)}\n`));
    await database?.drop().catch((err: unknown) => process.stderr.write(`dropping the bench database failed: ${String(err)}\n`));
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  answerParent({
    seed: async (payload) => {
      reel ??= await startReel(config, createLogger(config.logLevel));
      return seed(reel, config.adminEmail, password, (payload as { count: number }).count);
    },
    dbPids: async () => {
      if (!reel || dialect !== 'postgres') return [];
      const { rows } = await sql<{ pid: number }>`select pid from pg_stat_activity where datname = current_database()`.execute(reel.db);
      return rows.map((r) => Number(r.pid));
    },
    stop: cleanup,
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`reel-server: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
