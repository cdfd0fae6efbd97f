import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { dialects, startTestServer, type TestServer } from '../support/server.js';
import { setUpTenants, type Tenant } from '../support/tenants.js';
import { ApiClient, login, tokenFromSession } from '../support/api.js';
import { AccountService } from '../../src/control/auth/account-service.js';
import type { Role } from '../../src/control/auth/principal.js';

/**
 * Organization administration (issue 14): `/api/v1/organization` and its users, invites, roles, scopes, teams and
 * tokens, and the invitee's side under `/api/v1/user/organizations`, in MK.IO's shapes (ApiClient checks every
 * answer against MK.IO's Management API document), per role and tenant.
 */
const unknownId = '00000000-0000-4000-8000-00000000beef';

for (const dialect of dialects) {
  describe(`organization administration on ${dialect}`, () => {
    let server: TestServer;
    let accounts: AccountService;
    let a: Tenant;
    let b: Tenant;
    let n = 0;

    /** A new user (optionally a member of `organizationId`), signed in with a session and a token. */
    const newUser = async (organizationId?: string, role: Role = 'Contributor') => {
      const email = `extra-${++n}-${dialect}@example.com`;
      const password = `extra password ${n}`;
      const user = await accounts.createUser(email, password);
      if (organizationId) await accounts.addMember(user.id, organizationId, role);
      return { id: user.id, email, password, signIn: () => signIn(email, password) };
    };
    const signIn = async (email: string, password: string) => {
      const cookie = await login(server.url, email, password);
      const { token } = await tokenFromSession(server.url, cookie);
      return { api: new ApiClient(server.url).withToken(token), browser: new ApiClient(server.url, { cookie }) };
    };

    before(async () => {
      server = await startTestServer(dialect);
      accounts = new AccountService(server.reel.db);
      ({ a, b } = await setUpTenants(server, `orgadmin-${dialect}`));
    });
    after(async () => server?.close());

    it('shows every member their active organization, and lets only an Admin edit it', async () => {
      for (const m of [a.admin, a.contributor, a.reader]) {
        const got = await m.api.get('/api/v1/organization');
        assert.equal(got.status, 200, got.text);
        assert.equal(got.body.kind, 'Organization');
        assert.equal(got.body.metadata.id, a.organizationId);
        assert.equal(got.body.metadata.isActive, true);
      }
      assert.equal((await b.reader.api.get('/api/v1/organization')).body.metadata.id, b.organizationId);

      for (const m of [a.contributor, a.reader]) {
        const denied = await m.api.patch('/api/v1/organization', { spec: { name: 'Hijacked' } });
        assert.equal(denied.status, 403);
      }
      const patched = await a.admin.api.patch('/api/v1/organization', { spec: { name: 'Acme Media', legalEntityName: 'Acme Media Ltd' } });
      assert.equal(patched.status, 200, patched.text);
      assert.equal(patched.body.spec.name, 'Acme Media');
      assert.equal(patched.body.metadata.name, 'Acme Media');
      assert.equal(patched.body.spec.legalEntityName, 'Acme Media Ltd');
      assert.equal(patched.body.spec.legalEntityOfficer, null);
      // A GET → PATCH round trip works, and the name shows where members see their organizations.
      const roundTrip = await a.admin.api.patch('/api/v1/organization', patched.body, { checkRequest: false });
      assert.equal(roundTrip.status, 200, roundTrip.text);
      assert.deepEqual(roundTrip.body.spec, patched.body.spec);
      const mine = await a.reader.api.get(`/api/v1/user/organizations/${a.organizationId}`);
      assert.equal(mine.body.metadata.name, 'Acme Media');

      for (const bad of [{ spec: { name: '' } }, { spec: { shoeSize: 44 } }, { spec: { name: 'x'.repeat(201) } }, {}]) {
        const refused = await a.admin.api.patch('/api/v1/organization', bad, { checkRequest: false });
        assert.equal(refused.status, 400, JSON.stringify(bad));
      }
      assert.equal((await a.admin.api.get('/api/v1/organization')).body.spec.name, 'Acme Media', 'a refused change changes nothing');
      assert.equal((await b.admin.api.get('/api/v1/organization')).body.spec.name, `rival-org-orgadmin-${dialect}`, 'the other organization is untouched');
    });

    it('lists members with their roles, and keeps other organizations’ users out of reach', async () => {
      const list = await a.reader.api.get('/api/v1/organization/users');
      assert.equal(list.status, 200, list.text);
      const byId = new Map(list.body.value.map((u: any) => [u.metadata.id, u.spec]));
      assert.equal((byId.get(a.admin.userId) as any)?.role, 'Admin');
      assert.equal((byId.get(a.contributor.userId) as any)?.role, 'Contributor');
      assert.equal((byId.get(a.reader.userId) as any)?.email, a.reader.email);
      assert.ok(!byId.has(b.admin.userId));
      const one = await a.contributor.api.get(`/api/v1/organization/users/${a.reader.userId}`);
      assert.equal(one.status, 200);
      assert.equal(one.body.spec.name.length > 0, true);
      assert.equal((await a.admin.api.get(`/api/v1/organization/users/${b.admin.userId}`)).status, 404);
      assert.equal((await a.admin.api.delete(`/api/v1/organization/users/${b.reader.userId}`)).status, 404);
      assert.equal((await a.admin.api.get('/api/v1/organization/users/not-a-uuid')).status, 400);
      assert.equal((await a.admin.api.get('/api/v1/organization/users?$top=1')).status, 400);
    });

    it('removes a member at once (sessions and tokens), but never the last Admin', async () => {
      const user = await newUser(a.organizationId, 'Contributor');
      const { api, browser } = await user.signIn();
      assert.equal((await api.get(`${a.legacy}/assets`)).status, 200);
      assert.equal((await a.contributor.api.delete(`/api/v1/organization/users/${user.id}`)).status, 403);
      assert.equal((await a.reader.api.delete(`/api/v1/organization/users/${user.id}`)).status, 403);
      const removed = await a.admin.api.delete(`/api/v1/organization/users/${user.id}`);
      assert.equal(removed.status, 200, removed.text);
      assert.equal((await api.get(`${a.legacy}/assets`)).status, 401, 'the token stops at once');
      assert.equal((await browser.get('/api/v1/user/profile')).status, 401, 'the session (no other organization) stops at once');
      assert.equal((await a.admin.api.get(`/api/v1/organization/users/${user.id}`)).status, 404);
      assert.equal((await a.admin.api.delete(`/api/v1/organization/users/${user.id}`)).status, 404);
      const tokens = await a.admin.api.get('/api/v1/organization/tokens');
      assert.ok(!tokens.body.value.some((t: any) => t.spec.user === user.id && t.spec.revoked === null), 'their tokens are revoked');

      const last = await b.admin.api.delete(`/api/v1/organization/users/${b.admin.userId}`);
      assert.equal(last.status, 400);
      assert.equal(last.body.error.code, 'LastAdmin');
      const leaving = await b.admin.api.delete(`/api/v1/user/organizations/${b.organizationId}`);
      assert.equal(leaving.status, 400, 'nor can the last Admin leave');
      assert.equal((await b.admin.api.get('/api/v1/organization')).status, 200);

      // Two Admins removing each other at once: one of them stays.
      const second = await newUser(b.organizationId, 'Admin');
      const { api: secondApi } = await second.signIn();
      const both = await Promise.all([
        b.admin.api.delete(`/api/v1/organization/users/${second.id}`),
        secondApi.delete(`/api/v1/organization/users/${b.admin.userId}`),
      ]);
      assert.equal(both.filter((r) => r.status === 200).length, 1, both.map((r) => r.status).join(','));
      const admins = (
        await server.reel.db.selectFrom('memberships').selectAll().where('organization_id', '=', b.organizationId).where('role', '=', 'Admin').execute()
      ).length;
      assert.equal(admins, 1);
      if (both[1].status === 200) {
        // The original Admin was removed: put them back for the tests that follow.
        await accounts.addMember(b.admin.userId, b.organizationId, 'Admin');
        b.admin = { ...b.admin, ...(await signIn(b.admin.email, b.admin.password)) };
      }
    });

    it('invites a user with a role and teams; the invitee accepts, declines or leaves through /api/v1/user/organizations', async () => {
      assert.equal((await a.admin.api.put('/api/v1/organization/teams/editors', { spec: { description: 'Editors', members: {}, scopes: {} } })).status, 201);
      const invitee = await newUser(b.organizationId, 'Reader');
      const session = await invitee.signIn();

      for (const m of [a.contributor, a.reader]) {
        assert.equal((await m.api.post('/api/v1/organization/invites', { spec: { email: invitee.email } }, { checkRequest: false })).status, 403);
        assert.equal((await m.api.get('/api/v1/organization/invites')).status, 403);
      }
      const made = await a.admin.api.post(
        '/api/v1/organization/invites',
        { spec: { email: invitee.email.toUpperCase(), comment: 'Contractor for project Delphi', teams: ['editors'], role: 'Contributor' } },
        { checkRequest: false },
      );
      assert.equal(made.status, 201, made.text);
      assert.equal(made.body.spec.email, invitee.email);
      assert.equal(made.body.spec.role, 'Contributor');
      assert.equal(made.body.spec.invitedByEmail, a.admin.email);
      assert.deepEqual(made.body.spec.teams, ['editors']);
      const inviteId = made.body.metadata.id as string;
      assert.deepEqual((await a.admin.api.get(`/api/v1/organization/invites/${inviteId}`)).body, made.body);
      assert.equal((await a.admin.api.get('/api/v1/organization/invites')).body.value.length, 1);
      assert.equal((await b.admin.api.get(`/api/v1/organization/invites/${inviteId}`)).status, 404, 'another organization’s invite');
      assert.equal((await b.admin.api.delete(`/api/v1/organization/invites/${inviteId}`)).status, 404);

      // Refused: a second invitation, a member, an unknown team, a bad e-mail or role; none leaves anything behind.
      const refusals: Array<[unknown, number]> = [
        [{ spec: { email: invitee.email } }, 409],
        [{ spec: { email: a.reader.email } }, 409],
        [{ spec: { email: 'someone@example.com', teams: ['nope'] } }, 400],
        [{ spec: { email: 'not an e-mail' } }, 400],
        [{ spec: { email: 'someone@example.com', role: 'Owner' } }, 400],
        [{ spec: {} }, 400],
      ];
      for (const [body, status] of refusals) {
        const res = await a.admin.api.post('/api/v1/organization/invites', body, { checkRequest: false });
        assert.equal(res.status, status, `${JSON.stringify(body)}: ${res.text}`);
      }
      assert.equal((await a.admin.api.get('/api/v1/organization/invites')).body.value.length, 1, 'nothing half-created');

      // The invitee sees the invitation next to their organization, then accepts it.
      const theirs = await session.api.get('/api/v1/user/organizations');
      const pending = theirs.body.value.find((o: any) => o.metadata.id === a.organizationId);
      assert.equal(pending.spec.invite.state, 'pending');
      assert.equal(pending.spec.invite.invitedBy, a.admin.email);
      assert.equal(pending.spec.invite.comment, 'Contractor for project Delphi');
      assert.equal(theirs.body.value.find((o: any) => o.metadata.id === b.organizationId).spec.invite.state, 'accepted');
      assert.equal((await session.api.patch(`/api/v1/user/organizations/${a.organizationId}`, { spec: { invite: { state: 'pending' } } })).status, 400);
      const accepted = await session.api.patch(`/api/v1/user/organizations/${a.organizationId}`, { spec: { invite: { state: 'accepted' } } });
      assert.equal(accepted.status, 200, accepted.text);
      assert.equal(accepted.body.spec.invite.state, 'accepted');
      assert.equal(accepted.body.spec.role, 'Contributor');
      assert.deepEqual(
        accepted.body.spec.projects.map((p: any) => p.name),
        [a.projectName],
      );
      assert.equal((await a.admin.api.get('/api/v1/organization/invites')).body.value.length, 0);
      assert.equal((await a.admin.api.get(`/api/v1/organization/users/${invitee.id}`)).body.spec.role, 'Contributor');
      const team = await a.admin.api.get('/api/v1/organization/teams/editors');
      assert.equal(team.body.spec.members[invitee.id].email, invitee.email);

      // Acting in the new organization: switch the session to it.
      assert.equal((await session.browser.patch('/api/v1/user/profile', { spec: { activeOrganizationId: a.organizationId } })).status, 200);
      assert.equal((await session.browser.get(`${a.legacy}/assets`)).status, 200);

      // Leaving: the membership, and the session's access to the organization, end.
      assert.equal((await session.api.delete(`/api/v1/user/organizations/${a.organizationId}`)).status, 204);
      assert.equal((await session.browser.get(`${a.legacy}/assets`)).status, 404, 'the session falls back to the other organization');
      assert.equal((await a.admin.api.get(`/api/v1/organization/users/${invitee.id}`)).status, 404);
      assert.equal((await a.admin.api.get('/api/v1/organization/teams/editors')).body.spec.members[invitee.id], undefined);
      assert.equal((await session.api.get(`/api/v1/user/organizations/${a.organizationId}`)).status, 404);

      // Declining, and withdrawing.
      const again = await a.admin.api.post('/api/v1/organization/invites', { spec: { email: invitee.email, comment: '' } }, { checkRequest: false });
      assert.equal(again.status, 201);
      assert.equal((await session.api.delete(`/api/v1/user/organizations/${a.organizationId}`)).status, 204);
      assert.equal((await a.admin.api.get(`/api/v1/organization/invites/${again.body.metadata.id}`)).status, 404);
      assert.equal((await a.admin.api.get(`/api/v1/organization/users/${invitee.id}`)).status, 404, 'declining adds no membership');
      const third = await a.admin.api.post('/api/v1/organization/invites', { spec: { email: invitee.email, comment: '' } }, { checkRequest: false });
      assert.equal((await a.admin.api.delete(`/api/v1/organization/invites/${third.body.metadata.id}`)).status, 200);
      assert.equal((await a.admin.api.delete(`/api/v1/organization/invites/${third.body.metadata.id}`)).status, 404);
      assert.equal((await session.api.patch(`/api/v1/user/organizations/${a.organizationId}`, { spec: { invite: { state: 'accepted' } } })).status, 404);
      assert.equal((await session.api.delete(`/api/v1/user/organizations/${unknownId}`)).status, 404);
    });

    it('gives an invitation to an e-mail without a Reel account a one-time set-up code that creates the account', async () => {
      const email = `newcomer-${dialect}@example.com`;
      const made = await a.admin.api.post(
        '/api/v1/organization/invites',
        { spec: { email, comment: 'welcome', role: 'Contributor', teams: [] } },
        { checkRequest: false },
      );
      assert.equal(made.status, 201, made.text);
      const code = made.body.spec.setupCode as string;
      assert.ok(code.length >= 32, 'a set-up code is shown once');
      const again = await a.admin.api.get(`/api/v1/organization/invites/${made.body.metadata.id}`);
      assert.equal(again.body.spec.setupCode, undefined, 'and never again');
      const row = await server.reel.db.selectFrom('organization_invites').selectAll().where('email', '=', email).executeTakeFirstOrThrow();
      assert.ok(!JSON.stringify(row).includes(code), 'only its hash is stored');

      const setUp = (body: Record<string, unknown>) =>
        fetch(`${server.url}/auth/invite`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      assert.equal((await setUp({ email, code: `${code}x`, password: 'newcomer password 1' })).status, 400);
      assert.equal((await setUp({ email: 'other@example.com', code, password: 'newcomer password 1' })).status, 400);
      assert.equal((await setUp({ email, code, password: 'short' })).status, 400);
      assert.equal(
        await accounts
          .organizationsOf((await server.reel.db.selectFrom('users').select('id').where('email', '=', email).executeTakeFirst())?.id ?? unknownId)
          .then((o) => o.length),
        0,
        'nothing created by a refusal',
      );
      const created = await setUp({ email: email.toUpperCase(), code, password: 'newcomer password 1', name: 'New Comer' });
      assert.equal(created.status, 201, await created.clone().text());
      const { user_id: userId, organization_id: organizationId } = (await created.json()) as { user_id: string; organization_id: string };
      assert.equal(organizationId, a.organizationId);
      assert.equal((await setUp({ email, code, password: 'newcomer password 2' })).status, 400, 'the code works once');

      const session = await signIn(email, 'newcomer password 1');
      assert.equal((await session.api.get(`${a.legacy}/assets`)).status, 200);
      const member = await a.admin.api.get(`/api/v1/organization/users/${userId}`);
      assert.deepEqual(member.body.spec, { name: 'New Comer', email, avatar: '', role: 'Contributor' });
      assert.equal((await a.admin.api.get(`/api/v1/organization/invites/${made.body.metadata.id}`)).status, 404);

      // A set-up code expires after 7 days.
      const late = `late-${dialect}@example.com`;
      const old = await a.admin.api.post('/api/v1/organization/invites', { spec: { email: late, comment: '' } }, { checkRequest: false });
      const eightDaysAgo = new Date(Date.now() - 8 * 24 * 3600 * 1000).toISOString();
      await server.reel.db.updateTable('organization_invites').set({ created_at: eightDaysAgo }).where('id', '=', old.body.metadata.id).execute();
      const expired = await setUp({ email: late, code: old.body.spec.setupCode, password: 'late password 12' });
      assert.equal(expired.status, 400);
      assert.equal((await server.reel.db.selectFrom('users').select('id').where('email', '=', late).execute()).length, 0);

      const known = await a.admin.api.post('/api/v1/organization/invites', { spec: { email: b.contributor.email, comment: '' } }, { checkRequest: false });
      assert.equal(known.status, 201);
      assert.equal(known.body.spec.setupCode, undefined, 'someone with an account accepts through /api/v1/user/organizations');
      assert.equal((await a.admin.api.delete(`/api/v1/organization/invites/${known.body.metadata.id}`)).status, 200);
    });

    it('lists Reel’s roles with their capabilities, and the organization and project scopes', async () => {
      const rolesList = await a.reader.api.get('/api/v1/organization/roles');
      assert.equal(rolesList.status, 200, rolesList.text);
      assert.deepEqual(
        rolesList.body.value.map((r: any) => r.metadata.name),
        ['Reader', 'Contributor', 'Admin'],
      );
      const capabilities = (r: any) => r.spec.capabilities.map((c: any) => c.capability as string);
      const reader = await a.reader.api.get('/api/v1/organization/roles/Reader');
      assert.ok(capabilities(reader.body).includes('ams.asset.read'));
      assert.ok(!capabilities(reader.body).includes('ams.asset.create'));
      assert.ok(!capabilities(reader.body).includes('ams.contentKeyPolicy.readSecrets'));
      const contributor = await a.reader.api.get('/api/v1/organization/roles/Contributor');
      assert.ok(capabilities(contributor.body).includes('ams.asset.create'));
      assert.ok(!capabilities(contributor.body).includes('core.invite.create'));
      const admin = await a.reader.api.get('/api/v1/organization/roles/Admin');
      assert.ok(capabilities(admin.body).includes('core.invite.create'));
      assert.equal((await a.reader.api.get('/api/v1/organization/roles/Owner')).status, 404);

      const scopes = await a.reader.api.get('/api/v1/organization/scopes');
      assert.equal(scopes.status, 200);
      const names = scopes.body.value.map((s: any) => s.metadata.name);
      assert.deepEqual(names, ['organizationScope', `${a.projectName}Scope`]);
      const project = await a.reader.api.get(`/api/v1/organization/scopes/${a.projectName}Scope`);
      assert.deepEqual(project.body.spec.resources, [{ type: 'project', id: a.projectId }]);
      assert.equal((await a.reader.api.get(`/api/v1/organization/scopes/${b.projectName}Scope`)).status, 404, 'another organization’s project');
    });

    it('grants a role on one project through a team, and takes it back', async () => {
      const scope = `${a.projectName}Scope`;
      const assetUrl = `${a.legacy}/assets/team-made`;
      const asset = { properties: { storageAccountName: 'local' } };
      assert.equal((await a.reader.api.put(assetUrl, asset)).status, 403);
      assert.equal((await a.contributor.api.put('/api/v1/organization/teams/crew', { spec: { members: {}, scopes: {} } })).status, 403);

      const made = await a.admin.api.put('/api/v1/organization/teams/crew', {
        spec: { description: 'Project crew', members: { [a.reader.userId]: { isTeamAdmin: false } }, scopes: { [scope]: { roles: ['Contributor'] } } },
      });
      assert.equal(made.status, 201, made.text);
      assert.deepEqual(made.body.spec.scopes, { [scope]: { roles: ['Contributor'] } });
      assert.equal(made.body.spec.members[a.reader.userId].email, a.reader.email);
      const created = await a.reader.api.put(assetUrl, asset);
      assert.equal(created.status, 201, `the team makes the Reader a Contributor in the project: ${created.text}`);
      assert.equal((await a.reader.api.get('/api/v1/organization/invites')).status, 403, 'but not an Admin of the organization');
      const rbac = await a.reader.api.get('/api/v1/user/rbac', { contract: false });
      assert.equal(rbac.status, 200);
      assert.deepEqual(rbac.body.spec.capabilities['core.project'][a.projectId]['ams.asset'], ['read', 'create', 'update', 'delete']);

      const patched = await a.admin.api.patch('/api/v1/organization/teams/crew', [{ op: 'remove', path: `/spec/scopes/${scope}/roles/Contributor` }]);
      assert.equal(patched.status, 200, patched.text);
      assert.deepEqual(patched.body.spec.scopes, {});
      assert.equal((await a.reader.api.delete(assetUrl)).status, 403, 'the grant is gone at once');

      const promoted = await a.admin.api.patch('/api/v1/organization/teams/crew', [
        { op: 'add', path: `/spec/members/${a.contributor.userId}`, value: { isTeamAdmin: false } },
        { op: 'replace', path: `/spec/members/${a.contributor.userId}/isTeamAdmin`, value: true },
        { op: 'add', path: `/spec/scopes/${scope}/roles/-`, value: 'Reader' },
        { op: 'replace', path: '/spec/description', value: 'Renamed crew' },
      ]);
      assert.equal(promoted.status, 200, promoted.text);
      assert.equal(promoted.body.spec.members[a.contributor.userId].isTeamAdmin, true);
      assert.equal(promoted.body.spec.description, 'Renamed crew');
      assert.deepEqual((await a.reader.api.get('/api/v1/organization/teams')).body.value.map((t: any) => t.metadata.name).includes('crew'), true);

      // Refused edits change nothing.
      const refusals: Array<[string, unknown]> = [
        ['PATCH', [{ op: 'add', path: `/spec/members/${b.admin.userId}`, value: { isTeamAdmin: false } }]],
        ['PATCH', [{ op: 'add', path: `/spec/scopes/${scope}/roles/-`, value: 'Owner' }]],
        ['PATCH', [{ op: 'add', path: `/spec/scopes/${b.projectName}Scope`, value: { roles: ['Admin'] } }]],
        ['PATCH', [{ op: 'replace', path: '/metadata/name', value: 'x' }]],
        ['PATCH', []],
        ['PUT', { spec: { members: { [b.admin.userId]: { isTeamAdmin: true } } } }],
        ['PUT', { spec: { scopes: { nowhere: { roles: ['Reader'] } } } }],
        ['PUT', { spec: { colour: 'red' } }],
      ];
      for (const [method, body] of refusals) {
        const res = await a.admin.api.call(method, '/api/v1/organization/teams/crew', body, { checkRequest: false });
        assert.equal(res.status, 400, `${method} ${JSON.stringify(body)}: ${res.text}`);
      }
      assert.deepEqual((await a.admin.api.get('/api/v1/organization/teams/crew')).body, promoted.body);
      const strangers = await a.admin.api.put('/api/v1/organization/teams/ghosts', { spec: { members: { [b.admin.userId]: { isTeamAdmin: false } } } });
      assert.equal(strangers.status, 400);
      assert.equal((await a.admin.api.get('/api/v1/organization/teams/ghosts')).status, 404, 'nothing half-created');
      assert.equal((await a.admin.api.put('/api/v1/organization/teams/bad name!', { spec: {} })).status, 400);

      assert.equal((await b.admin.api.get('/api/v1/organization/teams/crew')).status, 404, 'another organization’s team');
      assert.equal((await b.admin.api.delete('/api/v1/organization/teams/crew')).status, 404);
      assert.equal((await a.contributor.api.delete('/api/v1/organization/teams/crew')).status, 403);
      assert.equal((await a.admin.api.delete('/api/v1/organization/teams/crew')).status, 204);
      assert.equal((await a.admin.api.get('/api/v1/organization/teams/crew')).status, 404);
      assert.equal((await a.admin.api.patch('/api/v1/organization/teams/crew', [{ op: 'replace', path: '/spec/description', value: 'x' }])).status, 404);
    });

    it('gives an organization-scope team role across the organization', async () => {
      const user = await newUser(a.organizationId, 'Reader');
      const { api } = await user.signIn();
      assert.equal((await api.get('/api/v1/organization/invites')).status, 403);
      const team = await a.admin.api.put('/api/v1/organization/teams/admins', {
        spec: { members: { [user.id]: { isTeamAdmin: false } }, scopes: { organizationScope: { roles: ['Admin'] } } },
      });
      assert.equal(team.status, 201, team.text);
      assert.equal((await api.get('/api/v1/organization/invites')).status, 200);
      assert.equal((await a.admin.api.delete('/api/v1/organization/teams/admins')).status, 204);
      assert.equal((await api.get('/api/v1/organization/invites')).status, 403);
    });

    it('shows an Admin every member’s tokens of the organization, never a secret, and lets them revoke any', async () => {
      for (const m of [a.contributor, a.reader]) assert.equal((await m.api.get('/api/v1/organization/tokens')).status, 403);
      const user = await newUser(a.organizationId, 'Contributor');
      const { api } = await user.signIn();
      const listed = await a.admin.api.get('/api/v1/organization/tokens');
      assert.equal(listed.status, 200, listed.text);
      const theirs = listed.body.value.filter((t: any) => t.spec.user === user.id);
      assert.equal(theirs.length, 1);
      assert.ok(listed.body.value.every((t: any) => t.spec.organizationId === a.organizationId));
      assert.ok(!listed.text.includes(a.admin.token) && !/"JWT"/.test(listed.text), 'no token secret');
      assert.equal((await b.admin.api.delete(`/api/v1/organization/tokens/${theirs[0].metadata.id}`)).status, 404, 'another organization’s token');
      assert.equal((await a.contributor.api.delete(`/api/v1/organization/tokens/${theirs[0].metadata.id}`)).status, 403);
      assert.equal((await api.get(`${a.legacy}/assets`)).status, 200);
      assert.equal((await a.admin.api.delete(`/api/v1/organization/tokens/${theirs[0].metadata.id}`)).status, 204);
      assert.equal((await api.get(`${a.legacy}/assets`)).status, 401, 'revoked at once');
      assert.equal((await a.admin.api.delete(`/api/v1/organization/tokens/${unknownId}`)).status, 404);
      assert.equal((await a.admin.api.delete('/api/v1/organization/tokens/nope')).status, 400);
    });

    it('narrows a restricted token to the organization capabilities its map grants', async () => {
      const { api } = await a.restricted({ 'ams.asset': ['read'] });
      assert.equal((await api.get('/api/v1/organization/users')).status, 403);
      const created = await a.admin.browser.post('/api/v1/user/tokens', {
        type: 'restricted',
        organizationId: a.organizationId,
        permissions: { 'core.customer': { [a.organizationId]: { 'core.user': ['get'] } } },
      });
      assert.equal(created.status, 201, created.text);
      const narrow = new ApiClient(server.url).withToken(created.body.metadata.JWT);
      assert.equal((await narrow.get('/api/v1/organization/users')).status, 200);
      assert.equal((await narrow.get('/api/v1/organization/teams')).status, 403);
      assert.equal((await narrow.delete(`/api/v1/organization/users/${a.reader.userId}`)).status, 403);
    });
  });
}
