import type { Role, TokenType } from '../../store/database.js';

/** Defined once with the rows that hold them; re-exported for the control plane's auth code. */
export type { Role, TokenType };

/**
 * Restricted-token permissions as MK.IO shapes them: scope → resource id → capability group → actions,
 * e.g. `{"core.project":{"<project-uuid>":{"ams.asset":["create","read"]}}}`. `*` stands for any id or action.
 * Scopes Reel reads: `core.project` (media capabilities of a project), `core.customer` (an organization) and
 * `core.user` (the user themself) for the user-level capabilities below.
 */
export type PermissionMap = Record<string, Record<string, Record<string, string[]>>>;

/** Who is calling: resolved once per request by the authenticate plugin. */
export interface Principal {
  userId: string;
  email: string;
  organizationId: string;
  role: Role;
  /** Set when the call came with a token (absent for a browser session). */
  tokenId?: string;
  tokenType?: TokenType;
  permissions?: PermissionMap | null;
  /** The presented token's expiry (ISO), so a token cannot mint one that outlives it. */
  tokenExpiresAt?: string;
  /**
   * Roles the caller's teams give on single projects (project id → role), set by the team-grants hook. They only
   * raise the organization role for that project; a team role on the organization scope raises `role` itself.
   */
  projectRoles?: Readonly<Record<string, Role>>;
}

/** The roles in order of power. */
export const roles: readonly Role[] = ['Reader', 'Contributor', 'Admin'];
const rank = (role: Role): number => roles.indexOf(role);

/** The stronger of two roles. */
export function higherRole(a: Role, b: Role | undefined): Role {
  return b !== undefined && rank(b) > rank(a) ? b : a;
}

/** The caller's role in one project: the organization role, raised by what a team gives on that project. */
export function roleInProject(principal: Principal, projectId: string): Role {
  return higherRole(principal.role, principal.projectRoles?.[projectId]);
}

/**
 * Capabilities on the user's own account rather than on a project. MK.IO names `core.token.get` and
 * `core.token.revoke` (its organization token routes); `core.token.create` and `core.profile.update` follow
 * the same style. Sessions and full-access/login tokens hold them all; restricted and ephemeral tokens only
 * when their permission map grants them under `core.customer` (the token's organization) or `core.user`.
 */
export const userCapabilities = {
  tokenRead: { group: 'core.token', action: 'get' },
  tokenCreate: { group: 'core.token', action: 'create' },
  tokenRevoke: { group: 'core.token', action: 'revoke' },
  profileUpdate: { group: 'core.profile', action: 'update' },
} as const;

/**
 * The action that reads key material back (`listContentKeys`, `getPolicyPropertiesWithSecrets`). Readers never
 * hold it, whatever their token says; a restricted token only when its map grants it (or `*`).
 */
export const secretsAction = 'readSecrets';

/** Actions a Reader's role never allows: changes, and reading secrets. */
const writeActions = new Set(['create', 'update', 'delete', 'write', 'start', 'stop', 'scale', 'cancel', 'manage', secretsAction]);

/** Whether the caller's token narrows it to a permission map (restricted and ephemeral tokens). */
export function isNarrowed(principal: Principal): boolean {
  return principal.tokenType === 'restricted' || principal.tokenType === 'ephemeral';
}

function grants(map: PermissionMap | null | undefined, scope: string, id: string, group: string, action: string): boolean {
  const byId = map?.[scope];
  if (!byId) return false;
  return [byId[id]?.[group], byId['*']?.[group]].some((granted) => Array.isArray(granted) && (granted.includes(action) || granted.includes('*')));
}

/**
 * Whether `principal` may perform `action` on capability group `group` (e.g. 'ams.asset', 'read') in a project.
 * Roles cap what any token can do; a restricted token further narrows it to its permission map.
 */
export function isAllowed(principal: Principal, projectId: string, group: string, action: string): boolean {
  if (roleInProject(principal, projectId) === 'Reader' && writeActions.has(action)) return false;
  if (isNarrowed(principal)) return grants(principal.permissions, 'core.project', projectId, group, action);
  return true;
}

/**
 * Whether `principal` may use a user-level capability (its own tokens, its profile). The organization role does
 * not limit these: a Reader manages their own tokens too.
 */
export function isAllowedForUser(principal: Principal, capability: { group: string; action: string }): boolean {
  if (!isNarrowed(principal)) return true;
  const { group, action } = capability;
  return (
    grants(principal.permissions, 'core.customer', principal.organizationId, group, action) ||
    grants(principal.permissions, 'core.user', principal.userId, group, action)
  );
}

/**
 * Whether every capability in `requested` is one `principal` holds, so a token it mints is never broader than
 * itself. Project scopes are checked as `isAllowed` would; a `*` id or action needs `*` in the caller's map.
 */
export function holdsAll(principal: Principal, requested: PermissionMap): boolean {
  for (const [scope, byId] of Object.entries(requested)) {
    for (const [id, groups] of Object.entries(byId)) {
      for (const [group, actions] of Object.entries(groups)) {
        for (const action of actions) {
          if (!holds(principal, scope, id, group, action)) return false;
        }
      }
    }
  }
  return true;
}

function holds(principal: Principal, scope: string, id: string, group: string, action: string): boolean {
  if (!isNarrowed(principal)) return true;
  const map = principal.permissions;
  // A wildcard request is only as wide as a wildcard grant: look it up literally, never through the fallbacks.
  const literal = (s: string, i: string) => (map?.[s]?.[i]?.[group] ?? []).some((a) => a === action || a === '*');
  if (id === '*' || action === '*') return literal(scope, '*') || (id !== '*' && literal(scope, id));
  return grants(map, scope, id, group, action);
}

/**
 * Organization-level capabilities (MK.IO's names, from each Management API operation's "RBAC Capability
 * Required") and the least role holding each. Any member reads the organization, its members, roles, scopes,
 * teams and projects; only an Admin changes them, sees invitations, or sees and revokes other members' tokens.
 */
export const organizationCapabilities: Readonly<Record<string, Readonly<Record<string, Role>>>> = {
  'core.customer': { get: 'Reader', update: 'Admin' },
  'core.user': { get: 'Reader', remove: 'Admin' },
  'core.invite': { get: 'Admin', create: 'Admin', delete: 'Admin' },
  'core.role': { get: 'Reader' },
  'core.scope': { get: 'Reader' },
  'core.team': { get: 'Reader', create: 'Admin', update: 'Admin', delete: 'Admin' },
  'core.project': { get: 'Reader', create: 'Admin', update: 'Admin', delete: 'Admin' },
  // The organization's token routes (every member's tokens); a member's own tokens are `userCapabilities`.
  'core.token': { get: 'Admin', revoke: 'Admin' },
};

/**
 * Whether `principal` holds an organization-level capability: its role must reach the capability's least role,
 * and a restricted or ephemeral token must also be granted it under `core.customer` (its organization).
 */
export function isAllowedInOrganization(principal: Principal, group: string, action: string): boolean {
  const least = organizationCapabilities[group]?.[action];
  if (!least || rank(principal.role) < rank(least)) return false;
  if (isNarrowed(principal)) return grants(principal.permissions, 'core.customer', principal.organizationId, group, action);
  return true;
}

/** Capability groups of a project's resources, with the actions their routes check. */
export const projectCapabilities: Readonly<Record<string, readonly string[]>> = {
  'ams.asset': ['read', 'create', 'update', 'delete'],
  'ams.transform': ['read', 'create', 'delete'],
  'ams.job': ['read', 'create', 'update', 'delete'],
  'ams.streamingLocator': ['read', 'create', 'delete', secretsAction],
  'ams.streamingPolicy': ['read', 'create', 'delete'],
  'ams.contentKeyPolicy': ['read', 'create', 'update', 'delete', secretsAction],
  'ams.streamingEndpoint': ['read', 'create', 'update', 'delete', 'scale'],
  'ams.storage': ['read', 'create', 'update', 'delete'],
  // Filters (§8): a PUT creates or replaces, so it needs `create` as an asset PUT does.
  'ams.accountFilter': ['read', 'create', 'delete'],
  'ams.assetFilter': ['read', 'create', 'delete'],
  // Live events (§15: PATCH changes only `pipeline`) and their outputs (§16, create-only).
  'ams.liveEvent': ['read', 'create', 'update', 'delete', 'start', 'stop'],
  'ams.liveOutput': ['read', 'create', 'delete'],
  'webhooks.config': ['get', 'create', 'delete'],
};

/**
 * Every capability a role holds in an organization, as `group.action` (what `/api/v1/organization/roles` lists).
 * The user-level ones (`userCapabilities`: a member's own tokens and profile) belong to every member and are
 * not listed.
 */
export function capabilitiesOf(role: Role): string[] {
  const out: string[] = [];
  for (const [group, actions] of Object.entries(organizationCapabilities)) {
    for (const [action, least] of Object.entries(actions)) if (rank(role) >= rank(least)) out.push(`${group}.${action}`);
  }
  for (const [group, actions] of Object.entries(projectCapabilities)) {
    for (const action of actions) if (role !== 'Reader' || !writeActions.has(action)) out.push(`${group}.${action}`);
  }
  return out;
}
