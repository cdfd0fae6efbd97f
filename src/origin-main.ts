import type { Server } from 'node:http';
import type { FastifyListenOptions } from 'fastify';
import type { Config } from './config/schema.js';
import { createLogger } from './shared/log.js';
import { loadSecretKey } from './config/secret-key.js';
import { SecretBox } from './shared/secret-box.js';
import { openDatabase } from './store/database.js';
import { StorageAccountRepository } from './store/storage-account-repository.js';
import { AccountStores } from './storage/account-stores.js';
import { createStoragePolicy } from './storage/storage-policy.js';
import { blobStoreFactory, scratchLocalStore } from './blob-store-factory.js';
import { warmUpOrigin } from './media/origin/warm-up.js';
import { createHttpServer } from './control/plugins/http-server.js';
import { registerPlayback } from './origin-plane.js';
import { StoreFilterLookup, cachedFilterLookup } from './store/filter-lookup.js';
import { cachedProtectionLookup, StoreProtectionLookup } from './store/protection-lookup.js';
import { LiveEventRepository } from './store/live-event-repository.js';
import { LiveRelay } from './media/origin/live-relay.js';

/**
 * Entry of an origin-only process (REEL_ORIGIN_PROCESSES ≥ 2), forked by the main process (`origin-processes.ts`).
 * It loads what playback needs and nothing else: config, logger, the database's read side, the secret key and
 * storage drivers, the packager and the playback routes on a bare server with the same error handling and
 * security headers. No control-plane routes, console, auth, job queue or migrations (the main process migrated
 * before forking). It listens with SO_REUSEPORT on the port its siblings share, and exits when told to or when
 * its parent goes away.
 */

/** Parent → child: what to serve. The config is the parent's own (validated there), so both agree on everything. */
export interface OriginStartMessage {
  type: 'start';
  config: Config;
  port: number;
  /**
   * Where live playback is relayed (the main process runs the live runtime): its own playback URL and the secret
   * that lets it trust the client address a relayed request carries. Absent when the main process runs no live events.
   */
  liveRelay?: { url: string; secret: string };
}

/** Child → parent: the port it is listening on, or why it could not. */
export type OriginChildMessage = { type: 'listening'; port: number } | { type: 'failed'; code?: string; message: string };

async function serve(config: Readonly<Config>, port: number, relayTo: OriginStartMessage['liveRelay']): Promise<() => Promise<void>> {
  const log = createLogger(config.logLevel).child({ process: 'origin' });
  const { db, dialect } = openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    onPoolError: (err) => log.warn({ err, component: 'store' }, 'idle database connection lost'),
  });
  const policy = createStoragePolicy({
    roots: config.localStorageRoots,
    grants: config.localStorageGrants,
    allowPrivate: config.storageAllowPrivate,
    allowedHosts: config.storageAllowedHosts,
  });
  const box = new SecretBox(loadSecretKey(config));
  const stores = new AccountStores({
    accounts: new StorageAccountRepository(db),
    box,
    factory: blobStoreFactory(policy, { readOnly: true }),
    policy,
  });
  const liveEvents = new LiveEventRepository(db);
  const liveRelay = relayTo ? new LiveRelay({ targetUrl: relayTo.url, secret: relayTo.secret, load: () => liveEvents.listLiveTargets(), log }) : undefined;
  const app = createHttpServer(log);
  app.get('/health', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  let listenPort = port;
  // Host names are matched without their port, so the origin port's own host names and the main port's both pass.
  const { warmLookups } = registerPlayback(app, {
    config,
    db,
    dialect,
    stores,
    streamingDomain: () => config.streamingDomain ?? `localhost:${listenPort}`,
    protection: cachedProtectionLookup(new StoreProtectionLookup(db, box)),
    filters: cachedFilterLookup(new StoreFilterLookup(db)),
    cacheShare: config.originProcesses,
    ...(liveRelay ? { liveRelay } : {}),
  });
  const close = async () => {
    liveRelay?.close();
    await app.close();
    await stores.close();
    await db.destroy();
  };
  try {
    // The origin's code runs once before the first request does (see warm-up.ts).
    const warmUp = await warmUpOrigin({ app, segmentDurationSec: config.segmentDurationSec, localStore: scratchLocalStore, lookups: warmLookups });
    log.debug({ component: 'origin', warmUp }, 'origin warmed up');
    await liveRelay?.refresh();
    // reusePort (Linux SO_REUSEPORT): every sibling binds the same port and the kernel spreads connections.
    await app.listen({ port, host: config.host, reusePort: true } as FastifyListenOptions);
  } catch (err) {
    await close().catch(() => undefined);
    throw err;
  }
  collectWhenIdle(app.server);
  const address = app.server.address();
  listenPort = typeof address === 'object' && address ? address.port : port;
  process.send?.({ type: 'listening', port: listenPort } satisfies OriginChildMessage);
  return close;
}

/** An origin process that served nothing for this long is idle (longer than the buffer pool's 10 s idle trim). */
const idleCheckMs = 20_000;

/**
 * A full GC each time the process falls idle after serving (the warm-up collected its own garbage before listen).
 * V8 collects only when it allocates, so an idle process would otherwise keep mapped the segment buffers its
 * busiest moment left behind (the pool lets its idle ones go, but they are unmapped only when collected).
 */
function collectWhenIdle(server: Server): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return;
  let requests = 0;
  let seen = 0;
  let collected = 0;
  server.on('request', () => requests++);
  setInterval(() => {
    if (requests === seen && requests !== collected) {
      collected = requests;
      gc();
    }
    seen = requests;
  }, idleCheckMs).unref();
}

function main(): void {
  if (!process.send) {
    process.stderr.write('origin-main is started by Reel itself (REEL_ORIGIN_PROCESSES ≥ 2), not on its own\n');
    process.exit(2);
  }
  let stop: (() => Promise<void>) | undefined;
  let stopping = false;
  const exit = (code: number) => {
    if (stopping) return;
    stopping = true;
    // A stuck close must not keep an orphan alive.
    setTimeout(() => process.exit(code), 3000).unref();
    void (stop ?? (async () => undefined))()
      .catch(() => undefined)
      .finally(() => process.exit(code));
  };
  process.on('SIGTERM', () => exit(0));
  // Ctrl-C reaches the whole process group: the parent stops its children itself (SIGTERM), so it never sees one die early.
  process.on('SIGINT', () => undefined);
  // The parent is gone (exited, crashed or killed): an origin process never outlives it.
  process.on('disconnect', () => exit(0));
  process.once('message', (message: OriginStartMessage) => {
    serve(message.config, message.port, message.liveRelay).then(
      (close) => {
        stop = close;
      },
      (err: unknown) => {
        const e = err as NodeJS.ErrnoException;
        process.send?.({ type: 'failed', code: e.code, message: e.message ?? String(err) } satisfies OriginChildMessage, () => process.exit(1));
      },
    );
  });
}

main();
