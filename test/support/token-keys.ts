/**
 * Real verification keys and tokens for key delivery tests and the key delivery benchmark: a symmetric key, an
 * RSA key pair (given to policies as modulus/exponent), an RSA certificate made by openssl (given as DER), tokens
 * signed with jose and AMS Simple Web Tokens signed with HMAC-SHA256, and policies holding them.
 */
import { createHmac, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SignJWT, type JWTPayload } from 'jose';
import { contentKeyIdentifierClaim, odataTypes, type ContentKeyPolicy, type ContentKeyPolicyOption } from '../../src/shared/content-protection.js';

export const issuer = 'https://issuer.example';
export const audience = 'urn:reel:test';

export interface RsaPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

export function symmetricKey(): Buffer {
  return randomBytes(64);
}

export function rsaPair(): RsaPair {
  return generateKeyPairSync('rsa', { modulusLength: 2048 });
}

/** A self-signed RSA certificate (DER) and its private key, made by openssl. */
export function x509Pair(): { der: Buffer; privateKey: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reel-x509-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '2',
        '-subj',
        '/CN=reel-test-signer',
        '-keyout',
        path.join(dir, 'key.pem'),
        '-outform',
        'DER',
        '-out',
        path.join(dir, 'cert.der'),
      ],
      { stdio: 'ignore' },
    );
    return { der: fs.readFileSync(path.join(dir, 'cert.der')), privateKey: fs.readFileSync(path.join(dir, 'key.pem'), 'utf8') };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export const symmetricTokenKey = (key: Buffer) => ({ '@odata.type': odataTypes.symmetricKey, keyValue: key.toString('base64') });

export function rsaTokenKey(publicKey: KeyObject) {
  const jwk = publicKey.export({ format: 'jwk' }) as { n: string; e: string };
  // .NET's RSAParameters write the modulus as unsigned big-endian bytes in standard base64.
  return {
    '@odata.type': odataTypes.rsaKey,
    modulus: Buffer.from(jwk.n, 'base64url').toString('base64'),
    exponent: Buffer.from(jwk.e, 'base64url').toString('base64'),
  };
}

export const x509TokenKey = (der: Buffer) => ({ '@odata.type': odataTypes.x509Key, rawBody: der.toString('base64') });

export interface RestrictionShape {
  tokenType?: 'Jwt' | 'Swt';
  primary: Record<string, unknown>;
  alternates?: Array<Record<string, unknown>>;
  requiredClaims?: Array<{ claimType: string; claimValue?: string }>;
  openIdConnectDiscoveryDocument?: string;
}

export function tokenRestriction(shape: RestrictionShape): ContentKeyPolicyOption['restriction'] {
  return {
    '@odata.type': odataTypes.tokenRestriction,
    issuer,
    audience,
    restrictionTokenType: shape.tokenType ?? 'Jwt',
    primaryVerificationKey: shape.primary,
    alternateVerificationKeys: shape.alternates ?? [],
    requiredClaims: shape.requiredClaims ?? [{ claimType: contentKeyIdentifierClaim }],
    ...(shape.openIdConnectDiscoveryDocument ? { openIdConnectDiscoveryDocument: shape.openIdConnectDiscoveryDocument } : {}),
  };
}

const clearKeyConfiguration = { '@odata.type': odataTypes.clearKeyConfiguration };

export function clearKeyPolicy(name: string, restriction: ContentKeyPolicyOption['restriction']): ContentKeyPolicy {
  return {
    name,
    policyId: `policy-${name}`,
    options: [{ policyOptionId: `option-${name}`, name: 'clearkey', configuration: clearKeyConfiguration, restriction }],
  };
}

export const openPolicy = (name: string) => clearKeyPolicy(name, { '@odata.type': odataTypes.openRestriction });

export interface TokenShape {
  claims?: JWTPayload;
  issuer?: string;
  audience?: string | string[];
  /** Seconds from now; null: no exp. */
  expiresIn?: number | null;
  notBeforeIn?: number;
  keyId?: string;
}

/** A JWT signed with `key` (`alg` must fit it). */
export async function signJwt(alg: string, key: KeyObject | Uint8Array | string, shape: TokenShape = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const claims: JWTPayload = { ...(shape.keyId ? { [contentKeyIdentifierClaim]: shape.keyId } : {}), ...shape.claims };
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg, typ: 'JWT' })
    .setIssuer(shape.issuer ?? issuer)
    .setAudience(shape.audience ?? audience)
    .setIssuedAt(now);
  if (shape.expiresIn !== null) jwt.setExpirationTime(now + (shape.expiresIn ?? 3600));
  if (shape.notBeforeIn !== undefined) jwt.setNotBefore(now + shape.notBeforeIn);
  return jwt.sign(typeof key === 'string' ? new TextEncoder().encode(key) : key);
}

/** An AMS Simple Web Token signed with HMAC-SHA256. */
export function signSwt(key: Buffer, shape: { issuer?: string; audience?: string; expiresIn?: number; claims?: Record<string, string> } = {}): string {
  const fields = new URLSearchParams({
    Issuer: shape.issuer ?? issuer,
    Audience: shape.audience ?? audience,
    ExpiresOn: String(Math.floor(Date.now() / 1000) + (shape.expiresIn ?? 3600)),
    ...shape.claims,
  }).toString();
  return `${fields}&HMACSHA256=${encodeURIComponent(createHmac('sha256', key).update(fields).digest('base64'))}`;
}
