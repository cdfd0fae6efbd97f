import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe } from 'node:test';
import { openDatabase, type Db, type DialectName } from '../../src/store/database.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import { createPgDatabase } from './pg-database.js';

export interface StoreUnderTest {
  db: Db;
  dialect: DialectName;
}

/**
 * Runs `body` once per dialect against a migrated database of its own (a temp SQLite file, a throwaway
 * PostgreSQL database), as the repository tests must hold on both. `store()` is valid inside the tests.
 */
export function describeOnEachDialect(name: string, body: (store: () => StoreUnderTest) => void): void {
  for (const dialect of ['sqlite', 'postgres'] as const) {
    describe(`${name} on ${dialect}`, () => {
      let opened: StoreUnderTest | undefined;
      let cleanup = async () => {};
      before(async () => {
        const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'reel-store-'));
        const pg = dialect === 'postgres' ? await createPgDatabase() : undefined;
        const { db } = openDatabase({ dataDir, databaseUrl: pg?.url });
        await migrateToLatest(db);
        opened = { db, dialect };
        cleanup = async () => {
          await db.destroy();
          await pg?.drop();
          fs.rmSync(dataDir, { recursive: true, force: true });
        };
      });
      after(async () => {
        await cleanup();
      });
      body(() => {
        if (!opened) throw new Error('the store is opened in before()');
        return opened;
      });
    });
  }
}

/** An organization and a project to hang rows on; returns the project id. */
export async function insertProject(db: Db, name: string): Promise<string> {
  const now = new Date().toISOString();
  await db
    .insertInto('organizations')
    .values({ id: `org-${name}`, name: `org-${name}`, created_at: now })
    .execute();
  await db
    .insertInto('projects')
    .values({ id: `project-${name}`, organization_id: `org-${name}`, name, display_name: name, created_at: now })
    .execute();
  return `project-${name}`;
}
