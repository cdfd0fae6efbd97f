import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  capabilitiesOf,
  holdsAll,
  isAllowed,
  isAllowedForUser,
  isAllowedInOrganization,
  roleInProject,
  userCapabilities,
  type Principal,
} from './principal.js';

const base = { userId: 'u1', email: 'u1@example.com', organizationId: 'o1', role: 'Reader' as const };
const restricted = (permissions: Principal['permissions']): Principal => ({ ...base, tokenId: 't', tokenType: 'restricted', permissions });

describe('user-level capabilities', () => {
  it('gives sessions and full-access tokens every one, whatever the role', () => {
    assert.equal(isAllowedForUser(base, userCapabilities.tokenCreate), true);
    assert.equal(isAllowedForUser({ ...base, tokenType: 'full-access' }, userCapabilities.profileUpdate), true);
  });

  it('gives a restricted token only what its map grants, for its own organization or user', () => {
    assert.equal(isAllowedForUser(restricted({ 'core.project': { p1: { 'ams.asset': ['read'] } } }), userCapabilities.tokenRead), false);
    assert.equal(isAllowedForUser(restricted(null), userCapabilities.tokenRead), false);
    const orgGrant = restricted({ 'core.customer': { o1: { 'core.token': ['get'] } } });
    assert.equal(isAllowedForUser(orgGrant, userCapabilities.tokenRead), true);
    assert.equal(isAllowedForUser(orgGrant, userCapabilities.tokenRevoke), false);
    assert.equal(isAllowedForUser(restricted({ 'core.customer': { o2: { 'core.token': ['*'] } } }), userCapabilities.tokenRead), false, 'another organization');
    assert.equal(isAllowedForUser(restricted({ 'core.user': { '*': { 'core.profile': ['update'] } } }), userCapabilities.profileUpdate), true);
    assert.equal(isAllowedForUser(restricted({ 'core.user': { u2: { 'core.profile': ['update'] } } }), userCapabilities.profileUpdate), false, 'another user');
  });
});

describe('holdsAll (a minted token is never broader than its maker)', () => {
  const maker = restricted({ 'core.project': { p1: { 'ams.asset': ['read', 'create'] }, '*': { 'ams.job': ['read'] } } });

  it("accepts subsets, including through the maker's wildcard id", () => {
    assert.equal(holdsAll(maker, { 'core.project': { p1: { 'ams.asset': ['read'] } } }), true);
    assert.equal(holdsAll(maker, { 'core.project': { p7: { 'ams.job': ['read'] } } }), true);
    assert.equal(holdsAll(maker, { 'core.project': { '*': { 'ams.job': ['read'] } } }), true);
    assert.equal(holdsAll(maker, {}), true);
  });

  it('refuses anything beyond, and wildcards the maker does not hold literally', () => {
    assert.equal(holdsAll(maker, { 'core.project': { p1: { 'ams.asset': ['delete'] } } }), false);
    assert.equal(holdsAll(maker, { 'core.project': { p1: { 'ams.asset': ['*'] } } }), false);
    assert.equal(holdsAll(maker, { 'core.project': { '*': { 'ams.asset': ['read'] } } }), false);
    assert.equal(holdsAll(maker, { 'core.project': { p2: { 'ams.asset': ['read'] } } }), false);
    assert.equal(holdsAll(maker, { 'core.customer': { o1: { 'core.token': ['create'] } } }), false);
  });

  it('lets a session or full-access token grant anything', () => {
    assert.equal(holdsAll(base, { 'core.project': { '*': { '*': ['*'] } } }), true);
  });
});

describe('organization capabilities and team grants', () => {
  it('gives each organization capability from its least role up', () => {
    assert.equal(isAllowedInOrganization(base, 'core.user', 'get'), true);
    assert.equal(isAllowedInOrganization(base, 'core.user', 'remove'), false);
    assert.equal(isAllowedInOrganization({ ...base, role: 'Contributor' }, 'core.invite', 'get'), false);
    assert.equal(isAllowedInOrganization({ ...base, role: 'Admin' }, 'core.invite', 'create'), true);
    assert.equal(isAllowedInOrganization({ ...base, role: 'Admin' }, 'core.nothing', 'get'), false, 'unknown capabilities are refused');
  });

  it('narrows a restricted token to what its map grants under core.customer', () => {
    const admin = (permissions: Principal['permissions']): Principal => ({ ...restricted(permissions), role: 'Admin' });
    assert.equal(isAllowedInOrganization(admin({ 'core.customer': { o1: { 'core.team': ['get'] } } }), 'core.team', 'get'), true);
    assert.equal(isAllowedInOrganization(admin({ 'core.customer': { o1: { 'core.team': ['get'] } } }), 'core.team', 'delete'), false);
    assert.equal(isAllowedInOrganization(admin({ 'core.customer': { o2: { 'core.team': ['*'] } } }), 'core.team', 'get'), false);
  });

  it('raises a role in one project only, never lowers it', () => {
    const teamed: Principal = { ...base, projectRoles: { p1: 'Contributor' } };
    assert.equal(roleInProject(teamed, 'p1'), 'Contributor');
    assert.equal(roleInProject(teamed, 'p2'), 'Reader');
    assert.equal(isAllowed(teamed, 'p1', 'ams.asset', 'create'), true);
    assert.equal(isAllowed(teamed, 'p2', 'ams.asset', 'create'), false);
    assert.equal(roleInProject({ ...base, role: 'Admin', projectRoles: { p1: 'Reader' } }, 'p1'), 'Admin');
  });

  it('lists a Reader’s capabilities without writes or secrets', () => {
    const reader = capabilitiesOf('Reader');
    assert.ok(reader.includes('ams.asset.read') && reader.includes('core.user.get'));
    assert.ok(!reader.some((c) => /\.(create|update|delete|remove|readSecrets)$/.test(c)));
    assert.ok(capabilitiesOf('Admin').includes('core.token.revoke'));
  });
});
