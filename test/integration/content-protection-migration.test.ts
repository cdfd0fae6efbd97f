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
import * as m006 from '../../src/store/migrations/006-asset-location.js';
import { createPgDatabase, type ThrowawayPgDatabase } from '../support/pg-database.js';
import { dialects } from '../support/server.js';

/** The schema as an install from before content protection had it. */
async function migrateToBeforeContentProtection(db: Db): Promise<void> {
  const migrations: Record<string, Migration> = {
    '001-foundation': m001,
    '002-streaming': m002,
    '003-encoding': m003,
    '004-job-queue': m004,
    '005-session-token': m005,
    '006-asset-location': m006,
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
  describe(`content keys kept in locator properties are removed on upgrade (${dialect})`, () => {
    let dir: string;
    let db: Db;
    let pg: ThrowawayPgDatabase | undefined;

    before(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reel-mig-cp-'));
      pg = dialect === 'postgres' ? await createPgDatabase() : undefined;
      db = openDatabase({ dataDir: dir, databaseUrl: pg?.url }).db;
    });
    after(async () => {
      await db?.destroy();
      await pg?.drop();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('drops contentKeys (values stored in the clear) from properties and keeps the rest', async () => {
      await migrateToBeforeContentProtection(db);
      const now = new Date().toISOString();
      const audit = { created_at: now, created_by: 'x', updated_at: now, updated_by: 'x' };
      await db.insertInto('organizations').values({ id: 'o', name: 'o', created_at: now }).execute();
      await db.insertInto('projects').values({ id: 'p', organization_id: 'o', name: 'p', display_name: 'p', created_at: now }).execute();
      await db
        .insertInto('storage_accounts')
        .values({
          id: 's',
          project_id: 'p',
          name: 's',
          type: 'Local',
          description: '',
          location: 'l',
          config: '{}',
          ...audit,
          created_by_id: 'x',
          updated_by_id: 'x',
        })
        .execute();
      await db
        .insertInto('assets')
        .values({
          id: 'a',
          project_id: 'p',
          name: 'a',
          storage_account_id: 's',
          storage_account_name: 's',
          container: 'c',
          sub_path: null,
          description: '',
          alternate_id: null,
          container_deletion_policy: 'Retain',
          storage_encryption_format: 'None',
          labels: '{}',
          ...audit,
        })
        .execute();
      const locator = (id: string, properties: Record<string, unknown>) => ({
        id,
        project_id: 'p',
        name: id,
        locator_id: `00000000-0000-4000-8000-00000000000${id.length}`,
        asset_id: 'a',
        asset_name: 'a',
        policy_name: 'Predefined_ClearKey',
        start_time: null,
        end_time: null,
        properties: JSON.stringify(properties),
        ...audit,
      });
      const value = 'AAECAwQFBgcICQoLDA0ODw==';
      await db
        .insertInto('streaming_locators')
        .values([
          locator('with', { filters: ['f'], contentKeys: [{ id: '5d6a4c1e-7b2a-4c3d-9e8f-102030405060', value }], suppressed: false }),
          locator('without', { alternativeMediaId: 'contentKeys' }),
        ])
        .execute();

      await migrateToLatest(db);
      const rows = await db.selectFrom('streaming_locators').selectAll().orderBy('name').execute();
      assert.deepEqual(
        rows.map((r) => [r.name, JSON.parse(r.properties), r.content_keys, r.content_key_values]),
        [
          ['with', { filters: ['f'], suppressed: false }, null, null],
          ['without', { alternativeMediaId: 'contentKeys' }, null, null],
        ],
      );
      assert.ok(!JSON.stringify(rows).includes(value));
    });
  });
}
