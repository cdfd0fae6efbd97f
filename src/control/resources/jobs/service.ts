import { isDeepStrictEqual } from 'node:util';
import type { AssetRow, Db, JobRow, ProjectRow, TransformRow } from '../../../store/database.js';
import { JobRepository, type JobDetails } from '../../../store/job-repository.js';
import { isFinalJobState } from '../../../store/job-states.js';
import { UniqueViolationError } from '../../../store/store-errors.js';
import type { JobQueue } from '../../../queue/job-queue.js';
import { BadRequestError, ConflictError, notFound } from '../../../shared/errors.js';
import { newId } from '../../../shared/ids.js';
import { assertUnambiguousUrl, hasAmbiguousCharacters } from '../../../shared/address-policy.js';
import type { Logger } from '../../../shared/log.js';
import { assertBlobPath } from '../../../storage/storage-paths.js';
import type { AssetService } from '../assets/service.js';
import type { StorageAccountService } from '../storage/service.js';
import type { FieldPageQuery } from '../../../store/list-query.js';
import { auditFields, ListFields, propertiesTimes } from '../list-fields.js';
import type { TransformService } from '../transforms/service.js';
import { checkJobInput, correlationText, inputDefinitionFiles, type JobInput, type JobOutputAsset, type JobPatchBody, type JobPutBody } from './schema.js';
import { parseIsoDurationSec } from '../../../shared/time.js';

interface Actor {
  email: string;
}

/** In-process hints to a worker running in the same process; other workers find out by polling. */
export interface JobNotifications {
  submitted?(jobId: string): void;
  cancelRequested?(jobId: string): void;
}

/** `$filter`/`$orderby` field → column (MK.IO's documented job fields; `transform` filters by transform name). */
/** `$filter`/`$orderby` fields of the lists, as MK.IO documents them for jobs (`transform`: filter only). */
export const jobListFields = new ListFields({
  ...auditFields,
  ...propertiesTimes,
  'properties/state': { column: 'state' },
  transform: { column: 'transform_name', sort: false },
});

/** Preset `@odata.type` → the default output label MK.IO reads back, e.g. `BuiltInStandardEncoderPreset_0`. */
export function defaultOutputLabel(presetType: string, index = 0): string {
  return `${presetType.split('.').pop() ?? presetType}_${index}`;
}

/**
 * Jobs: one input through a transform's output into an output asset. Submission writes the row (Queued) and
 * then enqueues its id; the answer is sent only once the queue holds it durably, and a worker re-enqueues
 * every unfinished row when it starts, so an accepted job is never left unqueued. The runner
 * (media/encode/worker/job-attempt.ts) moves the state on from there, through the same state machine.
 */
export class JobService {
  private readonly jobs: JobRepository;

  constructor(
    private readonly deps: {
      db: Db;
      transforms: TransformService;
      assets: AssetService;
      storage: StorageAccountService;
      queue: JobQueue;
      log: Logger;
      notify?: JobNotifications;
    },
  ) {
    this.jobs = new JobRepository(deps.db);
  }

  async find(transformId: string, name: string): Promise<JobRow | undefined> {
    return this.jobs.findByName(transformId, name);
  }

  /** The job of a transform by names; 404 when either is missing. */
  async get(projectId: string, transformName: string, name: string): Promise<JobRow> {
    const transform = await this.deps.transforms.get(projectId, transformName);
    const row = await this.find(transform.id, name);
    if (!row) throw notFound(`Job '${name}' of transform '${transformName}'`);
    return row;
  }

  async list(projectId: string, query: FieldPageQuery, options: { transformId?: string } = {}): Promise<{ items: JobRow[]; total: number }> {
    return this.jobs.list(projectId, { ...(options.transformId ? { transformId: options.transformId } : {}), ...query });
  }

  /**
   * PUT: create only (409 when the name exists); the output asset is created when missing (v1 docs). Everything
   * is checked before anything is written, and the job row is written before a missing output asset is made,
   * so a refused job (bad body, taken name) never leaves an asset behind. Concurrent jobs naming one new output
   * asset are all accepted: the asset is created once and the others use it.
   */
  async create(project: ProjectRow, transformName: string, name: string, body: JobPutBody['properties'], actor: Actor): Promise<JobRow> {
    const transform = await this.deps.transforms.get(project.id, transformName);
    const exists = () => new ConflictError('Conflict', `Job '${name}' already exists in transform '${transformName}'; jobs cannot be replaced`);
    if (await this.find(transform.id, name)) throw exists();
    const input = checkJobInput(body.input);
    const transformOutputs = JSON.parse(transform.outputs) as Array<{ preset: Record<string, unknown> }>;
    if (body.outputs.length !== transformOutputs.length) {
      throw new BadRequestError(
        'ValidationError',
        `properties.outputs must hold ${transformOutputs.length} output (one per transform output), got ${body.outputs.length}`,
      );
    }
    const storageAccountName = await this.checkInput(project.id, input);
    const output = body.outputs[0];
    const existingOutput = await this.deps.assets.find(project.id, output.assetName);
    const outputAccount = existingOutput ? undefined : await this.outputAccount(project.id, output, storageAccountName);

    const presetType = String(transformOutputs[0].preset['@odata.type'] ?? 'Preset');
    const now = new Date().toISOString();
    const priority = body.priority ?? 'Normal';
    const row: JobRow = {
      id: newId(),
      project_id: project.id,
      transform_id: transform.id,
      transform_name: transform.name,
      name,
      description: body.description ?? null,
      priority,
      correlation_data: JSON.stringify(correlationText(body.correlationData ?? {})),
      input: JSON.stringify(input),
      transform_output: JSON.stringify(transformOutputs[0]),
      output_asset_id: existingOutput?.id ?? newId(),
      output_asset_name: output.assetName,
      output_label: output.label ?? defaultOutputLabel(presetType),
      state: 'Queued',
      progress: 0,
      error: null,
      start_time: null,
      end_time: null,
      output_files: '[]',
      created_at: now,
      created_by: actor.email,
      updated_at: now,
      updated_by: actor.email,
    };
    try {
      await this.jobs.insert(row);
    } catch (err) {
      if (err instanceof UniqueViolationError) throw exists();
      throw err;
    }
    // Not accepted, so not kept: on any failure from here the row (and an asset made for it) goes, and the client
    // may submit again under the same name.
    let made: AssetRow | undefined;
    try {
      if (outputAccount !== undefined) {
        const { row: asset, created } = await this.deps.assets.ensure(
          project.id,
          output.assetName,
          { storageAccountName: outputAccount, description: 'Created for a job output' },
          actor,
          row.output_asset_id,
        );
        if (created) {
          made = asset;
          this.deps.log.info({ asset: asset.name, container: asset.container }, 'output asset created for a job');
        } else {
          // Another request created it first: this job writes into that one.
          row.output_asset_id = asset.id;
          await this.jobs.setOutputAsset(row.id, asset.id);
        }
      }
      await this.deps.queue.enqueue(row.id, priority);
    } catch (err) {
      await this.jobs.delete(row.id).catch(() => undefined);
      if (made) await this.discardUnused(made);
      throw err;
    }
    this.deps.log.info({ jobId: row.id, job: name, transform: transform.name, project: project.name }, 'job submitted');
    this.deps.notify?.submitted?.(row.id);
    return row;
  }

  /** Whether a job that has not ended yet (queued, running or canceling) writes into the asset. */
  async isWritingInto(assetId: string): Promise<boolean> {
    return this.jobs.hasUnfinishedJobWritingInto(assetId);
  }

  /** An output asset this request created goes again, unless a concurrent job has started using it meanwhile. */
  private async discardUnused(asset: AssetRow): Promise<void> {
    if (!(await this.jobs.hasJobWritingInto(asset.id)))
      await this.deps.assets
        .discard(asset)
        .catch((err: unknown) => this.deps.log.warn({ err, asset: asset.name }, 'could not remove output asset after failed submission'));
  }

  /** Validates what the input names; returns the storage account an auto-created output asset should use. */
  private async checkInput(projectId: string, input: JobInput): Promise<string | undefined> {
    if (input['@odata.type'] === '#Microsoft.Media.JobInputHttp') {
      const absolute = (f: string) => /^https?:\/\//i.test(f);
      // Refused here already, not only when the worker runs the job: a URL that parsers read differently
      // (backslashes, spaces, control characters, user-info) is how the address check was once bypassed.
      const checkUrl = (url: string, field: string) => {
        try {
          assertUnambiguousUrl(url);
        } catch (err) {
          throw new BadRequestError('ValidationError', `${field} must be a plain http(s) URL: ${(err as Error).message}`);
        }
      };
      if (input.baseUri !== undefined) {
        checkUrl(input.baseUri, 'properties.input.baseUri');
        input.files.forEach((f, i) => {
          if (absolute(f)) checkUrl(f, `properties.input.files[${i}]`);
          else if (hasAmbiguousCharacters(f))
            throw new BadRequestError('ValidationError', `properties.input.files[${i}] must not contain backslashes, spaces or control characters`);
        });
      } else {
        input.files.forEach((f, i) => {
          if (!absolute(f)) throw new BadRequestError('ValidationError', 'properties.input.files must be http(s) URLs when baseUri is not given');
          checkUrl(f, `properties.input.files[${i}]`);
        });
      }
      return undefined;
    }
    const asset = await this.deps.assets.find(projectId, input.assetName);
    if (!asset) throw new BadRequestError('AssetNotFound', `Input asset '${input.assetName}' not found`);
    for (const file of [...(input.files ?? []), ...inputDefinitionFiles(input)]) if (file !== '*') assertBlobPath(file, 'input file name');
    const clip = (which: 'start' | 'end') => {
      const t = input[which];
      if (!t) return undefined;
      if (t['@odata.type'] !== '#Microsoft.Media.AbsoluteClipTime') {
        throw new BadRequestError('ValidationError', `properties.input.${which}: only #Microsoft.Media.AbsoluteClipTime is supported`);
      }
      const sec = t.time === undefined ? undefined : parseIsoDurationSec(t.time);
      if (sec === undefined) throw new BadRequestError('ValidationError', `properties.input.${which}.time must be an ISO 8601 duration such as PT1M30S`);
      return sec;
    };
    const start = clip('start');
    const end = clip('end');
    if (start !== undefined && end !== undefined && end <= start)
      throw new BadRequestError('ValidationError', 'properties.input.end must be after properties.input.start');
    return asset.storage_account_name;
  }

  /** The storage account a missing output asset is created in: beside the input, or the project's first account. */
  private async outputAccount(projectId: string, output: JobOutputAsset, storageAccountName: string | undefined): Promise<string> {
    // MK.IO v1 creates a missing output asset; Reel puts it beside the input (or in the project's first account).
    const account = storageAccountName ?? (await this.deps.storage.list(projectId))[0]?.row.name;
    if (!account)
      throw new BadRequestError(
        'StorageAccountNotFound',
        `Output asset '${output.assetName}' does not exist and the project has no storage account to create it in`,
      );
    return account;
  }

  /** PATCH: only description, priority and correlationData change; an echoed input or output must be unchanged. */
  async patch(row: JobRow, body: JobPatchBody['properties'], actor: Actor): Promise<JobRow> {
    if (body.input !== undefined && !sameInput(body.input, JSON.parse(row.input) as Record<string, unknown>)) {
      throw new BadRequestError('ImmutableProperty', 'properties.input cannot be changed; only description, priority and correlationData can');
    }
    if (body.outputs !== undefined) {
      const same =
        body.outputs.length === 1 && body.outputs[0].assetName === row.output_asset_name && (body.outputs[0].label ?? row.output_label) === row.output_label;
      if (!same) throw new BadRequestError('ImmutableProperty', 'properties.outputs cannot be changed; only description, priority and correlationData can');
    }
    const values: JobDetails = { updated_at: new Date().toISOString(), updated_by: actor.email };
    if (body.description !== undefined) values.description = body.description;
    if (body.correlationData !== undefined) values.correlation_data = JSON.stringify(correlationText(body.correlationData));
    if (body.priority !== undefined) values.priority = body.priority;
    await this.jobs.updateDetails(row.id, values);
    if (body.priority !== undefined && body.priority !== row.priority && row.state === 'Queued') {
      // Still waiting: take it out and put it back with the new priority (a no-op once a worker holds it).
      if (await this.deps.queue.remove(row.id)) await this.deps.queue.enqueue(row.id, body.priority);
    }
    return { ...row, ...values };
  }

  /**
   * cancelJob: a queued job that no worker holds is removed from the queue and Canceled at once; a job a worker
   * holds goes to Canceling and its runner stops ffmpeg, removes the outputs and sets Canceled. Final states
   * stay as they are.
   */
  async cancel(row: JobRow): Promise<JobRow> {
    if (isFinalJobState(row.state) || row.state === 'Canceling') return row;
    if (row.state === 'Queued' && (await this.deps.queue.remove(row.id))) {
      // Nobody holds it: canceled at once, unless a worker leased it in between.
      if (await this.jobs.transition(row.id, 'Canceled', { from: ['Queued'], values: { end_time: new Date().toISOString() } })) {
        this.deps.log.info({ jobId: row.id, state: 'Canceled' }, 'job state changed');
        return this.reload(row);
      }
    }
    await this.jobs.transition(row.id, 'Canceling');
    this.deps.log.info({ jobId: row.id, state: 'Canceling' }, 'job state changed');
    this.deps.notify?.cancelRequested?.(row.id);
    return this.reload(row);
  }

  /** DELETE: an unfinished job is canceled first (its runner sees the record gone and removes its outputs). */
  async delete(row: JobRow): Promise<void> {
    if (!isFinalJobState(row.state)) await this.cancel(row);
    await this.jobs.delete(row.id);
  }

  /** Before a transform goes (its jobs go with it): cancel every unfinished job of it. */
  async cancelAllOf(transform: TransformRow): Promise<void> {
    const rows = await this.jobs.listCancelable(transform.id);
    for (const row of rows) await this.cancel(row);
  }

  private async reload(row: JobRow): Promise<JobRow> {
    return (await this.jobs.findById(row.id)) ?? row;
  }
}

/**
 * Whether an input echoed in a PATCH is the stored one. An echoed `inputDefinitions` entry may lack members: the
 * .NET client reads back a `FromAllInputFile` (which it writes as `#Microsoft.Media.JobInputAsset`) as a bare
 * definition and sends it without its `includedTracks`.
 */
function sameInput(echoed: Record<string, unknown>, stored: Record<string, unknown>): boolean {
  const { inputDefinitions: echoedDefinitions, ...echoedRest } = echoed;
  const { inputDefinitions: storedDefinitions, ...storedRest } = stored;
  if (!isDeepStrictEqual(echoedRest, storedRest)) return false;
  if (echoedDefinitions === undefined) return true;
  const given = Array.isArray(echoedDefinitions) ? (echoedDefinitions as Array<Record<string, unknown>>) : [];
  const kept = Array.isArray(storedDefinitions) ? (storedDefinitions as Array<Record<string, unknown>>) : [];
  // Each echoed definition may leave members out, but those it has must be the stored ones.
  return given.length === kept.length && given.every((d, i) => Object.entries(d).every(([k, v]) => isDeepStrictEqual(v, kept[i][k])));
}
