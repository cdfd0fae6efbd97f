import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AddressRefusedError, assertUnambiguousUrl, resolveAllowedAddresses, type AddressPolicy } from '../../../shared/address-policy.js';
import { EncodeError } from '../encode-engine.js';
import { formatBytes } from '../ffmpeg/input-access.js';
import { redactUrl } from '../ffmpeg/input-options.js';

type Addresses = Array<{ address: string; family: 4 | 6 }>;

export interface HttpInputDownloadOptions {
  /** Which addresses may be reached (REEL_JOB_HTTP_ALLOW_PRIVATE; Reel's own origins as allowed hosts). */
  policy: AddressPolicy;
  /** A server silent this long (connect, headers or body) fails the download. */
  timeoutSec: number;
  /** Largest body accepted; the download stops as soon as it is exceeded. */
  maxBytes?: number;
  /** Redirects followed, each hop checked as the first (default 5). */
  maxRedirects?: number;
  signal: AbortSignal;
  /** The input's name, for messages. */
  fileName: string;
  /** Resolution and policy check of one hop; tests inject one, the default is `resolveAllowedAddresses`. */
  resolve?: (url: URL, policy: AddressPolicy) => Promise<Addresses>;
}

/**
 * Downloads a `JobInputHttp` URL into `dest` through a checked client, so ffmpeg never opens a tenant's URL
 * (it reads only the local copy). Every hop is checked before it is opened: the URL must read the same to every
 * parser (no backslashes, user-info, control characters), each address its host resolves to must pass the
 * policy, and the connection goes to exactly those addresses (a DNS answer that changes after the check is
 * never used). Redirects are followed by hand, each target checked again. Returns the number of bytes written.
 */
export async function downloadHttpInput(raw: string, dest: string, options: HttpInputDownloadOptions): Promise<number> {
  const maxRedirects = options.maxRedirects ?? 5;
  const resolve = options.resolve ?? resolveAllowedAddresses;
  let current = raw;
  for (let hop = 0; ; hop++) {
    let url: URL;
    let addresses: Addresses;
    try {
      url = assertUnambiguousUrl(current);
      addresses = await resolve(url, options.policy);
    } catch (e) {
      if (e instanceof AddressRefusedError) {
        const hint = e.reason === 'private' ? ' (REEL_JOB_HTTP_ALLOW_PRIVATE=true allows it)' : '';
        throw new EncodeError(
          'DownloadNotAccessible',
          `The input '${options.fileName}' was not downloaded${hop > 0 ? ` (redirect ${hop})` : ''}: ${e.message}${hint}`,
          { cause: e },
        );
      }
      throw e;
    }
    options.signal.throwIfAborted();
    const res = await get(url, addresses, options);
    const status = res.statusCode ?? 0;
    if ([301, 302, 303, 307, 308].includes(status)) {
      res.resume();
      const location = res.headers.location;
      if (!location) throw notAccessible(options, url, `HTTP ${status} without a Location`);
      if (hop >= maxRedirects) throw notAccessible(options, url, `more than ${maxRedirects} redirects`);
      // eslint-disable-next-line no-control-regex
      if (/[\\\s\u0000-\u001f\u007f]/.test(location)) throw notAccessible(options, url, 'a redirect to a URL that parsers read differently');
      try {
        current = new URL(location, url).href;
      } catch {
        throw notAccessible(options, url, 'a redirect to an invalid URL');
      }
      continue;
    }
    if (status !== 200) {
      res.resume();
      const what = `HTTP ${status}${res.statusMessage ? ` ${res.statusMessage}` : ''}`;
      if (status >= 500 || status === 408 || status === 429)
        throw new EncodeError('DownloadTransientError', `The input '${options.fileName}' could not be downloaded from ${redactUrl(url.href)}: ${what}`);
      throw notAccessible(options, url, what);
    }
    const length = res.headers['content-length'];
    if (options.maxBytes !== undefined && length !== undefined && /^\d+$/.test(length) && Number(length) > options.maxBytes) {
      res.destroy();
      throw tooLarge(options, Number(length));
    }
    return save(res, dest, url, options);
  }
}

function get(url: URL, addresses: Addresses, options: HttpInputDownloadOptions): Promise<http.IncomingMessage> {
  // Connect to the checked addresses only: the name is never looked up again.
  const lookup: LookupFunction = (_hostname, lookupOptions, callback) => {
    const family = lookupOptions.family === 4 || lookupOptions.family === 6 ? lookupOptions.family : undefined;
    const usable = addresses.filter((a) => !family || a.family === family);
    if (usable.length === 0) {
      callback(Object.assign(new Error('no checked address of the requested family'), { code: 'ENOTFOUND' }), '', 0);
      return;
    }
    if (lookupOptions.all) (callback as unknown as (err: null, list: Addresses) => void)(null, usable);
    else callback(null, usable[0].address, usable[0].family);
  };
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.request(url, {
      method: 'GET',
      lookup,
      agent: false,
      signal: options.signal,
      headers: { 'user-agent': 'Reel', accept: '*/*', 'accept-encoding': 'identity' },
    });
    req.setTimeout(options.timeoutSec * 1000, () => req.destroy(Object.assign(new Error(`no answer within ${options.timeoutSec} s`), { code: 'ETIMEDOUT' })));
    req.once('response', resolve);
    req.once('error', (e) => reject(transportError(e, url, options)));
    req.end();
  });
}

async function save(res: http.IncomingMessage, dest: string, url: URL, options: HttpInputDownloadOptions): Promise<number> {
  let written = 0;
  const limit = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      written += chunk.length;
      if (options.maxBytes !== undefined && written > options.maxBytes) callback(tooLarge(options, written, true));
      else callback(null, chunk);
    },
  });
  try {
    await pipeline(res, limit, fs.createWriteStream(dest, { flags: 'wx' }), { signal: options.signal });
  } catch (e) {
    await fs.promises.rm(dest, { force: true });
    if (e instanceof EncodeError) throw e;
    throw transportError(e as Error, url, options);
  }
  return written;
}

function transportError(e: Error, url: URL, options: HttpInputDownloadOptions): unknown {
  if (options.signal.aborted) return options.signal.reason;
  if (e instanceof EncodeError) return e;
  const reason = (e as NodeJS.ErrnoException).code === 'ETIMEDOUT' ? e.message : ((e as NodeJS.ErrnoException).code ?? e.message);
  return new EncodeError('DownloadTransientError', `The input '${options.fileName}' could not be downloaded from ${redactUrl(url.href)}: ${reason}`, {
    cause: e,
  });
}

const notAccessible = (options: HttpInputDownloadOptions, url: URL, why: string) =>
  new EncodeError('DownloadNotAccessible', `The input '${options.fileName}' could not be downloaded from ${redactUrl(url.href)}: ${why}`);

const tooLarge = (options: HttpInputDownloadOptions, size: number, isStillComing = false) =>
  new EncodeError(
    'ContentUnsupported',
    `The input '${options.fileName}' is ${isStillComing ? "larger than this server's limit" : `${formatBytes(size)}, larger than this server's limit`} of ${formatBytes(options.maxBytes ?? 0)}`,
  );
