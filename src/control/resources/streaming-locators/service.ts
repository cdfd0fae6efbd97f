import type { Db, StoredContentKey, StreamingLocatorRow } from '../../../store/database.js';
import { StreamingLocatorRepository } from '../../../store/streaming-locator-repository.js';
import { ContentKeyPolicyRepository } from '../../../store/content-key-policy-repository.js';
import type { SecretBox } from '../../../shared/secret-box.js';
import { odataTypes, type ContentKeyType } from '../../../shared/content-protection.js';
import { planContentKeys, type GivenContentKey } from './content-keys.js';
import { storedContentKeys } from './schema.js';
import { BadRequestError, ConflictError, notFound } from '../../../shared/errors.js';
import { newId } from '../../../shared/ids.js';
import { UniqueViolationError } from '../../../store/store-errors.js';
import type { AssetService } from '../assets/service.js';
import type { FieldPageQuery } from '../../../store/list-query.js';
import { auditFields, ListFields } from '../list-fields.js';
import type { StreamingPolicyService } from '../streaming-policies/service.js';
import { FilterRepository } from '../../../store/filter-repository.js';
import { maxFiltersPerRequest } from '../../../shared/filter-definitions.js';

export interface LocatorInput {
  assetName: string;
  streamingPolicyName: string;
  streamingLocatorId?: string;
  startTime?: string;
  endTime?: string;
  /** Content keys given (a migrated locator's): taken as given, the rest generated. Never kept in `extra`. */
  contentKeys?: GivenContentKey[];
  /** Everything else MK.IO keeps as given: filters, alternativeMediaId, defaultContentKeyPolicyName, contentKeys, suppressed… */
  extra: Record<string, unknown>;
}

interface Actor {
  email: string;
}

const mutable = new Set(['startTime', 'endTime', 'suppressed']);
const guid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A locator content key with its value, as `listContentKeys` answers (§13.2). */
export interface ContentKeyWithValue {
  id: string;
  type: ContentKeyType;
  value: string;
  labelReferenceInStreamingPolicy: string;
  policyName?: string;
}

/** `$filter`/`$orderby` fields of the list, as MK.IO documents them for streaming locators. */
export const locatorListFields = new ListFields({
  ...auditFields,
  'properties/created': { column: 'created_at', time: true },
  'properties/startTime': { column: 'start_time', time: true },
  'properties/endTime': { column: 'end_time', time: true },
  'properties/assetName': { column: 'asset_name', sort: false },
});

/** Streaming locators: immutable publications of an asset under a policy, addressed by a GUID in playback URLs. */
export class StreamingLocatorService {
  private readonly repository: StreamingLocatorRepository;
  private readonly keyPolicies: ContentKeyPolicyRepository;
  private readonly filters: FilterRepository;

  constructor(
    db: Db,
    private readonly assets: AssetService,
    private readonly policies: StreamingPolicyService,
    private readonly box: SecretBox,
  ) {
    this.repository = new StreamingLocatorRepository(db);
    this.keyPolicies = new ContentKeyPolicyRepository(db);
    this.filters = new FilterRepository(db);
  }

  /** The locator's content keys with their values (unsealed), in the order the policy asks for them. */
  async contentKeys(projectId: string, name: string): Promise<ContentKeyWithValue[]> {
    const row = await this.get(projectId, name);
    const values = row.content_key_values ? this.box.open<Record<string, string>>(row.content_key_values) : {};
    return storedContentKeys(row).map((k) => ({
      id: k.id,
      type: k.type,
      value: values[k.id],
      labelReferenceInStreamingPolicy: k.labelReferenceInStreamingPolicy,
      ...(k.policyName ? { policyName: k.policyName } : {}),
    }));
  }

  /**
   * The key types of the locator that Reel's licence server can deliver: those with a key whose content key
   * policy has a ClearKey option (what key delivery releases, and what the origin signals ClearKey for).
   */
  async clearKeyDeliverableTypes(projectId: string, row: StreamingLocatorRow): Promise<Set<ContentKeyType>> {
    const keys = storedContentKeys(row);
    const types = new Set<ContentKeyType>();
    for (const name of new Set(keys.flatMap((k) => (k.policyName ? [k.policyName] : [])))) {
      const policy = await this.keyPolicies.findByName(projectId, name);
      const options = policy ? ((JSON.parse(policy.properties) as { options?: Array<{ configuration?: Record<string, unknown> }> }).options ?? []) : [];
      if (options.some((o) => o.configuration?.['@odata.type'] === odataTypes.clearKeyConfiguration))
        for (const k of keys) if (k.policyName === name) types.add(k.type);
    }
    return types;
  }

  async list(projectId: string, options: { assetId?: string } = {}): Promise<StreamingLocatorRow[]> {
    return this.repository.list(projectId, options.assetId);
  }

  async page(projectId: string, query: FieldPageQuery): Promise<{ items: StreamingLocatorRow[]; total: number }> {
    return this.repository.page(projectId, query);
  }

  async find(projectId: string, name: string): Promise<StreamingLocatorRow | undefined> {
    return this.repository.findByName(projectId, name);
  }

  async get(projectId: string, name: string): Promise<StreamingLocatorRow> {
    const row = await this.find(projectId, name);
    if (!row) throw notFound(`Streaming locator '${name}'`);
    return row;
  }

  /**
   * PUT: creates (201), or on an existing locator changes only startTime, endTime and suppressed (200); any
   * other difference is a 409, as locators are immutable in MK.IO.
   */
  async put(projectId: string, name: string, input: LocatorInput, actor: Actor): Promise<{ row: StreamingLocatorRow; created: boolean }> {
    if (input.startTime && input.endTime && Date.parse(input.endTime) <= Date.parse(input.startTime)) {
      throw new BadRequestError('ValidationError', 'properties.endTime must be after properties.startTime');
    }
    const existing = await this.find(projectId, name);
    if (existing) return { row: await this.update(existing, input, actor), created: false };

    const asset = await this.assets.find(projectId, input.assetName);
    if (!asset) throw new BadRequestError('AssetNotFound', `Asset '${input.assetName}' not found`);
    await this.checkFilters(projectId, asset.id, asset.name, input.extra.filters);
    const policy = await this.policies.find(projectId, input.streamingPolicyName);
    if (!policy) throw new BadRequestError('StreamingPolicyNotFound', `Streaming policy '${input.streamingPolicyName}' not found`);
    const locatorDefault = input.extra.defaultContentKeyPolicyName as string | undefined;
    const keys = planContentKeys(policy.properties, input.contentKeys, locatorDefault);
    const named = [...new Set([...(locatorDefault ? [locatorDefault] : []), ...keys.flatMap((k) => (k.policyName ? [k.policyName] : []))])];
    const found = await this.keyPolicies.existing(projectId, named);
    const missing = named.find((n) => !found.has(n));
    if (missing !== undefined) throw new BadRequestError('ContentKeyPolicyNotFound', `Content key policy '${missing}' not found`);
    const locatorId = (input.streamingLocatorId ?? newId()).toLowerCase();
    if (!guid.test(locatorId)) throw new BadRequestError('ValidationError', 'properties.streamingLocatorId must be a GUID');
    const idTaken = () => new ConflictError('Conflict', `Streaming locator id '${locatorId}' is already in use`);
    if (await this.repository.isLocatorIdTaken(locatorId)) throw idTaken();
    const now = new Date().toISOString();
    const row: StreamingLocatorRow = {
      id: newId(),
      project_id: projectId,
      name,
      locator_id: locatorId,
      asset_id: asset.id,
      asset_name: asset.name,
      policy_name: input.streamingPolicyName,
      start_time: input.startTime ? new Date(input.startTime).toISOString() : null,
      end_time: input.endTime ? new Date(input.endTime).toISOString() : null,
      properties: JSON.stringify(input.extra),
      content_keys: keys.length ? JSON.stringify(keys.map(({ value: _v, ...stored }) => stored satisfies StoredContentKey)) : null,
      content_key_values: keys.length ? this.box.seal(Object.fromEntries(keys.map((k) => [k.id, k.value.toString('base64')]))) : null,
      created_at: now,
      created_by: actor.email,
      updated_at: now,
      updated_by: actor.email,
    };
    try {
      await this.repository.insert(row);
    } catch (err) {
      if (!(err instanceof UniqueViolationError)) throw err;
      // A concurrent PUT of the same name won: answer as if this one came second. Otherwise the GUID was taken.
      const winner = await this.find(projectId, name);
      if (winner) return { row: await this.update(winner, input, actor), created: false };
      throw idTaken();
    }
    return { row, created: true };
  }

  /**
   * A new locator's `filters` (§8, §13): each must name a filter of the asset or of the project (AMS refused
   * unknown names), and AMS applies at most three filters to a request, the locator's and the URL's together.
   */
  private async checkFilters(projectId: string, assetId: string, assetName: string, given: unknown): Promise<void> {
    const names = Array.isArray(given) ? (given as string[]) : [];
    if (names.length > maxFiltersPerRequest)
      throw new BadRequestError('ValidationError', `properties.filters names ${names.length} filters; at most ${maxFiltersPerRequest} apply to a request`);
    const found = await this.filters.existingFor(projectId, assetId, names);
    const missing = names.find((n) => !found.has(n));
    if (missing !== undefined)
      throw new BadRequestError('FilterNotFound', `Filter '${missing}' not found: neither a filter of asset '${assetName}' nor an account filter`);
  }

  private async update(existing: StreamingLocatorRow, input: LocatorInput, actor: Actor): Promise<StreamingLocatorRow> {
    const extra = JSON.parse(existing.properties) as Record<string, unknown>;
    const fixed: Array<[string, unknown, unknown]> = [
      ['assetName', input.assetName, existing.asset_name],
      ['streamingPolicyName', input.streamingPolicyName, existing.policy_name],
      ['streamingLocatorId', input.streamingLocatorId?.toLowerCase(), existing.locator_id],
    ];
    for (const [field, sent, current] of fixed) {
      if (sent !== undefined && sent !== current)
        throw new ConflictError('Conflict', `Streaming locator '${existing.name}' exists and its ${field} cannot change`);
    }
    if (input.contentKeys && !this.sameKeys(existing, input.contentKeys))
      throw new ConflictError('Conflict', `Streaming locator '${existing.name}' exists and its contentKeys cannot change`);
    for (const [key, value] of Object.entries(input.extra)) {
      if (!mutable.has(key) && JSON.stringify(value) !== JSON.stringify(extra[key])) {
        throw new ConflictError('Conflict', `Streaming locator '${existing.name}' exists and its ${key} cannot change`);
      }
    }
    const values: Partial<StreamingLocatorRow> = {
      start_time: input.startTime ? new Date(input.startTime).toISOString() : existing.start_time,
      end_time: input.endTime ? new Date(input.endTime).toISOString() : existing.end_time,
      properties: JSON.stringify({ ...extra, ...(input.extra.suppressed !== undefined ? { suppressed: input.extra.suppressed } : {}) }),
      updated_at: new Date().toISOString(),
      updated_by: actor.email,
    };
    await this.repository.update(existing.id, values);
    return { ...existing, ...values };
  }

  /** Whether every key sent again with a PUT is one the locator has, as it has it (fields left out match anything). */
  private sameKeys(existing: StreamingLocatorRow, given: GivenContentKey[]): boolean {
    const stored = new Map(storedContentKeys(existing).map((k) => [k.id, k]));
    const values = existing.content_key_values ? this.box.open<Record<string, string>>(existing.content_key_values) : {};
    return given.every((g) => {
      const k = stored.get(g.id.toLowerCase());
      if (!k) return false;
      const sameValue = g.value === undefined || Buffer.from(g.value, 'base64').equals(Buffer.from(values[k.id] ?? '', 'base64'));
      return (
        sameValue &&
        (g.type === undefined || g.type === k.type) &&
        (g.labelReferenceInStreamingPolicy === undefined || g.labelReferenceInStreamingPolicy === k.labelReferenceInStreamingPolicy) &&
        (g.policyName === undefined || g.policyName === k.policyName)
      );
    });
  }

  async delete(projectId: string, name: string): Promise<boolean> {
    return this.repository.deleteByName(projectId, name);
  }
}
