import type { Db, StorageAccountRow, StorageCredentialRow } from './database.js';

/**
 * An account with all its credentials (oldest first) and the name of its project, which a Local account's
 * allowed directories derive from.
 */
export interface StorageAccountRecord {
  row: StorageAccountRow;
  projectName: string;
  credentials: StorageCredentialRow[];
}

/** Storage accounts and their sealed credentials: every query of those two tables. */
export class StorageAccountRepository {
  constructor(private readonly db: Db) {}

  /** A project's accounts by name. */
  async list(projectId: string): Promise<StorageAccountRecord[]> {
    return this.withCredentials(await this.accounts().where('storage_accounts.project_id', '=', projectId).orderBy('storage_accounts.name').execute());
  }

  async find(projectId: string, key: { name?: string; id?: string }): Promise<StorageAccountRecord | undefined> {
    let q = this.accounts().where('storage_accounts.project_id', '=', projectId);
    q = key.id ? q.where('storage_accounts.id', '=', key.id) : q.where('storage_accounts.name', '=', key.name ?? '');
    const [record] = await this.withCredentials(await q.execute());
    return record;
  }

  /** By id alone: signed file URLs, playback and the worker name the account, not its project. */
  async byId(accountId: string): Promise<StorageAccountRecord | undefined> {
    const [record] = await this.withCredentials(await this.accounts().where('storage_accounts.id', '=', accountId).execute());
    return record;
  }

  /** The account and its first credential, both or neither. */
  async insert(row: StorageAccountRow, credential?: StorageCredentialRow): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.insertInto('storage_accounts').values(row).execute();
      if (credential) await trx.insertInto('storage_credentials').values(credential).execute();
    });
  }

  async update(accountId: string, values: Pick<StorageAccountRow, 'description' | 'updated_at' | 'updated_by' | 'updated_by_id'>): Promise<void> {
    await this.db.updateTable('storage_accounts').set(values).where('id', '=', accountId).execute();
  }

  /** Its credentials go with it (foreign key cascade). */
  async delete(accountId: string): Promise<void> {
    await this.db.deleteFrom('storage_accounts').where('id', '=', accountId).execute();
  }

  async insertCredential(row: StorageCredentialRow): Promise<void> {
    await this.db.insertInto('storage_credentials').values(row).execute();
  }

  /** false when the account had no such credential. */
  async deleteCredential(accountId: string, credentialId: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('storage_credentials')
      .where('storage_account_id', '=', accountId)
      .where('id', '=', credentialId)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  private accounts() {
    return this.db
      .selectFrom('storage_accounts')
      .innerJoin('projects', 'projects.id', 'storage_accounts.project_id')
      .selectAll('storage_accounts')
      .select('projects.name as project_name');
  }

  /** One query for the credentials of all `rows`, whatever their number. */
  private async withCredentials(rows: Array<StorageAccountRow & { project_name: string }>): Promise<StorageAccountRecord[]> {
    if (rows.length === 0) return [];
    const credentials = await this.db
      .selectFrom('storage_credentials')
      .selectAll()
      .where(
        'storage_account_id',
        'in',
        rows.map((r) => r.id),
      )
      .orderBy('created_at')
      .execute();
    return rows.map(({ project_name: projectName, ...row }) => ({
      row,
      projectName,
      credentials: credentials.filter((c) => c.storage_account_id === row.id),
    }));
  }
}
