import { Type, type Static } from '@sinclair/typebox';

/** Every setting Reel reads, with its default and meaning. `loadConfig` is the only reader of the environment. */
export const configSchema = Type.Object({
  port: Type.Integer({ minimum: 0, maximum: 65535, default: 8080, description: 'PORT: TCP port to listen on (0 = any free port)' }),
  host: Type.String({ default: '127.0.0.1', description: 'HOST: interface to listen on' }),
  dataDir: Type.String({ default: './data', description: 'REEL_DATA_DIR: where the SQLite database, keys and local storage live' }),
  databaseUrl: Type.Optional(Type.String({ description: 'DATABASE_URL: postgres://… to use PostgreSQL; unset = SQLite in the data dir' })),
  adminEmail: Type.String({ default: 'admin@localhost', description: 'REEL_ADMIN_EMAIL: e-mail of the admin created on first start' }),
  adminPassword: Type.Optional(
    Type.String({ minLength: 8, description: 'REEL_ADMIN_PASSWORD: admin password on first start; unset = generated and printed once' }),
  ),
  localStorageRoots: Type.Array(Type.String(), {
    description: 'REEL_LOCAL_STORAGE_ROOTS: colon-separated directories Local storage accounts may use; default $REEL_DATA_DIR/storage',
  }),
  localStorageGrants: Type.Array(Type.Object({ project: Type.String(), path: Type.String() }), {
    default: [],
    description:
      "REEL_LOCAL_STORAGE_GRANTS: extra directories bound to one project each, as `project=/abs/dir;other=/abs/dir2` (never a root or a directory containing one); a project's Local accounts may use `<root>/<project>` under every root (unless granted to another project) and its grants",
  }),
  storageAllowPrivate: Type.Boolean({
    default: false,
    description: 'REEL_STORAGE_ALLOW_PRIVATE: let Azure and S3 storage accounts reach this machine and private networks (closed networks only)',
  }),
  storageAllowedHosts: Type.Array(Type.String({ minLength: 1 }), {
    default: [],
    description:
      'REEL_STORAGE_ALLOWED_HOSTS: comma-separated `host` or `host:port` that storage accounts may reach even on private addresses (e.g. a local MinIO or Azurite)',
  }),
  publicUrl: Type.Optional(Type.String({ description: 'REEL_PUBLIC_URL: the URL clients reach this server at (used in signed URLs and links)' })),
  secretKey: Type.Optional(
    Type.String({
      minLength: 32,
      description: 'REEL_SECRET_KEY: key that encrypts storage credentials at rest and signs file URLs; unset = generated into the data dir',
    }),
  ),
  logLevel: Type.Union(
    [
      Type.Literal('fatal'),
      Type.Literal('error'),
      Type.Literal('warn'),
      Type.Literal('info'),
      Type.Literal('debug'),
      Type.Literal('trace'),
      Type.Literal('silent'),
    ],
    { default: 'info', description: 'REEL_LOG_LEVEL: pino log level' },
  ),
  streamingDomain: Type.Optional(
    Type.String({
      description:
        'REEL_STREAMING_DOMAIN: domain of streaming endpoint hosts `{endpoint}-{project}.{domain}`; default localhost:{PORT}, or localhost:{REEL_ORIGIN_PORT} with origin processes (*.localhost resolves to this machine)',
    }),
  ),
  segmentDurationSec: Type.Number({
    minimum: 1,
    maximum: 30,
    default: 2,
    description: 'REEL_SEGMENT_DURATION: target segment duration in seconds for just-in-time packaging',
  }),
  segmentCacheMb: Type.Integer({
    minimum: 0,
    maximum: 65536,
    default: 32,
    description: 'REEL_SEGMENT_CACHE_MB: memory for packaged segments the origin keeps (popular ones stay; misses are read straight from storage)',
  }),
  indexCacheMb: Type.Integer({
    minimum: 1,
    maximum: 65536,
    default: 64,
    description: 'REEL_INDEX_CACHE_MB: memory for parsed MP4 indexes (moov sample tables) kept by the origin',
  }),
  originProcesses: Type.Integer({
    minimum: 1,
    maximum: 64,
    default: 1,
    description:
      'REEL_ORIGIN_PROCESSES: processes serving playback; 1 = this process only, N ≥ 2 = also N origin-only processes sharing REEL_ORIGIN_PORT (each with 1/N of the segment and index caches)',
  }),
  originPort: Type.Optional(
    Type.Integer({
      minimum: 0,
      maximum: 65535,
      description: 'REEL_ORIGIN_PORT: port the origin-only processes share (REEL_ORIGIN_PROCESSES ≥ 2); default PORT+1, 0 = any free port',
    }),
  ),
  ffprobePath: Type.String({ default: 'ffprobe', description: 'REEL_FFPROBE_PATH: ffprobe binary used to read tracks from media files' }),
  roles: Type.Array(Type.Union([Type.Literal('api'), Type.Literal('origin'), Type.Literal('worker')]), {
    minItems: 1,
    default: ['api', 'origin', 'worker'],
    description: 'REEL_ROLES: comma-separated roles this process plays: api (REST API), origin (playback), worker (encoding jobs)',
  }),
  workerConcurrency: Type.Integer({ minimum: 1, maximum: 64, default: 1, description: 'REEL_WORKER_CONCURRENCY: encoding jobs a worker process runs at once' }),
  ffmpegPath: Type.String({ default: 'ffmpeg', description: 'REEL_FFMPEG_PATH: ffmpeg binary the worker encodes with' }),
  jobLeaseSec: Type.Integer({
    minimum: 2,
    maximum: 3600,
    default: 30,
    description: 'REEL_JOB_LEASE_SEC: seconds a worker holds a job without a heartbeat before another worker may take it over',
  }),
  x264Preset: Type.Union(
    ['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium', 'slow', 'slower', 'veryslow'].map((p) => Type.Literal(p)),
    { default: 'veryfast', description: 'REEL_X264_PRESET: x264 speed preset for built-in presets (slower = smaller files at the same quality)' },
  ),
  jobHttpTimeoutSec: Type.Integer({
    minimum: 1,
    maximum: 3600,
    default: 30,
    description: 'REEL_JOB_HTTP_TIMEOUT_SEC: a JobInputHttp server silent this long fails the job',
  }),
  jobMaxInputMb: Type.Optional(Type.Integer({ minimum: 1, description: 'REEL_JOB_MAX_INPUT_MB: largest job input accepted; unset = no limit' })),
  jobHttpAllowPrivate: Type.Boolean({
    default: false,
    description: 'REEL_JOB_HTTP_ALLOW_PRIVATE: let JobInputHttp URLs reach this machine and private networks (closed networks only)',
  }),
  keyDeliveryAllowPrivate: Type.Boolean({
    default: false,
    description:
      "REEL_KEY_DELIVERY_ALLOW_PRIVATE: let key delivery fetch a token restriction's openIdConnectDiscoveryDocument (and its jwks_uri) from this machine and private networks (closed networks only)",
  }),
  webhookAllowPrivate: Type.Boolean({
    default: false,
    description: 'REEL_WEBHOOK_ALLOW_PRIVATE: let webhook rules deliver to this machine and private networks (closed networks only)',
  }),
  webhookRetryBaseMs: Type.Integer({
    minimum: 10,
    maximum: 3_600_000,
    default: 5000,
    description: 'REEL_WEBHOOK_RETRY_BASE_MS: wait before the first retry of a failed webhook delivery; doubles per attempt (capped at 1 hour)',
  }),
  webhookMaxAttempts: Type.Integer({
    minimum: 1,
    maximum: 50,
    default: 10,
    description: 'REEL_WEBHOOK_MAX_ATTEMPTS: deliveries tried per event before it is marked Failed',
  }),
  liveRtmpPort: Type.Integer({
    minimum: 0,
    maximum: 65535,
    default: 1935,
    description: 'REEL_LIVE_RTMP_PORT: TCP port of the RTMP ingest listener every live event shares (0 = any free port)',
  }),
  liveRtmpHost: Type.String({ default: '127.0.0.1', description: 'REEL_LIVE_RTMP_HOST: interface the RTMP, RTMPS and SRT ingest listeners listen on' }),
  liveRtmpsPort: Type.Integer({
    minimum: 0,
    maximum: 65535,
    default: 1936,
    description: 'REEL_LIVE_RTMPS_PORT: TCP port of the RTMPS (RTMP over TLS) ingest listener, which runs only when both certificate files are set',
  }),
  liveRtmpsCertFile: Type.Optional(
    Type.String({ description: 'REEL_LIVE_RTMPS_CERT_FILE: PEM certificate (chain) of the RTMPS ingest listener; unset = no RTMPS' }),
  ),
  liveRtmpsKeyFile: Type.Optional(Type.String({ description: 'REEL_LIVE_RTMPS_KEY_FILE: PEM private key of the RTMPS ingest listener; unset = no RTMPS' })),
  liveSrtPort: Type.Integer({
    minimum: 0,
    maximum: 65535,
    default: 6000,
    description:
      'REEL_LIVE_SRT_PORT: UDP port of the SRT ingest listener every live event with SRT input shares, the event found by the passphrase (0 = any free port; REEL_LIVE_SRT_PORT_BASE is read as an older name of it)',
  }),
  liveSpoolDir: Type.String({
    description: 'REEL_LIVE_SPOOL_DIR: where running live events write their fragments (the DVR window is read from here); default $REEL_DATA_DIR/live',
  }),
  liveSpoolChunkSec: Type.Integer({
    minimum: 1,
    maximum: 3600,
    default: 60,
    description:
      'REEL_LIVE_SPOOL_CHUNK_SEC: length of a live spool chunk file, seconds: a running event deletes whole chunks older than every window it serves, so its disk use exceeds the longest window by up to one chunk',
  }),
  livePreviewWindowSec: Type.Integer({
    minimum: 10,
    maximum: 90000,
    default: 300,
    description: "REEL_LIVE_PREVIEW_WINDOW_SEC: DVR window of a live event's preview locator, seconds (the spool keeps at least this much)",
  }),
  liveX264Preset: Type.Union(
    ['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium'].map((p) => Type.Literal(p)),
    { default: 'veryfast', description: 'REEL_LIVE_X264_PRESET: x264 speed preset of live transcoding (Standard, Premium1080p): it must keep up in real time' },
  ),
  liveMaxRungs: Type.Integer({
    minimum: 1,
    maximum: 8,
    default: 8,
    description: 'REEL_LIVE_MAX_RUNGS: at most this many video rungs per transcoded live event (the ladder is cut from the top rung down)',
  }),
  workDir: Type.String({ description: 'REEL_WORK_DIR: scratch directory for encoding outputs before upload; default $REEL_DATA_DIR/work' }),
});

export type Config = Static<typeof configSchema>;
