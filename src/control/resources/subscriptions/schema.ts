import { Type, type Static } from '@sinclair/typebox';
import type { ProjectRow } from '../../../store/database.js';
import type { MeterUsage } from './service.js';
import { nilId } from '../../../shared/ids.js';
import { reelLocation } from '../../../shared/locations.js';
import { toMkioTime } from '../../../shared/time.js';
import { mkioTime } from '../envelope.js';

/**
 * Wire shapes of the legacy account routes (§5.5, §5.6): subscriptions (Reel's projects), their usage, and
 * locations, in the `metadata`/`spec` form with `items` lists; and the v1 Management API's locations (`value`).
 */

const uuid = Type.String({ format: 'uuid' });
const nullableString = Type.Union([Type.String(), Type.Null()]);

export const subscriptionResponse = Type.Object({
  metadata: Type.Object({ id: uuid, created: mkioTime, updated: mkioTime }),
  spec: Type.Object({
    name: Type.String(),
    customerId: uuid,
    createdById: uuid,
    locationId: uuid,
    isActive: Type.Boolean(),
    projectSubscriptionId: uuid,
    productPublicationId: uuid,
    azureSubscriptionId: uuid,
    azureSubscriptionName: nullableString,
    azureSubscriptionStatus: nullableString,
    azureSubscriptionOfferId: nullableString,
    azureSubscriptionPlanId: nullableString,
  }),
});
export const subscriptionListResponse = Type.Object({ kind: Type.Literal('SubscriptionList'), items: Type.Array(subscriptionResponse) });

const meterItem = Type.Object({
  spec: Type.Object({ meterUnitId: uuid, meterUnitName: Type.String(), meterName: Type.String(), total: Type.Number() }),
});

/** `Kind` with a capital K is how MK.IO's .NET client reads it. */
export const usageResponse = Type.Object({
  Kind: Type.Literal('SubscriptionMeterUsage'),
  metadata: Type.Object({ accountId: uuid, subscriptionId: uuid, start: mkioTime, end: mkioTime }),
  spec: Type.Object({ items: Type.Array(meterItem) }),
});

const locationMetadata = Type.Object({ id: uuid, name: Type.String(), displayName: Type.String() });

export const legacyLocationResponse = Type.Object({
  metadata: locationMetadata,
  spec: Type.Object({
    customer: nullableString,
    extra_config: Type.Object({ cdnHostnames: Type.Object({}) }),
    meters: Type.Object({ egressMeterName: Type.String(), cdnEgressMeterName: nullableString }),
  }),
});
export const legacyLocationListResponse = Type.Object({ kind: Type.Literal('LocationList'), items: Type.Array(legacyLocationResponse) });

/** LocationSchema_v1 of MK.IO's Management API. */
export const v1LocationResponse = Type.Object({
  metadata: locationMetadata,
  spec: Type.Object({
    type: Type.Literal('SaaS'),
    cloud: Type.Object({
      name: Type.String(),
      displayName: Type.String(),
      region: Type.Object({ name: Type.String(), displayName: Type.String() }),
    }),
  }),
});
export const v1LocationListResponse = Type.Object({ kind: Type.Literal('LocationList'), value: Type.Array(v1LocationResponse) });

/** A project as MK.IO's legacy subscription. */
export function toWireSubscription(p: ProjectRow): Static<typeof subscriptionResponse> {
  return {
    // Reel keeps no separate update time for a project: its settings are fixed at creation.
    metadata: { id: p.id, created: toMkioTime(p.created_at), updated: toMkioTime(p.created_at) },
    spec: {
      name: p.name,
      customerId: p.organization_id,
      // Reel does not record who created a project, and no Azure Marketplace subscription stands behind one.
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
  };
}

export function toWireUsage(p: ProjectRow, usage: { start: Date; end: Date; meters: MeterUsage[] }): Static<typeof usageResponse> {
  return {
    Kind: 'SubscriptionMeterUsage',
    metadata: { accountId: p.organization_id, subscriptionId: p.id, start: toMkioTime(usage.start), end: toMkioTime(usage.end) },
    spec: { items: usage.meters.map((m) => ({ spec: { meterUnitId: m.id, meterUnitName: m.unit, meterName: m.name, total: m.total } })) },
  };
}

const locationView = { id: reelLocation.id, name: reelLocation.name, displayName: reelLocation.displayName };

export const legacyLocation: Static<typeof legacyLocationResponse> = {
  metadata: locationView,
  spec: { customer: null, extra_config: { cdnHostnames: {} }, meters: { egressMeterName: 'Streaming Egress', cdnEgressMeterName: null } },
};

export const v1Location: Static<typeof v1LocationResponse> = {
  metadata: locationView,
  spec: {
    type: 'SaaS',
    cloud: { name: 'self-hosted', displayName: 'Self-hosted', region: { name: reelLocation.name, displayName: reelLocation.displayName } },
  },
};
