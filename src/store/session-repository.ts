import type { Db, SessionRow } from './database.js';

/** A session with the user it belongs to. */
export interface SessionWithUser {
  userId: string;
  email: string;
  active_organization_id: string | null;
  expires_at: string;
  token_id: string | null;
  token_sealed: string | null;
}

/** Browser sessions (`sessions`, keyed by the hash of the cookie value): every query of the table. */
export class SessionRepository {
  constructor(private readonly db: Db) {}

  async insert(row: Pick<SessionRow, 'id_hash' | 'user_id' | 'created_at' | 'expires_at'>): Promise<void> {
    await this.db.insertInto('sessions').values(row).execute();
  }

  async findWithUser(idHash: string): Promise<SessionWithUser | undefined> {
    return this.db
      .selectFrom('sessions')
      .innerJoin('users', 'users.id', 'sessions.user_id')
      .select(['users.id as userId', 'users.email', 'users.active_organization_id', 'sessions.expires_at', 'sessions.token_id', 'sessions.token_sealed'])
      .where('sessions.id_hash', '=', idHash)
      .executeTakeFirst();
  }

  /**
   * Remembers the token shown to the session, only if the session still holds `expectedTokenId` (compare and
   * set, so of two racing requests one wins). Returns whether it was written.
   */
  async replaceToken(idHash: string, expectedTokenId: string | null, tokenId: string, tokenSealed: string): Promise<boolean> {
    const replaced = await this.db
      .updateTable('sessions')
      .set({ token_id: tokenId, token_sealed: tokenSealed })
      .where('id_hash', '=', idHash)
      .where((eb) => (expectedTokenId === null ? eb('token_id', 'is', null) : eb('token_id', '=', expectedTokenId)))
      .executeTakeFirst();
    return Number(replaced.numUpdatedRows) > 0;
  }

  async deleteMany(idHashes: string[]): Promise<void> {
    await this.db.deleteFrom('sessions').where('id_hash', 'in', idHashes).execute();
  }
}
