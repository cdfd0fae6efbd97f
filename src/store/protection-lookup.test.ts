import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { before, it } from 'node:test';
import { describeOnEachDialect, insertProject } from '../../test/support/store-database.js';
import { SecretBox } from '../shared/secret-box.js';
import { odataTypes, type ContentKeyPolicyOption } from '../shared/content-protection.js';
import { StoreProtectionLookup } from './protection-lookup.js';
import type { StoredContentKey } from './database.js';

describeOnEachDialect('StoreProtectionLookup', (store) => {
  const box = new SecretBox('protection lookup test key');
  const locatorId = '0b0e3f7a-1c2d-4e5f-8a9b-0c1d2e3f4a5b';
  const keys: Array<StoredContentKey & { value: Buffer }> = [
    {
      id: '11111111-2222-4333-8444-555555555555',
      type: 'CommonEncryptionCenc',
      labelReferenceInStreamingPolicy: 'cencDefaultKey',
      policyName: 'open',
      value: randomBytes(16),
    },
    { id: '66666666-7777-4888-9999-aaaaaaaaaaaa', type: 'EnvelopeEncryption', labelReferenceInStreamingPolicy: 'clearKeyDefault', value: randomBytes(16) },
  ];
  const options: ContentKeyPolicyOption[] = [
    {
      policyOptionId: '0f0f0f0f-0000-4000-8000-000000000001',
      name: 'token',
      configuration: { '@odata.type': odataTypes.clearKeyConfiguration },
      restriction: {
        '@odata.type': odataTypes.tokenRestriction,
        issuer: 'https://issuer.example',
        audience: 'urn:reel',
        restrictionTokenType: 'Jwt',
        primaryVerificationKey: { '@odata.type': odataTypes.symmetricKey, keyValue: randomBytes(32).toString('base64') },
      },
    },
  ];
  let projectId: string;

  before(async () => {
    const { db } = store();
    projectId = await insertProject(db, 'protection');
    const now = new Date().toISOString();
    const audit = { created_at: now, created_by: 'a', updated_at: now, updated_by: 'a' };
    await db
      .insertInto('storage_accounts')
      .values({
        id: 'account',
        project_id: projectId,
        name: 'media',
        type: 'Local',
        description: '',
        location: 'local',
        config: '{}',
        ...audit,
        created_by_id: 'a',
        updated_by_id: 'a',
      })
      .execute();
    await db
      .insertInto('assets')
      .values({
        id: 'asset',
        project_id: projectId,
        name: 'movie',
        storage_account_id: 'account',
        storage_account_name: 'media',
        container: 'movie',
        sub_path: null,
        description: '',
        alternate_id: null,
        container_deletion_policy: 'Retain',
        storage_encryption_format: 'None',
        labels: '{}',
        ...audit,
      })
      .execute();
    await db
      .insertInto('streaming_locators')
      .values({
        id: 'locator',
        project_id: projectId,
        name: 'protected',
        locator_id: locatorId,
        asset_id: 'asset',
        asset_name: 'movie',
        policy_name: 'Predefined_MultiDrmCencStreaming',
        start_time: null,
        end_time: null,
        properties: JSON.stringify({ alternativeMediaId: 'title-42' }),
        content_keys: JSON.stringify(keys.map(({ value: _v, ...k }) => k)),
        content_key_values: box.seal(Object.fromEntries(keys.map((k) => [k.id, k.value.toString('base64')]))),
        ...audit,
      })
      .execute();
    await db
      .insertInto('content_key_policies')
      .values({ id: 'ckp', project_id: projectId, name: 'open', policy_id: 'policy-guid', properties: '{}', options_sealed: box.seal(options), ...audit })
      .execute();
  });

  it("unseals a locator's keys by its playback GUID, in any case", async () => {
    const lookup = new StoreProtectionLookup(store().db, box);
    const found = await lookup.locatorKeys(locatorId.toUpperCase());
    assert.ok(found);
    assert.equal(found.projectId, projectId);
    assert.equal(found.projectName, 'protection');
    assert.equal(found.alternativeMediaId, 'title-42');
    assert.deepEqual(
      found.keys.map((k) => [k.id, k.type, k.label, k.policyName, k.value.toString('hex')]),
      keys.map((k) => [k.id, k.type, k.labelReferenceInStreamingPolicy, k.policyName, k.value.toString('hex')]),
    );
    assert.equal(await lookup.locatorKeys('00000000-0000-4000-8000-000000000000'), undefined);
  });

  it('unseals a policy with its secrets, and misses other names and projects', async () => {
    const lookup = new StoreProtectionLookup(store().db, box);
    assert.deepEqual(await lookup.contentKeyPolicy(projectId, 'open'), { name: 'open', policyId: 'policy-guid', options });
    assert.equal(await lookup.contentKeyPolicy(projectId, 'other'), undefined);
    assert.equal(await lookup.contentKeyPolicy('another-project', 'open'), undefined);
  });

  it('refuses keys sealed under another secret key rather than returning garbage', async () => {
    const lookup = new StoreProtectionLookup(store().db, new SecretBox('some other key'));
    await assert.rejects(lookup.locatorKeys(locatorId));
  });
});
