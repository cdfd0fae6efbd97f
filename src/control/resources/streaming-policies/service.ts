import type { Db, StreamingPolicyRow } from '../../../store/database.js';
import { StreamingLocatorRepository } from '../../../store/streaming-locator-repository.js';
import { StreamingPolicyRepository } from '../../../store/streaming-policy-repository.js';
import { BadRequestError, ConflictError, notFound } from '../../../shared/errors.js';
import { newId } from '../../../shared/ids.js';
import { contentKeyPolicyNamesOf, isPredefinedPolicy, predefinedPolicies } from '../../../shared/streaming-policies.js';
import { UniqueViolationError } from '../../../store/store-errors.js';
import { ContentKeyPolicyRepository } from '../../../store/content-key-policy-repository.js';
import { checkEncryptionBlocks } from './encryption-blocks.js';
import type { FieldPageQuery } from '../../../store/list-query.js';
import { auditFields, ListFields } from '../list-fields.js';

/** `$filter`/`$orderby` fields of the list, as MK.IO documents them for streaming policies. */
export const policyListFields = new ListFields({ ...auditFields, 'properties/created': { column: 'created_at', time: true } });

export interface StreamingPolicy {
  name: string;
  properties: Record<string, unknown>;
  /** Absent for predefined policies. */
  row?: StreamingPolicyRow;
}

interface Actor {
  email: string;
}

/** Predefined plus custom streaming policies of a project. */
export class StreamingPolicyService {
  private readonly repository: StreamingPolicyRepository;
  private readonly locators: StreamingLocatorRepository;
  private readonly keyPolicies: ContentKeyPolicyRepository;

  constructor(db: Db) {
    this.repository = new StreamingPolicyRepository(db);
    this.locators = new StreamingLocatorRepository(db);
    this.keyPolicies = new ContentKeyPolicyRepository(db);
  }

  async list(projectId: string): Promise<StreamingPolicy[]> {
    const rows = await this.repository.list(projectId);
    return [
      ...Object.entries(predefinedPolicies).map(([name, properties]) => ({ name, properties })),
      ...rows.map((row) => ({ name: row.name, properties: JSON.parse(row.properties) as Record<string, unknown>, row })),
    ];
  }

  /**
   * One page of a list request. MK.IO: "the default policies will always appear in the results": the predefined
   * policies come first on every list, whatever `$filter` and `$orderby` say; the custom ones follow, filtered
   * and sorted by the database. Paging runs over both, so a walk of the next links sees each policy once.
   */
  async page(projectId: string, query: FieldPageQuery): Promise<{ items: StreamingPolicy[]; total: number }> {
    const predefined = Object.entries(predefinedPolicies).map(([name, properties]) => ({ name, properties }));
    const head = predefined.slice(query.skip, query.skip + query.top);
    const custom = await this.repository.page(projectId, {
      ...query,
      skip: Math.max(0, query.skip - predefined.length),
      top: query.top - head.length,
    });
    const rows = custom.items.map((row) => ({ name: row.name, properties: JSON.parse(row.properties) as Record<string, unknown>, row }));
    return { items: [...head, ...rows], total: predefined.length + custom.total };
  }

  async find(projectId: string, name: string): Promise<StreamingPolicy | undefined> {
    if (isPredefinedPolicy(name)) return { name, properties: predefinedPolicies[name] };
    const row = await this.repository.findByName(projectId, name);
    return row ? { name, properties: JSON.parse(row.properties) as Record<string, unknown>, row } : undefined;
  }

  async get(projectId: string, name: string): Promise<StreamingPolicy> {
    const policy = await this.find(projectId, name);
    if (!policy) throw notFound(`Streaming policy '${name}'`);
    return policy;
  }

  /** Policies are immutable once used in MK.IO's model; a PUT on an existing name is refused with 409. */
  async create(projectId: string, name: string, properties: Record<string, unknown>, actor: Actor): Promise<StreamingPolicy> {
    if (isPredefinedPolicy(name)) throw new BadRequestError('PredefinedPolicy', `'${name}' is a predefined streaming policy and cannot be changed`);
    const schemes = ['noEncryption', 'envelopeEncryption', 'commonEncryptionCenc', 'commonEncryptionCbcs'].filter((k) => properties[k]);
    if (schemes.length === 0)
      throw new BadRequestError(
        'ValidationError',
        'A streaming policy needs at least one of noEncryption, envelopeEncryption, commonEncryptionCenc, commonEncryptionCbcs',
      );
    const exists = () =>
      new ConflictError('Conflict', `Streaming policy '${name}' already exists; streaming policies cannot be changed: delete it and create it again`);
    if (await this.find(projectId, name)) throw exists();
    properties = checkEncryptionBlocks(properties);
    const named = contentKeyPolicyNamesOf(properties);
    const found = await this.keyPolicies.existing(projectId, named);
    const missing = named.find((n) => !found.has(n));
    if (missing !== undefined) throw new BadRequestError('ContentKeyPolicyNotFound', `Content key policy '${missing}' not found`);
    const now = new Date().toISOString();
    const row: StreamingPolicyRow = {
      id: newId(),
      project_id: projectId,
      name,
      properties: JSON.stringify(properties),
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
    return { name, properties, row };
  }

  async delete(projectId: string, name: string): Promise<boolean> {
    if (isPredefinedPolicy(name)) throw new BadRequestError('PredefinedPolicy', `'${name}' is a predefined streaming policy and cannot be deleted`);
    const inUse = await this.locators.findUsingPolicy(projectId, name);
    if (inUse) throw new ConflictError('PolicyInUse', `Streaming policy '${name}' is used by streaming locator '${inUse.name}'`);
    return this.repository.deleteByName(projectId, name);
  }
}
