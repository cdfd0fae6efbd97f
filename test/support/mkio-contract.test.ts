// Tests of the MK.IO contract harness itself, on hand-written bodies shaped like MKIO-API.md's examples.
import assert, { AssertionError } from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertMkioRequestAccepted, assertMkioResponse, assertMkioSchema, findMkioOperation, mkioSchemaValidator } from './mkio-contract.js';

const V = '/api/v1/projects/default/media';
const ASSET_OP = 'GET /api/v1/projects/{project_name}/media/assets/{asset_name}';
const STAMP = '2024-03-26T14:51:19.125280Z'; // six fractional digits, as MK.IO emits them

function systemData() {
  return {
    createdAt: STAMP,
    createdBy: 'user@example.com',
    createdByType: 'User',
    lastModifiedAt: STAMP,
    lastModifiedBy: 'user@example.com',
    lastModifiedByType: 'User',
    internalId: '0b6f3d3e-52a4-4c55-9a0e-3f3f8f1f2a10',
  };
}

/** §7's example response, with the fields the document types strictly (see docs/CONTRACT-TESTS.md) fixed. */
function asset(): Record<string, any> {
  return {
    name: 'asset-3f2a',
    id: '/subscriptions/5d2b7a61-0d0c-4a5e-9a39-1b7cf0f3e0aa/resourceGroups/default/providers/Microsoft.Media/mediaservices/default/assets/asset-3f2a',
    type: 'Microsoft.Media/mediaservices/assets',
    labels: { studio: 'north' },
    properties: {
      assetId: '6f0c1e4a-8f7e-4d7e-9a52-2d7c4e1b9f30',
      container: 'asset-3f2a',
      storageAccountName: 'mystorage',
      description: '',
      containerDeletionPolicy: 'Retain',
      storageEncryptionFormat: 'None',
      created: STAMP,
      lastModified: STAMP,
    },
    systemData: systemData(),
  };
}

/** §3's error body. */
const notFound = { error: { code: 'NotFound', detail: 'asset not found' }, status: 404, ref: 'req-1' };

/** Runs `fn`, expects an AssertionError, returns its message. */
function failure(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof AssertionError, `expected AssertionError, got ${String(e)}`);
    return e.message;
  }
  assert.fail('expected the contract check to fail');
}

describe('MK.IO contract harness', () => {
  it('compiles every component schema of both documents (every $ref resolves)', () => {
    for (const doc of ['media', 'management'] as const) {
      for (const direction of ['request', 'response'] as const) {
        const v = mkioSchemaValidator(doc, direction);
        assert.ok(v.schemaNames().length > 100);
        for (const name of v.schemaNames()) assert.ok(Array.isArray(v.validate(name, {})), name);
      }
    }
  });

  it('accepts a correct asset GET body and says what it checked', () => {
    const check = assertMkioResponse({ doc: 'media', method: 'GET', path: `${V}/assets/asset-3f2a`, status: 200, body: asset() });
    assert.deepEqual(check, { documented: true, operation: ASSET_OP, responseKey: '200', schemaName: 'AssetSchema' });
  });

  it('names the field and the schema when a type is wrong', () => {
    const body = asset();
    body.properties.created = 1711464679;
    const msg = failure(() => assertMkioResponse({ doc: 'media', method: 'GET', path: `${V}/assets/asset-3f2a`, status: 200, body }));
    assert.match(msg, /\/properties\/created: must be string \[AssetProperties#\/properties\/created\]/);
  });

  it('lists every missing required field, including systemData.internalId', () => {
    const body = asset();
    delete body.properties.storageAccountName;
    delete body.systemData.internalId;
    const msg = failure(() => assertMkioResponse({ doc: 'media', method: 'PUT', path: `${V}/assets/asset-3f2a`, status: 201, body }));
    assert.match(msg, /2 violation/);
    assert.match(msg, /\/properties\/storageAccountName: is required but missing \[AssetProperties\]/);
    assert.match(msg, /\/systemData\/internalId: is required but missing \[SystemDataSchema\]/);
  });

  it('checks legacy /api/ams/{project}/... responses against the v1 media operation', () => {
    const found = findMkioOperation('media', 'GET', '/api/ams/default/assets/asset-3f2a?x=1');
    assert.equal(found?.template, '/api/v1/projects/{project_name}/media/assets/{asset_name}');
    const check = assertMkioResponse({ doc: 'media', method: 'GET', path: '/api/ams/default/assets/asset-3f2a', status: 200, body: asset() });
    assert.equal(check.operation, ASSET_OP);
    const bad = { ...asset(), labels: { studio: 7 } };
    assert.match(
      failure(() => assertMkioResponse({ doc: 'media', method: 'GET', path: '/api/ams/default/assets/x', status: 200, body: bad })),
      /\/labels\/studio: must be string/,
    );
  });

  it('matches the documented trailing slash of the asset storage listing either way', () => {
    for (const p of [`${V}/assets/a1/storage/`, `${V}/assets/a1/storage`, '/api/ams/default/assets/a1/storage/']) {
      assert.equal(findMkioOperation('media', 'GET', p)?.template, '/api/v1/projects/{project_name}/media/assets/{asset_name}/storage/');
    }
  });

  it('validates a list body (value + supplemental) against the list operation', () => {
    const body = {
      value: [asset()],
      supplemental: {
        kind: 'Asset',
        operation: 'list',
        count: 1,
        pagination: { start: 0, end: 1, records: 1, total: 1 },
        subscription: { id: '5d2b7a61-0d0c-4a5e-9a39-1b7cf0f3e0aa', name: 'default' },
      },
    };
    const check = assertMkioResponse({ doc: 'media', method: 'GET', path: `${V}/assets?$top=10`, status: 200, body });
    assert.equal(check.schemaName, 'AssetListResponseSchema');
    const msg = failure(() => assertMkioResponse({ doc: 'media', method: 'GET', path: `${V}/assets`, status: 200, body: { value: [] } }));
    assert.match(msg, /\/supplemental: is required but missing \[AssetListResponseSchema\]/);
  });

  it('accepts §5.2 token create body on POST /api/v1/user/tokens and rejects an unknown type', () => {
    const body = { type: 'full-access', organizationId: '9a0e4b8e-2f57-4c1f-a7f5-5f0d6bb7f3c1', description: 'CI', expireDate: '2026-01-31T00:00:00Z' };
    assert.equal(assertMkioRequestAccepted({ doc: 'management', method: 'POST', path: '/api/v1/user/tokens', body }).schemaName, 'CreateTokenSchema');
    assert.match(
      failure(() => assertMkioRequestAccepted({ doc: 'management', method: 'POST', path: '/api/v1/user/tokens', body: { ...body, type: 'forever' } })),
      /\/type: must be equal to one of the allowed values/,
    );
  });

  it('accepts §6.2 v1 storage create bodies and picks the branch by spec.type', () => {
    const path = `${V}/storage/mystorage`;
    const azure = {
      spec: {
        type: 'Microsoft.Storage',
        url: 'https://mystorage.blob.core.windows.net',
        credential: { sasToken: '?sv=2022-11-02&ss=b&srt=sco&sp=rwdlac&se=2026-01-01T00:00:00Z&sig=abc' },
        description: 'main',
      },
    };
    const s3 = {
      spec: { type: 'AWS.S3', bucketName: 'my-media-bucket', credential: { accessKeyId: 'AKIA0000000000000000', secretAccessKey: 'a'.repeat(40) } },
    };
    assert.equal(assertMkioRequestAccepted({ doc: 'media', method: 'PUT', path, body: azure }).schemaName, 'StorageSchemaPut');
    assertMkioRequestAccepted({ doc: 'media', method: 'PUT', path, body: s3 });
    const msg = failure(() => assertMkioRequestAccepted({ doc: 'media', method: 'PUT', path, body: { spec: { type: 'AWS.S3', url: 'https://x' } } }));
    assert.match(msg, /\/spec\/bucketName: is required but missing \[AWSStorageSpecCreate\]/);
    assert.doesNotMatch(msg, /AzureStorageSpecCreate/); // only the tagged branch reports
  });

  it('checks error bodies for documented 4xx statuses', () => {
    const check = assertMkioResponse({ doc: 'media', method: 'GET', path: `${V}/assets/nope`, status: 404, body: notFound });
    assert.equal(check.schemaName, 'Error');
    const msg = failure(() =>
      assertMkioResponse({ doc: 'media', method: 'GET', path: `${V}/assets/nope`, status: 404, body: { error: { code: 'NotFound' }, status: '404' } }),
    );
    assert.match(msg, /\/error\/detail: is required but missing \[ErrorDetail\]/);
    assert.match(msg, /\/ref: is required but missing \[Error\]/);
    assert.match(msg, /\/status: must be integer/);
    assertMkioResponse({ doc: 'management', method: 'GET', path: '/api/v1/user/profile', status: 401, body: { ...notFound, status: 401 } });
  });

  it('throws on undocumented requests unless allowUndocumented, and still checks undocumented errors', () => {
    assert.match(
      failure(() => assertMkioResponse({ doc: 'media', method: 'GET', path: '/api/ams/default/stats/', status: 200, body: {} })),
      /not documented/,
    );
    assert.deepEqual(assertMkioResponse({ doc: 'media', method: 'GET', path: '/api/ams/default/stats/', status: 200, body: {}, allowUndocumented: true }), {
      documented: false,
      reason: 'no operation matches this method and path',
    });
    // The document lists no 409 for storage PUT; with allowUndocumented the body must still be an Error.
    const put409 = { doc: 'media' as const, method: 'PUT', path: `${V}/storage/s1`, status: 409 };
    assert.match(
      failure(() => assertMkioResponse({ ...put409, body: notFound })),
      /documents no 409 response/,
    );
    assert.equal(assertMkioResponse({ ...put409, body: { ...notFound, status: 409 }, allowUndocumented: true }).schemaName, 'Error');
    assert.match(
      failure(() => assertMkioResponse({ ...put409, body: { error: 'conflict' }, allowUndocumented: true })),
      /\/error: must be object/,
    );
  });

  it('accepts an empty body where the response is documented without one', () => {
    assert.deepEqual(assertMkioResponse({ doc: 'media', method: 'DELETE', path: `${V}/assets/a1`, status: 204, body: undefined }), {
      documented: true,
      operation: 'DELETE /api/v1/projects/{project_name}/media/assets/{asset_name}',
      responseKey: '204',
    });
    assert.match(
      failure(() => assertMkioResponse({ doc: 'media', method: 'DELETE', path: `${V}/assets/a1`, status: 200, body: { ok: true } })),
      /documented without a body/,
    );
  });

  it('validates named component schemas, requiring readOnly fields only in responses', () => {
    assertMkioSchema('media', 'SystemDataSchema', systemData());
    assert.match(
      failure(() => assertMkioSchema('media', 'SystemDataSchema', {})),
      /internalId: is required/,
    );
    assertMkioSchema('media', 'SystemDataSchema', {}, 'request');
    assert.throws(() => assertMkioSchema('media', 'NoSuchSchema', {}), /no component schema named "NoSuchSchema"/);
  });

  it('rejects MKIO-API.md §7 example literally, for the reasons listed in docs/CONTRACT-TESTS.md', () => {
    const literal = asset();
    literal.properties.alternateId = null;
    delete literal.systemData.internalId;
    const msg = failure(() => assertMkioSchema('media', 'AssetSchema', literal));
    assert.match(msg, /\/properties\/alternateId: must be string/);
    assert.match(msg, /\/systemData\/internalId: is required/);
  });
});
