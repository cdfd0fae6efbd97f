import path from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { configSchema, type Config } from './schema.js';

/** Maps each config key to the environment variables that set it, first match wins. */
const envNames: Record<keyof Config, string[]> = {
  port: ['PORT', 'REEL_PORT'],
  host: ['HOST', 'REEL_HOST'],
  dataDir: ['REEL_DATA_DIR'],
  databaseUrl: ['DATABASE_URL', 'REEL_DATABASE_URL'],
  adminEmail: ['REEL_ADMIN_EMAIL'],
  adminPassword: ['REEL_ADMIN_PASSWORD'],
  localStorageRoots: ['REEL_LOCAL_STORAGE_ROOTS'],
  localStorageGrants: ['REEL_LOCAL_STORAGE_GRANTS'],
  storageAllowPrivate: ['REEL_STORAGE_ALLOW_PRIVATE'],
  storageAllowedHosts: ['REEL_STORAGE_ALLOWED_HOSTS'],
  publicUrl: ['REEL_PUBLIC_URL'],
  secretKey: ['REEL_SECRET_KEY'],
  logLevel: ['REEL_LOG_LEVEL'],
  ffprobePath: ['REEL_FFPROBE_PATH'],
  streamingDomain: ['REEL_STREAMING_DOMAIN'],
  segmentDurationSec: ['REEL_SEGMENT_DURATION'],
  segmentCacheMb: ['REEL_SEGMENT_CACHE_MB'],
  indexCacheMb: ['REEL_INDEX_CACHE_MB'],
  originProcesses: ['REEL_ORIGIN_PROCESSES'],
  originPort: ['REEL_ORIGIN_PORT'],
  roles: ['REEL_ROLES'],
  workerConcurrency: ['REEL_WORKER_CONCURRENCY'],
  ffmpegPath: ['REEL_FFMPEG_PATH'],
  jobLeaseSec: ['REEL_JOB_LEASE_SEC'],
  workDir: ['REEL_WORK_DIR'],
  x264Preset: ['REEL_X264_PRESET'],
  jobHttpTimeoutSec: ['REEL_JOB_HTTP_TIMEOUT_SEC'],
  jobMaxInputMb: ['REEL_JOB_MAX_INPUT_MB'],
  jobHttpAllowPrivate: ['REEL_JOB_HTTP_ALLOW_PRIVATE'],
  keyDeliveryAllowPrivate: ['REEL_KEY_DELIVERY_ALLOW_PRIVATE'],
  webhookAllowPrivate: ['REEL_WEBHOOK_ALLOW_PRIVATE'],
  webhookRetryBaseMs: ['REEL_WEBHOOK_RETRY_BASE_MS'],
  webhookMaxAttempts: ['REEL_WEBHOOK_MAX_ATTEMPTS'],
  liveRtmpPort: ['REEL_LIVE_RTMP_PORT'],
  liveRtmpHost: ['REEL_LIVE_RTMP_HOST'],
  liveRtmpsPort: ['REEL_LIVE_RTMPS_PORT'],
  liveRtmpsCertFile: ['REEL_LIVE_RTMPS_CERT_FILE'],
  liveRtmpsKeyFile: ['REEL_LIVE_RTMPS_KEY_FILE'],
  liveSrtPort: ['REEL_LIVE_SRT_PORT', 'REEL_LIVE_SRT_PORT_BASE'],
  liveSpoolDir: ['REEL_LIVE_SPOOL_DIR'],
  liveSpoolChunkSec: ['REEL_LIVE_SPOOL_CHUNK_SEC'],
  livePreviewWindowSec: ['REEL_LIVE_PREVIEW_WINDOW_SEC'],
  liveX264Preset: ['REEL_LIVE_X264_PRESET'],
  liveMaxRungs: ['REEL_LIVE_MAX_RUNGS'],
};

export class ConfigError extends Error {}

/** `a` is `b` or lies below it, or the other way round (both absolute and normalised). */
function overlaps(a: string, b: string): boolean {
  const inside = (parent: string, child: string) => child === parent || child.startsWith(parent.endsWith(path.sep) ? parent : parent + path.sep);
  return inside(a, b) || inside(b, a);
}

/**
 * `project=/abs/dir;other=/abs/dir2`. A grant may not be or contain a root (it would hold every project's area)
 * nor overlap another project's grant. A grant inside a root (how an install from before per-project areas keeps
 * an account at `<root>/vod`) takes that directory away from the project the area would belong to
 * (local-areas.ts), so no directory is ever reachable from two projects.
 */
function parseGrants(raw: string, roots: string[]): { grants: Array<{ project: string; path: string }>; errors: string[] } {
  const grants: Array<{ project: string; path: string }> = [];
  const errors: string[] = [];
  for (const entry of raw
    .split(';')
    .map((e) => e.trim())
    .filter(Boolean)) {
    const eq = entry.indexOf('=');
    const project = eq > 0 ? entry.slice(0, eq).trim() : '';
    const dir = eq > 0 ? entry.slice(eq + 1).trim() : '';
    // The project name is only compared, never joined into a path, so any name a project can have is fine.
    if (project === '' || !path.isAbsolute(dir)) {
      errors.push(`REEL_LOCAL_STORAGE_GRANTS: '${entry}' is not project=/absolute/directory`);
      continue;
    }
    const resolved = path.resolve(dir);
    const root = roots.find((r) => r === resolved || r.startsWith(resolved.endsWith(path.sep) ? resolved : resolved + path.sep));
    if (root)
      errors.push(`REEL_LOCAL_STORAGE_GRANTS: '${resolved}' is or contains the storage root '${root}', whose sub-directories are every project's own areas`);
    const other = grants.find((g) => g.project !== project && overlaps(g.path, resolved));
    if (other) errors.push(`REEL_LOCAL_STORAGE_GRANTS: '${resolved}' overlaps '${other.path}', granted to project '${other.project}'`);
    grants.push({ project, path: resolved });
  }
  return { grants, errors };
}

/** The port the origin processes share (REEL_ORIGIN_PROCESSES ≥ 2): as set, else PORT+1, or any free port when PORT is 0. */
export function originPortOf(config: Pick<Config, 'port' | 'originPort'>): number {
  return config.originPort ?? (config.port === 0 ? 0 : config.port + 1);
}

/** Origin processes need the origin role and a port of their own. */
function originPortProblems(config: Config): string[] {
  if (config.originProcesses < 2) return [];
  if (!config.roles.includes('origin')) return ['REEL_ORIGIN_PROCESSES: origin processes serve playback, so REEL_ROLES must include origin'];
  const port = originPortOf(config);
  if (port > 65535) return [`REEL_ORIGIN_PORT: PORT+1 (${port}) is not a port; set REEL_ORIGIN_PORT`];
  if (port !== 0 && port === config.port) return [`REEL_ORIGIN_PORT: ${port} is PORT itself; the origin processes need a port of their own`];
  return [];
}

/** RTMPS needs both its certificate and its key; one without the other is a mistake, not "no RTMPS". */
function rtmpsProblems(config: Config): string[] {
  if ((config.liveRtmpsCertFile === undefined) === (config.liveRtmpsKeyFile === undefined)) return [];
  return ['REEL_LIVE_RTMPS_CERT_FILE, REEL_LIVE_RTMPS_KEY_FILE: RTMPS needs both the certificate and the key file (or neither)'];
}

/** Reads, coerces and validates the environment (the process's own unless given); reports every bad variable at once. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Readonly<Config> {
  const raw: Record<string, unknown> = {};
  for (const [key, names] of Object.entries(envNames)) {
    const name = names.find((n) => env[n] !== undefined && env[n] !== '');
    if (name) raw[key] = env[name];
  }
  const dataDir = path.resolve(String(raw.dataDir ?? './data'));
  raw.dataDir = dataDir;
  raw.localStorageRoots =
    typeof raw.localStorageRoots === 'string'
      ? raw.localStorageRoots
          .split(':')
          .filter(Boolean)
          .map((p) => path.resolve(p))
      : [path.join(dataDir, 'storage')];
  const configErrors: string[] = [];
  const roots = raw.localStorageRoots as string[];
  for (const [i, root] of roots.entries()) {
    const other = roots.slice(i + 1).find((r) => overlaps(r, root));
    // A root inside another would be one project's area there and every project's parent here.
    if (other) configErrors.push(`REEL_LOCAL_STORAGE_ROOTS: '${root}' and '${other}' overlap; the roots must be separate directories`);
  }
  if (typeof raw.localStorageGrants === 'string') {
    const { grants, errors } = parseGrants(raw.localStorageGrants, raw.localStorageRoots as string[]);
    raw.localStorageGrants = grants;
    configErrors.push(...errors);
  }
  if (typeof raw.storageAllowedHosts === 'string') {
    raw.storageAllowedHosts = raw.storageAllowedHosts
      .split(',')
      .map((h) => h.trim().toLowerCase())
      .filter(Boolean);
  }
  if (typeof raw.roles === 'string')
    raw.roles = [
      ...new Set(
        raw.roles
          .split(',')
          .map((r) => r.trim())
          .filter(Boolean),
      ),
    ];
  raw.workDir = path.resolve(String(raw.workDir ?? path.join(dataDir, 'work')));
  raw.liveSpoolDir = path.resolve(String(raw.liveSpoolDir ?? path.join(dataDir, 'live')));
  const withDefaults = Value.Default(configSchema, Value.Convert(configSchema, raw));
  const errors = [...Value.Errors(configSchema, withDefaults)];
  if (errors.length === 0) configErrors.push(...originPortProblems(withDefaults as Config), ...rtmpsProblems(withDefaults as Config));
  if (errors.length > 0 || configErrors.length > 0) {
    const lines = [
      ...configErrors,
      ...errors.map((e) => {
        const key = e.path.replace(/^\//, '').split('/')[0] as keyof Config;
        return `${envNames[key]?.[0] ?? key}: ${e.message}`;
      }),
    ];
    throw new ConfigError(`invalid configuration:\n  ${[...new Set(lines)].join('\n  ')}`);
  }
  return Object.freeze(withDefaults as Config);
}
