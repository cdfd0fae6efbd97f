import crypto from 'node:crypto';
import type { AssetRow, Db, DialectName, StreamingEndpointState, StreamingLocatorRow } from '../../store/database.js';
import { AccountRepository } from '../../store/account-repository.js';
import { AssetRepository } from '../../store/asset-repository.js';
import { StreamingEndpointRepository, defaultEndpointName } from '../../store/streaming-endpoint-repository.js';
import { StreamingLocatorRepository } from '../../store/streaming-locator-repository.js';
import { StreamingPolicyRepository } from '../../store/streaming-policy-repository.js';
import { predefinedPolicies } from '../../shared/streaming-policies.js';
import { TtlCache } from '../../shared/ttl-cache.js';
import { odataTypes, type ContentKey, type ProtectionLookup } from '../../shared/content-protection.js';

/** Everything a playback request needs to know about its locator, found from the GUID in its URL. */
export interface ResolvedLocator {
  projectId: string;
  projectName: string;
  locator: StreamingLocatorRow;
  asset: AssetRow;
  policyProperties: Record<string, unknown>;
  /** Locator `properties` beyond the columns: filters, suppressed… */
  locatorExtra: Record<string, unknown>;
  /** The locator's content keys, when its policy encrypts anything. */
  protection?: LocatorProtection;
}

/** What the origin needs to encrypt and signal a locator's streams. */
export interface LocatorProtection {
  keys: ContentKey[];
  alternativeMediaId?: string;
  /** Content key policies (of the keys) with a ClearKey option: Reel's licence server can deliver their keys. */
  clearKeyPolicies: ReadonlySet<string>;
}

const encryptionBlocks = ['envelopeEncryption', 'commonEncryptionCenc', 'commonEncryptionCbcs'];

export interface EndpointView {
  name: string;
  state: StreamingEndpointState;
  properties: Record<string, unknown>;
}

/** Locators and endpoints change rarely and are read on every playback request: cache them briefly. */
const ttlMs = 2000;

/**
 * Reads locators, policies and endpoints from the store for the origin. A short cache keeps the database off
 * the segment hot path; a change (stop, delete, new end time) takes effect within `ttlMs`.
 */
export class PlaybackResolver {
  // Misses are cached too (as `{ value: undefined }`), so unknown GUIDs do not reach the database every request.
  private readonly locators = new TtlCache<string, { value: ResolvedLocator | undefined }>({ ttlMs, max: 10_000 });
  private readonly endpoints = new TtlCache<string, { value: EndpointView | undefined }>({ ttlMs, max: 10_000 });

  private readonly accounts: AccountRepository;
  private readonly assets: AssetRepository;
  private readonly locatorRows: StreamingLocatorRepository;
  private readonly policies: StreamingPolicyRepository;
  private readonly endpointRows: StreamingEndpointRepository;

  constructor(
    db: Db,
    dialect: DialectName,
    private readonly protectionLookup?: ProtectionLookup,
  ) {
    this.accounts = new AccountRepository(db);
    this.assets = new AssetRepository(db, dialect);
    this.locatorRows = new StreamingLocatorRepository(db);
    this.policies = new StreamingPolicyRepository(db);
    this.endpointRows = new StreamingEndpointRepository(db);
  }

  async locator(locatorId: string): Promise<ResolvedLocator | undefined> {
    const hit = this.locators.get(locatorId);
    if (hit) return hit.value;
    const value = await this.loadLocator(locatorId);
    this.locators.set(locatorId, { value });
    return value;
  }

  private async loadLocator(locatorId: string): Promise<ResolvedLocator | undefined> {
    const locator = await this.locatorRows.findByLocatorId(locatorId);
    if (!locator) return undefined;
    const asset = await this.assets.findById(locator.asset_id);
    const project = await this.accounts.findProjectById(locator.project_id);
    if (!asset || !project) return undefined;
    let policyProperties = predefinedPolicies[locator.policy_name];
    if (!policyProperties) {
      const row = await this.policies.findByName(project.id, locator.policy_name);
      if (!row) return undefined;
      policyProperties = JSON.parse(row.properties) as Record<string, unknown>;
    }
    const encrypts = encryptionBlocks.some((block) => policyProperties[block]);
    const protection = encrypts ? await this.loadProtection(project.id, locatorId) : undefined;
    return {
      projectId: project.id,
      projectName: project.name,
      locator,
      asset,
      policyProperties,
      locatorExtra: JSON.parse(locator.properties) as Record<string, unknown>,
      ...(protection ? { protection } : {}),
    };
  }

  private async loadProtection(projectId: string, locatorId: string): Promise<LocatorProtection | undefined> {
    const found = await this.protectionLookup?.locatorKeys(locatorId);
    if (!found) return undefined;
    const clearKeyPolicies = new Set<string>();
    for (const name of new Set(found.keys.map((k) => k.policyName))) {
      if (!name) continue;
      const policy = await this.protectionLookup!.contentKeyPolicy(projectId, name);
      if (policy?.options.some((o) => o.configuration['@odata.type'] === odataTypes.clearKeyConfiguration)) clearKeyPolicies.add(name);
    }
    return { keys: found.keys, clearKeyPolicies, ...(found.alternativeMediaId ? { alternativeMediaId: found.alternativeMediaId } : {}) };
  }

  /**
   * Runs each lookup once for ids nobody has, caching nothing: the query builder's and driver's code is then
   * compiled before the first real request (see warm-up.ts).
   */
  async warmUp(): Promise<void> {
    const none = crypto.randomUUID();
    await this.locatorRows.findByLocatorId(none);
    await this.assets.findById(none);
    await this.accounts.findProjectById(none);
    await this.policies.findByName(none, none);
    await this.endpointRows.findByName(none, defaultEndpointName);
    await this.endpointRows.hasDefaultMarker(none);
  }

  async projectByName(name: string): Promise<string | undefined> {
    return this.accounts.findProjectId(name);
  }

  /**
   * The endpoint of a project by name. A project whose `default` endpoint was never materialised (the control
   * plane creates it on first use, Running) is treated as having it Running; once deleted, it is gone.
   */
  async endpoint(projectId: string, name: string): Promise<EndpointView | undefined> {
    const key = `${projectId}/${name}`;
    const hit = this.endpoints.get(key);
    if (hit) return hit.value;
    const row = await this.endpointRows.findByName(projectId, name);
    let value: EndpointView | undefined = row
      ? { name: row.name, state: row.resource_state, properties: JSON.parse(row.properties) as Record<string, unknown> }
      : undefined;
    if (!value && name === defaultEndpointName && !(await this.endpointRows.hasDefaultMarker(projectId))) {
      value = { name, state: 'Running', properties: {} };
    }
    this.endpoints.set(key, { value });
    return value;
  }
}
