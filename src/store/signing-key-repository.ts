import type { Db } from './database.js';

/** The settings row holding the token-signing key (a private JWK as JSON). */
const signingKeySetting = 'jwt.es256';

/** The token-signing key, kept in `settings` so every API process of a deployment shares it. */
export class SigningKeyRepository {
  constructor(private readonly db: Db) {}

  async find(): Promise<string | undefined> {
    return (await this.db.selectFrom('settings').select('value').where('key', '=', signingKeySetting).executeTakeFirst())?.value;
  }

  /** Stores `jwk` unless a key is already stored (another process won the first start), then returns the stored one. */
  async insertOrGet(jwk: string): Promise<string> {
    await this.db
      .insertInto('settings')
      .values({ key: signingKeySetting, value: jwk })
      .onConflict((oc) => oc.column('key').doNothing())
      .execute();
    const row = await this.db.selectFrom('settings').select('value').where('key', '=', signingKeySetting).executeTakeFirstOrThrow();
    return row.value;
  }
}
