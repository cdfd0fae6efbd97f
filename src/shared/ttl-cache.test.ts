import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TtlCache } from './ttl-cache.js';

describe('TtlCache', () => {
  const clock = () => {
    let nowMs = 1_000;
    return {
      now: () => nowMs,
      advance: (ms: number) => {
        nowMs += ms;
      },
    };
  };

  it('answers until the lifetime has passed, then forgets the entry', () => {
    const time = clock();
    const cache = new TtlCache<string, number>({ ttlMs: 2000, max: 10, now: time.now });
    cache.set('a', 1);
    time.advance(1999);
    assert.equal(cache.get('a'), 1);
    time.advance(1);
    assert.equal(cache.get('a'), undefined);
    assert.equal(cache.size, 0, 'an expired entry is dropped when asked for');
  });

  it('takes a lifetime per entry, and keeps nothing for a lifetime of zero or less', () => {
    const time = clock();
    const cache = new TtlCache<string, string>({ ttlMs: 2000, max: 10, now: time.now });
    cache.set('short', 's', 10);
    cache.set('long', 'l', 60_000);
    cache.set('none', 'n', 0);
    time.advance(10);
    assert.deepEqual([cache.get('short'), cache.get('long'), cache.get('none')], [undefined, 'l', undefined]);
  });

  it('stays within its bound, dropping the least recently used entry first', () => {
    const cache = new TtlCache<string, number>({ ttlMs: 60_000, max: 2 });
    cache.set('a', 1);
    cache.set('b', 2);
    cache.get('a');
    cache.set('c', 3);
    assert.deepEqual([cache.get('a'), cache.get('b'), cache.get('c')], [1, undefined, 3]);
    assert.equal(cache.size, 2);
  });

  it('bounds the summed weight when values are weighed', () => {
    const cache = new TtlCache<string, string>({ ttlMs: 60_000, max: 10, weigh: (v) => v.length });
    cache.set('a', 'xxxx');
    cache.set('b', 'yyyy');
    cache.set('c', 'zzzz');
    cache.set('huge', 'w'.repeat(11));
    assert.deepEqual([cache.get('a'), cache.get('b'), cache.get('c'), cache.get('huge')], [undefined, 'yyyy', 'zzzz', undefined]);
  });

  it('deletes and clears', () => {
    const cache = new TtlCache<string, number>({ ttlMs: 60_000, max: 10 });
    cache.set('a', 1);
    cache.set('b', 2);
    cache.delete('a');
    assert.equal(cache.get('a'), undefined);
    cache.clear();
    assert.equal(cache.size, 0);
  });
});
