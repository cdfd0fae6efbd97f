import { Migrator, type Migration, type MigrationProvider } from 'kysely';
import type { Db } from './database.js';
import * as m001 from './migrations/001-foundation.js';
import * as m002 from './migrations/002-streaming.js';
import * as m003 from './migrations/003-encoding.js';
import * as m004 from './migrations/004-job-queue.js';
import * as m005 from './migrations/005-session-token.js';
import * as m006 from './migrations/006-asset-location.js';
import * as m007 from './migrations/007-content-protection.js';
import * as m008 from './migrations/008-project-profiles.js';
import * as m009 from './migrations/009-webhooks.js';
import * as m010 from './migrations/010-organization-admin.js';
import * as m011 from './migrations/011-usage.js';
import * as m012 from './migrations/012-filters.js';
import * as m013 from './migrations/013-live.js';

/** Migrations are imported statically, so a bundled or tsx-run server finds them without a directory scan. */
const migrations: Record<string, Migration> = {
  '001-foundation': m001,
  '002-streaming': m002,
  '003-encoding': m003,
  '004-job-queue': m004,
  '005-session-token': m005,
  '006-asset-location': m006,
  '007-content-protection': m007,
  '008-project-profiles': m008,
  '009-webhooks': m009,
  '010-organization-admin': m010,
  '011-usage': m011,
  '012-filters': m012,
  '013-live': m013,
};

const provider: MigrationProvider = { getMigrations: async () => migrations };

/** Brings the schema up to date; safe to run from many processes (Kysely locks the migration table). */
export async function migrateToLatest(db: Db): Promise<void> {
  const migrator = new Migrator({ db, provider, migrationTableName: 'reel_migrations', migrationLockTableName: 'reel_migrations_lock' });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    throw new Error(`database migration ${failed?.migrationName ?? ''} failed`, { cause: error });
  }
}
