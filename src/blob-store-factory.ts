import type { BlobStoreFactory } from './storage/blob-store.js';
import type { StoragePolicy } from './storage/storage-policy.js';
import { LocalBlobStore } from './storage/drivers/local.js';

/**
 * The one place that names concrete drivers (used by both composition roots, main.ts and origin-main.ts).
 * `readOnly`: the origin processes' stores, which leave the writers' temp-file sweep to the main process.
 */
export function blobStoreFactory(policy: StoragePolicy, options: { readOnly?: boolean } = {}): BlobStoreFactory {
  return async (spec) => {
    switch (spec.type) {
      case 'Local':
        return new LocalBlobStore({ path: spec.config.path, allowedRoots: spec.allowedRoots, sweepStaleTempFiles: !options.readOnly });
      case 'Microsoft.Storage': {
        const { AzureBlobStore } = await import('./storage/drivers/azure.js');
        return new AzureBlobStore({ url: spec.config.url, sasToken: spec.secret.sasToken, addressPolicy: policy.address });
      }
      case 'AWS.S3': {
        const { S3BlobStore } = await import('./storage/drivers/s3.js');
        return new S3BlobStore({ ...spec.config, ...spec.secret, addressPolicy: policy.address });
      }
      case 'Google.Storage': {
        const { GcsBlobStore } = await import('./storage/drivers/gcs.js');
        return new GcsBlobStore({ ...spec.config, serviceAccount: spec.secret.gac, addressPolicy: policy.address });
      }
    }
  };
}

/** A Local store over one scratch directory (the origin's warm-up writes its synthetic file there). */
export function scratchLocalStore(dir: string): LocalBlobStore {
  return new LocalBlobStore({ path: dir, allowedRoots: [dir], sweepStaleTempFiles: false });
}
