import type { Db, Role, TokenRow } from './database.js';
import { CompiledQueryCache } from './compiled-query-cache.js';

/** A token's row with what authenticating its caller needs of the user and the membership. */
export type TokenAuthRow = Pick<
  TokenRow,
  'id' | 'user_id' | 'organization_id' | 'type' | 'permissions' | 'secret_hash' | 'revoked_at' | 'expires_at' | 'last_used'
> & { email: string; role: Role };

/** API tokens (`api_tokens`): every query of the table. */
export class TokenRepository {
  /** Read on every API request, so compiled once. */
  private readonly authRow: CompiledQueryCache<[string], TokenAuthRow>;

  constructor(private readonly db: Db) {
    this.authRow = new CompiledQueryCache(db, (jti: string) =>
      db
        .selectFrom('api_tokens')
        .innerJoin('users', 'users.id', 'api_tokens.user_id')
        .innerJoin('memberships', (j) =>
          j.onRef('memberships.user_id', '=', 'api_tokens.user_id').onRef('memberships.organization_id', '=', 'api_tokens.organization_id'),
        )
        .select([
          'api_tokens.id',
          'api_tokens.user_id',
          'api_tokens.organization_id',
          'api_tokens.type',
          'api_tokens.permissions',
          'api_tokens.secret_hash',
          'api_tokens.revoked_at',
          'api_tokens.expires_at',
          'api_tokens.last_used',
          'users.email',
          'memberships.role',
        ])
        .where('api_tokens.id', '=', jti),
    );
  }

  async insert(row: TokenRow): Promise<void> {
    await this.db.insertInto('api_tokens').values(row).execute();
  }

  /** The token with its user's e-mail and role in the token's organization; undefined when any of them is gone. */
  async findForAuth(id: string): Promise<TokenAuthRow | undefined> {
    const [row] = await this.authRow.run(id);
    return row;
  }

  async setLastUsed(id: string, day: string): Promise<void> {
    await this.db.updateTable('api_tokens').set({ last_used: day }).where('id', '=', id).execute();
  }

  /** A user's tokens expiring after `now` (ISO), newest first. */
  async listUnexpired(userId: string, now: string): Promise<TokenRow[]> {
    return this.db.selectFrom('api_tokens').selectAll().where('user_id', '=', userId).where('expires_at', '>', now).orderBy('issued_at', 'desc').execute();
  }

  async findOfUser(userId: string, id: string): Promise<TokenRow | undefined> {
    return this.db.selectFrom('api_tokens').selectAll().where('user_id', '=', userId).where('id', '=', id).executeTakeFirst();
  }

  async find(id: string): Promise<TokenRow | undefined> {
    return this.db.selectFrom('api_tokens').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async revoke(id: string, at: string, revokedBy: string): Promise<void> {
    await this.db.updateTable('api_tokens').set({ revoked_at: at, revoked_by: revokedBy }).where('id', '=', id).execute();
  }

  /** Revokes every token of a user not revoked yet (earlier revocations keep their time and author). */
  async revokeAllOfUser(userId: string, at: string, revokedBy: string): Promise<void> {
    await this.db
      .updateTable('api_tokens')
      .set({ revoked_at: at, revoked_by: revokedBy })
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .execute();
  }

  /** Revokes every token of a user for one organization not revoked yet. */
  async revokeAllOfUserIn(userId: string, organizationId: string, at: string, revokedBy: string): Promise<void> {
    await this.db
      .updateTable('api_tokens')
      .set({ revoked_at: at, revoked_by: revokedBy })
      .where('user_id', '=', userId)
      .where('organization_id', '=', organizationId)
      .where('revoked_at', 'is', null)
      .execute();
  }

  /** Every member's tokens for an organization expiring after `now` (ISO), newest first. */
  async listUnexpiredOfOrganization(organizationId: string, now: string): Promise<TokenRow[]> {
    return this.db
      .selectFrom('api_tokens')
      .selectAll()
      .where('organization_id', '=', organizationId)
      .where('expires_at', '>', now)
      .orderBy('issued_at', 'desc')
      .orderBy('id')
      .execute();
  }

  async findInOrganization(organizationId: string, id: string): Promise<TokenRow | undefined> {
    return this.db.selectFrom('api_tokens').selectAll().where('organization_id', '=', organizationId).where('id', '=', id).executeTakeFirst();
  }

  async delete(id: string): Promise<void> {
    await this.db.deleteFrom('api_tokens').where('id', '=', id).execute();
  }

  /** Ids of revoked tokens that would otherwise still be valid after `now` (ISO). */
  async revokedUnexpiredIds(now: string): Promise<string[]> {
    const rows = await this.db.selectFrom('api_tokens').select('id').where('revoked_at', 'is not', null).where('expires_at', '>', now).execute();
    return rows.map((r) => r.id);
  }
}
