import { createHmac, timingSafeEqual } from 'node:crypto';
import type { VerificationKey } from './verification-keys.js';

/** What an AMS Simple Web Token says, once its signature checked out. */
export interface SwtClaims {
  issuer: string;
  audience: string;
  /** Unix seconds. */
  expiresOn: number;
  /** Every other field, by name (e.g. the content key identifier claim). */
  claims: Map<string, string>;
}

const signatureField = '&HMACSHA256=';

/**
 * Checks an SWT (`Issuer=…&Audience=…&ExpiresOn=<unix>&…&HMACSHA256=<url-encoded base64>`): HMAC-SHA256 with one of
 * the symmetric keys over everything before `&HMACSHA256=`. Only the signature and the form are checked here;
 * issuer, audience, expiry and claims are the restriction's (token-restriction.ts). Returns a reason on failure.
 */
export function verifySwtSignature(token: string, keys: readonly VerificationKey[]): SwtClaims | string {
  const at = token.lastIndexOf(signatureField);
  if (at <= 0) return 'not a simple web token (no HMACSHA256 field)';
  const signed = token.slice(0, at);
  let signature: Buffer;
  try {
    signature = Buffer.from(decodeURIComponent(token.slice(at + signatureField.length)), 'base64');
  } catch {
    return 'the HMACSHA256 field is not URL-encoded base64';
  }
  if (signature.length !== 32) return 'the HMACSHA256 field is not an HMAC-SHA256';
  const symmetric = keys.filter((k) => k.kind === 'symmetric');
  if (symmetric.length === 0) return 'the restriction has no symmetric key to check a simple web token with';
  if (!symmetric.some((k) => timingSafeEqual(createHmac('sha256', k.key).update(signed, 'utf8').digest(), signature)))
    return 'the signature matches no verification key';

  const fields = new Map<string, string>();
  for (const [name, value] of new URLSearchParams(signed)) {
    if (fields.has(name)) return `the token names '${name}' twice`;
    fields.set(name, value);
  }
  const issuer = fields.get('Issuer');
  const audience = fields.get('Audience');
  const expiresText = fields.get('ExpiresOn');
  if (issuer === undefined || audience === undefined || expiresText === undefined) return 'the token lacks Issuer, Audience or ExpiresOn';
  if (!/^\d{1,12}$/.test(expiresText)) return 'ExpiresOn is not a Unix time';
  for (const name of ['Issuer', 'Audience', 'ExpiresOn']) fields.delete(name);
  return { issuer, audience, expiresOn: Number(expiresText), claims: fields };
}
