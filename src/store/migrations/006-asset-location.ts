import type { Kysely } from 'kysely';
import { locationFromSettings } from '../../shared/storage-location.js';

/**
 * `assets.storage_location`: where the asset's container physically lives (storage-location.ts), so an asset of
 * another project over the same container is refused and a `Delete` policy never removes a container another
 * asset still uses, whichever account reaches it. Existing rows are backfilled from their account's settings.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('assets').addColumn('storage_location', 'text').execute();
  await db.schema.createIndex('assets_storage_location').on('assets').column('storage_location').execute();
  const q = db as Kysely<any>;
  const rows = (await q
    .selectFrom('assets')
    .innerJoin('storage_accounts', 'storage_accounts.id', 'assets.storage_account_id')
    .select(['assets.id as id', 'assets.container as container', 'storage_accounts.type as type', 'storage_accounts.config as config'])
    .execute()) as Array<{ id: string; container: string; type: string; config: string }>;
  for (const row of rows) {
    const location = await locationFromSettings(row.type, JSON.parse(row.config) as Record<string, unknown>, row.container).catch(() => null);
    await q.updateTable('assets').set({ storage_location: location }).where('id', '=', row.id).execute();
  }
}
