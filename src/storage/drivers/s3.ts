import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type ListObjectsV2CommandOutput,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { Readable } from 'node:stream';
import { BadRequestError, ConflictError, NotFoundError, RangeNotSatisfiableError, ReelError, UpstreamError } from '../../shared/errors.js';
import type { BlobInfo, BlobListing, BlobStore, ByteRange, WriteOptions, ReadIntoOptions } from '../blob-store.js';
import { assertBlobPath, assertContainerName, isValidContainerName } from '../storage-paths.js';
import { withDeadline, assertRange, guardStream, readIntoFromStream, addressNotAllowed, isAddressRefusal, knownCode } from './driver-utils.js';
import type { AddressPolicy } from '../../shared/address-policy.js';
import { guardedAgents } from '../../shared/outbound-agent.js';
import { s3Location } from '../../shared/storage-location.js';

export interface S3BlobStoreOptions {
  bucketName: string;
  region?: string;
  /** For S3-compatible services (MinIO, R2, …); AWS itself needs none. */
  endpoint?: string;
  forcePathStyle?: boolean;
  accessKeyId: string;
  secretAccessKey: string;
  /** Which addresses every connection may reach (checked per connection, so a DNS change is caught). */
  addressPolicy: AddressPolicy;
}

const partSize = 8 * 1024 * 1024;
const uploadConcurrency = 4;
/** Requests that should answer quickly carry a deadline; reads only until the response starts. */
const accessDeadlineMs = 10_000;
const requestDeadlineMs = 30_000;
/** SigV4 presigned URLs live at most 7 days. */
const maxPresignSeconds = 7 * 24 * 3600;

/**
 * One S3 bucket, MK.IO style: a container is a top-level prefix (`container/…`). `createContainer` writes a
 * zero-byte marker object `container/` so an empty container exists; any object under the prefix also makes
 * it exist, and `deleteContainer` removes everything under it (marker included).
 */
export class S3BlobStore implements BlobStore {
  readonly #client: S3Client;
  readonly #bucket: string;
  readonly #endpoint: string | undefined;

  constructor(options: S3BlobStoreOptions) {
    if (!options.bucketName) throw new BadRequestError('InvalidBucketName', 'S3 bucket name is required');
    if (options.endpoint !== undefined) {
      let url: URL;
      try {
        url = new URL(options.endpoint);
      } catch (err) {
        throw new BadRequestError('InvalidStorageUrl', 'S3 endpoint is not a valid URL', { cause: err });
      }
      if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new BadRequestError('InvalidStorageUrl', 'S3 endpoint must use https');
    }
    this.#bucket = options.bucketName;
    this.#endpoint = options.endpoint;
    const agents = guardedAgents(options.addressPolicy);
    this.#client = new S3Client({
      region: options.region ?? 'us-east-1',
      ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
      forcePathStyle: options.forcePathStyle ?? false,
      credentials: { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey },
      // A wrong endpoint must fail in seconds: short connect timeout, few attempts.
      maxAttempts: 3,
      // Every connection (AWS hosts derived from bucket and region included) goes through the guarded agents.
      requestHandler: { connectionTimeout: 3_000, httpAgent: agents.http, httpsAgent: agents.https },
      // Checksums only where S3 requires them: many S3-compatible services reject the SDK's default
      // (CRC32 trailers in aws-chunked bodies). TLS still protects the bytes in transit.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      // AWS answers a wrong region with a redirect; follow it instead of failing every request.
      followRegionRedirects: true,
    });
  }

  async location(container: string): Promise<string> {
    return s3Location({ bucketName: this.#bucket, endpoint: this.#endpoint }, assertContainerName(container));
  }

  async checkAccess(signal?: AbortSignal): Promise<void> {
    try {
      // Listing rather than HeadBucket: it needs the permission Reel uses anyway, and its error has a body
      // naming the reason (InvalidAccessKeyId, SignatureDoesNotMatch, AccessDenied, NoSuchBucket).
      await this.#client.send(new ListObjectsV2Command({ Bucket: this.#bucket, MaxKeys: 1 }), { abortSignal: withDeadline(accessDeadlineMs, signal) });
    } catch (err) {
      throw mapS3Error(err, {}, signal);
    }
  }

  async listContainers(limit = Infinity): Promise<string[]> {
    const names: string[] = [];
    try {
      for await (const page of this.#pages({ Delimiter: '/', MaxKeys: Math.min(1000, Math.max(1, limit)) })) {
        for (const p of page.CommonPrefixes ?? []) {
          const name = p.Prefix?.slice(0, -1) ?? '';
          if (isValidContainerName(name)) names.push(name);
          if (names.length >= limit) return names;
        }
      }
      return names;
    } catch (err) {
      throw mapS3Error(err, {});
    }
  }

  async containerExists(container: string): Promise<boolean> {
    const prefix = `${assertContainerName(container)}/`;
    try {
      const page = await this.#client.send(new ListObjectsV2Command({ Bucket: this.#bucket, Prefix: prefix, MaxKeys: 1 }), {
        abortSignal: withDeadline(requestDeadlineMs),
      });
      return (page.Contents?.length ?? 0) > 0;
    } catch (err) {
      throw mapS3Error(err, { container });
    }
  }

  /** Check-then-put: S3 has no atomic "create prefix", and two racing creates both succeeding is harmless. */
  async createContainer(container: string): Promise<void> {
    if (await this.containerExists(container)) {
      throw new ConflictError('ContainerAlreadyExists', `Container '${container}' already exists`);
    }
    try {
      await this.#client.send(new PutObjectCommand({ Bucket: this.#bucket, Key: `${container}/`, Body: '', ContentLength: 0 }), {
        abortSignal: withDeadline(requestDeadlineMs),
      });
    } catch (err) {
      throw mapS3Error(err, { container });
    }
  }

  async deleteContainer(container: string): Promise<void> {
    const prefix = `${assertContainerName(container)}/`;
    try {
      // Deleting as we page is safe: continuation tokens are positions in key order, not offsets.
      for await (const page of this.#pages({ Prefix: prefix })) {
        const keys = (page.Contents ?? []).flatMap((o) => (o.Key ? [{ Key: o.Key }] : []));
        if (keys.length === 0) continue;
        const result = await this.#client.send(new DeleteObjectsCommand({ Bucket: this.#bucket, Delete: { Objects: keys, Quiet: true } }), {
          abortSignal: withDeadline(requestDeadlineMs),
        });
        if (result.Errors?.length) {
          throw new UpstreamError(
            'StorageError',
            `Storage refused to delete ${result.Errors.length} object(s) of container '${container}' (${result.Errors[0]?.Code ?? 'unknown'})`,
          );
        }
      }
    } catch (err) {
      throw mapS3Error(err, { container });
    }
  }

  async list(container: string, prefix: string, options?: { recursive?: boolean }): Promise<BlobListing> {
    const root = `${assertContainerName(container)}/`;
    const base = prefix === '' ? root : `${root}${assertBlobPath(prefix, 'prefix')}/`;
    const listing: BlobListing = { folders: [], blobs: [] };
    try {
      for await (const page of this.#pages({ Prefix: base, ...(options?.recursive ? {} : { Delimiter: '/' }) })) {
        for (const p of page.CommonPrefixes ?? []) {
          if (p.Prefix) listing.folders.push(p.Prefix.slice(root.length, -1));
        }
        for (const o of page.Contents ?? []) {
          // Keys ending in `/` are markers (ours for the container, or folder markers other tools make).
          if (!o.Key || o.Key.endsWith('/')) continue;
          listing.blobs.push({ name: o.Key.slice(root.length), size: o.Size ?? 0, etag: o.ETag ?? '', lastModified: o.LastModified ?? new Date(0) });
        }
      }
    } catch (err) {
      throw mapS3Error(err, { container });
    }
    // An empty result cannot tell a missing container from an empty folder; only then ask.
    if (listing.folders.length === 0 && listing.blobs.length === 0 && !(await this.containerExists(container))) {
      throw containerNotFound(container);
    }
    return listing;
  }

  async stat(container: string, name: string): Promise<BlobInfo | undefined> {
    const key = this.#key(container, name);
    try {
      const head = await this.#client.send(new HeadObjectCommand({ Bucket: this.#bucket, Key: key }), { abortSignal: withDeadline(requestDeadlineMs) });
      return {
        name,
        size: head.ContentLength ?? 0,
        etag: head.ETag ?? '',
        lastModified: head.LastModified ?? new Date(0),
        ...(head.ContentType ? { contentType: head.ContentType } : {}),
      };
    } catch (err) {
      if (statusOf(err) === 404 && errorName(err) !== 'NoSuchBucket') return undefined;
      throw mapS3Error(err, { container, name });
    }
  }

  async readInto(container: string, name: string, offset: number, target: Uint8Array, options?: ReadIntoOptions): Promise<number> {
    if (target.length === 0) return 0;
    return readIntoFromStream(await this.read(container, name, { offset, length: target.length }, options?.signal), target);
  }

  async read(container: string, name: string, range?: ByteRange, signal?: AbortSignal): Promise<Readable> {
    if (range) assertRange(range);
    const key = this.#key(container, name);
    // One controller for the whole download: the deadline may abort it only until the response starts, the
    // caller's signal at any time.
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new Error('deadline')), requestDeadlineMs);
    const onAbort = () => controller.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    const release = () => signal?.removeEventListener('abort', onAbort);
    try {
      if (signal?.aborted) onAbort();
      const response = await this.#client.send(
        new GetObjectCommand({
          Bucket: this.#bucket,
          Key: key,
          ...(range ? { Range: `bytes=${range.offset}-${range.offset + range.length - 1}` } : {}),
        }),
        { abortSignal: controller.signal },
      );
      const body = response.Body as Readable | undefined;
      if (!body) throw new UpstreamError('StorageError', 'Storage returned no body for a download');
      if (range && !response.ContentRange?.startsWith(`bytes ${range.offset}-`)) {
        body.destroy();
        throw new UpstreamError('StorageError', 'Storage did not honour the requested byte range');
      }
      // Some S3-compatible servers send more than a range asked for (s3rver reads `bytes=0-0` as "to the
      // end"); the limit keeps the promise of never handing out more than asked.
      const out = guardStream(body, (err) => (signal?.aborted ? signal.reason : mapS3Error(err, { container, name })), range?.length);
      out.once('close', release);
      return out;
    } catch (err) {
      release();
      throw mapS3Error(err, { container, name }, signal);
    } finally {
      clearTimeout(timer);
    }
  }

  async write(container: string, name: string, body: Readable, options?: WriteOptions): Promise<BlobInfo> {
    const key = this.#key(container, name);
    // S3 would silently create the container by writing under its prefix; other drivers refuse.
    if (!(await this.containerExists(container))) throw containerNotFound(container);
    // An error the body raises is the caller's (a dropped upload, a size limit): rethrow it unchanged.
    let bodyError: Error | undefined;
    body.once('error', (err) => {
      bodyError ??= err;
    });
    // Cancel by failing the body rather than Upload.abort(): abort() rejects at once while an in-flight
    // PutObject may still land, whereas a failed body settles only after every request finished, so "rejected"
    // reliably means "no blob" (a multipart upload is aborted, a single PUT never starts).
    const signal = options?.signal;
    const onAbort = () => body.destroy(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      if (signal?.aborted) onAbort();
      await new Upload({
        client: this.#client,
        params: { Bucket: this.#bucket, Key: key, Body: body, ...(options?.contentType ? { ContentType: options.contentType } : {}) },
        partSize,
        queueSize: uploadConcurrency,
        leavePartsOnError: false,
      }).done();
    } catch (err) {
      body.destroy();
      if (signal?.aborted) throw signal.reason;
      if (bodyError !== undefined) throw bodyError;
      throw mapS3Error(err, { container, name });
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
    const info = await this.stat(container, name);
    if (!info) throw new UpstreamError('StorageError', `Blob '${name}' vanished right after it was written`);
    return info;
  }

  async delete(container: string, name: string): Promise<void> {
    const key = this.#key(container, name);
    try {
      await this.#client.send(new DeleteObjectCommand({ Bucket: this.#bucket, Key: key }), { abortSignal: withDeadline(requestDeadlineMs) });
    } catch (err) {
      if (statusOf(err) === 404 && errorName(err) !== 'NoSuchBucket') return;
      throw mapS3Error(err, { container, name });
    }
  }

  async presign(container: string, name: string, options: { expiresAt: Date; method: 'GET' | 'PUT' }): Promise<string> {
    const key = this.#key(container, name);
    const seconds = Math.floor((options.expiresAt.getTime() - Date.now()) / 1000);
    if (seconds < 1) throw new BadRequestError('InvalidExpiry', 'A presigned URL must expire in the future');
    const command =
      options.method === 'GET' ? new GetObjectCommand({ Bucket: this.#bucket, Key: key }) : new PutObjectCommand({ Bucket: this.#bucket, Key: key });
    try {
      // Longer than S3 allows is shortened to the maximum rather than refused: callers re-sign on demand.
      return await getSignedUrl(this.#client, command, { expiresIn: Math.min(seconds, maxPresignSeconds) });
    } catch (err) {
      throw mapS3Error(err, { container, name });
    }
  }

  async close(): Promise<void> {
    this.#client.destroy();
  }

  #key(container: string, name: string): string {
    return `${assertContainerName(container)}/${assertBlobPath(name, 'blob name')}`;
  }

  async *#pages(params: { Prefix?: string; Delimiter?: string; MaxKeys?: number }): AsyncGenerator<ListObjectsV2CommandOutput> {
    let token: string | undefined;
    do {
      const page = await this.#client.send(new ListObjectsV2Command({ Bucket: this.#bucket, ...params, ContinuationToken: token }), {
        abortSignal: withDeadline(requestDeadlineMs),
      });
      yield page;
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }
}

function containerNotFound(container: string): NotFoundError {
  return new NotFoundError('NotFound', `Container '${container}' not found`);
}

function statusOf(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
}

function errorName(err: unknown): string | undefined {
  return err instanceof Error ? err.name : undefined;
}

/** Service error names worth showing; any other is reported as its HTTP status (see knownCode). */
const shownNames = new Set([
  'NoSuchBucket',
  'NoSuchKey',
  'NotFound',
  'InvalidBucketName',
  'SlowDown',
  'ServiceUnavailable',
  'InternalError',
  'InvalidRange',
  'PreconditionFailed',
  'RequestTimeout',
  'InvalidArgument',
  'InvalidRequest',
  'NotImplemented',
  'MethodNotAllowed',
  'PermanentRedirect',
  'AuthorizationHeaderMalformed',
  'BucketAlreadyExists',
  'BucketAlreadyOwnedByYou',
  'TimeoutError',
  'AbortError',
  'RequestTimeTooSkewed',
  'EntityTooLarge',
  'NoSuchUpload',
]);

const authNames = new Set(['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'AccessDenied', 'InvalidToken', 'ExpiredToken', 'AllAccessDisabled']);
const networkCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE']);

/** Converts SDK errors at the boundary. Messages carry the service's error code, never the credentials. */
function mapS3Error(err: unknown, at: { container?: string; name?: string }, signal?: AbortSignal): Error {
  if (err instanceof ReelError) return err;
  if (signal?.aborted) return signal.reason instanceof Error ? signal.reason : new Error('aborted', { cause: signal.reason });
  const options = { cause: err };
  if (isAddressRefusal(err)) return addressNotAllowed(err);
  // The name comes from the service's answer: shown only when it is a known S3 error.
  const rawName = errorName(err);
  const name = knownCode(rawName, shownNames) ?? (rawName && authNames.has(rawName) ? rawName : 'Unknown');
  const status = statusOf(err);
  if (status === undefined) {
    if (name === 'AbortError') return new UpstreamError('StorageTimeout', 'Storage did not answer in time', { ...options, status: 503 });
    const code = (err as { code?: unknown } | undefined)?.code;
    if (name === 'TimeoutError' || (typeof code === 'string' && networkCodes.has(code))) {
      return new UpstreamError('StorageUnavailable', `Storage is unreachable (${typeof code === 'string' ? code : name})`, { ...options, status: 503 });
    }
    return new UpstreamError('StorageError', `Storage request failed (${name})`, options);
  }
  if (status === 403 || authNames.has(name)) {
    return new UpstreamError(
      'StorageAccessDenied',
      `Storage account refused the access key (${status === 403 && !authNames.has(name) ? 'HTTP 403' : name})`,
      options,
    );
  }
  if (name === 'NoSuchBucket' || (status === 404 && at.container === undefined)) {
    return new UpstreamError('StorageBucketNotFound', "The storage account's bucket does not exist", options);
  }
  if (status === 404) {
    if (at.name === undefined) return new NotFoundError('NotFound', `Container '${at.container}' not found`, options);
    return new NotFoundError('NotFound', `Blob '${at.name}' not found in container '${at.container}'`, options);
  }
  if (status === 416) return new RangeNotSatisfiableError('InvalidRange', `Range is beyond the end of blob '${at.name}'`, options);
  if (status === 409) return new ConflictError('Conflict', `Storage reported a conflict (${name})`, options);
  return new UpstreamError('StorageError', `Storage failed the request (${name === 'Unknown' ? `HTTP ${status}` : name})`, {
    ...options,
    status: status >= 500 ? 503 : 502,
  });
}
