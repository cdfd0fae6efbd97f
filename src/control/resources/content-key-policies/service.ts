import type { ContentKeyPolicyRow, Db, StoredContentKey } from '../../../store/database.js';
import { ContentKeyPolicyRepository } from '../../../store/content-key-policy-repository.js';
import { StreamingLocatorRepository } from '../../../store/streaming-locator-repository.js';
import { StreamingPolicyRepository } from '../../../store/streaming-policy-repository.js';
import { UniqueViolationError } from '../../../store/store-errors.js';
import type { FieldPageQuery } from '../../../store/list-query.js';
import { auditFields, ListFields, propertiesTimes } from '../list-fields.js';
import { ConflictError, notFound } from '../../../shared/errors.js';
import { newId } from '../../../shared/ids.js';
import type { SecretBox } from '../../../shared/secret-box.js';
import type { ContentKeyPolicyOption } from '../../../shared/content-protection.js';
import { contentKeyPolicyNamesOf } from '../../../shared/streaming-policies.js';
import { hideSecrets, restoreHiddenSecrets, validateOptions } from './policy-options.js';

/** What a client sends in `properties` (PUT and PATCH); `options` is checked field by field (policy-options.ts). */
export interface ContentKeyPolicyInput {
  description?: string;
  fairPlayAmsCompatibility?: boolean;
  options: unknown;
}

/** A policy as shown: `properties` without secrets, as stored. */
export interface ContentKeyPolicyView {
  row: ContentKeyPolicyRow;
  properties: { description?: string; fairPlayAmsCompatibility?: boolean; options: ContentKeyPolicyOption[] };
}

interface Actor {
  email: string;
}

/** `$filter`/`$orderby` fields of the list, as MK.IO documents them for content key policies. */
export const contentKeyPolicyListFields = new ListFields({
  ...auditFields,
  ...propertiesTimes,
  'properties/policyId': { column: 'policy_id' },
});

/** Content key policies (§14): options validated, secrets sealed at rest and shown only by `withSecrets`. */
export class ContentKeyPolicyService {
  private readonly repository: ContentKeyPolicyRepository;
  private readonly locators: StreamingLocatorRepository;
  private readonly streamingPolicies: StreamingPolicyRepository;

  constructor(
    db: Db,
    private readonly box: SecretBox,
  ) {
    this.repository = new ContentKeyPolicyRepository(db);
    this.locators = new StreamingLocatorRepository(db);
    this.streamingPolicies = new StreamingPolicyRepository(db);
  }

  private view(row: ContentKeyPolicyRow): ContentKeyPolicyView {
    return { row, properties: JSON.parse(row.properties) as ContentKeyPolicyView['properties'] };
  }

  async list(projectId: string): Promise<ContentKeyPolicyView[]> {
    return (await this.repository.list(projectId)).map((row) => this.view(row));
  }

  async page(projectId: string, query: FieldPageQuery): Promise<{ items: ContentKeyPolicyView[]; total: number }> {
    const { items, total } = await this.repository.page(projectId, query);
    return { items: items.map((row) => this.view(row)), total };
  }

  async get(projectId: string, name: string): Promise<ContentKeyPolicyView> {
    const row = await this.repository.findByName(projectId, name);
    if (!row) throw notFound(`Content key policy '${name}'`);
    return this.view(row);
  }

  /** Which of `names` are policies of the project. */
  async existing(projectId: string, names: string[]): Promise<Set<string>> {
    return this.repository.existing(projectId, names);
  }

  /** The policy with its secrets (`getPolicyPropertiesWithSecrets`). */
  async withSecrets(projectId: string, name: string): Promise<ContentKeyPolicyView> {
    const view = await this.get(projectId, name);
    return { row: view.row, properties: { ...view.properties, options: this.box.open<ContentKeyPolicyOption[]>(view.row.options_sealed) } };
  }

  private sealedFields(input: ContentKeyPolicyInput, options: ContentKeyPolicyOption[]): Pick<ContentKeyPolicyRow, 'properties' | 'options_sealed'> {
    const properties = {
      ...(input.description !== undefined ? { description: input.description } : {}),
      options: hideSecrets(options),
      ...(input.fairPlayAmsCompatibility !== undefined ? { fairPlayAmsCompatibility: input.fairPlayAmsCompatibility } : {}),
    };
    return { properties: JSON.stringify(properties), options_sealed: this.box.seal(options) };
  }

  /** PUT creates only: an existing name is a 409 (§14), so secrets are never overwritten by accident. */
  async create(projectId: string, name: string, input: ContentKeyPolicyInput, actor: Actor): Promise<ContentKeyPolicyView> {
    const exists = () => new ConflictError('Conflict', `Content key policy '${name}' already exists; update it with PATCH`);
    if (await this.repository.findByName(projectId, name)) throw exists();
    const options = validateOptions(input.options);
    const now = new Date().toISOString();
    const row: ContentKeyPolicyRow = {
      id: newId(),
      project_id: projectId,
      name,
      policy_id: newId(),
      ...this.sealedFields(input, options),
      created_at: now,
      created_by: actor.email,
      updated_at: now,
      updated_by: actor.email,
    };
    try {
      await this.repository.insert(row);
    } catch (err) {
      if (err instanceof UniqueViolationError) throw exists();
      throw err;
    }
    return this.view(row);
  }

  /** PATCH replaces description and options (the body is the full schema); hidden secrets sent back as null are kept. */
  async update(projectId: string, name: string, input: ContentKeyPolicyInput, actor: Actor): Promise<ContentKeyPolicyView> {
    const current = await this.withSecrets(projectId, name);
    const options = validateOptions(restoreHiddenSecrets(input.options, current.properties.options));
    const values = { ...this.sealedFields(input, options), updated_at: new Date().toISOString(), updated_by: actor.email };
    await this.repository.update(current.row.id, values);
    return this.view({ ...current.row, ...values });
  }

  /** Refused (409) while a streaming policy or locator names the policy, since its keys would become undeliverable. */
  async delete(projectId: string, name: string): Promise<boolean> {
    for (const policy of await this.streamingPolicies.list(projectId)) {
      if (contentKeyPolicyNamesOf(JSON.parse(policy.properties) as Record<string, unknown>).includes(name))
        throw new ConflictError('PolicyInUse', `Content key policy '${name}' is used by streaming policy '${policy.name}'`);
    }
    for (const locator of await this.locators.list(projectId)) {
      const keys = locator.content_keys ? (JSON.parse(locator.content_keys) as StoredContentKey[]) : [];
      const properties = JSON.parse(locator.properties) as { defaultContentKeyPolicyName?: string };
      if (properties.defaultContentKeyPolicyName === name || keys.some((k) => k.policyName === name))
        throw new ConflictError('PolicyInUse', `Content key policy '${name}' is used by streaming locator '${locator.name}'`);
    }
    return this.repository.deleteByName(projectId, name);
  }
}
