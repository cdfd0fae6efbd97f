import type { AssetRow } from '../../../store/database.js';
import type { BlobStore, BlobInfo } from '../../../storage/blob-store.js';
import type { MediaFileInfo, MediaProber } from '../../../shared/media-probe.js';
import type { Logger } from '../../../shared/log.js';
import { ReelError } from '../../../shared/errors.js';
import { parseIsm, toMkioTracks } from '../../../shared/ism.js';
import { isTempBlobPath } from '../../../storage/storage-paths.js';

/** Files whose tracks are worth reading; anything else is listed with its size only. */
const mediaExtensions = /\.(mp4|m4v|m4a|mov|ismv|isma|cmfv|cmfa|mkv|webm|ts|mts|m2ts|mxf|mp3|aac|ac3|ec3|wav|flac|vtt|ttml|dfxp)$/i;
const maxManifestBytes = 4 * 1024 * 1024;
/** Probes run in parallel only this far: each is an ffprobe process. */
const probeConcurrency = 4;

export interface StorageListing {
  metadata: { id: string; name: string };
  spec: {
    /** Reel reads AMS-style containers, so this is always `ams.v0`. */
    formatHint: 'ams.v0';
    container: string;
    folders: Array<{ name: string }>;
    files: Array<{ name: string; size: number }>;
    tracks: Record<string, Record<string, unknown>>;
    /** Reel extension: tracks read from each media file (codec, bitrate, resolution, language, duration). */
    mediaInfo: Record<string, MediaFileInfo>;
    error: Record<string, string>;
  };
}

/** Remembers probe results per blob version (etag), so listing an asset twice probes nothing new. */
export class ProbeCache {
  private readonly entries = new Map<string, MediaFileInfo>();
  constructor(private readonly max = 5000) {}
  get(key: string): MediaFileInfo | undefined {
    return this.entries.get(key);
  }
  set(key: string, info: MediaFileInfo): void {
    if (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(key, info);
  }
}

async function readSmall(store: BlobStore, container: string, blob: BlobInfo): Promise<string> {
  const stream = await store.read(container, blob.name, { offset: 0, length: Math.min(blob.size, maxManifestBytes) });
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * `GET …/assets/{name}/storage/` (§7.4): the top level of the container (or subPath), the parsed `.ism`
 * manifests, and tracks read from the media files themselves. A file that can't be parsed is reported under
 * `error` and does not fail the listing.
 */
export async function listAssetStorage(options: {
  asset: AssetRow;
  store: BlobStore;
  accountId: string;
  prober: MediaProber;
  cache: ProbeCache;
  signedUrl: (blob: string) => string;
  log: Logger;
}): Promise<StorageListing> {
  const { asset, store } = options;
  const prefix = asset.sub_path ? `${asset.sub_path}/` : '';
  const listed = await store.list(asset.container, asset.sub_path ?? '');
  // Local hides its in-flight writes; a bucket may hold such names too, which no route reads.
  const listing = { folders: listed.folders.filter((f) => !isTempBlobPath(f)), blobs: listed.blobs.filter((b) => !isTempBlobPath(b.name)) };
  const relative = (name: string) => name.slice(prefix.length);
  const spec: StorageListing['spec'] = {
    formatHint: 'ams.v0',
    container: asset.container,
    folders: listing.folders.map((f) => ({ name: relative(f) })),
    files: listing.blobs.map((b) => ({ name: relative(b.name), size: b.size })),
    tracks: {},
    mediaInfo: {},
    error: {},
  };
  for (const blob of listing.blobs.filter((b) => /\.ism$/i.test(b.name))) {
    try {
      spec.tracks[relative(blob.name)] = toMkioTracks(parseIsm(await readSmall(store, asset.container, blob)));
    } catch (err) {
      spec.error[relative(blob.name)] = err instanceof Error ? err.message : 'unreadable manifest';
    }
  }
  const media = listing.blobs.filter((b) => mediaExtensions.test(b.name) && b.size > 0);
  let next = 0;
  const worker = async () => {
    while (next < media.length) {
      const blob = media[next++];
      const key = `${options.accountId}/${asset.container}/${blob.name}/${blob.etag}`;
      try {
        let info = options.cache.get(key);
        if (!info) {
          info = await options.prober.probe(options.signedUrl(blob.name));
          options.cache.set(key, info);
        }
        spec.mediaInfo[relative(blob.name)] = info;
      } catch (err) {
        spec.error[relative(blob.name)] = err instanceof ReelError ? err.detail : 'the file could not be read';
        if (!(err instanceof ReelError)) options.log.warn({ err, blob: blob.name }, 'probe failed');
      }
    }
  };
  await Promise.all(Array.from({ length: probeConcurrency }, worker));
  return { metadata: { id: asset.id, name: asset.name }, spec };
}

/**
 * The length of an asset's media in seconds: the longest stream of the media files `listAssetStorage` probes
 * (cached by file version), or undefined when none is readable.
 */
export async function assetMediaDurationSec(options: Parameters<typeof listAssetStorage>[0]): Promise<number | undefined> {
  const listing = await listAssetStorage(options);
  let longest: number | undefined;
  for (const info of Object.values(listing.spec.mediaInfo)) {
    for (const sec of [info.durationSec, ...info.tracks.map((t) => t.durationSec)])
      if (sec !== undefined && Number.isFinite(sec) && (longest === undefined || sec > longest)) longest = sec;
  }
  return longest;
}
