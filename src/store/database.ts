import fs from 'node:fs';
import path from 'node:path';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import SQLite from 'better-sqlite3';
import { createRequire } from 'node:module';
import type pgTypes from 'pg';
import { withStoreErrors } from './store-errors.js';
import type { JobState } from './job-states.js';

/**
 * Row types. Timestamps are ISO-8601 text and JSON is text in both dialects, so one set of queries
 * serves SQLite and PostgreSQL and ordering by timestamp is ordering by text.
 */
export interface OrganizationRow {
  id: string;
  name: string;
  created_at: string;
}
export interface ProjectRow {
  id: string;
  organization_id: string;
  name: string;
  display_name: string;
  created_at: string;
}
/** Management API facts about a project (migration 008); absent for projects made by first boot. */
export interface ProjectProfileRow {
  project_id: string;
  location_name: string;
  /** 1 or 0 (SQLite has no booleans). */
  is_active: number;
  is_hidden: number;
  payment_method_id: string | null;
  created_by_id: string | null;
  /** E-mail of the creator. */
  created_by: string | null;
  updated_at: string;
}
export type WebhookEventStatus = 'Pending' | 'Retrying' | 'Failed' | 'Sent';
export interface WebhookRuleRow {
  id: string;
  project_id: string;
  name: string;
  url: string;
  enabled: number;
  /** JSON array of event types. */
  events: string;
  /** JSON objects of extra headers and query parameters (not secret). */
  headers: string;
  query_params: string;
  /** Sealed JSON `{ authentication: {headers, queryParams}, signingSecret }`. */
  secrets_sealed: string;
  created_at: string;
  updated_at: string;
}
export interface WebhookEventRow {
  id: string;
  rule_id: string;
  type: string;
  /** Path of the resource the event is about; events of one source are delivered in `seq` order. */
  source: string;
  /** bigint: PostgreSQL returns it as text. */
  seq: number | string;
  /** The JSON body delivered. */
  payload: string;
  status: WebhookEventStatus;
  attempts: number;
  next_attempt_at: string;
  lease_until: string | null;
  /** JSON array of `{ at, statusCode?, error? }`, one per attempt. */
  history: string;
  created_at: string;
}
export interface UserRow {
  id: string;
  email: string;
  name: string;
  password_hash: string;
  active_organization_id: string | null;
  created_at: string;
}
/** A member's role in an organization (MK.IO's names). */
export type Role = 'Admin' | 'Contributor' | 'Reader';
/** An organization's editable profile (migration 010); absent until first edited. */
export interface OrganizationProfileRow {
  organization_id: string;
  display_name: string;
  legal_entity_name: string | null;
  legal_entity_address: string | null;
  legal_entity_officer: string | null;
  legal_entity_contact_email: string | null;
  updated_at: string;
}
/** A pending invitation to an organization (accepted or declined ones are deleted). */
export interface OrganizationInviteRow {
  id: string;
  organization_id: string;
  email: string;
  role: Role;
  comment: string;
  /** JSON array of team names. */
  teams: string;
  invited_by_email: string;
  invited_by_name: string;
  /** sha256 (hex) of the one-time set-up code, for an invitation to an e-mail with no account yet. */
  setup_hash: string | null;
  created_at: string;
}
export interface TeamRow {
  id: string;
  organization_id: string;
  name: string;
  description: string;
  created_at: string;
  updated_at: string;
}
export interface TeamMemberRow {
  team_id: string;
  user_id: string;
  is_team_admin: number;
}
/** A role a team holds on a scope: `organization`, or a project's id. */
export interface TeamRoleRow {
  team_id: string;
  scope: string;
  role: Role;
}
export interface MembershipRow {
  user_id: string;
  organization_id: string;
  role: Role;
}
/** What an API token is for; each type has its own lifetime limit and permission rules (token-service.ts). */
export type TokenType = 'login' | 'full-access' | 'restricted' | 'ephemeral';
export interface TokenRow {
  id: string;
  user_id: string;
  organization_id: string;
  type: TokenType;
  description: string;
  secret_hash: string;
  permissions: string | null;
  issued_at: string;
  expires_at: string;
  last_used: string | null;
  revoked_at: string | null;
  revoked_by: string | null;
}
export interface SessionRow {
  id_hash: string;
  user_id: string;
  created_at: string;
  expires_at: string;
  /** The token `/auth/token/` issued to this session (id, and the JWT sealed with the secret key). */
  token_id: string | null;
  token_sealed: string | null;
}
export interface LoginThrottleRow {
  key: string;
  failures: number;
  window_start: string;
  blocked_until: string | null;
}
export interface SettingRow {
  key: string;
  value: string;
}
export interface StorageAccountRow {
  id: string;
  project_id: string;
  name: string;
  type: string;
  description: string;
  location: string;
  /** Non-secret settings (url, bucketName, path, endpoint…) as JSON. */
  config: string;
  created_at: string;
  created_by: string;
  created_by_id: string;
  updated_at: string;
  updated_by: string;
  updated_by_id: string;
}
export interface StorageCredentialRow {
  id: string;
  storage_account_id: string;
  /** The secret part, encrypted (see shared/secret-box.ts). */
  secret: string;
  /** What may be shown: SAS without `sig`, key id without the secret key. */
  sanitized: string;
  expires_at: string | null;
  created_at: string;
  created_by: string;
  created_by_id: string;
}
/** Whether deleting an asset removes its container too. */
export type ContainerDeletionPolicy = 'Delete' | 'Retain';
export type StorageEncryptionFormat = 'None' | 'MediaStorageClientEncryption';
export interface AssetRow {
  id: string;
  project_id: string;
  name: string;
  storage_account_id: string;
  storage_account_name: string;
  container: string;
  sub_path: string | null;
  description: string;
  alternate_id: string | null;
  container_deletion_policy: ContainerDeletionPolicy;
  storage_encryption_format: StorageEncryptionFormat;
  labels: string;
  created_at: string;
  created_by: string;
  updated_at: string;
  updated_by: string;
  /** Where the container physically lives (storage-location.ts); null only for rows the backfill could not place. */
  storage_location?: string | null;
}

interface Audited {
  created_at: string;
  created_by: string;
  updated_at: string;
  updated_by: string;
}
/** MK.IO's streaming endpoint states; Reel's own changes complete at once, so rows hold Running or Stopped. */
export type StreamingEndpointState = 'Stopped' | 'Starting' | 'Running' | 'Stopping' | 'Deleting' | 'Scaling';
export interface StreamingEndpointRow extends Audited {
  id: string;
  project_id: string;
  name: string;
  location: string;
  tags: string;
  /** The MK.IO `properties` the user set (description, scaleUnits, accessControl, crossSiteAccessPolicies…). */
  properties: string;
  resource_state: StreamingEndpointState;
}
export interface StreamingPolicyRow extends Audited {
  id: string;
  project_id: string;
  name: string;
  properties: string;
}
export interface StreamingLocatorRow extends Audited {
  id: string;
  project_id: string;
  name: string;
  locator_id: string;
  asset_id: string;
  asset_name: string;
  policy_name: string;
  start_time: string | null;
  end_time: string | null;
  /** Remaining MK.IO properties (filters, alternativeMediaId, defaultContentKeyPolicyName, suppressed…). */
  properties: string;
  /** JSON `StoredContentKey[]` (no values); null for a clear-only policy. Added by migration 007. */
  content_keys?: string | null;
  /** The keys' values, sealed (SecretBox): JSON `{[keyId]: base64}`. */
  content_key_values?: string | null;
}
/** A locator content key as stored in `content_keys`: everything but its value. */
export interface StoredContentKey {
  id: string;
  type: 'EnvelopeEncryption' | 'CommonEncryptionCenc' | 'CommonEncryptionCbcs';
  labelReferenceInStreamingPolicy: string;
  /** The policy resolved at creation (see shared/content-protection.ts); absent when none applies. */
  policyName?: string;
}
export interface ContentKeyPolicyRow extends Audited {
  id: string;
  project_id: string;
  name: string;
  /** The legacy `policyId` GUID MK.IO shows. */
  policy_id: string;
  /** MK.IO `properties` without created/lastModified/policyId, secrets replaced by null. */
  properties: string;
  /** The `options` with their secrets, sealed (SecretBox). */
  options_sealed: string;
}
export interface TransformRow extends Audited {
  id: string;
  project_id: string;
  name: string;
  description: string | null;
  /** MK.IO `outputs` (preset, onError, relativePriority) as JSON. */
  outputs: string;
}
export interface JobRow extends Audited {
  id: string;
  project_id: string;
  transform_id: string;
  transform_name: string;
  name: string;
  description: string | null;
  priority: string;
  /** JSON: `correlationData`, the MK.IO `input` as given, and the transform output copied at submission. */
  correlation_data: string;
  input: string;
  transform_output: string;
  output_asset_id: string;
  output_asset_name: string;
  output_label: string;
  /** MK.IO job state; the single output shares it. `progress` is 0–100. */
  state: JobState;
  progress: number;
  /** JSON `{code, message, category, retry}` when the job ended in Error. */
  error: string | null;
  start_time: string | null;
  end_time: string | null;
  /** JSON array of blob paths this job wrote (or began writing) into the output asset, for cleanup. */
  output_files: string;
}

/** A queued encoding job id (src/queue/drivers/sql-job-queue.ts); `priority` 0 High, 1 Normal, 2 Low. */
export interface JobQueueRow {
  job_id: string;
  priority: number;
  enqueued_at: string;
  /** Deliveries so far, and the fencing token of the current lease. */
  attempt: number;
  leased_by: string | null;
  lease_expires_at: string | null;
}

/** Response bytes the origin wrote for a project's streaming endpoint on a UTC day (`YYYY-MM-DD`). */
export interface UsageStreamedRow {
  project_id: string;
  endpoint_name: string;
  day: string;
  /** PostgreSQL returns bigint as text. */
  bytes: number | string;
}

/** Output seconds of one finished job in one resolution class (`SD`, `HD`, `UHD`, `Audio`), on its end day. */
export interface UsageEncodedRow {
  job_id: string;
  resolution_class: string;
  project_id: string;
  day: string;
  seconds: number;
}

/** An account filter (migration 012): `properties` is MK.IO's filter `properties` as JSON. */
export interface AccountFilterRow extends Audited {
  id: string;
  project_id: string;
  name: string;
  properties: string;
  /** A fresh id on every write: what the origin's caches key on (filter-lookup.ts). */
  revision: string;
}
/** An asset filter (migration 012); deleted with its asset. */
export interface AssetFilterRow extends AccountFilterRow {
  asset_id: string;
}

/** MK.IO's live event states (§15): the desired one the control plane wrote, or the one the runtime reached. */
export type LiveEventResourceState = 'Stopped' | 'Starting' | 'Running' | 'Stopping' | 'Deleting';
/** A live event (migration 013): `properties` is its MK.IO `properties` as stored, without computed fields. */
export interface LiveEventRow extends Audited {
  id: string;
  project_id: string;
  name: string;
  location: string;
  /** JSON map; `$label`/`$label_key` match it (MK.IO checks live event tags for them). */
  tags: string;
  properties: string;
  resource_state: LiveEventResourceState;
  /** `properties.encoding.encodingType` (also in `properties`), for lists. */
  encoding_type: string;
  /** `input.accessToken`: the RTMP path token or SRT passphrase, unique across projects. */
  access_token: string;
  /** `preview.previewLocator`, unique across projects. */
  preview_locator: string;
}
export type LiveOutputResourceState = 'Creating' | 'Running' | 'Deleting';
/** A live output (migration 013); deleted with its event. */
export interface LiveOutputRow extends Audited {
  id: string;
  project_id: string;
  event_id: string;
  name: string;
  /** The asset recorded into; one output per asset. */
  asset_id: string;
  asset_name: string;
  manifest_name: string;
  properties: string;
  resource_state: LiveOutputResourceState;
}

export interface Database {
  organizations: OrganizationRow;
  projects: ProjectRow;
  project_profiles: ProjectProfileRow;
  webhook_rules: WebhookRuleRow;
  webhook_events: WebhookEventRow;
  usage_streamed: UsageStreamedRow;
  usage_encoded: UsageEncodedRow;
  users: UserRow;
  memberships: MembershipRow;
  organization_profiles: OrganizationProfileRow;
  organization_invites: OrganizationInviteRow;
  teams: TeamRow;
  team_members: TeamMemberRow;
  team_roles: TeamRoleRow;
  api_tokens: TokenRow;
  sessions: SessionRow;
  login_throttle: LoginThrottleRow;
  settings: SettingRow;
  storage_accounts: StorageAccountRow;
  storage_credentials: StorageCredentialRow;
  assets: AssetRow;
  streaming_endpoints: StreamingEndpointRow;
  streaming_policies: StreamingPolicyRow;
  streaming_locators: StreamingLocatorRow;
  account_filters: AccountFilterRow;
  asset_filters: AssetFilterRow;
  live_events: LiveEventRow;
  live_outputs: LiveOutputRow;
  content_key_policies: ContentKeyPolicyRow;
  transforms: TransformRow;
  jobs: JobRow;
  job_queue: JobQueueRow;
}

export type Db = Kysely<Database>;
export type DialectName = 'sqlite' | 'postgres';

export interface OpenedDatabase {
  db: Db;
  dialect: DialectName;
}

/**
 * Kysely's SQLite driver prepares every query anew, which costs more than running it. Statements are
 * reusable in better-sqlite3 (it is synchronous, so no two executions overlap), so keep them by SQL text.
 */
function cachePreparedStatements(file: SQLite.Database): void {
  const prepare = file.prepare.bind(file);
  const cache = new Map<string, SQLite.Statement>();
  file.prepare = ((source: string) => {
    let statement = cache.get(source);
    if (!statement) {
      statement = prepare(source);
      if (cache.size >= 1000) cache.clear();
      cache.set(source, statement);
    }
    return statement;
  }) as typeof file.prepare;
}

/**
 * Opens PostgreSQL when a URL is given, else one SQLite file in the data dir (WAL, so readers never block). Driver
 * errors leave the store typed (store-errors.ts), so services never inspect pg or better-sqlite3 codes.
 */
export function openDatabase(options: { databaseUrl?: string; dataDir: string; onPoolError?: (err: Error) => void }): OpenedDatabase {
  if (options.databaseUrl) {
    // Loaded only for PostgreSQL: the embedded SQLite default never pays for the driver.
    const pg = createRequire(import.meta.url)('pg') as typeof pgTypes;
    const pool = new pg.Pool({ connectionString: options.databaseUrl, max: 10 });
    // An idle client dropped by the server (restart, failover) must not crash the process; the pool replaces it.
    pool.on('error', (err) => options.onPoolError?.(err));
    return { db: new Kysely<Database>({ dialect: withStoreErrors(new PostgresDialect({ pool })) }), dialect: 'postgres' };
  }
  fs.mkdirSync(options.dataDir, { recursive: true });
  const file = new SQLite(path.join(options.dataDir, 'reel.sqlite'));
  // The busy timeout first: another process (the origin processes read the main process's file) may hold a lock
  // while this connection switches to WAL.
  file.pragma('busy_timeout = 5000');
  file.pragma('journal_mode = WAL');
  file.pragma('synchronous = NORMAL');
  file.pragma('foreign_keys = ON');
  cachePreparedStatements(file);
  return { db: new Kysely<Database>({ dialect: withStoreErrors(new SqliteDialect({ database: file })) }), dialect: 'sqlite' };
}
