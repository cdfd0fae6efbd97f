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
  publicUrl: ['REEL_PUBLIC_URL'],
  secretKey: ['REEL_SECRET_KEY'],
  logLevel: ['REEL_LOG_LEVEL'],
  ffprobePath: ['REEL_FFPROBE_PATH'],
  streamingDomain: ['REEL_STREAMING_DOMAIN'],
  segmentDurationSec: ['REEL_SEGMENT_DURATION'],
  segmentCacheMb: ['REEL_SEGMENT_CACHE_MB'],
  indexCacheMb: ['REEL_INDEX_CACHE_MB'],
  roles: ['REEL_ROLES'],
  workerConcurrency: ['REEL_WORKER_CONCURRENCY'],
  ffmpegPath: ['REEL_FFMPEG_PATH'],
  jobLeaseSec: ['REEL_JOB_LEASE_SEC'],
  workDir: ['REEL_WORK_DIR'],
  x264Preset: ['REEL_X264_PRESET'],
  jobHttpTimeoutSec: ['REEL_JOB_HTTP_TIMEOUT_SEC'],
  jobMaxInputMb: ['REEL_JOB_MAX_INPUT_MB'],
  jobHttpAllowPrivate: ['REEL_JOB_HTTP_ALLOW_PRIVATE'],
};

export class ConfigError extends Error {}

/** Reads, coerces and validates the environment; reports every bad variable at once. */
export function loadConfig(env: NodeJS.ProcessEnv): Readonly<Config> {
  const raw: Record<string, unknown> = {};
  for (const [key, names] of Object.entries(envNames)) {
    const name = names.find((n) => env[n] !== undefined && env[n] !== '');
    if (name) raw[key] = env[name];
  }
  const dataDir = path.resolve(String(raw.dataDir ?? './data'));
  raw.dataDir = dataDir;
  raw.localStorageRoots = typeof raw.localStorageRoots === 'string'
    ? raw.localStorageRoots.split(':').filter(Boolean).map((p) => path.resolve(p))
    : [path.join(dataDir, 'storage')];
  if (typeof raw.roles === 'string') raw.roles = [...new Set(raw.roles.split(',').map((r) => r.trim()).filter(Boolean))];
  raw.workDir = path.resolve(String(raw.workDir ?? path.join(dataDir, 'work')));
  const withDefaults = Value.Default(configSchema, Value.Convert(configSchema, raw));
  const errors = [...Value.Errors(configSchema, withDefaults)];
  if (errors.length > 0) {
    const lines = errors.map((e) => {
      const key = e.path.replace(/^\//, '').split('/')[0] as keyof Config;
      return `${envNames[key]?.[0] ?? key}: ${e.message}`;
    });
    throw new ConfigError(`invalid configuration:\n  ${[...new Set(lines)].join('\n  ')}`);
  }
  return Object.freeze(withDefaults as Config);
}
