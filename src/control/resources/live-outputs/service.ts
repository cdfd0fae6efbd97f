import type { LiveOutputRow } from '../../../store/database.js';
import type { FieldPageQuery } from '../../../store/list-query.js';
import { UniqueViolationError } from '../../../store/store-errors.js';
import { BadRequestError, ConflictError, NotFoundError, notFound } from '../../../shared/errors.js';
import { newId } from '../../../shared/ids.js';
import { auditFields, ListFields, propertiesTimes } from '../list-fields.js';
import { parseIsoDurationSec } from '../../../shared/time.js';
import type { AssetService } from '../assets/service.js';
import { ingestingStates, type LiveEvent, type LiveEventService } from '../live-events/service.js';
import { manifestNamePattern, type LiveOutputPutBody } from './schema.js';

/** `$filter`/`$orderby` fields of the list, as MK.IO documents them for live outputs (§2.3). */
export const liveOutputListFields = new ListFields({
  ...auditFields,
  ...propertiesTimes,
  'properties/description': { column: 'properties', jsonKey: 'description' },
});

/** AMS's limit of live outputs on one live event. */
export const maxOutputsPerEvent = 3;
/** Archive window bounds (§16): 1 minute to 25 hours; a PassthroughBasic event keeps at most 8 hours. */
export const minArchiveWindowSec = 60;
export const maxArchiveWindowSec = 25 * 3600;
export const maxBasicArchiveWindowSec = 8 * 3600;

interface Actor {
  email: string;
}

function invalid(field: string, why: string): BadRequestError {
  const problem = `body.properties.${field} ${why}`;
  return new BadRequestError('ValidationError', `Invalid request: ${problem}`, { extraDetail: { errors: [problem] } });
}

const hours = (sec: number) => `${sec / 3600} hours`;

/** The manifest name of an output that names none: its own name when that fits MK.IO's rule, else a generated one. */
export function defaultManifestName(outputName: string): string {
  const candidate = outputName.slice(0, 64).replace(/-+$/, '');
  return new RegExp(manifestNamePattern).test(candidate) ? candidate : `output-${newId().replace(/-/g, '').slice(0, 12)}`;
}

/**
 * Live outputs (§16): each records its event into an existing asset. Created Running (recording starts when
 * the event runs); deleting one finishes its archive and keeps the asset. An output change of an event that
 * ingests is handed to the runtime (`reconcile`) before the answer, in the event's queue of actions.
 */
export class LiveOutputService {
  constructor(
    private readonly events: LiveEventService,
    private readonly assets: AssetService,
  ) {}

  private get repository() {
    return this.events.repository;
  }

  async page(projectId: string, eventName: string, query: FieldPageQuery): Promise<{ event: LiveEvent; items: LiveOutputRow[]; total: number }> {
    const event = await this.events.get(projectId, eventName);
    return { event, ...(await this.repository.pageOutputs(event.row.id, query)) };
  }

  async get(projectId: string, eventName: string, name: string): Promise<LiveOutputRow> {
    const event = await this.events.get(projectId, eventName);
    const row = await this.repository.findOutputByName(event.row.id, name);
    if (!row) throw notFound(`Live output '${name}' of live event '${eventName}'`);
    return row;
  }

  /** PUT: creates only (201); an existing name is a 409 (MK.IO: live outputs cannot be modified). */
  async create(projectId: string, eventName: string, name: string, body: LiveOutputPutBody, actor: Actor): Promise<LiveOutputRow> {
    const event = await this.events.get(projectId, eventName);
    const given = body.properties;
    const window = parseIsoDurationSec(given.archiveWindowLength);
    if (window === undefined) throw invalid('archiveWindowLength', `must be an ISO 8601 duration such as PT1H, got '${given.archiveWindowLength}'`);
    const encodingType = (event.properties.encoding as { encodingType: string }).encodingType;
    const maxWindow = encodingType === 'PassthroughBasic' ? maxBasicArchiveWindowSec : maxArchiveWindowSec;
    if (window < minArchiveWindowSec || window > maxWindow)
      throw invalid(
        'archiveWindowLength',
        `must be between 1 minute and ${hours(maxWindow)}${encodingType === 'PassthroughBasic' ? ' for a PassthroughBasic live event' : ''}, got '${given.archiveWindowLength}'`,
      );
    if (given.rewindWindowLength !== undefined) {
      const rewind = parseIsoDurationSec(given.rewindWindowLength);
      if (rewind === undefined) throw invalid('rewindWindowLength', `must be an ISO 8601 duration such as PT30M, got '${given.rewindWindowLength}'`);
      if (rewind > window) throw invalid('rewindWindowLength', 'must not be longer than archiveWindowLength');
    }
    const { created: _c, lastModified: _l, provisioningState: _p, resourceState: _r, ...settable } = given;
    const properties = { ...settable, manifestName: given.manifestName ?? defaultManifestName(name) };

    return this.events.serialize(event.row.id, async () => {
      const exists = () => new ConflictError('Conflict', `Live output '${name}' of live event '${eventName}' already exists; live outputs cannot be modified`);
      if (await this.repository.findOutputByName(event.row.id, name)) throw exists();
      if ((await this.repository.countOutputs(event.row.id)) >= maxOutputsPerEvent)
        throw new BadRequestError(
          'TooManyLiveOutputs',
          `Live event '${eventName}' already has ${maxOutputsPerEvent} live outputs, the most one event can have`,
        );
      const asset = await this.assets.find(projectId, given.assetName);
      if (!asset)
        throw new NotFoundError('AssetNotFound', `Asset '${given.assetName}' not found: a live output records into an existing asset; create the asset first`);
      const user = await this.repository.findOutputByAsset(asset.id);
      if (user)
        throw new ConflictError(
          'AssetInUse',
          `Asset '${given.assetName}' is already recorded by live output '${user.name}' of live event '${user.event_name}'`,
        );
      const now = new Date().toISOString();
      const row: LiveOutputRow = {
        id: newId(),
        project_id: projectId,
        event_id: event.row.id,
        name,
        asset_id: asset.id,
        asset_name: asset.name,
        manifest_name: properties.manifestName,
        properties: JSON.stringify(properties),
        resource_state: 'Running',
        created_at: now,
        created_by: actor.email,
        updated_at: now,
        updated_by: actor.email,
      };
      try {
        await this.repository.insertOutput(row);
      } catch (err) {
        if (err instanceof UniqueViolationError) {
          if (await this.repository.findOutputByName(event.row.id, name)) throw exists();
          throw new ConflictError('AssetInUse', `Asset '${given.assetName}' is already recorded by another live output`);
        }
        throw err;
      }
      const current = await this.repository.findEventById(event.row.id);
      if (current && ingestingStates.has(current.resource_state)) {
        try {
          await this.events.reconcile(event.row.id);
        } catch (err) {
          // The runtime could not start the recording: the output is not kept, so the answer and the store agree.
          await this.repository.deleteOutput(row.id);
          throw err;
        }
      }
      return row;
    });
  }

  /**
   * 200 when deleted, 204 when there was nothing. The row goes first, then the runtime (when the event ingests)
   * finishes that output's archive; the asset and what was recorded stay.
   */
  async delete(projectId: string, eventName: string, name: string): Promise<boolean> {
    const event = await this.events.get(projectId, eventName);
    return this.events.serialize(event.row.id, async () => {
      const row = await this.repository.findOutputByName(event.row.id, name);
      if (!row) return false;
      const deleted = await this.repository.deleteOutput(row.id);
      const current = await this.repository.findEventById(event.row.id);
      if (deleted && current && ingestingStates.has(current.resource_state)) await this.events.reconcile(event.row.id);
      return deleted;
    });
  }
}
