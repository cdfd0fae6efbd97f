import type { BlobInfo, BlobStore } from '../../storage/blob-store.js';
import { parseIsm } from '../../shared/ism.js';
import { isMp4Name, synthesizedManifestName } from '../../shared/asset-layout.js';
import { MediaError, NotFoundError } from '../../shared/errors.js';
import { WeightedLru, SingleFlight } from '../../shared/lru.js';
import { TtlCache } from '../../shared/ttl-cache.js';
import {
  SegmentList,
  peakSegmentBitrateBps,
  readMp4Index,
  segmentTracks,
  type MediaIndex,
  type Presentation,
  type PresentationTrack,
  type SidecarTextTrack,
  type TrackIndex,
  type TrackKind,
} from '../packager/index.js';
import { hashText } from './text-hash.js';

/** Where an asset's files are: a driver, a container and an optional folder inside it. */
export interface AssetLocation {
  /** Identifies the storage account (cache keys). */
  accountId: string;
  store: BlobStore;
  container: string;
  /** Folder inside the container, without slashes at either end, or '' for the root. */
  prefix: string;
}

/** A presentation plus what the origin needs to fetch its bytes. */
export interface BuiltPresentation extends Presentation {
  /** Source file name → blob info, for ranged reads and ETags. */
  files: Map<string, BlobInfo>;
  /** A validator that changes whenever any source file changes. */
  etag: string;
}

interface Entry {
  kind: TrackKind;
  src: string;
  bitrate?: number;
  language?: string;
  trackId?: number;
  trackName?: string;
}

const blobPath = (loc: AssetLocation, name: string) => (loc.prefix ? `${loc.prefix}/${name}` : name);

/** Approximate memory of a parsed index: its sample tables dominate. */
function indexWeight(index: MediaIndex): number {
  let bytes = 1024;
  for (const t of index.tracks) bytes += t.samples.memoryBytes + t.sampleEntry.length + 256;
  return bytes;
}

function presentationWeight(p: BuiltPresentation): number {
  let bytes = 4096;
  const seen = new Set<TrackIndex>();
  for (const t of p.tracks) {
    bytes += t.segments.byteLength + 512;
    if (seen.has(t.track)) continue;
    seen.add(t.track);
    bytes += t.track.samples.memoryBytes + t.track.sampleEntry.length;
  }
  return bytes;
}

/**
 * Builds presentations from asset containers: parses the `.ism` (or takes every MP4 when the container has
 * none), reads each referenced MP4's index once (moov only, through ranged reads) and cuts aligned segments.
 * MP4 indexes are cached by blob version in a bounded LRU; presentations for a short time.
 */
export class PresentationBuilder {
  private readonly indexes: WeightedLru<string, MediaIndex>;
  /**
   * Presentations hold their tracks' sample tables (shared with `indexes` while both keep them) and segment
   * lists, so they are weighed the same way and get the same byte budget: memory stays within twice
   * `indexCacheBytes` even when the two caches hold different assets.
   */
  private readonly presentations: TtlCache<string, BuiltPresentation>;
  private readonly flights = new SingleFlight<string, unknown>();

  constructor(private readonly options: { segmentDurationSec: number; indexCacheBytes: number; presentationTtlMs: number }) {
    this.indexes = new WeightedLru(options.indexCacheBytes, indexWeight);
    this.presentations = new TtlCache({ ttlMs: options.presentationTtlMs, max: options.indexCacheBytes, weigh: presentationWeight });
  }

  async get(loc: AssetLocation, manifestName: string): Promise<BuiltPresentation> {
    const key = `${loc.accountId}/${loc.container}/${loc.prefix}/${manifestName}`;
    // An expired entry is dropped by get: its tables go even if the rebuild fails.
    const hit = this.presentations.get(key);
    if (hit) return hit;
    return this.flights.run(`p:${key}`, async () => {
      const value = await this.build(loc, manifestName);
      this.presentations.set(key, value);
      return value;
    }) as Promise<BuiltPresentation>;
  }

  /** Forgets cached presentations (e.g. after an asset's files changed). */
  clear(): void {
    this.presentations.clear();
  }

  private async build(loc: AssetLocation, manifestName: string): Promise<BuiltPresentation> {
    const listing = await loc.store.list(loc.container, loc.prefix);
    const strip = loc.prefix ? loc.prefix.length + 1 : 0;
    const files = new Map(listing.blobs.map((b) => [b.name.slice(strip), b]));
    const { entries, text } = await this.entries(loc, files, manifestName);
    if (entries.length === 0) throw new MediaError(404, 'NoStreamableTracks', `Server manifest '${manifestName}.ism' names no playable track`);

    const tracks: PresentationTrack[] = [];
    for (const entry of entries) {
      const info = files.get(entry.src);
      if (!info) throw new MediaError(404, 'SourceNotFound', `File '${entry.src}' named by '${manifestName}.ism' not found`);
      const index = await this.index(loc, entry.src, info);
      const track =
        (entry.trackId !== undefined ? index.tracks.find((t) => t.trackId === entry.trackId && t.kind === entry.kind) : undefined) ??
        index.tracks.find((t) => t.kind === entry.kind);
      if (!track) continue;
      tracks.push({
        name: entry.trackName ?? defaultTrackName(track),
        kind: track.kind,
        bitrateBps: entry.bitrate && entry.bitrate > 0 ? entry.bitrate : Math.max(1, Math.round(track.bitrateBps)),
        language: entry.language ?? track.language ?? 'und',
        sourceFile: entry.src,
        track,
        segments: SegmentList.from([]),
      });
    }
    if (!tracks.some((t) => t.kind === 'video' || t.kind === 'audio')) {
      throw new MediaError(415, 'NoStreamableTracks', `No audio or video track could be read for '${manifestName}'`);
    }
    dedupeNames(tracks);
    const segmented = segmentTracks(
      tracks.map((t) => t.track),
      this.options.segmentDurationSec,
    );
    tracks.forEach((t, i) => {
      t.segments = segmented[i];
      // Walking every sample's size costs a segment request nothing it needs: measured when a manifest asks.
      let peak: number | undefined;
      Object.defineProperty(t, 'peakBitrateBps', { enumerable: true, get: () => (peak ??= peakSegmentBitrateBps(t.track, t.segments)) });
    });
    // Text tracks are cut on the audio/video timeline and end with it (a TTML document may run longer).
    const durationSec = Math.max(...tracks.filter((t) => t.kind !== 'text').map((t) => t.track.durationTicks / t.track.timescale));
    const used = [...new Set(tracks.map((t) => t.sourceFile))].sort();
    const etag = `"${hashText(used.map((f) => `${f}:${files.get(f)?.etag}`).join('|'))}"`;
    const textTracks = sidecarTextTracks(text.filter((t) => files.has(t.src)));
    return { durationSec, targetSegmentSec: this.options.segmentDurationSec, tracks, textTracks, files, etag };
  }

  /** The renditions: from `{name}.ism`, or every track of every MP4 when the container has no `.ism`. */
  private async entries(loc: AssetLocation, files: Map<string, BlobInfo>, manifestName: string): Promise<{ entries: Entry[]; text: Entry[] }> {
    const ismName = `${manifestName}.ism`;
    const ism = [...files.keys()].find((n) => n.toLowerCase() === ismName.toLowerCase());
    if (ism) {
      const text = await readText(loc, ism, files.get(ism) as BlobInfo);
      let parsed;
      try {
        parsed = parseIsm(text);
      } catch (err) {
        throw new MediaError(422, 'CorruptServerManifest', `Server manifest '${ism}' could not be read: ${(err as Error).message}`, { cause: err });
      }
      const out: Entry[] = [];
      for (const kind of ['video', 'audio', 'textstream'] as const) {
        for (const item of parsed.body[kind]) {
          if (!item.src) continue;
          const trackId = item.trackID !== undefined && /^\d+$/.test(item.trackID) ? Number(item.trackID) : undefined;
          const bitrate = item.systemBitrate && /^\d+$/.test(item.systemBitrate) ? Number(item.systemBitrate) : undefined;
          out.push({ kind: kind === 'textstream' ? 'text' : kind, src: item.src, bitrate, language: item.systemLanguage, trackId, trackName: item.trackName });
        }
      }
      // Text from the .ism: a side-loaded WebVTT file is offered whole; a text track inside an MP4 (`stpp`, `wvtt`)
      // is a track with segments like audio and video.
      const sidecar = (e: Entry) => e.kind === 'text' && /\.vtt$/i.test(e.src);
      return { entries: out.filter((e) => !sidecar(e)), text: out.filter(sidecar) };
    }
    const hasIsm = [...files.keys()].some((n) => /\.ism$/i.test(n));
    if (hasIsm || manifestName !== synthesizedManifestName) throw new NotFoundError('NotFound', `Server manifest '${ismName}' not found`);
    const out: Entry[] = [];
    for (const name of [...files.keys()].filter(isMp4Name).sort()) {
      const info = files.get(name) as BlobInfo;
      const index = await this.index(loc, name, info);
      for (const t of index.tracks) out.push({ kind: t.kind, src: name, trackId: t.trackId });
    }
    const text = [...files.keys()]
      .filter((n) => /\.vtt$/i.test(n))
      .sort()
      .map((src): Entry => ({ kind: 'text', src, language: /[._-]([a-z]{3})\.vtt$/i.exec(src)?.[1]?.toLowerCase() }));
    return { entries: out, text };
  }

  /** The MP4 index of one file version, parsed once and shared by concurrent requests. */
  async index(loc: AssetLocation, name: string, info: BlobInfo): Promise<MediaIndex> {
    const key = `${loc.accountId}/${loc.container}/${blobPath(loc, name)}@${info.etag}`;
    const cached = this.indexes.get(key);
    if (cached) return cached;
    return this.flights.run(`i:${key}`, async () => {
      const index = await readMp4Index(info.size, (offset, length) => readRange(loc, blobPath(loc, name), offset, length, info.etag));
      this.indexes.set(key, index);
      return index;
    }) as Promise<MediaIndex>;
  }
}

/** Names side-loaded subtitles uniquely (`sub_eng`, `sub_eng_2`…) unless the `.ism` named them. */
function sidecarTextTracks(entries: Entry[]): SidecarTextTrack[] {
  const seen = new Set<string>();
  return entries.map((e) => {
    const language = e.language ?? 'und';
    const base = (e.trackName ?? `sub_${language}`).replace(/[^A-Za-z0-9_.-]/g, '_');
    let name = base;
    for (let n = 2; seen.has(name); n++) name = `${base}_${n}`;
    seen.add(name);
    return { name, language, sourceFile: e.src };
  });
}

function defaultTrackName(track: TrackIndex): string {
  if (track.kind === 'video') return 'video';
  if (track.kind === 'audio') return `audio_${track.language || 'und'}_${track.audio?.channels ?? 2}`;
  return `text_${track.language || 'und'}`;
}

/** Segment URLs carry (bitrate, name): make every pair unique. */
function dedupeNames(tracks: PresentationTrack[]): void {
  const seen = new Set<string>();
  for (const t of tracks) {
    let name = t.name.replace(/[^A-Za-z0-9_.-]/g, '_');
    let n = 1;
    while (seen.has(`${t.bitrateBps}/${name}`)) name = `${t.name}_${++n}`;
    t.name = name;
    seen.add(`${t.bitrateBps}/${name}`);
  }
}

const maxManifestBytes = 4 * 1024 * 1024;

async function readText(loc: AssetLocation, name: string, info: BlobInfo): Promise<string> {
  if (info.size > maxManifestBytes) throw new MediaError(422, 'CorruptServerManifest', `Server manifest '${name}' is larger than 4 MiB`);
  if (info.size === 0) return '';
  return Buffer.from(await readRange(loc, blobPath(loc, name), 0, info.size, info.etag)).toString('utf8');
}

/** Reads `length` bytes at `offset` through the driver into one buffer (fewer when the file ends first). */
export async function readRange(loc: AssetLocation, blob: string, offset: number, length: number, etag?: string): Promise<Uint8Array> {
  const target = Buffer.allocUnsafe(length);
  const n = await loc.store.readInto(loc.container, blob, offset, target, { etag });
  return n === length ? target : target.subarray(0, n);
}
