import fs from 'node:fs';
import type { AssetRow, JobRow } from '../../../store/database.js';
import type { JobRepository, JobStateValues } from '../../../store/job-repository.js';
import { isFinalJobState, type FinalJobState, type JobState } from '../../../store/job-states.js';
import type { BlobStore } from '../../../storage/blob-store.js';
import type { Lease } from '../../../queue/job-queue.js';
import type { Logger } from '../../../shared/log.js';
import type { UsageRepository } from '../../../store/usage-repository.js';
import { encodedSecondsByClass } from '../../../shared/usage-meters.js';
import { EncodeError, type EncodeEngine, type EncodeRequest, type EncodeResult } from '../encode-engine.js';
import { parseIsoDurationSec } from '../../../shared/time.js';
import { JobAbort, jobAbortOf } from './job-abort.js';
import { removeOutputs, uploadOutputs, type OutputTarget } from './job-outputs.js';
import { stageJobInputs, type InputStagingDeps, type StoredJobInput } from './job-input-staging.js';
import type { AttemptScratch, ScratchDirs } from './scratch-dirs.js';

/** What the lease holder does once an attempt ends: complete the delivery, give it back, or let the lease expire. */
export type AttemptOutcome = 'complete' | 'release' | 'abandon';

export interface JobAttemptDeps {
  jobs: JobRepository;
  engine: EncodeEngine;
  scratch: ScratchDirs;
  inputs: InputStagingDeps;
  findOutputAsset: (id: string) => Promise<AssetRow | undefined>;
  openStore: (storageAccountId: string) => Promise<BlobStore>;
  /** How often the job's record is read (cancel) and its progress written. */
  tickMs: number;
  /** Where a finished job's output minutes are recorded (usage metering). */
  usage?: UsageRepository;
}

/** The `error` a job ends with when something other than the encode failed. */
const serviceError = { code: 'ServiceError', message: 'An internal error occurred while running the job', category: 'Service', retry: 'MayRetry' };

/**
 * One delivery of a job: Queued → Scheduled → Processing → Finished/Error, or Canceled when a user cancels it
 * (the record going to Canceling, or gone). Every attempt starts from scratch: what an earlier attempt uploaded
 * is removed first, and a failed or canceled attempt removes what it uploaded. The lease holder aborts
 * `controller` on a lost lease, a shutdown or a cancel seen in this process; `run` never throws.
 */
export class JobAttempt {
  /** Blob paths written (or being written) into the output container, in order. */
  private readonly uploaded: string[] = [];
  private progress = 0;
  private readonly jobId: string;

  constructor(
    private readonly deps: JobAttemptDeps,
    private readonly lease: Lease,
    private readonly controller: AbortController,
    private readonly log: Logger,
  ) {
    this.jobId = lease.message.jobId;
  }

  async run(): Promise<AttemptOutcome> {
    try {
      return await this.execute();
    } catch (err) {
      // Bookkeeping itself failed (database or storage trouble outside the encode): end in Error if we can.
      this.log.error({ err }, 'job failed unexpectedly');
      try {
        await this.end('Error', serviceError);
        return 'complete';
      } catch (again) {
        this.log.error({ err: again }, 'could not record the job failure; the lease will expire and the job run again');
        return 'abandon';
      }
    }
  }

  private async execute(): Promise<AttemptOutcome> {
    const { jobs } = this.deps;
    const { jobId, log } = this;
    const row = await jobs.findById(jobId);
    if (!row || isFinalJobState(row.state)) return 'complete';
    const target = await this.outputTarget(row);
    const earlier = JSON.parse(row.output_files) as string[];

    if (row.state === 'Canceling') {
      await removeOutputs(target, earlier, log);
      await this.end('Canceled');
      return 'complete';
    }
    // An earlier attempt died (crash, lost lease, shutdown): whatever it uploaded goes before the rerun.
    if (earlier.length > 0) await removeOutputs(target, earlier, log);
    const scheduled = await this.moveTo('Scheduled', {
      start_time: new Date().toISOString(),
      end_time: null,
      progress: 0,
      error: null,
      output_files: '[]',
    });
    if (!scheduled) {
      if ((await jobs.stateOf(jobId)) === 'Canceling') await this.end('Canceled');
      return 'complete';
    }

    const { signal } = this.controller;
    const tick = this.watchRecord();
    try {
      const scratch = await this.deps.scratch.create(jobId, this.lease.message.attempt);
      const request = await this.request(row, scratch, signal);
      if (!target) throw new EncodeError('UploadNotAccessible', `Output asset '${row.output_asset_name}' not found`);
      if (!(await this.moveTo('Processing'))) throw new JobAbort('cancel');
      await fs.promises.mkdir(scratch.outputDir, { recursive: true });
      const result = await this.deps.engine.run(request);
      signal.throwIfAborted();
      await uploadOutputs({ jobs, jobId, files: result.files, target, uploaded: this.uploaded, lease: this.lease, signal, log });
      if (await this.end('Finished')) {
        await this.recordUsage(row, result.encoded);
        return 'complete';
      }
      // Canceled (or deleted) between the last upload and the final write.
      await removeOutputs(target, this.uploaded, log);
      await this.end('Canceled');
      return 'complete';
    } catch (err) {
      const abort = jobAbortOf(signal, err);
      if (abort?.kind === 'lease') return 'abandon';
      if (abort?.kind === 'shutdown') {
        // Back to the queue; the next attempt removes what this one uploaded (recorded in output_files).
        await this.moveTo('Queued', { progress: 0, start_time: null });
        return 'release';
      }
      await removeOutputs(target, this.uploaded, log);
      if (abort?.kind === 'cancel') {
        if (!(await this.end('Canceled'))) log.info('job record deleted while it ran; attempt stopped');
        return 'complete';
      }
      if (err instanceof EncodeError) {
        await this.end('Error', { code: err.code, message: err.message, category: err.category, retry: err.retry });
        return 'complete';
      }
      log.error({ err }, 'job failed unexpectedly');
      await this.end('Error', serviceError);
      return 'complete';
    } finally {
      clearInterval(tick);
      await this.deps.scratch.remove(this.deps.scratch.pathOf(jobId, this.lease.message.attempt), log);
    }
  }

  /**
   * Every `tickMs` while the job runs: writes its progress when it changed, and stops the attempt when the
   * record went to Canceling or is gone (a cancel or delete made by another process).
   */
  private watchRecord(): NodeJS.Timeout {
    const { signal } = this.controller;
    let written = 0;
    return setInterval(
      () =>
        void (async () => {
          if (this.progress !== written && !signal.aborted) {
            written = this.progress;
            await this.deps.jobs.recordProgress(this.jobId, written);
          }
          const state = await this.deps.jobs.stateOf(this.jobId);
          if (!state || state === 'Canceling') this.controller.abort(new JobAbort('cancel'));
        })().catch((err: unknown) => this.log.warn({ err }, 'could not update the running job')),
      this.deps.tickMs,
    );
  }

  /** Moves the job on through the state machine; returns whether the record changed. */
  private async moveTo(state: JobState, values: JobStateValues = {}): Promise<boolean> {
    const changed = await this.deps.jobs.transition(this.jobId, state, { values });
    if (changed) this.log.info({ state, ...(values.error ? { error: JSON.parse(values.error) as unknown } : {}) }, 'job state changed');
    return changed;
  }

  /** Ends the job (Finished, Error, Canceled) from whatever unfinished state it is in. */
  private async end(state: FinalJobState, error?: Record<string, string>): Promise<boolean> {
    return this.moveTo(state, {
      end_time: new Date().toISOString(),
      ...(state === 'Finished' ? { progress: 100 } : {}),
      ...(error ? { error: JSON.stringify(error) } : {}),
    });
  }

  /**
   * The finished job's output seconds per resolution class, on its end day. Best effort: the job is Finished
   * whatever happens here, and a failure is logged (the job's minutes are then missing from the reports).
   */
  private async recordUsage(row: JobRow, encoded: EncodeResult['encoded']): Promise<void> {
    if (!this.deps.usage || !encoded) return;
    try {
      const day = new Date().toISOString().slice(0, 10);
      await this.deps.usage.recordEncoded(this.jobId, row.project_id, day, encodedSecondsByClass(encoded));
    } catch (err) {
      this.log.warn({ err }, "could not record the job's encoding usage");
    }
  }

  private async outputTarget(row: JobRow): Promise<OutputTarget | undefined> {
    const asset = await this.deps.findOutputAsset(row.output_asset_id);
    return asset ? { asset, store: await this.deps.openStore(asset.storage_account_id) } : undefined;
  }

  /** The engine request: the transform output's preset (copied at submission), the staged inputs, the clip. */
  private async request(row: JobRow, scratch: AttemptScratch, signal: AbortSignal): Promise<EncodeRequest> {
    const output = JSON.parse(row.transform_output) as { preset: Record<string, unknown> };
    const input = JSON.parse(row.input) as StoredJobInput;
    const clip = { startSec: durationSec(input.start?.time), endSec: durationSec(input.end?.time) };
    return {
      preset: output.preset,
      inputs: await stageJobInputs(this.deps.inputs, row, input, String(output.preset['@odata.type'] ?? ''), scratch.inputDir, signal),
      ...(clip.startSec !== undefined || clip.endSec !== undefined ? { clip } : {}),
      workDir: scratch.outputDir,
      signal,
      onProgress: (percent) => {
        this.progress = Math.max(this.progress, Math.min(99, Math.floor(percent)));
      },
    };
  }
}

const durationSec = (text: string | undefined): number | undefined => (text ? parseIsoDurationSec(text) : undefined);
