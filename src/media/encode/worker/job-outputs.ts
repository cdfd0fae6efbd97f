import fs from 'node:fs';
import type { AssetRow } from '../../../store/database.js';
import type { JobRepository } from '../../../store/job-repository.js';
import type { BlobStore } from '../../../storage/blob-store.js';
import { assertBlobPath, joinBlobPath } from '../../../storage/storage-paths.js';
import type { Lease } from '../../../queue/job-queue.js';
import type { Logger } from '../../../shared/log.js';
import { EncodeError, type EncodedFile } from '../encode-engine.js';
import { JobAbort } from './job-abort.js';

/** Where a job's outputs go: its output asset and that asset's storage driver. */
export interface OutputTarget {
  asset: AssetRow;
  store: BlobStore;
}

/**
 * Streams each output file from disk into the output container, recording its name first (in `uploaded` and the
 * job's `output_files`, so a crash mid-upload still leaves a record to clean up). The `.ism` goes last: until it
 * is there the asset has no server manifest naming half a rendition set. Each write is fenced by the lease: an
 * attempt whose lease went to another worker must not write into the output asset.
 */
export async function uploadOutputs(options: {
  jobs: JobRepository;
  jobId: string;
  files: readonly EncodedFile[];
  target: OutputTarget;
  uploaded: string[];
  lease: Lease;
  signal: AbortSignal;
  log: Logger;
}): Promise<void> {
  const { jobs, jobId, files, target, uploaded, lease, signal } = options;
  const ordered = [...files.filter((f) => !/\.ism$/i.test(f.name)), ...files.filter((f) => /\.ism$/i.test(f.name))];
  for (const file of ordered) {
    signal.throwIfAborted();
    await lease.heartbeat().catch((err: unknown) => {
      options.log.warn({ err }, 'job lease lost before an upload; stopping this attempt');
      throw new JobAbort('lease');
    });
    const blob = joinBlobPath(target.asset.sub_path, assertBlobPath(file.name, 'output file name'));
    uploaded.push(blob);
    await jobs.recordOutputFiles(jobId, uploaded);
    try {
      await target.store.write(target.asset.container, blob, fs.createReadStream(file.path), { contentType: file.contentType, signal });
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      throw new EncodeError('UploadTransientError', `Could not write '${file.name}' into output asset '${target.asset.name}'`, { cause: err });
    }
  }
}

/** Removes blobs a job wrote, newest first; best effort, each failure logged. */
export async function removeOutputs(target: OutputTarget | undefined, blobs: readonly string[], log: Logger): Promise<void> {
  if (!target || blobs.length === 0) return;
  for (const blob of [...blobs].reverse()) {
    await target.store.delete(target.asset.container, blob).catch((err: unknown) => log.warn({ err, blob }, 'could not remove a job output'));
  }
  log.info({ count: blobs.length, container: target.asset.container }, 'job outputs removed');
}
