import { randomUUID, randomBytes, createHash, timingSafeEqual } from 'node:crypto';

export const newId = (): string => randomUUID();

/** URL-safe random secret of `bytes` entropy. */
export const randomSecret = (bytes = 32): string => randomBytes(bytes).toString('base64url');

export const sha256Hex = (value: string | Buffer): string => createHash('sha256').update(value).digest('hex');

export function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

/**
 * A fixed GUID for a fixed name (the layout of an RFC 4122 version 5 id over SHA-1), for things MK.IO identifies
 * by GUID that Reel has by name only: its location, its usage meters. The same name gives the same id on every
 * server and every start.
 */
export function nameBasedId(name: string): string {
  const hex = createHash('sha1').update(`reel:${name}`).digest('hex').slice(0, 32).split('');
  hex[12] = '5';
  hex[16] = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
  const h = hex.join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** The nil GUID: where MK.IO's schema has a GUID for something Reel does not have (an Azure subscription). */
export const nilId = '00000000-0000-0000-0000-000000000000';
