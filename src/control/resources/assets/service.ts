import type { AssetRow, ContainerDeletionPolicy, Db, DialectName, StorageEncryptionFormat } from '../../../store/database.js';
import { AssetRepository, type AssetLabelQuery } from '../../../store/asset-repository.js';
import { UniqueViolationError } from '../../../store/store-errors.js';
import { BadRequestError, ConflictError, notFound } from '../../../shared/errors.js';
import { newId } from '../../../shared/ids.js';
import type { Logger } from '../../../shared/log.js';
import type { BlobStore } from '../../../storage/blob-store.js';
import { assertBlobPath, assertContainerName, joinBlobPath } from '../../../storage/storage-paths.js';
import type { StorageAccount, StorageAccountService } from '../storage/service.js';
import type { AccountStores } from '../../../storage/account-stores.js';
import { locationFromSettings, locationsOverlap } from '../../../shared/storage-location.js';
import type { FieldPageQuery } from '../../../store/list-query.js';
import { auditFields, ListFields, propertiesTimes } from '../list-fields.js';

export interface AssetInput {
  storageAccountName?: string;
  container?: string;
  subPath?: string;
  description?: string;
  alternateId?: string | null;
  containerDeletionPolicy?: ContainerDeletionPolicy;
  storageEncryptionFormat?: StorageEncryptionFormat;
  labels?: Record<string, string>;
}

/**
 * `$filter`/`$orderby` fields of the list, as MK.IO documents them for assets (§2.3), except `labels`: labels
 * are matched with `$label`/`$label_key`.
 */
export const assetListFields = new ListFields({
  ...auditFields,
  ...propertiesTimes,
  'properties/assetId': { column: 'id' },
  'properties/alternateId': { column: 'alternate_id' },
  'properties/container': { column: 'container' },
  'properties/containerDeletionPolicy': { column: 'container_deletion_policy' },
  'properties/storageAccountName': { column: 'storage_account_name' },
  'properties/subPath': { column: 'sub_path' },
});

/** `$label=key=value` (exact) or `key~value` (contains); several values for one key are OR-ed (§2.3). */
export type LabelQuery = AssetLabelQuery;

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

interface Actor {
  email: string;
}

/** Assets: records over a container (or a folder of one) in a registered storage account. */
export class AssetService {
  private readonly repository: AssetRepository;

  constructor(
    db: Db,
    dialect: DialectName,
    private readonly storage: StorageAccountService,
    private readonly stores: AccountStores,
    private readonly log: Logger,
  ) {
    this.repository = new AssetRepository(db, dialect);
  }

  async find(projectId: string, name: string): Promise<AssetRow | undefined> {
    return this.repository.findByName(projectId, name);
  }

  async get(projectId: string, name: string): Promise<AssetRow> {
    const row = await this.find(projectId, name);
    if (!row) throw notFound(`Asset '${name}'`);
    return row;
  }

  async list(projectId: string, query: FieldPageQuery, labels: LabelQuery): Promise<{ items: AssetRow[]; total: number }> {
    return this.repository.list(projectId, query, labels);
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
    await this.repository.delete(row.id);
    if (row.container === `asset-${row.id}`) {
      await this.removeStorage(row).catch((err: unknown) => this.log.warn({ err, container: row.container }, 'could not remove container after failed create'));
    }
  }

  private async update(existing: AssetRow, input: AssetInput, actor: Actor): Promise<AssetRow> {
    const immutable: Array<[keyof AssetInput, string | null]> = [
      ['storageAccountName', existing.storage_account_name],
      ['container', existing.container],
      ['subPath', existing.sub_path],
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
    await this.repository.update(existing.id, values);
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
        throw new ConflictError(
          'ContainerInUseByAnotherProject',
          `Container '${container}' of storage account '${account.row.name}' is already used by another project`,
        );
      }
      const clash = await this.repository.findOverContainer(projectId, account.row.id, container, input.subPath);
      if (clash)
        throw new ConflictError('ContainerInUse', `Container '${container}' of storage account '${account.row.name}' is already used by asset '${clash.name}'`);
    } else {
      await store.createContainer(container);
    }

    const now = new Date().toISOString();
    const row: AssetRow = {
      id,
      project_id: projectId,
      name,
      storage_account_id: account.row.id,
      storage_account_name: account.row.name,
      container,
      sub_path: input.subPath ?? null,
      description: input.description ?? '',
      alternate_id: input.alternateId ?? null,
      container_deletion_policy: input.containerDeletionPolicy ?? 'Retain',
      storage_encryption_format: input.storageEncryptionFormat ?? 'None',
      labels: JSON.stringify(input.labels ?? {}),
      created_at: now,
      created_by: actor.email,
      updated_at: now,
      updated_by: actor.email,
      storage_location: location,
    };
    try {
      await this.repository.insert(row);
    } catch (err) {
      // Nothing half-created: a container made for this asset goes when the record can't be written.
      if (generated)
        await store.deleteContainer(container).catch((e: unknown) => this.log.warn({ err: e, container }, 'could not remove container after failed create'));
      throw err;
    }
    return row;
  }

  /** 200 when deleted, 204 when there was nothing. The container goes only under the `Delete` policy. */
  async delete(projectId: string, name: string): Promise<boolean> {
    const row = await this.find(projectId, name);
    if (!row) return false;
    await this.repository.delete(row.id);
    if (row.container_deletion_policy === 'Delete') {
      // Any other asset over the same physical container (any account, any project) keeps it.
      const location = row.storage_location ?? (await this.locationOfRow(row).catch(() => undefined));
      const sameRecord = await this.repository.findAnyOverContainer(row.storage_account_id, row.container);
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
    const located = await this.repository.findOverlapping(location);
    const unplaced = await this.repository.findUnplaced();
    const placed = await Promise.all(
      unplaced.map(async (r) => ({
        name: r.name,
        project_id: r.project_id,
        location: await locationFromSettings(r.type, JSON.parse(r.config) as Record<string, unknown>, r.container).catch(() => undefined),
      })),
    );
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
