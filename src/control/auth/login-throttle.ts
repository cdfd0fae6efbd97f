import type { Db } from '../../store/database.js';
import { LoginThrottleRepository } from '../../store/login-throttle-repository.js';
import { TooManyRequestsError } from '../../shared/errors.js';

/**
 * One throttle rule: after `freeFailures` failed sign-ins within the window, each further failure doubles the
 * wait before the next attempt (1 s, 2 s, 4 s …) up to `maxBlockMs`. Attempts refused while blocked don't count.
 */
interface ThrottleRule {
  freeFailures: number;
  maxBlockMs: number;
}

const windowMs = 15 * 60 * 1000;

/**
 * Three counters, so that no client can lock anyone else out for long:
 * - `pair`: one e-mail from one client address, the guessing client itself (5 free, up to 15 min);
 * - `address`: every e-mail from one client address, a client spraying many accounts; it blocks only that
 *   address (50 free, up to 15 min), so a shared office address is not blocked by one user's typos;
 * - `account`: one e-mail from all addresses, so a guess spread over many addresses is still slowed, by a few
 *   seconds at most (20 free, up to 5 s): the owner signing in from elsewhere waits that long at worst.
 */
export const throttleRules = {
  pair: { freeFailures: 5, maxBlockMs: 15 * 60 * 1000 },
  address: { freeFailures: 50, maxBlockMs: 15 * 60 * 1000 },
  account: { freeFailures: 20, maxBlockMs: 5 * 1000 },
} satisfies Record<string, ThrottleRule>;

type RuleName = keyof typeof throttleRules;

/**
 * Sign-ins checked at once per counter in this process. A burst of parallel guesses would otherwise all pass
 * the block check before the first failure is counted; an office behind one address still gets a few at once.
 */
const concurrency: Partial<Record<RuleName, number>> = { pair: 1, address: 4 };

/** Failed sign-ins counted in `login_throttle`, one row per rule and key. */
export class LoginThrottle {
  private lastSweep = 0;
  private readonly inFlight = new Map<string, number>();

  private readonly counters: LoginThrottleRepository;

  constructor(db: Db) {
    this.counters = new LoginThrottleRepository(db);
  }

  /** Row keys of one attempt. An address holds no space, so `pair` keys cannot collide. */
  keysFor(email: string, clientIp: string): Record<RuleName, string> {
    const account = email.toLowerCase();
    return { pair: `pair:${clientIp} ${account}`, address: `ip:${clientIp}`, account: `email:${account}` };
  }

  /** Admits one attempt, or throws 429 when its pair or address already has as many in progress as allowed; call `leave` after. */
  enter(keys: Record<RuleName, string>): () => void {
    const limited = (Object.entries(concurrency) as Array<[RuleName, number]>).map(([name, limit]) => ({ key: keys[name], limit }));
    if (limited.some(({ key, limit }) => (this.inFlight.get(key) ?? 0) >= limit)) {
      throw new TooManyRequestsError('Another sign-in attempt from this address is in progress; retry in 1 s', 1);
    }
    for (const { key } of limited) this.inFlight.set(key, (this.inFlight.get(key) ?? 0) + 1);
    return () => {
      for (const { key } of limited) {
        const left = (this.inFlight.get(key) ?? 1) - 1;
        if (left > 0) this.inFlight.set(key, left);
        else this.inFlight.delete(key);
      }
    };
  }

  /** Throws 429 with the longest wait any of the attempt's counters imposes. */
  async assertNotBlocked(keys: Record<RuleName, string>): Promise<void> {
    const rows = await this.counters.findMany(Object.values(keys));
    const now = Date.now();
    const until = Math.max(0, ...rows.map((r) => (r.blocked_until ? Date.parse(r.blocked_until) : 0)));
    if (until > now) {
      const retryAfterSec = Math.ceil((until - now) / 1000);
      throw new TooManyRequestsError(`Too many failed sign-in attempts; retry in ${retryAfterSec} s`, retryAfterSec);
    }
  }

  /** Counts one failure on each counter, atomically (parallel guesses must not lose counts), then sets its block. */
  async recordFailure(keys: Record<RuleName, string>): Promise<void> {
    const now = Date.now();
    const nowIso = new Date(now).toISOString();
    const windowOpenedAfter = new Date(now - windowMs).toISOString();
    for (const [name, key] of Object.entries(keys) as Array<[RuleName, string]>) {
      const rule = throttleRules[name];
      const failures = await this.counters.countFailure(key, nowIso, windowOpenedAfter);
      const over = failures - rule.freeFailures;
      if (over <= 0) continue;
      const blockedUntil = new Date(now + Math.min(rule.maxBlockMs, 1000 * 2 ** Math.min(over - 1, 30))).toISOString();
      await this.counters.block(key, blockedUntil);
    }
    await this.sweep(now);
  }

  /**
   * A successful sign-in clears the counters of that e-mail; the address counter stays, or an attacker holding
   * one valid account could reset it between guesses at others.
   */
  async recordSuccess(keys: Record<RuleName, string>): Promise<void> {
    await this.counters.deleteMany([keys.pair, keys.account]);
  }

  /** Counters whose window and block are over are dropped, at most once a minute, so guesses leave no lasting rows. */
  private async sweep(now: number): Promise<void> {
    if (now - this.lastSweep < 60_000) return;
    this.lastSweep = now;
    await this.counters.deleteExpired(new Date(now - windowMs).toISOString(), new Date(now).toISOString());
  }
}
