/**
 * Benchmark child: the peer. A bare Node `http` static file server over a directory of segments ffmpeg packaged
 * offline: per request one `stat`, then `fs.createReadStream` piped into the response (what `send`/`serve-static`
 * do, without their ETag, Range and index handling). No framework, no database, no packaging: the cost of
 * serving pre-packaged files from Node. (nginx with sendfile would be faster still; it is not installed here.)
 * Answers:
 *   listen {root} → { url }
 *   stop          → closes the server
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { answerParent } from '../support/bench-child.js';

const types: Record<string, string> = { '.m3u8': 'application/vnd.apple.mpegurl', '.m4s': 'video/mp4', '.mp4': 'video/mp4' };

let server: http.Server | undefined;

answerParent({
  listen: async (payload) => {
    const root = path.resolve((payload as { root: string }).root);
    server = http.createServer(async (req, res) => {
      const pathname = decodeURIComponent((req.url ?? '/').split('?')[0]);
      const file = path.join(root, pathname);
      if (!file.startsWith(`${root}${path.sep}`)) {
        res.writeHead(400).end();
        return;
      }
      try {
        const st = await fsp.stat(file);
        if (!st.isFile()) throw new Error('not a file');
        res.writeHead(200, { 'content-type': types[path.extname(file)] ?? 'application/octet-stream', 'content-length': st.size });
        if (req.method === 'HEAD') {
          res.end();
          return;
        }
        fs.createReadStream(file)
          .on('error', () => res.destroy())
          .pipe(res);
      } catch {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
  },
  stop: async () => {
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server!.close(() => resolve()));
  },
});
