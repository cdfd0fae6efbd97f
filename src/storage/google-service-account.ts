import { createPrivateKey, type KeyObject } from 'node:crypto';
import { BadRequestError } from '../shared/errors.js';

/** A service account key as Google issues it (`gcloud iam service-accounts keys create`): MK.IO's `credential.gac`. */
export type GoogleServiceAccount = Record<string, string>;

/** Validates a `gac` object and keeps what the token exchange needs. Throws `BadRequestError` naming the field. */
export function parseServiceAccount(gac: unknown): { clientEmail: string; privateKey: KeyObject; tokenUri: URL } {
  const bad = (detail: string) => new BadRequestError('ValidationError', `spec.credential.gac: ${detail}`);
  if (!gac || typeof gac !== 'object' || Array.isArray(gac)) throw bad('must be the service account key JSON object');
  const key = gac as Record<string, unknown>;
  if (key.type !== 'service_account') throw bad("type must be 'service_account' (a service account key)");
  if (typeof key.client_email !== 'string' || !key.client_email.includes('@')) throw bad('client_email is required');
  if (typeof key.private_key !== 'string') throw bad('private_key is required');
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(key.private_key);
  } catch {
    throw bad('private_key is not a PEM private key');
  }
  if (privateKey.asymmetricKeyType !== 'rsa') throw bad('private_key must be an RSA key');
  let tokenUri: URL;
  try {
    tokenUri = new URL(typeof key.token_uri === 'string' ? key.token_uri : 'https://oauth2.googleapis.com/token');
  } catch {
    throw bad('token_uri is not a valid URL');
  }
  if (tokenUri.protocol !== 'https:' && tokenUri.protocol !== 'http:') throw bad('token_uri must be an https URL');
  return { clientEmail: key.client_email, privateKey, tokenUri };
}

/** A Google.Storage credential as an API body gives it (`{gac: {...}}`), checked and reduced to what is kept. */
export function googleSecret(credential: { gac?: unknown } | undefined): { gac: GoogleServiceAccount } {
  if (!credential?.gac) {
    throw new BadRequestError('ValidationError', 'spec.credential.gac is required for Google.Storage: the service account key JSON object');
  }
  parseServiceAccount(credential.gac);
  return { gac: credential.gac as GoogleServiceAccount };
}
