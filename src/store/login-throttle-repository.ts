import type { Db, LoginThrottleRow } from './database.js';

/** Failed sign-in counters (`login_throttle`, one row per rule and key): every query of the table. */
export class LoginThrottleRepository {
  constructor(private readonly db: Db) {}

  async findMany(keys: string[]): Promise<LoginThrottleRow[]> {
    return this.db.selectFrom('login_throttle').selectAll().where('key', 'in', keys).execute();
  }

  /**
   * Counts one failure on `key` in one statement (parallel failures must not lose counts): a counter whose window
   * opened before `windowOpenedAfter` starts again at 1 with its window at `now`. Returns the count after it.
   */
  async countFailure(key: string, now: string, windowOpenedAfter: string): Promise<number> {
    const { failures } = await this.db
      .insertInto('login_throttle')
      .values({ key, failures: 1, window_start: now, blocked_until: null })
      .onConflict((oc) =>
        oc.column('key').doUpdateSet((eb) => {
          const stale = eb('login_throttle.window_start', '<', windowOpenedAfter);
          return {
            failures: eb
              .case()
              .when(stale)
              .then(1)
              .else(eb('login_throttle.failures', '+', 1))
              .end(),
            window_start: eb.case().when(stale).then(now).else(eb.ref('login_throttle.window_start')).end(),
          };
        }),
      )
      .returning('failures')
      .executeTakeFirstOrThrow();
    return failures;
  }

  async block(key: string, until: string): Promise<void> {
    await this.db.updateTable('login_throttle').set({ blocked_until: until }).where('key', '=', key).execute();
  }

  async deleteMany(keys: string[]): Promise<void> {
    await this.db.deleteFrom('login_throttle').where('key', 'in', keys).execute();
  }

  /** Drops counters whose window opened before `windowOpenedBefore` and whose block (if any) ended before `now`. */
  async deleteExpired(windowOpenedBefore: string, now: string): Promise<void> {
    await this.db
      .deleteFrom('login_throttle')
      .where('window_start', '<', windowOpenedBefore)
      .where((eb) => eb.or([eb('blocked_until', 'is', null), eb('blocked_until', '<', now)]))
      .execute();
  }
}
