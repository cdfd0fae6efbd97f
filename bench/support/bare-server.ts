/**
 * Benchmark child: the peer. A bare Fastify server (default options, no logger, no hooks, no auth, no
 * database) answering the same paths with the same JSON bodies Reel returned, held in memory. It still
 * serializes each reply, as Reel does, so the gap to Reel is auth, tenancy, the query and the row mapping.
 * Answers:
 *   listen {assets, page}  → { url, fastifyVersion }   assets: name → GET body; page: one list body
 *   cpu                    → CPU ms used so far
 *   stop                   → closes the server
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { answerParent } from './bench-child.js';

export interface BareBodies {
  /** Asset name → the body `GET /api/ams/{project}/assets/{name}` returned. */
  assets: Record<string, unknown>;
  /** The body `GET /api/ams/{project}/assets?$top=1000` returned. */
  page: unknown;
}

let app: FastifyInstance | undefined;

answerParent({
  listen: async (payload) => {
    const { assets, page } = payload as BareBodies;
    const byName = new Map(Object.entries(assets));
    app = Fastify();
    app.get('/api/ams/:project/assets/:name', async (req, reply) => {
      const body = byName.get((req.params as { name: string }).name);
      return body ?? reply.code(404).send({ error: { code: 'NotFound' } });
    });
    app.get('/api/ams/:project/assets', async () => page);
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    return { url, fastifyVersion: app.version };
  },
  stop: async () => {
    await app?.close();
  },
});
