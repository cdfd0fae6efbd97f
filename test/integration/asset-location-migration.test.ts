import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Migrator, type Migration } from 'kysely';
import { openDatabase, type Db } from '../../src/store/database.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import * as m001 from '../../src/store/migrations/001-foundation.js';
import * as m002 from '../../src/store/migrations/002-streaming.js';
import * as m003 from '../../src/store/migrations/003-encoding.js';
import * as m004 from '../../src/store/migrations/004-job-queue.js';
import * as m005 from '../../src/store/migrations/005-session-token.js';
import { createPgDatabase, type ThrowawayPgDatabase } from '../support/pg-database.js';
import { dialects } from '../support/server.js';

/** The schema as an install from before asset locations had it. */
async function migrateToBeforeLocations(db: Db): Promise<void> {
  const migrations: Record<string, Migration> = {
    '001-foundation': m001,
    '002-streaming': m002,
    '003-encoding': m003,
    '004-job-queue': m004,
    '005-session-token': m005,
  };
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    migrationTableName: 'reel_migrations',
    migrationLockTableName: 'reel_migrations_lock',
  });
  const { error } = await migrator.migrateToLatest();
  // eslint-disable-next-line @typescript-eslint/only-throw-error -- whatever the failed migration threw
  if (error) throw error;
}

for (const dialect of dialects) {
  describe(`asset locations are backfilled on upgrade (${dialect})`, () => {
    let dir: string;
    let db: Db;
    let pg: ThrowawayPgDatabase | undefined;

    before(async () => {
      dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'reel-mig-')));
      pg = dialect === 'postgres' ? await createPgDatabase() : undefined;
      db = openDatabase({ dataDir: dir, databaseUrl: pg?.url }).db;
    });
    after(async () => {
      await db?.destroy();
      await pg?.drop();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('records where each existing asset container lives, symlinks resolved and hosts normalised', async () => {
      await migrateToBeforeLocations(db);
      fs.mkdirSync(path.join(dir, 'real'));
      fs.symlinkSync(path.join(dir, 'real'), path.join(dir, 'link'));
      const now = new Date().toISOString();
      const audit = { created_at: now, created_by: 'x', updated_at: now, updated_by: 'x' };
      await db.insertInto('organizations').values({ id: 'o', name: 'o', created_at: now }).execute();
      await db.insertInto('projects').values({ id: 'p', organization_id: 'o', name: 'p', display_name: 'p', created_at: now }).execute();
      const accounts = [
        { id: 'local', type: 'Local', config: { path: path.join(dir, 'link') } },
        { id: 'azure', type: 'Microsoft.Storage', config: { url: 'https://Acct.blob.core.windows.net' } },
        { id: 's3', type: 'AWS.S3', config: { bucketName: 'media', endpoint: 'http://MinIO.internal:9000/' } },
      ];
      for (const a of accounts) {
        await db
          .insertInto('storage_accounts')
          .values({
            id: a.id,
            project_id: 'p',
            name: a.id,
            type: a.type,
            description: '',
            location: 'local',
            config: JSON.stringify(a.config),
            ...audit,
            created_by_id: 'u',
            updated_by_id: 'u',
          })
          .execute();
        await db
          .insertInto('assets')
          .values({
            id: `asset-${a.id}`,
            project_id: 'p',
            name: a.id,
            storage_account_id: a.id,
            storage_account_name: a.id,
            container: 'c1',
            sub_path: null,
            description: '',
            alternate_id: null,
            container_deletion_policy: 'Delete',
            storage_encryption_format: 'None',
            labels: '{}',
            ...audit,
          })
          .execute();
      }

      await migrateToLatest(db);
      const rows = await db.selectFrom('assets').select(['id', 'storage_location']).orderBy('id').execute();
      assert.deepEqual(rows, [
        { id: 'asset-azure', storage_location: 'azure://acct.blob.core.windows.net/c1/' },
        { id: 'asset-local', storage_location: `file://${path.join(dir, 'real')}/c1/` },
        { id: 'asset-s3', storage_location: 's3://minio.internal:9000/media/c1/' },
      ]);
    });
  });
}
