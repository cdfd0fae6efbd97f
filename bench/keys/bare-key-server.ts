/**
 * Benchmark child: the peer. A bare node:http server answering the key delivery URLs with the same bytes Reel
 * sends (the 16 key bytes, the same licence JSON), from memory, without routing, validation, lookups or tokens:
 * the gap to Reel is everything key delivery does per request.
 *   listen { keys: path → body, licence: path → body } → { url }
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { answerParent } from '../support/bench-child.js';

let server: http.Server | undefined;

answerParent({
  listen: async (payload) => {
    const { gets, posts } = payload as { gets: Record<string, Buffer>; posts: Record<string, string> };
    const getBodies = new Map(Object.entries(gets).map(([p, b]) => [p, Buffer.from(b)]));
    const postBodies = new Map(Object.entries(posts).map(([p, b]) => [p, Buffer.from(b)]));
    server = http.createServer((req, res) => {
      const path = (req.url ?? '').split('?')[0];
      if (req.method === 'POST') {
        req.resume();
        req.on('end', () => {
          const body = postBodies.get(path);
          res.writeHead(body ? 200 : 404, { 'content-type': 'application/json', 'cache-control': 'no-store', 'access-control-allow-origin': '*' });
          res.end(body);
        });
        return;
      }
      const body = getBodies.get(path);
      res.writeHead(body ? 200 : 404, { 'content-type': 'application/octet-stream', 'cache-control': 'no-store', 'access-control-allow-origin': '*' });
      res.end(body);
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
  },
  stop: async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  },
});
