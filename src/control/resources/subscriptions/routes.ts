import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ProjectRow } from '../../../store/database.js';
import type { Principal } from '../../auth/principal.js';
import type { SubscriptionService } from './service.js';
import { notFound } from '../../../shared/errors.js';
import { nilId } from '../../../shared/ids.js';
import { reelLocation } from '../../../shared/locations.js';
import { toMkioTime } from '../../../shared/time.js';
import {
  legacyLocationListResponse,
  subscriptionListResponse,
  subscriptionResponse,
  usageResponse,
  v1LocationListResponse,
  v1LocationResponse,
} from './schema.js';

/**
 * MK.IO's account routes as its .NET client calls them on start-up (§5.5, §5.6): the caller's subscriptions
 * (Reel's projects) under its customer (organization) id, a subscription's usage, and the locations, legacy and
 * v1. A project is a subscription: its id is the `subscription_id` of `stats/` and of the legacy storage paths.
 */
export function registerSubscriptionRoutes(app: FastifyInstance, subscriptions: SubscriptionService): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const me = (p: Principal | undefined) => p as Principal;
  const customerParams = Type.Object({ customer: Type.String() });
  const subscriptionParams = Type.Object({ customer: Type.String(), subscription: Type.String() });

  const subscriptionView = (p: ProjectRow) => ({
    metadata: { id: p.id, created: toMkioTime(p.created_at), updated: toMkioTime(p.created_at) },
    spec: {
      name: p.name,
      customerId: p.organization_id,
      // Reel does not record who created a project, and has no Azure Marketplace subscription behind one.
      createdById: nilId,
      locationId: reelLocation.id,
      isActive: true,
      projectSubscriptionId: p.id,
      productPublicationId: nilId,
      azureSubscriptionId: nilId,
      azureSubscriptionName: null,
      azureSubscriptionStatus: null,
      azureSubscriptionOfferId: null,
      azureSubscriptionPlanId: null,
    },
  });

  r.get('/api/accounts/:customer/subscriptions', { schema: { params: customerParams, response: { 200: subscriptionListResponse } } }, async (req) => ({
    kind: 'SubscriptionList' as const,
    items: (await subscriptions.list(me(req.principal), req.params.customer)).map(subscriptionView),
  }));

  r.get('/api/accounts/:customer/subscriptions/:subscription', { schema: { params: subscriptionParams, response: { 200: subscriptionResponse } } }, async (req) =>
    subscriptionView(await subscriptions.get(me(req.principal), req.params.customer, req.params.subscription)),
  );

  r.get('/api/accounts/:customer/subscriptions/:subscription/usage', { schema: { params: subscriptionParams, response: { 200: usageResponse } } }, async (req) => {
    const project = await subscriptions.get(me(req.principal), req.params.customer, req.params.subscription);
    const usage = await subscriptions.usage(project);
    return {
      Kind: 'SubscriptionMeterUsage' as const,
      metadata: { accountId: project.organization_id, subscriptionId: project.id, start: toMkioTime(usage.start), end: toMkioTime(usage.end) },
      spec: { items: usage.meters.map((m) => ({ spec: { meterUnitId: m.id, meterUnitName: m.unit, meterName: m.name, total: m.total } })) },
    };
  });

  const metadata = { id: reelLocation.id, name: reelLocation.name, displayName: reelLocation.displayName };
  r.get('/api/locations', { schema: { response: { 200: legacyLocationListResponse } } }, async () => ({
    kind: 'LocationList' as const,
    items: [{ metadata, spec: { customer: null, extra_config: { cdnHostnames: {} }, meters: { egressMeterName: 'Streaming Egress', cdnEgressMeterName: null } } }],
  }));

  const v1Location = {
    metadata,
    spec: {
      type: 'SaaS' as const,
      cloud: { name: 'self-hosted', displayName: 'Self-hosted', region: { name: reelLocation.name, displayName: reelLocation.displayName } },
    },
  };
  r.get('/api/v1/locations', { schema: { response: { 200: v1LocationListResponse } } }, async () => ({ kind: 'LocationList' as const, value: [v1Location] }));
  r.get(
    '/api/v1/locations/:locationName',
    { schema: { params: Type.Object({ locationName: Type.String() }), response: { 200: v1LocationResponse } } },
    async (req) => {
      if (req.params.locationName.toLowerCase() !== reelLocation.name) throw notFound(`Location '${req.params.locationName}'`);
      return v1Location;
    },
  );
}
