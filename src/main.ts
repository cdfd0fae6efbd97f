import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { loadConfig, ConfigError, originPortOf } from './config/load.js';
import type { Config } from './config/schema.js';
import { createLogger, type Logger } from './shared/log.js';
import { loadSecretKey } from './config/secret-key.js';
import { SecretBox } from './shared/secret-box.js';
import { openDatabase, type Db } from './store/database.js';
import { migrateToLatest } from './store/migrate.js';
import { AccountRepository } from './store/account-repository.js';
import { AssetRepository } from './store/asset-repository.js';
import { StorageAccountRepository } from './store/storage-account-repository.js';
import { AccountStores } from './storage/account-stores.js';
import { FileGrants } from './storage/file-grants.js';
import { createStoragePolicy } from './storage/storage-policy.js';
import { blobStoreFactory, scratchLocalStore } from './blob-store-factory.js';
import { AccountService } from './control/auth/account-service.js';
import { TokenService } from './control/auth/token-service.js';
import { SessionService } from './control/auth/session-service.js';
import { loadSigningKeys } from './control/auth/signing-keys.js';
import { StorageAccountService } from './control/resources/storage/service.js';
import { firstBoot } from './control/first-boot.js';
import { buildControlPlane } from './control/app.js';
import { FfprobeProber } from './media/probe/ffprobe-prober.js';
import { registerPlayback } from './origin-plane.js';
import { StoreFilterLookup, cachedFilterLookup } from './store/filter-lookup.js';
import { cachedProtectionLookup, StoreProtectionLookup } from './store/protection-lookup.js';
import { OriginProcesses } from './origin-processes.js';
import { warmUpOrigin } from './media/origin/warm-up.js';
import { endpointHost } from './shared/endpoint-host.js';
import { createJobQueue } from './queue/create-job-queue.js';
import { FfmpegEncodeEngine } from './media/encode/ffmpeg/ffmpeg-encode-engine.js';
import { JobRunner } from './media/encode/worker/job-runner.js';
import { WebhookDispatcher } from './control/webhooks/dispatcher.js';
import { checkFfmpeg } from './media/encode/ffmpeg/job-ffmpeg-check.js';
import { createLivePlane } from './live-plane.js';
import { createRelaySecret, relayedClientAddress } from './media/origin/live-relay.js';
import type { LiveEventControl } from './control/resources/live-events/live-event-control.js';
import { unwiredLiveControl } from './control/resources/live-events/unwired-live-control.js';

export interface RunningReel {
  app: FastifyInstance;
  /** Where the server listens, e.g. http://127.0.0.1:8080. */
  url: string;
  /** Where playback is served: the origin processes' shared port with REEL_ORIGIN_PROCESSES ≥ 2 (e.g. http://127.0.0.1:8081), else `url`. */
  originUrl: string;
  /** Process ids of the origin-only processes listening now (none with REEL_ORIGIN_PROCESSES = 1). */
  originPids(): number[];
  db: Db;
  config: Readonly<Config>;
  /** Set on the first start only, when no admin password was configured. */
  generatedAdminPassword?: string;
  close(): Promise<void>;
}

/** `host:port` of a URL, the port written out even when it is the scheme's default. */
function hostWithPort(raw: string): string {
  const url = new URL(raw);
  return `${url.hostname}:${url.port || (url.protocol === 'https:' ? 443 : 80)}`;
}

/** Composition root: config → logger → store → storage → control plane. Used by `npm start` and by the tests. */
export async function startReel(config: Readonly<Config>, log: Logger): Promise<RunningReel> {
  fs.mkdirSync(config.dataDir, { recursive: true });
  for (const root of config.localStorageRoots) fs.mkdirSync(root, { recursive: true });
  const { db, dialect } = openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    onPoolError: (err) => log.warn({ err, component: 'store' }, 'idle database connection lost'),
  });
  const roles = new Set(config.roles);
  // A worker that can't run ffmpeg would fail every job: refuse to start instead, saying what to fix.
  if (roles.has('worker'))
    await checkFfmpeg(config.ffmpegPath).catch(async (err: unknown) => {
      await db.destroy();
      throw err;
    });
  await migrateToLatest(db);

  const secretKey = loadSecretKey(config);
  const secretBox = new SecretBox(secretKey);
  const grants = new FileGrants(secretKey);
  const policy = createStoragePolicy({
    roots: config.localStorageRoots,
    grants: config.localStorageGrants,
    allowPrivate: config.storageAllowPrivate,
    allowedHosts: config.storageAllowedHosts,
  });
  const storageAccounts = new StorageAccountRepository(db);
  const stores = new AccountStores({ accounts: storageAccounts, box: secretBox, factory: blobStoreFactory(policy), policy });

  const accounts = new AccountService(db);
  const keys = await loadSigningKeys(db);
  const tokens = new TokenService(db, keys);
  const sessions = new SessionService(db, secretBox);
  const storage = new StorageAccountService(storageAccounts, stores, secretBox, policy.address, {
    projects: new AccountRepository(db),
    assets: new AssetRepository(db, dialect),
  });
  const boot = await firstBoot(
    { accounts, storage },
    {
      adminEmail: config.adminEmail,
      adminPassword: config.adminPassword,
      localStorageRoot: config.localStorageRoots[0],
    },
  );

  let listenUrl = '';
  const queue = createJobQueue(db, dialect, { leaseMs: config.jobLeaseSec * 1000 });
  const engine = new FfmpegEncodeEngine({
    ffmpegPath: config.ffmpegPath,
    ffprobePath: config.ffprobePath,
    log,
    x264Preset: config.x264Preset,
    httpTimeoutSec: config.jobHttpTimeoutSec,
    ...(config.jobMaxInputMb !== undefined ? { maxInputBytes: config.jobMaxInputMb * 1024 * 1024 } : {}),
  });
  let runner: JobRunner | undefined;
  let origins: OriginProcesses | undefined;
  // Endpoint host names point players at the origin processes when there are some (ports are ignored when a
  // request's host is matched, so the main port keeps serving the same names).
  const streamingDomain = () => config.streamingDomain ?? `localhost:${origins?.port ?? new URL(listenUrl).port}`;
  let warmLookups: (() => Promise<void>) | undefined;
  // Live events run where the API that starts them and the origin that plays them are (one process: the
  // default). A process with only one of the two roles answers live starts with an error instead.
  const ingestHost = () => new URL(config.publicUrl ?? listenUrl).hostname;
  const live = roles.has('api') && roles.has('origin') ? createLivePlane({ config, db, dialect, stores, log, ingestHost }) : undefined;
  const liveEventControl: LiveEventControl = live?.runtime ?? unwiredLiveControl({ ingestHost });
  // Origin processes have no live runtime: they relay live playback here, vouching for the client with this secret.
  const relaySecret = live && config.originProcesses > 1 ? createRelaySecret() : undefined;
  const app = await buildControlPlane({
    log,
    db,
    dialect,
    accounts,
    tokens,
    sessions,
    keys,
    box: secretBox,
    storage,
    stores,
    grants,
    presets: engine,
    queue,
    serveApi: roles.has('api'),
    webhookPolicy: { allowPrivate: config.webhookAllowPrivate },
    serveOrigin: roles.has('origin'),
    jobNotifications: { submitted: () => runner?.notifySubmitted(), cancelRequested: (jobId) => runner?.notifyCancel(jobId) },
    prober: new FfprobeProber(config.ffprobePath),
    publicUrl: () => (config.publicUrl ?? listenUrl).replace(/\/+$/, ''),
    internalUrl: () => listenUrl,
    secureCookies: (config.publicUrl ?? '').startsWith('https:'),
    endpointHostName: (endpoint, project) => endpointHost(endpoint, project, streamingDomain()),
    streamingDomain,
    ingestDomain: () => config.streamingDomain,
    liveControl: liveEventControl,
    // RTMPS events only where the live runtime runs with a certificate for its RTMPS listener.
    rtmpsAvailable: live !== undefined && config.liveRtmpsCertFile !== undefined && config.liveRtmpsKeyFile !== undefined,
    registerMediaPlane: async (server) => {
      warmLookups = registerPlayback(server, {
        config,
        db,
        dialect,
        stores,
        streamingDomain,
        protection: cachedProtectionLookup(new StoreProtectionLookup(db, secretBox)),
        filters: cachedFilterLookup(new StoreFilterLookup(db)),
        ...(live ? { live: live.runtime } : {}),
        ...(relaySecret ? { clientAddress: relayedClientAddress(relaySecret) } : {}),
      }).warmLookups;
    },
  });
  // The origin's code runs once before the first request does (see warm-up.ts).
  if (roles.has('origin')) {
    const warmUp = await warmUpOrigin({ app, segmentDurationSec: config.segmentDurationSec, localStore: scratchLocalStore, lookups: warmLookups });
    log.debug({ component: 'origin', warmUp }, 'origin warmed up');
  }
  await app.listen({ port: config.port, host: config.host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host.includes(':') ? `[${config.host}]` : config.host;
  listenUrl = `http://${host}:${port}`;
  await live?.start().catch(async (err: unknown) => {
    await live.close();
    await app.close();
    await queue.close();
    await stores.close();
    await db.destroy();
    throw err;
  });

  if (config.originProcesses > 1) {
    // After migrations (the children never migrate) and before this process reports itself running.
    origins = await OriginProcesses.start({
      config,
      port: originPortOf(config),
      log,
      ...(relaySecret ? { liveRelay: { url: listenUrl, secret: relaySecret } } : {}),
    }).catch(async (err: unknown) => {
      // The live runtime started above (its RTMP listener would keep a failed start's process alive).
      await live?.close();
      await app.close();
      await queue.close();
      await stores.close();
      await db.destroy();
      throw err;
    });
  }

  // Webhook deliveries leave from every API process; leases keep them from sending one event twice.
  const webhooks = roles.has('api')
    ? new WebhookDispatcher({
        db,
        box: secretBox,
        policy: { allowPrivate: config.webhookAllowPrivate },
        log,
        retryBaseMs: config.webhookRetryBaseMs,
        maxAttempts: config.webhookMaxAttempts,
      })
    : undefined;
  webhooks?.start();

  if (roles.has('worker')) {
    // ffmpeg reads job inputs through this process's own signed /files route, served whatever the roles.
    runner = new JobRunner({
      db,
      dialect,
      queue,
      engine,
      log,
      workRoot: config.workDir,
      concurrency: config.workerConcurrency,
      leaseSec: config.jobLeaseSec,
      openStore: (accountId) => stores.open(accountId),
      // Reel's own signed URLs are fine wherever Reel listens; other private addresses are refused.
      httpInputPolicy: {
        allowPrivate: config.jobHttpAllowPrivate,
        // With the port always written out: an allow-list entry without a port would admit every port of the host.
        allowedHosts: [listenUrl, ...(config.publicUrl ? [config.publicUrl] : [])].map(hostWithPort),
      },
      httpTimeoutSec: config.jobHttpTimeoutSec,
      ...(config.jobMaxInputMb !== undefined ? { maxInputBytes: config.jobMaxInputMb * 1024 * 1024 } : {}),
      signedReadUrl: (accountId, container, blob, lifetimeSec) =>
        grants.signedUrl(listenUrl, { a: accountId, c: container, p: blob, m: 'r', e: Math.floor(Date.now() / 1000) + lifetimeSec }),
    });
    await runner.start().catch(async (err: unknown) => {
      await webhooks?.stop();
      await live?.close();
      await origins?.close();
      await app.close();
      await db.destroy();
      throw err;
    });
  }

  return {
    app,
    url: listenUrl,
    originUrl: origins ? `http://${host}:${origins.port}` : listenUrl,
    originPids: () => origins?.pids() ?? [],
    db,
    config,
    generatedAdminPassword: boot.generatedAdminPassword,
    async close() {
      // Running jobs are stopped and their leases given back before the server they read from goes away.
      await runner?.stop();
      await webhooks?.stop();
      await live?.close();
      await origins?.close();
      await app.close();
      await queue.close();
      await stores.close();
      await db.destroy();
    },
  };
}

async function main(): Promise<void> {
  let config: Readonly<Config>;
  try {
    config = loadConfig();
  } catch (err) {
    process.stderr.write(`${err instanceof ConfigError ? err.message : String(err)}\n`);
    process.exit(2);
  }
  const log = createLogger(config.logLevel);
  const reel = await startReel(config, log);
  const url = config.publicUrl ?? reel.url;
  const lines = [
    '',
    `Reel is running at ${url}`,
    `  Console:   ${url}/ (sign in in the browser)`,
    `  API docs:  ${url}/doc/ui`,
    `  Sign in:   ${config.adminEmail}` +
      (reel.generatedAdminPassword ? ` / ${reel.generatedAdminPassword}  (generated now, shown once)` : ' (password as configured or printed on first start)'),
    `  Token:     sign in (POST ${url}/auth/login), then open ${url}/auth/token/`,
    ...(config.originProcesses > 1 ? [`  Playback:  ${reel.originUrl} (${config.originProcesses} origin processes; ${reel.url} serves it too)`] : []),
    ...(config.roles.length < 3
      ? [`  Roles:     ${config.roles.join(', ')}${config.roles.includes('api') ? '' : ' (no API here: sign in on an api process)'}`]
      : []),
    '',
  ];
  process.stdout.write(lines.join('\n') + '\n');
  const stop = async () => {
    await reel.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

// Run only as the entry point itself (src/main.ts or dist/main.js), not when bundled into another program.
if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1]) && /^main\.[jt]s$/.test(path.basename(process.argv[1]))) {
  main().catch((err: unknown) => {
    process.stderr.write(`Reel failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
