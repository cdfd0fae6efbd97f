import type { Db } from '../../store/database.js';
import { AccountRepository } from '../../store/account-repository.js';
import { SessionRepository } from '../../store/session-repository.js';
import { randomSecret, sha256Hex } from '../../shared/ids.js';
import { UnauthorizedError } from '../../shared/errors.js';
import type { SecretBox } from '../../shared/secret-box.js';
import { verifyPassword, hashPassword } from './password.js';
import type { Principal } from './principal.js';
import { LoginThrottle } from './login-throttle.js';
import type { TokenService } from './token-service.js';

const sessionLifetimeMs = 7 * 24 * 3600 * 1000;

/** Verifying against this keeps an unknown e-mail as slow as a wrong password, so timing reveals nothing. */
const dummyHash = hashPassword(randomSecret());

interface SessionMatch {
  idHash: string;
  principal: Principal;
  tokenId: string | null;
  tokenSealed: string | null;
}

/** Browser sessions: an opaque random id in an HttpOnly cookie; the database keeps only its hash. */
export class SessionService {
  private readonly throttle: LoginThrottle;
  private readonly sessions: SessionRepository;
  private readonly accounts: AccountRepository;

  constructor(
    db: Db,
    private readonly box: SecretBox,
  ) {
    this.throttle = new LoginThrottle(db);
    this.sessions = new SessionRepository(db);
    this.accounts = new AccountRepository(db);
  }

  /** Checks the password (throttled, see LoginThrottle) and opens a session; returns its cookie value. */
  async login(email: string, password: string, clientIp: string): Promise<{ sessionId: string; userId: string }> {
    const keys = this.throttle.keysFor(email, clientIp);
    const leave = this.throttle.enter(keys);
    let userId: string;
    try {
      await this.throttle.assertNotBlocked(keys);
      const user = await this.accounts.findCredentials(email.toLowerCase());
      const ok = await verifyPassword(password, user?.password_hash ?? (await dummyHash));
      if (!user || !ok) {
        await this.throttle.recordFailure(keys);
        throw new UnauthorizedError('InvalidCredentials', 'Invalid e-mail or password');
      }
      await this.throttle.recordSuccess(keys);
      userId = user.id;
    } finally {
      leave();
    }
    const sessionId = randomSecret();
    const now = Date.now();
    await this.sessions.insert({
      id_hash: sha256Hex(sessionId),
      user_id: userId,
      created_at: new Date(now).toISOString(),
      expires_at: new Date(now + sessionLifetimeMs).toISOString(),
    });
    return { sessionId, userId };
  }

  /**
   * Resolves the first valid session among the presented cookie values. Browsers may send a stale cookie next
   * to a fresh one (two logins, two paths); taking any valid one avoids the spurious 401 MK.IO users met.
   */
  async resolve(sessionIds: string[]): Promise<Principal | undefined> {
    return (await this.find(sessionIds))?.principal;
  }

  private async find(sessionIds: string[]): Promise<SessionMatch | undefined> {
    for (const id of sessionIds) {
      const idHash = sha256Hex(id);
      const row = await this.sessions.findWithUser(idHash);
      if (!row || Date.parse(row.expires_at) <= Date.now()) continue;
      const membership = await this.accounts.membershipPreferring(row.userId, row.active_organization_id);
      if (!membership) continue;
      return {
        idHash,
        tokenId: row.token_id,
        tokenSealed: row.token_sealed,
        principal: { userId: row.userId, email: row.email, organizationId: membership.organization_id, role: membership.role },
      };
    }
    return undefined;
  }

  /**
   * The full-access token `/auth/token/` shows a session: the one it showed before while that is still valid
   * (not revoked or expired, same organization), else a new one, remembered sealed on the session. So reopening
   * the page, or a page of another site navigating to it, never piles up tokens.
   */
  async sessionToken(
    sessionIds: string[],
    tokens: TokenService,
  ): Promise<{ principal: Principal; tokenId: string; jwt: string; expiresAt: string } | undefined> {
    const session = await this.find(sessionIds);
    if (!session) return undefined;
    const { principal } = session;
    const shown = session.tokenId && session.tokenSealed ? await this.stillValid(session.tokenId, session.tokenSealed, principal, tokens) : undefined;
    if (shown) return { principal, tokenId: session.tokenId as string, ...shown };

    const { row, jwt } = await tokens.issue({
      userId: principal.userId,
      organizationId: principal.organizationId,
      type: 'full-access',
      description: 'Issued by /auth/token/',
    });
    // Only replace what this request saw: when two opens race, the first one's token wins and ours is dropped.
    if (!(await this.sessions.replaceToken(session.idHash, session.tokenId, row.id, this.box.seal(jwt)))) {
      await tokens.discard(row.id);
      const again = await this.find(sessionIds);
      if (!again?.tokenId || !again.tokenSealed) return undefined;
      const winner = await this.stillValid(again.tokenId, again.tokenSealed, principal, tokens);
      return winner ? { principal, tokenId: again.tokenId, ...winner } : undefined;
    }
    return { principal, tokenId: row.id, jwt, expiresAt: row.expires_at };
  }

  private async stillValid(
    tokenId: string,
    sealed: string,
    principal: Principal,
    tokens: TokenService,
  ): Promise<{ jwt: string; expiresAt: string } | undefined> {
    let jwt: string;
    try {
      jwt = this.box.open<string>(sealed);
    } catch {
      return undefined; // sealed under another secret key: issue a new one
    }
    const row = await tokens.findValid(tokenId, jwt);
    if (!row || row.user_id !== principal.userId || row.organization_id !== principal.organizationId) return undefined;
    return { jwt, expiresAt: row.expires_at };
  }

  async logout(sessionIds: string[]): Promise<void> {
    if (sessionIds.length === 0) return;
    await this.sessions.deleteMany(sessionIds.map((id) => sha256Hex(id)));
  }
}
