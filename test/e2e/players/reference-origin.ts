// A small stand-in origin for the protected-playback reference streams: static files from a directory, plus key
// delivery at Reel's URL forms (src/shared/content-protection.ts) guarded by an HS256 JWT, so the player
// harness is proven against the exact requests it will later send to Reel:
// - `GET /keydelivery/{locatorId}/aes/{keyId}` → the 16 raw key bytes (HLS AES-128);
// - `POST /keydelivery/{locatorId}/clearkey` with `{"kids":[…],"type":"temporary"}` → `{"keys":[{kty,kid,k}]}`.
// The token comes as `Authorization: Bearer …` or `?token=`; a missing or bad one answers 401 and no key.
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { jwtVerify, SignJWT } from 'jose';

const TYPES: Record<string, string> = {
  '.m3u8': 'application/vnd.apple.mpegurl',
  '.mpd': 'application/dash+xml',
  '.m4s': 'video/iso.segment',
  '.mp4': 'video/mp4',
  '.ts': 'video/mp2t',
};

export const REFERENCE_ISSUER = 'https://issuer.reel.test';
export const REFERENCE_AUDIENCE = 'urn:reel:reference-player';

export interface KeyDeliveryLog {
  method: string;
  path: string;
  /** How the token came ('header', 'query') or 'none'. */
  tokenVia: 'header' | 'query' | 'none';
  status: number;
}

export interface ReferenceOrigin {
  origin: string;
  /** Every key delivery request (not preflights), in order. */
  keyRequests: KeyDeliveryLog[];
  /** Media requests (playlists, manifests, segments) that carried an Authorization header: tokens go to key delivery only. */
  mediaRequestsWithToken: string[];
  /** A token this origin accepts (HS256, issuer and audience as configured, 10 minutes). */
  token(): Promise<string>;
  close(): Promise<void>;
}

const b64url = (b: Buffer) => b.toString('base64url');

/**
 * Serves `dir` and key delivery for `locatorId` with `keys` (key id as 32 hex digits → 16-byte key). CORS is
 * open, as on a streaming endpoint: the player page is on another origin and sends Authorization.
 */
export async function startReferenceOrigin(options: {
  dir: string;
  locatorId: string;
  keys: Map<string, Buffer>;
  secret: Uint8Array;
}): Promise<ReferenceOrigin> {
  const { dir, locatorId, keys, secret } = options;
  const keyRequests: KeyDeliveryLog[] = [];
  const mediaRequestsWithToken: string[] = [];
  const cors = {
    'access-control-allow-origin': '*',
    'access-control-allow-headers': 'authorization, content-type',
    'access-control-allow-methods': 'GET, POST, OPTIONS',
    'cache-control': 'no-store',
  };

  const authorized = async (req: http.IncomingMessage, url: URL): Promise<{ ok: boolean; via: KeyDeliveryLog['tokenVia'] }> => {
    const header = req.headers.authorization;
    const via = header ? 'header' : url.searchParams.has('token') ? 'query' : 'none';
    const jwt = header?.startsWith('Bearer ') ? header.slice(7) : url.searchParams.get('token');
    if (!jwt) return { ok: false, via };
    try {
      await jwtVerify(jwt, secret, { algorithms: ['HS256'], issuer: REFERENCE_ISSUER, audience: REFERENCE_AUDIENCE });
      return { ok: true, via };
    } catch {
      return { ok: false, via };
    }
  };

  const keyDelivery = async (req: http.IncomingMessage, res: http.ServerResponse, url: URL, rest: string): Promise<void> => {
    const log: KeyDeliveryLog = { method: req.method ?? '', path: url.pathname, tokenVia: 'none', status: 0 };
    keyRequests.push(log);
    const answer = (status: number, type: string, body: Buffer | string) => {
      log.status = status;
      res.writeHead(status, { ...cors, 'content-type': type, 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
    const refuse = (status: number, code: string, message: string) => answer(status, 'application/json', JSON.stringify({ error: { code, message } }));
    const [loc, kind, keyId] = rest.split('/');
    if (loc !== locatorId) return refuse(404, 'NotFound', 'no such locator');
    const auth = await authorized(req, url);
    log.tokenVia = auth.via;
    if (!auth.ok) return refuse(401, 'Unauthorized', 'a valid token is required');
    if (kind === 'aes' && req.method === 'GET' && keyId) {
      const key = keys.get(keyId.replaceAll('-', '').toLowerCase());
      return key ? answer(200, 'application/octet-stream', key) : refuse(404, 'NotFound', 'no such key');
    }
    if (kind === 'clearkey' && req.method === 'POST' && keyId === undefined) {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      let kids: string[];
      try {
        kids = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { kids: string[] }).kids;
        if (!Array.isArray(kids)) throw new Error('kids');
      } catch {
        return refuse(400, 'BadRequest', 'expected {"kids":[…]}');
      }
      const found = kids.flatMap((kid) => {
        const key = keys.get(Buffer.from(kid, 'base64url').toString('hex'));
        return key ? [{ kty: 'oct', kid, k: b64url(key) }] : [];
      });
      if (found.length === 0) return refuse(404, 'NotFound', 'no such key');
      return answer(200, 'application/json', JSON.stringify({ keys: found, type: 'temporary' }));
    }
    return refuse(404, 'NotFound', 'no such key delivery path');
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.method === 'OPTIONS') {
      res.writeHead(204, cors);
      return res.end();
    }
    if (url.pathname.startsWith('/keydelivery/')) {
      keyDelivery(req, res, url, url.pathname.slice('/keydelivery/'.length)).catch((err: unknown) => {
        res.writeHead(500, cors);
        res.end(String(err));
      });
      return;
    }
    if (req.headers.authorization) mediaRequestsWithToken.push(url.pathname);
    const file = path.join(dir, path.normalize(decodeURIComponent(url.pathname)));
    if (!file.startsWith(dir + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404, { ...cors, 'content-type': 'text/plain' });
      return res.end('not found');
    }
    const body = fs.readFileSync(file);
    res.writeHead(200, { ...cors, 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'content-length': body.length });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    keyRequests,
    mediaRequestsWithToken,
    token: () =>
      new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setIssuer(REFERENCE_ISSUER).setAudience(REFERENCE_AUDIENCE).setExpirationTime('10m').sign(secret),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
