import type { StorageAccountRow, StorageCredentialRow } from '../../../store/database.js';
import type { StorageAccountRepository } from '../../../store/storage-account-repository.js';
import { activeCredential, type AccountDraft, type AccountStores, type StorageType } from '../../../storage/account-stores.js';
import { BadRequestError, ConflictError, ReelError, notFound } from '../../../shared/errors.js';
import { AddressRefusedError, checkOutboundUrl, type AddressPolicy } from '../../../shared/address-policy.js';
import path from 'node:path';
import { newId } from '../../../shared/ids.js';
import { googleSecret } from '../../../storage/google-service-account.js';
import type { AccountRepository } from '../../../store/account-repository.js';
import type { AssetRepository } from '../../../store/asset-repository.js';
import type { SecretBox } from '../../../shared/secret-box.js';

export type { StorageType };

/** A validated create request, independent of which API generation sent it. */
export interface StorageAccountInput {
  name: string;
  type: StorageType;
  description: string;
  location: string;
  /** Non-secret settings: Local {path}; Azure {url}; S3 {bucketName, region?, endpoint?, forcePathStyle?}; Google {bucketName, endpoint?}. */
  config: Record<string, unknown>;
  /** Secret settings for the first credential (absent for Local). */
  credential?: Record<string, unknown>;
}

export interface StorageAccount {
  row: StorageAccountRow;
  /** The owning project's name: a Local account's allowed directories derive from it. */
  projectName: string;
  config: Record<string, unknown>;
  credentials: StorageCredentialRow[];
  /** The credential in use: the one that expires last (MK.IO's rule). */
  active?: StorageCredentialRow;
}

/** Who acts: MK.IO shows storage authors by user id and e-mail. */
interface Actor {
  email: string;
  userId: string;
}

/** Parses `?sv=…&se=…&sig=…`: MK.IO shows it without `sig`, with start and expiry beside it. */
export function describeSas(sasToken: string): { sanitized: string; signedStart: string | null; signedExpiry: string | null } {
  const params = new URLSearchParams(sasToken.replace(/^\?/, ''));
  params.delete('sig');
  return { sanitized: `?${params.toString()}`, signedStart: params.get('st'), signedExpiry: params.get('se') };
}

function sanitizedCredential(type: StorageType, secret: Record<string, unknown>): { sanitized: Record<string, unknown>; expiresAt: string | null } {
  if (type === 'Microsoft.Storage') {
    const sas = describeSas(typeof secret.sasToken === 'string' ? secret.sasToken : '');
    const expiry = sas.signedExpiry ? Date.parse(sas.signedExpiry) : NaN;
    return {
      sanitized: { sasToken: sas.sanitized, signedStart: sas.signedStart, signedExpiry: sas.signedExpiry },
      expiresAt: Number.isNaN(expiry) ? null : new Date(expiry).toISOString(),
    };
  }
  if (type === 'Google.Storage') {
    const gac = (secret.gac ?? {}) as Record<string, unknown>;
    // Which service account and key, as the Cloud console lists them; the private key stays sealed.
    const shown = Object.fromEntries(
      ['type', 'project_id', 'client_email', 'private_key_id'].flatMap((k) => (typeof gac[k] === 'string' ? [[k, gac[k]]] : [])),
    );
    return { sanitized: { gac: shown }, expiresAt: null };
  }
  return { sanitized: { accessKeyId: secret.accessKeyId }, expiresAt: null };
}

function outsideAreas(given: string, areas: string[], how = ''): BadRequestError {
  const where = areas.length > 0 ? `: an absolute directory inside ${areas.join(' or ')}` : ' (this project has none)';
  return new BadRequestError('InvalidStoragePath', `spec.path '${given}' is not in a directory allowed for this project${how}${where}`);
}

/**
 * Storage account records and their credentials. Every create and every new credential is proven by really
 * listing the account first; secrets are sealed at rest and never returned.
 */
export class StorageAccountService {
  constructor(
    private readonly accounts: StorageAccountRepository,
    private readonly stores: AccountStores,
    private readonly box: SecretBox,
    private readonly address: AddressPolicy,
    /** Other aggregates' reads: the project's name (its Local areas) and whether an asset still uses an account. */
    private readonly related: { projects: Pick<AccountRepository, 'findProjectById'>; assets: Pick<AssetRepository, 'findAnyOfAccount'> },
  ) {}

  async list(projectId: string): Promise<StorageAccount[]> {
    return (await this.accounts.list(projectId)).map(hydrate);
  }

  async find(projectId: string, key: { name?: string; id?: string }): Promise<StorageAccount | undefined> {
    const record = await this.accounts.find(projectId, key);
    return record ? hydrate(record) : undefined;
  }

  async get(projectId: string, key: { name?: string; id?: string }): Promise<StorageAccount> {
    const account = await this.find(projectId, key);
    if (!account) throw notFound(`Storage account '${key.name ?? key.id}'`);
    return account;
  }

  async create(projectId: string, input: StorageAccountInput, actor: Actor): Promise<StorageAccount> {
    if (await this.find(projectId, { name: input.name })) throw new ConflictError('Conflict', `Storage account '${input.name}' already exists`);
    if (input.type !== 'Local' && !input.credential) {
      throw new BadRequestError('ValidationError', `A credential is required for storage type ${input.type}`);
    }
    const projectName = await this.projectName(projectId);
    await this.checkPlacement(projectName, input.type, input.config);
    await this.probe({ type: input.type, projectName, config: input.config, secret: input.credential });
    const now = new Date().toISOString();
    const row: StorageAccountRow = {
      id: newId(),
      project_id: projectId,
      name: input.name,
      type: input.type,
      description: input.description,
      location: input.location,
      config: JSON.stringify(input.config),
      created_at: now,
      created_by: actor.email,
      created_by_id: actor.userId,
      updated_at: now,
      updated_by: actor.email,
      updated_by_id: actor.userId,
    };
    await this.accounts.insert(row, input.credential ? this.credentialRow(row.id, input.type, input.credential, actor) : undefined);
    return this.get(projectId, { id: row.id });
  }

  async update(
    projectId: string,
    key: { name?: string; id?: string },
    changes: { description?: string; type?: string; name?: string },
    actor: Actor,
  ): Promise<StorageAccount> {
    const account = await this.get(projectId, key);
    if (changes.name !== undefined && changes.name !== account.row.name)
      throw new BadRequestError('ValidationError', `spec.name cannot be changed: the storage account is '${account.row.name}'`);
    if (changes.type !== undefined && changes.type !== account.row.type)
      throw new BadRequestError('ValidationError', `spec.type cannot be changed: storage account '${account.row.name}' is ${account.row.type}`);
    await this.accounts.update(account.row.id, {
      description: changes.description ?? account.row.description,
      updated_at: new Date().toISOString(),
      updated_by: actor.email,
      updated_by_id: actor.userId,
    });
    return this.get(projectId, { id: account.row.id });
  }

  /** Deleting the record never touches the storage itself; refused while assets still point at it. */
  async delete(projectId: string, key: { name?: string; id?: string }): Promise<boolean> {
    const account = await this.find(projectId, key);
    if (!account) return false;
    const user = await this.related.assets.findAnyOfAccount(account.row.id);
    if (user !== undefined) throw new ConflictError('StorageAccountInUse', `Storage account '${account.row.name}' is still used by assets (e.g. '${user}')`);
    await this.accounts.delete(account.row.id);
    await this.stores.drop(account.row.id);
    return true;
  }

  async addCredential(projectId: string, key: { name?: string; id?: string }, secret: Record<string, unknown>, actor: Actor): Promise<StorageCredentialRow> {
    const account = await this.get(projectId, key);
    const type = account.row.type as StorageType;
    if (type === 'Local') throw new BadRequestError('ValidationError', 'Local storage accounts take no credentials');
    if (type === 'Google.Storage') secret = googleSecret(secret);
    await this.checkPlacement(account.projectName, type, account.config);
    await this.probe({ type, projectName: account.projectName, config: account.config, secret });
    const row = this.credentialRow(account.row.id, type, secret, actor);
    await this.accounts.insertCredential(row);
    await this.stores.drop(account.row.id);
    return row;
  }

  async deleteCredential(projectId: string, key: { name?: string; id?: string }, credentialId: string): Promise<boolean> {
    const account = await this.get(projectId, key);
    const deleted = await this.accounts.deleteCredential(account.row.id, credentialId);
    await this.stores.drop(account.row.id);
    return deleted;
  }

  /** A project that is gone has no areas. */
  private async projectName(projectId: string): Promise<string> {
    return (await this.related.projects.findProjectById(projectId))?.name ?? '';
  }

  /**
   * Where an account may point, checked before anything is opened: a Local path inside the project's own areas
   * (the driver then checks again after following symlinks), an Azure URL or S3 endpoint on an address the
   * operator allows (the drivers check again on every connection, since DNS can change).
   */
  private async checkPlacement(projectName: string, type: StorageType, config: Record<string, unknown>): Promise<void> {
    if (type === 'Local') {
      const given = String(config.path ?? '');
      const areas = this.stores.localAreas(projectName);
      const resolved = path.resolve(given);
      const inside = (area: string) => resolved === area || resolved.startsWith(area + path.sep);
      if (!path.isAbsolute(given) || !areas.some(inside)) throw outsideAreas(given, areas);
      return;
    }
    const field = type === 'Microsoft.Storage' ? 'spec.url' : 'spec.endpoint';
    const url = type === 'Microsoft.Storage' ? config.url : config.endpoint;
    if (typeof url !== 'string') return; // AWS itself: the driver's agents check the hosts it derives
    try {
      await checkOutboundUrl(url, this.address);
    } catch (err) {
      if (!(err instanceof AddressRefusedError)) throw err;
      if (err.reason === 'private') {
        throw new BadRequestError(
          'StorageAddressNotAllowed',
          `${field}: the host '${err.host}' is on this machine or a private network, which storage accounts may not reach (an operator may allow the host with REEL_STORAGE_ALLOWED_HOSTS)`,
          { cause: err },
        );
      }
      if (err.reason === 'unresolvable') {
        throw new BadRequestError('StorageAccountUnreachable', `${field}: the host '${err.host}' could not be resolved`, { cause: err });
      }
      throw new BadRequestError('InvalidStorageUrl', `${field}: ${err.message}`, { cause: err });
    }
  }

  /** Lists the account through a throwaway driver: a record that can't be reached is never saved. */
  private async probe(draft: AccountDraft): Promise<void> {
    try {
      await this.stores.check(draft, AbortSignal.timeout(15_000));
    } catch (err) {
      if (draft.type === 'Local' && err instanceof BadRequestError && err.code === 'InvalidStoragePath') {
        throw outsideAreas(String(draft.config.path), this.stores.localAreas(draft.projectName), ' after following symbolic links');
      }
      const reason = err instanceof ReelError ? err.detail : 'the storage service could not be reached';
      throw new BadRequestError('StorageAccountUnreachable', `The storage account could not be reached or listed: ${reason}`, { cause: err });
    }
  }

  private credentialRow(accountId: string, type: StorageType, secret: Record<string, unknown>, actor: Actor): StorageCredentialRow {
    const { sanitized, expiresAt } = sanitizedCredential(type, secret);
    return {
      id: newId(),
      storage_account_id: accountId,
      secret: this.box.seal(secret),
      sanitized: JSON.stringify(sanitized),
      expires_at: expiresAt,
      created_at: new Date().toISOString(),
      created_by: actor.email,
      created_by_id: actor.userId,
    };
  }
}

function hydrate(record: { row: StorageAccountRow; projectName: string; credentials: StorageCredentialRow[] }): StorageAccount {
  return { ...record, config: JSON.parse(record.row.config) as Record<string, unknown>, active: activeCredential(record.credentials) };
}
