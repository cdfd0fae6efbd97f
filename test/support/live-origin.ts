/**
 * The real origin (`registerOrigin`, with the real resolver over a migrated SQLite store and Local storage) behind a
 * test double of the live runtime (`LiveSource`, the seam the origin owns). The "recording" is a real MP4 made by
 * ffmpeg, built into a presentation by the origin's own PresentationBuilder; the double hands out that presentation
 * sliced to a DVR window, as the runtime does, and the store holds an archive asset (a copy of the same file in its
 * own container) that plays as VOD once the double stops answering.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { openDatabase, type Db } from '../../src/store/database.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import { StoreFilterLookup } from '../../src/store/filter-lookup.js';
import { LocalBlobStore } from '../../src/storage/drivers/local.js';
import { installErrorHandler } from '../../src/control/plugins/error-handler.js';
import { registerOrigin } from '../../src/media/origin/origin.js';
import { PlaybackResolver } from '../../src/media/origin/playback-resolver.js';
import { PresentationBuilder, type AssetLocation, type BuiltPresentation } from '../../src/media/origin/presentation-builder.js';
import type { LivePlayback, LiveSource } from '../../src/media/origin/live-source.js';
import type { ProtectionLookup } from '../../src/shared/content-protection.js';
import { insertProject } from './store-database.js';
import { makeMp4 } from '../fixtures/media.js';

/** The archive asset's id in the store (what `LiveSource.forAsset` is asked with). */
export const archiveAssetId = 'archive-asset';

/** Where the double's window stands: segments [end − windowSegments, end) of the recording, or nothing. */
export interface LivePosition {
  end: number;
  isEnded: boolean;
}

/**
 * `LiveSource` over one recording: `position()` says how far it has got (undefined: not recording, so the asset
 * plays from storage and the preview is gone). One presentation object per position, as a runtime keeps it
 * between segments.
 */
export class LiveDouble implements LiveSource {
  private current?: { key: string; playback: LivePlayback };

  constructor(
    private readonly whole: BuiltPresentation,
    private readonly location: AssetLocation,
    private readonly options: { availabilityStartMs: number; windowSegments: number; previewLocator: string; position: () => LivePosition | undefined },
  ) {}

  /** Segments in the whole recording. */
  get segments(): number {
    return this.whole.tracks[0].segments.length;
  }

  forAsset(assetId: string): LivePlayback | undefined {
    return assetId === archiveAssetId ? this.playback() : undefined;
  }

  forPreviewLocator(locatorId: string): LivePlayback | undefined {
    return locatorId === this.options.previewLocator ? this.playback() : undefined;
  }

  private playback(): LivePlayback | undefined {
    const position = this.options.position();
    if (!position) return undefined;
    const end = Math.min(position.end, this.segments);
    const key = `${this.options.availabilityStartMs}/${end}/${position.isEnded}`;
    if (this.current?.key === key) return this.current.playback;
    const from = Math.max(0, end - this.options.windowSegments);
    const segmentMs = this.whole.targetSegmentSec * 1000;
    const presentation: BuiltPresentation = {
      ...this.whole,
      tracks: this.whole.tracks.map((t) => ({ ...t, segments: t.segments.slice(from, end) })),
      live: {
        availabilityStartMs: this.options.availabilityStartMs,
        windowSec: (this.options.windowSegments * segmentMs) / 1000,
        publishedMs: this.options.availabilityStartMs + end * segmentMs,
        isEnded: position.isEnded,
      },
      etag: `"recording-${key}"`,
    };
    this.current = { key, playback: { presentation, location: this.location } };
    return this.current.playback;
  }
}

export interface LiveOrigin {
  /** `http://127.0.0.1:{port}`. */
  base: string;
  dir: string;
  whole: BuiltPresentation;
  recording: AssetLocation;
  videoBitrate: number;
  close(): Promise<void>;
}

export interface LiveOriginOptions {
  /** Length of the recording (ffmpeg testsrc2 + sine, 2 s GOPs). */
  seconds: number;
  /** Streaming locators of the archive asset. */
  locators: Array<{ name: string; locatorId: string; policy: string }>;
  /** The locators' content keys, given the project's id. */
  protection?: (projectId: string) => ProtectionLookup;
  live: (whole: BuiltPresentation, recording: AssetLocation) => LiveSource;
}

export async function startLiveOrigin(options: LiveOriginOptions): Promise<LiveOrigin> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reel-live-origin-'));
  // The archive in storage (what plays once recording ends) and the runtime's working copy it reads while live.
  for (const folder of ['archive', 'recording']) {
    fs.mkdirSync(path.join(dir, 'media', folder), { recursive: true });
    fs.copyFileSync(makeMp4({ seconds: options.seconds }), path.join(dir, 'media', folder, 'movie.mp4'));
  }
  let db: Db | undefined;
  let app: FastifyInstance | undefined;
  const store = new LocalBlobStore({ path: path.join(dir, 'media'), allowedRoots: [dir] });
  const close = async () => {
    await app?.close();
    await db?.destroy();
    await store.close?.();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    db = openDatabase({ dataDir: dir }).db;
    await migrateToLatest(db);
    const projectId = await insertProject(db, 'live');
    const now = new Date().toISOString();
    const audit = { created_at: now, created_by: 'a', updated_at: now, updated_by: 'a' };
    await db
      .insertInto('storage_accounts')
      .values({
        id: 'account',
        project_id: projectId,
        name: 'media',
        type: 'Local',
        description: '',
        location: 'local',
        config: '{}',
        ...audit,
        created_by_id: 'a',
        updated_by_id: 'a',
      })
      .execute();
    await db
      .insertInto('assets')
      .values({
        id: archiveAssetId,
        project_id: projectId,
        name: 'archive',
        storage_account_id: 'account',
        storage_account_name: 'media',
        container: 'archive',
        sub_path: null,
        description: '',
        alternate_id: null,
        container_deletion_policy: 'Retain',
        storage_encryption_format: 'None',
        labels: '{}',
        ...audit,
      })
      .execute();
    for (const l of options.locators) {
      await db
        .insertInto('streaming_locators')
        .values({
          id: l.name,
          project_id: projectId,
          name: l.name,
          locator_id: l.locatorId,
          asset_id: archiveAssetId,
          asset_name: 'archive',
          policy_name: l.policy,
          start_time: null,
          end_time: null,
          properties: '{}',
          ...audit,
        })
        .execute();
    }
    const builder = () => new PresentationBuilder({ segmentDurationSec: 2, indexCacheBytes: 16 * 1024 * 1024, presentationTtlMs: 60_000 });
    const recording: AssetLocation = { accountId: 'runtime', store, container: 'recording', prefix: '' };
    const whole = await builder().get(recording, 'manifest');
    app = Fastify();
    installErrorHandler(app);
    registerOrigin(app, {
      resolver: new PlaybackResolver(db, 'sqlite', options.protection?.(projectId)),
      builder: builder(),
      openAsset: async (asset) => ({ accountId: asset.storage_account_id, store, container: asset.container, prefix: asset.sub_path ?? '' }),
      streamingDomain: () => 'stream.test',
      segmentCacheBytes: 16 * 1024 * 1024,
      filters: new StoreFilterLookup(db),
      live: options.live(whole, recording),
    });
    const base = await app.listen({ port: 0, host: '127.0.0.1' });
    return { base, dir, whole, recording, videoBitrate: whole.tracks.find((t) => t.kind === 'video')!.bitrateBps, close };
  } catch (err) {
    await close();
    throw err;
  }
}
