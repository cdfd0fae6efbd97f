import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Principal } from '../../auth/principal.js';
import type { SubscriptionService } from './service.js';
import { notFound } from '../../../shared/errors.js';
import { reelLocation } from '../../../shared/locations.js';
import {
  legacyLocation,
  legacyLocationListResponse,
  subscriptionListResponse,
  subscriptionResponse,
  toWireSubscription,
  toWireUsage,
  usageResponse,
  v1Location,
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

  r.get('/api/accounts/:customer/subscriptions', { schema: { params: customerParams, response: { 200: subscriptionListResponse } } }, async (req) => ({
    kind: 'SubscriptionList' as const,
    items: (await subscriptions.list(me(req.principal), req.params.customer)).map(toWireSubscription),
  }));

  r.get(
    '/api/accounts/:customer/subscriptions/:subscription',
    { schema: { params: subscriptionParams, response: { 200: subscriptionResponse } } },
    async (req) => toWireSubscription(await subscriptions.get(me(req.principal), req.params.customer, req.params.subscription)),
  );

  r.get(
    '/api/accounts/:customer/subscriptions/:subscription/usage',
    { schema: { params: subscriptionParams, response: { 200: usageResponse } } },
    async (req) => {
      const project = await subscriptions.get(me(req.principal), req.params.customer, req.params.subscription);
      return toWireUsage(project, await subscriptions.usage(project));
    },
  );

  r.get('/api/locations', { schema: { response: { 200: legacyLocationListResponse } } }, async () => ({
    kind: 'LocationList' as const,
    items: [legacyLocation],
  }));
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
