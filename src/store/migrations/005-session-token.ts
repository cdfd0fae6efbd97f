import type { Kysely } from 'kysely';

/**
 * The token `/auth/token/` handed to a browser session, so opening it again shows that token instead of minting
 * a new one each time: its id, and the JWT sealed with the secret key (REEL_SECRET_KEY), never in the clear.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('sessions').addColumn('token_id', 'text').execute();
  await db.schema.alterTable('sessions').addColumn('token_sealed', 'text').execute();
}
