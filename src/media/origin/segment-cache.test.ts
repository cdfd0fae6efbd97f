import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BufferPool } from '../../shared/buffer-pool.js';
import { SegmentBody } from './segment-body.js';
import { SegmentCache } from './segment-cache.js';

const body = (bytes: number) => new SegmentBody([new Uint8Array(bytes)], bytes, 'video/mp4');

describe('SegmentCache', () => {
  it('keeps what fits and evicts the least recently used for a more popular newcomer', () => {
    const cache = new SegmentCache(3000);
    for (const k of ['a', 'b']) {
      assert.equal(cache.get(k), undefined);
      assert.equal(cache.offer(k, body(1000)), true);
    }
    assert.ok(cache.get('a')); // a is now most recent
    for (let i = 0; i < 3; i++) cache.get('c'); // c asked for three times, b once
    assert.equal(cache.offer('c', body(1500)), true);
    assert.equal(cache.get('b'), undefined, 'b, least recent and less popular, made room');
    assert.ok(cache.get('a'));
    assert.ok(cache.get('c'));
    assert.ok(cache.bytes <= 3000);
  });

  it('does not churn when players cycle through more segments than fit', () => {
    const cache = new SegmentCache(10_000);
    let hits = 0;
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 30; i++) {
        const key = `s${i}`;
        if (cache.get(key)) hits++;
        else cache.offer(key, body(1000));
      }
    }
    // Plain LRU would hit nothing here (reuse distance 30 > entries that fit); admission keeps a stable set
    // that hits on every later round.
    const fits = Math.floor(10_000 / body(1000).weight);
    assert.ok(fits >= 5);
    assert.equal(hits, 4 * fits);
  });

  it('hands pooled buffers back only when neither the cache nor a response holds them', () => {
    const pool = new BufferPool({ maxPooledBytes: 1 << 20 });
    const buffer = pool.acquire(1000);
    const b = new SegmentBody([buffer.subarray(0, 10)], 10, 'video/mp4', [buffer], pool);
    const cache = new SegmentCache(1 << 20);
    cache.offer('k', b);
    b.retain();
    cache.clear();
    assert.equal(pool.pooledBytes, 0, 'still being sent');
    b.releaseRef();
    assert.equal(pool.pooledBytes, buffer.length);
    assert.equal(pool.acquire(900), buffer, 'the same size class is reused');
  });
});
