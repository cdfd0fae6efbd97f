import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Readable } from 'node:stream';
import type { AccountStores } from '../../../storage/account-stores.js';
import type { FileGrants } from '../../../storage/file-grants.js';
import { fileWrittenResponse } from './schema.js';
import { BadRequestError, NotFoundError, notFound } from '../../../shared/errors.js';
import { parseRange } from '../../../shared/http-range.js';
import { inertFileHeaders } from '../../../shared/inert-file-headers.js';
import { assertBlobPath, assertContainerName } from '../../../storage/storage-paths.js';

/**
 * `/files/{accountId}/{container}/{blob…}`: Reel's own signed file URLs (getFileAccessInfo, uploads, probes).
 * The grant comes as `?token=` or `Authorization: Bearer` and does one thing: a read grant GETs and HEADs, a
 * write grant PUTs. GET/HEAD stream with Range; PUT streams the request body straight into storage, so multi-GB
 * uploads never sit in memory.
 */
export function registerFileRoutes(app: FastifyInstance, stores: AccountStores, grants: FileGrants): void {
  // Bodies here are raw file bytes, whatever their content type: hand the stream through untouched.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_req, payload, done) => done(null, payload));

  const resolve = async (req: FastifyRequest, mode: 'r' | 'w') => {
    const { accountId, container } = req.params as { accountId: string; container: string; '*': string };
    const blob = assertBlobPath((req.params as { '*': string })['*'], 'file name');
    assertContainerName(container);
    const query = req.query as { token?: string };
    const token = query.token ?? req.headers.authorization?.replace(/^bearer\s+/i, '');
    if (!token) throw new BadRequestError('MissingToken', 'A signed file URL needs its token');
    grants.verify(token, accountId, container, blob, mode);
    const store = await stores.find(accountId);
    if (!store) throw notFound('Storage account');
    return { store, container, blob };
  };

  const serve = async (req: FastifyRequest, reply: FastifyReply, withBody: boolean) => {
    const { store, container, blob } = await resolve(req, 'r');
    const info = await store.stat(container, blob);
    if (!info) throw new NotFoundError('BlobNotFound', `File '${blob}' not found`);
    // The bytes and their type are the uploader's: served inert (shared/inert-file-headers.ts), as every reader
    // (players, ffmpeg, SDKs) needs only the bytes.
    void reply
      .headers(inertFileHeaders(blob, info.contentType))
      .header('accept-ranges', 'bytes')
      .header('etag', info.etag)
      .header('last-modified', info.lastModified.toUTCString())
      .header('cache-control', 'private, max-age=0');
    if (req.headers['if-none-match'] === info.etag) return reply.code(304).send();
    const range = parseRange(req.headers.range, info.size);
    if (range) {
      void reply.code(206).header('content-range', `bytes ${range.offset}-${range.offset + range.length - 1}/${info.size}`);
    }
    void reply.header('content-length', String(range ? range.length : info.size));
    if (!withBody) return reply.send();
    const stream: Readable = await store.read(container, blob, range, undefined);
    return reply.send(stream);
  };

  app.get('/files/:accountId/:container/*', { exposeHeadRoute: false }, async (req, reply) => serve(req, reply, true));
  app.head('/files/:accountId/:container/*', async (req, reply) => serve(req, reply, false));
  app.put('/files/:accountId/:container/*', { schema: { response: { 201: fileWrittenResponse } } }, async (req, reply) => {
    const { store, container, blob } = await resolve(req, 'w');
    const contentType = req.headers['content-type'];
    const info = await store.write(container, blob, req.body as Readable, { contentType });
    return reply.code(201).send({ name: blob, size: info.size, etag: info.etag });
  });
}
