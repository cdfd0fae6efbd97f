import assert from 'node:assert/strict';
import { AccountService } from '../../src/control/auth/account-service.js';
import type { Role } from '../../src/control/auth/principal.js';
import { ApiClient, login, tokenFromSession } from './api.js';
import type { TestServer } from './server.js';

/** One signed-in member of an organization: their session cookie and a full-access token. */
export interface Member {
  userId: string;
  email: string;
  password: string;
  role: Role;
  /** Browser session cookie (`reel_session=…`). */
  cookie: string;
  token: string;
  /** API client sending the token as `x-mkio-token`. */
  api: ApiClient;
  /** API client sending only the session cookie, as the console does. */
  browser: ApiClient;
}

/** An organization with one project and an Admin, a Contributor and a Reader. */
export interface Tenant {
  organizationId: string;
  projectId: string;
  projectName: string;
  /** `/api/ams/{project}` */
  legacy: string;
  /** `/api/v1/projects/{project}/media` */
  v1: string;
  admin: Member;
  contributor: Member;
  reader: Member;
  /**
   * A restricted token of this tenant's admin holding only `permissions` on this project, e.g.
   * `{ 'ams.asset': ['read'] }`; returns a client sending it and the token's id.
   */
  restricted(permissions: Record<string, string[]>): Promise<{ api: ApiClient; token: string; tokenId: string }>;
}

async function member(server: TestServer, userId: string, email: string, password: string, role: Role): Promise<Member> {
  const cookie = await login(server.url, email, password);
  const { token } = await tokenFromSession(server.url, cookie);
  return {
    userId,
    email,
    password,
    role,
    cookie,
    token,
    api: new ApiClient(server.url).withToken(token),
    browser: new ApiClient(server.url, { cookie }),
  };
}

async function tenant(
  server: TestServer,
  accounts: AccountService,
  org: { id: string },
  project: { id: string; name: string },
  admin: Member,
  tag: string,
): Promise<Tenant> {
  const add = async (role: Role): Promise<Member> => {
    const email = `${role.toLowerCase()}-${tag}@example.com`;
    const password = `${role} password ${tag}`;
    const user = await accounts.createUser(email, password);
    await accounts.addMember(user.id, org.id, role);
    return member(server, user.id, email, password, role);
  };
  const contributor = await add('Contributor');
  const reader = await add('Reader');
  return {
    organizationId: org.id,
    projectId: project.id,
    projectName: project.name,
    legacy: `/api/ams/${project.name}`,
    v1: `/api/v1/projects/${project.name}/media`,
    admin,
    contributor,
    reader,
    async restricted(permissions) {
      const created = await admin.browser.post('/api/v1/user/tokens', {
        type: 'restricted',
        organizationId: org.id,
        description: `restricted ${Object.keys(permissions).join(',')}`,
        permissions: { 'core.project': { [project.id]: permissions } },
      });
      assert.equal(created.status, 201, created.text);
      const token = created.body.metadata.JWT as string;
      return { api: new ApiClient(server.url).withToken(token, 'bearer'), token, tokenId: created.body.metadata.id as string };
    },
  };
}

/**
 * Two organizations on one server, as an attacker meets them: `a` is the first-start organization (`default`,
 * project `default`, the bootstrap admin) and `b` a second organization with its own project. Each has an
 * Admin, a Contributor and a Reader, all signed in with their own tokens. `tag` keeps names unique per server.
 */
export async function setUpTenants(server: TestServer, tag: string): Promise<{ a: Tenant; b: Tenant }> {
  const accounts = new AccountService(server.reel.db);
  const adminA = await member(server, '', server.adminEmail, server.adminPassword, 'Admin');
  const profile = await adminA.browser.get('/api/v1/user/profile');
  adminA.userId = profile.body.metadata.id as string;
  const orgA = { id: profile.body.spec.activeOrganizationId as string };
  const projectA = await accounts.findProject('default');
  assert.ok(projectA, 'the first-start project exists');

  const orgB = await accounts.createOrganization(`rival-org-${tag}`);
  const projectB = await accounts.createProject(orgB.id, `rival-${tag}`);
  const emailB = `admin-${tag}@rival.example.com`;
  const passwordB = `rival admin password ${tag}`;
  const userB = await accounts.createUser(emailB, passwordB);
  await accounts.addMember(userB.id, orgB.id, 'Admin');
  const adminB = await member(server, userB.id, emailB, passwordB, 'Admin');

  return {
    a: await tenant(server, accounts, orgA, projectA, adminA, `a-${tag}`),
    b: await tenant(server, accounts, orgB, projectB, adminB, `b-${tag}`),
  };
}
