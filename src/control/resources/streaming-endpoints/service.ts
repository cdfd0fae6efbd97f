import type { Db, StreamingEndpointRow, StreamingEndpointState } from '../../../store/database.js';
import { AccountRepository } from '../../../store/account-repository.js';
import { StreamingEndpointRepository, defaultEndpointName } from '../../../store/streaming-endpoint-repository.js';
import { BadRequestError, ConflictError, notFound } from '../../../shared/errors.js';
import { newId } from '../../../shared/ids.js';
import { UniqueViolationError } from '../../../store/store-errors.js';
import { reelLocation } from '../../../shared/locations.js';
import type { FieldPageQuery } from '../../../store/list-query.js';
import { auditFields, ListFields, propertiesTimes } from '../list-fields.js';

export type EndpointState = StreamingEndpointState;

export interface EndpointInput {
  location: string;
  tags?: Record<string, string>;
  properties: Record<string, unknown>;
}

export interface StreamingEndpoint {
  row: StreamingEndpointRow;
  properties: Record<string, unknown>;
  tags: Record<string, string>;
  state: EndpointState;
}

/** `$filter`/`$orderby` fields of the list, as MK.IO documents them for streaming endpoints. */
export const endpointListFields = new ListFields({
  ...auditFields,
  ...propertiesTimes,
  'properties/description': { column: 'properties', jsonKey: 'description' },
  'properties/resourceState': { column: 'resource_state' },
  'properties/scaleUnits': { column: 'properties', jsonKey: 'scaleUnits', type: 'number' },
});

interface Actor {
  email: string;
}

const hydrate = (row: StreamingEndpointRow): StreamingEndpoint => ({
  row,
  properties: JSON.parse(row.properties) as Record<string, unknown>,
  tags: JSON.parse(row.tags) as Record<string, string>,
  state: row.resource_state,
});

/**
 * Streaming endpoints. Reel's origin serves from the same process, so start/stop/scale complete at once: the
 * answer already shows the final state (Running/Stopped), which also ends the polling MK.IO clients do.
 */
export class StreamingEndpointService {
  private readonly repository: StreamingEndpointRepository;
  private readonly accounts: AccountRepository;

  constructor(db: Db) {
    this.repository = new StreamingEndpointRepository(db);
    this.accounts = new AccountRepository(db);
  }

  async list(projectId: string): Promise<StreamingEndpoint[]> {
    await this.ensureDefault(projectId);
    return (await this.repository.list(projectId)).map(hydrate);
  }

  /** One page of a list request (the default endpoint made first, as for the full list). */
  async page(projectId: string, query: FieldPageQuery): Promise<{ items: StreamingEndpoint[]; total: number }> {
    await this.ensureDefault(projectId);
    const { items, total } = await this.repository.page(projectId, query);
    return { items: items.map(hydrate), total };
  }

  async find(projectId: string, name: string): Promise<StreamingEndpoint | undefined> {
    if (name === defaultEndpointName) await this.ensureDefault(projectId);
    const row = await this.repository.findByName(projectId, name);
    return row ? hydrate(row) : undefined;
  }

  async get(projectId: string, name: string): Promise<StreamingEndpoint> {
    const endpoint = await this.find(projectId, name);
    if (!endpoint) throw notFound(`Streaming endpoint '${name}'`);
    return endpoint;
  }

  /**
   * Every project has a `default` endpoint. Reel creates it Running (AMS created it Stopped) so that a fresh
   * install plays without a start call; stopping it works as in MK.IO. Created once, never re-created after a
   * user deletes it (a settings marker remembers).
   */
  async ensureDefault(projectId: string): Promise<void> {
    if (await this.repository.hasDefaultMarker(projectId)) return;
    const now = new Date().toISOString();
    await this.repository.insertDefault({
      id: newId(),
      project_id: projectId,
      name: defaultEndpointName,
      location: reelLocation.name,
      tags: '{}',
      properties: JSON.stringify({ description: 'Default streaming endpoint', scaleUnits: 0, cdnEnabled: false }),
      resource_state: 'Running',
      created_at: now,
      created_by: 'system',
      updated_at: now,
      updated_by: 'system',
    });
  }

  async create(projectId: string, name: string, input: EndpointInput, autoStart: boolean, actor: Actor): Promise<StreamingEndpoint> {
    const exists = () => new ConflictError('Conflict', `Streaming endpoint '${name}' already exists`);
    if (await this.find(projectId, name)) throw exists();
    const now = new Date().toISOString();
    const row: StreamingEndpointRow = {
      id: newId(),
      project_id: projectId,
      name,
      location: input.location,
      tags: JSON.stringify(input.tags ?? {}),
      properties: JSON.stringify(input.properties),
      resource_state: autoStart ? 'Running' : 'Stopped',
      created_at: now,
      created_by: actor.email,
      updated_at: now,
      updated_by: actor.email,
    };
    try {
      await this.repository.insert(row);
    } catch (err) {
      // Created meanwhile by a concurrent PUT: the same answer as a PUT that came second.
      if (err instanceof UniqueViolationError) throw exists();
      throw err;
    }
    return hydrate(row);
  }

  async update(
    projectId: string,
    name: string,
    changes: { tags?: Record<string, string>; properties?: Record<string, unknown> },
    actor: Actor,
  ): Promise<StreamingEndpoint> {
    const current = await this.get(projectId, name);
    if (changes.properties?.cdnProvider !== undefined && changes.properties.cdnProvider !== current.properties.cdnProvider) {
      throw new BadRequestError('ImmutableProperty', 'properties.cdnProvider cannot be changed');
    }
    const properties = { ...current.properties, ...changes.properties };
    await this.repository.update(current.row.id, {
      properties: JSON.stringify(properties),
      tags: JSON.stringify(changes.tags ?? current.tags),
      updated_at: new Date().toISOString(),
      updated_by: actor.email,
    });
    return this.get(projectId, name);
  }

  async setState(projectId: string, name: string, state: 'Running' | 'Stopped', actor: Actor): Promise<StreamingEndpoint> {
    const current = await this.get(projectId, name);
    await this.repository.setState(current.row.id, state, new Date().toISOString(), actor.email);
    return this.get(projectId, name);
  }

  async scale(projectId: string, name: string, scaleUnits: number, actor: Actor): Promise<StreamingEndpoint> {
    return this.update(projectId, name, { properties: { scaleUnits } }, actor);
  }

  async delete(projectId: string, name: string): Promise<boolean> {
    return this.repository.deleteByName(projectId, name);
  }

  /** The endpoint a playback host names, for the origin. */
  async findByName(projectName: string, endpointName: string): Promise<(StreamingEndpoint & { projectId: string }) | undefined> {
    const projectId = await this.accounts.findProjectId(projectName);
    if (!projectId) return undefined;
    const endpoint = await this.find(projectId, endpointName);
    return endpoint ? { ...endpoint, projectId } : undefined;
  }
}
