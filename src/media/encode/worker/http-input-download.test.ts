import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EncodeError } from '../encode-engine.js';
import { downloadHttpInput, type HttpInputDownloadOptions } from './http-input-download.js';

/** A loopback server answering by path; every request is recorded. */
async function serve(routes: Record<string, (req: http.IncomingMessage, res: http.ServerResponse) => void>) {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const route = routes[new URL(req.url ?? '/', 'http://x').pathname];
    if (route) route(req, res);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    base: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

describe('downloadHttpInput', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reel-download-'));
  let n = 0;
  const dest = () => path.join(dir, `file-${++n}`);
  const body = Buffer.alloc(100_000, 7);
  let origin: Awaited<ReturnType<typeof serve>>;
  let target: Awaited<ReturnType<typeof serve>>;
  const options = (extra: Partial<HttpInputDownloadOptions> = {}): HttpInputDownloadOptions => ({
    policy: { allowPrivate: true },
    timeoutSec: 5,
    signal: new AbortController().signal,
    fileName: 'movie.mp4',
    ...extra,
  });
  const fails = async (promise: Promise<unknown>, code: string, message: RegExp) => {
    const e = await promise.then(
      () => assert.fail('the download should fail'),
      (err: unknown) => err,
    );
    assert.ok(e instanceof EncodeError, String(e));
    assert.equal(e.code, code, e.message);
    assert.match(e.message, message);
  };

  before(async () => {
    target = await serve({ '/movie.mp4': (_req, res) => res.writeHead(200, { 'content-length': String(body.length) }).end(body) });
    origin = await serve({
      '/movie.mp4': (_req, res) => res.writeHead(200, { 'content-length': String(body.length) }).end(body),
      '/chunked.mp4': (_req, res) => {
        res.writeHead(200);
        res.write(body);
        res.end(body);
      },
      '/to-target': (_req, res) => res.writeHead(302, { location: `${target.base}/movie.mp4?sig=secret` }).end(),
      '/relative': (_req, res) => res.writeHead(301, { location: '/movie.mp4' }).end(),
      '/loop': (_req, res) => res.writeHead(307, { location: '/loop' }).end(),
      '/backslash': (_req, res) => res.writeHead(302, { location: `http://127.0.0.1:${origin.port}\\@127.0.0.1:${target.port}/movie.mp4` }).end(),
      '/gone': (_req, res) => res.writeHead(410).end(),
      '/busy': (_req, res) => res.writeHead(503).end(),
      '/silent': () => {
        /* never answers */
      },
    });
  });
  after(async () => {
    await origin.close();
    await target.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('writes the body to the file and returns its size; relative redirects are followed', async () => {
    for (const p of ['/movie.mp4', '/relative']) {
      const file = dest();
      assert.equal(await downloadHttpInput(`${origin.base}${p}`, file, options()), body.length);
      assert.deepEqual(fs.readFileSync(file), body);
    }
  });

  it('checks every redirect: an allowed host redirecting to a private address is refused before it is opened', async () => {
    target.requests.length = 0;
    const file = dest();
    await fails(
      downloadHttpInput(`${origin.base}/to-target`, file, options({ policy: { allowPrivate: false, allowedHosts: [`127.0.0.1:${origin.port}`] } })),
      'DownloadNotAccessible',
      /redirect 1.*private address/,
    );
    assert.deepEqual(target.requests, []);
    assert.equal(fs.existsSync(file), false);
    // The same redirect is followed where the policy allows the target.
    await downloadHttpInput(
      `${origin.base}/to-target`,
      dest(),
      options({ policy: { allowPrivate: false, allowedHosts: [`127.0.0.1:${origin.port}`, `127.0.0.1:${target.port}`] } }),
    );
    assert.deepEqual(target.requests, ['GET /movie.mp4?sig=secret']);
  });

  it('refuses URLs that parsers read differently, as given or as a redirect, without connecting', async () => {
    target.requests.length = 0;
    const before = origin.requests.length;
    await fails(downloadHttpInput(`${origin.base}\\@127.0.0.1:${target.port}/movie.mp4`, dest(), options()), 'DownloadNotAccessible', /backslashes/);
    await fails(
      downloadHttpInput(`http://user:pw@127.0.0.1:${target.port}/movie.mp4`, dest(), options()),
      'DownloadNotAccessible',
      /user name|parsers read differently/,
    );
    assert.equal(origin.requests.length, before);
    await fails(downloadHttpInput(`${origin.base}/backslash`, dest(), options()), 'DownloadNotAccessible', /parsers read differently/);
    assert.deepEqual(target.requests, []);
  });

  it('refuses private and local addresses unless allowed (metadata, loopback, mapped IPv6)', async () => {
    for (const url of [
      'http://169.254.169.254/latest/meta-data',
      `http://127.0.0.1:${target.port}/movie.mp4`,
      `http://[::ffff:7f00:1]:${target.port}/movie.mp4`,
      'http://10.0.0.7/movie.mp4',
    ]) {
      await fails(
        downloadHttpInput(url, dest(), options({ policy: { allowPrivate: false } })),
        'DownloadNotAccessible',
        /private address.*REEL_JOB_HTTP_ALLOW_PRIVATE/,
      );
    }
  });

  it('connects to the checked address only: the name is not looked up again', async () => {
    const seen: string[] = [];
    const file = dest();
    // `media.invalid` cannot resolve: the download works only if the connection uses the checked address.
    await downloadHttpInput(
      `http://media.invalid:${target.port}/movie.mp4`,
      file,
      options({
        resolve: async (url) => {
          seen.push(url.hostname);
          return [{ address: '127.0.0.1', family: 4 }];
        },
      }),
    );
    assert.deepEqual(seen, ['media.invalid']);
    assert.deepEqual(fs.readFileSync(file), body);
  });

  it('stops at the redirect limit', async () => {
    await fails(downloadHttpInput(`${origin.base}/loop`, dest(), options({ maxRedirects: 3 })), 'DownloadNotAccessible', /more than 3 redirects/);
  });

  it('enforces the size limit from Content-Length and while streaming, leaving no file', async () => {
    for (const p of ['/movie.mp4', '/chunked.mp4']) {
      const file = dest();
      await fails(
        downloadHttpInput(`${origin.base}${p}`, file, options({ maxBytes: 150_000 - (p === '/movie.mp4' ? 60_000 : 0) })),
        'ContentUnsupported',
        /larger than this server's limit/,
      );
      assert.equal(fs.existsSync(file), false);
    }
  });

  it('maps HTTP errors and silence to the job error codes, without the query string', async () => {
    await fails(downloadHttpInput(`${origin.base}/gone?sig=secret`, dest(), options()), 'DownloadNotAccessible', /HTTP 410/);
    await fails(downloadHttpInput(`${origin.base}/busy?sig=secret`, dest(), options()), 'DownloadTransientError', /^(?!.*secret).*HTTP 503/);
    await fails(downloadHttpInput(`${origin.base}/silent`, dest(), options({ timeoutSec: 1 })), 'DownloadTransientError', /no answer within 1 s/);
  });

  it('stops when the job is aborted, with the abort reason', async () => {
    const controller = new AbortController();
    const reason = new Error('canceled');
    setTimeout(() => controller.abort(reason), 200);
    assert.equal(await downloadHttpInput(`${origin.base}/silent`, dest(), options({ signal: controller.signal })).catch((e: unknown) => e), reason);
  });
});
