import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { odataTypes } from '../../../shared/content-protection.js';
import { hideSecrets, restoreHiddenSecrets, validateOptions } from './policy-options.js';

const symmetric = (keyValue: string | null) => ({ '@odata.type': odataTypes.symmetricKey, keyValue });
const tokenOption = (policyOptionId: string | undefined, primary: unknown) => ({
  ...(policyOptionId ? { policyOptionId } : {}),
  configuration: { '@odata.type': odataTypes.clearKeyConfiguration },
  restriction: { '@odata.type': odataTypes.tokenRestriction, issuer: 'i', audience: 'a', restrictionTokenType: 'Jwt', primaryVerificationKey: primary },
});

describe('content key policy options', () => {
  const key = randomBytes(32).toString('base64');
  const id = '0f0f0f0f-0000-4000-8000-000000000001';
  const stored = validateOptions([tokenOption(id.toUpperCase(), symmetric(key))]);

  it('keeps a given policyOptionId (lower case) and generates the others', () => {
    assert.equal(stored[0]?.policyOptionId, id);
    const [generated] = validateOptions([tokenOption(undefined, symmetric(key))]);
    assert.match(generated?.policyOptionId ?? '', /^[0-9a-f-]{36}$/);
    assert.notEqual(generated?.policyOptionId, id);
  });

  it('hides secrets as null without touching the stored options', () => {
    const shown = hideSecrets(stored);
    assert.equal((shown[0]?.restriction.primaryVerificationKey as { keyValue: unknown }).keyValue, null);
    assert.equal((stored[0]?.restriction.primaryVerificationKey as { keyValue: unknown }).keyValue, key);
  });

  it('restores a hidden secret only for the same option and the same key type', () => {
    const sameOption = restoreHiddenSecrets([tokenOption(id, symmetric(null))], stored) as Array<ReturnType<typeof tokenOption>>;
    assert.deepEqual(sameOption[0]?.restriction.primaryVerificationKey, symmetric(key));
    const otherOption = restoreHiddenSecrets([tokenOption('0f0f0f0f-0000-4000-8000-000000000002', symmetric(null))], stored) as Array<
      ReturnType<typeof tokenOption>
    >;
    assert.deepEqual(otherOption[0]?.restriction.primaryVerificationKey, symmetric(null));
    const x509 = { '@odata.type': odataTypes.x509Key, rawBody: null };
    const otherType = restoreHiddenSecrets([tokenOption(id, x509)], stored) as Array<ReturnType<typeof tokenOption>>;
    assert.deepEqual(otherType[0]?.restriction.primaryVerificationKey, x509);
  });

  it('refuses two options with one policyOptionId', () => {
    assert.throws(
      () => validateOptions([tokenOption(id, symmetric(key)), tokenOption(id, symmetric(key))]),
      /options\[1\]\.policyOptionId is used by another option/,
    );
  });
});
