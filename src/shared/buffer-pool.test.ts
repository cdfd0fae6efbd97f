import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { BufferPool } from './buffer-pool.js';

test('a released buffer is handed out again for a request of its size class', () => {
  const pool = new BufferPool({ maxPooledBytes: 1024 * 1024, granularity: 1024 });
  const a = pool.acquire(1000);
  pool.release(a);
  assert.equal(pool.pooledBytes, 1024);
  assert.equal(pool.acquire(900), a);
  assert.equal(pool.pooledBytes, 0);
});

test('buffers beyond the idle limit are left to GC', () => {
  const pool = new BufferPool({ maxPooledBytes: 2048, granularity: 1024 });
  const bufs = [pool.acquire(1024), pool.acquire(1024), pool.acquire(1024)];
  for (const b of bufs) pool.release(b);
  assert.equal(pool.pooledBytes, 2048);
});

test('an idle pool lets its buffers go; one still in use keeps them', async () => {
  const pool = new BufferPool({ maxPooledBytes: 1024 * 1024, granularity: 1024, idleMs: 60 });
  pool.release(pool.acquire(1024));
  await sleep(200);
  assert.equal(pool.pooledBytes, 0);

  const busy = new BufferPool({ maxPooledBytes: 1024 * 1024, granularity: 1024, idleMs: 150 });
  busy.release(busy.acquire(1024));
  for (let i = 0; i < 6; i++) {
    await sleep(40);
    busy.release(busy.acquire(1024));
  }
  assert.equal(busy.pooledBytes, 1024);
});
