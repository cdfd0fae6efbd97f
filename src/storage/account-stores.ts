import { BadRequestError, NotFoundError } from '../shared/errors.js';
import type { SecretBox } from '../shared/secret-box.js';
import { TtlCache } from '../shared/ttl-cache.js';
import type { BlobStore, BlobStoreFactory, StorageAccountSpec } from './blob-store.js';
import type { StoragePolicy } from './storage-policy.js';

export type StorageType = 'Local' | 'Microsoft.Storage' | 'AWS.S3' | 'Google.Storage';

/** A credential as stored: its secret sealed with the server's `SecretBox`. */
export interface StoredCredential {
  id: string;
  secret: string;
  expires_at: string | null;
}

/** What a driver is built from: an account's settings, its project's name (for Local areas) and its credentials. */
export interface StoredAccount {
  row: { id: string; name: string; type: string; config: string };
  projectName: string;
  credentials: readonly StoredCredential[];
}

/** Where accounts are read from: src/store's `StorageAccountRepository`. */
export interface StoredAccounts {
  byId(accountId: string): Promise<StoredAccount | undefined>;
}

/** An account before it is saved (create, new credential): what `check` proves reachable. */
export interface AccountDraft {
  type: StorageType;
  projectName: string;
  config: Record<string, unknown>;
  secret?: Record<string, unknown>;
}

/** The credential in use: the one that expires last (MK.IO's rule); one without expiry outlives any with one. */
export function activeCredential<C extends StoredCredential>(credentials: readonly C[]): C | undefined {
  return [...credentials].sort((a, b) => (b.expires_at ?? '9999').localeCompare(a.expires_at ?? '9999'))[0];
}

/** Playback opens an asset's storage on every request: it reuses the lookup this long, like locators. */
const playbackFreshnessMs = 2000;

/**
 * Every plane's way from a storage account id to its driver: the API, the origin and the worker alike; none of
 * them sees a credential. A driver is kept per account until the account's active credential changes (another
 * process's change is seen on the next lookup), then closed; a Local account's driver is confined to its
 * project's areas, a cloud account's to the addresses the policy allows.
 */
export class AccountStores {
  readonly #drivers = new Map<string, { credentialId: string | undefined; store: Promise<BlobStore> }>();
  readonly #recent: TtlCache<string, Promise<BlobStore>>;

  constructor(
    private readonly deps: {
      accounts: StoredAccounts;
      box: SecretBox;
      factory: BlobStoreFactory;
      policy: StoragePolicy;
      /** The clock of the playback cache, for tests. */
      now?: () => number;
    },
  ) {
    this.#recent = new TtlCache({ ttlMs: playbackFreshnessMs, max: 1000, now: deps.now });
  }

  /** The driver of an account read just now, or `undefined` when there is no such account. */
  async find(accountId: string): Promise<BlobStore | undefined> {
    const account = await this.deps.accounts.byId(accountId);
    return account ? this.storeFor(account) : undefined;
  }

  /** The driver of an account read just now; 404 `StorageAccountNotFound` when there is none. */
  async open(accountId: string): Promise<BlobStore> {
    const store = await this.find(accountId);
    if (!store) throw new NotFoundError('StorageAccountNotFound', `Storage account '${accountId}' not found`);
    return store;
  }

  /** As `open`, but a lookup up to 2 s old is reused: playback's way, as its locators are. */
  openForPlayback(accountId: string): Promise<BlobStore> {
    const hit = this.#recent.get(accountId);
    if (hit) return hit;
    const store = this.open(accountId);
    store.catch(() => {
      if (this.#recent.get(accountId) === store) this.#recent.delete(accountId);
    });
    this.#recent.set(accountId, store);
    return store;
  }

  /** The driver of an account the caller has just read; built with the active credential, or reused. */
  storeFor(account: StoredAccount): Promise<BlobStore> {
    const id = account.row.id;
    const credential = activeCredential(account.credentials);
    const cached = this.#drivers.get(id);
    if (cached && cached.credentialId === credential?.id) return cached.store;
    const store = (async () => {
      // The old credential's driver goes before its successor is made.
      if (cached) await closeStore(cached.store);
      const secret = credential ? this.deps.box.open<Record<string, unknown>>(credential.secret) : undefined;
      if (account.row.type !== 'Local' && !secret) {
        throw new BadRequestError('NoCredential', `Storage account '${account.row.name}' has no credential`);
      }
      const config = JSON.parse(account.row.config) as Record<string, unknown>;
      return this.deps.factory(this.specOf({ type: account.row.type as StorageType, projectName: account.projectName, config, secret }));
    })();
    this.#drivers.set(id, { credentialId: credential?.id, store });
    store.catch(() => {
      if (this.#drivers.get(id)?.store === store) this.#drivers.delete(id);
    });
    return store;
  }

  /**
   * Builds a throwaway driver for an account not saved yet and lists it; rejects with the driver's error when
   * the account can't be reached. A record that can't be reached is never saved.
   */
  async check(draft: AccountDraft, signal: AbortSignal): Promise<void> {
    let store: BlobStore | undefined;
    try {
      store = await this.deps.factory(this.specOf(draft));
      await store.checkAccess(signal);
    } finally {
      await store?.close?.();
    }
  }

  /** The directories a project's Local accounts may use. */
  localAreas(projectName: string): string[] {
    return this.deps.policy.localAreas(projectName);
  }

  /** Forgets and closes an account's driver: its record or its credentials changed in this process. */
  async drop(accountId: string): Promise<void> {
    const cached = this.#drivers.get(accountId);
    this.#drivers.delete(accountId);
    this.#recent.delete(accountId);
    if (cached) await closeStore(cached.store);
  }

  /** Closes every driver (shutdown). */
  async close(): Promise<void> {
    const stores = [...this.#drivers.values()].map((d) => d.store);
    this.#drivers.clear();
    this.#recent.clear();
    for (const store of stores) await closeStore(store);
  }

  /** A Local account gets its project's areas as its only roots, so an account pointing elsewhere fails on use. */
  private specOf(draft: AccountDraft): StorageAccountSpec {
    if (draft.type === 'Local') return { type: 'Local', config: draft.config as { path: string }, allowedRoots: this.localAreas(draft.projectName) };
    return { type: draft.type, config: draft.config, secret: draft.secret } as StorageAccountSpec;
  }
}

/** A driver that failed to build has nothing to close. */
async function closeStore(store: Promise<BlobStore>): Promise<void> {
  const opened = await store.catch(() => undefined);
  await opened?.close?.();
}
