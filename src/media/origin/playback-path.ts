import { BadRequestError } from '../../shared/errors.js';
import {
  parseFragmentPath,
  parseManifestOptions,
  parseMediaPlaylistPath,
  type FragmentRequest,
  type ManifestOptions,
  type MediaPlaylistRequest,
} from '../packager/index.js';

/** What a playback URL after `/{locatorId}/` asks for. Manifest grammar lives with the manifest writers. */
export type PlaybackRequest =
  /** `{name}.ism/manifest(…)`, or `{name}.ism/manifest` (Smooth: `options.format` is `smooth`). */
  | { kind: 'manifest'; manifestName: string; options: ManifestOptions }
  | { kind: 'media-playlist'; manifestName: string; request: MediaPlaylistRequest }
  | { kind: 'fragment'; manifestName: string; request: FragmentRequest }
  | { kind: 'download'; fileName: string };

function bad(path: string, why: string): BadRequestError {
  return new BadRequestError('InvalidPlaybackPath', `Invalid playback path '${path.slice(0, 200)}': ${why}`);
}

/**
 * The file-extension aliases AMS accepted (§17.1): `manifest.m3u8` / `manifest(…).m3u8` is HLS and
 * `manifest.mpd` / `manifest(…).mpd` DASH, in the CMAF format MK.IO documents when `format=` is absent; with
 * `format=` the suffix must agree with it (400 otherwise).
 */
function withSuffix(path: string, options: ManifestOptions, suffix: string | undefined): ManifestOptions {
  if (suffix === undefined) return options;
  const hls = suffix.toLowerCase() === 'm3u8';
  if (options.format === 'smooth') return { ...options, format: hls ? 'm3u8-cmaf' : 'mpd-time-cmaf' };
  if (options.format.startsWith('m3u8') !== hls) throw bad(path, `format=${options.format} does not match the .${suffix} suffix`);
  return options;
}

/**
 * Routes the part of a playback URL after the locator id (percent-decoded once by the router) and rejects
 * path tricks (`..`, encoded separators, control characters) before anything reaches storage.
 */
export function parsePlaybackPath(path: string): PlaybackRequest {
  if (path.length === 0 || path.length > 2048) throw bad(path, 'empty or too long');
  // eslint-disable-next-line no-control-regex
  if (/[\\\u0000-\u001f]/.test(path) || /%(2f|5c|2e|00)/i.test(path)) throw bad(path, 'encoded separators and control characters are not allowed');
  const segments = path.split('/');
  if (segments.some((s) => s === '' || s === '.' || s === '..')) throw bad(path, 'empty, . and .. segments are not allowed');
  const ismAt = segments.findIndex((s) => /\.ism$/i.test(s));
  if (ismAt < 0) return { kind: 'download', fileName: path };
  if (ismAt !== 0) throw bad(path, 'the server manifest must be at the top of the asset');
  const manifestName = segments[0].slice(0, -4);
  const rest = segments.slice(1).join('/');
  const manifest = /^manifest(?:\(([^()]*)\))?(?:\.(m3u8|mpd))?$/i.exec(rest);
  if (manifest) return { kind: 'manifest', manifestName, options: withSuffix(path, parseManifestOptions(manifest[1] ?? ''), manifest[2]) };
  const playlist = parseMediaPlaylistPath(rest);
  if (playlist) return { kind: 'media-playlist', manifestName, request: playlist };
  const fragment = parseFragmentPath(rest);
  if (fragment) return { kind: 'fragment', manifestName, request: fragment };
  throw bad(path, `unknown resource '${rest.slice(0, 100)}'`);
}
