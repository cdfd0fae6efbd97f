import { BadRequestError } from '../../shared/errors.js';
import { keyIdBytes, keyIdFromBytes } from './key-id.js';

/** Largest ClearKey licence request body (a request for 32 key ids is under 1 KiB). */
export const clearKeyRequestMaxBytes = 4096;
/** Most key ids one licence request may ask for. */
export const clearKeyRequestMaxKids = 32;

const kidPattern = /^[A-Za-z0-9_-]{22}$/;

const invalid = (problem: string) => new BadRequestError('ValidationError', `Invalid request: ${problem}`, { extraDetail: { errors: [problem] } });

/**
 * The W3C EME ClearKey licence request (`{"kids":["<base64url, 16 bytes>"…],"type":"temporary"}`), read strictly:
 * nothing else in the object, 1–32 key ids of exactly 16 bytes in unpadded base64url, session type `temporary`
 * (Reel issues no persistent licences). Returns the key ids as lower-case GUIDs, duplicates dropped, in order.
 */
export function parseClearKeyRequest(body: unknown): string[] {
  if (!Buffer.isBuffer(body) || body.length === 0) throw invalid('body must be a ClearKey licence request (JSON)');
  if (body.length > clearKeyRequestMaxBytes) throw invalid(`body is larger than ${clearKeyRequestMaxBytes} bytes`);
  let request: unknown;
  try {
    request = JSON.parse(body.toString('utf8'));
  } catch {
    throw invalid('body is not JSON');
  }
  if (typeof request !== 'object' || request === null || Array.isArray(request)) throw invalid('body must be an object');
  const extra = Object.keys(request).find((k) => k !== 'kids' && k !== 'type');
  if (extra !== undefined) throw invalid(`body must NOT have additional properties '${extra}'`);
  const { kids, type } = request as { kids?: unknown; type?: unknown };
  if (type !== 'temporary') throw invalid("body.type must be 'temporary'");
  if (!Array.isArray(kids) || kids.length === 0) throw invalid('body.kids must be a non-empty array');
  if (kids.length > clearKeyRequestMaxKids) throw invalid(`body.kids must NOT have more than ${clearKeyRequestMaxKids} items`);
  const ids: string[] = [];
  for (const [i, kid] of kids.entries()) {
    if (typeof kid !== 'string' || !kidPattern.test(kid)) throw invalid(`body.kids.${i} must be 16 bytes in unpadded base64url`);
    const bytes = Buffer.from(kid, 'base64url');
    // Canonical form only: the last character's spare bits must be zero.
    if (bytes.length !== 16 || bytes.toString('base64url') !== kid) throw invalid(`body.kids.${i} must be 16 bytes in unpadded base64url`);
    const id = keyIdFromBytes(bytes);
    if (!ids.includes(id)) ids.push(id);
  }
  return ids;
}

/** The licence: `{"keys":[{"kty":"oct","kid","k"}…],"type":"temporary"}`, key ids and keys in unpadded base64url. */
export function clearKeyLicence(keys: ReadonlyArray<{ id: string; value: Buffer }>): string {
  return JSON.stringify({
    keys: keys.map((k) => ({ kty: 'oct', kid: keyIdBytes(k.id).toString('base64url'), k: k.value.toString('base64url') })),
    type: 'temporary',
  });
}
