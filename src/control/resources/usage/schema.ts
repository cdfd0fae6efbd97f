import { Type, type Static } from '@sinclair/typebox';

/**
 * Wire shapes of MK.IO's usage reports (Management API): `ProjectUsageReportSchema` of
 * `GET /api/v1/projects/{project}/usage` and `CustomerUsageQueryData` → `CustomerUsageDataJsonSchema` of
 * `POST /api/v1/organization/reports/usage`. Reel adds two optional fields to each row: `date` on the project
 * report's rows (MK.IO says they are per day but names no date) and `streamingEndpoint` on streaming rows.
 */

const isoDate = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' });

export const projectUsageRow = Type.Object({
  meterName: Type.String(),
  unit: Type.String(),
  solution: Type.String(),
  family: Type.String(),
  quantity: Type.Number(),
  date: Type.Optional(Type.String()),
  streamingEndpoint: Type.Optional(Type.String()),
});

export const projectUsageResponse = Type.Object({
  supplemental: Type.Object({ records: Type.Integer(), start: Type.String(), end: Type.String(), project: Type.String() }),
  value: Type.Array(projectUsageRow),
});
export type ProjectUsageResponse = Static<typeof projectUsageResponse>;

export const granularities = ['year', 'month', 'week', 'day', 'hour'] as const;
export type Granularity = (typeof granularities)[number];

export const usageQueryBody = Type.Object(
  {
    startDate: isoDate,
    endDate: isoDate,
    download: Type.Optional(Type.Boolean()),
    filterOnReportedDate: Type.Optional(Type.Boolean()),
    format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('csv')])),
    granularity: Type.Optional(Type.Union(granularities.map((g) => Type.Literal(g)))),
    groupBy: Type.Optional(Type.Array(Type.Literal('meter'), { maxItems: 8 })),
    meterNames: Type.Optional(Type.Array(Type.String({ maxLength: 128 }), { maxItems: 64 })),
    paymentMethodIds: Type.Optional(Type.Array(Type.String({ format: 'uuid' }), { maxItems: 64 })),
    projectNames: Type.Optional(Type.Array(Type.String({ maxLength: 128 }), { maxItems: 256 })),
  },
  { additionalProperties: false },
);
export type UsageQueryBody = Static<typeof usageQueryBody>;

const nullableString = Type.Union([Type.String(), Type.Null()]);

// Required fields first: the serializer writes required properties before optional ones.
export const meterDataRow = Type.Object({
  date: Type.String(),
  meterName: Type.String(),
  cost: Type.String(),
  currency: Type.String(),
  quantity: Type.Number(),
  dateProcessed: Type.Optional(nullableString),
  entitlement: Type.Optional(nullableString),
  entitlementType: Type.Optional(nullableString),
  family: Type.Optional(Type.String()),
  meterSku: Type.Optional(nullableString),
  paymentMethod: Type.Optional(Type.String()),
  paymentMethodName: Type.Optional(nullableString),
  price: Type.Optional(Type.Number()),
  project: Type.Optional(Type.String()),
  solution: Type.Optional(Type.String()),
  unit: Type.Optional(nullableString),
  streamingEndpoint: Type.Optional(Type.String()),
});
export type MeterDataRow = Static<typeof meterDataRow>;

export const organizationUsageResponse = Type.Object({
  supplemental: Type.Object({
    records: Type.Integer(),
    filters: Type.Object({
      paymentMethodIds: Type.Array(Type.String()),
      projectNames: Type.Array(Type.String()),
      meterNames: Type.Array(Type.String()),
    }),
    start: Type.String(),
    end: Type.String(),
    format: Type.String(),
    download: Type.Boolean(),
    granularity: Type.String(),
    groupBy: Type.Array(Type.String()),
  }),
  value: Type.Array(meterDataRow),
});
export type OrganizationUsageResponse = Static<typeof organizationUsageResponse>;
