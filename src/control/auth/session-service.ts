import type { Db } from '../../store/database.js';
import { randomSecret, sha256Hex } from '../../shared/ids.js';
import { TooManyRequestsError, UnauthorizedError } from '../../shared/errors.js';
import { verifyPassword, hashPassword } from './password.js';
import type { Principal, Role } from './principal.js';

const sessionLifetimeMs = 7 * 24 * 3600 * 1000;
/** Failed logins per e-mail (and per client address) before the next attempt must wait. */
const freeFailures = 5;
const throttleWindowMs = 15 * 60 * 1000;
const maxBlockMs = 15 * 60 * 1000;

/** Verifying against this keeps an unknown e-mail as slow as a wrong password, so timing reveals nothing. */
const dummyHash = hashPassword(randomSecret());

/** Browser sessions: an opaque random id in an HttpOnly cookie; the database keeps only its hash. */
export class SessionService {
  constructor(private readonly db: Db) {}

  /** Checks the password (throttled per e-mail and per client) and opens a session; returns its cookie value. */
  async login(email: string, password: string, clientIp: string): Promise<{ sessionId: string; userId: string }> {
    const keys = [`email:${email.toLowerCase()}`, `ip:${clientIp}`];
    await this.assertNotBlocked(keys);
    const user = await this.db.selectFrom('users').select(['id', 'password_hash']).where('email', '=', email.toLowerCase()).executeTakeFirst();
    const ok = await verifyPassword(password, user?.password_hash ?? (await dummyHash));
    if (!user || !ok) {
      await this.recordFailure(keys);
      throw new UnauthorizedError('InvalidCredentials', 'Invalid e-mail or password');
    }
    await this.db.deleteFrom('login_throttle').where('key', 'in', keys).execute();
    const sessionId = randomSecret();
    const now = Date.now();
    await this.db.insertInto('sessions').values({
      id_hash: sha256Hex(sessionId), user_id: user.id,
      created_at: new Date(now).toISOString(), expires_at: new Date(now + sessionLifetimeMs).toISOString(),
    }).execute();
    return { sessionId, userId: user.id };
  }

  /**
   * Resolves the first valid session among the presented cookie values. Browsers may send a stale cookie next
   * to a fresh one (two logins, two paths); taking any valid one avoids the spurious 401 MK.IO users met.
   */
  async resolve(sessionIds: string[]): Promise<Principal | undefined> {
    for (const id of sessionIds) {
      const row = await this.db.selectFrom('sessions')
        .innerJoin('users', 'users.id', 'sessions.user_id')
        .select(['users.id as userId', 'users.email', 'users.active_organization_id', 'sessions.expires_at'])
        .where('sessions.id_hash', '=', sha256Hex(id)).executeTakeFirst();
      if (!row || Date.parse(row.expires_at) <= Date.now()) continue;
      const membership = await this.db.selectFrom('memberships').select(['organization_id', 'role'])
        .where('user_id', '=', row.userId)
        .orderBy((eb) => eb.case().when('organization_id', '=', row.active_organization_id ?? '').then(0).else(1).end())
        .executeTakeFirst();
      if (!membership) continue;
      return { userId: row.userId, email: row.email, organizationId: membership.organization_id, role: membership.role as Role };
    }
    return undefined;
  }

  async logout(sessionIds: string[]): Promise<void> {
    if (sessionIds.length === 0) return;
    await this.db.deleteFrom('sessions').where('id_hash', 'in', sessionIds.map((id) => sha256Hex(id))).execute();
  }

  private async assertNotBlocked(keys: string[]): Promise<void> {
    const rows = await this.db.selectFrom('login_throttle').selectAll().where('key', 'in', keys).execute();
    const now = Date.now();
    const until = Math.max(0, ...rows.map((r) => (r.blocked_until ? Date.parse(r.blocked_until) : 0)));
    if (until > now) {
      const retryAfterSec = Math.ceil((until - now) / 1000);
      throw new TooManyRequestsError(`Too many failed sign-in attempts; retry in ${retryAfterSec} s`, retryAfterSec);
    }
  }

  /** After `freeFailures` in the window each further failure doubles the wait (1 s, 2 s, 4 s … 15 min). */
  private async recordFailure(keys: string[]): Promise<void> {
    const now = Date.now();
    for (const key of keys) {
      const row = await this.db.selectFrom('login_throttle').selectAll().where('key', '=', key).executeTakeFirst();
      const fresh = !row || now - Date.parse(row.window_start) > throttleWindowMs;
      const failures = fresh ? 1 : row.failures + 1;
      const over = failures - freeFailures;
      const blockedUntil = over > 0 ? new Date(now + Math.min(maxBlockMs, 1000 * 2 ** (over - 1))).toISOString() : null;
      const values = { key, failures, window_start: fresh ? new Date(now).toISOString() : row.window_start, blocked_until: blockedUntil };
      await this.db.insertInto('login_throttle').values(values)
        .onConflict((oc) => oc.column('key').doUpdateSet({ failures, window_start: values.window_start, blocked_until: blockedUntil }))
        .execute();
    }
  }
}
