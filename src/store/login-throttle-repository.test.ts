import assert from 'node:assert/strict';
import { it } from 'node:test';
import { describeOnEachDialect } from '../../test/support/store-database.js';
import { LoginThrottleRepository } from './login-throttle-repository.js';

const at = (minute: number) => new Date(Date.UTC(2030, 0, 1, 0, minute)).toISOString();

describeOnEachDialect('LoginThrottleRepository', (store) => {
  it('counts failures in one window and starts again after it', async () => {
    const counters = new LoginThrottleRepository(store().db);
    assert.equal(await counters.countFailure('k1', at(0), at(-15)), 1);
    assert.equal(await counters.countFailure('k1', at(1), at(-14)), 2);
    assert.equal(await counters.countFailure('k1', at(14), at(-1)), 3);
    // The window opened at minute 0; counted from minute 16 it is stale: back to 1, window moved to now.
    assert.equal(await counters.countFailure('k1', at(16), at(1)), 1);
    const [row] = await counters.findMany(['k1']);
    assert.equal(row.window_start, at(16));
    assert.equal(row.blocked_until, null);
  });

  it('loses no count when failures arrive at once', async () => {
    const counters = new LoginThrottleRepository(store().db);
    const counts = await Promise.all(Array.from({ length: 10 }, () => counters.countFailure('k2', at(0), at(-15))));
    assert.deepEqual(
      [...counts].sort((a, b) => a - b),
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    );
  });

  it('keeps blocks, and drops only counters whose window and block are over', async () => {
    const counters = new LoginThrottleRepository(store().db);
    await counters.countFailure('old', at(0), at(-15));
    await counters.countFailure('old-blocked', at(0), at(-15));
    await counters.block('old-blocked', at(40));
    await counters.countFailure('old-block-over', at(0), at(-15));
    await counters.block('old-block-over', at(20));
    await counters.countFailure('fresh', at(25), at(10));
    await counters.deleteExpired(at(15), at(30));
    const left = (await counters.findMany(['old', 'old-blocked', 'old-block-over', 'fresh'])).map((r) => r.key).sort();
    assert.deepEqual(left, ['fresh', 'old-blocked']);
    await counters.deleteMany(['fresh']);
    assert.deepEqual((await counters.findMany(['fresh'])).length, 0);
  });
});
