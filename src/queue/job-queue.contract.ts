import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import type { JobQueue, Lease } from './job-queue.js';
import { LeaseLostError } from './lease-lost-error.js';

/** Options every driver's test harness must honour: a short lease and a clock the suite moves by hand. */
export interface QueueTestOptions {
  leaseMs: number;
  now: () => number;
}

/** One real database (SQLite file or PostgreSQL database) that queue instances are opened on. */
export interface QueueTestDatabase {
  /** A new queue instance with its own connection, as another worker process would have. */
  open(options: QueueTestOptions): Promise<JobQueue>;
  /** Empties the queue, so each test starts from nothing. */
  reset(): Promise<void>;
  cleanup(): Promise<void>;
}

const leaseMs = 1_000;

/**
 * The behaviour every `JobQueue` driver must share, run against a real database. Time is a hand-moved clock
 * shared by every instance, so lease expiry is tested without sleeping and without timing assertions.
 */
export function describeJobQueueContract(name: string, make: () => Promise<QueueTestDatabase>): void {
  describe(`JobQueue contract: ${name}`, () => {
    const clock = { ms: Date.parse('2030-01-01T00:00:00.000Z') };
    const tick = (ms = 1) => {
      clock.ms += ms;
    };
    let database: QueueTestDatabase;
    let queue: JobQueue;
    const open = () => database.open({ leaseMs, now: () => clock.ms });
    /** Enqueues one id per clock tick, so "oldest first" is well defined for every driver. */
    const enqueueAll = async (target: JobQueue, items: [string, 'High' | 'Normal' | 'Low'][]) => {
      for (const [jobId, priority] of items) {
        await target.enqueue(jobId, priority);
        tick();
      }
    };
    const leaseAll = async (target: JobQueue, workerId: string) => {
      const leases: Lease[] = [];
      for (let lease = await target.lease(workerId); lease; lease = await target.lease(workerId)) leases.push(lease);
      return leases;
    };
    const ids = (leases: Lease[]) => leases.map((lease) => lease.message.jobId);

    before(async () => {
      database = await make();
    });
    after(async () => {
      await database?.cleanup();
    });
    beforeEach(async () => {
      await database.reset();
      queue = await open();
    });
    afterEach(async () => {
      await queue.close();
    });

    it('has nothing to lease when empty', async () => {
      assert.equal(await queue.lease('w1'), undefined);
    });

    it('keeps an enqueued id for another instance (durable once enqueue resolves)', async () => {
      await queue.enqueue('job-a', 'Normal');
      await queue.close();
      const restarted = await open();
      const lease = await restarted.lease('w1');
      assert.deepEqual(lease?.message, { jobId: 'job-a', attempt: 0 });
      await restarted.close();
    });

    it('delivers High before Normal before Low, then oldest first', async () => {
      await enqueueAll(queue, [
        ['n1', 'Normal'],
        ['l1', 'Low'],
        ['h1', 'High'],
        ['n2', 'Normal'],
        ['h2', 'High'],
        ['l2', 'Low'],
      ]);
      assert.deepEqual(ids(await leaseAll(queue, 'w1')), ['h1', 'h2', 'n1', 'n2', 'l1', 'l2']);
    });

    it('ignores an id that is already queued or leased', async () => {
      await enqueueAll(queue, [
        ['dup', 'Low'],
        ['other', 'Normal'],
        ['dup', 'High'],
      ]);
      assert.deepEqual(ids(await leaseAll(queue, 'w1')), ['other', 'dup']); // still Low
      await queue.enqueue('dup', 'High');
      assert.equal(await queue.lease('w1'), undefined);
    });

    it('hands each id to exactly one of several concurrent instances', async () => {
      const jobIds = Array.from({ length: 20 }, (_, i) => `job-${String(i).padStart(2, '0')}`);
      await enqueueAll(
        queue,
        jobIds.map((id) => [id, 'Normal']),
      );
      const workers = await Promise.all([1, 2, 3, 4].map(() => open()));
      try {
        // All leasing at once while 20 ids are ready: each instance must get one, and a different one.
        const firsts = await Promise.all(workers.map((worker, i) => worker.lease(`w${i}`)));
        assert.ok(
          firsts.every((lease) => lease !== undefined),
          'an instance got nothing while ids were ready',
        );
        // Then each drains the queue in a loop, all racing for the same rows.
        const taken = await Promise.all(
          workers.map(async (worker, i) => {
            const got: string[] = [];
            for (let lease: Lease | undefined = firsts[i]; lease; lease = await worker.lease(`w${i}`)) {
              got.push(lease.message.jobId);
              await lease.complete();
            }
            return got;
          }),
        );
        assert.deepEqual(taken.flat().sort(), jobIds);
      } finally {
        await Promise.all(workers.map((worker) => worker.close()));
      }
    });

    it('keeps a lease alive while its holder heartbeats', async () => {
      await queue.enqueue('long', 'Normal');
      const lease = await queue.lease('w1');
      assert.ok(lease);
      const other = await open();
      for (let i = 0; i < 5; i++) {
        tick(leaseMs * 0.8);
        await lease.heartbeat();
        assert.equal(await other.lease('w2'), undefined);
      }
      await lease.complete();
      await other.close();
    });

    it('hands an expired lease out again with attempt + 1; the old holder has lost it', async () => {
      await queue.enqueue('crashy', 'Normal');
      const first = await queue.lease('w1');
      assert.deepEqual(first?.message, { jobId: 'crashy', attempt: 0 });
      const other = await open();
      assert.equal(await other.lease('w2'), undefined);
      tick(leaseMs);
      const second = await other.lease('w2');
      assert.deepEqual(second?.message, { jobId: 'crashy', attempt: 1 });
      await assert.rejects(first.heartbeat(), LeaseLostError);
      await assert.rejects(first.complete(), LeaseLostError);
      await assert.rejects(first.release(), LeaseLostError);
      await second.heartbeat();

      // The same worker id leasing again is a new delivery too: its old lease stays lost.
      tick(leaseMs);
      const third = await other.lease('w2');
      assert.deepEqual(third?.message, { jobId: 'crashy', attempt: 2 });
      await assert.rejects(second.complete(), LeaseLostError);
      await third.complete();
      await other.close();
    });

    it('picks up a job whose process died, once the dead lease expires', async () => {
      await queue.enqueue('orphan', 'High');
      assert.ok(await queue.lease('dead-worker')); // its process dies here: no heartbeat, no release
      const restarted = await open();
      assert.equal(await restarted.lease('w2'), undefined);
      tick(leaseMs);
      const lease = await restarted.lease('w2');
      assert.deepEqual(lease?.message, { jobId: 'orphan', attempt: 1 });
      await restarted.close();
    });

    it('removes a completed id for good', async () => {
      await queue.enqueue('done', 'Normal');
      const lease = await queue.lease('w1');
      assert.ok(lease);
      await lease.complete();
      tick(leaseMs * 2);
      assert.equal(await queue.lease('w1'), undefined);
      assert.equal(await queue.remove('done'), false);
      await assert.rejects(lease.complete(), LeaseLostError);
      await queue.enqueue('done', 'Normal'); // a new entry, delivered afresh
      assert.deepEqual((await queue.lease('w1'))?.message, { jobId: 'done', attempt: 0 });
    });

    it('returns a released id for another delivery, ahead of younger ids', async () => {
      await enqueueAll(queue, [
        ['older', 'Normal'],
        ['younger', 'Normal'],
      ]);
      const lease = await queue.lease('w1');
      assert.equal(lease?.message.jobId, 'older');
      await lease.release();
      await assert.rejects(lease.heartbeat(), LeaseLostError);
      const again = await queue.lease('w2');
      assert.deepEqual(again?.message, { jobId: 'older', attempt: 1 });
    });

    it('removes only an id no worker holds', async () => {
      await enqueueAll(queue, [
        ['held', 'Normal'],
        ['waiting', 'Normal'],
      ]);
      const lease = await queue.lease('w1');
      assert.equal(lease?.message.jobId, 'held');
      assert.equal(await queue.remove('held'), false);
      assert.equal(await queue.remove('waiting'), true);
      assert.equal(await queue.remove('waiting'), false);
      assert.equal(await queue.remove('never-queued'), false);
      tick(leaseMs); // the holder died: its id may be removed now
      assert.equal(await queue.remove('held'), true);
      await assert.rejects(lease.complete(), LeaseLostError);
      assert.equal(await queue.lease('w1'), undefined);
    });

    it('closes the instance but not the queue', async () => {
      await queue.enqueue('kept', 'Normal');
      await queue.close();
      await queue.close(); // twice is fine
      await assert.rejects(queue.lease('w1'));
      const other = await open();
      assert.equal((await other.lease('w2'))?.message.jobId, 'kept');
      await other.close();
    });
  });
}
