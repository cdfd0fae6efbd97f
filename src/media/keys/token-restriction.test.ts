import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { exportJWK } from 'jose';
import { contentKeyIdentifierClaim } from '../../shared/content-protection.js';
import {
  audience,
  issuer,
  rsaPair,
  rsaTokenKey,
  signJwt,
  signSwt,
  symmetricKey,
  symmetricTokenKey,
  tokenRestriction,
  x509Pair,
  x509TokenKey,
  type RestrictionShape,
} from '../../../test/support/token-keys.js';
import { OpenIdKeySets } from './openid-key-sets.js';
import { clockToleranceSec, compileTokenRestriction, tokenAllowsKey, verifyRestrictionToken, type TokenVerdict } from './token-restriction.js';

const keyId = randomUUID();
const otherKeyId = randomUUID();
const secret = symmetricKey();
const otherSecret = symmetricKey();
const rsa = rsaPair();
const otherRsa = rsaPair();
const x509 = x509Pair();
const privateOnly = new OpenIdKeySets({ policy: { allowPrivate: false } });
const privateAllowed = new OpenIdKeySets({ policy: { allowPrivate: true } });

/** The verdict on `token` and, when valid, whether it unlocks `forKey`. */
async function judge(
  shape: RestrictionShape,
  token: string,
  options: { forKey?: string; keySets?: OpenIdKeySets } = {},
): Promise<TokenVerdict['kind'] | 'other-key'> {
  const restriction = compileTokenRestriction(tokenRestriction(shape));
  const verdict = await verifyRestrictionToken(token, restriction, { openIdKeySets: options.keySets ?? privateOnly });
  if (verdict.kind !== 'valid') return verdict.kind;
  return tokenAllowsKey(restriction, verdict.claims, options.forKey ?? keyId) === true ? 'valid' : 'other-key';
}

async function reason(shape: RestrictionShape, token: string, keySets: OpenIdKeySets = privateOnly): Promise<string> {
  const verdict = await verifyRestrictionToken(token, compileTokenRestriction(tokenRestriction(shape)), { openIdKeySets: keySets });
  assert.notEqual(verdict.kind, 'valid');
  return (verdict as { reason: string }).reason;
}

const hs = { primary: symmetricTokenKey(secret) };
const rs = { primary: rsaTokenKey(rsa.publicKey) };

describe('token restriction: JWT', () => {
  it('accepts HS256/384/512 with the symmetric key', async () => {
    for (const alg of ['HS256', 'HS384', 'HS512']) assert.equal(await judge(hs, await signJwt(alg, secret, { keyId })), 'valid', alg);
  });

  it('accepts RS256 and PS256 with an RSA key given as modulus and exponent', async () => {
    for (const alg of ['RS256', 'RS512', 'PS256']) assert.equal(await judge(rs, await signJwt(alg, rsa.privateKey, { keyId })), 'valid', alg);
  });

  it('accepts RS256 with an X.509 certificate key', async () => {
    const { createPrivateKey } = await import('node:crypto');
    assert.equal(await judge({ primary: x509TokenKey(x509.der) }, await signJwt('RS256', createPrivateKey(x509.privateKey), { keyId })), 'valid');
  });

  it('tries every alternate key', async () => {
    const shape = {
      primary: symmetricTokenKey(otherSecret),
      alternates: [rsaTokenKey(otherRsa.publicKey), symmetricTokenKey(secret), rsaTokenKey(rsa.publicKey)],
    };
    assert.equal(await judge(shape, await signJwt('HS256', secret, { keyId })), 'valid');
    assert.equal(await judge(shape, await signJwt('RS256', rsa.privateKey, { keyId })), 'valid');
  });

  it('refuses a token signed with another key', async () => {
    assert.equal(await judge(hs, await signJwt('HS256', otherSecret, { keyId })), 'invalid');
    assert.equal(await judge(rs, await signJwt('RS256', otherRsa.privateKey, { keyId })), 'invalid');
    assert.match(await reason(hs, await signJwt('HS256', otherSecret, { keyId })), /signature matches none/);
  });

  it(`refuses expired tokens and tokens not valid yet, beyond ${clockToleranceSec} s of tolerance`, async () => {
    assert.equal(await judge(hs, await signJwt('HS256', secret, { keyId, expiresIn: -clockToleranceSec - 60 })), 'invalid');
    assert.match(await reason(hs, await signJwt('HS256', secret, { keyId, expiresIn: -clockToleranceSec - 60 })), /expired/);
    assert.equal(await judge(hs, await signJwt('HS256', secret, { keyId, expiresIn: -60 })), 'valid', 'within the tolerance');
    assert.match(await reason(hs, await signJwt('HS256', secret, { keyId, notBeforeIn: clockToleranceSec + 60 })), /not valid yet/);
    assert.equal(await judge(hs, await signJwt('HS256', secret, { keyId, notBeforeIn: 60 })), 'valid', 'within the tolerance');
    assert.match(await reason(hs, await signJwt('HS256', secret, { keyId, expiresIn: null })), /no expiry/);
  });

  it('checks issuer and audience (string or array)', async () => {
    assert.match(await reason(hs, await signJwt('HS256', secret, { keyId, issuer: 'https://other.example' })), /another issuer/);
    assert.match(await reason(hs, await signJwt('HS256', secret, { keyId, audience: 'urn:other' })), /another audience/);
    assert.equal(await judge(hs, await signJwt('HS256', secret, { keyId, audience: ['urn:other', audience] })), 'valid');
    assert.equal(await judge(hs, await signJwt('HS256', secret, { keyId, audience: ['urn:other'] })), 'invalid');
  });

  it('checks required claims: present, and equal when a value is given', async () => {
    const shape = { ...hs, requiredClaims: [{ claimType: 'urn:plan', claimValue: 'gold' }, { claimType: 'sub' }] };
    assert.equal(await judge(shape, await signJwt('HS256', secret, { claims: { 'urn:plan': 'gold', sub: 'viewer-1' } })), 'valid');
    assert.equal(await judge(shape, await signJwt('HS256', secret, { claims: { 'urn:plan': ['silver', 'gold'], sub: 'viewer-1' } })), 'valid', 'array claim');
    assert.match(await reason(shape, await signJwt('HS256', secret, { claims: { 'urn:plan': 'gold' } })), /required claim 'sub' is missing/);
    assert.match(
      await reason(shape, await signJwt('HS256', secret, { claims: { 'urn:plan': 'silver', sub: 'v' } })),
      /'urn:plan' does not have the required value/,
    );
  });

  it('binds the token to the key its content key identifier claim names (case-insensitive, braces allowed)', async () => {
    assert.equal(await judge(hs, await signJwt('HS256', secret, { keyId: `{${keyId.toUpperCase()}}` })), 'valid');
    assert.equal(await judge(hs, await signJwt('HS256', secret, { keyId: otherKeyId })), 'other-key');
    assert.match(await reason(hs, await signJwt('HS256', secret, {})), new RegExp(`'${contentKeyIdentifierClaim}' is missing`));
    // Without the claim among the required ones, a token unlocks every key of the policy.
    assert.equal(await judge({ ...hs, requiredClaims: [] }, await signJwt('HS256', secret, {}), { forKey: otherKeyId }), 'valid');
  });

  it("refuses alg none and an algorithm that does not fit the key (an HS256 token made with the RSA key's public bytes)", async () => {
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const exp = Math.floor(Date.now() / 1000) + 3600;
    const unsigned = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ iss: issuer, aud: audience, exp, [contentKeyIdentifierClaim]: keyId })}.`;
    assert.match(await reason(hs, unsigned), /alg none/);
    assert.match(await reason(hs, `${b64({ alg: 'NONE' })}.${b64({ iss: issuer })}.`), /alg none/);
    const publicPem = rsa.publicKey.export({ format: 'pem', type: 'spki' }) as string;
    const confused = await signJwt('HS256', publicPem, { keyId });
    assert.match(await reason(rs, confused), /'HS256' fits none of the verification keys/);
    assert.match(await reason({ primary: x509TokenKey(x509.der) }, confused), /fits none/);
    // And an RS256 token never meets the symmetric key.
    assert.match(await reason(hs, await signJwt('RS256', rsa.privateKey, { keyId })), /'RS256' fits none/);
  });

  it('refuses what is not a signed JWT', async () => {
    assert.equal(await judge(hs, 'not-a-token'), 'invalid');
    assert.equal(await judge(hs, 'a.b.c'), 'invalid');
    assert.equal(await judge(hs, signSwt(secret, { claims: { [contentKeyIdentifierClaim]: keyId } })), 'invalid');
  });
});

describe('token restriction: SWT', () => {
  const swt = { tokenType: 'Swt' as const, primary: symmetricTokenKey(secret) };

  it('accepts a valid token with the primary or an alternate key, and binds it to its key id', async () => {
    assert.equal(await judge(swt, signSwt(secret, { claims: { [contentKeyIdentifierClaim]: keyId } })), 'valid');
    const withAlternate = { ...swt, primary: symmetricTokenKey(otherSecret), alternates: [symmetricTokenKey(secret)] };
    assert.equal(await judge(withAlternate, signSwt(secret, { claims: { [contentKeyIdentifierClaim]: keyId } })), 'valid');
    assert.equal(await judge(swt, signSwt(secret, { claims: { [contentKeyIdentifierClaim]: otherKeyId } })), 'other-key');
  });

  it('refuses an expired token, a bad signature, another issuer or audience', async () => {
    const claims = { [contentKeyIdentifierClaim]: keyId };
    assert.match(await reason(swt, signSwt(secret, { claims, expiresIn: -clockToleranceSec - 60 })), /expired/);
    assert.match(await reason(swt, signSwt(otherSecret, { claims })), /signature matches no verification key/);
    const tampered = signSwt(secret, { claims }).replace(keyId, otherKeyId);
    assert.match(await reason(swt, tampered), /signature matches no/);
    assert.match(await reason(swt, signSwt(secret, { claims, issuer: 'https://other.example' })), /another issuer/);
    assert.match(await reason(swt, signSwt(secret, { claims, audience: 'urn:other' })), /another audience/);
    assert.match(await reason(swt, 'Issuer=x&Audience=y'), /not a simple web token/);
  });

  it('refuses a JWT where the restriction says SWT', async () => {
    assert.equal(await judge(swt, await signJwt('HS256', secret, { keyId })), 'invalid');
  });
});

describe('token restriction: OpenID Connect discovery', () => {
  let server: http.Server;
  let base: string;
  const requests: string[] = [];

  before(async () => {
    const jwk = { ...(await exportJWK(rsa.publicKey)), kid: 'signer-1', alg: 'RS256', use: 'sig' };
    server = http.createServer((req, res) => {
      requests.push(req.url ?? '');
      res.setHeader('content-type', 'application/json');
      if (req.url === '/.well-known/openid-configuration') res.end(JSON.stringify({ issuer, jwks_uri: `${base}/keys` }));
      else if (req.url === '/keys') res.end(JSON.stringify({ keys: [jwk] }));
      else res.writeHead(404).end('{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const signWithKid = async (kid: string, shape = {}) => {
    const { SignJWT } = await import('jose');
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ [contentKeyIdentifierClaim]: keyId, ...shape })
      .setProtectedHeader({ alg: 'RS256', kid })
      .setIssuer(issuer)
      .setAudience(audience)
      .setExpirationTime(now + 600)
      .sign(rsa.privateKey);
  };

  it('validates with the key set the discovery document names, fetched once', async () => {
    const shape = { primary: symmetricTokenKey(otherSecret), openIdConnectDiscoveryDocument: `${base}/.well-known/openid-configuration` };
    const keySets = new OpenIdKeySets({ policy: { allowPrivate: true } });
    requests.length = 0;
    assert.equal(await judge(shape, await signWithKid('signer-1'), { keySets }), 'valid');
    assert.equal(await judge(shape, await signWithKid('signer-1'), { keySets }), 'valid');
    assert.deepEqual(requests, ['/.well-known/openid-configuration', '/keys']);
    assert.equal(await judge(shape, await signJwt('RS256', otherRsa.privateKey, { keyId }), { keySets }), 'invalid');
    assert.equal(await judge(shape, await signWithKid('signer-1'), { keySets, forKey: otherKeyId }), 'other-key');
  });

  it('refuses a discovery document on a private address without REEL_KEY_DELIVERY_ALLOW_PRIVATE', async () => {
    const shape = { primary: symmetricTokenKey(otherSecret), openIdConnectDiscoveryDocument: `${base}/.well-known/openid-configuration` };
    requests.length = 0;
    const restriction = compileTokenRestriction(tokenRestriction(shape));
    const verdict = await verifyRestrictionToken(await signWithKid('signer-1'), restriction, { openIdKeySets: privateOnly });
    assert.equal(verdict.kind, 'unverifiable');
    assert.match((verdict as { reason: string }).reason, /private address.*REEL_KEY_DELIVERY_ALLOW_PRIVATE=true allows it/);
    assert.deepEqual(requests, [], 'nothing was fetched');
    // A token signed with a configured key still passes: the provider is only asked when no configured key fits.
    assert.equal(await judge({ ...shape, primary: rsaTokenKey(rsa.publicKey) }, await signWithKid('signer-1')), 'valid');
  });

  it('answers unverifiable when the provider is unreachable, invalid when its key set lacks the key', async () => {
    const down = { primary: symmetricTokenKey(otherSecret), openIdConnectDiscoveryDocument: `${base}/missing` };
    assert.equal(await judge(down, await signWithKid('signer-1'), { keySets: privateAllowed }), 'unverifiable');
    const shape = { primary: symmetricTokenKey(otherSecret), openIdConnectDiscoveryDocument: `${base}/.well-known/openid-configuration` };
    assert.equal(await judge(shape, await signWithKid('unknown-kid'), { keySets: new OpenIdKeySets({ policy: { allowPrivate: true } }) }), 'invalid');
  });
});

describe('token restriction: compilation', () => {
  it('refuses restrictions that can never pass, and skips unusable keys', () => {
    assert.throws(() => compileTokenRestriction({ ...tokenRestriction(hs), restrictionTokenType: 'Unknown' }), /cannot be validated/);
    assert.throws(() => compileTokenRestriction({ ...tokenRestriction(hs), issuer: '' }), /no issuer/);
    assert.throws(
      () =>
        compileTokenRestriction(
          tokenRestriction({ primary: { '@odata.type': '#Microsoft.Media.ContentKeyPolicySymmetricTokenKey', keyValue: 'not base64!' } }),
        ),
      /no usable verification key.*not base64/,
    );
    const compiled = compileTokenRestriction(
      tokenRestriction({
        primary: { '@odata.type': '#Microsoft.Media.ContentKeyPolicyX509CertificateTokenKey', rawBody: 'AAAA' },
        alternates: [symmetricTokenKey(secret)],
      }),
    );
    assert.equal(compiled.keys.length, 1);
    assert.match(compiled.unusableKeys[0], /^primaryVerificationKey: the X509CertificateTokenKey could not be read/);
  });
});
