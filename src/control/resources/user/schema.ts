import { Type, type Static } from '@sinclair/typebox';
import type { TokenRow } from '../../../store/database.js';
import type { PermissionMap } from '../../auth/principal.js';
import { toMkioTime } from '../../../shared/time.js';
import { mkioTime, openObject } from '../envelope.js';

/** Wire shapes of the caller's own profile, organizations and tokens (Management API, §5). */

export const tokenCreateBody = Type.Object(
  {
    type: Type.Union([Type.Literal('login'), Type.Literal('full-access'), Type.Literal('restricted'), Type.Literal('ephemeral')]),
    organizationId: Type.Optional(Type.String({ format: 'uuid' })),
    description: Type.Optional(Type.String({ maxLength: 128 })),
    expireDate: Type.Optional(Type.String({ format: 'date-time' })),
    permissions: Type.Optional(
      Type.Union([Type.Null(), Type.Record(Type.String(), Type.Record(Type.String(), Type.Record(Type.String(), Type.Array(Type.String()))))]),
    ),
  },
  { additionalProperties: false },
);

/** Profile fields MK.IO has (the .NET client's `UserProfileSpecV1`) that Reel does not keep: accepted only empty. */
export const unstoredProfileFields = ['company', 'country', 'jobRole', 'phoneNumber'] as const;
const optionalText = Type.Optional(Type.Union([Type.String({ maxLength: 1024 }), Type.Null()]));

/**
 * PATCH takes the name and the active organization, and also the whole profile a GET returned: its read-only
 * fields (`kind`, `metadata`, `loginEmail`, `contactEmail`, `avatar`, `isActive`, `features`) are accepted when
 * they equal what Reel shows (checked by the route), so a GET → edit → PATCH round trip works.
 */
export const profilePatchBody = Type.Object(
  {
    kind: Type.Optional(Type.String({ maxLength: 64 })),
    metadata: Type.Optional(Type.Object({ id: Type.Optional(Type.String({ maxLength: 64 })) }, { additionalProperties: false })),
    spec: Type.Object(
      {
        name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
        activeOrganizationId: Type.Optional(Type.String({ format: 'uuid' })),
        loginEmail: optionalText,
        contactEmail: optionalText,
        avatar: optionalText,
        isActive: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
        features: Type.Optional(Type.Union([Type.Object({}, { additionalProperties: true }), Type.Null()])),
        ...Object.fromEntries(unstoredProfileFields.map((f) => [f, optionalText])),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

export const profileResponse = Type.Object({
  kind: Type.Literal('UserProfile'),
  metadata: Type.Object({ id: Type.String() }),
  spec: Type.Object({
    activeOrganizationId: Type.String(),
    name: Type.String(),
    loginEmail: Type.String(),
    contactEmail: Type.String(),
    avatar: Type.String(),
    isActive: Type.Boolean(),
    features: openObject('Feature flags (none in Reel)'),
  }),
});

const tokenSpec = Type.Object({
  description: Type.String(),
  organizationId: Type.String(),
  user: Type.String(),
  issued: mkioTime,
  expires: mkioTime,
  lastUsed: Type.Union([Type.String(), Type.Null()]),
  revoked: Type.Union([mkioTime, Type.Null()]),
  permissions: Type.Optional(openObject('Restricted tokens: group → project → actions')),
  revokedBy: Type.Optional(Type.String()),
});

/** A token as read back: no JWT field, so the credential can only ever appear in the creation response. */
export const tokenResponse = Type.Object({
  kind: Type.Literal('UserToken'),
  metadata: Type.Object({ id: Type.String(), type: Type.String() }),
  spec: tokenSpec,
});
export const tokenListResponse = Type.Object({ kind: Type.Literal('UserTokenList'), value: Type.Array(tokenResponse) });

/** The creation response: the one place the JWT is sent. */
export const createdTokenResponse = Type.Object({
  kind: Type.Literal('UserToken'),
  metadata: Type.Object({ id: Type.String(), type: Type.String(), JWT: Type.String() }),
  spec: tokenSpec,
});

export type WireToken = Static<typeof tokenResponse>;
export type CreatedToken = Static<typeof createdTokenResponse>;

/** MK.IO token shape (§5.2); the JWT appears only in the creation response. */
export function toWireToken(row: TokenRow): WireToken;
export function toWireToken(row: TokenRow, jwt: string): CreatedToken;
export function toWireToken(row: TokenRow, jwt?: string): WireToken | CreatedToken {
  return {
    kind: 'UserToken',
    metadata: { id: row.id, type: row.type, ...(jwt ? { JWT: jwt } : {}) },
    spec: {
      description: row.description,
      organizationId: row.organization_id,
      user: row.user_id,
      issued: toMkioTime(row.issued_at),
      expires: toMkioTime(row.expires_at),
      lastUsed: row.last_used,
      revoked: row.revoked_at ? toMkioTime(row.revoked_at) : null,
      // MK.IO's schema has no null for these two: absent means none.
      ...(row.permissions ? { permissions: JSON.parse(row.permissions) as PermissionMap } : {}),
      ...(row.revoked_by ? { revokedBy: row.revoked_by } : {}),
    },
  };
}
