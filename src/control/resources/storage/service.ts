import type { Db, StorageAccountRow, StorageCredentialRow } from '../../../store/database.js';
import type { BlobStore, BlobStoreFactory, StorageAccountSpec } from '../../../storage/blob-store.js';
import { BadRequestError, ConflictError, ReelError, notFound } from '../../../shared/errors.js';
import { AddressRefusedError, checkOutboundUrl, type AddressPolicy } from '../../../shared/address-policy.js';
import path from 'node:path';
import { newId } from '../../../shared/ids.js';
import type { SecretBox } from '../../../shared/secret-box.js';

export type StorageType = 'Local' | 'Microsoft.Storage' | 'AWS.S3';

/** A validated create request, independent of which API generation sent it. */
export interface StorageAccountInput {
  name: string;
  type: StorageType;
  description: string;
  location: string;
  /** Non-secret settings: Local {path}; Azure {url}; S3 {bucketName, region?, endpoint?, forcePathStyle?}. */
  config: Record<string, unknown>;
  /** Secret settings for the first credential (absent for Local). */
  credential?: Record<string, string>;
}

export interface StorageAccount {
  row: StorageAccountRow;
  config: Record<string, unknown>;
  credentials: StorageCredentialRow[];
  /** The credential in use: the one that expires last (MK.IO's rule). */
  active?: StorageCredentialRow;
}

/** What the operator lets storage accounts reach. */
export interface StoragePolicy {
  /** The directories a project's Local accounts may use (local-areas.ts). */
  localAreas(projectName: string): string[];
  /** The addresses Azure and S3 accounts may connect to (the drivers check it again on every connection). */
  address: AddressPolicy;
}

/** Who acts: MK.IO shows storage authors by user id and e-mail. */
interface Actor { email: string; userId: string }

/** Parses `?sv=…&se=…&sig=…`: MK.IO shows it without `sig`, with start and expiry beside it. */
export function describeSas(sasToken: string): { sanitized: string; signedStart: string | null; signedExpiry: string | null } {
  const params = new URLSearchParams(sasToken.replace(/^\?/, ''));
  params.delete('sig');
  return { sanitized: `?${params.toString()}`, signedStart: params.get('st'), signedExpiry: params.get('se') };
}

function sanitizedCredential(type: StorageType, secret: Record<string, string>): { sanitized: Record<string, unknown>; expiresAt: string | null } {
  if (type === 'Microsoft.Storage') {
    const sas = describeSas(secret.sasToken ?? '');
    const expiry = sas.signedExpiry ? Date.parse(sas.signedExpiry) : NaN;
    return {
      sanitized: { sasToken: sas.sanitized, signedStart: sas.signedStart, signedExpiry: sas.signedExpiry },
      expiresAt: Number.isNaN(expiry) ? null : new Date(expiry).toISOString(),
    };
  }
  return { sanitized: { accessKeyId: secret.accessKeyId }, expiresAt: null };
}

function outsideAreas(given: string, areas: string[], how = ''): BadRequestError {
  const where = areas.length > 0 ? `: an absolute directory inside ${areas.join(' or ')}` : ' (this project has none)';
  return new BadRequestError('InvalidStoragePath', `spec.path '${given}' is not in a directory allowed for this project${how}${where}`);
}

function activeCredential(credentials: StorageCredentialRow[]): StorageCredentialRow | undefined {
  // A credential without expiry outlives any with one.
  return [...credentials].sort((a, b) => (b.expires_at ?? '9999') .localeCompare(a.expires_at ?? '9999'))[0];
}

/**
 * Storage account records and their credentials. Every create and every new credential is proven by really
 * listing the account first; secrets are sealed at rest and never returned.
 */
export class StorageAccountService {
  private readonly stores = new Map<string, { credentialId: string | undefined; store: BlobStore }>();

  constructor(private readonly db: Db, private readonly factory: BlobStoreFactory, private readonly box: SecretBox, private readonly policy: StoragePolicy) {}

  async list(projectId: string): Promise<StorageAccount[]> {
    const rows = await this.db.selectFrom('storage_accounts').selectAll().where('project_id', '=', projectId).orderBy('name').execute();
    return Promise.all(rows.map((r) => this.hydrate(r)));
  }

  async find(projectId: string, key: { name?: string; id?: string }): Promise<StorageAccount | undefined> {
    let q = this.db.selectFrom('storage_accounts').selectAll().where('project_id', '=', projectId);
    q = key.id ? q.where('id', '=', key.id) : q.where('name', '=', key.name ?? '');
    const row = await q.executeTakeFirst();
    return row ? this.hydrate(row) : undefined;
  }

  /** By id alone, for signed file URLs (the grant already names the account). */
  async getById(accountId: string): Promise<StorageAccount | undefined> {
    const row = await this.db.selectFrom('storage_accounts').selectAll().where('id', '=', accountId).executeTakeFirst();
    return row ? this.hydrate(row) : undefined;
  }

  async get(projectId: string, key: { name?: string; id?: string }): Promise<StorageAccount> {
    const account = await this.find(projectId, key);
    if (!account) throw notFound(`Storage account '${key.name ?? key.id}'`);
    return account;
  }

  private async hydrate(row: StorageAccountRow): Promise<StorageAccount> {
    const credentials = await this.db.selectFrom('storage_credentials').selectAll().where('storage_account_id', '=', row.id).orderBy('created_at').execute();
    return { row, config: JSON.parse(row.config) as Record<string, unknown>, credentials, active: activeCredential(credentials) };
  }

  async create(projectId: string, input: StorageAccountInput, actor: Actor): Promise<StorageAccount> {
    if (await this.find(projectId, { name: input.name })) throw new ConflictError('Conflict', `Storage account '${input.name}' already exists`);
    if (input.type !== 'Local' && !input.credential) {
      throw new BadRequestError('ValidationError', `A credential is required for storage type ${input.type}`);
    }
    await this.checkPlacement(projectId, input.type, input.config);
    await this.probe(await this.specOf(projectId, input.type, input.config, input.credential));
    const now = new Date().toISOString();
    const row: StorageAccountRow = {
      id: newId(), project_id: projectId, name: input.name, type: input.type, description: input.description,
      location: input.location, config: JSON.stringify(input.config),
      created_at: now, created_by: actor.email, created_by_id: actor.userId, updated_at: now, updated_by: actor.email, updated_by_id: actor.userId,
    };
    await this.db.transaction().execute(async (trx) => {
      await trx.insertInto('storage_accounts').values(row).execute();
      if (input.credential) await trx.insertInto('storage_credentials').values(this.credentialRow(row.id, input.type, input.credential, actor)).execute();
    });
    return this.get(projectId, { id: row.id });
  }

  async update(projectId: string, key: { name?: string; id?: string }, changes: { description?: string }, actor: Actor): Promise<StorageAccount> {
    const account = await this.get(projectId, key);
    await this.db.updateTable('storage_accounts').set({
      description: changes.description ?? account.row.description, updated_at: new Date().toISOString(), updated_by: actor.email, updated_by_id: actor.userId,
    }).where('id', '=', account.row.id).execute();
    return this.get(projectId, { id: account.row.id });
  }

  /** Deleting the record never touches the storage itself; refused while assets still point at it. */
  async delete(projectId: string, key: { name?: string; id?: string }): Promise<boolean> {
    const account = await this.find(projectId, key);
    if (!account) return false;
    const inUse = await this.db.selectFrom('assets').select('name').where('storage_account_id', '=', account.row.id).limit(1).executeTakeFirst();
    if (inUse) throw new ConflictError('StorageAccountInUse', `Storage account '${account.row.name}' is still used by assets (e.g. '${inUse.name}')`);
    await this.db.deleteFrom('storage_accounts').where('id', '=', account.row.id).execute();
    await this.dropStore(account.row.id);
    return true;
  }

  async addCredential(projectId: string, key: { name?: string; id?: string }, secret: Record<string, string>, actor: Actor): Promise<StorageCredentialRow> {
    const account = await this.get(projectId, key);
    const type = account.row.type as StorageType;
    if (type === 'Local') throw new BadRequestError('ValidationError', 'Local storage accounts take no credentials');
    await this.checkPlacement(projectId, type, account.config);
    await this.probe(await this.specOf(projectId, type, account.config, secret));
    const row = this.credentialRow(account.row.id, type, secret, actor);
    await this.db.insertInto('storage_credentials').values(row).execute();
    await this.dropStore(account.row.id);
    return row;
  }

  async deleteCredential(projectId: string, key: { name?: string; id?: string }, credentialId: string): Promise<boolean> {
    const account = await this.get(projectId, key);
    const result = await this.db.deleteFrom('storage_credentials').where('storage_account_id', '=', account.row.id).where('id', '=', credentialId).executeTakeFirst();
    await this.dropStore(account.row.id);
    return Number(result.numDeletedRows) > 0;
  }

  /** The driver for an account with its active credential; cached until the credential set changes. */
  async storeFor(account: StorageAccount): Promise<BlobStore> {
    const cached = this.stores.get(account.row.id);
    if (cached && cached.credentialId === account.active?.id) return cached.store;
    if (cached) await cached.store.close?.();
    const secret = account.active ? this.box.open<Record<string, string>>(account.active.secret) : undefined;
    if (account.row.type !== 'Local' && !secret) {
      throw new BadRequestError('NoCredential', `Storage account '${account.row.name}' has no credential`);
    }
    const store = await this.factory(await this.specOf(account.row.project_id, account.row.type as StorageType, account.config, secret));
    this.stores.set(account.row.id, { credentialId: account.active?.id, store });
    return store;
  }

  async close(): Promise<void> {
    for (const { store } of this.stores.values()) await store.close?.();
    this.stores.clear();
  }

  private async dropStore(accountId: string): Promise<void> {
    const cached = this.stores.get(accountId);
    this.stores.delete(accountId);
    await cached?.store.close?.();
  }

  /** A Local account gets its project's areas as its only roots, so an account pointing elsewhere fails on use. */
  private async specOf(projectId: string, type: StorageType, config: Record<string, unknown>, secret?: Record<string, string>): Promise<StorageAccountSpec> {
    if (type === 'Local') return { type, config: config as { path: string }, allowedRoots: await this.areasOf(projectId) };
    return { type, config, secret } as StorageAccountSpec;
  }

  private async areasOf(projectId: string): Promise<string[]> {
    const project = await this.db.selectFrom('projects').select('name').where('id', '=', projectId).executeTakeFirst();
    return project ? this.policy.localAreas(project.name) : [];
  }

  /**
   * Where an account may point, checked before anything is opened: a Local path inside the project's own areas
   * (the driver then checks again after following symlinks), an Azure URL or S3 endpoint on an address the
   * operator allows (the drivers check again on every connection, since DNS can change).
   */
  private async checkPlacement(projectId: string, type: StorageType, config: Record<string, unknown>): Promise<void> {
    if (type === 'Local') {
      const given = String(config.path ?? '');
      const areas = await this.areasOf(projectId);
      const resolved = path.resolve(given);
      const inside = (area: string) => resolved === area || resolved.startsWith(area + path.sep);
      if (!path.isAbsolute(given) || !areas.some(inside)) throw outsideAreas(given, areas);
      return;
    }
    const field = type === 'Microsoft.Storage' ? 'spec.url' : 'spec.endpoint';
    const url = type === 'Microsoft.Storage' ? config.url : config.endpoint;
    if (typeof url !== 'string') return; // AWS itself: the driver's agents check the hosts it derives
    try {
      await checkOutboundUrl(url, this.policy.address);
    } catch (err) {
      if (!(err instanceof AddressRefusedError)) throw err;
      if (err.reason === 'private') {
        throw new BadRequestError('StorageAddressNotAllowed', `${field}: the host '${err.host}' is on this machine or a private network, which storage accounts may not reach (an operator may allow the host with REEL_STORAGE_ALLOWED_HOSTS)`, { cause: err });
      }
      if (err.reason === 'unresolvable') {
        throw new BadRequestError('StorageAccountUnreachable', `${field}: the host '${err.host}' could not be resolved`, { cause: err });
      }
      throw new BadRequestError('InvalidStorageUrl', `${field}: ${err.message}`, { cause: err });
    }
  }

  /** Builds a throwaway driver and lists the account: a record that can't be reached is never saved. */
  private async probe(spec: StorageAccountSpec): Promise<void> {
    let store: BlobStore | undefined;
    try {
      store = await this.factory(spec);
      await store.checkAccess(AbortSignal.timeout(15_000));
    } catch (err) {
      if (spec.type === 'Local' && err instanceof BadRequestError && err.code === 'InvalidStoragePath') {
        throw outsideAreas(spec.config.path, spec.allowedRoots, ' after following symbolic links');
      }
      const reason = err instanceof ReelError ? err.detail : 'the storage service could not be reached';
      throw new BadRequestError('StorageAccountUnreachable', `The storage account could not be reached or listed: ${reason}`, { cause: err });
    } finally {
      await store?.close?.();
    }
  }

  private credentialRow(accountId: string, type: StorageType, secret: Record<string, string>, actor: Actor): StorageCredentialRow {
    const { sanitized, expiresAt } = sanitizedCredential(type, secret);
    return {
      id: newId(), storage_account_id: accountId, secret: this.box.seal(secret), sanitized: JSON.stringify(sanitized),
      expires_at: expiresAt, created_at: new Date().toISOString(), created_by: actor.email, created_by_id: actor.userId,
    };
  }
}
