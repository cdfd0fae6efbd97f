import { SignJWT, jwtVerify } from 'jose';
import type { Db, TokenRow } from '../../store/database.js';
import { TokenRepository } from '../../store/token-repository.js';
import { newId, sha256Hex } from '../../shared/ids.js';
import { BadRequestError, UnauthorizedError, notFound } from '../../shared/errors.js';
import { TtlCache } from '../../shared/ttl-cache.js';
import type { SigningKeys } from './signing-keys.js';
import type { PermissionMap, Principal, TokenType } from './principal.js';

const dayMs = 24 * 3600 * 1000;
const yearMs = 366 * dayMs;
/** Login tokens are short-lived, as MK.IO's are (a browser login). */
const loginLifetimeMs = 12 * 3600 * 1000;
const ephemeralLifetimeMs = 3600 * 1000;
const issuer = 'reel';

export interface IssueTokenInput {
  userId: string;
  organizationId: string;
  type: TokenType;
  description?: string;
  expiresAt?: Date;
  /** A default expiry is cut to this (the expiry of the token that asks for this one). */
  notAfter?: Date;
  permissions?: PermissionMap | null;
}

/** The longest lifetime of each token type, and how error messages name it. */
const maxLifetime: Record<TokenType, { ms: number; text: string }> = {
  login: { ms: loginLifetimeMs, text: '12 hours' },
  ephemeral: { ms: ephemeralLifetimeMs, text: '1 hour' },
  restricted: { ms: yearMs, text: 'one year' },
  'full-access': { ms: yearMs, text: 'one year' },
};

/**
 * How long a resolved caller is reused for the same token. Revoking in this process drops it at once; another API
 * process of a multi-process deployment sees a revocation or a membership change within this time (as the
 * origin sees a stopped endpoint within its 2 s).
 */
const principalTtlMs = 2000;

interface VerifiedClaims {
  jti: string;
  expMs: number;
  hash: string;
}

/**
 * Personal API tokens. Tokens are ES256 JWTs whose `jti` names a row; the row holds only a hash of the JWT,
 * so a database leak reveals no usable token, and revoking the row stops the token on the next request.
 */
export class TokenService {
  /** Signature checks are the costly part; a verified JWT is remembered (bounded) and only its row re-read. */
  private readonly verified = new TtlCache<string, VerifiedClaims>({ ttlMs: 0, max: 10_000 }); // each kept until its JWT's `exp`

  /**
   * The caller behind a token id, briefly: reading the token row with its user and membership on every request
   * was the API's largest cost on PostgreSQL (a round trip per call).
   */
  private readonly principals = new TtlCache<string, Principal>({ ttlMs: principalTtlMs, max: 10_000 });
  private readonly repository: TokenRepository;

  constructor(
    db: Db,
    private readonly keys: SigningKeys,
  ) {
    this.repository = new TokenRepository(db);
  }

  async issue(input: IssueTokenInput): Promise<{ row: TokenRow; jwt: string }> {
    const now = Date.now();
    const limit = maxLifetime[input.type];
    const maxExpiry = now + limit.ms;
    const byDefault = input.type === 'login' || input.type === 'ephemeral' ? maxExpiry : now + 365 * dayMs;
    const expiresMs = input.expiresAt ? input.expiresAt.getTime() : Math.min(byDefault, input.notAfter?.getTime() ?? Infinity);
    if (Number.isNaN(expiresMs) || expiresMs <= now) throw new BadRequestError('InvalidExpireDate', 'expireDate must be in the future');
    if (expiresMs > maxExpiry) throw new BadRequestError('InvalidExpireDate', `expireDate of a ${input.type} token must be at most ${limit.text} ahead`);
    if ((input.type === 'restricted' || input.type === 'ephemeral') && !input.permissions) {
      throw new BadRequestError('InvalidPermissions', `permissions are required for ${input.type} tokens`);
    }
    const jti = newId();
    const jwt = await new SignJWT({ org: input.organizationId, typ: input.type })
      .setProtectedHeader({ alg: 'ES256', kid: this.keys.kid, typ: 'JWT' })
      .setIssuer(issuer)
      .setSubject(input.userId)
      .setJti(jti)
      .setIssuedAt(Math.floor(now / 1000))
      .setExpirationTime(Math.floor(expiresMs / 1000))
      .sign(this.keys.privateKey);
    const row: TokenRow = {
      id: jti,
      user_id: input.userId,
      organization_id: input.organizationId,
      type: input.type,
      description: input.description ?? '',
      secret_hash: sha256Hex(jwt),
      permissions: input.permissions ? JSON.stringify(input.permissions) : null,
      issued_at: new Date(now).toISOString(),
      expires_at: new Date(Math.floor(expiresMs / 1000) * 1000).toISOString(),
      last_used: null,
      revoked_at: null,
      revoked_by: null,
    };
    await this.repository.insert(row);
    return { row, jwt };
  }

  /** Resolves a presented token to its caller, or throws 401. Checks signature, expiry, revocation and membership. */
  async authenticate(jwt: string): Promise<Principal> {
    const claims = await this.verifySignature(jwt);
    if (claims.expMs <= Date.now()) throw new UnauthorizedError('Unauthorized', 'The token is invalid, expired or revoked');
    const cached = this.principals.get(claims.jti);
    if (cached) return cached;
    const principal = await this.resolve(claims);
    this.principals.set(claims.jti, Object.freeze(principal));
    return principal;
  }

  private async resolve(claims: VerifiedClaims): Promise<Principal> {
    const row = await this.repository.findForAuth(claims.jti);
    if (!row || row.revoked_at || row.secret_hash !== claims.hash || Date.parse(row.expires_at) <= Date.now()) {
      throw new UnauthorizedError('Unauthorized', 'The token is invalid, expired or revoked');
    }
    // lastUsed is a date in MK.IO: write it at most once a day per token, not on every request.
    const today = new Date().toISOString().slice(0, 10);
    if (row.last_used !== today) {
      await this.repository.setLastUsed(row.id, today);
    }
    return {
      userId: row.user_id,
      email: row.email,
      organizationId: row.organization_id,
      role: row.role,
      tokenId: row.id,
      tokenType: row.type,
      tokenExpiresAt: row.expires_at,
      permissions: row.permissions ? (JSON.parse(row.permissions) as PermissionMap) : null,
    };
  }

  private async verifySignature(jwt: string): Promise<VerifiedClaims> {
    const cached = this.verified.get(jwt);
    if (cached) return cached;
    try {
      const { payload } = await jwtVerify(jwt, this.keys.publicKey, { issuer, algorithms: ['ES256'] });
      if (typeof payload.jti !== 'string' || typeof payload.exp !== 'number') throw new Error('claims missing');
      const claims = { jti: payload.jti, expMs: payload.exp * 1000, hash: sha256Hex(jwt) };
      // Remembered until the JWT itself expires.
      this.verified.set(jwt, claims, claims.expMs - Date.now());
      return claims;
    } catch (cause) {
      throw new UnauthorizedError('Unauthorized', 'The token is invalid, expired or revoked', { cause });
    }
  }

  /** Tokens of a user that have not expired yet (MK.IO lists only those). */
  async list(userId: string): Promise<TokenRow[]> {
    return this.repository.listUnexpired(userId, new Date().toISOString());
  }

  async get(userId: string, id: string): Promise<TokenRow> {
    const row = await this.repository.findOfUser(userId, id);
    if (!row) throw notFound(`Token '${id}'`);
    return row;
  }

  async revoke(userId: string, id: string, revokedBy: string): Promise<TokenRow> {
    await this.get(userId, id);
    await this.repository.revoke(id, new Date().toISOString(), revokedBy);
    this.principals.delete(id);
    return this.get(userId, id);
  }

  /** The row of `jwt` (its `jti` is `id`) while it is usable: not revoked, not expired, and the very JWT issued. */
  async findValid(id: string, jwt: string): Promise<TokenRow | undefined> {
    const row = await this.repository.find(id);
    if (!row || row.revoked_at || row.secret_hash !== sha256Hex(jwt) || Date.parse(row.expires_at) <= Date.now()) return undefined;
    return row;
  }

  /** Removes a token no one was ever shown (issued, then lost a race to another issue). */
  async discard(id: string): Promise<void> {
    await this.repository.delete(id);
    this.principals.delete(id);
  }

  async revokeAll(userId: string, revokedBy: string): Promise<void> {
    await this.repository.revokeAllOfUser(userId, new Date().toISOString(), revokedBy);
    // Rare: forgetting every cached caller is simpler than indexing them by user.
    this.principals.clear();
  }

  /** Tokens of every member of an organization that have not expired (its Admin's view). */
  async listOfOrganization(organizationId: string): Promise<TokenRow[]> {
    return this.repository.listUnexpiredOfOrganization(organizationId, new Date().toISOString());
  }

  /** Revokes any member's token of the organization; 404 for a token of another organization. */
  async revokeInOrganization(organizationId: string, id: string, revokedBy: string): Promise<void> {
    const row = await this.repository.findInOrganization(organizationId, id);
    if (!row) throw notFound(`Token '${id}'`);
    if (!row.revoked_at) await this.repository.revoke(id, new Date().toISOString(), revokedBy);
    this.principals.delete(id);
  }

  /** Revokes a user's tokens for one organization (they left it or were removed), effective at once here. */
  async revokeAllInOrganization(userId: string, organizationId: string, revokedBy: string): Promise<void> {
    await this.repository.revokeAllOfUserIn(userId, organizationId, new Date().toISOString(), revokedBy);
    this.principals.clear();
  }

  /** Forgets every cached caller (a membership's role changed). */
  forgetCallers(): void {
    this.principals.clear();
  }

  async revokedIds(): Promise<string[]> {
    return this.repository.revokedUnexpiredIds(new Date().toISOString());
  }
}
