import { BlobServiceClient, RestError, type ContainerClient, type StoragePipelineOptions } from '@azure/storage-blob';
import type { Agent } from 'node:http';
import type { Readable } from 'node:stream';
import { BadRequestError, ConflictError, NotFoundError, RangeNotSatisfiableError, ReelError, UpstreamError } from '../../shared/errors.js';
import type { BlobInfo, BlobListing, BlobStore, ByteRange, WriteOptions, ReadIntoOptions } from '../blob-store.js';
import { assertBlobPath, assertContainerName, isValidContainerName } from '../storage-paths.js';
import { withDeadline, assertRange, guardStream, readIntoFromStream, addressNotAllowed, isAddressRefusal, knownCode } from './driver-utils.js';
import type { AddressPolicy } from '../../shared/address-policy.js';
import { guardedAgents } from '../../shared/outbound-agent.js';
import { azureLocation } from '../../shared/storage-location.js';

export interface AzureBlobStoreOptions {
  /** Blob service endpoint, e.g. `https://account.blob.core.windows.net`, without a query. */
  url: string;
  /** Account SAS, with or without the leading `?`. */
  sasToken: string;
  /** Which addresses every connection may reach (checked per connection, so a DNS change is caught). */
  addressPolicy: AddressPolicy;
}

const blockSize = 8 * 1024 * 1024;
const uploadConcurrency = 4;
/**
 * The SDK has no client-side connect timeout, so every request that should answer quickly carries a
 * deadline: an unreachable (black-holed) account then fails in seconds instead of after the OS's TCP timeout.
 * Reads are bounded only until the response starts; writes only by the caller's signal.
 */
const accessDeadlineMs = 10_000;
const requestDeadlineMs = 30_000;

/**
 * Azure Blob Storage through an account SAS. Containers are Azure containers; folders are `/`-delimited name
 * prefixes. No `presign`: the only SAS we hold is the account's, and handing it out would grant far more than
 * one blob.
 */
export class AzureBlobStore implements BlobStore {
  readonly #service: BlobServiceClient;
  readonly #agent: Agent;
  readonly #url: string;

  constructor(options: AzureBlobStoreOptions) {
    let url: URL;
    try {
      url = new URL(options.url);
    } catch (err) {
      throw new BadRequestError('InvalidStorageUrl', 'Storage account URL is not a valid URL', { cause: err });
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new BadRequestError('InvalidStorageUrl', 'Storage account URL must use https');
    }
    if (url.search || url.hash) {
      throw new BadRequestError('InvalidStorageUrl', 'Storage account URL must not carry a query; the SAS token goes in its own field');
    }
    const sas = options.sasToken.replace(/^\?/, '');
    this.#url = `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
    const agents = guardedAgents(options.addressPolicy);
    this.#agent = url.protocol === 'https:' ? agents.https : agents.http;
    (url.protocol === 'https:' ? agents.http : agents.https).destroy();
    // `agent` reaches the core pipeline (createPipelineFromOptions) though StoragePipelineOptions does not declare it.
    const pipelineOptions: StoragePipelineOptions & { agent: Agent } = {
      // Few, short retries: a wrong URL or a dead account must fail fast; blocks and ranged downloads retry
      // their own way on top of this.
      retryOptions: { maxTries: 3, retryDelayInMs: 500, maxRetryDelayInMs: 2_000 },
      agent: this.#agent,
    };
    this.#service = new BlobServiceClient(`${this.#url}?${sas}`, undefined, pipelineOptions);
  }

  async location(container: string): Promise<string> {
    return azureLocation(this.#url, assertContainerName(container));
  }

  async close(): Promise<void> {
    this.#agent.destroy();
  }

  async checkAccess(signal?: AbortSignal): Promise<void> {
    const abortSignal = withDeadline(accessDeadlineMs, signal);
    try {
      await this.#service.listContainers({ abortSignal }).byPage({ maxPageSize: 1 }).next();
    } catch (err) {
      throw mapAzureError(err, {}, signal);
    }
  }

  async listContainers(limit = Infinity): Promise<string[]> {
    const names: string[] = [];
    try {
      const pages = this.#service.listContainers({ abortSignal: withDeadline(requestDeadlineMs) }).byPage({ maxPageSize: Math.min(5_000, Math.max(1, limit)) });
      for await (const page of pages) {
        for (const item of page.containerItems) {
          // Accounts may hold containers MK.IO could not name (e.g. `$logs`); Reel does not show them.
          if (isValidContainerName(item.name)) names.push(item.name);
          if (names.length >= limit) return names;
        }
      }
      return names;
    } catch (err) {
      throw mapAzureError(err, {});
    }
  }

  async containerExists(container: string): Promise<boolean> {
    const client = this.#container(container);
    try {
      return await client.exists({ abortSignal: withDeadline(requestDeadlineMs) });
    } catch (err) {
      throw mapAzureError(err, { container });
    }
  }

  async createContainer(container: string): Promise<void> {
    const client = this.#container(container);
    try {
      await client.create({ abortSignal: withDeadline(requestDeadlineMs) });
    } catch (err) {
      throw mapAzureError(err, { container });
    }
  }

  async deleteContainer(container: string): Promise<void> {
    const client = this.#container(container);
    try {
      await client.deleteIfExists({ abortSignal: withDeadline(requestDeadlineMs) });
    } catch (err) {
      throw mapAzureError(err, { container });
    }
  }

  async list(container: string, prefix: string, options?: { recursive?: boolean }): Promise<BlobListing> {
    const client = this.#container(container);
    if (prefix !== '') assertBlobPath(prefix, 'prefix');
    const namePrefix = prefix === '' ? '' : `${prefix}/`;
    const abortSignal = withDeadline(requestDeadlineMs);
    const listing: BlobListing = { folders: [], blobs: [] };
    try {
      if (options?.recursive) {
        for await (const item of client.listBlobsFlat({ prefix: namePrefix, abortSignal })) {
          listing.blobs.push(blobInfo(item.name, item.properties));
        }
      } else {
        for await (const item of client.listBlobsByHierarchy('/', { prefix: namePrefix, abortSignal })) {
          if (item.kind === 'prefix') listing.folders.push(item.name.replace(/\/$/, ''));
          else listing.blobs.push(blobInfo(item.name, item.properties));
        }
      }
      // A listing of a missing container comes back as 404 ContainerNotFound, mapped below.
      return listing;
    } catch (err) {
      throw mapAzureError(err, { container });
    }
  }

  async stat(container: string, name: string): Promise<BlobInfo | undefined> {
    const blob = this.#container(container).getBlobClient(assertBlobPath(name, 'blob name'));
    try {
      return blobInfo(name, await blob.getProperties({ abortSignal: withDeadline(requestDeadlineMs) }));
    } catch (err) {
      if (err instanceof RestError && err.statusCode === 404) return undefined;
      throw mapAzureError(err, { container, name });
    }
  }

  async readInto(container: string, name: string, offset: number, target: Uint8Array, options?: ReadIntoOptions): Promise<number> {
    if (target.length === 0) return 0;
    return readIntoFromStream(await this.read(container, name, { offset, length: target.length }, options?.signal), target);
  }

  async read(container: string, name: string, range?: ByteRange, signal?: AbortSignal): Promise<Readable> {
    if (range) assertRange(range);
    const blob = this.#container(container).getBlobClient(assertBlobPath(name, 'blob name'));
    // One controller for the whole download: the deadline may abort it only until the response starts, the
    // caller's signal at any time (and the SDK's mid-stream retries keep honouring it).
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new Error('deadline')), requestDeadlineMs);
    const onAbort = () => controller.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    const release = () => signal?.removeEventListener('abort', onAbort);
    try {
      if (signal?.aborted) onAbort();
      const response = await blob.download(range?.offset ?? 0, range?.length, { abortSignal: controller.signal });
      const body = response.readableStreamBody as Readable | undefined;
      if (!body) throw new UpstreamError('StorageError', 'Storage account returned no body for a download');
      // Azure answers 416 for a range starting at the end; Azurite answers an empty 206 instead.
      const total = Number(response.contentRange?.split('/')[1]);
      if (range && range.offset >= total) {
        body.destroy();
        throw new RangeNotSatisfiableError('InvalidRange', `Range starting at ${range.offset} is beyond the blob's ${total} bytes`);
      }
      const out = guardStream(body, (err) => (signal?.aborted ? signal.reason : mapAzureError(err, { container, name })));
      out.once('close', release);
      return out;
    } catch (err) {
      release();
      throw mapAzureError(err, { container, name }, signal);
    } finally {
      clearTimeout(timer);
    }
  }

  async write(container: string, name: string, body: Readable, options?: WriteOptions): Promise<BlobInfo> {
    const blob = this.#container(container).getBlockBlobClient(assertBlobPath(name, 'blob name'));
    // An error the body raises is the caller's (a dropped upload, a size limit): rethrow it unchanged.
    let bodyError: Error | undefined;
    body.once('error', (err) => {
      bodyError ??= err;
    });
    try {
      // Blocks are staged and committed only at the end, so a failed upload leaves no blob behind.
      await blob.uploadStream(body, blockSize, uploadConcurrency, {
        abortSignal: options?.signal,
        blobHTTPHeaders: options?.contentType ? { blobContentType: options.contentType } : undefined,
      });
    } catch (err) {
      body.destroy();
      if (options?.signal?.aborted) throw options.signal.reason;
      if (bodyError !== undefined) throw bodyError;
      throw mapAzureError(err, { container, name });
    }
    const info = await this.stat(container, name);
    if (!info) throw new UpstreamError('StorageError', `Blob '${name}' vanished right after it was written`);
    return info;
  }

  async delete(container: string, name: string): Promise<void> {
    const blob = this.#container(container).getBlobClient(assertBlobPath(name, 'blob name'));
    try {
      await blob.deleteIfExists({ deleteSnapshots: 'include', abortSignal: withDeadline(requestDeadlineMs) });
    } catch (err) {
      if (err instanceof RestError && err.statusCode === 404) return; // ContainerNotFound
      throw mapAzureError(err, { container, name });
    }
  }

  #container(container: string): ContainerClient {
    return this.#service.getContainerClient(assertContainerName(container));
  }
}

function blobInfo(name: string, p: { contentLength?: number; etag?: string; lastModified?: Date; contentType?: string }): BlobInfo {
  return {
    name,
    size: p.contentLength ?? 0,
    etag: p.etag ?? '',
    lastModified: p.lastModified ?? new Date(0),
    ...(p.contentType ? { contentType: p.contentType } : {}),
  };
}

/** Service error codes worth showing; any other code is reported as its HTTP status (see knownCode). */
const shownCodes = new Set([
  'ContainerNotFound',
  'BlobNotFound',
  'ResourceNotFound',
  'ContainerAlreadyExists',
  'ContainerBeingDeleted',
  'BlobAlreadyExists',
  'ServerBusy',
  'InternalError',
  'OperationTimedOut',
  'InvalidRange',
  'InvalidQueryParameterValue',
  'InvalidUri',
  'InvalidResourceName',
  'AccountIsDisabled',
  'ConditionNotMet',
  'InvalidHeaderValue',
  'UnsupportedHeader',
  'OutOfRangeInput',
  'LeaseIdMissing',
  'InvalidAuthenticationInfo',
  'NoAuthenticationInformation',
  'AccountBeingCreated',
  'InsufficientAccountPermissions',
  'REQUEST_SEND_ERROR',
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'PARSE_ERROR',
]);

const authCodes = new Set([
  'AuthenticationFailed',
  'AuthorizationFailure',
  'AuthorizationPermissionMismatch',
  'AuthorizationResourceTypeMismatch',
  'AuthorizationServiceMismatch',
  'AuthorizationProtocolMismatch',
  'AuthorizationSourceIPMismatch',
  'InsufficientAccountPermissions',
]);

/**
 * Converts SDK errors at the boundary. Messages carry the service's error code only: RestError messages and
 * requests can include the URL, and so the SAS.
 */
function mapAzureError(err: unknown, at: { container?: string; name?: string }, signal?: AbortSignal): Error {
  if (err instanceof ReelError) return err;
  if (signal?.aborted) return signal.reason instanceof Error ? signal.reason : new Error('aborted', { cause: signal.reason });
  const options = { cause: err };
  if (err instanceof Error && err.name === 'AbortError') {
    return new UpstreamError('StorageTimeout', 'Storage account did not answer in time', { ...options, status: 503 });
  }
  if (isAddressRefusal(err)) return addressNotAllowed(err);
  if (!(err instanceof RestError)) {
    return new UpstreamError('StorageError', 'Storage account request failed', options);
  }
  const rawCode = err.code ?? (err.details as { errorCode?: string } | undefined)?.errorCode;
  const code = knownCode(rawCode, shownCodes) ?? (typeof rawCode === 'string' && authCodes.has(rawCode) ? rawCode : undefined);
  const status = err.statusCode;
  if (status === undefined) {
    // No HTTP answer: DNS, refused or reset connection.
    return new UpstreamError('StorageUnavailable', `Storage account is unreachable (${code ?? 'network error'})`, { ...options, status: 503 });
  }
  if (status === 403 || (code && authCodes.has(code))) {
    return new UpstreamError('StorageAccessDenied', `Storage account refused the SAS token (${code ?? 'HTTP 403'})`, options);
  }
  if (at.container === undefined) {
    // Account-level calls: a 404 means a wrong URL, not a missing container.
    return new UpstreamError('StorageError', `Storage account rejected the request (${code ?? `HTTP ${status}`})`, options);
  }
  if (status === 404) {
    if (code === 'ContainerNotFound' || at.name === undefined) {
      return new NotFoundError('NotFound', `Container '${at.container}' not found`, options);
    }
    return new NotFoundError('NotFound', `Blob '${at.name}' not found in container '${at.container}'`, options);
  }
  if (status === 409) {
    if (at.name !== undefined) return new ConflictError('Conflict', `Blob '${at.name}' is busy (${code ?? 'conflict'})`, options);
    return new ConflictError('ContainerAlreadyExists', `Container '${at.container}' already exists (${code ?? 'conflict'})`, options);
  }
  if (status === 416) {
    return new RangeNotSatisfiableError('InvalidRange', `Range is beyond the end of blob '${at.name}'`, options);
  }
  return new UpstreamError('StorageError', `Storage account failed the request (${code ?? `HTTP ${status}`})`, {
    ...options,
    status: status >= 500 ? 503 : 502,
  });
}
