import {
  AccountSASPermissions,
  AccountSASResourceTypes,
  AccountSASServices,
  StorageSharedKeyCredential,
  generateAccountSASQueryParameters,
} from '@azure/storage-blob';
import { readFileSync } from 'node:fs';

/**
 * Addresses and credentials of the shared services scripts/run-tests.mjs starts. Nothing is skipped when one
 * is missing: the accessor throws, so a misconfigured CI fails loudly instead of passing vacuously.
 */
function requireEnv(name: string, what: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set: ${what} is needed. Run the suite through 'node scripts/run-tests.mjs [files]', which starts the test services.`);
  }
  return value;
}

/** Azurite's blob endpoint for its built-in account, e.g. `http://127.0.0.1:PORT/devstoreaccount1`. */
export function azuriteUrl(): string {
  return requireEnv('REEL_TEST_AZURITE_URL', 'Azurite (Azure Blob emulator)');
}

/** Azurite's well-known development account and key (public, documented by Microsoft; not a secret). */
const azuriteAccount = 'devstoreaccount1';
const azuriteKey = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

/** An account SAS (`?sv=…&sig=…`) for Azurite: blob service, containers and objects, rwdlac, valid for a day. */
export function azuriteSas(): string {
  azuriteUrl(); // a SAS is useless without the emulator; fail the same clear way
  const sas = generateAccountSASQueryParameters(
    {
      services: AccountSASServices.parse('b').toString(),
      resourceTypes: AccountSASResourceTypes.parse('sco').toString(),
      permissions: AccountSASPermissions.parse('rwdlac'),
      startsOn: new Date(Date.now() - 5 * 60_000), // tolerate clock skew
      expiresOn: new Date(Date.now() + 24 * 3_600_000),
    },
    new StorageSharedKeyCredential(azuriteAccount, azuriteKey),
  );
  return `?${sas.toString()}`;
}

export interface TestS3Config {
  endpoint: string;
  bucketName: string;
  region: string;
  forcePathStyle: boolean;
  accessKeyId: string;
  secretAccessKey: string;
}

/**
 * The S3-compatible test server (s3rver, see test/support/s3-server.mjs) with its pre-created bucket.
 * s3rver knows only the access key `S3RVER`/`S3RVER`; it rejects other key ids but does not verify SigV4
 * signatures, so a wrong secret alone is not refused.
 */
export function s3Config(): TestS3Config {
  return {
    endpoint: requireEnv('REEL_TEST_S3_ENDPOINT', 'the S3-compatible test server'),
    bucketName: 'reel-test',
    region: 'us-east-1',
    forcePathStyle: true,
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
  };
}

export interface TestGcsConfig {
  /** The test server's GCS JSON API (the Firebase Cloud Storage emulator behind a token check). */
  endpoint: string;
  bucketName: string;
  /** The test service account's key: what a tenant gives MK.IO as `credential.gac`. Its `token_uri` is the test server's. */
  serviceAccount: Record<string, string>;
}

/**
 * The Google Cloud Storage test server (test/support/gcs-server.mjs) with its one bucket. It issues access tokens
 * only for JWTs signed with this run's service account key, and refuses API calls without one of them.
 */
export function gcsConfig(): TestGcsConfig {
  const endpoint = requireEnv('REEL_TEST_GCS_ENDPOINT', 'the Google Cloud Storage test server');
  const keyFile = requireEnv('REEL_TEST_GCS_KEY_FILE', 'the Google Cloud Storage test server');
  return { endpoint, bucketName: 'reel-test', serviceAccount: JSON.parse(readFileSync(keyFile, 'utf8')) as Record<string, string> };
}

/** PostgreSQL server URL for tests that create their own databases. */
export function pgUrl(): string {
  return requireEnv('REEL_TEST_PG_URL', 'PostgreSQL');
}
