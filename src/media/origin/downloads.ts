import type { FastifyReply, FastifyRequest } from 'fastify';
import { NotFoundError } from '../../shared/errors.js';
import { parseRange } from '../../shared/http-range.js';
import { inertFileHeaders } from '../../shared/inert-file-headers.js';
import { assertBlobPath } from '../../storage/storage-paths.js';
import type { AssetLocation } from './presentation-builder.js';

/**
 * A file of the asset as it is stored (`/{locatorId}/{file}` without `.ism`), with Range and ETag. Any file can
 * be downloaded, on any host including the API's, so it is served inert, like `/files`.
 */
export async function serveDownload(req: FastifyRequest, reply: FastifyReply, loc: AssetLocation, fileName: string, isHead: boolean): Promise<FastifyReply> {
  const blob = assertBlobPath(loc.prefix ? `${loc.prefix}/${fileName}` : fileName, 'file name');
  const info = await loc.store.stat(loc.container, blob);
  if (!info) throw new NotFoundError('NotFound', `File '${fileName}' not found`);
  void reply
    .headers(inertFileHeaders(fileName, /\.mp4$/i.test(fileName) ? 'video/mp4' : info.contentType))
    .header('accept-ranges', 'bytes')
    .header('etag', info.etag)
    .header('last-modified', info.lastModified.toUTCString())
    .header('cache-control', 'public, max-age=3600');
  if (req.headers['if-none-match'] === info.etag) return reply.code(304).send();
  const range = parseRange(req.headers.range, info.size);
  if (range) void reply.code(206).header('content-range', `bytes ${range.offset}-${range.offset + range.length - 1}/${info.size}`);
  void reply.header('content-length', String(range ? range.length : info.size));
  if (isHead) return reply.send();
  return reply.send(await loc.store.read(loc.container, blob, range));
}
