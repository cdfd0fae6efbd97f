import { sql, type Expression, type SqlBool } from 'kysely';
import type { AssetRow, Db, DialectName } from '../../../store/database.js';
import { CompiledQueryCache } from '../../../store/compiled-query-cache.js';
import { UniqueViolationError } from '../../../store/store-errors.js';
import { BadRequestError, ConflictError, notFound } from '../../../shared/errors.js';
import { newId } from '../../../shared/ids.js';
import type { Logger } from '../../../shared/log.js';
import type { BlobStore } from '../../../storage/blob-store.js';
import { assertBlobPath, assertContainerName, joinBlobPath } from '../../../storage/storage-paths.js';
import type { StorageAccount, StorageAccountService } from '../storage/service.js';
import type { AccountStores } from '../../../storage/account-stores.js';
import { locationFromSettings, locationsOverlap } from '../../../storage/storage-location.js';
import type { ListRequest } from '../paging.js';
import type { FilterTerm } from '../odata.js';

export interface AssetInput {
  storageAccountName?: string;
  container?: string;
  subPath?: string;
  description?: string;
  alternateId?: string | null;
  containerDeletionPolicy?: 'Delete' | 'Retain';
  storageEncryptionFormat?: 'None' | 'MediaStorageClientEncryption';
  labels?: Record<string, string>;
}

/** `$filter`/`$orderby` field → column, per §2.3 (the subset that maps to stored columns). */
export const assetColumns: Record<string, keyof AssetRow> = {
  name: 'name', id: 'id', created: 'created_at', updated: 'updated_at', createdBy: 'created_by', updatedBy: 'updated_by',
  createdByEmail: 'created_by', updatedByEmail: 'updated_by', createdByName: 'created_by', updatedByName: 'updated_by',
  'properties/assetId': 'id', 'properties/alternateId': 'alternate_id', 'properties/container': 'container',
  'properties/containerDeletionPolicy': 'container_deletion_policy', 'properties/created': 'created_at',
  'properties/lastModified': 'updated_at', 'properties/storageAccountName': 'storage_account_name', 'properties/subPath': 'sub_path',
};
export const assetFields: ReadonlySet<string> = new Set(Object.keys(assetColumns));

/** `$label=key=value` (exact) or `key~value` (contains); several values for one key are OR-ed (§2.3). */
export interface LabelQuery { keys: string[]; values: Array<{ key: string; value: string; contains: boolean }> }

const labelKeyPattern = /^[A-Za-z0-9_-]{1,256}$/;

export function parseLabelQuery(labels: string[], keys: string[]): LabelQuery {
  const values = labels.map((l) => {
    const m = /^([^=~]+)([=~])(.*)$/.exec(l);
    if (!m || !labelKeyPattern.test(m[1])) throw new BadRequestError('InvalidLabel', `Invalid $label '${l}': use key=value or key~value`);
    return { key: m[1], value: m[3], contains: m[2] === '~' };
  });
  for (const k of keys) if (!labelKeyPattern.test(k)) throw new BadRequestError('InvalidLabel', `Invalid $label_key '${k}'`);
  return { keys, values };
}

interface Actor { email: string }

/** Assets: records over a container (or a folder of one) in a registered storage account. */
export class AssetService {
  constructor(
    private readonly db: Db,
    private readonly dialect: DialectName,
    private readonly storage: StorageAccountService,
    private readonly stores: AccountStores,
    private readonly log: Logger,
  ) {
    this.byName = new CompiledQueryCache(db, (projectId: string, name: string) =>
      db.selectFrom('assets').selectAll().where('project_id', '=', projectId).where('name', '=', name));
  }

  /** Asset by name: the most frequent read of the API, compiled once. */
  private readonly byName: CompiledQueryCache<[string, string], AssetRow>;

  async find(projectId: string, name: string): Promise<AssetRow | undefined> {
    const [row] = await this.byName.run(projectId, name);
    return row;
  }

  async get(projectId: string, name: string): Promise<AssetRow> {
    const row = await this.find(projectId, name);
    if (!row) throw notFound(`Asset '${name}'`);
    return row;
  }

  async list(projectId: string, request: ListRequest, labels: LabelQuery): Promise<{ items: AssetRow[]; total: number }> {
    let base = this.db.selectFrom('assets').where('project_id', '=', projectId);
    base = base.where((eb) => eb.and([
      ...request.filter.map((t) => this.comparison(t)),
      ...labels.keys.map((k) => sql<SqlBool>`${this.labelValue(k)} is not null`),
      ...this.groupByKey(labels.values).map((alternatives) => eb.or(alternatives.map((v) => (v.contains
        ? sql<SqlBool>`${this.labelValue(v.key)} like ${`%${v.value.replace(/[\\%_]/g, (c) => `\\${c}`)}%`} escape '\\'`
        : sql<SqlBool>`${this.labelValue(v.key)} = ${v.value}`)))),
    ]));
    let page = base.selectAll();
    for (const o of request.orderBy) page = page.orderBy(assetColumns[o.field], o.direction);
    page = page.orderBy('created_at', 'asc').orderBy('name', 'asc');
    const [items, count] = await Promise.all([
      page.limit(request.top).offset(request.skip).execute(),
      base.select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { items, total: Number(count.n) };
  }

  private groupByKey(values: LabelQuery['values']): Array<LabelQuery['values']> {
    const groups = new Map<string, LabelQuery['values']>();
    for (const v of values) groups.set(v.key, [...(groups.get(v.key) ?? []), v]);
    return [...groups.values()];
  }

  /** The label's value as SQL text; keys are validated, and still passed as parameters. */
  private labelValue(key: string): Expression<string | null> {
    return this.dialect === 'postgres'
      ? sql<string | null>`(labels::jsonb ->> ${key})`
      : sql<string | null>`json_extract(labels, ${`$."${key}"`})`;
  }

  private comparison(term: FilterTerm): Expression<SqlBool> {
    const column = sql.ref(assetColumns[term.field]);
    const ops = { eq: '=', ne: '<>', gt: '>', ge: '>=', lt: '<', le: '<=' } as const;
    if (term.value === null) return term.op === 'ne' ? sql<SqlBool>`${column} is not null` : sql<SqlBool>`${column} is null`;
    return sql<SqlBool>`${column} ${sql.raw(ops[term.op])} ${String(term.value)}`;
  }

  /**
   * MK.IO PUT semantics: 201 when created, 200 when an existing asset was updated. Concurrent PUTs of one name
   * all succeed: whoever loses the insert answers as if it had come second (an update of the winner's asset).
   */
  async put(projectId: string, name: string, input: AssetInput, actor: Actor): Promise<{ row: AssetRow; created: boolean }> {
    const existing = await this.find(projectId, name);
    if (existing) return { row: await this.update(existing, input, actor), created: false };
    try {
      return { row: await this.create(projectId, name, input, actor), created: true };
    } catch (err) {
      const winner = err instanceof UniqueViolationError ? await this.find(projectId, name) : undefined;
      if (!winner) throw err;
      return { row: await this.update(winner, input, actor), created: false };
    }
  }

  /**
   * The asset of that name, created when missing (job outputs). Unlike `put`, an existing asset is used as it is;
   * when concurrent callers create it, one row is made and every caller gets it. `id` fixes the new asset's id.
   */
  async ensure(projectId: string, name: string, input: AssetInput, actor: Actor, id?: string): Promise<{ row: AssetRow; created: boolean }> {
    const existing = await this.find(projectId, name);
    if (existing) return { row: existing, created: false };
    try {
      return { row: await this.create(projectId, name, input, actor, id), created: true };
    } catch (err) {
      const winner = err instanceof UniqueViolationError ? await this.find(projectId, name) : undefined;
      if (!winner) throw err;
      return { row: winner, created: false };
    }
  }

  /** Undoes an `ensure` whose request then failed: the record and the container made for it go. */
  async discard(row: AssetRow): Promise<void> {
    await this.db.deleteFrom('assets').where('id', '=', row.id).execute();
    if (row.container === `asset-${row.id}`) {
      await this.removeStorage(row).catch((err: unknown) => this.log.warn({ err, container: row.container }, 'could not remove container after failed create'));
    }
  }

  private async update(existing: AssetRow, input: AssetInput, actor: Actor): Promise<AssetRow> {
    const immutable: Array<[keyof AssetInput, string | null]> = [
      ['storageAccountName', existing.storage_account_name], ['container', existing.container], ['subPath', existing.sub_path],
    ];
    for (const [field, current] of immutable) {
      const sent = input[field];
      if (sent !== undefined && sent !== current) {
        throw new BadRequestError('ImmutableProperty', `properties.${field} cannot be changed after the asset is created (it is '${current ?? ''}')`);
      }
    }
    const values: Partial<AssetRow> = { updated_at: new Date().toISOString(), updated_by: actor.email };
    if (input.description !== undefined) values.description = input.description;
    if (input.alternateId !== undefined) values.alternate_id = input.alternateId;
    if (input.containerDeletionPolicy !== undefined) values.container_deletion_policy = input.containerDeletionPolicy;
    if (input.storageEncryptionFormat !== undefined) values.storage_encryption_format = input.storageEncryptionFormat;
    if (input.labels !== undefined) values.labels = JSON.stringify(input.labels);
    await this.db.updateTable('assets').set(values).where('id', '=', existing.id).execute();
    return { ...existing, ...values };
  }

  private async create(projectId: string, name: string, input: AssetInput, actor: Actor, presetId?: string): Promise<AssetRow> {
    if (!input.storageAccountName) throw new BadRequestError('ValidationError', 'properties.storageAccountName is required to create an asset');
    const account = await this.storage.find(projectId, { name: input.storageAccountName });
    if (!account) throw new BadRequestError('StorageAccountNotFound', `Storage account '${input.storageAccountName}' not found in this project`);
    if (input.subPath !== undefined) assertBlobPath(input.subPath, 'subPath');
    const id = presetId ?? newId();
    const store = await this.stores.storeFor(account);
    const generated = input.container === undefined;
    const container = generated ? `asset-${id}` : assertContainerName(input.container as string);

    const location = await store.location(container);
    if (!generated) {
      if (!(await store.containerExists(container))) {
        throw new BadRequestError('ContainerNotFound', `Container '${container}' not found in storage account '${account.row.name}'`);
      }
      // Another project's container stays its own, whichever account (or spelling of the account) reaches it.
      if ((await this.usersOf(location)).some((user) => user.project_id !== projectId)) {
        throw new ConflictError('ContainerInUseByAnotherProject', `Container '${container}' of storage account '${account.row.name}' is already used by another project`);
      }
      const clash = await this.db.selectFrom('assets').select('name').where('project_id', '=', projectId)
        .where('storage_account_id', '=', account.row.id).where('container', '=', container)
        .where((eb) => (input.subPath ? eb('sub_path', '=', input.subPath) : eb('sub_path', 'is', null))).executeTakeFirst();
      if (clash) throw new ConflictError('ContainerInUse', `Container '${container}' of storage account '${account.row.name}' is already used by asset '${clash.name}'`);
    } else {
      await store.createContainer(container);
    }

    const now = new Date().toISOString();
    const row: AssetRow = {
      id, project_id: projectId, name, storage_account_id: account.row.id, storage_account_name: account.row.name,
      container, sub_path: input.subPath ?? null, description: input.description ?? '', alternate_id: input.alternateId ?? null,
      container_deletion_policy: input.containerDeletionPolicy ?? 'Retain', storage_encryption_format: input.storageEncryptionFormat ?? 'None',
      labels: JSON.stringify(input.labels ?? {}), created_at: now, created_by: actor.email, updated_at: now, updated_by: actor.email,
      storage_location: location,
    };
    try {
      await this.db.insertInto('assets').values(row).execute();
    } catch (err) {
      // Nothing half-created: a container made for this asset goes when the record can't be written.
      if (generated) await store.deleteContainer(container).catch((e: unknown) => this.log.warn({ err: e, container }, 'could not remove container after failed create'));
      throw err;
    }
    return row;
  }

  /** 200 when deleted, 204 when there was nothing. The container goes only under the `Delete` policy. */
  async delete(projectId: string, name: string): Promise<boolean> {
    const row = await this.find(projectId, name);
    if (!row) return false;
    await this.db.deleteFrom('assets').where('id', '=', row.id).execute();
    if (row.container_deletion_policy === 'Delete') {
      // Any other asset over the same physical container (any account, any project) keeps it.
      const location = row.storage_location ?? await this.locationOfRow(row).catch(() => undefined);
      const sameRecord = await this.db.selectFrom('assets').select('name').where('storage_account_id', '=', row.storage_account_id)
        .where('container', '=', row.container).executeTakeFirst();
      const shared = sameRecord ?? (location === undefined ? undefined : (await this.usersOf(location))[0]);
      if (shared) {
        this.log.warn({ asset: name, container: row.container, sharedWith: shared.name }, 'container kept: another asset still uses it');
      } else {
        await this.removeStorage(row).catch((err: unknown) => {
          // The record is gone either way; the operator must clean the container up by hand.
          this.log.error({ err, asset: name, container: row.container }, 'asset deleted but its container could not be removed');
        });
      }
    }
    return true;
  }

  /**
   * Assets whose container overlaps `location` (storage-location.ts): the same cloud container, or for Local a
   * directory that contains or lies inside it. Rows saved without a location are placed from their account.
   */
  private async usersOf(location: string): Promise<Array<{ name: string; project_id: string }>> {
    const key = sql<string>`cast(${location} as text)`;
    const located = await this.db.selectFrom('assets').select(['name', 'project_id']).where((eb) => (location.startsWith('file://')
      ? eb.and([
        eb('storage_location', 'like', 'file://%'),
        eb.or([
          sql<SqlBool>`substr(${key}, 1, length(storage_location)) = storage_location`,
          sql<SqlBool>`substr(storage_location, 1, length(${key})) = ${key}`,
        ]),
      ])
      : eb('storage_location', '=', location))).execute();
    const unplaced = await this.db.selectFrom('assets').innerJoin('storage_accounts', 'storage_accounts.id', 'assets.storage_account_id')
      .select(['assets.name as name', 'assets.project_id as project_id', 'assets.container as container', 'storage_accounts.type as type', 'storage_accounts.config as config'])
      .where('assets.storage_location', 'is', null).execute();
    const placed = await Promise.all(unplaced.map(async (r) => ({
      name: r.name, project_id: r.project_id,
      location: await locationFromSettings(r.type, JSON.parse(r.config) as Record<string, unknown>, r.container).catch(() => undefined),
    })));
    return [...located, ...placed.filter((r) => r.location !== undefined && locationsOverlap(r.location, location))];
  }

  private async locationOfRow(row: AssetRow): Promise<string> {
    const account = await this.storage.get(row.project_id, { id: row.storage_account_id });
    return locationFromSettings(account.row.type, account.config, row.container);
  }

  private async removeStorage(row: AssetRow): Promise<void> {
    const { store } = await this.open(row);
    if (!row.sub_path) return store.deleteContainer(row.container);
    const listing = await store.list(row.container, row.sub_path, { recursive: true });
    for (const blob of listing.blobs) await store.delete(row.container, blob.name);
  }

  /** The asset's storage driver and account. */
  async open(row: AssetRow): Promise<{ store: BlobStore; account: StorageAccount }> {
    const account = await this.storage.get(row.project_id, { id: row.storage_account_id });
    return { store: await this.stores.storeFor(account), account };
  }

  /** Blob path of a file inside the asset (validated, under subPath). */
  blobPath(row: AssetRow, fileName: string): string {
    return joinBlobPath(row.sub_path, assertBlobPath(fileName, 'file name'));
  }
}
