import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { BlobStore } from '../../storage/blob-store.js';
import { BufferPool } from '../../shared/buffer-pool.js';
import { synthesizedManifestName } from '../../shared/asset-layout.js';
import { createManifestContext, outputFormats, peakSegmentBitrateBps, readMp4Index, segmentTracks } from '../packager/index.js';
import { PresentationBuilder, type AssetLocation } from './presentation-builder.js';
import { readPlan, readSourceRanges } from './read-plan.js';
import { buildWarmUpMp4, type WarmUpMediaOptions } from './warm-up-media.js';

export interface WarmUpResult {
  ms: number;
  /** Presentations built (each a full parse and segmentation). */
  presentations: number;
  /** Manifests, playlists and segments written. */
  outputs: number;
  /** Status of each request injected through the server (404s: an unknown locator). */
  injected: number[];
  /** What stopped it early, if anything. */
  error?: string;
}

export interface WarmUpOptions {
  /** The server with the origin registered: requests are injected through its routing and error handling. */
  app?: FastifyInstance;
  segmentDurationSec: number;
  /** A Local driver over `dir` (main.ts names the drivers): the warm-up reads its file through it as the origin reads assets. */
  localStore: (dir: string) => BlobStore;
  /** Parses and segmentations of each file in memory; default 10 (V8 optimises the parser's loops over the first few). */
  parseRounds?: number;
  /** Passes through the store, the presentation builder, every manifest writer and segment muxer; default 2. */
  rounds?: number;
  /** The playback lookups run with ids nobody has (`registerPlayback`'s `warmLookups`): the database path. */
  lookups?: () => Promise<void>;
}

/** The file shapes real MP4s come in: with and without B-frames, 32- and 64-bit chunk offsets. */
const shapes: WarmUpMediaOptions[] = [{ ctts: false }, { ctts: true, co64: true }];

/**
 * Runs the origin's code once before the server listens, so the first real request does not pay for V8's lazy
 * compilation and unoptimised loops: a small MP4 built in memory (written to a temporary directory) goes through
 * the Local driver, the presentation builder (parse, segmentation), every format's manifest writer and segment
 * muxer and the read plans, several times; then requests for an unknown locator go through the server's routing,
 * the resolver and the error handler. Everything it builds is its own (builder, buffer pool, store) and dropped
 * afterwards; the only state it leaves is the resolver's brief memory of locators that do not exist. Never throws:
 * a failed warm-up only means a slower first request.
 */
export async function warmUpOrigin(options: WarmUpOptions): Promise<WarmUpResult> {
  const started = performance.now();
  const result: WarmUpResult = { ms: 0, presentations: 0, outputs: 0, injected: [] };
  let dir: string | undefined;
  let store: BlobStore | undefined;
  try {
    const tmp = (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reel-warm-up-')));
    store = options.localStore(tmp);
    // Buffers, as the drivers return: V8 optimises for the object shapes it has seen.
    const files = shapes.map((shape) => Buffer.from(buildWarmUpMp4(shape)));
    // Offsets and sizes beyond 4 GiB (numbers that are not small integers), parsed only: nothing reads its media.
    const big = 2 ** 32;
    const parsed = [
      ...files.map((bytes) => ({ bytes, size: bytes.length })),
      { bytes: Buffer.from(buildWarmUpMp4({ co64: true, offsetBase: big })), size: 2 * big },
    ];
    // The index and segment tables: the loops that cost most on a never-seen asset, in memory, until optimised.
    for (let round = 0; round < (options.parseRounds ?? 10); round++) {
      for (const { bytes, size } of parsed) {
        const index = await readMp4Index(size, (offset, length) => Promise.resolve(bytes.subarray(offset, offset + length)));
        const lists = segmentTracks(index.tracks, options.segmentDurationSec);
        index.tracks.forEach((t, i) => peakSegmentBitrateBps(t, lists[i]));
      }
    }
    files.forEach((bytes, i) => {
      fs.mkdirSync(path.join(tmp, `warm-up-${i}`));
      fs.writeFileSync(path.join(tmp, `warm-up-${i}`, 'movie.mp4'), bytes);
    });
    const pool = new BufferPool({ maxPooledBytes: 1024 * 1024 });
    const rounds = options.rounds ?? 2;
    for (let round = 0; round < rounds; round++) {
      for (let i = 0; i < shapes.length; i++) {
        // A new builder each time: its caches would otherwise answer every round after the first.
        const builder = new PresentationBuilder({
          segmentDurationSec: options.segmentDurationSec,
          indexCacheBytes: 16 * 1024 * 1024,
          presentationTtlMs: 60_000,
        });
        const loc: AssetLocation = { accountId: 'warm-up', store, container: `warm-up-${i}`, prefix: '' };
        const p = await builder.get(loc, synthesizedManifestName);
        result.presentations++;
        for (const row of Object.values(outputFormats)) {
          const ctx = createManifestContext(row.format);
          row.manifests.manifest(p, ctx);
          result.outputs++;
          for (const track of p.tracks) {
            void track.peakBitrateBps;
            if (row.manifests.mediaPlaylist) {
              row.manifests.mediaPlaylist(p, track, ctx);
              result.outputs++;
            }
            // The first segment, one in the middle and the last: what a player's start and seek ask for.
            const n = track.segments.length;
            for (const k of new Set([0, n >> 1, n - 1])) {
              const segment = track.segments.at(k);
              const muxer = row.segments;
              if (muxer.container === 'ts') {
                const plan = muxer.plan(track.track, segment);
                muxer.write(track.track, segment, plan, await readSourceRanges(loc, 'movie.mp4', plan.ranges));
              } else {
                if (k === 0) muxer.init(track.track);
                const body = await readPlan(loc, 'movie.mp4', muxer.plan(track.track, segment), muxer.contentType(track.kind), pool);
                body.retain();
                body.releaseRef();
              }
              result.outputs++;
            }
          }
        }
      }
    }
    for (let i = 0; i < 3 && options.lookups; i++) await options.lookups();
    if (options.app) {
      // A random locator nobody has: routing, the GUID check, the resolver's database lookup, the 404.
      const locator = crypto.randomUUID();
      // Its 404s are not traffic: kept out of the log (nothing else is served before listen).
      const level = options.app.log.level;
      options.app.log.level = 'warn';
      try {
        for (const url of [
          `/${locator}/manifest.ism/manifest(format=m3u8-cmaf)`,
          `/${locator}/manifest.ism/QualityLevels(1000)/Fragments(video=0,format=m3u8-cmaf)`,
        ]) {
          for (let i = 0; i < 3; i++) result.injected.push((await options.app.inject({ method: 'GET', url })).statusCode);
        }
      } finally {
        options.app.log.level = level;
      }
    }
  } catch (err) {
    // Best effort: whatever did not run simply stays cold.
    result.error = err instanceof Error ? err.message : String(err);
  } finally {
    await store?.close?.().catch(() => undefined);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  }
  // The warm-up's garbage collected now, not by the first request (a major GC of ~40 ms seen there otherwise);
  // the origin processes run with --expose-gc for this.
  (globalThis as { gc?: () => void }).gc?.();
  result.ms = performance.now() - started;
  return result;
}
