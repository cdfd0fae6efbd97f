/**
 * What both key delivery servers of the benchmark serve: one locator with an envelope key and a CENC key under an
 * HS256 policy and an RS256 policy (both binding the token to the key id), and an open envelope key. Made by the
 * parent and sent to the children (keys as bytes and PEM), so both answer with the very same bytes.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import type { ContentKey, ContentKeyPolicy, ProtectionLookup } from '../../src/shared/content-protection.js';
import { clearKeyPolicy, openPolicy, rsaPair, rsaTokenKey, signJwt, symmetricKey, symmetricTokenKey, tokenRestriction } from '../../test/support/token-keys.js';

export interface KeyFixtures {
  projectId: string;
  locatorId: string;
  hmacSecret: Buffer;
  rsaPublicPem: string;
  keys: Array<{ id: string; type: ContentKey['type']; value: Buffer; policyName: string }>;
}

export function makeKeyFixtures(): KeyFixtures & { rsaPrivatePem: string } {
  const rsa = rsaPair();
  const key = (type: ContentKey['type'], policyName: string) => ({ id: randomUUID(), type, value: randomBytes(16), policyName });
  return {
    projectId: randomUUID(),
    locatorId: randomUUID(),
    hmacSecret: symmetricKey(),
    rsaPublicPem: rsa.publicKey.export({ format: 'pem', type: 'spki' }) as string,
    rsaPrivatePem: rsa.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string,
    keys: [key('EnvelopeEncryption', 'hs256'), key('EnvelopeEncryption', 'rs256'), key('EnvelopeEncryption', 'open'), key('CommonEncryptionCenc', 'hs256')],
  };
}

/** The in-memory ProtectionLookup the Reel side reads (the store's own is measured elsewhere). */
export function fixtureLookup(f: KeyFixtures): ProtectionLookup {
  const policies: ContentKeyPolicy[] = [
    clearKeyPolicy('hs256', tokenRestriction({ primary: symmetricTokenKey(Buffer.from(f.hmacSecret)) })),
    clearKeyPolicy('rs256', tokenRestriction({ primary: rsaTokenKey(createPublicKey(f.rsaPublicPem)) })),
    openPolicy('open'),
  ];
  const keys: ContentKey[] = f.keys.map((k) => ({ ...k, value: Buffer.from(k.value), label: k.type }));
  return {
    locatorKeys: async (id) => (id === f.locatorId ? { projectId: f.projectId, projectName: 'bench', keys } : undefined),
    contentKeyPolicy: async (projectId, name) => (projectId === f.projectId ? policies.find((p) => p.name === name) : undefined),
  };
}

/** A token for one key: HS256 with the symmetric key, or RS256 with the RSA key. */
export function tokenFor(f: KeyFixtures & { rsaPrivatePem: string }, keyId: string, alg: 'HS256' | 'RS256'): Promise<string> {
  return alg === 'HS256' ? signJwt('HS256', f.hmacSecret, { keyId }) : signJwt('RS256', createPrivateKey(f.rsaPrivatePem), { keyId });
}
