import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { odataTypes, type ContentKey, type ContentKeyPolicy } from '../../shared/content-protection.js';
import { clearKeyPolicy, openPolicy, signJwt, symmetricKey, symmetricTokenKey, tokenRestriction } from '../../../test/support/token-keys.js';
import { CompiledPolicies, KeyAccessCheck, compilePolicy } from './key-access.js';
import { OpenIdKeySets } from './openid-key-sets.js';

const deps = { openIdKeySets: new OpenIdKeySets({ policy: { allowPrivate: false } }) };
const secret = symmetricKey();
const key = (policyName: string | undefined): ContentKey => ({
  id: randomUUID(),
  type: 'CommonEncryptionCenc',
  value: randomBytes(16),
  label: 'k',
  policyName,
});
const withOptions = (name: string, ...policies: ContentKeyPolicy[]): ContentKeyPolicy => ({
  name,
  policyId: `policy-${name}`,
  options: policies.flatMap((p) => p.options),
});

describe('content key policy access', () => {
  it('compiles a policy once: by object, else by content; an edited policy is compiled again', () => {
    const cache = new CompiledPolicies();
    const policy = clearKeyPolicy('p', tokenRestriction({ primary: symmetricTokenKey(secret) }));
    const first = cache.get('project', policy);
    assert.equal(cache.get('project', policy), first);
    assert.equal(cache.get('project', structuredClone(policy)), first, 'same content, another object');
    const edited = structuredClone(policy);
    edited.options[0].restriction.issuer = 'https://other.example';
    assert.notEqual(cache.get('project', edited), first);
    assert.notEqual(cache.get('other-project', structuredClone(policy)), first, 'another project');
  });

  it('reads only ClearKey options', () => {
    const widevine: ContentKeyPolicy = {
      name: 'w',
      policyId: 'w',
      options: [
        {
          policyOptionId: 'o',
          configuration: { '@odata.type': odataTypes.widevineConfiguration, widevineTemplate: '{}' },
          restriction: { '@odata.type': odataTypes.openRestriction },
        },
      ],
    };
    assert.deepEqual(compilePolicy(widevine).clearKeyRestrictions, []);
    assert.deepEqual(compilePolicy(withOptions('both', widevine, openPolicy('o'))).clearKeyRestrictions, [{ kind: 'open' }]);
  });

  it('delivers when any ClearKey option passes', async () => {
    const policy = compilePolicy(withOptions('p', clearKeyPolicy('t', tokenRestriction({ primary: symmetricTokenKey(secret) })), openPolicy('o')));
    assert.equal(await new KeyAccessCheck(undefined, deps).check(key('p'), policy), true);
  });

  it('answers 401 rather than 403 when a working token option lacks its token beside a broken one', async () => {
    const broken = clearKeyPolicy('b', { ...tokenRestriction({ primary: symmetricTokenKey(secret) }), restrictionTokenType: 'Unknown' });
    const policy = compilePolicy(withOptions('p', broken, clearKeyPolicy('t', tokenRestriction({ primary: symmetricTokenKey(secret) }))));
    assert.deepEqual(await new KeyAccessCheck(undefined, deps).check(key('p'), policy), { status: 401, reason: 'no token was presented' });
    const onlyBroken = compilePolicy(withOptions('p', broken));
    assert.equal(((await new KeyAccessCheck(undefined, deps).check(key('p'), onlyBroken)) as { status: number }).status, 403);
  });

  it('answers 403 for a valid token bound to another key, checking the token once for several keys', async () => {
    const policy = compilePolicy(clearKeyPolicy('p', tokenRestriction({ primary: symmetricTokenKey(secret) })));
    const mine = key('p');
    const check = new KeyAccessCheck(await signJwt('HS256', secret, { keyId: mine.id }), deps);
    assert.equal(await check.check(mine, policy), true);
    assert.deepEqual(await check.check(key('p'), policy), { status: 403, reason: 'the content key identifier claim names another key' });
  });

  it('refuses keys without a policy or whose policy is gone', async () => {
    const check = new KeyAccessCheck(undefined, deps);
    assert.equal(((await check.check(key(undefined), undefined)) as { status: number }).status, 403);
    assert.match(((await check.check(key('gone'), undefined)) as { reason: string }).reason, /'gone' does not exist/);
  });
});
