import type { Db, StoredContentKey } from './database.js';
import { ProtectionRepository } from './protection-repository.js';
import type { SecretBox } from '../shared/secret-box.js';
import type { ContentKey, ContentKeyPolicy, ContentKeyPolicyOption, ProtectionLookup } from '../shared/content-protection.js';
import { TtlCache } from '../shared/ttl-cache.js';

/**
 * `ProtectionLookup` over the store: unseals a locator's content keys and a policy's secrets with the server's
 * `SecretBox`, for key delivery and the origin (which may import store/ but not control/).
 */
export class StoreProtectionLookup implements ProtectionLookup {
  private readonly repository: ProtectionRepository;

  constructor(
    db: Db,
    private readonly box: SecretBox,
  ) {
    this.repository = new ProtectionRepository(db);
  }

  async locatorKeys(locatorId: string): Promise<{ projectId: string; projectName: string; alternativeMediaId?: string; keys: ContentKey[] } | undefined> {
    // Playback GUIDs are stored lower case; a URL may carry them in any case.
    const row = await this.repository.locatorByLocatorId(locatorId.toLowerCase());
    if (!row) return undefined;
    const stored = row.content_keys ? (JSON.parse(row.content_keys) as StoredContentKey[]) : [];
    const values = row.content_key_values ? this.box.open<Record<string, string>>(row.content_key_values) : {};
    const keys: ContentKey[] = stored.map((k) => ({
      id: k.id,
      type: k.type,
      value: Buffer.from(values[k.id] ?? '', 'base64'),
      label: k.labelReferenceInStreamingPolicy,
      policyName: k.policyName,
    }));
    const { alternativeMediaId } = JSON.parse(row.properties) as { alternativeMediaId?: unknown };
    return {
      projectId: row.project_id,
      projectName: row.project_name,
      ...(typeof alternativeMediaId === 'string' ? { alternativeMediaId } : {}),
      keys,
    };
  }

  async contentKeyPolicy(projectId: string, name: string): Promise<ContentKeyPolicy | undefined> {
    const row = await this.repository.policy(projectId, name);
    if (!row) return undefined;
    return { name: row.name, policyId: row.policy_id, options: this.box.open<ContentKeyPolicyOption[]>(row.options_sealed) };
  }
}

/**
 * `lookup` with answers (misses too) kept for `ttlMs`: key and licence requests arrive in bursts (every player,
 * every key rotation) and must not each reach the database and unseal. Locator keys never change; a deleted
 * locator or an edited policy takes effect within `ttlMs`, as for the playback resolver.
 */
export function cachedProtectionLookup(lookup: ProtectionLookup, ttlMs = 2000): ProtectionLookup {
  type Keys = Awaited<ReturnType<ProtectionLookup['locatorKeys']>>;
  const locators = new TtlCache<string, Promise<Keys>>({ ttlMs, max: 10_000 });
  const policies = new TtlCache<string, Promise<ContentKeyPolicy | undefined>>({ ttlMs, max: 10_000 });
  const remember = <T>(cache: TtlCache<string, Promise<T>>, key: string, load: () => Promise<T>): Promise<T> => {
    const hit = cache.get(key);
    if (hit) return hit;
    const loading = load();
    cache.set(key, loading);
    // A failed read is not remembered: the next request tries again.
    loading.catch(() => cache.delete(key));
    return loading;
  };
  return {
    locatorKeys: (locatorId) => remember(locators, locatorId.toLowerCase(), () => lookup.locatorKeys(locatorId)),
    contentKeyPolicy: (projectId, name) => remember(policies, `${projectId}/${name}`, () => lookup.contentKeyPolicy(projectId, name)),
  };
}
