import crypto from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Config } from './config/schema.js';
import type { Db, DialectName } from './store/database.js';
import type { AccountStores } from './storage/account-stores.js';
import { registerOrigin } from './media/origin/origin.js';
import { PlaybackResolver } from './media/origin/playback-resolver.js';
import { PresentationBuilder } from './media/origin/presentation-builder.js';
import { registerKeyDelivery } from './media/keys/key-delivery.js';
import { StreamMeter } from './media/origin/stream-meter.js';
import { UsageRepository } from './store/usage-repository.js';
import type { ProtectionLookup } from './shared/content-protection.js';
import type { FilterLookup } from './shared/filter-definitions.js';
import type { LiveSource } from './media/origin/live-source.js';
import type { LiveRelay } from './media/origin/live-relay.js';

const MB = 1024 * 1024;

/**
 * The playback routes, wired the same way in every process that serves them: the main process (`main.ts`) and
 * the origin-only processes (`origin-main.ts`). `cacheShare` divides the segment and index caches: N origin
 * processes each keep 1/N, so together they stay within the memory the operator gave the origin. Key delivery
 * (`/keydelivery/…`) is served wherever playback is, from `protection`.
 */
export function registerPlayback(
  app: FastifyInstance,
  deps: {
    config: Readonly<Config>;
    db: Db;
    dialect: DialectName;
    stores: AccountStores;
    streamingDomain: () => string;
    /** Locators' content keys and content key policies, for encryption and key delivery. */
    protection: ProtectionLookup;
    /** Asset and account filters by name, for dynamic manifests. */
    filters: FilterLookup;
    /** The live runtime (live outputs' assets and preview locators); absent where no live event can run. */
    live?: LiveSource;
    /** An origin process: what is live is relayed to the main process (see live-relay.ts). */
    liveRelay?: LiveRelay;
    /** The main process: the client address an origin process relayed for, for endpoint allow-lists. */
    clientAddress?: (req: FastifyRequest) => string;
    cacheShare?: number;
  },
): { warmLookups: () => Promise<void> } {
  const { config, stores } = deps;
  const share = deps.cacheShare ?? 1;
  const resolver = new PlaybackResolver(deps.db, deps.dialect, deps.protection);
  // Streamed bytes per endpoint, added to the usage table every few seconds and when the server closes.
  const usage = new UsageRepository(deps.db);
  const meter = new StreamMeter(
    (increments) => usage.addStreamed(increments),
    (err) => app.log.warn({ err, component: 'usage' }, 'could not record streamed bytes; keeping them for the next flush'),
  );
  app.addHook('onClose', async () => meter.close());
  registerOrigin(app, {
    meter,
    resolver,
    filters: deps.filters,
    ...(deps.live ? { live: deps.live } : {}),
    ...(deps.liveRelay ? { liveRelay: deps.liveRelay } : {}),
    ...(deps.clientAddress ? { clientAddress: deps.clientAddress } : {}),
    builder: new PresentationBuilder({
      segmentDurationSec: config.segmentDurationSec,
      indexCacheBytes: Math.floor((config.indexCacheMb * MB) / share),
      presentationTtlMs: 30_000,
    }),
    streamingDomain: deps.streamingDomain,
    segmentCacheBytes: Math.floor((config.segmentCacheMb * MB) / share),
    openAsset: async (asset) => {
      const store = await stores.openForPlayback(asset.storage_account_id);
      return { accountId: asset.storage_account_id, store, container: asset.container, prefix: asset.sub_path ?? '' };
    },
  });
  registerKeyDelivery(app, { lookup: deps.protection, addressPolicy: { allowPrivate: config.keyDeliveryAllowPrivate } });
  return {
    // The playback lookups (locator, asset, project, policy, endpoint, storage account) with ids nobody has.
    warmLookups: async () => {
      await resolver.warmUp();
      await stores.openForPlayback(crypto.randomUUID()).catch(() => undefined);
    },
  };
}
