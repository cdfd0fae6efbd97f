import { decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWTPayload, type JWTVerifyOptions } from 'jose';
import { contentKeyIdentifierClaim } from '../../shared/content-protection.js';
import { normalizeKeyId } from './key-id.js';
import { KeySetUnavailableError, type OpenIdKeySets } from './openid-key-sets.js';
import { verifySwtSignature } from './swt-token.js';
import { acceptedJwsAlgorithms, importVerificationKey, UnusableVerificationKeyError, type VerificationKey } from './verification-keys.js';

/**
 * Clock tolerance for `exp`, `nbf` and SWT `ExpiresOn`: 5 minutes, the default clock skew of the .NET token
 * handler AMS validated with, so tokens minted for AMS keep working. `exp` (or `ExpiresOn`) is required.
 */
export const clockToleranceSec = 300;

/** A ContentKeyPolicyTokenRestriction, its keys imported once (see policy-access.ts for the cache). */
export interface CompiledTokenRestriction {
  tokenType: 'Jwt' | 'Swt';
  issuer: string;
  audience: string;
  keys: VerificationKey[];
  requiredClaims: Array<{ claimType: string; claimValue?: string }>;
  /** Whether the key id claim is required without a value: the token then names the one key it unlocks. */
  bindsKeyId: boolean;
  openIdConnectDiscoveryDocument?: string;
  /** Keys that could not be imported (the restriction still works with the others); for the log. */
  unusableKeys: string[];
}

/** The restriction can never pass (no issuer, unknown token type, no usable key …): why. */
export class UnusableRestrictionError extends Error {}

/** Reads a token restriction as MK.IO stores it (§14.2); throws UnusableRestrictionError. */
export function compileTokenRestriction(restriction: Record<string, unknown>): CompiledTokenRestriction {
  const tokenType = restriction.restrictionTokenType;
  if (tokenType !== 'Jwt' && tokenType !== 'Swt') throw new UnusableRestrictionError(`restrictionTokenType '${String(tokenType)}' cannot be validated`);
  const { issuer, audience } = restriction;
  if (typeof issuer !== 'string' || issuer === '' || typeof audience !== 'string' || audience === '')
    throw new UnusableRestrictionError('the restriction has no issuer or audience');
  const keys: VerificationKey[] = [];
  const unusableKeys: string[] = [];
  const alternates = Array.isArray(restriction.alternateVerificationKeys) ? restriction.alternateVerificationKeys : [];
  for (const [i, raw] of [restriction.primaryVerificationKey, ...alternates].entries()) {
    if (raw === undefined || raw === null) continue;
    try {
      keys.push(importVerificationKey(raw));
    } catch (e) {
      if (!(e instanceof UnusableVerificationKeyError)) throw e;
      unusableKeys.push(`${i === 0 ? 'primaryVerificationKey' : `alternateVerificationKeys[${i - 1}]`}: ${e.message}`);
    }
  }
  const discovery = restriction.openIdConnectDiscoveryDocument;
  const openIdConnectDiscoveryDocument = tokenType === 'Jwt' && typeof discovery === 'string' && discovery !== '' ? discovery : undefined;
  if (keys.length === 0 && !openIdConnectDiscoveryDocument)
    throw new UnusableRestrictionError(`the restriction has no usable verification key${unusableKeys.length ? ` (${unusableKeys.join('; ')})` : ''}`);
  const requiredClaims: CompiledTokenRestriction['requiredClaims'] = [];
  for (const c of Array.isArray(restriction.requiredClaims) ? (restriction.requiredClaims as Array<Record<string, unknown>>) : []) {
    if (typeof c?.claimType !== 'string' || c.claimType === '') continue;
    requiredClaims.push(
      typeof c.claimValue === 'string' && c.claimValue !== '' ? { claimType: c.claimType, claimValue: c.claimValue } : { claimType: c.claimType },
    );
  }
  return {
    tokenType,
    issuer,
    audience,
    keys,
    requiredClaims,
    bindsKeyId: requiredClaims.some((c) => c.claimType === contentKeyIdentifierClaim && c.claimValue === undefined),
    ...(openIdConnectDiscoveryDocument ? { openIdConnectDiscoveryDocument } : {}),
    unusableKeys,
  };
}

/** A token's claims, whatever its form: the values of one claim type as strings (a JWT array claim gives several). */
export type ClaimReader = (claimType: string) => string[];

/**
 * The verdict on a token against one restriction, before the key it asks for is considered:
 * - `valid`: signature, issuer, audience, times and every required claim check out;
 * - `invalid`: it does not (401);
 * - `unverifiable`: the identity provider's keys could not be fetched (502).
 * `reason` is for the log and never holds the token.
 */
export type TokenVerdict = { kind: 'valid'; claims: ClaimReader } | { kind: 'invalid'; reason: string } | { kind: 'unverifiable'; reason: string };

export interface TokenVerificationDeps {
  openIdKeySets: OpenIdKeySets;
  /** Seconds since the epoch; tests move the clock. */
  now?: () => number;
}

/** Checks `token` as `restriction` says (token-type, signature with any key, issuer, audience, times, required claims). */
export async function verifyRestrictionToken(token: string, restriction: CompiledTokenRestriction, deps: TokenVerificationDeps): Promise<TokenVerdict> {
  const verdict = restriction.tokenType === 'Jwt' ? await verifyJwt(token, restriction, deps) : verifySwt(token, restriction, deps);
  if (verdict.kind !== 'valid') return verdict;
  for (const { claimType, claimValue } of restriction.requiredClaims) {
    const values = verdict.claims(claimType);
    if (values.length === 0) return invalid(`the required claim '${claimType}' is missing`);
    if (claimValue !== undefined && !values.includes(claimValue)) return invalid(`the claim '${claimType}' does not have the required value`);
  }
  return verdict;
}

/**
 * Whether a valid token may unlock `keyId`: when the restriction requires the content key identifier claim without
 * a value, the claim must name this key (GUIDs compared case-insensitively, braces allowed). Returns a reason when not.
 */
export function tokenAllowsKey(restriction: CompiledTokenRestriction, claims: ClaimReader, keyId: string): true | string {
  if (!restriction.bindsKeyId) return true;
  const wanted = normalizeKeyId(keyId) ?? keyId;
  return claims(contentKeyIdentifierClaim).some((v) => normalizeKeyId(v) === wanted) ? true : 'the content key identifier claim names another key';
}

const invalid = (reason: string): TokenVerdict => ({ kind: 'invalid', reason });

function jwtClaimReader(payload: JWTPayload): ClaimReader {
  return (claimType) => {
    const v = payload[claimType];
    const list = Array.isArray(v) ? v : [v];
    return list.filter((x) => typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean').map(String);
  };
}

async function verifyJwt(token: string, r: CompiledTokenRestriction, deps: TokenVerificationDeps): Promise<TokenVerdict> {
  if (token.split('.').length !== 3) return invalid('not a signed JWT (compact JWS)');
  let alg: unknown;
  try {
    alg = decodeProtectedHeader(token).alg;
  } catch {
    return invalid('the JWT header cannot be read');
  }
  if (typeof alg !== 'string' || alg.toLowerCase() === 'none') return invalid('the JWT is unsigned (alg none)');
  if (!acceptedJwsAlgorithms.has(alg)) return invalid(`the JWT algorithm '${alg}' is not accepted`);
  const options: JWTVerifyOptions = {
    algorithms: [alg],
    issuer: r.issuer,
    audience: r.audience,
    clockTolerance: clockToleranceSec,
    requiredClaims: ['exp'],
    ...(deps.now ? { currentDate: new Date(deps.now() * 1000) } : {}),
  };
  const fitting = r.keys.filter((k) => k.algorithms.includes(alg));
  if (fitting.length === 0 && !r.openIdConnectDiscoveryDocument) return invalid(`the JWT algorithm '${alg}' fits none of the verification keys`);
  let keyProblem: string | undefined;
  for (const k of fitting) {
    try {
      return { kind: 'valid', claims: jwtClaimReader((await jwtVerify(token, k.cryptoKeyFor(alg) as CryptoKey, options)).payload) };
    } catch (e) {
      // A signature that does not match this key may match the next (as may one this key cannot check, e.g. an RSA
      // key under 2048 bits); any other failure comes after the signature matched, so it is the token's own.
      if (e instanceof TypeError) keyProblem = describeJoseError(e);
      else if (!(e instanceof joseErrors.JWSSignatureVerificationFailed)) return invalid(describeJoseError(e));
    }
  }
  if (r.openIdConnectDiscoveryDocument) {
    try {
      const keySet = await deps.openIdKeySets.keySetFor(r.openIdConnectDiscoveryDocument);
      return { kind: 'valid', claims: jwtClaimReader((await jwtVerify(token, keySet, options)).payload) };
    } catch (e) {
      if (e instanceof KeySetUnavailableError) return { kind: 'unverifiable', reason: e.message };
      if (e instanceof joseErrors.JWKSNoMatchingKey) return invalid("no key of the identity provider's key set fits the JWT");
      if (e instanceof joseErrors.JWKSTimeout || e instanceof joseErrors.JWKSInvalid || !isTokenError(e))
        return { kind: 'unverifiable', reason: `the identity provider's key set could not be read: ${(e as Error).message}` };
      return invalid(describeJoseError(e));
    }
  }
  return invalid(keyProblem ? `the signature matches none of the verification keys; ${keyProblem}` : 'the signature matches none of the verification keys');
}

/** jose errors that are about the token itself, not about fetching keys. */
function isTokenError(e: unknown): boolean {
  return (
    e instanceof joseErrors.JWTClaimValidationFailed ||
    e instanceof joseErrors.JWTExpired ||
    e instanceof joseErrors.JWTInvalid ||
    e instanceof joseErrors.JWSInvalid ||
    e instanceof joseErrors.JWSSignatureVerificationFailed ||
    e instanceof joseErrors.JOSEAlgNotAllowed ||
    e instanceof joseErrors.JOSENotSupported
  );
}

/** A reason for the log; jose's messages name the claim, never the token. */
function describeJoseError(e: unknown): string {
  if (e instanceof joseErrors.JWTExpired) return 'the token has expired';
  if (e instanceof joseErrors.JWTClaimValidationFailed) {
    if (e.claim === 'nbf') return 'the token is not valid yet (nbf)';
    if (e.claim === 'iss') return 'the token has another issuer';
    if (e.claim === 'aud') return 'the token has another audience';
    if (e.claim === 'exp' && e.reason === 'missing') return 'the token has no expiry (exp)';
    return `the claim '${e.claim}' is invalid (${e.reason})`;
  }
  if (e instanceof joseErrors.JWSSignatureVerificationFailed) return 'the signature does not match';
  if (e instanceof joseErrors.JOSEError) return `the JWT is invalid (${e.code})`;
  if (e instanceof TypeError) return `the JWT cannot be checked with this key (${e.message})`;
  return 'the JWT is invalid';
}

function verifySwt(token: string, r: CompiledTokenRestriction, deps: TokenVerificationDeps): TokenVerdict {
  const swt = verifySwtSignature(token, r.keys);
  if (typeof swt === 'string') return invalid(swt);
  const now = deps.now?.() ?? Date.now() / 1000;
  if (swt.issuer !== r.issuer) return invalid('the token has another issuer');
  if (swt.audience !== r.audience) return invalid('the token has another audience');
  if (swt.expiresOn + clockToleranceSec <= now) return invalid('the token has expired');
  return {
    kind: 'valid',
    claims: (claimType) => {
      const v = swt.claims.get(claimType);
      return v === undefined ? [] : [v];
    },
  };
}
