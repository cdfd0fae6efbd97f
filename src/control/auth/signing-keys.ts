import { exportJWK, generateKeyPair, importJWK, type JWK, type CryptoKey } from 'jose';
import type { Db } from '../../store/database.js';
import { SigningKeyRepository } from '../../store/signing-key-repository.js';
import { newId } from '../../shared/ids.js';

export interface SigningKeys {
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  /** Published at /.well-known/jwks.json so other services can verify Reel tokens. */
  publicJwk: JWK;
}

/**
 * Loads the token-signing key pair from the database, creating it on first start. Kept in the database (not
 * the data dir) so every API process of a PostgreSQL deployment signs and verifies with the same key.
 */
export async function loadSigningKeys(db: Db): Promise<SigningKeys> {
  const repository = new SigningKeyRepository(db);
  let stored = await repository.find();
  if (stored === undefined) {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const jwk = { ...(await exportJWK(privateKey)), kid: newId(), alg: 'ES256' };
    stored = await repository.insertOrGet(JSON.stringify(jwk));
  }
  const jwk = JSON.parse(stored) as JWK & { kid: string };
  const { d: _private, ...publicJwk } = jwk;
  return {
    kid: jwk.kid,
    privateKey: (await importJWK(jwk, 'ES256')) as CryptoKey,
    publicKey: (await importJWK(publicJwk, 'ES256')) as CryptoKey,
    publicJwk: { ...publicJwk, use: 'sig' },
  };
}
