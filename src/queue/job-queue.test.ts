import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createPgDatabase } from '../../test/support/pg-database.js';
import { openDatabase, type DialectName, type OpenedDatabase } from '../store/database.js';
import { migrateToLatest } from '../store/migrate.js';
import { createJobQueue } from './create-job-queue.js';
import { describeJobQueueContract, type QueueTestDatabase } from './job-queue.contract.js';

/**
 * A migrated database of the dialect: a temp SQLite file or a throwaway PostgreSQL database. Every `open` makes
 * its own connection (file handle or pool) through `openDatabase`, as a separate worker process would.
 */
async function testDatabase(dialect: DialectName): Promise<QueueTestDatabase> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'reel-queue-'));
  const pgDatabase = dialect === 'postgres' ? await createPgDatabase() : undefined;
  const connections: OpenedDatabase[] = [];
  const connect = () => {
    const opened = openDatabase({ dataDir, databaseUrl: pgDatabase?.url });
    connections.push(opened);
    return opened;
  };
  const first = connect();
  await migrateToLatest(first.db);
  return {
    async open(options) {
      const { db } = connect();
      return createJobQueue(db, dialect, options);
    },
    async reset() {
      await first.db.deleteFrom('job_queue').execute();
    },
    async cleanup() {
      await Promise.all(connections.map((c) => c.db.destroy()));
      await pgDatabase?.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

for (const dialect of ['sqlite', 'postgres'] as const) {
  describeJobQueueContract(`SqlJobQueue on ${dialect}`, () => testDatabase(dialect));
}
