import type { FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Db, DialectName } from '../store/database.js';
import type { Logger } from '../shared/log.js';
import type { MediaProber } from '../shared/media-probe.js';
import { createHttpServer } from './plugins/http-server.js';
import { installJsonBodyGuard } from './plugins/json-body.js';
import { docsCsp } from './plugins/security-headers.js';
import { createAuthenticate } from './plugins/authenticate.js';
import { createProjectScope } from './plugins/project-scope.js';
import type { AccountService } from './auth/account-service.js';
import type { TokenService } from './auth/token-service.js';
import type { SessionService } from './auth/session-service.js';
import type { SigningKeys } from './auth/signing-keys.js';
import { registerAuthRoutes } from './auth/routes.js';
import { registerConsole } from './console-static.js';
import type { StorageAccountService } from './resources/storage/service.js';
import { registerLegacyStorageRoutes, registerV1StorageRoutes } from './resources/storage/routes.js';
import { AssetService } from './resources/assets/service.js';
import { registerAssetRoutes } from './resources/assets/routes.js';
import { registerUserRoutes } from './resources/user/routes.js';
import { registerStatsRoutes } from './resources/stats/routes.js';
import { StatsService } from './resources/stats/service.js';
import { registerSubscriptionRoutes } from './resources/subscriptions/routes.js';
import { SubscriptionService } from './resources/subscriptions/service.js';
// Usage reports (metering).
import { UsageService } from './resources/usage/service.js';
import { registerOrganizationUsageRoutes, registerProjectUsageRoutes } from './resources/usage/routes.js';
import { registerFileRoutes } from './resources/files/routes.js';
import { StreamingEndpointService } from './resources/streaming-endpoints/service.js';
import { registerStreamingEndpointRoutes } from './resources/streaming-endpoints/routes.js';
import { StreamingPolicyService } from './resources/streaming-policies/service.js';
import { registerStreamingPolicyRoutes } from './resources/streaming-policies/routes.js';
import { StreamingLocatorService } from './resources/streaming-locators/service.js';
import { registerStreamingLocatorRoutes } from './resources/streaming-locators/routes.js';
import { locatorProperties } from './resources/streaming-locators/schema.js';
import type { FileGrants } from '../storage/file-grants.js';
import type { AccountStores } from '../storage/account-stores.js';
import type { JobQueue } from '../queue/job-queue.js';
import { TransformService, type PresetValidator } from './resources/transforms/service.js';
import { registerTransformRoutes } from './resources/transforms/routes.js';
import { JobService, type JobNotifications } from './resources/jobs/service.js';
import { ContentKeyPolicyService } from './resources/content-key-policies/service.js';
import { registerContentKeyPolicyRoutes } from './resources/content-key-policies/routes.js';
import type { SecretBox } from '../shared/secret-box.js';
import { registerJobRoutes } from './resources/jobs/routes.js';
import { ProjectService } from './resources/projects/service.js';
import { registerProjectRoutes } from './resources/projects/routes.js';
import { WebhookRuleService } from './resources/webhooks/service.js';
import { registerWebhookRoutes } from './resources/webhooks/routes.js';
import { registerInviteSetupRoute, registerOrganizationRoutes } from './resources/organization/routes.js';
import { TeamGrants } from './auth/team-grants.js';
import type { AddressPolicy } from '../shared/address-policy.js';
// Account and asset filters (issue 15).
import { FilterService, type AssetMediaDuration } from './resources/filters/service.js';
import { assetMediaDurationSec, ProbeCache } from './resources/assets/storage-listing.js';
import { LiveEventRepository } from '../store/live-event-repository.js';
import { registerFilterRoutes } from './resources/filters/routes.js';
// Live events and live outputs (issue 16).
import type { LiveEventControl } from './resources/live-events/live-event-control.js';
import { LiveEventService } from './resources/live-events/service.js';
import { registerLiveEventRoutes } from './resources/live-events/routes.js';
import { LiveOutputService } from './resources/live-outputs/service.js';
import { registerLiveOutputRoutes } from './resources/live-outputs/routes.js';

export interface ControlPlaneDeps {
  log: Logger;
  db: Db;
  dialect: DialectName;
  accounts: AccountService;
  tokens: TokenService;
  sessions: SessionService;
  keys: SigningKeys;
  /** Seals content key policy secrets and locator content keys at rest. */
  box: SecretBox;
  storage: StorageAccountService;
  /** Storage drivers by account (shared with the origin and the worker). */
  stores: AccountStores;
  grants: FileGrants;
  prober: MediaProber;
  publicUrl: () => string;
  internalUrl: () => string;
  secureCookies: boolean;
  /** Host that routes to a streaming endpoint: `{endpoint}-{project}.{streaming domain}`. */
  endpointHostName: (endpoint: string, project: string) => string;
  /** The streaming domain (`localhost:{port}` by default): the console's CSP lets it play from `*.{domain}`. */
  streamingDomain?: () => string;
  /** The streaming domain when one is configured (`REEL_STREAMING_DOMAIN`): live events' ingest host names live under it. */
  ingestDomain?: () => string | undefined;
  /** Registers playback routes (the media plane's origin) on the same server, when this process serves them. */
  registerMediaPlane?: (app: FastifyInstance) => Promise<void>;
  /** The encoding engine's preset check, asked before a transform is saved. */
  presets: PresetValidator;
  /** Where submitted jobs are enqueued. */
  queue: JobQueue;
  /** Hints to a worker in this process (job submitted, cancel requested). */
  jobNotifications?: JobNotifications;
  /** Where webhook rules may deliver (REEL_WEBHOOK_ALLOW_PRIVATE). */
  webhookPolicy: AddressPolicy;
  /** The live runtime as the live event service drives it (reconcile, health, ingest URLs). */
  liveControl: LiveEventControl;
  /** Whether RTMPS ingest has a certificate; RTMPS live events are refused without one. Default false. */
  rtmpsAvailable?: boolean;
  /** false when this process runs without the `api` role: only health and signed file routes are served. */
  serveApi?: boolean;
  /** false when this process runs without the `origin` role: `registerMediaPlane` is not called. */
  serveOrigin?: boolean;
}

/** The two path families every media resource answers on (§1.2); same handlers, same bodies. */
export const mediaPrefixes = ['/api/ams/:project', '/api/v1/projects/:project/media'] as const;

/** Builds the control plane: error handling, OpenAPI, public auth routes, then the token-protected API. */
export async function buildControlPlane(deps: ControlPlaneDeps): Promise<FastifyInstance> {
  const app = createHttpServer(deps.log);
  installJsonBodyGuard(app);

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'Reel API', version: '0.1.0', description: 'MK.IO-compatible media services API' },
      components: {
        securitySchemes: {
          BearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
          MkioToken: { type: 'apiKey', in: 'header', name: 'x-mkio-token' },
        },
      },
      security: [{ BearerAuth: [] }, { MkioToken: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/doc/ui', staticCSP: docsCsp });
  app.get('/doc/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  app.get('/health', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/api/ready', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  if (deps.serveApi !== false) registerAuthRoutes(app, deps);
  if (deps.serveApi !== false) await registerConsole(app, { streamingDomain: deps.streamingDomain });

  const assets = new AssetService(deps.db, deps.dialect, deps.storage, deps.stores, deps.log.child({ component: 'assets' }));
  const endpoints = new StreamingEndpointService(deps.db);
  const policies = new StreamingPolicyService(deps.db);
  const locators = new StreamingLocatorService(deps.db, assets, policies, deps.box);
  const keyPolicies = new ContentKeyPolicyService(deps.db, deps.box);
  const transforms = new TransformService(deps.db, deps.presets);
  // Live events and live outputs (issue 16).
  const liveEvents = new LiveEventService({
    db: deps.db,
    control: deps.liveControl,
    rtmpsAvailable: deps.rtmpsAvailable ?? false,
    ingestDomain: deps.ingestDomain,
    log: deps.log.child({ component: 'live-events' }),
  });
  const liveOutputs = new LiveOutputService(liveEvents, assets);
  // A preview plays from the project's default streaming endpoint, under the API's scheme.
  const previewEndpoints = (project: { name: string }, previewLocator: string) => [
    {
      protocol: 'FragmentedMP4',
      url: `${new URL(deps.publicUrl()).protocol}//${deps.endpointHostName('default', project.name)}/${previewLocator}/manifest.mpd`,
    },
  ];
  const stats = new StatsService(deps.db, endpoints);
  // Usage reports (metering): the legacy subscription usage reports the same numbers.
  const usage = new UsageService(deps.db, deps.accounts, deps.stores, deps.log.child({ component: 'usage' }));
  const subscriptions = new SubscriptionService(deps.accounts, usage);
  const jobs = new JobService({
    db: deps.db,
    transforms,
    assets,
    storage: deps.storage,
    queue: deps.queue,
    log: deps.log.child({ component: 'jobs' }),
    notify: deps.jobNotifications,
  });
  // Account and asset filters (issue 15).
  // An asset filter's time range is checked against the asset's media, probed as the storage listing does it.
  const filterProbes = new ProbeCache();
  const liveRecordings = new LiveEventRepository(deps.db);
  const assetLength: AssetMediaDuration = async (asset) => {
    if (await liveRecordings.findOutputByAsset(asset.id)) return undefined; // still growing
    try {
      const { store, account } = await assets.open(asset);
      const expires = Math.floor(Date.now() / 1000) + 600;
      return await assetMediaDurationSec({
        asset,
        store,
        accountId: account.row.id,
        prober: deps.prober,
        cache: filterProbes,
        log: deps.log,
        signedUrl: (blob) => deps.grants.signedUrl(deps.internalUrl(), { a: account.row.id, c: asset.container, p: blob, m: 'r', e: expires }),
      });
    } catch (err) {
      // Unreachable storage must not block saving a filter: its range is then applied at playback only.
      deps.log.warn({ err, assetId: asset.id }, 'asset length unknown; filter time range not checked against it');
      return undefined;
    }
  };
  const filters = new FilterService(deps.db, assets, assetLength);
  const webhookRules = new WebhookRuleService(deps.db, deps.box, deps.webhookPolicy);
  const authenticate = createAuthenticate(deps.tokens, deps.sessions, deps.publicUrl);
  const projectScope = createProjectScope(deps.accounts);
  const teamGrants = new TeamGrants(deps.db);
  // Organization administration's one public route: an invitee with no account sets it up from an invitation.
  if (deps.serveApi !== false) registerInviteSetupRoute(app, { db: deps.db, accounts: deps.accounts, tokens: deps.tokens, grants: teamGrants });
  const projects = new ProjectService(deps.db, deps.dialect, {
    storage: deps.storage,
    stores: deps.stores,
    log: deps.log.child({ component: 'projects' }),
    forget: projectScope.forget,
  });

  if (deps.serveApi !== false)
    await app.register(async (api) => {
      api.addHook('onRequest', authenticate);
      // Organization administration: team grants raise the caller's role (principal.ts), then its routes.
      api.addHook('onRequest', teamGrants.hook());
      registerOrganizationRoutes(api, { db: deps.db, accounts: deps.accounts, tokens: deps.tokens, grants: teamGrants });
      registerUserRoutes(api, deps.accounts, deps.tokens);
      registerProjectRoutes(api, projects);
      registerLegacyStorageRoutes(api, deps.storage, deps.accounts);
      registerSubscriptionRoutes(api, subscriptions);
      // Usage reports (metering).
      registerOrganizationUsageRoutes(api, usage);
      for (const prefix of mediaPrefixes) {
        await api.register(
          async (media) => {
            media.addHook('preValidation', projectScope);
            registerAssetRoutes(media, {
              assets,
              grants: deps.grants,
              prober: deps.prober,
              publicUrl: deps.publicUrl,
              internalUrl: deps.internalUrl,
              log: deps.log,
              locatorsOf: async (asset) =>
                (await locators.list(asset.project_id, { assetId: asset.id })).map((l) => ({ name: l.name, ...locatorProperties(l) })),
              isJobOutputPending: (asset) => jobs.isWritingInto(asset.id),
            });
            registerStreamingEndpointRoutes(media, { endpoints, hostName: deps.endpointHostName });
            registerStreamingPolicyRoutes(media, policies);
            registerStreamingLocatorRoutes(media, { locators, assets, policies });
            registerContentKeyPolicyRoutes(media, keyPolicies);
            registerTransformRoutes(media, { transforms, jobs });
            registerJobRoutes(media, { jobs, transforms });
            registerStatsRoutes(media, stats);
            // Account and asset filters (issue 15).
            registerFilterRoutes(media, filters);
            // Live events and live outputs (issue 16).
            registerLiveEventRoutes(media, { events: liveEvents, previewEndpoints });
            registerLiveOutputRoutes(media, liveOutputs);
            if (prefix.startsWith('/api/v1')) registerV1StorageRoutes(media, deps.storage);
          },
          { prefix },
        );
      }
      // Management API resources of a project (outside its `/media` part), scoped like the media ones.
      await api.register(
        async (management) => {
          management.addHook('preValidation', projectScope);
          registerWebhookRoutes(management, webhookRules);
          // Usage reports (metering).
          registerProjectUsageRoutes(management, usage);
        },
        { prefix: '/api/v1/projects/:project' },
      );
    });

  await app.register(async (files) => registerFileRoutes(files, deps.stores, deps.grants));
  if (deps.registerMediaPlane && deps.serveOrigin !== false) await deps.registerMediaPlane(app);
  return app;
}
