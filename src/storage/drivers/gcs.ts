import { sign } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import { BadRequestError, ConflictError, NotFoundError, RangeNotSatisfiableError, ReelError, UpstreamError } from '../../shared/errors.js';
import type { AddressPolicy } from '../../shared/address-policy.js';
import { guardedAgents } from '../../shared/outbound-agent.js';
import { gcsLocation } from '../../shared/storage-location.js';
import type { BlobInfo, BlobListing, BlobStore, ByteRange, ReadIntoOptions, WriteOptions } from '../blob-store.js';
import { assertBlobPath, assertContainerName, isValidContainerName } from '../storage-paths.js';
import { parseServiceAccount, type GoogleServiceAccount } from '../google-service-account.js';
import { addressNotAllowed, assertRange, guardStream, isAddressRefusal, knownCode, readIntoFromStream, withDeadline } from './driver-utils.js';

export interface GcsBlobStoreOptions {
  bucketName: string;
  /**
   * Reel extension: the base URL of a GCS-compatible JSON API (an emulator). Google itself needs none
   * (`https://storage.googleapis.com`).
   */
  endpoint?: string;
  serviceAccount: GoogleServiceAccount;
  /** Which addresses every connection may reach, the token endpoint's included. */
  addressPolicy: AddressPolicy;
}

const googleEndpoint = 'https://storage.googleapis.com';
const scope = 'https://www.googleapis.com/auth/devstorage.read_write';
const accessDeadlineMs = 10_000;
const requestDeadlineMs = 30_000;
/** Tokens are renewed this long before Google's expiry. */
const tokenMarginMs = 60_000;
const maxErrorBody = 64 * 1024;

interface GcsObject {
  name?: string;
  size?: string;
  etag?: string;
  md5Hash?: string;
  generation?: string;
  updated?: string;
  contentType?: string;
}

interface ObjectsPage {
  items?: GcsObject[];
  prefixes?: string[];
  nextPageToken?: string;
}

/** What a failed request is about: chooses between "blob", "container" and "bucket" not found. */
interface At {
  container?: string;
  name?: string;
}

/**
 * One Google Cloud Storage bucket through the JSON API, MK.IO style: a container is a top-level prefix
 * (`container/…`), made to exist by a zero-byte marker object `container/` exactly as the S3 driver does, so
 * a bucket moved between the two keeps its layout. Authenticates as the service account of MK.IO's `gac`
 * (an RS256-signed JWT exchanged for an access token at its `token_uri`, renewed before it expires).
 *
 * Writes are resumable-upload sessions whose bytes go in one streamed PUT (`Content-Range: bytes 0-*\/*`, as
 * Google's own Node client does when no chunk size is set): nothing is buffered whole, and a write that fails
 * cancels its session, so no object appears.
 */
export class GcsBlobStore implements BlobStore {
  readonly #bucket: string;
  readonly #base: URL;
  readonly #endpoint: string | undefined;
  readonly #account: ReturnType<typeof parseServiceAccount>;
  readonly #agents: { http: http.Agent; https: https.Agent };
  #token: { value: string; expiresAt: number } | undefined;
  #pendingToken: Promise<string> | undefined;

  constructor(options: GcsBlobStoreOptions) {
    if (!options.bucketName) throw new BadRequestError('InvalidBucketName', 'Google Storage bucket name is required');
    let base: URL;
    try {
      base = new URL(options.endpoint ?? googleEndpoint);
    } catch (err) {
      throw new BadRequestError('InvalidStorageUrl', 'Google Storage endpoint is not a valid URL', { cause: err });
    }
    if (base.protocol !== 'https:' && base.protocol !== 'http:') throw new BadRequestError('InvalidStorageUrl', 'Google Storage endpoint must use https');
    this.#bucket = options.bucketName;
    this.#base = base;
    this.#endpoint = options.endpoint;
    this.#account = parseServiceAccount(options.serviceAccount);
    this.#agents = guardedAgents(options.addressPolicy);
  }

  async location(container: string): Promise<string> {
    return gcsLocation({ bucketName: this.#bucket, endpoint: this.#endpoint }, assertContainerName(container));
  }

  async checkAccess(signal?: AbortSignal): Promise<void> {
    // Listing: it needs the permission Reel uses anyway (storage.objects.list) and names a missing bucket.
    await this.#page({ maxResults: '1' }, {}, withDeadline(accessDeadlineMs, signal), signal);
  }

  async listContainers(limit = Infinity): Promise<string[]> {
    const names: string[] = [];
    for await (const page of this.#pages({ delimiter: '/' }, {})) {
      for (const prefix of page.prefixes ?? []) {
        const name = prefix.slice(0, -1);
        if (isValidContainerName(name)) names.push(name);
        if (names.length >= limit) return names;
      }
    }
    return names;
  }

  async containerExists(container: string): Promise<boolean> {
    const page = await this.#page({ prefix: `${assertContainerName(container)}/`, maxResults: '1' }, { container });
    return (page.items?.length ?? 0) > 0 || (page.prefixes?.length ?? 0) > 0;
  }

  /** Check-then-put, as S3: GCS has no "create prefix", and two racing creates both succeeding is harmless. */
  async createContainer(container: string): Promise<void> {
    if (await this.containerExists(container)) throw new ConflictError('ContainerAlreadyExists', `Container '${container}' already exists`);
    const url = this.#url(`/upload/storage/v1/b/${encodeURIComponent(this.#bucket)}/o`, { uploadType: 'media', name: `${container}/` });
    const response = await this.#send('POST', url, { body: Buffer.alloc(0), headers: { 'content-type': 'application/x-directory' } });
    await expectOk(response, { container });
    response.resume();
  }

  async deleteContainer(container: string): Promise<void> {
    const prefix = `${assertContainerName(container)}/`;
    // Deleting while paging is safe: page tokens are positions in name order, not offsets.
    for await (const page of this.#pages({ prefix }, { container })) {
      for (const item of page.items ?? []) {
        if (item.name) await this.#deleteObject(item.name, { container });
      }
    }
  }

  async list(container: string, prefix: string, options?: { recursive?: boolean }): Promise<BlobListing> {
    const root = `${assertContainerName(container)}/`;
    const base = prefix === '' ? root : `${root}${assertBlobPath(prefix, 'prefix')}/`;
    const listing: BlobListing = { folders: [], blobs: [] };
    for await (const page of this.#pages({ prefix: base, ...(options?.recursive ? {} : { delimiter: '/' }) }, { container })) {
      for (const p of page.prefixes ?? []) listing.folders.push(p.slice(root.length, -1));
      for (const item of page.items ?? []) {
        // Names ending in `/` are markers (ours for the container, or folder placeholders other tools make).
        if (!item.name || item.name.endsWith('/')) continue;
        listing.blobs.push(infoOf(item, item.name.slice(root.length)));
      }
    }
    // An empty result cannot tell a missing container from an empty folder; only then ask.
    if (listing.folders.length === 0 && listing.blobs.length === 0 && !(await this.containerExists(container))) {
      throw containerNotFound(container);
    }
    return listing;
  }

  async stat(container: string, name: string): Promise<BlobInfo | undefined> {
    const at = { container, name };
    const response = await this.#send('GET', this.#objectUrl(this.#key(container, name)));
    if (response.statusCode === 404 && !(await isBucketMissing(response))) return undefined;
    const item = await readJson<GcsObject>(await expectOk(response, at));
    return infoOf(item, name);
  }

  async readInto(container: string, name: string, offset: number, target: Uint8Array, options?: ReadIntoOptions): Promise<number> {
    if (target.length === 0) return 0;
    return readIntoFromStream(await this.read(container, name, { offset, length: target.length }, options?.signal), target);
  }

  async read(container: string, name: string, range?: ByteRange, signal?: AbortSignal): Promise<Readable> {
    if (range) assertRange(range);
    const at = { container, name };
    // The deadline may abort the download only until its response starts; the caller's signal at any time.
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new Error('deadline')), requestDeadlineMs);
    const onAbort = () => controller.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    const release = () => signal?.removeEventListener('abort', onAbort);
    try {
      if (signal?.aborted) onAbort();
      const headers: Record<string, string> = { 'accept-encoding': 'identity' };
      if (range) headers.range = `bytes=${range.offset}-${range.offset + range.length - 1}`;
      const url = this.#objectUrl(this.#key(container, name), { alt: 'media' });
      const response = await this.#send('GET', url, { headers, signal: controller.signal, callerSignal: signal });
      if (response.statusCode === 416) {
        response.resume();
        throw new RangeNotSatisfiableError('InvalidRange', `Range is beyond the end of blob '${name}'`);
      }
      await expectOk(response, at);
      if (range && response.statusCode !== 206) {
        // A server that ignores a range it cannot satisfy answers the whole blob (the Firebase emulator does);
        // from offset 0 that is the range's start anyway.
        const size = Number(response.headers['x-goog-stored-content-length'] ?? response.headers['content-length']);
        if (range.offset > 0) {
          response.destroy();
          if (Number.isFinite(size) && range.offset >= size) {
            throw new RangeNotSatisfiableError('InvalidRange', `Range is beyond the end of blob '${name}'`);
          }
          throw new UpstreamError('StorageError', 'Storage did not honour the requested byte range');
        }
        if (size === 0) {
          response.destroy();
          throw new RangeNotSatisfiableError('InvalidRange', `Range is beyond the end of blob '${name}'`);
        }
      } else if (range && !String(response.headers['content-range'] ?? '').startsWith(`bytes ${range.offset}-`)) {
        response.destroy();
        throw new UpstreamError('StorageError', 'Storage did not honour the requested byte range');
      }
      const out = guardStream(response, (err) => (signal?.aborted ? signal.reason : mapNetworkError(err, signal)), range?.length);
      out.once('close', release);
      return out;
    } catch (err) {
      release();
      throw mapNetworkError(err, signal);
    } finally {
      clearTimeout(timer);
    }
  }

  async write(container: string, name: string, body: Readable, options?: WriteOptions): Promise<BlobInfo> {
    const key = this.#key(container, name);
    const at = { container, name };
    // Writing under a prefix would silently create the container; other drivers refuse.
    if (!(await this.containerExists(container))) throw containerNotFound(container);
    let bodyError: Error | undefined;
    body.once('error', (err) => {
      bodyError ??= err;
    });
    const signal = options?.signal;
    const onAbort = () => body.destroy(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
    signal?.addEventListener('abort', onAbort, { once: true });
    let session: URL | undefined;
    try {
      if (signal?.aborted) onAbort();
      const start = await this.#send('POST', this.#url(`/upload/storage/v1/b/${encodeURIComponent(this.#bucket)}/o`, { uploadType: 'resumable', name: key }), {
        body: Buffer.from(JSON.stringify({ name: key, ...(options?.contentType ? { contentType: options.contentType } : {}) })),
        headers: { 'content-type': 'application/json; charset=UTF-8', ...(options?.contentType ? { 'x-upload-content-type': options.contentType } : {}) },
      });
      await expectOk(start, at);
      start.resume();
      session = this.#sessionUrl(start.headers.location);
      if (bodyError !== undefined) throw bodyError;
      // No deadline on the bytes: an upload takes as long as its body; the caller's signal cancels it.
      const response = await this.#send('PUT', session, { body, headers: { 'content-range': 'bytes 0-*/*' }, signal: new AbortController().signal });
      const item = await readJson<GcsObject>(await expectOk(response, at));
      return infoOf(item, name);
    } catch (err) {
      body.destroy();
      if (session) await this.#cancel(session);
      if (signal?.aborted) throw signal.reason;
      if (bodyError !== undefined) throw bodyError;
      throw mapNetworkError(err);
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  async delete(container: string, name: string): Promise<void> {
    await this.#deleteObject(this.#key(container, name), { container, name });
  }

  async close(): Promise<void> {
    this.#agents.http.destroy();
    this.#agents.https.destroy();
  }

  #key(container: string, name: string): string {
    return `${assertContainerName(container)}/${assertBlobPath(name, 'blob name')}`;
  }

  #url(pathname: string, query: Record<string, string> = {}): URL {
    const url = new URL(this.#base.href.replace(/\/+$/, '') + pathname);
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    return url;
  }

  #objectUrl(key: string, query: Record<string, string> = {}): URL {
    return this.#url(`/storage/v1/b/${encodeURIComponent(this.#bucket)}/o/${encodeURIComponent(key)}`, query);
  }

  /** The resumable session URL must stay on the service's own origin: it is where the bytes (and the token) go. */
  #sessionUrl(location: string | undefined): URL {
    let url: URL | undefined;
    try {
      url = location ? new URL(location, this.#base) : undefined;
    } catch {
      url = undefined;
    }
    if (!url || url.origin !== this.#base.origin) throw new UpstreamError('StorageError', 'Storage returned no usable upload session');
    return url;
  }

  /** Cancels an upload session (Google answers 499); a server that cannot is left to expire it. Best effort. */
  async #cancel(session: URL): Promise<void> {
    try {
      const response = await this.#send('DELETE', session, { signal: AbortSignal.timeout(accessDeadlineMs) });
      response.resume();
    } catch {
      // The session was never finalised: no object exists either way.
    }
  }

  async #deleteObject(key: string, at: At): Promise<void> {
    const response = await this.#send('DELETE', this.#objectUrl(key));
    if (response.statusCode === 404 && !(await isBucketMissing(response))) return;
    await expectOk(response, at);
    response.resume();
  }

  async #page(query: Record<string, string>, at: At, signal?: AbortSignal, callerSignal?: AbortSignal): Promise<ObjectsPage> {
    const url = this.#url(`/storage/v1/b/${encodeURIComponent(this.#bucket)}/o`, {
      fields: 'items(name,size,etag,md5Hash,generation,updated,contentType),prefixes,nextPageToken',
      ...query,
    });
    try {
      const response = await this.#send('GET', url, { signal, callerSignal });
      return await readJson<ObjectsPage>(await expectOk(response, at));
    } catch (err) {
      throw mapNetworkError(err, callerSignal);
    }
  }

  async *#pages(query: Record<string, string>, at: At): AsyncGenerator<ObjectsPage> {
    let pageToken: string | undefined;
    do {
      const page = await this.#page({ ...query, ...(pageToken ? { pageToken } : {}) }, at);
      yield page;
      pageToken = page.nextPageToken;
    } while (pageToken);
  }

  /** One authenticated request; resolves when the response starts. Errors other than HTTP statuses are mapped. */
  async #send(
    method: string,
    url: URL,
    options: { headers?: Record<string, string>; body?: Buffer | Readable; signal?: AbortSignal; callerSignal?: AbortSignal } = {},
  ): Promise<http.IncomingMessage> {
    const token = await this.#accessToken(options.callerSignal);
    try {
      return await this.#request(method, url, {
        ...options,
        signal: options.signal ?? withDeadline(requestDeadlineMs),
        headers: { ...options.headers, authorization: `Bearer ${token}` },
      });
    } catch (err) {
      throw mapNetworkError(err, options.callerSignal);
    }
  }

  #request(
    method: string,
    url: URL,
    options: { headers?: Record<string, string>; body?: Buffer | Readable; signal: AbortSignal },
  ): Promise<http.IncomingMessage> {
    return new Promise((resolve, reject) => {
      const secure = url.protocol === 'https:';
      const headers: Record<string, string> = { 'user-agent': 'reel-gcs', ...options.headers };
      if (Buffer.isBuffer(options.body)) headers['content-length'] = String(options.body.length);
      else if (options.body === undefined && method !== 'GET' && method !== 'HEAD') headers['content-length'] = '0';
      const request = (secure ? https : http).request(url, {
        method,
        headers,
        agent: secure ? this.#agents.https : this.#agents.http,
        signal: options.signal,
      });
      request.once('response', resolve);
      // `on`, not `once`: an abort after the response started may fail the request again; later rejections are no-ops.
      request.on('error', reject);
      const body = options.body;
      if (body === undefined || Buffer.isBuffer(body)) {
        request.end(body);
        return;
      }
      // A failing body fails the request: the server never sees a complete upload, so never finalises it.
      if (body.destroyed) {
        request.destroy(body.errored ?? new Error('upload body closed before it was sent'));
        return;
      }
      body.once('error', (err) => request.destroy(err));
      body.once('close', () => {
        if (!body.readableEnded) request.destroy(body.errored ?? new Error('upload body closed before its end'));
      });
      body.pipe(request);
    });
  }

  /** A cached access token, renewed a minute before it expires; concurrent callers share one exchange. */
  async #accessToken(signal?: AbortSignal): Promise<string> {
    if (this.#token && this.#token.expiresAt - tokenMarginMs > Date.now()) return this.#token.value;
    this.#pendingToken ??= this.#exchange().finally(() => {
      this.#pendingToken = undefined;
    });
    try {
      return await this.#pendingToken;
    } catch (err) {
      throw mapNetworkError(err, signal);
    }
  }

  /** RFC 7523: a JWT signed with the service account's key, exchanged at its `token_uri`. */
  async #exchange(): Promise<string> {
    const { clientEmail, privateKey, tokenUri } = this.#account;
    const now = Math.floor(Date.now() / 1000);
    const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const unsigned = `${encode({ alg: 'RS256', typ: 'JWT' })}.${encode({ iss: clientEmail, scope, aud: tokenUri.href, iat: now, exp: now + 3600 })}`;
    const assertion = `${unsigned}.${sign('sha256', Buffer.from(unsigned), privateKey).toString('base64url')}`;
    const form = new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion }).toString();
    const response = await this.#request('POST', tokenUri, {
      body: Buffer.from(form),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      signal: AbortSignal.timeout(accessDeadlineMs),
    });
    const text = await readText(response);
    let answer: { access_token?: unknown; expires_in?: unknown; error?: unknown } = {};
    try {
      answer = JSON.parse(text) as typeof answer;
    } catch {
      // not JSON: reported by status below
    }
    if (response.statusCode !== 200 || typeof answer.access_token !== 'string') {
      const reason = knownCode(answer.error, tokenErrors) ?? `HTTP ${response.statusCode ?? 0}`;
      if (response.statusCode === 400 || response.statusCode === 401 || response.statusCode === 403) {
        throw new UpstreamError('StorageAccessDenied', `Google refused the service account key (${reason})`);
      }
      throw new UpstreamError('StorageError', `Google's token endpoint failed (${reason})`, { status: (response.statusCode ?? 500) >= 500 ? 503 : 502 });
    }
    const seconds = typeof answer.expires_in === 'number' && answer.expires_in > 0 ? answer.expires_in : 3600;
    this.#token = { value: answer.access_token, expiresAt: Date.now() + seconds * 1000 };
    return answer.access_token;
  }
}

const tokenErrors = new Set(['invalid_grant', 'invalid_client', 'unauthorized_client', 'invalid_scope', 'unsupported_grant_type', 'invalid_request']);
/** GCS error reasons worth showing; any other is reported as its HTTP status. */
const shownReasons = new Set([
  'notFound',
  'forbidden',
  'required',
  'authError',
  'invalid',
  'invalidArgument',
  'conflict',
  'rateLimitExceeded',
  'backendError',
  'internalError',
  'userProjectMissing',
  'accountDisabled',
  'conditionNotMet',
  'requestedRangeNotSatisfiable',
]);
const networkCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE']);

function infoOf(item: GcsObject, name: string): BlobInfo {
  return {
    name,
    size: Number(item.size ?? 0),
    // GCS etags change with metadata too; generation + md5 identify the content version.
    etag: item.etag ?? item.md5Hash ?? item.generation ?? '',
    lastModified: item.updated ? new Date(item.updated) : new Date(0),
    ...(item.contentType ? { contentType: item.contentType } : {}),
  };
}

function containerNotFound(container: string): NotFoundError {
  return new NotFoundError('NotFound', `Container '${container}' not found`);
}

async function readText(response: http.IncomingMessage, limit = Infinity): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response) {
    const bytes = chunk as Buffer;
    size += bytes.length;
    if (size > limit) {
      response.destroy();
      break;
    }
    chunks.push(bytes);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function readJson<T>(response: http.IncomingMessage): Promise<T> {
  const text = await readText(response);
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new UpstreamError('StorageError', 'Storage answered with something other than JSON', { cause: err });
  }
}

/** Error bodies are read once and remembered, so a 404 can be checked for "bucket" and then reported. */
const errorBodies = new WeakMap<http.IncomingMessage, Promise<{ reason?: string; message?: string }>>();
function errorOf(response: http.IncomingMessage): Promise<{ reason?: string; message?: string }> {
  let body = errorBodies.get(response);
  if (!body) {
    body = readText(response, maxErrorBody)
      .then((text) => {
        const parsed = JSON.parse(text) as { error?: { message?: string; errors?: { reason?: string }[] } };
        return { reason: parsed.error?.errors?.[0]?.reason, message: parsed.error?.message };
      })
      .catch(() => ({}));
    errorBodies.set(response, body);
  }
  return body;
}

/** Google (and the emulator) say "The specified bucket does not exist." for a missing bucket, "No such object" otherwise. */
async function isBucketMissing(response: http.IncomingMessage): Promise<boolean> {
  return /bucket does not exist/i.test((await errorOf(response)).message ?? '');
}

/** Resolves with the response when its status is 2xx, otherwise throws the mapped error. */
async function expectOk(response: http.IncomingMessage, at: At): Promise<http.IncomingMessage> {
  const status = response.statusCode ?? 0;
  if (status >= 200 && status < 300) return response;
  const { reason: rawReason, message } = await errorOf(response);
  const reason = knownCode(rawReason, shownReasons);
  const shown = reason ?? `HTTP ${status}`;
  if (status === 401 || status === 403) {
    throw new UpstreamError('StorageAccessDenied', `Storage account refused the service account (${shown})`);
  }
  if (status === 404 && (/bucket does not exist/i.test(message ?? '') || at.container === undefined)) {
    throw new UpstreamError('StorageBucketNotFound', "The storage account's bucket does not exist");
  }
  if (status === 404) {
    if (at.name === undefined) throw containerNotFound(at.container ?? '');
    throw new NotFoundError('NotFound', `Blob '${at.name}' not found in container '${at.container}'`);
  }
  if (status === 416) throw new RangeNotSatisfiableError('InvalidRange', `Range is beyond the end of blob '${at.name}'`);
  if (status === 409 || status === 412) throw new ConflictError('Conflict', `Storage reported a conflict (${shown})`);
  throw new UpstreamError('StorageError', `Storage failed the request (${shown})`, { status: status >= 500 ? 503 : 502 });
}

/** Converts transport errors at the boundary; Reel errors pass. Messages never carry the key or a token. */
function mapNetworkError(err: unknown, signal?: AbortSignal): Error {
  if (err instanceof ReelError) return err;
  if (signal?.aborted) return signal.reason instanceof Error ? signal.reason : new Error('aborted', { cause: signal.reason });
  if (isAddressRefusal(err)) return addressNotAllowed(err);
  const name = err instanceof Error ? err.name : '';
  const code = (err as { code?: unknown } | undefined)?.code;
  if (name === 'AbortError' || code === 'ABORT_ERR') return new UpstreamError('StorageTimeout', 'Storage did not answer in time', { cause: err, status: 503 });
  if (typeof code === 'string' && networkCodes.has(code)) {
    return new UpstreamError('StorageUnavailable', `Storage is unreachable (${code})`, { cause: err, status: 503 });
  }
  return new UpstreamError('StorageError', 'Storage request failed', { cause: err });
}
