import type { FastifyInstance } from 'fastify';
import { predefinedPolicies } from '../../shared/streaming-policies.js';
import type { ManifestEncryption, OutputFormat } from '../packager/index.js';
import type { LivePlayback } from './live-source.js';
import { chooseProtection } from './protection-plan.js';
import { hashText } from './text-hash.js';

/**
 * The longest a client may keep a live manifest, seconds: it gains a segment every target duration (2 s by
 * default), so a player or CDN holding it for the endpoint's VOD manifest age (60 s) would fall that far behind.
 * The endpoint's age still applies when shorter.
 */
export const liveManifestMaxAgeSec = 2;

/** Where the origin answers its clock (DASH `UTCTiming`, `urn:mpeg:dash:utc:http-iso:2014`). */
export const utcTimePath = '/time';

/**
 * The version a live segment's ETag and cache key carry instead of the presentation's: the presentation's ETag
 * changes with every added segment, a segment's bytes do not. Tick 0's wall-clock time names the run (a new run
 * of the same event starts a new timeline), the location where its bytes are read names the recording.
 */
export function liveSegmentVersion(playback: LivePlayback): string {
  const { location: loc, presentation } = playback;
  return `"live-${hashText(`${loc.accountId}/${loc.container}/${loc.prefix}|${presentation.live?.availabilityStartMs ?? presentation.etag}`)}"`;
}

/**
 * A preview locator plays in the clear with every streaming protocol and no downloads, as if under
 * `Predefined_ClearStreamingOnly`: `encryption=` in its URL is refused the same way (403).
 */
export function previewProtection(row: OutputFormat, encryption: ManifestEncryption | undefined): undefined {
  const policy = 'Predefined_ClearStreamingOnly';
  chooseProtection(policy, predefinedPolicies[policy], row.protocol, row.format, encryption);
  return undefined;
}

/** `GET /time`: the server's clock as ISO 8601 text, never cached (players sync their live edge on it). */
export function registerUtcTime(app: FastifyInstance): void {
  app.get(utcTimePath, async (_req, reply) =>
    reply.header('access-control-allow-origin', '*').header('cache-control', 'no-store').type('text/plain; charset=utf-8').send(new Date().toISOString()),
  );
}
