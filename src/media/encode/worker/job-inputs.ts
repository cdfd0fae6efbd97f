import type { BlobInfo } from '../../../storage/blob-store.js';
import type { IsmTracks } from '../../../shared/ism.js';

/** Containers that normally carry video (the source of an encode). */
const videoPattern = /\.(mp4|m4v|mov|mkv|webm|mxf|ts|mts|m2ts|mpg|mpeg|avi|wmv|flv|3gp|ismv|cmfv)$/i;
const audioPattern = /\.(m4a|mp3|aac|wav|flac|ac3|ec3|ogg|opus|isma|cmfa)$/i;
const renditionPattern = /\.(mp4|m4v|m4a|ismv|isma|cmfv|cmfa)$/i;
const textPattern = /\.(vtt|ttml|dfxp|srt)$/i;

const largestFirst = (a: BlobInfo, b: BlobInfo) => b.size - a.size || a.name.localeCompare(b.name);

/**
 * The files a job reads when its `JobInputAsset.files` is omitted or `["*"]`. An encoder takes one source: the
 * largest video file (so an AMS rendition set yields its top bitrate), else the largest audio file. The asset
 * converter takes every MP4 rendition (it writes its own `.ism`); the track inserter takes the side-loaded text
 * and audio files. Empty blobs are never inputs.
 */
export function pickInputFiles(blobs: readonly BlobInfo[], presetType: string): BlobInfo[] {
  const files = blobs.filter((b) => b.size > 0);
  if (/AssetConverterPreset$/.test(presetType)) {
    return files.filter((b) => renditionPattern.test(b.name)).sort((a, b) => a.name.localeCompare(b.name));
  }
  if (/TrackInserterPreset$/.test(presetType)) {
    return files.filter((b) => textPattern.test(b.name) || audioPattern.test(b.name)).sort((a, b) => a.name.localeCompare(b.name));
  }
  const video = files.filter((b) => videoPattern.test(b.name)).sort(largestFirst);
  if (video.length > 0) return [video[0]];
  const audio = files.filter((b) => audioPattern.test(b.name)).sort(largestFirst);
  return audio.length > 0 ? [audio[0]] : [];
}

/**
 * A `JobInputHttp` file as a URL: absolute names stand alone, relative ones are appended to `baseUri` (AMS
 * concatenates them, keeping a SAS query string of the base at the end).
 */
export function httpInputUrl(baseUri: string | undefined, file: string): string {
  if (/^https?:\/\//i.test(file) || baseUri === undefined) return file;
  const q = baseUri.indexOf('?');
  const base = q < 0 ? baseUri : baseUri.slice(0, q);
  const query = q < 0 ? '' : baseUri.slice(q);
  return `${base.replace(/\/+$/, '')}/${file.replace(/^\/+/, '')}${query}`;
}

/** The last path segment of a URL or blob path, decoded, for `{Basename}`-style output naming. */
export function fileNameOf(urlOrPath: string): string {
  const clean = urlOrPath.split(/[?#]/, 1)[0];
  const last = clean.split('/').filter(Boolean).pop() ?? 'input';
  try {
    return decodeURIComponent(last);
  } catch {
    return last;
  }
}

/**
 * The media files a server manifest names (video and audio `src`, each once, in order), as paths beside the
 * `.ism` itself: a job that names `clip.ism` reads the renditions it lists.
 */
export function ismSources(ism: IsmTracks, ismPath: string): string[] {
  const dir = ismPath.includes('/') ? ismPath.slice(0, ismPath.lastIndexOf('/') + 1) : '';
  const names = [...ism.body.video, ...ism.body.audio].map((t) => t.src).filter((src): src is string => typeof src === 'string' && src.length > 0);
  return [...new Set(names)].map((src) => `${dir}${src}`);
}
