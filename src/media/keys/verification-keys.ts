import { X509Certificate, createPublicKey, createSecretKey, type KeyObject, type webcrypto } from 'node:crypto';
import { odataTypes } from '../../shared/content-protection.js';

/**
 * A token restriction's verification key (`primaryVerificationKey`, `alternateVerificationKeys[]`), imported once
 * into a KeyObject with the JWS algorithms that fit it. A token is checked only with keys whose list holds its
 * `alg`, so an HS256 token is never checked against an RSA key's bytes (algorithm confusion) and `none` fits no key.
 */
export interface VerificationKey {
  kind: 'symmetric' | 'rsa' | 'x509';
  key: KeyObject;
  algorithms: readonly string[];
  /**
   * The key as a WebCrypto key for one of its `algorithms`, made on first use and kept: jose would otherwise
   * convert the KeyObject on every verification, a third of the cost of checking a token.
   */
  cryptoKeyFor(alg: string): webcrypto.CryptoKey;
}

/** WebCrypto import parameters of each JWS algorithm. */
function webCryptoAlgorithm(alg: string): Parameters<KeyObject['toCryptoKey']>[0] {
  const hash = `SHA-${alg.slice(2)}`;
  if (alg.startsWith('HS')) return { name: 'HMAC', hash };
  if (alg.startsWith('RS')) return { name: 'RSASSA-PKCS1-v1_5', hash };
  if (alg.startsWith('PS')) return { name: 'RSA-PSS', hash };
  return { name: 'ECDSA', namedCurve: `P-${alg === 'ES512' ? 521 : alg.slice(2)}` };
}

function verificationKey(kind: VerificationKey['kind'], key: KeyObject, algorithms: readonly string[]): VerificationKey {
  const made = new Map<string, webcrypto.CryptoKey>();
  return {
    kind,
    key,
    algorithms,
    cryptoKeyFor(alg) {
      let k = made.get(alg);
      if (!k) {
        k = key.toCryptoKey(webCryptoAlgorithm(alg), false, ['verify']);
        made.set(alg, k);
      }
      return k;
    },
  };
}

const hmacAlgorithms = ['HS256', 'HS384', 'HS512'] as const;
const rsaAlgorithms = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'] as const;
const ecAlgorithmByCurve: Record<string, string> = { prime256v1: 'ES256', secp384r1: 'ES384', secp521r1: 'ES512' };

/** Every JWS algorithm some verification key may fit; anything else (`none`, unknown names) is refused outright. */
export const acceptedJwsAlgorithms: ReadonlySet<string> = new Set([...hmacAlgorithms, ...rsaAlgorithms, ...Object.values(ecAlgorithmByCurve)]);

/** Why a configured key could not be used (the restriction still works with its other keys). */
export class UnusableVerificationKeyError extends Error {}

/** Standard base64 as AMS writes keys; anything else is refused rather than decoded leniently. */
function base64Bytes(value: unknown, field: string): Buffer {
  if (typeof value !== 'string' || value.length === 0 || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(value.trim()))
    throw new UnusableVerificationKeyError(`${field} is not base64`);
  return Buffer.from(value.trim(), 'base64');
}

/** Algorithms an asymmetric public key fits, by its type (and curve). */
function publicKeyAlgorithms(key: KeyObject): readonly string[] {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return rsaAlgorithms;
    case 'rsa-pss':
      return rsaAlgorithms.filter((a) => a.startsWith('PS'));
    case 'ec': {
      const alg = ecAlgorithmByCurve[key.asymmetricKeyDetails?.namedCurve ?? ''];
      if (alg) return [alg];
      break;
    }
  }
  throw new UnusableVerificationKeyError(`a ${key.asymmetricKeyType ?? 'unknown'} public key is not supported for token verification`);
}

/** Imports one key as MK.IO writes it (§14.2); throws UnusableVerificationKeyError. */
export function importVerificationKey(raw: unknown): VerificationKey {
  const k = raw as Record<string, unknown> | null;
  const type = k?.['@odata.type'];
  try {
    if (type === odataTypes.symmetricKey) {
      const bytes = base64Bytes(k?.keyValue, 'keyValue');
      return verificationKey('symmetric', createSecretKey(bytes), hmacAlgorithms);
    }
    if (type === odataTypes.rsaKey) {
      // Unsigned big-endian integers; a leading zero byte (a .NET habit) is not part of the JWK form.
      const n = stripLeadingZeros(base64Bytes(k?.modulus, 'modulus'));
      const e = stripLeadingZeros(base64Bytes(k?.exponent, 'exponent'));
      const key = createPublicKey({ key: { kty: 'RSA', n: n.toString('base64url'), e: e.toString('base64url') }, format: 'jwk' });
      return verificationKey('rsa', key, publicKeyAlgorithms(key));
    }
    if (type === odataTypes.x509Key) {
      // Only the certificate's public key is used: like AMS, its dates and chain are not checked.
      const key = new X509Certificate(base64Bytes(k?.rawBody, 'rawBody')).publicKey;
      return verificationKey('x509', key, publicKeyAlgorithms(key));
    }
  } catch (e) {
    if (e instanceof UnusableVerificationKeyError) throw e;
    throw new UnusableVerificationKeyError(`the ${String(type).replace('#Microsoft.Media.ContentKeyPolicy', '')} could not be read`);
  }
  throw new UnusableVerificationKeyError(`unknown verification key type '${String(type)}'`);
}

function stripLeadingZeros(bytes: Buffer): Buffer {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  return bytes.subarray(i);
}
