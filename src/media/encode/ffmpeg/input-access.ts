import fs from 'node:fs/promises';
import { EncodeError } from '../encode-engine.js';
import { isHttpUrl, redactUrl } from './input-options.js';

export const formatBytes = (n: number): string => (n >= 1e9 ? `${(n / 1e9).toFixed(2)} GB` : n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : `${n} bytes`);

/**
 * Checks that an input can be read and is not larger than allowed, before ffprobe runs: a refused URL
 * becomes a clear DownloadNotAccessible instead of an ffmpeg line. Returns the size when known.
 */
export async function checkInputAccess(
  url: string,
  options: { timeoutSec: number; maxInputBytes?: number; signal: AbortSignal; fileName: string },
): Promise<number | undefined> {
  const size = isHttpUrl(url) ? await httpSize(url, options) : await localSize(url, options.fileName);
  if (size !== undefined && options.maxInputBytes !== undefined && size > options.maxInputBytes) {
    throw new EncodeError(
      'ContentUnsupported',
      `The input '${options.fileName}' is ${formatBytes(size)}, larger than this server's limit of ${formatBytes(options.maxInputBytes)}`,
    );
  }
  return size;
}

async function localSize(path: string, fileName: string): Promise<number> {
  try {
    return (await fs.stat(path)).size;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EACCES' || code === 'ENOTDIR')
      throw new EncodeError('DownloadNotAccessible', `The input '${fileName}' could not be read: ${code === 'ENOENT' ? 'no such file' : 'permission denied'}`, {
        cause: e,
      });
    throw new EncodeError('DownloadTransientError', `The input '${fileName}' could not be read: ${(e as Error).message}`, { cause: e });
  }
}

/** HEAD first; servers that refuse HEAD (405/501) are asked for one byte, whose Content-Range gives the size. */
async function httpSize(url: string, options: { timeoutSec: number; signal: AbortSignal; fileName: string }): Promise<number | undefined> {
  let res = await request(url, 'HEAD', options);
  if (res.status === 405 || res.status === 501) {
    res = await request(url, 'GET', options);
    await res.body?.cancel();
  }
  if (!res.ok) {
    const what = `The input '${options.fileName}' could not be downloaded from ${redactUrl(url)}: HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`;
    if (res.status >= 500 || res.status === 408 || res.status === 429) throw new EncodeError('DownloadTransientError', what);
    throw new EncodeError('DownloadNotAccessible', what);
  }
  const range = /\/(\d+)\s*$/.exec(res.headers.get('content-range') ?? '');
  if (range) return Number(range[1]);
  const length = res.headers.get('content-length');
  return res.status === 200 && length !== null && /^\d+$/.test(length) ? Number(length) : undefined;
}

async function request(url: string, method: 'HEAD' | 'GET', options: { timeoutSec: number; signal: AbortSignal; fileName: string }): Promise<Response> {
  try {
    return await fetch(url, {
      method,
      headers: method === 'GET' ? { range: 'bytes=0-0' } : {},
      // Only Reel's own signed URLs reach here (JobInputHttp URLs are downloaded by http-input-download.ts): no hops.
      redirect: 'error',
      signal: AbortSignal.any([options.signal, AbortSignal.timeout(options.timeoutSec * 1000)]),
    });
  } catch (e) {
    if (options.signal.aborted) throw options.signal.reason;
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    const reason = (e as Error).name === 'TimeoutError' ? `no answer within ${options.timeoutSec} s` : (cause?.code ?? cause?.message ?? (e as Error).message);
    throw new EncodeError('DownloadTransientError', `The input '${options.fileName}' could not be downloaded from ${redactUrl(url)}: ${reason}`, { cause: e });
  }
}
