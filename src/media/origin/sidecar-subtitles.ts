import type { FastifyReply, FastifyRequest } from 'fastify';
import { MediaError, NotFoundError } from '../../shared/errors.js';
import type { OutputFormat } from '../packager/index.js';
import { readRange, type AssetLocation, type BuiltPresentation } from './presentation-builder.js';
import { hashText } from './text-hash.js';

const maxSubtitleBytes = 16 * 1024 * 1024;

/** A side-loaded WebVTT file, served as one fragment in the form the format needs (HLS adds its timestamp map). */
export async function sendSidecarSubtitles(
  req: FastifyRequest,
  reply: FastifyReply,
  loc: AssetLocation,
  presentation: BuiltPresentation,
  file: string,
  row: OutputFormat,
  maxAgeSec: number,
  isHead: boolean,
): Promise<FastifyReply> {
  const info = presentation.files.get(file);
  if (!info) throw new NotFoundError('NotFound', `Subtitle file '${file}' not found`);
  const body = (text: string) => Buffer.from(row.subtitles(text, presentation), 'utf8');
  // The text depends on the view too (a DASH clip's Period start shifts the cues): its first track start is hashed.
  const first = presentation.tracks.find((t) => t.kind !== 'text' && t.segments.length > 0);
  const view = first ? `${first.segments.startTicks[0]}/${first.track.timescale}` : '';
  const etag = `"${presentation.etag.slice(1, -1)}-vtt-${hashText(`${file}:${info.etag}:${row.format}:${view}`)}"`;
  void reply.header('etag', etag).header('last-modified', info.lastModified.toUTCString()).header('cache-control', `public, max-age=${maxAgeSec}`);
  if (req.headers['if-none-match'] === etag) return reply.code(304).send();
  if (info.size > maxSubtitleBytes) throw new MediaError(422, 'SubtitlesTooLarge', `Subtitle file '${file}' is larger than 16 MiB`);
  const text = info.size === 0 ? '' : Buffer.from(await readRange(loc, loc.prefix ? `${loc.prefix}/${file}` : file, 0, info.size, info.etag)).toString('utf8');
  const bytes = body(text);
  void reply.header('content-type', 'text/vtt; charset=utf-8').header('content-length', String(bytes.length));
  return reply.send(isHead ? undefined : bytes);
}
