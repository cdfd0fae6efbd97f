import { Type, type Static } from '@sinclair/typebox';
import { mkioTime } from '../envelope.js';

/**
 * Wire shapes of organization administration (Management API `/api/v1/organization…` and the invitation side of
 * `/api/v1/user/organizations…`), after MK.IO's OrganizationSchema, UserBriefSchema, InviteGetSchema,
 * RoleGetSchema, ScopeGetSchema and TeamGetSchema. Where Reel adds a field it says so.
 */

const roleName = Type.Union([Type.Literal('Admin'), Type.Literal('Contributor'), Type.Literal('Reader')]);
// Null first: with type coercion on, a String branch first would turn `null` into "".
const nullableText = (maxLength: number) => Type.Optional(Type.Union([Type.Null(), Type.String({ maxLength })]));

const organizationSpecFields = {
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  legalEntityName: nullableText(256),
  legalEntityAddress: nullableText(1024),
  legalEntityOfficer: nullableText(256),
  legalEntityContactEmail: nullableText(256),
};

/** PATCH takes `spec`; `kind` and `metadata` of a GET are accepted and ignored (read-only), so a round trip works. */
export const organizationPatchBody = Type.Object(
  {
    kind: Type.Optional(Type.String({ maxLength: 64 })),
    metadata: Type.Optional(Type.Object({}, { additionalProperties: true })),
    spec: Type.Object(organizationSpecFields, { additionalProperties: false }),
  },
  { additionalProperties: false },
);
export type OrganizationPatchBody = Static<typeof organizationPatchBody>;

export const organizationResponse = Type.Object({
  kind: Type.Literal('Organization'),
  metadata: Type.Object({
    id: Type.String(),
    name: Type.String(),
    created: mkioTime,
    updated: mkioTime,
    isActive: Type.Boolean(),
    createdById: Type.String(),
    createdBy: Type.String(),
    createdByName: Type.String(),
    createdByEmail: Type.String(),
  }),
  spec: Type.Object({
    name: Type.String(),
    legalEntityName: Type.Union([Type.String(), Type.Null()]),
    legalEntityAddress: Type.Union([Type.String(), Type.Null()]),
    legalEntityOfficer: Type.Union([Type.String(), Type.Null()]),
    legalEntityContactEmail: Type.Union([Type.String(), Type.Null()]),
  }),
});

/** A member; `spec.role` (their organization role) is Reel's addition. */
export const userBriefResponse = Type.Object({
  kind: Type.Literal('User'),
  metadata: Type.Object({ id: Type.String() }),
  spec: Type.Object({ name: Type.String(), email: Type.String(), avatar: Type.String(), role: roleName }),
});
export const userBriefListResponse = Type.Object({ kind: Type.Literal('UserList'), value: Type.Array(userBriefResponse) });

export const userIdParams = Type.Object({ userId: Type.String({ format: 'uuid' }) });
export const inviteIdParams = Type.Object({ inviteId: Type.String({ format: 'uuid' }) });
export const tokenIdParams = Type.Object({ tokenId: Type.String({ format: 'uuid' }) });
export const organizationIdParams = Type.Object({ organizationId: Type.String({ format: 'uuid' }) });
export const nameParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 128 }) });

/**
 * An invitation. `spec.role` (the organization role the invitee gets on accepting; Reader when absent) is Reel's
 * addition: MK.IO gives rights through teams only. The read-only fields of a GET are accepted and ignored.
 */
export const invitePostBody = Type.Object(
  {
    spec: Type.Object(
      {
        email: Type.String({ format: 'email', minLength: 3, maxLength: 320 }),
        comment: Type.Optional(Type.String({ maxLength: 1024 })),
        teams: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 100 })),
        role: Type.Optional(roleName),
        organizationName: Type.Optional(Type.String({ maxLength: 256 })),
        invitedByName: Type.Optional(Type.String({ maxLength: 1024 })),
        invitedByEmail: Type.Optional(Type.String({ maxLength: 1024 })),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type InvitePostBody = Static<typeof invitePostBody>;

export const inviteResponse = Type.Object({
  kind: Type.Literal('Invite'),
  metadata: Type.Object({ id: Type.String(), created: mkioTime }),
  spec: Type.Object({
    email: Type.String(),
    organizationName: Type.String(),
    invitedByName: Type.String(),
    invitedByEmail: Type.String(),
    comment: Type.String(),
    teams: Type.Array(Type.String()),
    role: roleName,
    /** Only in the creation response, for an e-mail with no Reel account: the one-time set-up code. */
    setupCode: Type.Optional(Type.String()),
  }),
});
export const inviteListResponse = Type.Object({ kind: Type.Literal('InviteList'), value: Type.Array(inviteResponse) });

export const roleResponse = Type.Object({
  kind: Type.Literal('Role'),
  metadata: Type.Object({ id: Type.String(), name: Type.String(), categories: Type.Array(Type.String()) }),
  spec: Type.Object({ description: Type.String(), capabilities: Type.Array(Type.Object({ capability: Type.String() })) }),
});
export const roleListResponse = Type.Object({ kind: Type.Literal('RoleList'), value: Type.Array(roleResponse) });

export const scopeResponse = Type.Object({
  kind: Type.Literal('Scope'),
  metadata: Type.Object({ id: Type.String(), name: Type.String() }),
  spec: Type.Object({ description: Type.String(), resources: Type.Array(Type.Object({ type: Type.String(), id: Type.String() })) }),
});
export const scopeListResponse = Type.Object({ kind: Type.Literal('ScopeList'), value: Type.Array(scopeResponse) });

/** Team names appear in paths: letters, digits, `.`, `_` and `-`. */
export const teamNamePattern = '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$';

const teamMemberInput = Type.Object(
  // `name` and `email` of a GET are accepted and ignored, so a GET → edit → PUT round trip works.
  { isTeamAdmin: Type.Boolean(), name: Type.Optional(Type.String()), email: Type.Optional(Type.String()) },
  { additionalProperties: false },
);
const teamScopeInput = Type.Object({ roles: Type.Array(Type.String({ maxLength: 64 }), { maxItems: 10 }) }, { additionalProperties: false });

export const teamPutBody = Type.Object(
  {
    kind: Type.Optional(Type.String({ maxLength: 64 })),
    metadata: Type.Optional(Type.Object({}, { additionalProperties: true })),
    spec: Type.Object(
      {
        description: Type.Optional(Type.String({ maxLength: 256 })),
        members: Type.Optional(Type.Record(Type.String({ maxLength: 64 }), teamMemberInput)),
        scopes: Type.Optional(Type.Record(Type.String({ maxLength: 128 }), teamScopeInput)),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type TeamPutBody = Static<typeof teamPutBody>;

export const teamPatchBody = Type.Array(
  Type.Object(
    {
      op: Type.Union([Type.Literal('add'), Type.Literal('remove'), Type.Literal('replace')]),
      path: Type.String({ minLength: 1, maxLength: 512 }),
      value: Type.Optional(Type.Unknown()),
    },
    { additionalProperties: false },
  ),
  { minItems: 1, maxItems: 100 },
);
export type TeamPatchBody = Static<typeof teamPatchBody>;

export const teamResponse = Type.Object({
  kind: Type.Literal('Team'),
  metadata: Type.Object({ id: Type.String(), name: Type.String() }),
  spec: Type.Object({
    description: Type.String(),
    members: Type.Record(Type.String(), Type.Object({ isTeamAdmin: Type.Boolean(), name: Type.String(), email: Type.String() })),
    scopes: Type.Record(Type.String(), Type.Object({ roles: Type.Array(Type.String()) })),
  }),
});
export const teamListResponse = Type.Object({ kind: Type.Literal('TeamList'), value: Type.Array(teamResponse) });

/** The caller's side of an organization: a membership (`accepted`) or an invitation to one (`pending`). */
export const userOrganizationResponse = Type.Object({
  kind: Type.Literal('UserOrganization'),
  metadata: Type.Object({ id: Type.String(), name: Type.String() }),
  spec: Type.Object({
    invite: Type.Object({
      state: Type.Union([Type.Literal('accepted'), Type.Literal('pending')]),
      invitedBy: Type.Union([Type.String(), Type.Null()]),
      comment: Type.String(),
    }),
    role: Type.String(),
    projects: Type.Array(Type.Object({ id: Type.String(), name: Type.String() })),
  }),
});
export const userOrganizationListResponse = Type.Object({ kind: Type.Literal('UserOrganizationList'), value: Type.Array(userOrganizationResponse) });

/** PATCH of the caller's side: only `spec.invite.state: accepted` (accepting a pending invitation). */
export const userOrganizationPatchBody = Type.Object(
  {
    kind: Type.Optional(Type.String({ maxLength: 64 })),
    metadata: Type.Optional(Type.Object({}, { additionalProperties: true })),
    spec: Type.Object(
      {
        invite: Type.Object(
          {
            state: Type.Union([Type.Literal('accepted'), Type.Literal('pending')]),
            invitedBy: Type.Optional(Type.Union([Type.String(), Type.Null()])),
            comment: Type.Optional(Type.String()),
          },
          { additionalProperties: false },
        ),
        role: Type.Optional(Type.String()),
        projects: Type.Optional(Type.Array(Type.Unknown())),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type UserOrganizationPatchBody = Static<typeof userOrganizationPatchBody>;

/** `POST /auth/invite`: an invitee with no account creates it with the invitation's one-time set-up code. */
export const inviteSetupBody = Type.Object(
  {
    email: Type.String({ format: 'email', minLength: 3, maxLength: 320 }),
    code: Type.String({ minLength: 1, maxLength: 256 }),
    password: Type.String({ minLength: 10, maxLength: 1024 }),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  },
  { additionalProperties: false },
);
export const inviteSetupResponse = Type.Object({ user_id: Type.String(), organization_id: Type.String() });
