import type { Db, StreamingEndpointRow } from '../../../store/database.js';
import { BadRequestError, ConflictError, notFound } from '../../../shared/errors.js';
import { newId } from '../../../shared/ids.js';
import { UniqueViolationError } from '../../../store/store-errors.js';

export type EndpointState = 'Stopped' | 'Starting' | 'Running' | 'Stopping' | 'Deleting' | 'Scaling';

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

interface Actor { email: string }

const hydrate = (row: StreamingEndpointRow): StreamingEndpoint => ({
  row, properties: JSON.parse(row.properties) as Record<string, unknown>, tags: JSON.parse(row.tags) as Record<string, string>,
  state: row.resource_state as EndpointState,
});

/**
 * Streaming endpoints. Reel's origin serves from the same process, so start/stop/scale complete at once: the
 * answer already shows the final state (Running/Stopped), which also ends the polling MK.IO clients do.
 */
export class StreamingEndpointService {
  constructor(private readonly db: Db) {}

  async list(projectId: string): Promise<StreamingEndpoint[]> {
    await this.ensureDefault(projectId);
    const rows = await this.db.selectFrom('streaming_endpoints').selectAll().where('project_id', '=', projectId).orderBy('name').execute();
    return rows.map(hydrate);
  }

  async find(projectId: string, name: string): Promise<StreamingEndpoint | undefined> {
    if (name === 'default') await this.ensureDefault(projectId);
    const row = await this.db.selectFrom('streaming_endpoints').selectAll().where('project_id', '=', projectId).where('name', '=', name).executeTakeFirst();
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
    const marker = `default-endpoint:${projectId}`;
    const made = await this.db.selectFrom('settings').select('key').where('key', '=', marker).executeTakeFirst();
    if (made) return;
    const now = new Date().toISOString();
    await this.db.transaction().execute(async (trx) => {
      await trx.insertInto('settings').values({ key: marker, value: now }).onConflict((oc) => oc.column('key').doNothing()).execute();
      await trx.insertInto('streaming_endpoints').values({
        id: newId(), project_id: projectId, name: 'default', location: 'local', tags: '{}',
        properties: JSON.stringify({ description: 'Default streaming endpoint', scaleUnits: 0, cdnEnabled: false }),
        resource_state: 'Running', created_at: now, created_by: 'system', updated_at: now, updated_by: 'system',
      }).onConflict((oc) => oc.columns(['project_id', 'name']).doNothing()).execute();
    });
  }

  async create(projectId: string, name: string, input: EndpointInput, autoStart: boolean, actor: Actor): Promise<StreamingEndpoint> {
    const exists = () => new ConflictError('Conflict', `Streaming endpoint '${name}' already exists`);
    if (await this.find(projectId, name)) throw exists();
    const now = new Date().toISOString();
    const row: StreamingEndpointRow = {
      id: newId(), project_id: projectId, name, location: input.location, tags: JSON.stringify(input.tags ?? {}),
      properties: JSON.stringify(input.properties), resource_state: autoStart ? 'Running' : 'Stopped',
      created_at: now, created_by: actor.email, updated_at: now, updated_by: actor.email,
    };
    try {
      await this.db.insertInto('streaming_endpoints').values(row).execute();
    } catch (err) {
      // Created meanwhile by a concurrent PUT: the same answer as a PUT that came second.
      if (err instanceof UniqueViolationError) throw exists();
      throw err;
    }
    return hydrate(row);
  }

  async update(projectId: string, name: string, changes: { tags?: Record<string, string>; properties?: Record<string, unknown> }, actor: Actor): Promise<StreamingEndpoint> {
    const current = await this.get(projectId, name);
    if (changes.properties?.cdnProvider !== undefined && changes.properties.cdnProvider !== current.properties.cdnProvider) {
      throw new BadRequestError('ImmutableProperty', 'properties.cdnProvider cannot be changed');
    }
    const properties = { ...current.properties, ...changes.properties };
    await this.db.updateTable('streaming_endpoints').set({
      properties: JSON.stringify(properties), tags: JSON.stringify(changes.tags ?? current.tags),
      updated_at: new Date().toISOString(), updated_by: actor.email,
    }).where('id', '=', current.row.id).execute();
    return this.get(projectId, name);
  }

  async setState(projectId: string, name: string, state: 'Running' | 'Stopped', actor: Actor): Promise<StreamingEndpoint> {
    const current = await this.get(projectId, name);
    await this.db.updateTable('streaming_endpoints').set({ resource_state: state, updated_at: new Date().toISOString(), updated_by: actor.email })
      .where('id', '=', current.row.id).execute();
    return this.get(projectId, name);
  }

  async scale(projectId: string, name: string, scaleUnits: number, actor: Actor): Promise<StreamingEndpoint> {
    return this.update(projectId, name, { properties: { scaleUnits } }, actor);
  }

  async delete(projectId: string, name: string): Promise<boolean> {
    const result = await this.db.deleteFrom('streaming_endpoints').where('project_id', '=', projectId).where('name', '=', name).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  /** The endpoint a playback host names, for the origin. */
  async findByName(projectName: string, endpointName: string): Promise<(StreamingEndpoint & { projectId: string }) | undefined> {
    const project = await this.db.selectFrom('projects').select('id').where('name', '=', projectName).executeTakeFirst();
    if (!project) return undefined;
    const endpoint = await this.find(project.id, endpointName);
    return endpoint ? { ...endpoint, projectId: project.id } : undefined;
  }
}
