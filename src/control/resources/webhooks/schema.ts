import { Type, type Static } from '@sinclair/typebox';
import { webhookEventTypes } from '../../../shared/webhook-events.js';
import { listBodySchema } from '../paging.js';

/** Wire shapes of webhook rules (MK.IO Management API `WebhookRule*` schemas) and their events. */

export const webhookRuleName = Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$' });
export const ruleParams = Type.Object({ project: Type.String(), name: webhookRuleName });

/** HTTP header names (RFC 9110 tokens) to string values without line breaks. */
const headerMap = Type.Record(
  Type.String({ pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$" }),
  Type.String({ maxLength: 4096, pattern: '^[^\\r\\n\\u0000]*$' }),
  {
    maxProperties: 32,
  },
);
const queryMap = Type.Record(Type.String({ minLength: 1, maxLength: 256 }), Type.String({ maxLength: 4096 }), { maxProperties: 32 });

export const ruleBody = Type.Object(
  {
    spec: Type.Object(
      {
        url: Type.String({ minLength: 1, maxLength: 2048 }),
        enabled: Type.Boolean(),
        events: Type.Array(Type.Union(webhookEventTypes.map((t) => Type.Literal(t))), { minItems: 1, maxItems: webhookEventTypes.length, uniqueItems: true }),
        headers: Type.Optional(headerMap),
        queryParams: Type.Optional(queryMap),
        authentication: Type.Optional(
          Type.Object({ headers: Type.Optional(headerMap), queryParams: Type.Optional(queryMap) }, { additionalProperties: false }),
        ),
        // Reel: the HMAC key of the signature header. Write-only; generated (and shown once) when a rule is made without one.
        signingSecret: Type.Optional(Type.String({ minLength: 16, maxLength: 256 })),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type RuleBody = Static<typeof ruleBody>;

export const ruleResponse = Type.Object({
  metadata: Type.Object({ id: Type.String(), name: Type.String() }),
  spec: Type.Object({
    url: Type.String(),
    enabled: Type.Boolean(),
    events: Type.Array(Type.String()),
    headers: Type.Record(Type.String(), Type.String()),
    queryParams: Type.Record(Type.String(), Type.String()),
    signingSecret: Type.Optional(Type.String()),
  }),
});
export const ruleListResponse = Type.Object({ value: Type.Array(ruleResponse) });

export const eventResponse = Type.Object({
  id: Type.String(),
  created: Type.String(),
  status: Type.String(),
  source: Type.String(),
  type: Type.String(),
  attempts: Type.Integer(),
  history: Type.Array(Type.Object({ at: Type.String(), statusCode: Type.Optional(Type.Integer()), error: Type.Optional(Type.String()) })),
});
export const eventListResponse = listBodySchema(eventResponse);
