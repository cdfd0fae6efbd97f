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
