import { Type, type Static } from '@sinclair/typebox';
import type { StorageAccount, StorageAccountInput } from './service.js';
import type { StorageCredentialRow } from '../../../store/database.js';
import { BadRequestError } from '../../../shared/errors.js';
import { toMkioTime } from '../../../shared/time.js';
import { nameRule } from '../names.js';
import { listBodySchema } from '../paging.js';
import { mkioTime } from '../envelope.js';
import { reelLocation } from '../../../shared/locations.js';
import { googleSecret } from '../../../storage/google-service-account.js';

/** Storage account names: the media name rule (names.ts), up to 255 characters as assets' `storageAccountName`. */
export const storageAccountName = nameRule(255);

const privateLink = Type.Union([
  Type.Null(),
  Type.Object({
    requestMessage: Type.Optional(Type.String({ maxLength: 140 })),
    resourceGroupName: Type.Optional(Type.String({ minLength: 1, maxLength: 90 })),
    storageAccountName: Type.Optional(Type.String({ minLength: 3, maxLength: 24 })),
    subscriptionId: Type.Optional(Type.String({ format: 'uuid' })),
  }),
]);

const credentialBody = Type.Object(
  {
    sasToken: Type.Optional(Type.String({ pattern: '^\\?' })),
    accessKeyId: Type.Optional(Type.String({ minLength: 1 })),
    secretAccessKey: Type.Optional(Type.String({ minLength: 1 })),
    /** Google.Storage: the service account key JSON object itself, as MK.IO takes it. */
    gac: Type.Optional(Type.Record(Type.String(), Type.String({ maxLength: 16384 }), { maxProperties: 64 })),
  },
  { additionalProperties: false },
);

/**
 * v1 `spec`. `Local`, `path`, `endpoint` (S3 and Google) and `forcePathStyle` are Reel extensions
 * (docs/MKIO-DIFFERENCES.md).
 */
export const v1StorageSpec = Type.Object(
  {
    type: Type.Union([Type.Literal('Microsoft.Storage'), Type.Literal('AWS.S3'), Type.Literal('Google.Storage'), Type.Literal('Local')]),
    description: Type.Optional(Type.String({ maxLength: 1024 })),
    url: Type.Optional(Type.String({ minLength: 1, maxLength: 2048 })),
    // S3 names are 3–63 characters (checked in inputFromV1), Google's 2–256 as MK.IO's schema allows.
    bucketName: Type.Optional(Type.String({ minLength: 2, maxLength: 256 })),
    region: Type.Optional(Type.String({ maxLength: 64 })),
    endpoint: Type.Optional(Type.String({ minLength: 1, maxLength: 2048 })),
    forcePathStyle: Type.Optional(Type.Boolean()),
    path: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
    location: Type.Optional(Type.String({ maxLength: 64 })),
    credential: Type.Optional(credentialBody),
    privateLinkServiceConnection: Type.Optional(privateLink),
  },
  { additionalProperties: false },
);
export type V1StorageSpec = Static<typeof v1StorageSpec>;

export const v1StoragePutBody = Type.Object({ spec: v1StorageSpec }, { additionalProperties: false });
export const v1StoragePatchBody = Type.Object(
  {
    spec: Type.Object(
      {
        // Immutable (§6.2); accepted when it names the account's own type, as clients echo it.
        type: Type.Optional(Type.String({ maxLength: 64 })),
        description: Type.Optional(Type.String({ maxLength: 1024 })),
        privateLinkServiceConnection: Type.Optional(privateLink),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export const v1CredentialBody = Type.Object(
  {
    spec: Type.Object({ type: Type.Optional(Type.String()), credential: credentialBody }, { additionalProperties: false }),
  },
  { additionalProperties: false },
);

/** Legacy body: Azure only, settings under `azureStorageConfiguration` (§6.1). */
export const legacyStorageBody = Type.Object({
  spec: Type.Object({
    name: storageAccountName,
    location: Type.Optional(Type.String({ maxLength: 64 })),
    description: Type.Optional(Type.String({ maxLength: 1024 })),
    // Creation takes Microsoft.Storage only; an update (the .NET client sends back what it read, Local and S3
    // accounts included) must name the account's own type. Checked by inputFromLegacy and the service.
    type: Type.Optional(Type.String({ maxLength: 64 })),
    azureStorageConfiguration: Type.Optional(
      Type.Object({
        url: Type.String({ minLength: 1, maxLength: 4096 }),
        privateLinkServiceConnection: Type.Optional(privateLink),
      }),
    ),
  }),
});
export type LegacyStorageBody = Static<typeof legacyStorageBody>;
/** Legacy PATCH: any part of the legacy body; only the description changes. */
export const legacyStoragePatchBody = Type.Object({ spec: Type.Partial(legacyStorageBody.properties.spec) });
export const legacyCredentialBody = Type.Object({
  spec: Type.Object({ azureCredential: Type.Object({ sasToken: Type.String({ pattern: '^\\?' }) }) }),
});

const bad = (detail: string) => new BadRequestError('ValidationError', detail);

/** Splits a SAS URL (`https://acct.blob.core.windows.net/?sv=…`) into the service URL and the SAS token. */
export function splitSasUrl(url: string): { url: string; sasToken?: string } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw bad(`spec.url '${url.split('?')[0]}' is not a valid URL`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw bad('spec.url must be an http(s) URL');
  const sasToken = parsed.search.length > 1 ? parsed.search : undefined;
  return { url: `${parsed.origin}${parsed.pathname.replace(/\/+$/, '')}`, sasToken };
}

export function inputFromV1(name: string, spec: V1StorageSpec): StorageAccountInput {
  const common = { name, type: spec.type, description: spec.description ?? '', location: spec.location ?? spec.region ?? reelLocation.name };
  switch (spec.type) {
    case 'Local':
      if (!spec.path) throw bad('spec.path is required for Local storage: an absolute directory on the server');
      return { ...common, config: { path: spec.path } };
    case 'Microsoft.Storage': {
      if (!spec.url) throw bad('spec.url is required for Microsoft.Storage');
      const split = splitSasUrl(spec.url);
      const sasToken = spec.credential?.sasToken ?? split.sasToken;
      if (!sasToken) throw bad('spec.credential.sasToken is required for Microsoft.Storage (or give a SAS URL)');
      return { ...common, config: { url: split.url }, credential: { sasToken } };
    }
    case 'AWS.S3': {
      if (!spec.bucketName) throw bad('spec.bucketName is required for AWS.S3');
      if (spec.bucketName.length < 3 || spec.bucketName.length > 63) throw bad('spec.bucketName must be 3 to 63 characters for AWS.S3');
      const { accessKeyId, secretAccessKey } = spec.credential ?? {};
      if (!accessKeyId || !secretAccessKey) throw bad('spec.credential.accessKeyId and spec.credential.secretAccessKey are required for AWS.S3');
      // AWS's own key format is enforced only for AWS itself; S3-compatible endpoints have their own.
      if (!spec.endpoint && !/^A[KS]IA[0-9A-Z]{16}$/.test(accessKeyId)) throw bad('spec.credential.accessKeyId must match ^A[KS]IA[0-9A-Z]{16}$');
      if (!spec.endpoint && secretAccessKey.length !== 40) throw bad('spec.credential.secretAccessKey must be 40 characters');
      return {
        ...common,
        config: {
          bucketName: spec.bucketName,
          region: spec.region ?? 'us-east-1',
          ...(spec.endpoint ? { endpoint: spec.endpoint, forcePathStyle: spec.forcePathStyle ?? true } : {}),
        },
        credential: { accessKeyId, secretAccessKey },
      };
    }
    case 'Google.Storage': {
      if (!spec.bucketName) throw bad('spec.bucketName is required for Google.Storage');
      if (!googleBucketName.test(spec.bucketName)) throw bad(`spec.bucketName '${spec.bucketName}' is not a valid Google Storage bucket name`);
      return {
        ...common,
        // Google detects a bucket's location; MK.IO shows `region` as read-only.
        location: spec.location ?? reelLocation.name,
        config: { bucketName: spec.bucketName, ...(spec.endpoint ? { endpoint: spec.endpoint } : {}) },
        credential: googleSecret(spec.credential),
      };
    }
  }
}

/** Google bucket names: lowercase letters, digits, `-`, `_` and `.`, starting and ending with a letter or digit. */
const googleBucketName = /^[a-z0-9][a-z0-9._-]*[a-z0-9]$/;

export function inputFromLegacy(body: LegacyStorageBody): StorageAccountInput {
  if (body.spec.type !== undefined && body.spec.type !== 'Microsoft.Storage')
    throw bad(`spec.type must be Microsoft.Storage on this path, got '${body.spec.type}'`);
  if (!body.spec.azureStorageConfiguration) throw bad('spec.azureStorageConfiguration.url is required');
  return inputFromV1(body.spec.name, {
    type: 'Microsoft.Storage',
    url: body.spec.azureStorageConfiguration.url,
    description: body.spec.description,
    location: body.spec.location,
  });
}

/**
 * The sanitized credential as MK.IO's read schema allows it: an Azure SAS without `sig`, with its start and
 * expiry; a Google service account key without its private key (which account and key id, nothing secret). S3
 * credentials are not shown at all (MK.IO's read schema would demand the secret key itself).
 */
function credentialView(account: StorageAccount, row: StorageCredentialRow | undefined): Record<string, unknown> | undefined {
  if (!row || (account.row.type !== 'Microsoft.Storage' && account.row.type !== 'Google.Storage')) return undefined;
  return JSON.parse(row.sanitized) as Record<string, unknown>;
}

/** v1 wire shape (StorageSchemaGet). Secrets never appear. `Local` and `endpoint` are Reel extensions. */
export function toV1Storage(account: StorageAccount): V1Storage {
  const { row, config } = account;
  const spec: Record<string, unknown> = { type: row.type, description: row.description };
  if (row.type === 'Microsoft.Storage')
    Object.assign(spec, { url: config.url, region: row.location === reelLocation.name ? null : row.location, privateLinkServiceConnection: null });
  if (row.type === 'AWS.S3') {
    const url = (config.endpoint as string | undefined) ?? `https://${String(config.bucketName)}.s3.${String(config.region)}.amazonaws.com`;
    Object.assign(spec, { bucketName: config.bucketName, region: config.region, url, ...(config.endpoint ? { endpoint: config.endpoint } : {}) });
  }
  if (row.type === 'Google.Storage') {
    Object.assign(spec, { bucketName: config.bucketName, region: row.location === reelLocation.name ? null : row.location });
    if (config.endpoint) spec.endpoint = config.endpoint;
  }
  if (row.type === 'Local') Object.assign(spec, { path: config.path });
  const credential = credentialView(account, account.active);
  if (credential) spec.credential = credential;
  return {
    kind: 'StorageAccount',
    metadata: {
      id: row.id,
      name: row.name,
      created: toMkioTime(row.created_at),
      createdBy: row.created_by_id,
      createdByEmail: row.created_by,
      updated: toMkioTime(row.updated_at),
      updatedBy: row.updated_by_id,
      updatedByEmail: row.updated_by,
    },
    spec,
    status: { activeCredentialId: account.active?.id ?? null },
  } as V1Storage;
}

export function toV1Credential(account: StorageAccount, row: StorageCredentialRow): V1Credential {
  const credential = credentialView(account, row);
  return {
    metadata: { id: row.id, created: toMkioTime(row.created_at), createdBy: row.created_by_id, createdByEmail: row.created_by },
    spec: { type: account.row.type, ...(credential ? { credential } : {}) },
  };
}

/** Legacy wire shape (§6.1): metadata ids, `azureStorageConfiguration`, snake-free camelCase. */
export function toLegacyStorage(account: StorageAccount): LegacyStorage {
  const { row, config } = account;
  return {
    metadata: {
      id: row.id,
      created: toMkioTime(row.created_at),
      // GUIDs, as MK.IO's clients read them (the e-mail addresses are the v1 shape's `createdByEmail`).
      createdById: row.created_by_id,
      updated: toMkioTime(row.updated_at),
      updatedById: row.updated_by_id,
    },
    spec: {
      name: row.name,
      location: row.location,
      description: row.description,
      type: row.type,
      ...(row.type === 'Microsoft.Storage' ? { azureStorageConfiguration: { url: config.url, privateLinkServiceConnection: null } } : {}),
      ...(row.type === 'Local' ? { path: config.path } : {}),
      ...(row.type === 'AWS.S3' || row.type === 'Google.Storage' ? { bucketName: config.bucketName } : {}),
    },
    status: { activeCredentialId: account.active?.id ?? null },
  } as LegacyStorage;
}

export function toLegacyCredential(row: StorageCredentialRow): LegacyCredential {
  const sanitized = JSON.parse(row.sanitized) as { sasToken?: string };
  return {
    metadata: { id: row.id, created: toMkioTime(row.created_at), createdById: row.created_by_id },
    spec: { azureCredential: { sasToken: sanitized.sasToken ?? null, sasTokenSanitized: sanitized.sasToken ?? null } },
  };
}

/*
 * Response schemas. The serializer writes only what these name, so a secret the service might hand over (a SAS
 * `sig`, an S3 secret key) has nowhere to go: no credential schema has a field for it. Each storage type has its
 * own spec schema because their keys come in different orders (Azure `url, region`, S3 `bucketName, region, url`).
 */
const nullableString = Type.Union([Type.String(), Type.Null()]);

/** The sanitized Azure SAS (`sig` removed) with its start and expiry; nothing else of a credential is shown. */
const sanitizedSas = Type.Object({
  sasToken: Type.Optional(Type.String({ description: 'The SAS without its signature' })),
  signedStart: Type.Optional(nullableString),
  signedExpiry: Type.Optional(nullableString),
});

/**
 * A Google key as shown: which service account and key, never `private_key` (the schema has no field for it, so
 * the serializer drops it; not `additionalProperties: false`, which would fail the response instead).
 */
const sanitizedGac = Type.Object({
  gac: Type.Object({
    type: Type.Optional(Type.String()),
    project_id: Type.Optional(Type.String()),
    client_email: Type.Optional(Type.String()),
    private_key_id: Type.Optional(Type.String()),
  }),
});

// Only `type` is required: a branch that failed on a missing field would make the serializer throw (a 500).
const v1SpecResponse = Type.Union([
  Type.Object({
    type: Type.Literal('Microsoft.Storage'),
    description: Type.Optional(Type.String()),
    url: Type.Optional(Type.String()),
    region: Type.Optional(nullableString),
    privateLinkServiceConnection: Type.Optional(Type.Null()),
    credential: Type.Optional(sanitizedSas),
  }),
  Type.Object({
    type: Type.Literal('AWS.S3'),
    description: Type.Optional(Type.String()),
    bucketName: Type.Optional(Type.String()),
    region: Type.Optional(Type.String()),
    url: Type.Optional(Type.String()),
    endpoint: Type.Optional(Type.String()),
  }),
  Type.Object({
    type: Type.Literal('Google.Storage'),
    description: Type.Optional(Type.String()),
    bucketName: Type.Optional(Type.String()),
    region: Type.Optional(nullableString),
    endpoint: Type.Optional(Type.String()),
    credential: Type.Optional(sanitizedGac),
  }),
  Type.Object({ type: Type.Literal('Local'), description: Type.Optional(Type.String()), path: Type.Optional(Type.String()) }),
]);

/** v1 StorageSchemaGet. */
export const v1StorageResponse = Type.Object({
  kind: Type.Literal('StorageAccount'),
  metadata: Type.Object({
    id: Type.String(),
    name: Type.String(),
    created: mkioTime,
    createdBy: Type.String(),
    createdByEmail: Type.String(),
    updated: mkioTime,
    updatedBy: Type.String(),
    updatedByEmail: Type.String(),
  }),
  spec: v1SpecResponse,
  status: Type.Object({ activeCredentialId: nullableString }),
});
export type V1Storage = Static<typeof v1StorageResponse>;
export const v1StorageListResponse = listBodySchema(v1StorageResponse);

export const v1CredentialResponse = Type.Object({
  metadata: Type.Object({ id: Type.String(), created: mkioTime, createdBy: Type.String(), createdByEmail: Type.String() }),
  spec: Type.Object({ type: Type.String(), credential: Type.Optional(Type.Union([sanitizedGac, sanitizedSas])) }),
});
export type V1Credential = Static<typeof v1CredentialResponse>;
export const v1CredentialListResponse = listBodySchema(v1CredentialResponse);

/** Legacy storage account (§6.1). */
export const legacyStorageResponse = Type.Object({
  metadata: Type.Object({ id: Type.String(), created: mkioTime, createdById: Type.String(), updated: mkioTime, updatedById: Type.String() }),
  spec: Type.Object({
    name: Type.String(),
    location: Type.String(),
    description: Type.String(),
    type: Type.String(),
    azureStorageConfiguration: Type.Optional(Type.Object({ url: Type.String(), privateLinkServiceConnection: Type.Null() })),
    path: Type.Optional(Type.String()),
    bucketName: Type.Optional(Type.String()),
  }),
  status: Type.Object({ activeCredentialId: nullableString }),
});
export type LegacyStorage = Static<typeof legacyStorageResponse>;
export const legacyStorageListResponse = Type.Object({ kind: Type.Literal('StorageAccountList'), items: Type.Array(legacyStorageResponse) });

export const legacyCredentialResponse = Type.Object({
  metadata: Type.Object({ id: Type.String(), created: mkioTime, createdById: Type.String() }),
  spec: Type.Object({ azureCredential: Type.Object({ sasToken: nullableString, sasTokenSanitized: nullableString }) }),
});
export type LegacyCredential = Static<typeof legacyCredentialResponse>;
export const legacyCredentialListResponse = Type.Object({ kind: Type.Literal('StorageCredentialList'), items: Type.Array(legacyCredentialResponse) });
