import type { Readable } from 'node:stream';

/** One file in a container. `etag` identifies the content version (caches key on it). */
export interface BlobInfo {
  /** Path inside the container, `/`-separated, never starting with `/`. */
  name: string;
  /** Size in bytes. */
  size: number;
  etag: string;
  lastModified: Date;
  contentType?: string;
}

export interface BlobListing {
  /** Immediate sub-folders under the prefix (names relative to the container, without trailing `/`). */
  folders: string[];
  blobs: BlobInfo[];
}

/** Byte range, both ends inclusive as in HTTP Range. */
export interface ByteRange {
  offset: number;
  length: number;
}

export interface WriteOptions {
  contentType?: string;
  signal?: AbortSignal;
}

export interface ReadIntoOptions {
  /**
   * The version the caller's index was built from (a `BlobInfo.etag`). Drivers that keep files open check it,
   * so bytes of a replaced file never land in a segment planned from the old one; a mismatch that persists
   * after reopening throws `PreconditionFailedError`.
   */
  etag?: string;
  signal?: AbortSignal;
}

/**
 * Where asset files live. One interface for local disk, Azure Blob, S3 and Google Cloud Storage; callers never see a driver's
 * own errors: drivers throw `NotFoundError` for a missing container or blob, `BadRequestError` for an
 * invalid name and `UpstreamError` when the service fails or refuses the credential.
 *
 * Container and blob names reaching a driver are already validated by `storage-paths.ts`; drivers check
 * again where a bad name could escape their root.
 */
export interface BlobStore {
  /** Proves the account is reachable and listable with its credential (used on create and on new credentials). */
  checkAccess(signal?: AbortSignal): Promise<void>;
  /**
   * Where the container physically lives, the same string for every account reaching it (see
   * storage-location.ts): how assets of different accounts and projects over one container are recognised.
   */
  location(container: string): Promise<string>;
  /** Lists container names, up to `limit`. */
  listContainers(limit?: number): Promise<string[]>;
  containerExists(container: string): Promise<boolean>;
  /** Creates the container; throws `ConflictError` if it exists. */
  createContainer(container: string): Promise<void>;
  /** Deletes the container and everything in it; missing is not an error. */
  deleteContainer(container: string): Promise<void>;
  /**
   * Lists one level under `prefix` (`''` = container root), or everything below it when `recursive`.
   * `prefix` is a folder path without a trailing `/`; a missing folder lists as empty, a missing container
   * throws `NotFoundError`. Recursive listings report blobs only (`folders` is empty).
   */
  list(container: string, prefix: string, options?: { recursive?: boolean }): Promise<BlobListing>;
  /** Metadata of one blob, or `undefined` when it does not exist. */
  stat(container: string, name: string): Promise<BlobInfo | undefined>;
  /**
   * Streams a blob or a byte range of it, never reading more than asked. A range running past the end is cut
   * short; one starting at or after the end throws `RangeNotSatisfiableError`.
   */
  read(container: string, name: string, range?: ByteRange, signal?: AbortSignal): Promise<Readable>;
  /**
   * Copies the bytes at `offset` straight into `target` (no intermediate buffers) and resolves with how many
   * were copied: `target.length`, or fewer when the blob ends first. This is the packager's hot path: a
   * segment's sample runs land directly at their place in the response buffer. An offset at or after the end
   * throws `RangeNotSatisfiableError`.
   */
  readInto(container: string, name: string, offset: number, target: Uint8Array, options?: ReadIntoOptions): Promise<number>;
  /**
   * Streams `body` into a blob without buffering it whole; returns the stored blob's info. Throws
   * `NotFoundError` for a missing container. If `body` errors, that error is rethrown unchanged; if
   * `options.signal` aborts, its reason is thrown. Either way no blob (partial or not) is left behind.
   */
  write(container: string, name: string, body: Readable, options?: WriteOptions): Promise<BlobInfo>;
  /** Deletes a blob; missing is not an error. */
  delete(container: string, name: string): Promise<void>;
  /**
   * A URL that lets its holder read (or write) one blob directly from the storage service until `expiresAt`,
   * or `undefined` when the driver has none (Local: Reel serves the bytes itself).
   */
  presign?(container: string, name: string, options: { expiresAt: Date; method: 'GET' | 'PUT' }): Promise<string | undefined>;
  /**
   * The blob's path on this machine's disk when the driver keeps blobs as local files (Local), checked as every
   * other access is; `undefined` otherwise. Lets a worker's ffmpeg read a local input directly (ranged file
   * reads) instead of through Reel's own HTTP file route.
   */
  localPath?(container: string, name: string): Promise<string | undefined>;
  /** Releases clients and sockets. */
  close?(): Promise<void>;
}

/** What a driver needs to reach one storage account. Secrets come decrypted and never leave the process. */
export type StorageAccountSpec =
  /** `allowedRoots`: the owning project's areas (local-areas.ts), never the operator's roots as a whole. */
  | { type: 'Local'; config: { path: string }; secret?: undefined; allowedRoots: string[] }
  | { type: 'Microsoft.Storage'; config: { url: string }; secret: { sasToken: string } }
  | {
      type: 'AWS.S3';
      /** `endpoint` and `forcePathStyle` are Reel extensions for S3-compatible services. */
      config: { bucketName: string; region?: string; endpoint?: string; forcePathStyle?: boolean };
      secret: { accessKeyId: string; secretAccessKey: string };
    }
  | {
      type: 'Google.Storage';
      /** `endpoint` is a Reel extension for GCS-compatible services (an emulator). */
      config: { bucketName: string; endpoint?: string };
      /** `gac`: the service account key JSON object (MK.IO's `credential.gac`). */
      secret: { gac: Record<string, string> };
    };

/**
 * Builds a driver for an account; main.ts supplies the one that knows every concrete driver. Async so a
 * driver's SDK is loaded only when an account of its kind is first used (the Azure and AWS SDKs cost ~40 MB).
 */
export type BlobStoreFactory = (spec: StorageAccountSpec) => Promise<BlobStore>;
