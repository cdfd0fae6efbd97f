import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { openDatabase, type OpenedDatabase } from '../../store/database.js';
import { migrateToLatest } from '../../store/migrate.js';
import { SqlJobQueue } from './sql-job-queue.js';

const run = promisify(execFile);
const moduleUrl = (file: string) => new URL(file, import.meta.url).href;

/**
 * A real worker process on the SQLite file: leases in a loop (`drain`: completing each, printing the ids) or
 * leases one id and dies with SIGKILL (`crash`), leaving its lease behind as a crashed worker does. Draining
 * waits for a `go` file, so the processes start leasing together however long each took to start.
 */
const child = `
  const fs = await import('node:fs');
  const { openDatabase } = await import(${JSON.stringify(moduleUrl('../../store/database.ts'))});
  const { SqlJobQueue } = await import(${JSON.stringify(moduleUrl('./sql-job-queue.ts'))});
  const [dataDir, workerId, mode] = process.argv.slice(1);
  const queue = new SqlJobQueue(openDatabase({ dataDir }).db, { dialect: 'sqlite' });
  if (mode === 'crash') {
    await queue.lease(workerId);
    process.kill(process.pid, 'SIGKILL');
  }
  fs.writeFileSync(dataDir + '/ready-' + workerId, '');
  while (!fs.existsSync(dataDir + '/go')) await new Promise((resolve) => setTimeout(resolve, 5));
  const got = [];
  for (let lease = await queue.lease(workerId); lease; lease = await queue.lease(workerId)) {
    got.push(lease.message.jobId);
    await lease.complete();
  }
  process.stdout.write(JSON.stringify(got));
`;
const startWorker = (dataDir: string, workerId: string, mode: 'drain' | 'crash') =>
  run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', child, dataDir, workerId, mode]);

describe('SqlJobQueue on one SQLite file shared by processes', () => {
  let dataDir: string;
  let opened: OpenedDatabase;

  before(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'reel-queue-'));
    opened = openDatabase({ dataDir });
    await migrateToLatest(opened.db);
  });
  after(async () => {
    await opened?.db.destroy();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('never hands one id to two processes leasing at once', async () => {
    const queue = new SqlJobQueue(opened.db, { dialect: 'sqlite' });
    const jobIds = Array.from({ length: 200 }, (_, i) => `job-${String(i).padStart(3, '0')}`);
    for (const jobId of jobIds) await queue.enqueue(jobId, 'Normal');
    const workers = ['p1', 'p2', 'p3'].map((workerId) => startWorker(dataDir, workerId, 'drain'));
    const deadline = Date.now() + 60_000; // only so a child that failed to start cannot hang the suite
    while (fs.readdirSync(dataDir).filter((name) => name.startsWith('ready-')).length < workers.length) {
      assert.ok(Date.now() < deadline, 'the worker processes did not start');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    fs.writeFileSync(path.join(dataDir, 'go'), '');
    const outputs = await Promise.all(workers);
    const taken = outputs.map((output) => JSON.parse(output.stdout) as string[]);
    assert.deepEqual(taken.flat().sort(), jobIds);
  });

  it('re-delivers the job of a process killed while holding it, after its lease expires', async () => {
    await new SqlJobQueue(opened.db, { dialect: 'sqlite' }).enqueue('crashed', 'Normal');
    await assert.rejects(startWorker(dataDir, 'doomed', 'crash'), (err: { signal?: string }) => err.signal === 'SIGKILL');
    const restarted = new SqlJobQueue(opened.db, { dialect: 'sqlite' });
    assert.equal(await restarted.lease('survivor'), undefined); // the dead lease still runs (30 s default)
    const later = new SqlJobQueue(opened.db, { dialect: 'sqlite', now: () => Date.now() + 31_000 });
    const lease = await later.lease('survivor');
    assert.deepEqual(lease?.message, { jobId: 'crashed', attempt: 1 });
    await lease.complete();
  });
});
