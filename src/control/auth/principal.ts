export type Role = 'Admin' | 'Contributor' | 'Reader';
export type TokenType = 'login' | 'full-access' | 'restricted' | 'ephemeral';

/**
 * Restricted-token permissions as MK.IO shapes them: scope → resource id → capability group → actions,
 * e.g. `{"core.project":{"<project-uuid>":{"ams.asset":["create","read"]}}}`.
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
}

const writeActions = new Set(['create', 'update', 'delete', 'write', 'start', 'stop', 'scale', 'cancel', 'manage']);

/**
 * Whether `principal` may perform `action` on capability group `group` (e.g. 'ams.asset', 'read') in a project.
 * Roles cap what any token can do; a restricted token further narrows it to its permission map.
 */
export function isAllowed(principal: Principal, projectId: string, group: string, action: string): boolean {
  if (principal.role === 'Reader' && writeActions.has(action)) return false;
  if (principal.tokenType === 'restricted' || principal.tokenType === 'ephemeral') {
    const granted = principal.permissions?.['core.project']?.[projectId]?.[group]
      ?? principal.permissions?.['core.project']?.['*']?.[group];
    return Array.isArray(granted) && (granted.includes(action) || granted.includes('*'));
  }
  return true;
}
