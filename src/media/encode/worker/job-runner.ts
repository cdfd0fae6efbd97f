import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { AssetRow, Db, JobRow } from '../../../store/database.js';
import type { BlobStore } from '../../../storage/blob-store.js';
import { assertBlobPath, joinBlobPath } from '../../../storage/storage-paths.js';
import type { JobQueue, Lease, QueuePriority } from '../../../queue/job-queue.js';
import type { Logger } from '../../../shared/log.js';
import type { AddressPolicy } from '../../../shared/address-policy.js';
import { killToolsNaming } from '../../ffmpeg-sandbox.js';
import { downloadHttpInput } from './http-input-download.js';
import { EncodeError, type EncodeEngine, type EncodeInput, type EncodeRequest, type EncodedFile } from '../encode-engine.js';
import { fileNameOf, httpInputUrl, ismSources, pickInputFiles } from './job-inputs.js';
import { parseIsm } from '../../../shared/ism.js';
import { parseIsoDurationSec } from '../presets/time-spec.js';

/** What the runner needs from the rest of the process; main.ts supplies these (the media plane never imports control/). */
export interface JobRunnerDeps {
  db: Db;
  queue: JobQueue;
  engine: EncodeEngine;
  log: Logger;
  /** The storage driver of a storage account. */
  openStore: (storageAccountId: string) => Promise<BlobStore>;
  /**
   * Which addresses a `JobInputHttp` URL (and each redirect) may reach: this machine and private networks are
   * refused unless REEL_JOB_HTTP_ALLOW_PRIVATE; Reel's own origins are allowed hosts. The runner downloads such
   * inputs itself (http-input-download.ts); ffmpeg reads only the local copy.
   */
  httpInputPolicy: AddressPolicy;
  /** REEL_JOB_HTTP_TIMEOUT_SEC: a JobInputHttp server silent this long fails the job. */
  httpTimeoutSec: number;
  /** REEL_JOB_MAX_INPUT_MB in bytes: a larger JobInputHttp input stops downloading and fails the job. */
  maxInputBytes?: number;
  /** A URL ffmpeg can read one blob from (Reel's signed `/files/...` URL), valid for `lifetimeSec`. */
  signedReadUrl: (storageAccountId: string, container: string, blob: string, lifetimeSec: number) => string;
  /** Directory under which each running job gets its own scratch directory. */
  workRoot: string;
  /** Jobs run at once by this process (REEL_WORKER_CONCURRENCY). */
  concurrency: number;
  /** Queue lease length (REEL_JOB_LEASE_SEC); the runner heartbeats three times per lease. */
  leaseSec: number;
  /** How long an idle loop waits before asking the queue again; submissions in this process wake it at once. */
  idlePollMs?: number;
  /** How often a running job's record is read (cancel) and its progress written. */
  tickMs?: number;
}

const unfinished = ['Queued', 'Scheduled', 'Processing', 'Canceling'];
const finalStates = new Set(['Finished', 'Error', 'Canceled']);
/** Signed input URLs must outlive the longest encode: ffmpeg issues range requests until it ends. */
const inputUrlLifetimeSec = 24 * 3600;
/** Names the process that owns a scratch directory, so a restarted worker can tell stale ones from live ones. */
const ownerFile = '.owner.json';
/** Runners alive in this process (tests start several servers in one process; each has its own worker id). */
const liveWorkerIds = new Set<string>();

/** Why a running job was stopped: canceled (or deleted) by a user, the process shutting down, or the lease lost. */
class JobAbort extends Error {
  constructor(readonly kind: 'cancel' | 'shutdown' | 'lease') {
    super(`job ${kind}`);
    this.name = 'JobAbort';
  }
}

interface RunningJob {
  controller: AbortController;
  /** Blob paths written (or being written) into the output container, in order. */
  uploaded: string[];
  progress: number;
}

type Outcome = 'complete' | 'release' | 'abandon';

/**
 * The worker role: `concurrency` loops that lease job ids from the queue and run each job through the encoding
 * engine. A job's record moves Queued → Scheduled → Processing → Finished/Error, or Canceling → Canceled when
 * a user cancels it. Outputs are uploaded from the scratch directory through the storage driver, the `.ism`
 * last, so a partial output never has a server manifest; a job that fails, is canceled, or restarts after a
 * crash first removes what it had uploaded. Every attempt starts from scratch.
 */
export class JobRunner {
  private readonly log: Logger;
  private readonly running = new Map<string, RunningJob>();
  private readonly sleepers = new Set<() => void>();
  private readonly workerId = `${os.hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
  private loops: Array<Promise<void>> = [];
  private stopping = false;

  constructor(private readonly deps: JobRunnerDeps) {
    this.log = deps.log.child({ component: 'encode' });
  }

  /** Starts the queue's maintenance, re-enqueues unfinished jobs the queue may lack, and starts the loops. */
  async start(): Promise<void> {
    await this.deps.queue.start?.();
    await this.requeueUnfinished();
    fs.mkdirSync(this.deps.workRoot, { recursive: true });
    liveWorkerIds.add(this.workerId);
    await this.removeStaleScratch();
    this.loops = Array.from({ length: this.deps.concurrency }, (_, slot) => this.loop(slot));
    this.log.info({ workerId: this.workerId, concurrency: this.deps.concurrency }, 'job runner started');
  }

  /** Stops leasing, aborts running jobs and gives their ids back to the queue; resolves when all loops ended. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    for (const job of this.running.values()) job.controller.abort(new JobAbort('shutdown'));
    this.wakeAll();
    await Promise.all(this.loops);
    liveWorkerIds.delete(this.workerId);
    this.log.info({ workerId: this.workerId }, 'job runner stopped');
  }

  /** A job was submitted in this process: wake one idle loop now rather than at its next poll. */
  notifySubmitted(): void {
    const wake = this.sleepers.values().next().value;
    if (wake) wake();
  }

  /** A cancel (or delete) was requested in this process: stop the job at once if this runner holds it. */
  notifyCancel(jobId: string): void {
    this.running.get(jobId)?.controller.abort(new JobAbort('cancel'));
  }

  /**
   * Enqueue is idempotent, so every job the database says is unfinished is offered again: a job accepted just
   * before a crash, or one whose queue entry was lost, is run rather than stuck.
   */
  private async requeueUnfinished(): Promise<void> {
    const rows = await this.deps.db.selectFrom('jobs').select(['id', 'priority']).where('state', 'in', unfinished).execute();
    for (const row of rows) await this.deps.queue.enqueue(row.id, row.priority as QueuePriority);
    if (rows.length > 0) this.log.info({ count: rows.length }, 'unfinished jobs offered to the queue again');
  }

  /**
   * Removes the scratch directories of attempts whose process is gone (killed, crashed): each directory names its
   * owner (host, pid, worker id), so directories of other live workers sharing this work root are left alone. An
   * ffmpeg still working in one (only possible where `setpriv --pdeathsig` is missing) is killed first.
   */
  private async removeStaleScratch(): Promise<void> {
    const entries = await fs.promises.readdir(this.deps.workRoot, { withFileTypes: true });
    for (const entry of entries) {
      if (!entry.isDirectory() || !entry.name.startsWith('job-')) continue;
      const dir = path.join(this.deps.workRoot, entry.name);
      if (!(await this.isStale(dir))) continue;
      const killed = await killToolsNaming(dir);
      if (killed.length > 0) this.log.warn({ dir, pids: killed }, 'ffmpeg of a dead attempt was still running; killed');
      await fs.promises.rm(dir, { recursive: true, force: true }).catch((err: unknown) => this.log.warn({ err, dir }, 'could not remove a stale job scratch directory'));
      this.log.info({ dir }, 'stale job scratch directory removed');
    }
  }

  private async isStale(dir: string): Promise<boolean> {
    let owner: { host?: string; pid?: number; workerId?: string };
    try {
      owner = JSON.parse(await fs.promises.readFile(path.join(dir, ownerFile), 'utf8')) as typeof owner;
    } catch {
      // No owner: an older version's directory, or one being created this instant (give that a minute).
      const stat = await fs.promises.stat(dir).catch(() => undefined);
      return !stat || Date.now() - stat.mtimeMs > 60_000;
    }
    if (owner.host !== os.hostname() || typeof owner.pid !== 'number') return false;
    // Our own pid: either a runner of this process, or a dead process whose pid we inherited (pid 1 in containers).
    if (owner.pid === process.pid) return !liveWorkerIds.has(owner.workerId ?? '');
    try {
      process.kill(owner.pid, 0);
      return false;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === 'ESRCH';
    }
  }

  private async loop(slot: number): Promise<void> {
    const workerId = `${this.workerId}/${slot}`;
    while (!this.stopping) {
      let lease: Lease | undefined;
      try {
        lease = await this.deps.queue.lease(workerId);
      } catch (err) {
        this.log.error({ err }, 'could not lease from the job queue');
        await this.sleep(5000);
        continue;
      }
      if (!lease) {
        await this.sleep(this.deps.idlePollMs ?? 1000);
        continue;
      }
      await this.process(lease);
    }
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => { clearTimeout(timer); this.sleepers.delete(wake); resolve(); };
      const timer = setTimeout(wake, ms);
      this.sleepers.add(wake);
    });
  }

  private wakeAll(): void {
    for (const wake of [...this.sleepers]) wake();
  }

  /** Runs one delivery; never throws. */
  private async process(lease: Lease): Promise<void> {
    const { jobId, attempt } = lease.message;
    const log = this.log.child({ jobId, attempt });
    let outcome: Outcome;
    try {
      outcome = await this.execute(jobId, lease, log);
    } catch (err) {
      // Bookkeeping itself failed (database or storage trouble outside the encode): end in Error if we can.
      log.error({ err }, 'job failed unexpectedly');
      try {
        await this.finish(jobId, 'Error', { error: { code: 'ServiceError', message: 'An internal error occurred while running the job', category: 'Service', retry: 'MayRetry' } });
        outcome = 'complete';
      } catch (again) {
        log.error({ err: again }, 'could not record the job failure; the lease will expire and the job run again');
        outcome = 'abandon';
      }
    }
    try {
      if (outcome === 'complete') await lease.complete();
      else if (outcome === 'release') await lease.release();
    } catch (err) {
      log.warn({ err, outcome }, 'could not settle the job lease');
    }
  }

  private async load(jobId: string): Promise<JobRow | undefined> {
    return this.deps.db.selectFrom('jobs').selectAll().where('id', '=', jobId).executeTakeFirst();
  }

  /** Moves a job to a state; `from` limits which states it may leave. Returns whether the record changed. */
  private async setState(jobId: string, state: string, from: string[], values: Partial<JobRow> = {}): Promise<boolean> {
    const result = await this.deps.db.updateTable('jobs').set({ ...values, state, updated_at: new Date().toISOString() })
      .where('id', '=', jobId).where('state', 'in', from).executeTakeFirst();
    const changed = Number(result.numUpdatedRows) > 0;
    if (changed) this.log.info({ jobId, state, ...(values.error ? { error: JSON.parse(values.error) as unknown } : {}) }, 'job state changed');
    return changed;
  }

  /** Ends a job (Finished, Error, Canceled) from whatever unfinished state it is in. */
  private async finish(jobId: string, state: 'Finished' | 'Error' | 'Canceled', extra: { error?: Record<string, string> } = {}): Promise<boolean> {
    return this.setState(jobId, state, unfinished, {
      end_time: new Date().toISOString(),
      ...(state === 'Finished' ? { progress: 100 } : {}),
      ...(extra.error ? { error: JSON.stringify(extra.error) } : {}),
    });
  }

  private async outputTarget(row: JobRow): Promise<{ asset: AssetRow; store: BlobStore } | undefined> {
    const asset = await this.deps.db.selectFrom('assets').selectAll().where('id', '=', row.output_asset_id).executeTakeFirst();
    return asset ? { asset, store: await this.deps.openStore(asset.storage_account_id) } : undefined;
  }

  /** Removes blobs a job wrote; best effort, each failure logged. */
  private async removeOutputs(target: { asset: AssetRow; store: BlobStore } | undefined, blobs: readonly string[], log: Logger): Promise<void> {
    if (!target || blobs.length === 0) return;
    for (const blob of [...blobs].reverse()) {
      await target.store.delete(target.asset.container, blob).catch((err: unknown) => log.warn({ err, blob }, 'could not remove a job output'));
    }
    log.info({ count: blobs.length, container: target.asset.container }, 'job outputs removed');
  }

  private async execute(jobId: string, lease: Lease, log: Logger): Promise<Outcome> {
    // Re-delivered to this process while an abandoned attempt still winds down: let the lease run out and retry then.
    if (this.running.has(jobId)) return 'abandon';
    const row = await this.load(jobId);
    if (!row || finalStates.has(row.state)) return 'complete';
    const target = await this.outputTarget(row);
    const earlier = JSON.parse(row.output_files) as string[];

    if (row.state === 'Canceling') {
      await this.removeOutputs(target, earlier, log);
      await this.finish(jobId, 'Canceled');
      return 'complete';
    }
    // An earlier attempt died (crash, lost lease, shutdown): whatever it uploaded goes before the rerun.
    if (earlier.length > 0) await this.removeOutputs(target, earlier, log);
    const scheduled = await this.setState(jobId, 'Scheduled', ['Queued', 'Scheduled', 'Processing'], {
      start_time: new Date().toISOString(), end_time: null, progress: 0, error: null, output_files: '[]',
    });
    if (!scheduled) {
      const now = await this.load(jobId);
      if (now?.state === 'Canceling') await this.finish(jobId, 'Canceled');
      return 'complete';
    }

    const job: RunningJob = { controller: new AbortController(), uploaded: [], progress: 0 };
    const { signal } = job.controller;
    this.running.set(jobId, job);
    let written = 0;
    const tick = setInterval(() => void (async () => {
      if (job.progress !== written && !signal.aborted) {
        written = job.progress;
        await this.deps.db.updateTable('jobs').set({ progress: written }).where('id', '=', jobId).where('state', '=', 'Processing').execute();
      }
      const now = await this.deps.db.selectFrom('jobs').select('state').where('id', '=', jobId).executeTakeFirst();
      if (!now || now.state === 'Canceling') job.controller.abort(new JobAbort('cancel'));
    })().catch((err: unknown) => log.warn({ err }, 'could not update the running job')), this.deps.tickMs ?? 1000);
    const heartbeat = setInterval(() => {
      lease.heartbeat().catch((err: unknown) => {
        log.warn({ err }, 'job lease lost; stopping this attempt');
        job.controller.abort(new JobAbort('lease'));
      });
    }, Math.max(500, (this.deps.leaseSec * 1000) / 3));
    // One scratch directory per attempt: a re-delivered job never shares files with an earlier attempt that may
    // still be winding down. `in/` holds downloaded inputs, `out/` is the engine's.
    const scratch = path.resolve(this.deps.workRoot, `job-${jobId}-${lease.message.attempt}`);
    const workDir = path.join(scratch, 'out');

    try {
      await fs.promises.rm(scratch, { recursive: true, force: true });
      await fs.promises.mkdir(path.join(scratch, 'in'), { recursive: true });
      await fs.promises.writeFile(path.join(scratch, ownerFile), JSON.stringify({ host: os.hostname(), pid: process.pid, workerId: this.workerId }));
      const request = await this.request(row, scratch, signal, (percent) => {
        job.progress = Math.max(job.progress, Math.min(99, Math.floor(percent)));
      });
      if (!target) throw new EncodeError('UploadNotAccessible', `Output asset '${row.output_asset_name}' not found`);
      if (!(await this.setState(jobId, 'Processing', ['Scheduled']))) throw new JobAbort('cancel');
      await fs.promises.mkdir(workDir, { recursive: true });
      const result = await this.deps.engine.run(request);
      signal.throwIfAborted();
      await this.upload(jobId, result.files, target, job, signal, lease);
      if (await this.finish(jobId, 'Finished')) return 'complete';
      // Canceled (or deleted) between the last upload and the final write.
      await this.removeOutputs(target, job.uploaded, log);
      await this.finish(jobId, 'Canceled');
      return 'complete';
    } catch (err) {
      const abort = signal.aborted && signal.reason instanceof JobAbort ? signal.reason : err instanceof JobAbort ? err : undefined;
      if (abort?.kind === 'lease') return 'abandon';
      if (abort?.kind === 'shutdown') {
        // Back to the queue; the next attempt removes what this one uploaded (recorded in output_files).
        await this.setState(jobId, 'Queued', ['Scheduled', 'Processing'], { progress: 0, start_time: null });
        return 'release';
      }
      await this.removeOutputs(target, job.uploaded, log);
      if (abort?.kind === 'cancel') {
        if (!(await this.finish(jobId, 'Canceled'))) log.info('job record deleted while it ran; attempt stopped');
        return 'complete';
      }
      if (err instanceof EncodeError) {
        await this.finish(jobId, 'Error', { error: { code: err.code, message: err.message, category: err.category, retry: err.retry } });
        return 'complete';
      }
      log.error({ err }, 'job failed unexpectedly');
      await this.finish(jobId, 'Error', { error: { code: 'ServiceError', message: 'An internal error occurred while running the job', category: 'Service', retry: 'MayRetry' } });
      return 'complete';
    } finally {
      clearInterval(tick);
      clearInterval(heartbeat);
      this.running.delete(jobId);
      await fs.promises.rm(scratch, { recursive: true, force: true }).catch((err: unknown) => log.warn({ err, scratch }, 'could not remove the job scratch directory'));
    }
  }

  /** The engine request: the transform output's preset (copied at submission), the inputs as URLs, the clip. */
  private async request(row: JobRow, scratch: string, signal: AbortSignal, onProgress: (percent: number) => void): Promise<EncodeRequest> {
    const output = JSON.parse(row.transform_output) as { preset: Record<string, unknown> };
    const input = JSON.parse(row.input) as {
      '@odata.type': string; assetName?: string; files?: string[]; baseUri?: string;
      start?: { time?: string }; end?: { time?: string };
    };
    const clip = { startSec: durationSec(input.start?.time), endSec: durationSec(input.end?.time) };
    return {
      preset: output.preset,
      inputs: await this.inputs(row, input, String(output.preset['@odata.type'] ?? ''), path.join(scratch, 'in'), signal),
      ...(clip.startSec !== undefined || clip.endSec !== undefined ? { clip } : {}),
      workDir: path.join(scratch, 'out'), signal, onProgress,
    };
  }

  private async inputs(row: JobRow, input: { '@odata.type': string; assetName?: string; files?: string[]; baseUri?: string }, presetType: string, inputDir: string, signal: AbortSignal): Promise<EncodeInput[]> {
    if (input['@odata.type'] === '#Microsoft.Media.JobInputHttp') {
      // Downloaded here through the checked client; ffmpeg reads the local copies (file protocol only).
      const urls = (input.files ?? []).map((f) => httpInputUrl(input.baseUri, f));
      const inputs: EncodeInput[] = [];
      for (const [i, url] of urls.entries()) {
        const fileName = fileNameOf(url);
        const extension = /\.[a-z0-9]{1,8}$/i.exec(fileName)?.[0] ?? '';
        const local = path.join(inputDir, `input-${i}${extension.toLowerCase()}`);
        await downloadHttpInput(url, local, {
          policy: this.deps.httpInputPolicy, timeoutSec: this.deps.httpTimeoutSec, signal, fileName,
          ...(this.deps.maxInputBytes !== undefined ? { maxBytes: this.deps.maxInputBytes } : {}),
        });
        inputs.push({ url: local, fileName });
      }
      return inputs;
    }
    const asset = await this.deps.db.selectFrom('assets').selectAll().where('project_id', '=', row.project_id)
      .where('name', '=', input.assetName ?? '').executeTakeFirst();
    if (!asset) throw new EncodeError('DownloadNotAccessible', `Input asset '${input.assetName}' not found`);
    const store = await this.deps.openStore(asset.storage_account_id);
    const prefix = asset.sub_path ? `${asset.sub_path}/` : '';
    const wanted = (input.files ?? []).filter((f) => f !== '*');
    let blobs: string[];
    if (wanted.length === 0) {
      const listing = await store.list(asset.container, asset.sub_path ?? '');
      blobs = pickInputFiles(listing.blobs, presetType).map((b) => b.name);
      if (blobs.length === 0) throw new EncodeError('DownloadNotAccessible', `Input asset '${asset.name}' holds no media file to encode`);
    } else {
      blobs = [];
      for (const file of wanted) {
        const blob = joinBlobPath(asset.sub_path, assertBlobPath(file, 'input file name'));
        const info = await store.stat(asset.container, blob);
        if (!info) throw new EncodeError('DownloadNotAccessible', `File '${file}' not found in input asset '${asset.name}'`);
        if (!/\.ism$/i.test(blob)) {
          blobs.push(blob);
          continue;
        }
        // A named server manifest stands for the renditions it lists.
        for (const source of ismSources(await this.readIsm(store, asset.container, blob, info.size, file), blob)) {
          const sourcePath = assertBlobPath(source, 'file named by the .ism');
          if (!(await store.stat(asset.container, sourcePath))) throw new EncodeError('ContentMalformed', `'${file}' names '${sourcePath.slice(prefix.length)}', which is not in input asset '${asset.name}'`);
          if (!blobs.includes(sourcePath)) blobs.push(sourcePath);
        }
      }
    }
    // Local storage: ffmpeg opens the (confinement-checked) file itself; other drivers go through the signed
    // /files route, which streams byte ranges from the driver.
    return Promise.all(blobs.map(async (blob) => ({
      url: (await store.localPath?.(asset.container, blob)) ?? this.deps.signedReadUrl(asset.storage_account_id, asset.container, blob, inputUrlLifetimeSec),
      fileName: fileNameOf(blob.slice(prefix.length)),
    })));
  }

  private async readIsm(store: BlobStore, container: string, blob: string, size: number, file: string) {
    if (size > 4 * 1024 * 1024) throw new EncodeError('ContentUnsupported', `'${file}' is too large for a server manifest`);
    const chunks: Buffer[] = [];
    for await (const chunk of await store.read(container, blob)) chunks.push(chunk as Buffer);
    try {
      return parseIsm(Buffer.concat(chunks).toString('utf8'));
    } catch (err) {
      throw new EncodeError('ContentMalformed', `'${file}' is not a readable server manifest: ${err instanceof Error ? err.message : 'unreadable'}`);
    }
  }

  /**
   * Streams each output file from disk into the output container, recording its name first (so a crash
   * mid-upload still leaves a record to clean up). The `.ism` goes last: until it is there the asset has no
   * server manifest naming half a rendition set.
   */
  private async upload(jobId: string, files: EncodedFile[], target: { asset: AssetRow; store: BlobStore }, job: RunningJob, signal: AbortSignal, lease: Lease): Promise<void> {
    const ordered = [...files.filter((f) => !/\.ism$/i.test(f.name)), ...files.filter((f) => /\.ism$/i.test(f.name))];
    for (const file of ordered) {
      signal.throwIfAborted();
      // Fenced by the lease: an attempt whose lease went to another worker must not write into the output asset.
      await lease.heartbeat().catch((err: unknown) => {
        this.log.warn({ jobId, err }, 'job lease lost before an upload; stopping this attempt');
        throw new JobAbort('lease');
      });
      const blob = joinBlobPath(target.asset.sub_path, assertBlobPath(file.name, 'output file name'));
      job.uploaded.push(blob);
      await this.deps.db.updateTable('jobs').set({ output_files: JSON.stringify(job.uploaded) }).where('id', '=', jobId).execute();
      try {
        await target.store.write(target.asset.container, blob, fs.createReadStream(file.path), { contentType: file.contentType, signal });
      } catch (err) {
        if (signal.aborted) throw signal.reason;
        throw new EncodeError('UploadTransientError', `Could not write '${file.name}' into output asset '${target.asset.name}'`, { cause: err });
      }
    }
  }
}

const durationSec = (text: string | undefined): number | undefined => (text ? parseIsoDurationSec(text) : undefined);
