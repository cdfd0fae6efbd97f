import { sql, type Expression, type SqlBool } from 'kysely';
import type { AssetRow, Db, DialectName, StorageAccountRow } from './database.js';
import { CompiledQueryCache } from './compiled-query-cache.js';
import { fieldComparison, fieldOrdering, type FieldPageQuery } from './list-query.js';
import { inTransaction, recordWebhookEvent } from './webhook-repository.js';

/** `$label` terms: keys that must be present, and values per key (exact, or `contains`), OR-ed within a key. */
export interface AssetLabelQuery {
  keys: string[];
  values: Array<{ key: string; value: string; contains: boolean }>;
}

/** An asset saved before locations were recorded, with the settings of its account to place it by. */
export interface UnplacedAsset {
  name: string;
  project_id: string;
  container: string;
  type: StorageAccountRow['type'];
  config: StorageAccountRow['config'];
}

/** Assets (`assets`): every query of the table. */
export class AssetRepository {
  /** Asset by name: the most frequent read of the API, compiled once. */
  private readonly byName: CompiledQueryCache<[string, string], AssetRow>;

  constructor(
    private readonly db: Db,
    private readonly dialect: DialectName,
  ) {
    this.byName = new CompiledQueryCache(db, (projectId: string, name: string) =>
      db.selectFrom('assets').selectAll().where('project_id', '=', projectId).where('name', '=', name),
    );
  }

  async findByName(projectId: string, name: string): Promise<AssetRow | undefined> {
    const [row] = await this.byName.run(projectId, name);
    return row;
  }

  async findById(id: string): Promise<AssetRow | undefined> {
    return this.db.selectFrom('assets').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** The name of one asset over a storage account, if any: an account in use is not deleted. */
  async findAnyOfAccount(storageAccountId: string): Promise<string | undefined> {
    return (await this.db.selectFrom('assets').select('name').where('storage_account_id', '=', storageAccountId).limit(1).executeTakeFirst())?.name;
  }

  async list(projectId: string, query: FieldPageQuery, labels: AssetLabelQuery): Promise<{ items: AssetRow[]; total: number }> {
    let base = this.db.selectFrom('assets').where('project_id', '=', projectId);
    base = base.where((eb) =>
      eb.and([
        ...query.filter.map((t) => fieldComparison(this.dialect, t)),
        ...labels.keys.map((k) => sql<SqlBool>`${this.labelValue(k)} is not null`),
        ...groupByKey(labels.values).map((alternatives) =>
          eb.or(
            alternatives.map((v) =>
              v.contains
                ? sql<SqlBool>`${this.labelValue(v.key)} like ${`%${v.value.replace(/[\\%_]/g, (c) => `\\${c}`)}%`} escape '\\'`
                : sql<SqlBool>`${this.labelValue(v.key)} = ${v.value}`,
            ),
          ),
        ),
      ]),
    );
    const [items, count] = await Promise.all([
      base.selectAll().orderBy(fieldOrdering(this.dialect, query.orderBy)).limit(query.top).offset(query.skip).execute(),
      base.select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { items, total: Number(count.n) };
  }

  /** The label's value as SQL text; keys are validated by the service, and still passed as parameters. */
  private labelValue(key: string): Expression<string | null> {
    return this.dialect === 'postgres' ? sql<string | null>`(labels::jsonb ->> ${key})` : sql<string | null>`json_extract(labels, ${`$."${key}"`})`;
  }

  // Each change writes its webhook event (Reel.Asset*) in the same transaction: both happen or neither.
  async insert(row: AssetRow): Promise<void> {
    await inTransaction(this.db, async (trx) => {
      await trx.insertInto('assets').values(row).execute();
      await recordWebhookEvent(trx, { projectId: row.project_id, type: 'Reel.AssetCreated', resource: `assets/${row.name}`, data: assetEventData(row) });
    });
  }

  async update(id: string, values: Partial<AssetRow>): Promise<void> {
    await inTransaction(this.db, async (trx) => {
      await trx.updateTable('assets').set(values).where('id', '=', id).execute();
      const row = await trx.selectFrom('assets').selectAll().where('id', '=', id).executeTakeFirst();
      if (row)
        await recordWebhookEvent(trx, { projectId: row.project_id, type: 'Reel.AssetUpdated', resource: `assets/${row.name}`, data: assetEventData(row) });
    });
  }

  async delete(id: string): Promise<void> {
    await inTransaction(this.db, async (trx) => {
      const row = await trx.selectFrom('assets').selectAll().where('id', '=', id).executeTakeFirst();
      const deleted = await trx.deleteFrom('assets').where('id', '=', id).executeTakeFirst();
      if (row && Number(deleted.numDeletedRows) > 0) {
        await recordWebhookEvent(trx, { projectId: row.project_id, type: 'Reel.AssetDeleted', resource: `assets/${row.name}`, data: assetEventData(row) });
      }
    });
  }

  /** The project's asset over exactly this container (and subPath; none means the whole container). */
  async findOverContainer(projectId: string, storageAccountId: string, container: string, subPath: string | undefined): Promise<{ name: string } | undefined> {
    return this.db
      .selectFrom('assets')
      .select('name')
      .where('project_id', '=', projectId)
      .where('storage_account_id', '=', storageAccountId)
      .where('container', '=', container)
      .where((eb) => (subPath ? eb('sub_path', '=', subPath) : eb('sub_path', 'is', null)))
      .executeTakeFirst();
  }

  /** Any asset (of any project) recorded over this account's container. */
  async findAnyOverContainer(storageAccountId: string, container: string): Promise<{ name: string } | undefined> {
    return this.db.selectFrom('assets').select('name').where('storage_account_id', '=', storageAccountId).where('container', '=', container).executeTakeFirst();
  }

  /**
   * Assets whose recorded location overlaps `location` (storage-location.ts): the same cloud container, or for
   * a `file://` location a directory that contains it or lies inside it.
   */
  async findOverlapping(location: string): Promise<Array<{ name: string; project_id: string }>> {
    const key = sql<string>`cast(${location} as text)`;
    return this.db
      .selectFrom('assets')
      .select(['name', 'project_id'])
      .where((eb) =>
        location.startsWith('file://')
          ? eb.and([
              eb('storage_location', 'like', 'file://%'),
              eb.or([
                sql<SqlBool>`substr(${key}, 1, length(storage_location)) = storage_location`,
                sql<SqlBool>`substr(storage_location, 1, length(${key})) = ${key}`,
              ]),
            ])
          : eb('storage_location', '=', location),
      )
      .execute();
  }

  /** Assets without a recorded location (the backfill could not place them), with their account's settings. */
  async findUnplaced(): Promise<UnplacedAsset[]> {
    return this.db
      .selectFrom('assets')
      .innerJoin('storage_accounts', 'storage_accounts.id', 'assets.storage_account_id')
      .select([
        'assets.name as name',
        'assets.project_id as project_id',
        'assets.container as container',
        'storage_accounts.type as type',
        'storage_accounts.config as config',
      ])
      .where('assets.storage_location', 'is', null)
      .execute();
  }
}

function groupByKey(values: AssetLabelQuery['values']): Array<AssetLabelQuery['values']> {
  const groups = new Map<string, AssetLabelQuery['values']>();
  for (const v of values) groups.set(v.key, [...(groups.get(v.key) ?? []), v]);
  return [...groups.values()];
}

/** What an asset event tells: the names a receiver looks the asset up by, never storage credentials. */
function assetEventData(row: AssetRow): Record<string, unknown> {
  return { assetName: row.name, assetId: row.id, alternateId: row.alternate_id, container: row.container, storageAccountName: row.storage_account_name };
}
